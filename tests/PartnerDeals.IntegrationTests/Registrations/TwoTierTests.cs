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
}
