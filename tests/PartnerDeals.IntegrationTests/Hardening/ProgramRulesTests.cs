using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using PartnerDeals.IntegrationTests.Registrations;
using PartnerDeals.IntegrationTests.Support;
using static PartnerDeals.IntegrationTests.Support.RegistrationCalls;

namespace PartnerDeals.IntegrationTests.Hardening;

/// <summary>The program's rules a partner could otherwise game: precedence, suspension, termination, and what moves its ETag.</summary>
public sealed class ProgramRulesTests : HostTest
{
    private HttpClient _crm = null!;

    [OneTimeSetUp]
    public async Task IssueKeys() => _crm = Factory.Client((await IssueKeyAsync("crm")).Key);

    [OneTimeTearDown]
    public void DisposeCrm() => _crm.Dispose();

    [Test]
    public async Task Edit_ThatReplacesTheCompany_IsANewSubmissionBehindEveryEarlierClaim()
    {
        var squatter = await PartnerAsync("registered");
        var honest = await PartnerAsync("registered");
        var follower = await PartnerAsync("registered");
        var (placeholder, placeholderDomain) = NewCompany();
        var (target, targetDomain) = NewCompany();
        var early = await RegisterAsync(squatter.Client, Body(placeholder, placeholderDomain));
        var behindPlaceholder = await RegisterAsync(follower.Client, Body(placeholder, placeholderDomain));
        var real = await RegisterAsync(honest.Client, Body(target, targetDomain));
        Status(behindPlaceholder).ShouldBe("pending_review");
        behindPlaceholder.Get<string>("verdict").ShouldBe("conflict");

        var edited = await EditAsync(squatter.Client, Id(early), new { customer = new { companyName = target, domain = targetDomain } });

        edited.Get<string>("verdict").ShouldBe("conflict", "the honest claim on the target came first");
        edited.Get<DateTimeOffset>("submittedAt").ShouldBeGreaterThan(real.Get<DateTimeOffset>("submittedAt"));
        (await ReadAsync(Id(real))).Get<string>("verdict").ShouldBe("clear");
        await ActAsync(Admin, Id(real), "approve");
        (await ReadAsync(Id(behindPlaceholder))).Get<string>("verdict").ShouldBe("clear", "the placeholder's company is claimed no more");
    }

    [Test]
    public async Task Edit_OfTheDealOnly_KeepsThePlaceInTheQueue()
    {
        var first = await PartnerAsync("registered");
        var second = await PartnerAsync("registered");
        var (name, domain) = NewCompany();
        var early = await RegisterAsync(first.Client, Body(name, domain));
        var later = await RegisterAsync(second.Client, Body(name, domain));

        var edited = await EditAsync(first.Client, Id(early), new { deal = new { estimatedValue = 75_000m }, customer = new { employeeCount = 800 } });

        edited.Get<string>("verdict").ShouldBe("clear");
        edited.Get<DateTimeOffset>("submittedAt").ShouldBe(early.Get<DateTimeOffset>("submittedAt"));
        (await ReadAsync(Id(later))).Get<string>("verdict").ShouldBe("conflict");
    }

    [Test]
    public async Task SuspendedPartner_KeysReadButChangeNothing_UntilReactivated()
    {
        var partner = await PartnerAsync("registered");
        var (name, domain) = NewCompany();
        var id = Id(await RegisterAsync(partner.Client, Body(name, domain)));
        await SetStatusAsync(partner.Id, "suspended");

        (await partner.Client.GetAsync($"/v1/registrations/{id}")).StatusCode.ShouldBe(HttpStatusCode.OK);
        (await partner.Client.GetAsync($"/v1/partners/{partner.Id}/fees")).StatusCode.ShouldBe(HttpStatusCode.OK);
        var (other, otherDomain) = NewCompany();
        var refused = new[]
        {
            await PostRegistrationAsync(partner.Client, Body(other, otherDomain)),
            await partner.Client.SendAsync(Patch($"/v1/registrations/{id}", new { deal = new { estimatedValue = 60_000m } }, "*")),
            await partner.Client.PostAsync($"/v1/registrations/{id}/withdraw", null),
            await partner.Client.PostAsJsonAsync($"/v1/registrations/{id}/extensions", new { reason = "More time" }),
            await partner.Client.PostAsJsonAsync($"/v1/registrations/{id}/notes", new { body = "Still here" }),
            await partner.Client.PostAsJsonAsync("/v1/conflict-checks", new { companyName = other }),
        };
        foreach (var response in refused) await ReadProblemAsync(response, HttpStatusCode.Forbidden, "partner-suspended");
        Status(await ReadAsync(id)).ShouldBe("pending_review");

        await SetStatusAsync(partner.Id, "active");
        await ActAsync(partner.Client, id, "withdraw");
    }

    [Test]
    public async Task TerminatedPartner_ReleasesItsClaims_AndTheRegistrationWaitingBehindIsDecidedAgain()
    {
        var leaving = await PartnerAsync("gold");
        var waiting = await PartnerAsync("silver");
        var (name, domain) = NewCompany();
        var held = await RegisterAsync(leaving.Client, Body(name, domain));
        Status(held).ShouldBe("approved");
        var behind = await RegisterAsync(waiting.Client, Body(name, domain));
        Status(behind).ShouldBe("pending_review");

        await SetStatusAsync(leaving.Id, "terminated");

        var released = await ReadAsync(Id(held));
        Status(released).ShouldBe("withdrawn");
        released.Get<string>("reason").ShouldBe("partner_terminated");
        Status(await ReadAsync(Id(behind))).ShouldBe("approved");
        var events = await ReadJsonAsync(await Admin.GetAsync($"/v1/partners/{leaving.Id}/events"));
        events["items"]!.AsArray().Last()!["data"]!.Get<int>("releasedRegistrations").ShouldBe(1);
        var trail = await ReadJsonAsync(await Admin.GetAsync($"/v1/registrations/{Id(held)}/events"));
        trail["items"]!.AsArray().Select(e => e!.Get<string>("action")).ShouldContain("registration.released");
    }

    [Test]
    public async Task TerminatedPartner_KeepsTheFeesEarnedBefore_AndEarnsNoneAfter()
    {
        var partner = await PartnerAsync("gold", new { feeModel = "fixed_fee", feeAmount = 500m, feeCurrency = "EUR", feeTrigger = "qualified_introduction" });
        var (name, domain) = NewCompany();
        var id = Id(await RegisterAsync(partner.Client, Body(name, domain)));
        Status(await ReadAsync(id)).ShouldBe("approved");

        await SetStatusAsync(partner.Id, "terminated");
        var won = await _crm.PostAsJsonAsync($"/v1/registrations/{id}/outcome", new { result = "won", amount = 90_000m, currency = "EUR" });

        await ReadProblemAsync(won, HttpStatusCode.Conflict, "invalid-transition");
        var fees = await ReadJsonAsync(await Admin.GetAsync($"/v1/partners/{partner.Id}/fees"));
        fees["items"]!.AsArray().Select(f => f!.Get<string>("trigger")).ShouldBe(["qualified_introduction"]);
    }

    [Test]
    public async Task CompetingClaimWithdrawn_LeavesTheWaitingPartnersETagAndUpdatedAt()
    {
        var (name, domain) = NewCompany();
        var put = await _crm.PutAsJsonAsync($"/v1/opportunities/salesforce/{Guid.NewGuid():N}", new { accountName = name, accountDomain = domain, status = "open", country = "DE" });
        put.IsSuccessStatusCode.ShouldBeTrue();
        var competitor = await PartnerAsync("registered");
        var partner = await PartnerAsync("registered");
        var competing = await RegisterAsync(competitor.Client, Body(name, domain));
        var mine = Id(await RegisterAsync(partner.Client, Body(name, domain)));
        var before = await partner.Client.GetAsync($"/v1/registrations/{mine}");
        var vendorBefore = await Admin.GetAsync($"/v1/registrations/{mine}");
        var beforeBody = await ReadJsonAsync(before);

        await ActAsync(competitor.Client, Id(competing), "withdraw");

        var after = await partner.Client.GetAsync($"/v1/registrations/{mine}");
        after.Headers.ETag.ShouldBe(before.Headers.ETag);
        (await ReadJsonAsync(after)).Get<DateTimeOffset>("updatedAt").ShouldBe(beforeBody.Get<DateTimeOffset>("updatedAt"));
        (await Admin.GetAsync($"/v1/registrations/{mine}")).Headers.ETag.ShouldNotBe(vendorBefore.Headers.ETag, "the vendor sees the conflict re-recorded");
        var edit = await partner.Client.SendAsync(Patch($"/v1/registrations/{mine}", new { deal = new { estimatedValue = 55_000m } }, before.Headers.ETag!.Tag));
        edit.StatusCode.ShouldBe(HttpStatusCode.OK, await edit.Content.ReadAsStringAsync());
    }

    [Test]
    public async Task RejectedForTheVendorsCustomer_PartnerSeesOnlyThePartnerSafeReason()
    {
        var (name, domain) = NewCompany();
        (await _crm.PutAsJsonAsync($"/v1/opportunities/salesforce/{Guid.NewGuid():N}", new { accountName = name, accountDomain = domain, status = "won", country = "DE" }))
            .IsSuccessStatusCode.ShouldBeTrue();
        var partner = await PartnerAsync("gold");
        var id = Id(await RegisterAsync(partner.Client, Body(name, domain)));
        var conflictId = (await ReadAsync(id)).Get<string>("conflictId");
        var resolved = await Admin.PostAsJsonAsync($"/v1/conflicts/{conflictId}/resolve", new { resolution = "keep_direct" });
        resolved.StatusCode.ShouldBe(HttpStatusCode.OK, await resolved.Content.ReadAsStringAsync());

        var seen = new[]
        {
            await partner.Client.GetStringAsync($"/v1/registrations/{id}"),
            await partner.Client.GetStringAsync($"/v1/registrations?status=rejected"),
            await partner.Client.GetStringAsync($"/v1/registrations/{id}/notes"),
            await partner.Client.GetStringAsync($"/v1/registrations/{id}/extensions"),
        };
        foreach (var text in seen)
        {
            text.ShouldNotContain("existing_customer");
            text.ShouldNotContain("direct_conflict");
        }
        JsonNode.Parse(seen[0])!.Get<string>("reason").ShouldBe("rejected_account_unavailable");
        (await ReadAsync(id)).Get<string>("rejectionReason").ShouldBe("existing_customer", "the vendor still sees why");
    }

    private async Task SetStatusAsync(string partnerId, string status)
    {
        var response = await Admin.SendAsync(Patch($"/v1/partners/{partnerId}", new { status }, "*"));
        response.StatusCode.ShouldBe(HttpStatusCode.OK, await response.Content.ReadAsStringAsync());
    }

    private static async Task<JsonObject> EditAsync(HttpClient client, string id, object changes)
    {
        var response = await client.SendAsync(Patch($"/v1/registrations/{id}", changes, "*"));
        response.StatusCode.ShouldBe(HttpStatusCode.OK, await response.Content.ReadAsStringAsync());
        return (await ReadJsonAsync(response)).AsObject();
    }

    private static HttpRequestMessage Patch(string url, object body, string ifMatch)
    {
        var request = new HttpRequestMessage(HttpMethod.Patch, url) { Content = JsonContent.Create(body) };
        request.Headers.TryAddWithoutValidation("If-Match", ifMatch);
        return request;
    }

    [Test]
    public async Task Register_BuiltToBeHeavy_IsAProblem_ARealLargeOneIsNot()
    {
        var partner = await PartnerAsync("gold");
        var (name, domain) = NewCompany();
        string Words(int count, string seed) => string.Join(' ', Enumerable.Range(0, count).Select(i => $"{seed}{i}"));
        object Heavy(string company, IEnumerable<string> alternates, IEnumerable<string> products) => new
        {
            customer = new { companyName = company, domain, country = "DE", alternateNames = alternates.ToArray() },
            contact = new { name = "Maria Schmidt", email = "maria@customer.example" },
            deal = new { name = "Rollout", products = products.ToArray(), estimatedValue = 50_000m, currency = "EUR" },
        };

        var longNames = await PostRegistrationAsync(partner.Client,
            Heavy(Words(30, "w") + " GmbH", Enumerable.Range(0, 20).Select(i => Words(30, $"a{i}x")), ["Analytics Suite"]));
        (await ReadProblemAsync(longNames, HttpStatusCode.BadRequest, "validation"))["errors"]!["customer"]!.ToJsonString().ShouldContain("120 words");
        // One character that NFKC expands into four words (U+FDFA), 200 times in each of 50 products.
        var expanding = await PostRegistrationAsync(partner.Client, Heavy(name, [], Enumerable.Range(0, 50).Select(i => new string('\uFDFA', 199) + i)));
        await ReadProblemAsync(expanding, HttpStatusCode.BadRequest, "validation");
        (await ReadJsonAsync(await Admin.GetAsync($"/v1/registrations?company={Uri.EscapeDataString(name)}")))["items"]!.AsArray().ShouldBeEmpty();

        var waiting = await PartnerAsync("registered");
        var large = await PostRegistrationAsync(waiting.Client,
            Heavy(name, Enumerable.Range(0, 20).Select(i => $"{name.Replace(" GmbH", "")} Region {i}"), Enumerable.Range(0, 50).Select(i => $"Module {i}")));
        large.StatusCode.ShouldBe(HttpStatusCode.Created, await large.Content.ReadAsStringAsync());

        var id = (await ReadJsonAsync(large)).Get<string>("id");
        var current = await waiting.Client.GetAsync($"/v1/registrations/{id}");
        var grown = await waiting.Client.SendAsync(Patch($"/v1/registrations/{id}",
            new { deal = new { products = Enumerable.Range(0, 50).Select(i => Words(7, $"m{i}x")).ToArray() } }, current.Headers.ETag!.Tag));
        await ReadProblemAsync(grown, HttpStatusCode.BadRequest, "validation");
        (await ReadAsync(id))["deal"]!["products"]!.AsArray().Count.ShouldBe(50, "the refused edit changed nothing");
    }

    [Test]
    public async Task AlternateNames_NothingTiesToTheCompany_GoToReviewAndHoldNothing()
    {
        var squatter = await PartnerAsync("gold");
        var (name, domain) = NewCompany();
        var targets = Enumerable.Range(0, 20).Select(_ => NewCompany()).ToList();
        var body = new
        {
            customer = new { companyName = name, domain, country = "DE", alternateNames = targets.Select(t => t.Name).ToArray() },
            contact = new { name = "Maria Schmidt", email = "maria@customer.example" },
            deal = new { name = "Rollout", estimatedValue = 50_000m, currency = "EUR" },
        };

        var squat = await RegisterAsync(squatter.Client, body);
        Status(squat).ShouldBe("pending_review", "twenty unrelated companies are not one company's other names");
        squat.Get<string>("reason").ShouldBe("alternate_names_unrelated");
        var events = await Admin.GetStringAsync($"/v1/registrations/{Id(squat)}/events");
        events.ShouldContain("alternateNamesUnrelated");
        events.ShouldContain(targets[7].Name);
        await ActAsync(Admin, Id(squat), "approve");

        foreach (var (target, targetDomain) in targets.Take(3))
        {
            var other = await PartnerAsync("gold");
            Status(await RegisterAsync(other.Client, Body(target, targetDomain))).ShouldBe("approved", "an unrelated alternate name protects nothing");
        }
        var rival = await PartnerAsync("gold");
        Status(await RegisterAsync(rival.Client, Body(name, domain))).ShouldBe("pending_review", "the company itself is held");

        // Alternate names tied to the company are held, and still find collisions when they are the query's.
        var (own, ownDomain) = NewCompany();
        var tied = await RegisterAsync((await PartnerAsync("gold")).Client, new
        {
            customer = new { companyName = own, domain = ownDomain, country = "DE", alternateNames = new[] { own.Replace(" GmbH", " Holding AG") } },
            contact = new { name = "Maria Schmidt", email = "maria@customer.example" },
            deal = new { name = "Rollout", estimatedValue = 50_000m, currency = "EUR" },
        });
        Status(tied).ShouldBe("approved");
        Status(await RegisterAsync((await PartnerAsync("gold")).Client, Body(own.Replace(" GmbH", " Holding AG"), null)))
            .ShouldBe("pending_review", "a tied alternate name is held");
        var asker = await PartnerAsync("gold");
        var finder = await RegisterAsync(asker.Client, new
        {
            customer = new { companyName = NewCompany().Name, country = "DE", alternateNames = new[] { targets[0].Name } },
            contact = new { name = "Maria Schmidt", email = "maria@customer.example" },
            deal = new { name = "Rollout", estimatedValue = 50_000m, currency = "EUR" },
        });
        Status(finder).ShouldBe("pending_review");
        (await ReadAsync(Id(finder))).Get<string>("verdict").ShouldBe("conflict", "its alternate name is another partner's held company");
    }
}
