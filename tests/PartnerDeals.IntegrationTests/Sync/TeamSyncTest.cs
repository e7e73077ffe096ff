using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using PartnerDeals.IntegrationTests.Support;
using static PartnerDeals.IntegrationTests.Support.RegistrationCalls;

namespace PartnerDeals.IntegrationTests.Sync;

/// <summary>What the suites of a deal's team in each CRM share: partners with CRM records, a two-tier deal, team changes by ops.</summary>
public abstract class TeamSyncTest : SyncTest
{
    /// <summary>A partner of <paramref name="type"/> with <paramref name="crmAccounts"/> (e.g. <c>new { hubspot = "901" }</c>), and its key.</summary>
    protected async Task<PartnerClient> PartnerWithAccountsAsync(string type, object crmAccounts)
    {
        var created = await Admin.PostAsJsonAsync("/v1/partners", new
        {
            name = Unique("Partner"), type, tier = "silver", contactEmail = "alliances@partner.example", crmAccounts,
        });
        created.StatusCode.ShouldBe(HttpStatusCode.Created, await created.Content.ReadAsStringAsync());
        var id = (await ReadJsonAsync(created)).Get<string>("id");
        return new PartnerClient(id, Factory.ClientFor(await IssuePartnerKeyAsync(id)));
    }

    /// <summary>The distributor registers a new company for its reseller: the reseller is the primary, the distributor on the team.</summary>
    protected async Task<string> RegisterForResellerAsync(PartnerClient distributor, PartnerClient reseller)
    {
        (await Admin.PostAsJsonAsync($"/v1/partners/{distributor.Id}/resellers", new { resellerId = reseller.Id, mayRegisterOnBehalf = true, mayViewDeals = true }))
            .StatusCode.ShouldBe(HttpStatusCode.Created);
        var (company, domain) = NewCompany();
        var body = JsonNode.Parse(System.Text.Json.JsonSerializer.Serialize(Body(company, domain)))!.AsObject();
        body["onBehalfOf"] = reseller.Id;
        body.Remove("partnerId");
        return Id(await RegisterAsync(distributor.Client, body));
    }

    /// <summary>Ops put <paramref name="partner"/> on the deal at once.</summary>
    protected async Task AddMemberAsync(string registration, PartnerClient partner, string role) =>
        (await Admin.PostAsJsonAsync($"/v1/registrations/{registration}/members", new { partnerId = partner.Id, role, reason = "Joint delivery." }))
            .StatusCode.ShouldBe(HttpStatusCode.Created);

    /// <summary>Ops take <paramref name="partner"/> off the deal.</summary>
    protected async Task RemoveMemberAsync(string registration, PartnerClient partner)
    {
        var members = (await ReadJsonAsync(await Admin.GetAsync($"/v1/registrations/{registration}/members"))).AsArray();
        var member = Id(members.Single(m => m!.Get<string>("partnerId") == partner.Id && m.Get<string>("status") == "active")!);
        (await Admin.PostAsync($"/v1/registrations/{registration}/members/{member}/remove", null)).StatusCode.ShouldBe(HttpStatusCode.OK);
    }

    /// <summary>A stub's JSON answer.</summary>
    protected static WireMock.ResponseMessage Answer(int status, JsonNode? body) => new()
    {
        StatusCode = status,
        Headers = new Dictionary<string, WireMock.Types.WireMockList<string>> { ["Content-Type"] = new("application/json") },
        BodyData = body is null ? null : new WireMock.Util.BodyData { DetectedBodyType = WireMock.Types.BodyType.String, BodyAsString = body.ToJsonString() },
    };
}
