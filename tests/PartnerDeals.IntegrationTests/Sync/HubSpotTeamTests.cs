using System.Collections.Concurrent;
using System.Text.Json.Nodes;
using PartnerDeals.IntegrationTests.Support;
using WireMock.RequestBuilders;
using WireMock.ResponseBuilders;
using static PartnerDeals.IntegrationTests.Support.RegistrationCalls;

namespace PartnerDeals.IntegrationTests.Sync;

/// <summary>
/// A deal's team in HubSpot: associations of the deal with the partners' companies, labelled by role, against a stub that keeps
/// the account's associations and answers as HubSpot's associations v4 and objects v3 contracts say: every request body in
/// its published shape (<see cref="HubSpotContract"/>); an association type is HUBSPOT_DEFINED (341 deal to company, 5 the deal's primary company)
/// or a USER_DEFINED label the account has; an unknown company or label is refused; the whole archive answers 204.
/// </summary>
public sealed class HubSpotTeamTests : TeamSyncTest
{
    private const int Implementation = 37, Distributor = 38, Primary = 39, SomeoneElsesLabel = 99;
    private const string CustomerCompany = "9000";
    private static readonly int[] AccountLabels = [Implementation, Distributor, Primary, SomeoneElsesLabel];
    private static readonly string[] Companies = [CustomerCompany, "9001", "9002", "9003", "9004"];

    private readonly ConcurrentDictionary<string, string> _deals = new();
    // deal → company → types
    private readonly ConcurrentDictionary<string, ConcurrentDictionary<string, HashSet<(string Category, int TypeId)>>> _associations = new();
    private int _nextDeal = 100;

    protected override IDictionary<string, string?> CrmSettings => new Dictionary<string, string?>
    {
        ["Crm:HubSpot:BaseUrl"] = Crm.Url,
        ["Crm:HubSpot:AccessToken"] = "pat-na1-team-secret",
        ["Crm:HubSpot:TeamRoles:implementation"] = $"{Implementation}",
        ["Crm:HubSpot:TeamRoles:distributor"] = $"{Distributor}",
        ["Crm:HubSpot:TeamRoles:primary"] = $"{Primary}",
    };

    [OneTimeSetUp]
    public void StubAccount()
    {
        Crm.Given(Request.Create().WithPath("/crm/v3/objects/deals/batch/upsert").UsingPost()).RespondWith(Response.Create().WithCallback(request =>
        {
            var results = new JsonArray();
            foreach (var input in JsonNode.Parse(request.Body!)!["inputs"]!.AsArray())
            {
                var registration = input!.Get<string>("id");
                var deal = _deals.GetOrAdd(registration, _ => $"{Interlocked.Increment(ref _nextDeal)}");
                // Whoever made the deal associated its customer as the primary company.
                _associations.GetOrAdd(deal, _ => new() { [CustomerCompany] = [("HUBSPOT_DEFINED", 5), ("HUBSPOT_DEFINED", 341)] });
                results.Add(new JsonObject { ["id"] = deal, ["properties"] = new JsonObject(), ["archived"] = false });
            }
            return Answer(200, new JsonObject { ["status"] = "COMPLETE", ["results"] = results });
        }));
        Crm.Given(Request.Create().WithPath("/crm/v3/objects/deals/batch/read").UsingPost()).RespondWith(Response.Create().WithCallback(request =>
        {
            if (Broken(HubSpotContract.ObjectsBatchRead, request.Body!) is { } refused) return refused;
            var body = JsonNode.Parse(request.Body!)!;
            var idProperty = body.Get<string>("idProperty");
            return Answer(200, new JsonObject
            {
                ["status"] = "COMPLETE",
                ["results"] = new JsonArray([.. body["inputs"]!.AsArray().Select(i => i!.Get<string>("id")).Where(_deals.ContainsKey)
                    .Select(id => (JsonNode)new JsonObject { ["id"] = _deals[id], ["properties"] = new JsonObject { [idProperty] = id } })]),
            });
        }));
        Crm.Given(Request.Create().WithPath("/crm/v4/associations/deals/companies/batch/read").UsingPost()).RespondWith(Response.Create().WithCallback(request =>
            Broken(HubSpotContract.AssociationsBatchRead, request.Body!) ?? Answer(200, new JsonObject
            {
                ["status"] = "COMPLETE",
                ["results"] = new JsonArray([.. JsonNode.Parse(request.Body!)!["inputs"]!.AsArray().Select(i => i!.Get<string>("id"))
                    .Where(_associations.ContainsKey).Select(deal => (JsonNode)new JsonObject
                    {
                        ["from"] = new JsonObject { ["id"] = deal },
                        ["to"] = new JsonArray([.. _associations[deal].Select(c => (JsonNode)new JsonObject
                        {
                            ["toObjectId"] = long.Parse(c.Key, System.Globalization.CultureInfo.InvariantCulture),
                            ["associationTypes"] = new JsonArray([.. c.Value.Select(t => (JsonNode)new JsonObject
                                { ["category"] = t.Category, ["typeId"] = t.TypeId, ["label"] = t.Category == "USER_DEFINED" ? $"Label {t.TypeId}" : null })]),
                        })]),
                    })]),
            })));
        Crm.Given(Request.Create().WithPath("/crm/v4/associations/deals/companies/batch/create").UsingPost()).RespondWith(Response.Create().WithCallback(request =>
        {
            if (Broken(HubSpotContract.AssociationsMultiPost, request.Body!) is { } refused) return refused;
            var inputs = JsonNode.Parse(request.Body!)!["inputs"]!.AsArray();
            foreach (var input in inputs)
            {
                var types = input!["types"]!.AsArray().Select(t => (t!.Get<string>("associationCategory"), t.Get<int>("associationTypeId"))).ToList();
                var company = input["to"]!.Get<string>("id");
                if (!Companies.Contains(company)) return Refusal($"No company with id {company}.");
                if (types.Any(t => t != ("HUBSPOT_DEFINED", 341) && !(t.Item1 == "USER_DEFINED" && AccountLabels.Contains(t.Item2))))
                {
                    return Refusal("An association type is not defined between deals and companies.");
                }
            }
            foreach (var input in inputs)
            {
                var pair = _associations[input!["from"]!.Get<string>("id")].GetOrAdd(input["to"]!.Get<string>("id"), _ => []);
                foreach (var t in input["types"]!.AsArray()) pair.Add((t!.Get<string>("associationCategory"), t.Get<int>("associationTypeId")));
            }
            return Answer(201, new JsonObject { ["status"] = "COMPLETE", ["results"] = new JsonArray() });
        }));
        Crm.Given(Request.Create().WithPath("/crm/v4/associations/deals/companies/batch/labels/archive").UsingPost()).RespondWith(Response.Create().WithCallback(request =>
        {
            if (Broken(HubSpotContract.AssociationsMultiPost, request.Body!) is { } refused) return refused;
            foreach (var input in JsonNode.Parse(request.Body!)!["inputs"]!.AsArray())
            {
                var pair = _associations[input!["from"]!.Get<string>("id")][input["to"]!.Get<string>("id")];
                foreach (var t in input["types"]!.AsArray()) pair.Remove((t!.Get<string>("associationCategory"), t.Get<int>("associationTypeId")));
            }
            return Answer(204, null);
        }));
        Crm.Given(Request.Create().WithPath("/crm/v4/associations/deals/companies/batch/archive").UsingPost()).RespondWith(Response.Create().WithCallback(request =>
        {
            if (Broken(HubSpotContract.AssociationsMultiArchive, request.Body!) is { } refused) return refused;
            foreach (var input in JsonNode.Parse(request.Body!)!["inputs"]!.AsArray())
            {
                foreach (var to in input!["to"]!.AsArray()) _associations[input["from"]!.Get<string>("id")].TryRemove(to!.Get<string>("id"), out _);
            }
            return Answer(204, null);
        }));
    }

    /// <summary>HubSpot's 400 when the body breaks its published shape; null when it holds.</summary>
    private static WireMock.ResponseMessage? Broken(Json.Schema.JsonSchema schema, string body) =>
        HubSpotContract.Violations(schema, body) is { Count: > 0 } violations ? Answer(400, JsonNode.Parse(HubSpotContract.Invalid(violations))) : null;

    private static WireMock.ResponseMessage Refusal(string message) => Answer(400, new JsonObject
    {
        ["status"] = "error", ["message"] = message, ["correlationId"] = Guid.NewGuid().ToString(), ["category"] = "VALIDATION_ERROR",
    });

    private string[] On(string registration) => _associations[_deals[registration]].OrderBy(c => c.Key, StringComparer.Ordinal)
        .Select(c => $"{c.Key}: {string.Join(" ", c.Value.OrderBy(t => t.TypeId).Select(t => t.TypeId))}").ToArray();

    [Test]
    public async Task ATeam_IsTheDealsCompanies_LabelledByRole_AndARemovedMembersLabelsOrAssociationComeOff()
    {
        var distributor = await PartnerWithAccountsAsync("distributor", new { hubspot = "9001" });
        var reseller = await PartnerWithAccountsAsync("reseller", new { hubspot = "9002" });
        var integrator = await PartnerWithAccountsAsync("implementation", new { hubspot = "9003" });
        var referrer = await PartnerWithAccountsAsync("referral", new { hubspot = "9004" });

        var registration = await RegisterForResellerAsync(distributor, reseller);
        await DispatchUntilSettledAsync(registration);
        // The reseller has no label for its role here: the unlabeled association, and the primary's label.
        On(registration).ShouldBe(["9000: 5 341", "9001: 38 341", "9002: 39 341"]);

        // Someone labels the distributor's company for a reason of their own; ops add an integrator and a referrer.
        _associations[_deals[registration]]["9001"].Add(("USER_DEFINED", SomeoneElsesLabel));
        await AddMemberAsync(registration, integrator, "implementation");
        await AddMemberAsync(registration, referrer, "referral");
        await DispatchUntilSettledAsync(registration, expected: 3);
        On(registration).ShouldBe(["9000: 5 341", "9001: 38 99 341", "9002: 39 341", "9003: 37 341", "9004: 341"]);

        // Off the deal: the distributor loses our label only (its company is there for someone else too), the integrator its association.
        await RemoveMemberAsync(registration, distributor);
        await RemoveMemberAsync(registration, integrator);
        var deliveries = await DispatchUntilSettledAsync(registration, expected: 5);
        deliveries.Select(d => d.Get<string>("status")).Distinct().ShouldBe(["delivered"]);
        On(registration).ShouldBe(["9000: 5 341", "9001: 99 341", "9002: 39 341", "9004: 341"]);

        // Back on the deal, the integrator is on it once, as it is now: the next delivery leaves its association alone.
        await AddMemberAsync(registration, integrator, "implementation");
        await RemoveMemberAsync(registration, referrer);
        deliveries = await DispatchUntilSettledAsync(registration, expected: 7);
        deliveries.Select(d => d.Get<string>("status")).Distinct().ShouldBe(["delivered"]);
        On(registration).ShouldBe(["9000: 5 341", "9001: 99 341", "9002: 39 341", "9003: 37 341"]);
    }

    [Test]
    public async Task ACompanyHubSpotDoesNotKnow_IsRefused_AndTheDeliveryIsDeadWithItsReason()
    {
        var primary = await PartnerWithAccountsAsync("reseller", new { hubspot = "9002" });
        var gone = await PartnerWithAccountsAsync("implementation", new { hubspot = "123456789" });
        var (company, domain) = NewCompany();
        var registration = Id(await RegisterAsync(primary.Client, Body(company, domain)));
        await AddMemberAsync(registration, gone, "implementation");

        var deliveries = await DispatchUntilSettledAsync(registration, expected: 2);

        deliveries[^1].Get<string>("status").ShouldBe("dead");
        deliveries[^1].Get<string>("lastError").ShouldContain("No company with id 123456789");
    }
}
