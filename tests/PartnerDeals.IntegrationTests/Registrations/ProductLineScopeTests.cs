using System.Net;
using System.Net.Http.Json;
using PartnerDeals.IntegrationTests.Support;
using static PartnerDeals.IntegrationTests.Support.RegistrationCalls;

namespace PartnerDeals.IntegrationTests.Registrations;

/// <summary>
/// With <c>Registrations:Policy:ConflictScope=product_line</c>, a channel conflict is the same customer and the same
/// product line: one account may be held by several partners, one per line.
/// </summary>
public sealed class ProductLineScopeTests : HostTest
{
    private HttpClient _ops = null!;

    protected override IDictionary<string, string?> Settings => new Dictionary<string, string?>
    {
        ["Registrations:Policy:ConflictScope"] = "product_line",
        ["Products:Lines:analytics:0"] = "Analytics Suite",
        ["Products:Lines:analytics:1"] = "dash-pro",
        ["Products:Lines:analytics:2"] = "AN-100",
        ["Products:Lines:security:0"] = "Vault",
        ["Products:Lines:reporting:0"] = "Reports",
    };

    [OneTimeSetUp]
    public async Task IssueOpsKey() => _ops = Factory.Client((await IssueKeyAsync("ops")).Key);

    [OneTimeTearDown]
    public void DisposeOps() => _ops.Dispose();

    private static object Deal(string company, string domain, params string[] products) => new
    {
        customer = new { companyName = company, domain, country = "DE" },
        contact = new { name = "Maria Schmidt", email = "maria@customer.example" },
        deal = new { name = "Rollout", products, estimatedValue = 50_000m, currency = "EUR", expectedCloseDate = "2027-03-31" },
    };

    [Test]
    public async Task TwoPartnersHoldOneAccountForTwoLines_AThirdForAHeldLineWaits()
    {
        var (name, domain) = NewCompany();
        var (a, b, c) = (await PartnerAsync("gold"), await PartnerAsync("gold"), await PartnerAsync("gold"));

        var analytics = await RegisterAsync(a.Client, Deal(name, domain, "Analytics Suite"));
        Status(analytics).ShouldBe("approved");
        var security = await RegisterAsync(b.Client, Deal(name, domain, "Vault"));
        Status(security).ShouldBe("approved", "another line of the same account is free");
        var third = await RegisterAsync(c.Client, Deal(name, domain, "dash-pro"));
        Status(third).ShouldBe("pending_review", "dash-pro is the analytics line, which is held");
        third.Get<string>("verdict").ShouldBe("conflict");

        // The explanation: the held line is named on the conflict; the other line is set aside in the decision.
        var conflict = await ReadJsonAsync(await _ops.GetAsync($"/v1/conflicts/{(await ReadAsync(Id(third))).Get<string>("conflictId")}"));
        var candidates = conflict["candidates"]!.AsArray();
        candidates.Select(x => x!.Get<string>("id")).ShouldBe([Id(analytics)]);
        var overlap = candidates[0]!["signals"]!.AsArray().Single(s => s!.Get<string>("name") == "products_overlap");
        overlap!.Get<string>("detail").ShouldContain("shared lines: analytics");
        var events = await ReadJsonAsync(await _ops.GetAsync($"/v1/registrations/{Id(security)}/events"));
        events.ToJsonString().ShouldContain("productsDisjoint");
        events.ToJsonString().ShouldContain("no line in common (this deal: security; theirs: analytics)");

        // A partner's pre-check for a free line finds the account available, for a held one not.
        var free = await ReadJsonAsync(await c.Client.PostAsJsonAsync("/v1/conflict-checks", new { companyName = name, domain, products = new[] { "Reports" } }));
        free.Get<bool>("available").ShouldBeTrue();
        var unlisted = await ReadJsonAsync(await c.Client.PostAsJsonAsync("/v1/conflict-checks", new { companyName = name, domain, products = new[] { "Gizmo" } }));
        unlisted.Get<bool>("available").ShouldBeFalse("a product of no line may be any line");
        var held = await ReadJsonAsync(await c.Client.PostAsJsonAsync("/v1/conflict-checks", new { companyName = name, domain, products = new[] { "Vault" } }));
        held.Get<bool>("available").ShouldBeFalse();
    }

    [Test]
    public async Task DirectOpportunityForLineA_DoesNotBlockLineB_ButBlocksLineAAndADealNamingNoProduct()
    {
        var (name, domain) = NewCompany();
        var externalId = Guid.NewGuid().ToString("N");
        var upsert = await _ops.PutAsJsonAsync($"/v1/opportunities/salesforce/{externalId}",
            new { accountName = name, accountDomain = domain, status = "open", products = new[] { "Analytics Suite" } });
        upsert.StatusCode.ShouldBe(HttpStatusCode.Created, await upsert.Content.ReadAsStringAsync());

        var partner = await PartnerAsync("gold");
        Status(await RegisterAsync(partner.Client, Deal(name, domain, "Vault"))).ShouldBe("approved");
        var other = await PartnerAsync("gold");
        Status(await RegisterAsync(other.Client, Deal(name, domain, "Analytics Suite"))).ShouldBe("pending_review");
        var unknown = await PartnerAsync("gold");
        var vague = await RegisterAsync(unknown.Client, Deal(name, domain));
        Status(vague).ShouldBe("pending_review", "a deal naming no product may overlap any line");
    }

    [Test]
    public async Task ReleaseOfOneLinesHolder_PromotesTheNextWaitingRegistrationOfThatLineOnly()
    {
        var (name, domain) = NewCompany();
        var (a, b, c, d) = (await PartnerAsync("gold"), await PartnerAsync("gold"), await PartnerAsync("gold"), await PartnerAsync("gold"));
        var analytics = await RegisterAsync(a.Client, Deal(name, domain, "Analytics Suite"));
        Status(await RegisterAsync(b.Client, Deal(name, domain, "Vault"))).ShouldBe("approved");
        var waitingAnalytics = await RegisterAsync(c.Client, Deal(name, domain, "Analytics Suite"));
        var waitingSecurity = await RegisterAsync(d.Client, Deal(name, domain, "Vault"));
        Status(waitingAnalytics).ShouldBe("pending_review");
        Status(waitingSecurity).ShouldBe("pending_review");

        await ActAsync(a.Client, Id(analytics), "withdraw");

        Status(await ReadAsync(Id(waitingAnalytics))).ShouldBe("approved", "the analytics line is free now");
        Status(await ReadAsync(Id(waitingSecurity))).ShouldBe("pending_review", "the security line is still held");
    }

    [Test]
    public async Task Opportunities_CarryProducts_ThroughUpsertBatchAndCsv()
    {
        var tag = Guid.NewGuid().ToString("N")[..8];
        (await _ops.PutAsJsonAsync($"/v1/opportunities/hubspot/one-{tag}",
            new { accountName = $"One {tag} GmbH", status = "open", products = new[] { "Vault", " Vault ", "dash-pro" } })).StatusCode.ShouldBe(HttpStatusCode.Created);
        var batch = await _ops.PostAsJsonAsync("/v1/opportunities/batch", new
        {
            items = new[] { new { source = "hubspot", externalId = $"two-{tag}", accountName = $"Two {tag} GmbH", status = "open", products = new[] { "Reports" } } },
        });
        batch.StatusCode.ShouldBe(HttpStatusCode.OK, await batch.Content.ReadAsStringAsync());
        var csv = $"source,externalId,accountName,status,products\nhubspot,three-{tag},Three {tag} GmbH,open,Vault;Analytics Suite\n";
        var imported = await _ops.PostAsync("/v1/opportunities/import", JsonBody(csv, "text/csv"));
        imported.StatusCode.ShouldBe(HttpStatusCode.OK, await imported.Content.ReadAsStringAsync());

        async Task<string[]> ProductsOf(string id) =>
            (await ReadJsonAsync(await _ops.GetAsync($"/v1/opportunities/hubspot/{id}")))["products"]!.AsArray().Select(p => p!.GetValue<string>()).ToArray();
        (await ProductsOf($"one-{tag}")).ShouldBe(["Vault", "dash-pro"]);
        (await ProductsOf($"two-{tag}")).ShouldBe(["Reports"]);
        (await ProductsOf($"three-{tag}")).ShouldBe(["Vault", "Analytics Suite"]);
    }

    [Test]
    public async Task BadProductLists_FromTheVendorAreCleaned_InAConflictCheckAreProblems()
    {
        var tag = Guid.NewGuid().ToString("N")[..8];
        (string[] Sent, int Kept)[] lists =
        [
            (Enumerable.Range(0, 51).Select(i => $"p{i}").ToArray(), 50),
            (new[] { "" }, 0),
            (new[] { "Vault", new string('x', 201) }, 2),
            (new[] { "bell\u0007" }, 1),
        ];
        foreach (var (products, kept) in lists)
        {
            var response = await _ops.PutAsJsonAsync($"/v1/opportunities/hubspot/bad-{tag}", new { accountName = $"Bad {tag} GmbH", status = "open", products });
            response.IsSuccessStatusCode.ShouldBeTrue(await response.Content.ReadAsStringAsync());
            var stored = (await ReadJsonAsync(response))["products"]!.AsArray().Select(p => p!.GetValue<string>()).ToList();
            stored.Count.ShouldBe(kept);
            stored.ShouldAllBe(p => p.Length <= 200 && !p.Contains('\u0007'));
        }
        await ReadProblemAsync(await _ops.PostAsJsonAsync("/v1/conflict-checks", new { companyName = "Acme", products = new[] { "" } }),
            HttpStatusCode.BadRequest, "validation");
    }

    [Test]
    public async Task ProductLines_AreReadable_WithTheScope()
    {
        var answer = await ReadJsonAsync(await _ops.GetAsync("/v1/product-lines"));
        answer.Get<string>("conflictScope").ShouldBe("product_line");
        var lines = answer["lines"]!.AsArray();
        lines.Select(l => l!.Get<string>("line")).ShouldBe(["analytics", "reporting", "security"]);
        lines[0]!["products"]!.AsArray().Select(p => p!.GetValue<string>()).ShouldBe(["Analytics Suite", "dash-pro", "AN-100"]);
    }

    [Test]
    public async Task Metrics_GroupedByProductLine_CountRegistrationsAndWonRevenuePerLine()
    {
        var partner = await PartnerAsync("gold");
        var (one, oneDomain) = NewCompany();
        var (two, twoDomain) = NewCompany();
        var (three, threeDomain) = NewCompany();
        var won = await RegisterAsync(partner.Client, Deal(one, oneDomain, "Analytics Suite", "Vault"));
        await ActAsync(_ops, Id(won), "outcome", new { result = "won", amount = 40_000m, currency = "EUR" });
        await RegisterAsync(partner.Client, Deal(two, twoDomain, "dash-pro"));
        await RegisterAsync(partner.Client, Deal(three, threeDomain));

        var metrics = await ReadJsonAsync(await partner.Client.GetAsync($"/v1/partners/{partner.Id}/metrics?groupBy=productLine"));
        var lines = metrics["productLines"]!.AsArray().ToDictionary(l => l!.Get<string>("line"), l => l!);
        lines.Keys.Order().ShouldBe(["analytics", "security", "unspecified"]);
        (lines["analytics"].Get<int>("submitted"), lines["analytics"].Get<int>("approved"), lines["analytics"].Get<int>("won"))
            .ShouldBe((2, 2, 1));
        lines["analytics"]["revenue"]![0]!.Get<decimal>("amount").ShouldBe(40_000m);
        (lines["security"].Get<int>("submitted"), lines["security"].Get<int>("won")).ShouldBe((1, 1), "a deal of two lines counts in both");
        lines["unspecified"].Get<int>("submitted").ShouldBe(1);

        var plain = await ReadJsonAsync(await partner.Client.GetAsync($"/v1/partners/{partner.Id}/metrics"));
        plain.AsObject().ContainsKey("productLines").ShouldBeFalse();
        var board = await ReadJsonAsync(await _ops.GetAsync("/v1/partners/metrics?groupBy=productLine"));
        board["items"]!.AsArray().Single(p => p!.Get<string>("partnerId") == partner.Id)!["productLines"]!.AsArray().Count.ShouldBe(3);
        await ReadProblemAsync(await _ops.GetAsync($"/v1/partners/{partner.Id}/metrics?groupBy=product"), HttpStatusCode.BadRequest, "validation");
        await ReadProblemAsync(await _ops.GetAsync("/v1/partners/metrics?groupBy=tier"), HttpStatusCode.BadRequest, "validation");
    }

    [Test]
    public async Task RespelledProductOfAHeldLine_IsNeverAFreeLine()
    {
        var (name, domain) = NewCompany();
        var upsert = await _ops.PutAsJsonAsync($"/v1/opportunities/salesforce/{Guid.NewGuid():N}",
            new { accountName = name, accountDomain = domain, status = "open", products = new[] { "Analytics Suite" } });
        upsert.StatusCode.ShouldBe(HttpStatusCode.Created);
        var partner = await PartnerAsync("gold");

        string[] respellings =
        [
            "Analytics-Suite", "Analytics  Suite", "AnalyticsSuite", "Analytics Suite 2026", "Analytics Suite (Enterprise)", "\u0410nalytics Suite",
            "Analytics Suite\u200B", "Analytics\u00A0Suite", "AN 100", "Analytic Suite", "Gizmo Deluxe",
        ];
        foreach (var product in respellings)
        {
            var registration = await RegisterAsync(partner.Client, Deal(name, domain, product));
            Status(registration).ShouldBe("pending_review", product);
            await ActAsync(partner.Client, Id(registration), "withdraw");
        }
        Status(await RegisterAsync(partner.Client, Deal(name, domain, "Vault"))).ShouldBe("approved", "another listed line is free");
    }

    [Test]
    public async Task CrmProductNamedOtherwiseThanTheCatalogue_IsItsLine()
    {
        var (name, domain) = NewCompany();
        var csv = $"source,externalId,accountName,accountDomain,status,products\nhubspot,{Guid.NewGuid():N},{name},{domain},open,Analytics Suite - Enterprise\n";
        (await _ops.PostAsync("/v1/opportunities/import", JsonBody(csv, "text/csv"))).StatusCode.ShouldBe(HttpStatusCode.OK);

        var blocked = await RegisterAsync((await PartnerAsync("gold")).Client, Deal(name, domain, "Analytics Suite"));
        Status(blocked).ShouldBe("pending_review", "the CRM's 'Analytics Suite - Enterprise' is the analytics line");
        Status(await RegisterAsync((await PartnerAsync("gold")).Client, Deal(name, domain, "Reports"))).ShouldBe("approved");
    }

    [Test]
    public async Task EditOfAWaitingRegistrationsProducts_ToTheSameLine_StillWaits_ToAnotherLine_JoinsTheQueueAnew()
    {
        var (name, domain) = NewCompany();
        var (holder, waiting, later) = (await PartnerAsync("gold"), await PartnerAsync("gold"), await PartnerAsync("gold"));
        Status(await RegisterAsync(holder.Client, Deal(name, domain, "Analytics Suite"))).ShouldBe("approved");
        var blocked = await RegisterAsync(waiting.Client, Deal(name, domain, "Analytics Suite"));
        Status(blocked).ShouldBe("pending_review");
        var submittedAt = blocked.Get<DateTimeOffset>("submittedAt");

        async Task<System.Text.Json.Nodes.JsonNode> EditProductsAsync(string product)
        {
            var response = await PatchRegistrationAsync(waiting.Client, Id(blocked), JsonContent.Create(new { deal = new { products = new[] { product } } }));
            response.StatusCode.ShouldBe(HttpStatusCode.OK, await response.Content.ReadAsStringAsync());
            return await ReadJsonAsync(response);
        }

        var respelt = await EditProductsAsync("analytics suite pro");
        Status(respelt).ShouldBe("pending_review", "analytics suite pro is the analytics line, which is held");
        respelt.Get<DateTimeOffset>("submittedAt").ShouldBe(submittedAt, "the same line keeps its place");

        var moved = await EditProductsAsync("Vault");
        Status(moved).ShouldBe("approved", "the security line is free");
        moved.Get<DateTimeOffset>("submittedAt").ShouldBeGreaterThan(submittedAt, "another line is a new submission for precedence");
        Status(await RegisterAsync(later.Client, Deal(name, domain, "Vault"))).ShouldBe("pending_review");
    }

    [Test]
    public async Task WonOutcome_NamingOnlyAnotherLine_EarnsNoFee_NamingTheRegisteredLine_Does()
    {
        var partner = await PartnerAsync("gold");
        var (one, oneDomain) = NewCompany();
        var (two, twoDomain) = NewCompany();
        var other = await RegisterAsync(partner.Client, Deal(one, oneDomain, "Analytics Suite"));
        var same = await RegisterAsync(partner.Client, Deal(two, twoDomain, "Analytics Suite"));

        var wonOther = await ActAsync(_ops, Id(other), "outcome", new { result = "won", amount = 40_000m, currency = "EUR", products = new[] { "Vault" } });
        wonOther["outcome"]!["products"]!.AsArray().Select(p => p!.GetValue<string>()).ShouldBe(["Vault"]);
        await ActAsync(_ops, Id(same), "outcome", new { result = "won", amount = 40_000m, currency = "EUR", products = new[] { "Analytics-Suite Enterprise" } });

        var fees = (await ReadJsonAsync(await _ops.GetAsync($"/v1/partners/{partner.Id}/fees")))["items"]!.AsArray();
        fees.Select(f => f!.Get<string>("registrationId")).ShouldBe([Id(same)], "the win that sold only the security line pays no analytics fee");
        await ReadProblemAsync(await _ops.PostAsJsonAsync($"/v1/registrations/{Id(same)}/outcome",
            new { result = "lost", lostReason = "x", products = new[] { "Vault" } }), HttpStatusCode.BadRequest, "validation");
    }
}
