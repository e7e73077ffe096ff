using System.Net;
using System.Net.Http.Json;
using PartnerDeals.IntegrationTests.Support;
using static PartnerDeals.IntegrationTests.Support.RegistrationCalls;

namespace PartnerDeals.IntegrationTests.Registrations;

/// <summary>What the check finds, what a partner learns of it, and how ops decide it.</summary>
public sealed class ConflictDecisionTests : HostTest
{
    private HttpClient _ops = null!;
    private HttpClient _crm = null!;

    [OneTimeSetUp]
    public async Task IssueVendorKeys()
    {
        _ops = Factory.Client((await IssueKeyAsync("ops")).Key);
        _crm = Factory.Client((await IssueKeyAsync("crm")).Key);
    }

    [OneTimeTearDown]
    public void DisposeVendorClients()
    {
        _ops.Dispose();
        _crm.Dispose();
    }

    [Test]
    public async Task Register_SameDomainAsOpenDirectDeal_FlagsConflictWithoutTellingThePartnerWhose()
    {
        var (name, domain) = NewCompany();
        var externalId = Guid.NewGuid().ToString("N");
        (await _crm.PutAsJsonAsync($"/v1/opportunities/salesforce/{externalId}",
            new { accountName = name.Replace(" GmbH", " AG"), accountDomain = $"https://www.{domain}/", country = "DE", status = "open" }))
            .StatusCode.ShouldBe(HttpStatusCode.Created);
        var partner = await PartnerAsync("gold");

        var response = await PostRegistrationAsync(partner.Client, Body(name, $"info@{domain}"));
        var text = await response.Content.ReadAsStringAsync();
        response.StatusCode.ShouldBe(HttpStatusCode.Created, text);
        var registration = await ReadJsonAsync(response);
        Status(registration).ShouldBe("pending_review");
        registration.Get<string>("verdict").ShouldBe("conflict");
        registration.Get<string>("reason").ShouldBe("account_unavailable");
        text.ShouldNotContain(externalId);
        text.ShouldNotContain("salesforce");
        text.ShouldNotContain("conflictId");

        var vendorView = await ReadAsync(Id(registration));
        var conflict = await ReadJsonAsync(await _ops.GetAsync($"/v1/conflicts/{vendorView["conflictId"]}"));
        conflict.Get<string>("kind").ShouldBe("direct_opportunity");
        conflict.Get<string>("policyVersion").ShouldBe(registration.Get<string>("policyVersion"));
        var candidate = conflict["candidates"]![0]!;
        candidate.Get<string>("kind").ShouldBe("direct_opportunity");
        candidate["signals"]!.AsArray().Select(s => s!.Get<string>("name")).ShouldContain("domain_equal");

        // the partner cannot reach conflicts or the trail at all
        (await partner.Client.GetAsync($"/v1/conflicts/{vendorView["conflictId"]}")).StatusCode.ShouldBe(HttpStatusCode.Forbidden);
        (await partner.Client.GetAsync($"/v1/registrations/{Id(registration)}/events")).StatusCode.ShouldBe(HttpStatusCode.Forbidden);
    }

    [Test]
    public async Task Register_SamePartnerTwice_SecondIsADuplicateAndRejectResolvesIt()
    {
        var partner = await PartnerAsync("silver");
        var (name, domain) = NewCompany();
        var first = await RegisterAsync(partner.Client, Body(name, domain));
        Status(first).ShouldBe("approved");

        var second = await RegisterAsync(partner.Client, Body(name, domain));
        Status(second).ShouldBe("pending_review");
        second.Get<string>("reason").ShouldBe("duplicate_registration");
        var conflictId = (await ReadAsync(Id(second))).Get<string>("conflictId");

        var resolved = await _ops.PostAsJsonAsync($"/v1/conflicts/{conflictId}/resolve", new { resolution = "reject", note = "Already registered" });
        resolved.StatusCode.ShouldBe(HttpStatusCode.OK, await resolved.Content.ReadAsStringAsync());
        var body = await ReadJsonAsync(resolved);
        body["conflict"]!.Get<string>("status").ShouldBe("resolved");
        Status(body["registration"]!).ShouldBe("rejected");
        body["registration"]!.Get<string>("rejectionReason").ShouldBe("duplicate");
        var seenByPartner = await ReadJsonAsync(await partner.Client.GetAsync($"/v1/registrations/{Id(second)}"));
        seenByPartner.Get<string>("reason").ShouldBe("rejected_duplicate");

        var again = await _ops.PostAsJsonAsync($"/v1/conflicts/{conflictId}/resolve", new { resolution = "award_partner" });
        await ReadProblemAsync(again, HttpStatusCode.Conflict, "invalid-transition");
    }

    [Test]
    public async Task Approve_WhileAnotherPartnerHoldsTheAccount_IsRefused_AndAwardIsRefusedToo()
    {
        var (name, domain) = NewCompany();
        var holder = await PartnerAsync("silver");
        var later = await PartnerAsync("registered");
        Status(await RegisterAsync(holder.Client, Body(name, domain))).ShouldBe("approved");

        var waiting = await RegisterAsync(later.Client, Body(name, domain));
        Status(waiting).ShouldBe("pending_review");
        var conflictId = (await ReadAsync(Id(waiting))).Get<string>("conflictId");
        (await ReadJsonAsync(await _ops.GetAsync($"/v1/conflicts/{conflictId}"))).Get<string>("kind").ShouldBe("partner_registration");

        await ReadProblemAsync(await _ops.PostAsync($"/v1/registrations/{Id(waiting)}/approve", null), HttpStatusCode.Conflict, "invalid-transition");
        await ReadProblemAsync(await _ops.PostAsJsonAsync($"/v1/conflicts/{conflictId}/resolve", new { resolution = "award_partner" }),
            HttpStatusCode.Conflict, "invalid-transition");
        Status(await ReadAsync(Id(waiting))).ShouldBe("pending_review");
    }

    [Test]
    public async Task Withdraw_Holder_PromotesTheFirstWaitingRegistrationAndTheNextWaitsBehindIt()
    {
        var (name, domain) = NewCompany();
        var holder = await PartnerAsync("silver");
        var second = await PartnerAsync("gold");
        var third = await PartnerAsync("silver");
        var held = await RegisterAsync(holder.Client, Body(name, domain));
        var waitingFirst = await RegisterAsync(second.Client, Body(name, domain));
        var waitingNext = await RegisterAsync(third.Client, Body(name, domain));
        Status(waitingFirst).ShouldBe("pending_review");
        Status(waitingNext).ShouldBe("pending_review");

        await ActAsync(holder.Client, Id(held), "withdraw");

        var promoted = await ReadAsync(Id(waitingFirst));
        Status(promoted).ShouldBe("approved");
        promoted.Get<string>("reason").ShouldBe("auto_approved");
        promoted["conflictId"].ShouldBeNull();
        var stillWaiting = await ReadAsync(Id(waitingNext));
        Status(stillWaiting).ShouldBe("pending_review");
        var conflict = await ReadJsonAsync(await _ops.GetAsync($"/v1/conflicts/{stillWaiting["conflictId"]}"));
        conflict["candidates"]!.AsArray().Select(c => Id(c!)).ShouldContain(Id(waitingFirst));
        conflict["candidates"]!.AsArray().Select(c => Id(c!)).ShouldNotContain(Id(held));

        var events = await ReadJsonAsync(await _ops.GetAsync($"/v1/registrations/{Id(waitingFirst)}/events"));
        events["items"]!.AsArray().Last()!.Get<string>("action").ShouldBe("registration.reevaluated");
        events["items"]!.AsArray().Last()!.Get<string>("actorRole").ShouldBe("system");
    }

    [Test]
    public async Task Resolve_CoSell_ApprovesAsCoSellAndKeepDirectRejects()
    {
        var (name, domain) = NewCompany();
        (await _crm.PutAsJsonAsync($"/v1/opportunities/hubspot/{Guid.NewGuid():N}", new { accountName = name, accountDomain = domain, country = "DE", status = "open" }))
            .StatusCode.ShouldBe(HttpStatusCode.Created);
        var a = await PartnerAsync("silver");
        var b = await PartnerAsync("silver");
        var first = await ReadAsync(Id(await RegisterAsync(a.Client, Body(name, domain))));
        var coSold = await ReadJsonAsync(await _ops.PostAsJsonAsync($"/v1/conflicts/{first["conflictId"]}/resolve", new { resolution = "co_sell", note = "Joint pursuit" }));
        Status(coSold["registration"]!).ShouldBe("approved");
        coSold["registration"]!.Get<bool>("coSelling").ShouldBeTrue();
        coSold["registration"]!.Get<string>("reason").ShouldBe("co_sell");

        var second = await ReadAsync(Id(await RegisterAsync(b.Client, Body(name, domain))));
        var kept = await ReadJsonAsync(await _ops.PostAsJsonAsync($"/v1/conflicts/{second["conflictId"]}/resolve", new { resolution = "keep_direct" }));
        Status(kept["registration"]!).ShouldBe("rejected");
        kept["registration"]!.Get<string>("rejectionReason").ShouldBe("direct_conflict");

        var open = await ReadJsonAsync(await _ops.GetAsync($"/v1/conflicts?status=open&registrationId={Id(second)}"));
        open["items"]!.AsArray().ShouldBeEmpty();
    }

    [Test]
    public async Task Register_WonRegistrationsCompany_IsAnExistingCustomer()
    {
        var (name, domain) = NewCompany();
        var a = await PartnerAsync("silver");
        var won = await RegisterAsync(a.Client, Body(name, domain));
        await ActAsync(_crm, Id(won), "outcome", new { result = "won", amount = 90_000m, currency = "EUR" });

        var b = await PartnerAsync("gold");
        var later = await ReadAsync(Id(await RegisterAsync(b.Client, Body(name, domain))));
        Status(later).ShouldBe("pending_review");
        (await ReadJsonAsync(await _ops.GetAsync($"/v1/conflicts/{later["conflictId"]}"))).Get<string>("kind").ShouldBe("existing_customer");
    }

    [Test]
    public async Task ConflictCheck_SeesActiveRegistrations()
    {
        var (name, domain) = NewCompany();
        var a = await PartnerAsync("silver");
        var registered = await RegisterAsync(a.Client, Body(name, domain));
        var check = await ReadJsonAsync(await _ops.PostAsJsonAsync("/v1/conflict-checks", new { companyName = name, domain }));
        check.Get<string>("verdict").ShouldBe("conflict");
        var candidate = check["candidates"]![0]!;
        candidate.Get<string>("kind").ShouldBe("partner_registration");
        candidate.Get<string>("id").ShouldBe(Id(registered));
        candidate.Get<bool>("holdsAccount").ShouldBeTrue();
    }

    [Test]
    public async Task Notes_InternalOnesAreNeverShownToThePartner()
    {
        var partner = await PartnerAsync("silver");
        var (name, domain) = NewCompany();
        var id = Id(await RegisterAsync(partner.Client, Body(name, domain)));
        (await partner.Client.PostAsJsonAsync($"/v1/registrations/{id}/notes", new { body = "Demo next week?" })).StatusCode.ShouldBe(HttpStatusCode.Created);
        (await _ops.PostAsJsonAsync($"/v1/registrations/{id}/notes", new { body = "Direct rep is unhappy", @internal = true })).StatusCode.ShouldBe(HttpStatusCode.Created);
        (await _ops.PostAsJsonAsync($"/v1/registrations/{id}/notes", new { body = "Yes, Tuesday" })).StatusCode.ShouldBe(HttpStatusCode.Created);
        var refused = await partner.Client.PostAsJsonAsync($"/v1/registrations/{id}/notes", new { body = "sneaky", @internal = true });
        await ReadProblemAsync(refused, HttpStatusCode.BadRequest, "validation");

        var partnerView = await ReadJsonAsync(await partner.Client.GetAsync($"/v1/registrations/{id}/notes"));
        partnerView["items"]!.AsArray().Select(n => n!.Get<string>("body")).ShouldBe(["Demo next week?", "Yes, Tuesday"]);
        var opsView = await ReadJsonAsync(await _ops.GetAsync($"/v1/registrations/{id}/notes"));
        opsView["items"]!.AsArray().Count.ShouldBe(3);
    }

    [Test]
    public async Task Register_NotIcpQualified_WaitsAndNamesTheFailedRule()
    {
        // ICP rules come from configuration; this fixture has none, so a second host with rules is started.
        using var factory = new Support.ApiFactory(new Dictionary<string, string?>
        {
            ["Registrations:Policy:Icp:Countries:0"] = "DE",
            ["Registrations:Policy:Icp:MinDealSize:EUR"] = "10000",
        });
        try
        {
            using var admin = factory.Client(Support.ApiFactory.AdminKey);
            var partner = await ReadJsonAsync(await admin.PostAsJsonAsync("/v1/partners",
                new { name = "Icp Partner", type = "reseller", tier = "gold", contactEmail = "a@b.example" }));
            var (name, domain) = NewCompany();
            var small = await ReadJsonAsync(await admin.PostAsJsonAsync("/v1/registrations", Body(name, domain, value: 5_000m, partnerId: Id(partner))));
            Status(small).ShouldBe("pending_review");
            small["icp"]!.Get<bool>("qualified").ShouldBeFalse();
            small["icp"]!.Get<string>("failedRule").ShouldBe("min_deal_size");

            var (other, otherDomain) = NewCompany();
            var fits = await ReadJsonAsync(await admin.PostAsJsonAsync("/v1/registrations", Body(other, otherDomain, value: 20_000m, partnerId: Id(partner))));
            Status(fits).ShouldBe("approved");

            // the rules are part of the policy version stamped on each decision
            var defaults = await PartnerAsync("gold");
            var (third, thirdDomain) = NewCompany();
            var underDefaults = await RegisterAsync(defaults.Client, Body(third, thirdDomain));
            fits.Get<string>("policyVersion").ShouldNotBe(underDefaults.Get<string>("policyVersion"));
        }
        finally
        {
            factory.DeleteDatabase();
        }
    }

    [Test]
    public async Task OpenConflict_CandidatesScoredOneAndPointNineEight_Reads()
    {
        var (name, domain) = NewCompany();
        var holder = await PartnerAsync("gold");
        var held = await RegisterAsync(holder.Client, Body(name, domain));
        var waiting = await RegisterAsync((await PartnerAsync("gold")).Client, Body(name, domain));
        var conflictId = (await ReadAsync(Id(waiting))).Get<string>("conflictId");

        // SQLite keeps a whole score as an integer and the next as a real: the rows a reader meets in turn.
        await using (var connection = new Microsoft.Data.Sqlite.SqliteConnection(Factory.ConnectionString))
        {
            await connection.OpenAsync();
            await using var command = connection.CreateCommand();
            command.CommandText = """
                UPDATE conflict_candidates SET score = 1 WHERE conflict_id = $id;
                INSERT INTO conflict_candidates (conflict_id, candidate_id, kind, label, score, verdict, signals)
                SELECT conflict_id, $other, kind, label || ' II', 0.98, verdict, signals FROM conflict_candidates WHERE conflict_id = $id;
                UPDATE conflicts SET score = 1 WHERE id = $id;
                SELECT group_concat(typeof(score)) FROM (SELECT score FROM conflict_candidates WHERE conflict_id = $id ORDER BY score DESC);
                """;
            command.Parameters.AddWithValue("$id", conflictId);
            command.Parameters.AddWithValue("$other", Guid.NewGuid().ToString());
            (await command.ExecuteScalarAsync()).ShouldBe("integer,real");
        }

        var response = await _ops.GetAsync($"/v1/conflicts/{conflictId}");
        response.StatusCode.ShouldBe(HttpStatusCode.OK, await response.Content.ReadAsStringAsync());
        var conflict = await ReadJsonAsync(response);
        conflict.Get<double>("score").ShouldBe(1);
        conflict["candidates"]!.AsArray().Select(c => c!.Get<double>("score")).ShouldBe([1, 0.98]);
        conflict["candidates"]![0]!.Get<string>("id").ShouldBe(Id(held));
        (await _ops.GetAsync("/v1/conflicts?status=open")).StatusCode.ShouldBe(HttpStatusCode.OK);
    }

    [Test]
    public async Task DecisionNotes_AreInternal_UnlessSharedWithThePartner()
    {
        var (name, domain) = NewCompany();
        (await _crm.PutAsJsonAsync($"/v1/opportunities/salesforce/{Guid.NewGuid():N}", new { accountName = name, accountDomain = domain, status = "open" }))
            .StatusCode.ShouldBe(HttpStatusCode.Created);
        var partner = await PartnerAsync("gold");
        var (secret, shared) = ("Direct team (Jane, AE) owns it; opp 006XYZ closes Q1", "This account is not open for registration this quarter.");

        var hidden = Id(await RegisterAsync(partner.Client, Body(name, domain)));
        var resolved = await _ops.PostAsJsonAsync($"/v1/conflicts/{(await ReadAsync(hidden)).Get<string>("conflictId")}/resolve",
            new { resolution = "keep_direct", note = secret });
        resolved.StatusCode.ShouldBe(HttpStatusCode.OK, await resolved.Content.ReadAsStringAsync());
        (await ReadAsync(hidden)).Get<string>("decisionNote").ShouldBe(secret, "the vendor keeps its note");
        var seen = await partner.Client.GetStringAsync($"/v1/registrations/{hidden}");
        seen.ShouldNotContain("Jane");
        seen.ShouldNotContain("006XYZ");
        (await partner.Client.GetStringAsync("/v1/registrations?status=rejected")).ShouldNotContain("006XYZ");

        var open = Id(await RegisterAsync(partner.Client, Body(name, domain)));
        var visible = await _ops.PostAsJsonAsync($"/v1/conflicts/{(await ReadAsync(open)).Get<string>("conflictId")}/resolve",
            new { resolution = "reject", note = shared, visibleToPartner = true });
        visible.StatusCode.ShouldBe(HttpStatusCode.OK, await visible.Content.ReadAsStringAsync());
        (await ReadJsonAsync(await partner.Client.GetAsync($"/v1/registrations/{open}"))).Get<string>("decisionNote").ShouldBe(shared);

        var waiting = await PartnerAsync("registered");
        var (other, otherDomain) = NewCompany();
        var asked = Id(await RegisterAsync(waiting.Client, Body(other, otherDomain)));
        await ActAsync(_ops, asked, "request-info", new { note = "Please add the customer's employee count." });
        (await ReadJsonAsync(await waiting.Client.GetAsync($"/v1/registrations/{asked}"))).Get<string>("decisionNote")
            .ShouldBe("Please add the customer's employee count.", "a question to the partner is for the partner");
        var rejected = Id(await RegisterAsync(waiting.Client, Body(NewCompany().Name, null)));
        await ActAsync(_ops, rejected, "reject", new { reason = "not_icp", note = "Too small for us, between us." });
        (await waiting.Client.GetStringAsync($"/v1/registrations/{rejected}")).ShouldNotContain("between us");
    }

    [Test]
    public async Task KeepDirect_OnAConflictBetweenPartnersOnly_IsRefused_RejectDecidesIt()
    {
        var (name, domain) = NewCompany();
        await RegisterAsync((await PartnerAsync("gold")).Client, Body(name, domain));
        var waiting = Id(await RegisterAsync((await PartnerAsync("gold")).Client, Body(name, domain)));
        var conflictId = (await ReadAsync(waiting)).Get<string>("conflictId");

        var refused = await _ops.PostAsJsonAsync($"/v1/conflicts/{conflictId}/resolve", new { resolution = "keep_direct" });
        (await ReadProblemAsync(refused, HttpStatusCode.Conflict, "invalid-transition")).Get<string>("detail").ShouldContain("use reject");
        Status(await ReadAsync(waiting)).ShouldBe("pending_review");

        var rejected = await ReadJsonAsync(await _ops.PostAsJsonAsync($"/v1/conflicts/{conflictId}/resolve", new { resolution = "reject" }));
        rejected["registration"]!.Get<string>("rejectionReason").ShouldNotBe("direct_conflict");
    }
}
