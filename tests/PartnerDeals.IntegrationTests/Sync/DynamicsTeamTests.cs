using System.Collections.Concurrent;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using PartnerDeals.IntegrationTests.Support;
using WireMock.Matchers;
using WireMock.RequestBuilders;
using WireMock.ResponseBuilders;
using static PartnerDeals.IntegrationTests.Support.RegistrationCalls;

namespace PartnerDeals.IntegrationTests.Sync;

/// <summary>
/// A deal's team in Dataverse: connections of the opportunity with the partners' accounts, each with its connection role,
/// against a stub that keeps the environment's connections and answers as the Web API does: a bind to a record that does
/// not exist is 404 <c>0x80040217</c>; creating a connection makes its reciprocal (record1 and record2 swapped), deleting one
/// deletes both.
/// </summary>
public sealed class DynamicsTeamTests : TeamSyncTest
{
    private const string TokenPath = "/team-tenant/oauth2/v2.0/token";
    private const string ApiPath = "/api/data/v9.2/";
    private const string DistributorRole = "0f1e2d3c-4b5a-4968-8776-a5b4c3d2e1f0", ImplementationRole = "1f1e2d3c-4b5a-4968-8776-a5b4c3d2e1f0",
        PrimaryRole = "2f1e2d3c-4b5a-4968-8776-a5b4c3d2e1f0";
    private const string Distributor = "a0000000-0000-4000-8000-000000000001", Reseller = "a0000000-0000-4000-8000-000000000002",
        Integrator = "a0000000-0000-4000-8000-000000000003", Agency = "a0000000-0000-4000-8000-000000000004";

    private static readonly string[] Accounts = [Distributor, Reseller, Integrator, Agency];
    private static readonly string[] Roles = [DistributorRole, ImplementationRole, PrimaryRole];

    private readonly ConcurrentDictionary<string, string> _opportunities = new();
    private readonly ConcurrentDictionary<string, Connection> _connections = new();

    private sealed record Connection(string Id, string Record1, string Record2, string? Role2, string Reciprocal);

    protected override IDictionary<string, string?> CrmSettings => new Dictionary<string, string?>
    {
        ["Crm:Dynamics:BaseUrl"] = Crm.Url,
        ["Crm:Dynamics:TokenUrl"] = Crm.Url + TokenPath,
        ["Crm:Dynamics:ClientId"] = "team-app",
        ["Crm:Dynamics:ClientSecret"] = "dyn-team-secret-4e7a",
        ["Crm:Dynamics:TeamRoles:distributor"] = DistributorRole,
        ["Crm:Dynamics:TeamRoles:implementation"] = ImplementationRole,
        ["Crm:Dynamics:TeamRoles:primary"] = PrimaryRole,
    };

    [OneTimeSetUp]
    public void StubEnvironment()
    {
        Crm.Given(Request.Create().WithPath(TokenPath).UsingPost()).RespondWith(Response.Create().WithStatusCode(200)
            .WithHeader("Content-Type", "application/json").WithBody("""{"access_token":"dyn-token-1","token_type":"Bearer","expires_in":3599}"""));
        Crm.Given(Request.Create().WithPath(ApiPath + "transactioncurrencies").UsingGet()).RespondWith(Response.Create().WithStatusCode(200)
            .WithHeader("Content-Type", "application/json").WithBody("""{"value":[{"transactioncurrencyid":"6a4c1d2e-0f3b-4a5c-9d7e-8f1a2b3c4d5e"}]}"""));
        Crm.Given(Request.Create().WithPath(new WildcardMatcher(ApiPath + "opportunities(*")).UsingPatch()).RespondWith(Response.Create().WithCallback(request =>
        {
            _opportunities.GetOrAdd(Key(request.Path), _ => Guid.NewGuid().ToString("D"));
            return Answer(204, null);
        }));
        Crm.Given(Request.Create().WithPath(new WildcardMatcher(ApiPath + "opportunities(*")).UsingGet()).RespondWith(Response.Create().WithCallback(request =>
            _opportunities.TryGetValue(Key(request.Path), out var id)
                ? Answer(200, new JsonObject { ["opportunityid"] = id })
                : NotFound("opportunity", Key(request.Path))));
        Crm.Given(Request.Create().WithPath(ApiPath + "connections").UsingGet()).RespondWith(Response.Create().WithCallback(request =>
        {
            var record1 = Regex.Match(request.Query!["$filter"].Single(), "_record1id_value eq ([0-9a-f-]{36})").Groups[1].Value;
            return Answer(200, new JsonObject
            {
                ["value"] = new JsonArray([.. _connections.Values.Where(c => c.Record1 == record1 && Accounts.Contains(c.Record2)).Select(c => (JsonNode)new JsonObject
                    { ["connectionid"] = c.Id, ["_record2id_value"] = c.Record2, ["_record2roleid_value"] = c.Role2 })]),
            });
        }));
        Crm.Given(Request.Create().WithPath(ApiPath + "connections").UsingPost()).RespondWith(Response.Create().WithCallback(request =>
        {
            var body = JsonNode.Parse(request.Body!)!.AsObject();
            var opportunity = Bound(body, "record1id_opportunity@odata.bind");
            var account = Bound(body, "record2id_account@odata.bind");
            var role = Bound(body, "record2roleid@odata.bind");
            if (opportunity is null || account is null) return Answer(400, Error("0x80040203", "Record1Id and Record2Id are required."));
            if (!_opportunities.Values.Contains(opportunity)) return NotFound("opportunity", opportunity);
            if (!Accounts.Contains(account)) return NotFound("account", account);
            if (role is not null && !Roles.Contains(role)) return NotFound("connectionrole", role);
            var (id, reciprocal) = (Guid.NewGuid().ToString("D"), Guid.NewGuid().ToString("D"));
            _connections[id] = new Connection(id, opportunity, account, role, reciprocal);
            _connections[reciprocal] = new Connection(reciprocal, account, opportunity, null, id);
            return Answer(204, null);
        }));
        Crm.Given(Request.Create().WithPath(new WildcardMatcher(ApiPath + "connections(*")).UsingDelete()).RespondWith(Response.Create().WithCallback(request =>
        {
            var id = request.Path[(request.Path.IndexOf('(') + 1)..request.Path.IndexOf(')')];
            if (!_connections.TryRemove(id, out var connection)) return NotFound("connection", id);
            _connections.TryRemove(connection.Reciprocal, out _);
            return Answer(204, null);
        }));
    }

    private static string Key(string path) => Uri.UnescapeDataString(path)[(Uri.UnescapeDataString(path).IndexOf("='", StringComparison.Ordinal) + 2)..].TrimEnd(')', '\'');

    private static string? Bound(JsonObject body, string property) =>
        body[property]?.GetValue<string>() is { } bind ? bind[(bind.IndexOf('(') + 1)..bind.IndexOf(')')] : null;

    private static JsonObject Error(string code, string message) => new() { ["error"] = new JsonObject { ["code"] = code, ["message"] = message } };

    private static WireMock.ResponseMessage NotFound(string entity, string id) => Answer(404, Error("0x80040217", $"{entity} With Id = {id} Does Not Exist"));

    private string[] On(string registration) => _connections.Values.Where(c => c.Record1 == _opportunities[registration])
        .Select(c => $"{c.Record2[^1]}: {(c.Role2 is null ? "-" : c.Role2[..1])}").Order(StringComparer.Ordinal).ToArray();

    [Test]
    public async Task ATeam_IsConnectionsOfTheOpportunity_WithTheirRoles_AndARemovedMembersConnectionIsDeleted()
    {
        var distributor = await PartnerWithAccountsAsync("distributor", new { dynamics = Distributor });
        var reseller = await PartnerWithAccountsAsync("reseller", new { dynamics = Reseller });
        var integrator = await PartnerWithAccountsAsync("implementation", new { dynamics = Integrator });

        var registration = await RegisterForResellerAsync(distributor, reseller);
        await DispatchUntilSettledAsync(registration);
        // The reseller is the primary (its role); the distributor by its role.
        On(registration).ShouldBe(["1: 0", "2: 2"]);

        // Someone connects an agency of their own, with no role: not ours to touch.
        var (own, reciprocal) = (Guid.NewGuid().ToString("D"), Guid.NewGuid().ToString("D"));
        _connections[own] = new Connection(own, _opportunities[registration], Agency, null, reciprocal);

        await AddMemberAsync(registration, integrator, "implementation");
        await RemoveMemberAsync(registration, distributor);
        var deliveries = await DispatchUntilSettledAsync(registration, expected: 3);

        deliveries.Select(d => d.Get<string>("status")).Distinct().ShouldBe(["delivered"]);
        On(registration).ShouldBe(["2: 2", "3: 1", "4: -"]);
        _connections.Values.Where(c => c.Record2 == _opportunities[registration]).Select(c => c.Record1[^1..]).Order(StringComparer.Ordinal).ToArray()
            .ShouldBe(["2", "3"], "each connection of ours has its reciprocal");
    }

    [Test]
    public async Task AnAccountDataverseDoesNotHave_IsRefused_AndTheDeliveryIsDeadWithItsReason()
    {
        var primary = await PartnerWithAccountsAsync("reseller", new { dynamics = Reseller });
        var gone = await PartnerWithAccountsAsync("implementation", new { dynamics = "b0000000-0000-4000-8000-00000000dead" });
        var (company, domain) = NewCompany();
        var registration = Id(await RegisterAsync(primary.Client, Body(company, domain)));
        await AddMemberAsync(registration, gone, "implementation");

        var deliveries = await DispatchUntilSettledAsync(registration, expected: 2);

        deliveries[^1].Get<string>("status").ShouldBe("dead");
        deliveries[^1].Get<string>("lastError").ShouldContain("account With Id = b0000000-0000-4000-8000-00000000dead Does Not Exist");
    }
}
