using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Microsoft.Data.Sqlite;
using PartnerDeals.IntegrationTests.Support;
using PartnerDeals.IntegrationTests.Webhooks;
using static PartnerDeals.IntegrationTests.Support.RegistrationCalls;

namespace PartnerDeals.IntegrationTests.Registrations;

/// <summary>
/// The two-tier channel: a distributor registers for its resellers, and a deal has a team — members invited, accepting or
/// declining, removed — who never conflict with each other, read the deal without the primary's terms, and hear its webhooks.
/// </summary>
public sealed class TwoTierTests : WebhookTest
{
    private async Task<(PartnerClient Distributor, PartnerClient Reseller)> DistributorWithResellerAsync(bool mayRegister = true)
    {
        var distributor = await CreatePartnerAsync(type: "distributor", tier: "silver");
        var distributorClient = new PartnerClient(distributor.Get<string>("id"), Factory.ClientFor(await IssuePartnerKeyAsync(distributor.Get<string>("id"))));
        var reseller = await Factory.PartnerAsync();
        var added = await Ops.PostAsJsonAsync($"/v1/partners/{distributorClient.Id}/resellers",
            new { resellerId = reseller.Id, mayRegisterOnBehalf = mayRegister, mayViewDeals = true });
        added.StatusCode.ShouldBe(HttpStatusCode.Created, await added.Content.ReadAsStringAsync());
        return (distributorClient, reseller);
    }

    private static object OnBehalf(string resellerId, string company, string domain)
    {
        var body = JsonNode.Parse(System.Text.Json.JsonSerializer.Serialize(Body(company, domain)))!.AsObject();
        body["onBehalfOf"] = resellerId;
        body.Remove("partnerId");
        return body;
    }

    private static async Task<JsonNode> ReadAsync(HttpResponseMessage response, HttpStatusCode expected)
    {
        var text = await response.Content.ReadAsStringAsync();
        response.StatusCode.ShouldBe(expected, text);
        return JsonNode.Parse(text)!;
    }

    [Test]
    public async Task Distributor_RegistersForItsReseller_TheResellerOwnsIt_AndTheDistributorIsOnItsTeam()
    {
        var (distributor, reseller) = await DistributorWithResellerAsync();
        var (company, domain) = NewCompany();
        var registration = await RegisterAsync(distributor.Client, OnBehalf(reseller.Id, company, domain));
        registration.Get<string>("partnerId").ShouldBe(reseller.Id);
        registration.Get<string>("registeredBy").ShouldBe(distributor.Id);
        registration["terms"].ShouldBeNull("the distributor never reads the reseller's terms");

        var own = await ReadAsync(await reseller.Client.GetAsync($"/v1/registrations/{Id(registration)}"), HttpStatusCode.OK);
        own.Get<string>("partnerId").ShouldBe(reseller.Id);
        own["terms"].ShouldNotBeNull("the reseller sees it as its own");

        var team = (await ReadAsync(await reseller.Client.GetAsync($"/v1/registrations/{Id(registration)}/members"), HttpStatusCode.OK)).AsArray();
        team.Select(m => (m!.Get<string>("partnerId"), m.Get<bool>("primary"), m.Get<string>("status"))).ShouldBe(
            [(reseller.Id, true, "active"), (distributor.Id, false, "active")]);
        team[1]!.Get<string>("role").ShouldBe("distributor");

        // The distributor's check log and quota are its own.
        var log = await ReadAsync(await Ops.GetAsync($"/v1/partners/{distributor.Id}/conflict-checks"), HttpStatusCode.OK);
        log["items"]!.AsArray().ShouldContain(c => c!.Get<string>("askedBy") == "registration");
    }

    [Test]
    public async Task Distributor_ForAPartnerNotItsActiveReseller_Is403_TheSameWhetherThatPartnerExistsOrNot()
    {
        var (distributor, reseller) = await DistributorWithResellerAsync(mayRegister: false);
        var stranger = await Factory.PartnerAsync();
        var answers = new List<string>();
        foreach (var target in new[] { reseller.Id, stranger.Id, Guid.NewGuid().ToString() })
        {
            var (company, domain) = NewCompany();
            var problem = await ReadAsync(await PostRegistrationAsync(distributor.Client, OnBehalf(target, company, domain)), HttpStatusCode.Forbidden);
            answers.Add($"{problem.Get<string>("type")} {problem.Get<string>("title")} {problem.Get<string>("detail")}");
        }
        answers.Distinct().ShouldHaveSingleItem();
        (await ReadAsync(await Admin.GetAsync($"/v1/registrations?partnerId={reseller.Id}"), HttpStatusCode.OK))["items"]!.AsArray().ShouldBeEmpty();

        // Ended, the relationship lets nothing through, and its history stays.
        (await Ops.DeleteAsync($"/v1/partners/{distributor.Id}/resellers/{reseller.Id}")).StatusCode.ShouldBe(HttpStatusCode.NoContent);
        var history = await ReadAsync(await Ops.GetAsync($"/v1/partners/{distributor.Id}/resellers?includeEnded=true"), HttpStatusCode.OK);
        history.AsArray().ShouldHaveSingleItem()!["endedAt"].ShouldNotBeNull();
        (await distributor.Client.GetAsync($"/v1/partners/{stranger.Id}/resellers")).StatusCode.ShouldBe(HttpStatusCode.NotFound);
    }

    [Test]
    public async Task OnlyADistributor_HasResellers()
    {
        var reseller = await Factory.PartnerAsync();
        var other = await Factory.PartnerAsync();
        var refused = await Ops.PostAsJsonAsync($"/v1/partners/{reseller.Id}/resellers", new { resellerId = other.Id });
        refused.StatusCode.ShouldBe(HttpStatusCode.Conflict);
    }

    [Test]
    public async Task Members_NeverConflictWithEachOther_AnyoneElseStillDoes()
    {
        var primary = await Factory.PartnerAsync();
        var implementer = await Factory.PartnerAsync();
        var outsider = await Factory.PartnerAsync();
        var (company, domain) = NewCompany();
        var registration = await RegisterAsync(primary.Client, Body(company, domain));
        Status(registration).ShouldBe("approved");

        var invited = await ReadAsync(await primary.Client.PostAsJsonAsync($"/v1/registrations/{Id(registration)}/members",
            new { partnerId = implementer.Id, role = "implementation" }), HttpStatusCode.Created);
        invited.Get<string>("status").ShouldBe("invited");
        await ReadAsync(await implementer.Client.PostAsync($"/v1/registrations/{Id(registration)}/members/{Id(invited)}/accept", null), HttpStatusCode.OK);

        var byMember = await RegisterAsync(implementer.Client, Body(company, domain));
        byMember.Get<string>("verdict").ShouldBe("clear");
        var byOutsider = await RegisterAsync(outsider.Client, Body(company, domain));
        byOutsider.Get<string>("verdict").ShouldBe("conflict");
        Status(byOutsider).ShouldBe("pending_review");
    }

    [Test]
    public async Task Invitations_AreAnsweredOnce_ByTheInvitedPartnerOnly_AndExpire()
    {
        var primary = await Factory.PartnerAsync();
        var first = await Factory.PartnerAsync();
        var second = await Factory.PartnerAsync();
        var (company, domain) = NewCompany();
        var registration = Id(await RegisterAsync(primary.Client, Body(company, domain)));
        async Task<string> InviteAsync(PartnerClient who) => Id(await ReadAsync(await primary.Client.PostAsJsonAsync(
            $"/v1/registrations/{registration}/members", new { partnerId = who.Id, role = "msp" }), HttpStatusCode.Created));

        var invitation = await InviteAsync(first);
        (await primary.Client.PostAsJsonAsync($"/v1/registrations/{registration}/members", new { partnerId = first.Id, role = "msp" }))
            .StatusCode.ShouldBe(HttpStatusCode.Conflict);
        (await second.Client.PostAsync($"/v1/registrations/{registration}/members/{invitation}/accept", null)).StatusCode.ShouldBe(HttpStatusCode.NotFound);
        var declined = await ReadAsync(await first.Client.PostAsync($"/v1/registrations/{registration}/members/{invitation}/decline", null), HttpStatusCode.OK);
        declined.Get<string>("status").ShouldBe("declined");
        (await first.Client.PostAsync($"/v1/registrations/{registration}/members/{invitation}/accept", null)).StatusCode.ShouldBe(HttpStatusCode.Conflict);
        (await first.Client.GetAsync($"/v1/registrations/{registration}")).StatusCode.ShouldBe(HttpStatusCode.NotFound);

        // Two invitations accepted at once: both stand.
        var (a, b) = (await InviteAsync(first), await InviteAsync(second));
        var answers = await Task.WhenAll(
            first.Client.PostAsync($"/v1/registrations/{registration}/members/{a}/accept", null),
            second.Client.PostAsync($"/v1/registrations/{registration}/members/{b}/accept", null));
        answers.Select(r => r.StatusCode).ShouldAllBe(s => s == HttpStatusCode.OK);
        var team = (await ReadAsync(await primary.Client.GetAsync($"/v1/registrations/{registration}/members"), HttpStatusCode.OK)).AsArray();
        team.Count(m => m!.Get<string>("status") == "active").ShouldBe(3);

        // Removed, a member reads the deal no more; the primary cannot be removed.
        await ReadAsync(await primary.Client.PostAsync($"/v1/registrations/{registration}/members/{b}/remove", null), HttpStatusCode.OK);
        (await second.Client.GetAsync($"/v1/registrations/{registration}")).StatusCode.ShouldBe(HttpStatusCode.NotFound);
        (await primary.Client.PostAsync($"/v1/registrations/{registration}/members/{registration}/remove", null)).StatusCode.ShouldBe(HttpStatusCode.Conflict);

        // An invitation past its window reads as expired and can no longer be accepted.
        var late = await InviteAsync(second);
        await using (var database = new SqliteConnection(Factory.ConnectionString))
        {
            await database.OpenAsync();
            await using var expire = database.CreateCommand();
            expire.CommandText = "UPDATE registration_members SET expires_at = $past WHERE id = $id";
            expire.Parameters.AddWithValue("$past", DateTimeOffset.UtcNow.AddMinutes(-1).ToString("O"));
            expire.Parameters.AddWithValue("$id", late);
            (await expire.ExecuteNonQueryAsync()).ShouldBe(1);
        }
        (await ReadAsync(await primary.Client.GetAsync($"/v1/registrations/{registration}/members"), HttpStatusCode.OK)).AsArray()
            .Single(m => m!.Get<string>("id") == late)!.Get<string>("status").ShouldBe("expired");
        (await second.Client.PostAsync($"/v1/registrations/{registration}/members/{late}/accept", null)).StatusCode.ShouldBe(HttpStatusCode.Conflict);
    }

    [Test]
    public async Task OpsAddAMemberDirectly_WithAReason_AndEveryActiveMemberHearsTheDealsWebhooks_WithoutThePrimarysTerms()
    {
        var primary = await Factory.PartnerAsync(tier: "registered"); // its deals wait for review
        var member = await Factory.PartnerAsync();
        var path = NewPath();
        await SubscribeAsync(member, path, "registration.approved");
        var (company, domain) = NewCompany();
        var registration = Id(await RegisterAsync(primary.Client, Body(company, domain)));

        var added = await ReadAsync(await Ops.PostAsJsonAsync($"/v1/registrations/{registration}/members",
            new { partnerId = member.Id, role = "implementation", reason = "Agreed on the joint account plan." }), HttpStatusCode.Created);
        added.Get<string>("status").ShouldBe("active");
        await ActAsync(Ops, registration, "approve");

        await Receiver.WaitForAsync(r => r.DeliveredTo(path).Count >= 1, Patience, "the member's webhook");
        var delivered = Receiver.DeliveredTo(path).Single().Json;
        delivered["data"]!.Get<string>("id").ShouldBe(registration);
        delivered["data"]!["terms"].ShouldBeNull();
        var read = await ReadAsync(await member.Client.GetAsync($"/v1/registrations/{registration}"), HttpStatusCode.OK);
        read["terms"].ShouldBeNull();
        (await member.Client.GetAsync($"/v1/partners/{primary.Id}/fees")).StatusCode.ShouldBeOneOf(HttpStatusCode.NotFound, HttpStatusCode.Forbidden);
    }

    private static object PercentTerms(decimal percent) => new { feeModel = "percent_of_revenue", feePercent = percent, feeTrigger = "closed_won", paymentNetDays = 30 };

    private async Task<IReadOnlyList<JsonNode>> FeesAsync(string partnerId, string registrationId) =>
        (await ReadAsync(await Admin.GetAsync($"/v1/partners/{partnerId}/fees"), HttpStatusCode.OK))["items"]!.AsArray()
            .Where(f => f!.Get<string>("registrationId") == registrationId).Select(f => f!).ToList();

    /// <summary>A deal of <paramref name="primary"/> with <paramref name="member"/> active on its team (added by ops): its id and the member's.</summary>
    private async Task<(string Registration, string Member)> TeamDealAsync(PartnerClient primary, PartnerClient member)
    {
        var (company, domain) = NewCompany();
        var registration = Id(await RegisterAsync(primary.Client, Body(company, domain)));
        var added = await ReadAsync(await Ops.PostAsJsonAsync($"/v1/registrations/{registration}/members",
            new { partnerId = member.Id, role = "implementation", reason = "Joint delivery." }), HttpStatusCode.Created);
        return (registration, Id(added));
    }

    private Task<HttpResponseMessage> SplitAsync(HttpClient client, string registration, params (string Member, string Share)[] shares) =>
        client.PutAsJsonAsync($"/v1/registrations/{registration}/splits", new { shares = shares.Select(s => new { memberId = s.Member, share = s.Share }) });

    [Test]
    public async Task Split_NotTotallingExactly100_Is422WithTheSum_AndChangesNothing()
    {
        var (primary, member) = (await Factory.PartnerAsync(tier: "registered"), await Factory.PartnerAsync());
        var (registration, memberId) = await TeamDealAsync(primary, member);
        var under = await ReadAsync(await SplitAsync(primary.Client, registration, (registration, "66.6666"), (memberId, "33.3333")), (HttpStatusCode)422);
        under.Get<string>("type").ShouldBe("urn:partnerdeals:problem:split-not-whole");
        under.Get<string>("detail").ShouldContain("99.9999");
        (await ReadAsync(await SplitAsync(primary.Client, registration, (registration, "66.6668"), (memberId, "33.3333")), (HttpStatusCode)422))
            .Get<string>("detail").ShouldContain("100.0001");
        (await ReadAsync(await Admin.GetAsync($"/v1/registrations/{registration}/splits"), HttpStatusCode.OK)).Get<int>("version").ShouldBe(0);
        (await SplitAsync(primary.Client, registration, (registration, "50"), (Guid.NewGuid().ToString(), "50"))).StatusCode.ShouldBe(HttpStatusCode.BadRequest);
    }

    [Test]
    public async Task Split_OnAWin_EachMemberAccruesItsShareByItsOwnTerms_Once_TheMoneyAddsUp_AndEachSeesOnlyItsOwn()
    {
        var primary = await Factory.PartnerAsync(tier: "registered", terms: PercentTerms(10m));
        var member = await Factory.PartnerAsync(terms: PercentTerms(20m));
        var (registration, memberId) = await TeamDealAsync(primary, member);
        var set = await ReadAsync(await SplitAsync(primary.Client, registration, (registration, "66.6667"), (memberId, "33.3333")), HttpStatusCode.OK);
        set["shares"]!.AsArray().ShouldHaveSingleItem("a partner sees its own share only")!.Get<string>("share").ShouldBe("66.6667");

        var preview = await ReadAsync(await Admin.GetAsync($"/v1/registrations/{registration}/splits?amount=1000.01&currency=EUR"), HttpStatusCode.OK);
        preview["shares"]!.AsArray().Select(x => x!.Get<decimal>("amount")).Sum().ShouldBe(1000.01m);
        var memberView = await ReadAsync(await member.Client.GetAsync($"/v1/registrations/{registration}/splits?amount=1000.01&currency=EUR"), HttpStatusCode.OK);
        memberView["shares"]!.AsArray().ShouldHaveSingleItem()!.Get<string>("partnerId").ShouldBe(member.Id);

        await ActAsync(Ops, registration, "approve");
        (await SplitAsync(primary.Client, registration, (registration, "50"), (memberId, "50"))).StatusCode.ShouldBe(HttpStatusCode.Forbidden);
        await ActAsync(Crm, registration, "outcome", new { result = "won", amount = 1000.01m, currency = "EUR" });
        (await Crm.PostAsJsonAsync($"/v1/registrations/{registration}/outcome", new { result = "won", amount = 1000.01m, currency = "EUR" }))
            .StatusCode.ShouldBe(HttpStatusCode.Conflict);

        var primaryFee = (await FeesAsync(primary.Id, registration)).ShouldHaveSingleItem();
        var memberFee = (await FeesAsync(member.Id, registration)).ShouldHaveSingleItem();
        (primaryFee.Get<decimal>("basisAmount") + memberFee.Get<decimal>("basisAmount")).ShouldBe(1000.01m);
        primaryFee.Get<decimal>("amount").ShouldBe(Math.Round(primaryFee.Get<decimal>("basisAmount") * 0.10m, 2, MidpointRounding.ToEven));
        memberFee.Get<decimal>("amount").ShouldBe(Math.Round(memberFee.Get<decimal>("basisAmount") * 0.20m, 2, MidpointRounding.ToEven));
        memberFee.Get<string>("share").ShouldBe("33.3333");
        (await member.Client.GetAsync($"/v1/partners/{primary.Id}/fees")).StatusCode.ShouldBe(HttpStatusCode.NotFound);
    }

    [Test]
    public async Task Split_CorrectedAfterTheWin_ReversesTheOldFees_AndAccruesTheNewOnes_TheLedgerKeepsBoth()
    {
        var primary = await Factory.PartnerAsync(tier: "registered", terms: PercentTerms(10m));
        var member = await Factory.PartnerAsync(terms: PercentTerms(10m));
        var (registration, memberId) = await TeamDealAsync(primary, member);
        await ReadAsync(await SplitAsync(Ops, registration, (registration, "80"), (memberId, "20")), HttpStatusCode.OK);
        await ActAsync(Ops, registration, "approve");
        await ActAsync(Crm, registration, "outcome", new { result = "won", amount = 10_000m, currency = "EUR" });

        var corrected = await ReadAsync(await SplitAsync(Ops, registration, (registration, "50"), (memberId, "50")), HttpStatusCode.OK);
        corrected.Get<int>("version").ShouldBe(2);
        var primaryFees = await FeesAsync(primary.Id, registration);
        primaryFees.Select(f => f.Get<decimal>("amount")).Order().ShouldBe([-800m, 500m, 800m]);
        primaryFees.Single(f => f.Get<decimal>("amount") == -800m).Get<string>("reverses")
            .ShouldBe(primaryFees.Single(f => f.Get<decimal>("amount") == 800m).Get<string>("id"));
        (await FeesAsync(member.Id, registration)).Select(f => f.Get<decimal>("amount")).Sum().ShouldBe(500m);
        (await SplitAsync(Ops, registration, (registration, "50"), (memberId, "50"))).StatusCode.ShouldBe(HttpStatusCode.OK);
        (await FeesAsync(member.Id, registration)).Select(f => f.Get<decimal>("amount")).Sum().ShouldBe(500m, "the same split again changes no money");
    }

    [Test]
    public async Task Metrics_CountEachPartnersShareOfASplitWin_AndProgramHealthShowsTwoTierDeals()
    {
        var primary = await Factory.PartnerAsync(tier: "registered", terms: PercentTerms(10m));
        var member = await Factory.PartnerAsync(terms: PercentTerms(10m));
        var (registration, memberId) = await TeamDealAsync(primary, member);
        await ReadAsync(await SplitAsync(Ops, registration, (registration, "75"), (memberId, "25")), HttpStatusCode.OK);
        await ActAsync(Ops, registration, "approve");
        await ActAsync(Crm, registration, "outcome", new { result = "won", amount = 1000m, currency = "EUR" });

        async Task<decimal> RevenueAsync(string partnerId) =>
            (await ReadAsync(await Admin.GetAsync($"/v1/partners/{partnerId}/metrics"), HttpStatusCode.OK))["revenue"]!.AsArray()
                .Single(r => r!.Get<string>("currency") == "EUR")!.Get<decimal>("amount");
        (await RevenueAsync(primary.Id)).ShouldBe(750m);
        (await RevenueAsync(member.Id)).ShouldBe(250m);

        var health = await ReadAsync(await Admin.GetAsync("/v1/program/health"), HttpStatusCode.OK);
        health["twoTierDeals"]!.Get<int>("submitted").ShouldBeGreaterThanOrEqualTo(1);
        health["twoTierDeals"]!["won"]!.AsArray().Single(r => r!.Get<string>("currency") == "EUR")!.Get<decimal>("amount").ShouldBeGreaterThanOrEqualTo(1000m);
    }
}
