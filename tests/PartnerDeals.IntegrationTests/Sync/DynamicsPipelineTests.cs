using System.Net;
using System.Text.Json.Nodes;
using WireMock.RequestBuilders;
using WireMock.ResponseBuilders;
using PartnerDeals.IntegrationTests.Support;

namespace PartnerDeals.IntegrationTests.Sync;

/// <summary>Pulling Dataverse's pipeline by change tracking, against stubs that answer as the Web API does: next links, a delta link, deleted entities.</summary>
public sealed class DynamicsPipelineTests : SyncTest
{
    private const string TokenPath = "/pipeline-tenant/oauth2/v2.0/token";
    private const string OpportunitiesPath = "/api/data/v9.2/opportunities";

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

    private static JsonObject Row(string id, string account, int state = 0) => new()
    {
        ["@odata.etag"] = "W/\"5301\"",
        ["opportunityid"] = id,
        ["statecode"] = state,
        ["stepname"] = "2-Develop",
        ["estimatedvalue"] = 75000,
        ["estimatedclosedate"] = "2027-04-30",
        ["createdon"] = "2026-08-12T09:30:00Z",
        ["parentaccountid"] = new JsonObject { ["accountid"] = Guid.NewGuid().ToString(), ["name"] = account, ["websiteurl"] = null, ["address1_country"] = "FR" },
        ["transactioncurrencyid"] = new JsonObject { ["transactioncurrencyid"] = Guid.NewGuid().ToString(), ["isocurrencycode"] = "EUR" },
    };

    private IResponseBuilder Page(string? next, string? delta, params JsonObject[] rows)
    {
        var body = new JsonObject
        {
            ["@odata.context"] = $"{Crm.Url}/api/data/v9.2/$metadata#opportunities(opportunityid,statecode)",
            ["value"] = new JsonArray(rows),
        };
        if (next is not null) body["@odata.nextLink"] = $"{Crm.Url}{OpportunitiesPath}?$skiptoken={next}";
        if (delta is not null) body["@odata.deltaLink"] = $"{Crm.Url}{OpportunitiesPath}?$deltatoken={delta}";
        return Response.Create().WithStatusCode(200).WithHeader("Content-Type", "application/json; odata.metadata=minimal").WithBody(body.ToJsonString());
    }

    [Test]
    public async Task Pull_FollowsNextLinks_KeepsTheDeltaLink_AndAppliesDeletedEntities()
    {
        Crm.ResetLogEntries(); // the host's first run, before any stub, asked too
        Crm.Given(Request.Create().WithPath(TokenPath).UsingPost()).RespondWith(Response.Create().WithStatusCode(200).WithHeader("Content-Type", "application/json")
            .WithBody("""{"token_type":"Bearer","expires_in":3599,"access_token":"dyn-pipeline-token"}"""));
        var (a, b, c, d) = (Guid.NewGuid().ToString(), Guid.NewGuid().ToString(), Guid.NewGuid().ToString(), Guid.NewGuid().ToString());
        Crm.Given(Request.Create().WithPath(OpportunitiesPath).UsingGet()).AtPriority(10).RespondWith(Page("p2", null, Row(a, "Ariane Conseil SA"), Row(b, "Belvédère SARL")));
        Crm.Given(Request.Create().WithPath(OpportunitiesPath).UsingGet().WithParam("$skiptoken", "p2")).AtPriority(1)
            .RespondWith(Page(null, "919042", Row(c, "Cévennes Industrie SAS", state: 1)));

        var first = await PullAsync("dynamics");

        first["lastError"].ShouldBeNull();
        first["lastRun"]!.Get<long>("created").ShouldBe(3);
        first.Get<string>("cursor").ShouldContain("$deltatoken=919042");
        var request = Requests(OpportunitiesPath).First();
        Header(request, "Prefer").ShouldContain("odata.track-changes");
        Header(request, "Prefer").ShouldContain("odata.maxpagesize=5000");
        var query = Uri.UnescapeDataString(request.RequestMessage.Url);
        query.ShouldContain("$expand=parentaccountid($select=name,websiteurl,address1_country),transactioncurrencyid($select=isocurrencycode)");
        query.ShouldContain("$filter=statecode ne 2");
        (await ReadJsonAsync(await Admin.GetAsync($"/v1/opportunities/dynamics/{c}"))).Get<string>("status").ShouldBe("won");
        (await ReadJsonAsync(await Admin.GetAsync($"/v1/opportunities/dynamics/{a}"))).Get<string>("country").ShouldBe("FR");

        // The next run reads only what changed since: one deleted, one new.
        Crm.Given(Request.Create().WithPath(OpportunitiesPath).UsingGet().WithParam("$deltatoken", "919042")).AtPriority(1).RespondWith(Page(null, "919107",
            new JsonObject { ["@odata.context"] = $"{Crm.Url}/api/data/v9.2/$metadata#opportunities/$deletedEntity", ["id"] = a, ["reason"] = "deleted" },
            Row(d, "Durance Logistique SA")));

        var second = await PullAsync("dynamics");

        second["lastRun"]!.Get<long>("created").ShouldBe(1);
        second["lastRun"]!.Get<long>("deleted").ShouldBe(1);
        second.Get<string>("cursor").ShouldContain("$deltatoken=919107");
        (await Admin.GetAsync($"/v1/opportunities/dynamics/{a}")).StatusCode.ShouldBe(HttpStatusCode.NotFound);
        // A deleted opportunity no longer blocks; one still there does.
        var partner = await PartnerAsync("gold");
        Status(await RegisterAsync(partner.Client, Body("Ariane Conseil SA", null, country: "FR"))).ShouldBe("approved");
        Status(await RegisterAsync(partner.Client, Body("Durance Logistique SA", null, country: "FR"))).ShouldBe("pending_review");
        (await Admin.GetAsync($"/v1/opportunities/dynamics/{d}")).StatusCode.ShouldBe(HttpStatusCode.OK);
    }
}
