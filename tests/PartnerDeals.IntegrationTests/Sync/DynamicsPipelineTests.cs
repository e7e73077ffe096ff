using System.Net;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using WireMock.RequestBuilders;
using WireMock.ResponseBuilders;
using PartnerDeals.IntegrationTests.Support;
using static PartnerDeals.IntegrationTests.Support.RegistrationCalls;

namespace PartnerDeals.IntegrationTests.Sync;

/// <summary>
/// Pulling Dataverse's pipeline by change tracking, against a stub that answers — and refuses — as Microsoft documents the
/// Web API: next links, delta links, deleted entities; <c>$filter</c>, <c>$orderby</c>, <c>$expand</c> and <c>$top</c>
/// refused with change tracking; a delta token past its retention refused; accounts and currencies read by their ids.
/// </summary>
public sealed class DynamicsPipelineTests : SyncTest
{
    private const string TokenPath = "/pipeline-tenant/oauth2/v2.0/token";
    private const string OpportunitiesPath = "/api/data/v9.2/opportunities";
    private const string AccountsPath = "/api/data/v9.2/accounts";

    // The stub's environment: accounts by id, and the opportunities' and accounts' answers to each link.
    private readonly Dictionary<string, JsonObject> _accounts = [];

    protected override IDictionary<string, string?> CrmSettings => new Dictionary<string, string?>
    {
        ["Crm:Dynamics:BaseUrl"] = Crm.Url,
        ["Crm:Dynamics:TokenUrl"] = Crm.Url + TokenPath,
        ["Crm:Dynamics:ClientId"] = "pipeline-app",
        ["Crm:Dynamics:ClientSecret"] = "pipeline-secret",
        ["Crm:Dynamics:Pipeline:Enabled"] = "true",
        ["Crm:Dynamics:Pipeline:Interval"] = "01:00:00",
        ["Crm:Dynamics:Pipeline:Filter"] = "statecode ne 2",
    };

    [OneTimeSetUp]
    public Task WaitForTheFirstRun() => WaitForFirstPullAsync("dynamics");

    [SetUp]
    public async Task StubTheEnvironment()
    {
        Crm.ResetMappings();
        (await Admin.PostAsync("/v1/sync/pipeline/dynamics/resync", null)).StatusCode.ShouldBe(HttpStatusCode.Accepted);
        await PullAsync("dynamics"); // against no stubs: fails, and the next run starts from the beginning
        Crm.ResetLogEntries();
        Crm.Given(Request.Create().WithPath(TokenPath).UsingPost()).RespondWith(Response.Create().WithStatusCode(200).WithHeader("Content-Type", "application/json")
            .WithBody("""{"token_type":"Bearer","expires_in":3599,"access_token":"dyn-pipeline-token"}"""));
        // "Query options not supported in Change Tracking Web API request": $filter, $orderby, $expand and $top return an error.
        foreach (var option in new[] { "$filter", "$orderby", "$expand", "$top" })
        {
            Crm.Given(Request.Create().UsingGet().WithHeader("Prefer", "*odata.track-changes*").WithParam(option)).AtPriority(0)
                .RespondWith(Error(400, "0x80060888", $"The query parameter {option} is not supported with change tracking."));
        }
        Crm.Given(Request.Create().WithPath("/api/data/v9.2/transactioncurrencies").UsingGet()).RespondWith(Json(new JsonObject
        {
            ["value"] = new JsonArray(new JsonObject { ["transactioncurrencyid"] = Eur, ["isocurrencycode"] = "EUR" }),
        }));
        // Accounts read by their ids (Microsoft.Dynamics.CRM.In), without change tracking.
        Crm.Given(Request.Create().WithPath(AccountsPath).UsingGet().WithParam("$filter")).AtPriority(5).RespondWith(Response.Create().WithCallback(request =>
        {
            var ids = Regex.Matches(Uri.UnescapeDataString(request.Query!["$filter"].ToString()), "'([0-9a-f-]{36})'").Select(m => m.Groups[1].Value);
            return Reply(new JsonObject { ["value"] = new JsonArray(ids.Where(_accounts.ContainsKey).Select(id => (JsonNode)_accounts[id].DeepClone()).ToArray()) });
        }));
        // The accounts' first change-tracking read: nothing to re-read, a delta link to start from.
        Crm.Given(Request.Create().WithPath(AccountsPath).UsingGet().WithHeader("Prefer", "*odata.track-changes*")).AtPriority(6)
            .RespondWith(Page(AccountsPath, null, "acc-1"));
    }

    private const string Eur = "9a1c4b2e-0000-4000-8000-0000000000e0";

    private string Account(string name, string? website = null)
    {
        var id = Guid.NewGuid().ToString();
        _accounts[id] = new JsonObject { ["accountid"] = id, ["name"] = name, ["websiteurl"] = website, ["address1_country"] = "FR" };
        return id;
    }

    private static JsonObject Row(string id, string accountId, int state = 0) => new()
    {
        ["@odata.etag"] = "W/\"5301\"",
        ["opportunityid"] = id,
        ["statecode"] = state,
        ["stepname"] = "2-Develop",
        ["estimatedvalue"] = 75000,
        ["estimatedclosedate"] = "2027-04-30",
        ["createdon"] = "2026-08-12T09:30:00Z",
        ["_parentaccountid_value"] = accountId,
        ["_transactioncurrencyid_value"] = Eur,
    };

    private IResponseBuilder Page(string path, string? next, string? delta, params JsonObject[] rows)
    {
        var body = new JsonObject
        {
            ["@odata.context"] = $"{Crm.Url}/api/data/v9.2/$metadata#opportunities(opportunityid,statecode)",
            ["value"] = new JsonArray(rows),
        };
        if (next is not null) body["@odata.nextLink"] = $"{Crm.Url}{path}?$skiptoken={next}";
        if (delta is not null) body["@odata.deltaLink"] = $"{Crm.Url}{path}?$deltatoken={delta}";
        return Response.Create().WithStatusCode(200).WithHeader("Content-Type", "application/json; odata.metadata=minimal")
            .WithBody(VendorDebris.Json(body));
    }

    private static IResponseBuilder Json(JsonNode body) =>
        Response.Create().WithStatusCode(200).WithHeader("Content-Type", "application/json").WithBody(body.ToJsonString());

    private static IResponseBuilder Error(int status, string code, string message) =>
        Response.Create().WithStatusCode(status).WithHeader("Content-Type", "application/json")
            .WithBody(new JsonObject { ["error"] = new JsonObject { ["code"] = code, ["message"] = message } }.ToJsonString());

    private static JsonObject Deleted(string id) =>
        new() { ["@odata.context"] = "https://org.example/api/data/v9.2/$metadata#opportunities/$deletedEntity", ["id"] = id, ["reason"] = "deleted" };

    [Test]
    public async Task Pull_SelectsOnly_ReadsAccountsByTheirIds_FollowsNextLinks_AppliesTheFilterAndDeletedEntities()
    {
        var (a, b, c, d, lost) = (Guid.NewGuid().ToString(), Guid.NewGuid().ToString(), Guid.NewGuid().ToString(), Guid.NewGuid().ToString(), Guid.NewGuid().ToString());
        Crm.Given(Request.Create().WithPath(OpportunitiesPath).UsingGet()).AtPriority(10)
            .RespondWith(Page(OpportunitiesPath, "p2", null, Row(a, Account("Ariane Conseil SA")), Row(b, Account("Belvédère SARL"))));
        Crm.Given(Request.Create().WithPath(OpportunitiesPath).UsingGet().WithParam("$skiptoken", "p2")).AtPriority(1)
            .RespondWith(Page(OpportunitiesPath, null, "919042", Row(c, Account("Cévennes Industrie SAS"), state: 1), Row(lost, Account("Perdu SA"), state: 2)));

        var first = await PullAsync("dynamics");

        first["lastError"].ShouldBeNull();
        first["lastRun"]!.Get<long>("created").ShouldBe(3, "the lost one does not pass the filter");
        first.Get<string>("cursor").ShouldContain("$deltatoken=919042");
        var request = Requests(OpportunitiesPath).First();
        Header(request, "Prefer").ShouldContain("odata.track-changes");
        Header(request, "Prefer").ShouldContain("odata.maxpagesize=5000");
        var query = Uri.UnescapeDataString(request.RequestMessage.Url);
        query.ShouldContain("$select=opportunityid,statecode,_parentaccountid_value,stepname,estimatedvalue,_transactioncurrencyid_value,estimatedclosedate,createdon");
        query.ShouldNotContain("$expand");
        query.ShouldNotContain("$filter");
        Requests(AccountsPath).Count(r => r.RequestMessage.Query!.ContainsKey("$filter")).ShouldBe(2, "one request per page for its accounts");
        Requests("/transactioncurrencies").Count.ShouldBe(1, "currencies once a run");
        (await ReadJsonAsync(await Admin.GetAsync($"/v1/opportunities/dynamics/{c}"))).Get<string>("status").ShouldBe("won");
        var ariane = await ReadJsonAsync(await Admin.GetAsync($"/v1/opportunities/dynamics/{a}"));
        ariane.Get<string>("country").ShouldBe("FR");
        ariane.Get<string>("currency").ShouldBe("EUR");
        ariane.Get<string>("accountName").ShouldBe("Ariane Conseil SA");
        (await Admin.GetAsync($"/v1/opportunities/dynamics/{lost}")).StatusCode.ShouldBe(HttpStatusCode.NotFound);

        // The next run reads only what changed since: one deleted, one new, one that left the filter.
        Crm.Given(Request.Create().WithPath(OpportunitiesPath).UsingGet().WithParam("$deltatoken", "919042")).AtPriority(1)
            .RespondWith(Page(OpportunitiesPath, null, "919107", Deleted(a), Row(d, Account("Durance Logistique SA")), Row(b, Account("Belvédère SARL"), state: 2)));

        var second = await PullAsync("dynamics");

        second["lastError"].ShouldBeNull();
        second["lastRun"]!.Get<long>("created").ShouldBe(1);
        second["lastRun"]!.Get<long>("deleted").ShouldBe(2);
        second.Get<string>("cursor").ShouldContain("$deltatoken=919107");
        (await Admin.GetAsync($"/v1/opportunities/dynamics/{a}")).StatusCode.ShouldBe(HttpStatusCode.NotFound);
        (await Admin.GetAsync($"/v1/opportunities/dynamics/{b}")).StatusCode.ShouldBe(HttpStatusCode.NotFound, "lost now: out of the filter");
        var partner = await PartnerAsync("gold");
        Status(await RegisterAsync(partner.Client, Body("Ariane Conseil SA", null, country: "FR"))).ShouldBe("approved");
        Status(await RegisterAsync(partner.Client, Body("Durance Logistique SA", null, country: "FR"))).ShouldBe("pending_review");
    }

    [Test]
    public async Task ExpiredDeltaToken_StartsAFullReadByItself_AndRemovesWhatWasDeletedMeanwhile()
    {
        var (kept, gone) = (Guid.NewGuid().ToString(), Guid.NewGuid().ToString());
        Crm.Given(Request.Create().WithPath(OpportunitiesPath).UsingGet()).AtPriority(10).InScenario("expiry").WillSetStateTo("read")
            .RespondWith(Page(OpportunitiesPath, null, "old", Row(kept, Account("Kept Ateliers SA")), Row(gone, Account("Gone Ateliers SA"))));
        (await PullAsync("dynamics"))["lastRun"]!.Get<long>("created").ShouldBe(2);

        // Past the retention, Dataverse refuses the token; a full read now finds only one of the two.
        Crm.Given(Request.Create().WithPath(OpportunitiesPath).UsingGet().WithParam("$deltatoken", "old")).AtPriority(1)
            .RespondWith(Error(400, "0x80044352", "The change tracking token has expired. Run a full synchronization."));
        Crm.Given(Request.Create().WithPath(OpportunitiesPath).UsingGet()).AtPriority(10).InScenario("expiry").WhenStateIs("read")
            .RespondWith(Page(OpportunitiesPath, null, "new", Row(kept, Account("Kept Ateliers SA"))));

        var recovered = await PullAsync("dynamics");

        recovered["lastError"].ShouldBeNull();
        recovered["lastRun"]!.Get<long>("updated").ShouldBe(1);
        recovered["lastRun"]!.Get<long>("deleted").ShouldBe(1, "deleted while the token aged: no longer seen by the full read");
        recovered.Get<string>("cursor").ShouldContain("$deltatoken=new");
        (await Admin.GetAsync($"/v1/opportunities/dynamics/{gone}")).StatusCode.ShouldBe(HttpStatusCode.NotFound);
        (await Admin.GetAsync($"/v1/opportunities/dynamics/{kept}")).StatusCode.ShouldBe(HttpStatusCode.OK);
    }

    [Test]
    public async Task RenamedAccount_ItsOpportunitiesAreReadAgain()
    {
        var opportunity = Guid.NewGuid().ToString();
        var account = Account("Ancien Nom Logistique SA");
        Crm.Given(Request.Create().WithPath(OpportunitiesPath).UsingGet()).AtPriority(10)
            .RespondWith(Page(OpportunitiesPath, null, "o-1", Row(opportunity, account)));
        await PullAsync("dynamics");

        // The account is renamed: no opportunity changed, the accounts' delta says which account did.
        _accounts[account]["name"] = "Nouveau Nom Transports SA";
        Crm.Given(Request.Create().WithPath(OpportunitiesPath).UsingGet().WithParam("$deltatoken", "o-1")).AtPriority(1).RespondWith(Page(OpportunitiesPath, null, "o-2"));
        Crm.Given(Request.Create().WithPath(AccountsPath).UsingGet().WithParam("$deltatoken", "acc-1")).AtPriority(1)
            .RespondWith(Page(AccountsPath, null, "acc-2", _accounts[account]));
        Crm.Given(Request.Create().WithPath(OpportunitiesPath).UsingGet().WithParam("$filter")).AtPriority(2).RespondWith(Page(OpportunitiesPath, null, null,
            Row(opportunity, account)));

        var renamed = await PullAsync("dynamics");

        renamed["lastError"].ShouldBeNull();
        renamed["lastRun"]!.Get<long>("updated").ShouldBe(1);
        (await ReadJsonAsync(await Admin.GetAsync($"/v1/opportunities/dynamics/{opportunity}"))).Get<string>("accountName").ShouldBe("Nouveau Nom Transports SA");
        var reread = Requests(OpportunitiesPath).Single(r => r.RequestMessage.Query!.ContainsKey("$filter"));
        Uri.UnescapeDataString(reread.RequestMessage.Url).ShouldContain($"Microsoft.Dynamics.CRM.In(PropertyName='parentaccountid',PropertyValues=['{account}'])");
        Header(reread, "Prefer").ShouldNotContain("odata.track-changes");
    }

    [Test]
    public async Task PoisonPage_TheRunCompletes_CleanedRecordsAreIn_AndBlockTheCleanName()
    {
        var rows = new List<JsonObject>();
        var clean = new List<(string Id, string Name)>();
        foreach (var (_, dirty) in VendorDebris.Names)
        {
            var (name, _) = NewCompany();
            var id = Guid.NewGuid().ToString();
            rows.Add(Row(id, Account(dirty(name), website: "n/a")));
            clean.Add((id, name));
        }
        Crm.Given(Request.Create().WithPath(OpportunitiesPath).UsingGet()).AtPriority(10).RespondWith(Page(OpportunitiesPath, null, "poison", [.. rows]));
        Crm.Given(Request.Create().WithPath(AccountsPath).UsingGet().WithParam("$filter")).AtPriority(4).RespondWith(Page(AccountsPath, null, null,
            [.. _accounts.Values.Select(a => (JsonObject)a.DeepClone())]));

        var status = await PullAsync("dynamics");

        status["lastError"].ShouldBeNull();
        status["lastRun"]!.Get<long>("created").ShouldBe(clean.Count);
        status.Get<string>("cursor").ShouldContain("poison");
        var partner = await PartnerAsync("gold");
        foreach (var (id, name) in clean)
        {
            var stored = await ReadJsonAsync(await Admin.GetAsync($"/v1/opportunities/dynamics/{id}"));
            stored.Get<string>("accountName").ShouldBe(name);
            stored["accountDomain"].ShouldBeNull("n/a is no website");
            Status(await RegisterAsync(partner.Client, Body(name, null, country: "FR"))).ShouldNotBe("approved", name);
        }
    }

    private static WireMock.ResponseMessage Reply(JsonObject body) => new()
    {
        StatusCode = 200,
        Headers = new Dictionary<string, WireMock.Types.WireMockList<string>> { ["Content-Type"] = new("application/json") },
        BodyData = new WireMock.Util.BodyData { DetectedBodyType = WireMock.Types.BodyType.String, BodyAsString = VendorDebris.Json(body) },
    };
}
