using System.Collections.Concurrent;
using System.Net;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using PartnerDeals.IntegrationTests.Support;
using WireMock.Matchers;
using WireMock.RequestBuilders;
using WireMock.ResponseBuilders;
using static PartnerDeals.IntegrationTests.Support.RegistrationCalls;

namespace PartnerDeals.IntegrationTests.Sync;

/// <summary>
/// A deal's team in Salesforce: an OpportunityPartner per partner with an Account, against a stub that keeps the org's records
/// and answers as Salesforce's object reference says: OpportunityPartner may be created, queried and deleted, never updated
/// (405); its Role is one of the org's Partner Roles (a restricted picklist) and AccountToId is required; one primary per
/// Opportunity, a new primary taking it from the old.
/// </summary>
public sealed class SalesforceTeamTests : TeamSyncTest
{
    private const string TokenPath = "/services/oauth2/token";
    private const string Api = "/services/data/v62.0/";
    private const string ExternalId = "PartnerDeals_Registration_Id__c";

    // The org's Partner Roles (Setup): no "Managed Service Provider" here.
    private static readonly string[] OrgPartnerRoles = ["Reseller", "Distributor", "System Integrator", "Referral", "Technology Partner"];

    private readonly ConcurrentDictionary<string, string> _opportunities = new();
    private readonly ConcurrentDictionary<string, OpportunityPartner> _partners = new();
    private int _nextId;

    private sealed record OpportunityPartner(string Id, string OpportunityId, string AccountToId, string? Role)
    {
        // A new primary of the opportunity takes it from the old one.
        public bool IsPrimary { get; set; }
    }

    protected override IDictionary<string, string?> CrmSettings => new Dictionary<string, string?>
    {
        ["Crm:Salesforce:InstanceUrl"] = Crm.Url,
        ["Crm:Salesforce:TokenUrl"] = Crm.Url + TokenPath,
        ["Crm:Salesforce:ClientId"] = "partnerdeals-connected-app",
        ["Crm:Salesforce:ClientSecret"] = "sf-team-secret-2c9d",
    };

    [OneTimeSetUp]
    public void StubOrg()
    {
        Crm.Given(Request.Create().WithPath(TokenPath).UsingPost()).RespondWith(Response.Create().WithStatusCode(200)
            .WithHeader("Content-Type", "application/json").WithBody("""{"access_token":"sf-token-1","token_type":"Bearer"}"""));
        Crm.Given(Request.Create().WithPath(new WildcardMatcher(Api + "sobjects/Opportunity/" + ExternalId + "/*")).UsingPatch())
            .RespondWith(Response.Create().WithCallback(request =>
            {
                var registration = request.Path[(request.Path.LastIndexOf('/') + 1)..];
                var created = !_opportunities.ContainsKey(registration);
                var id = _opportunities.GetOrAdd(registration, _ => NewId("006"));
                return Answer(created ? 201 : 200, new JsonObject { ["id"] = id, ["success"] = true, ["errors"] = new JsonArray(), ["created"] = created });
            }));
        Crm.Given(Request.Create().WithPath(Api + "query").UsingGet()).RespondWith(Response.Create().WithCallback(request =>
        {
            var soql = request.Query!["q"].Single();
            var keys = Regex.Matches(soql[soql.LastIndexOf(" IN (", StringComparison.Ordinal)..], "'([^']+)'").Select(m => m.Groups[1].Value).ToHashSet();
            JsonArray records = soql.Contains("FROM Opportunity ", StringComparison.Ordinal)
                ? [.. _opportunities.Where(o => keys.Contains(o.Key)).Select(o => (JsonNode)new JsonObject
                    { ["attributes"] = new JsonObject { ["type"] = "Opportunity" }, ["Id"] = o.Value, [ExternalId] = o.Key })]
                : [.. _partners.Values.Where(p => keys.Contains(p.OpportunityId)).Select(p => (JsonNode)new JsonObject
                {
                    ["attributes"] = new JsonObject { ["type"] = "OpportunityPartner" }, ["Id"] = p.Id, ["OpportunityId"] = p.OpportunityId,
                    ["AccountToId"] = p.AccountToId, ["Role"] = p.Role, ["IsPrimary"] = p.IsPrimary,
                })];
            return Answer(200, new JsonObject { ["totalSize"] = records.Count, ["done"] = true, ["records"] = records });
        }));
        Crm.Given(Request.Create().WithPath(Api + "composite/sobjects").UsingPost()).RespondWith(Response.Create().WithCallback(request =>
        {
            var results = new JsonArray();
            foreach (var record in JsonNode.Parse(request.Body!)!["records"]!.AsArray())
            {
                results.Add(Create(record!.AsObject()));
            }
            return Answer(200, results);
        }));
        Crm.Given(Request.Create().WithPath(Api + "composite/sobjects").UsingDelete()).RespondWith(Response.Create().WithCallback(request =>
            Answer(200, new JsonArray([.. request.Query!["ids"].Single().Split(',').Select(id => (JsonNode)(_partners.TryRemove(id, out _)
                ? new JsonObject { ["id"] = id, ["success"] = true, ["errors"] = new JsonArray() }
                : new JsonObject { ["success"] = false, ["errors"] = Errors("ENTITY_IS_DELETED", "entity is deleted") }))]))));
        // The object has no update() call.
        Crm.Given(Request.Create().WithPath(new WildcardMatcher(Api + "sobjects/OpportunityPartner/*")).UsingPatch()).RespondWith(Response.Create()
            .WithStatusCode(405).WithHeader("Content-Type", "application/json")
            .WithBody("""[{"errorCode":"METHOD_NOT_ALLOWED","message":"HTTP Method 'PATCH' not allowed. Allowed are HEAD,GET,DELETE"}]"""));
    }

    private JsonObject Create(JsonObject record)
    {
        if (record["attributes"]?["type"]?.GetValue<string>() != "OpportunityPartner")
        {
            return new JsonObject { ["success"] = false, ["errors"] = Errors("INVALID_TYPE", "sObject type is not supported here") };
        }
        if (record["AccountToId"]?.GetValue<string>() is not { Length: 15 or 18 } account || record["OpportunityId"]?.GetValue<string>() is not { } opportunity)
        {
            return new JsonObject { ["success"] = false, ["errors"] = Errors("REQUIRED_FIELD_MISSING", "Required fields are missing: [AccountToId]") };
        }
        var role = record["Role"]?.GetValue<string>();
        if (role is not null && !OrgPartnerRoles.Contains(role))
        {
            return new JsonObject { ["success"] = false, ["errors"] = Errors("INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST", $"Role: bad value for restricted picklist field: {role}") };
        }
        var primary = record["IsPrimary"]?.GetValue<bool>() == true;
        if (primary)
        {
            foreach (var other in _partners.Values.Where(p => p.OpportunityId == opportunity)) other.IsPrimary = false;
        }
        var id = NewId("00K");
        _partners[id] = new OpportunityPartner(id, opportunity, account.Length == 15 ? account + "AAA" : account, role) { IsPrimary = primary };
        return new JsonObject { ["id"] = id, ["success"] = true, ["errors"] = new JsonArray() };
    }

    private string NewId(string prefix) => $"{prefix}Dn{Interlocked.Increment(ref _nextId):D10}AAA";

    private static JsonArray Errors(string code, string message) =>
        [new JsonObject { ["statusCode"] = code, ["message"] = message, ["fields"] = new JsonArray() }];

    private Task<PartnerClient> PartnerWithAccountAsync(string type, string? account) => PartnerWithAccountsAsync(type, new { salesforce = account });

    private IReadOnlyList<OpportunityPartner> PartnersOn(string registration) =>
        _partners.Values.Where(p => p.OpportunityId == _opportunities[registration]).OrderBy(p => p.AccountToId, StringComparer.Ordinal).ToList();

    private static string Row(OpportunityPartner p) => $"{p.AccountToId[..15]} {p.Role} {(p.IsPrimary ? "primary" : "-")}";

    [Test]
    public async Task ATeam_IsOpportunityPartnersOfItsAccounts_ChangesByDeleteAndCreate_AndLeavesOthersEditsAlone()
    {
        var distributor = await PartnerWithAccountAsync("distributor", "001Dn0000000D01");
        var reseller = await PartnerWithAccountAsync("reseller", "001Dn0000000R01AAA");
        var integrator = await PartnerWithAccountAsync("implementation", "001Dn0000000I01");
        var unmapped = await PartnerWithAccountAsync("implementation", null);

        var registration = await RegisterForResellerAsync(distributor, reseller);
        await DispatchUntilSettledAsync(registration);
        PartnersOn(registration).Select(Row).ShouldBe(["001Dn0000000D01 Distributor -", "001Dn0000000R01 Reseller primary"]);

        // Someone in Salesforce adds an agency of their own: not ours to touch.
        var own = NewId("00K");
        _partners[own] = new OpportunityPartner(own, _opportunities[registration], "001Dn0000000H01AAA", "Referral");

        // Ops add the integrator, and a partner without an Account (nothing of it reaches Salesforce).
        foreach (var member in new[] { integrator, unmapped }) await AddMemberAsync(registration, member, "implementation");
        await DispatchUntilSettledAsync(registration, expected: 3);
        PartnersOn(registration).Select(Row).ShouldBe([
            "001Dn0000000D01 Distributor -", "001Dn0000000H01 Referral -", "001Dn0000000I01 System Integrator -", "001Dn0000000R01 Reseller primary"]);

        // The distributor leaves the deal: its record comes off; the others stay as they are.
        await RemoveMemberAsync(registration, distributor);
        await DispatchUntilSettledAsync(registration, expected: 4);
        PartnersOn(registration).Select(Row).ShouldBe(["001Dn0000000H01 Referral -", "001Dn0000000I01 System Integrator -", "001Dn0000000R01 Reseller primary"]);
        Requests("sobjects/OpportunityPartner/").ShouldBeEmpty("OpportunityPartner is never updated");

        // Sent again (a retry, the next change), the team is already right: nothing created or deleted.
        var writes = Requests(Api + "composite/sobjects").Count;
        await AddMemberAsync(registration, await PartnerWithAccountAsync("referral", null), "referral");
        await DispatchUntilSettledAsync(registration, expected: 5);
        Requests(Api + "composite/sobjects").Count.ShouldBe(writes);
    }

    [Test]
    public async Task ARoleTheOrgHasNoPartnerRoleFor_IsRefused_TheDeliveryIsDeadWithSalesforcesReason()
    {
        var primary = await PartnerWithAccountAsync("reseller", "001Dn0000000R02");
        var msp = await PartnerWithAccountAsync("msp", "001Dn0000000M02");
        var (company, domain) = NewCompany();
        var registration = Id(await RegisterAsync(primary.Client, Body(company, domain)));
        await AddMemberAsync(registration, msp, "msp");

        var deliveries = await DispatchUntilSettledAsync(registration, expected: 2);

        deliveries.Select(d => d.Get<string>("status")).ShouldBe(["dead", "dead"]);
        deliveries[^1].Get<string>("lastError").ShouldContain("INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST");
        deliveries[^1].Get<string>("lastError").ShouldContain("Managed Service Provider");
        PartnersOn(registration).Select(Row).ShouldBe(["001Dn0000000R02 Reseller primary"]);
    }
}
