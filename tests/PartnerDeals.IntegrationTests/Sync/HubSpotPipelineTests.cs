using System.Net;
using System.Text.Json.Nodes;
using WireMock.RequestBuilders;
using WireMock.ResponseBuilders;
using PartnerDeals.IntegrationTests.Support;

namespace PartnerDeals.IntegrationTests.Sync;

/// <summary>Pulling HubSpot's pipeline against stubs that answer as its CRM search, v4 associations, batch read and archived list do.</summary>
public sealed class HubSpotPipelineTests : SyncTest
{
    private const string SearchPath = "/crm/v3/objects/deals/search";

    protected override IDictionary<string, string?> CrmSettings => new Dictionary<string, string?>
    {
        ["Crm:HubSpot:BaseUrl"] = Crm.Url,
        ["Crm:HubSpot:AccessToken"] = "pat-na1-pipeline",
        ["Crm:HubSpot:Pipeline:Enabled"] = "true",
        ["Crm:HubSpot:Pipeline:Interval"] = "01:00:00",
        ["Crm:HubSpot:Pipeline:Filter"] = "default, 75e28846",
    };

    [OneTimeSetUp]
    public Task WaitForTheFirstRun() => WaitForFirstPullAsync("hubspot");

    private static JsonObject Deal(string id, long modified, bool won = false) => new()
    {
        ["id"] = id,
        ["properties"] = new JsonObject
        {
            ["dealname"] = "Platform", ["dealstage"] = won ? "closedwon" : "appointmentscheduled", ["amount"] = "48000",
            ["deal_currency_code"] = "USD", ["closedate"] = "2027-02-28T00:00:00Z", ["createdate"] = "2026-09-01T10:00:00Z",
            ["hs_lastmodifieddate"] = DateTimeOffset.FromUnixTimeMilliseconds(modified).ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'"),
            ["hs_is_closed"] = won ? "true" : "false", ["hs_is_closed_won"] = won ? "true" : "false", ["hubspot_owner_id"] = "31337",
        },
        ["archived"] = false,
    };

    private static IResponseBuilder Json(JsonNode body) =>
        Response.Create().WithStatusCode(200).WithHeader("Content-Type", "application/json").WithBody(body.ToJsonString());

    [Test]
    public async Task Pull_SearchesByLastModified_ReadsCompanies_SkipsWhatWasTaken_AndDeletesArchivedDeals()
    {
        Crm.ResetLogEntries(); // the host's first run, before any stub, asked too
        var tag = Random.Shared.Next(100_000, 999_999).ToString(System.Globalization.CultureInfo.InvariantCulture);
        var (one, three) = ($"91{tag}1", $"91{tag}3");
        var (two, four) = ($"91{tag}2", $"91{tag}4");
        const long t1 = 1_764_500_000_000, t2 = t1 + 60_000, t3 = t2 + 60_000;
        // The first search: two deals and a next page. Searched again from t2, past the one deal taken at t2: the one
        // left at t2 (a tie across the boundary) and one without a company.
        Crm.Given(Request.Create().WithPath(SearchPath).UsingPost()).AtPriority(10)
            .RespondWith(Json(new JsonObject { ["total"] = 4, ["results"] = new JsonArray(Deal(one, t1), Deal(two, t2)), ["paging"] = new JsonObject { ["next"] = new JsonObject { ["after"] = "2" } } }));
        Crm.Given(Request.Create().WithPath(SearchPath).UsingPost().WithBody(b => b is not null && b.Contains($"\"value\":\"{t2}\"", StringComparison.Ordinal))).AtPriority(1)
            .RespondWith(Json(new JsonObject { ["total"] = 3, ["results"] = new JsonArray(Deal(two, t2), Deal(three, t2, won: true), Deal(four, t3)) }));
        Crm.Given(Request.Create().WithPath("/crm/v4/associations/deals/companies/batch/read").UsingPost()).RespondWith(Response.Create().WithCallback(request =>
        {
            var ids = JsonNode.Parse(request.Body!)!["inputs"]!.AsArray().Select(i => i!.Get<string>("id")).Where(id => id != four);
            return Reply(new JsonObject
            {
                ["status"] = "COMPLETE",
                ["results"] = new JsonArray(ids.Select(id => (JsonNode)new JsonObject
                {
                    ["from"] = new JsonObject { ["id"] = id },
                    ["to"] = new JsonArray(new JsonObject { ["toObjectId"] = long.Parse("7" + id[2..], System.Globalization.CultureInfo.InvariantCulture), ["associationTypes"] = new JsonArray() }),
                }).ToArray()),
            });
        }));
        Crm.Given(Request.Create().WithPath("/crm/v3/objects/companies/batch/read").UsingPost()).RespondWith(Response.Create().WithCallback(request =>
            Reply(new JsonObject
            {
                ["status"] = "COMPLETE",
                ["results"] = new JsonArray(JsonNode.Parse(request.Body!)!["inputs"]!.AsArray().Select(i => (JsonNode)new JsonObject
                {
                    ["id"] = i!.Get<string>("id"),
                    ["properties"] = new JsonObject { ["name"] = $"Hub Company {i["id"]} Inc.", ["domain"] = $"hub{i["id"]}.example", ["country"] = "US" },
                }).ToArray()),
            })));
        Crm.Given(Request.Create().WithPath("/crm/v3/objects/deals").UsingGet().WithParam("archived", "true"))
            .RespondWith(Json(new JsonObject { ["results"] = new JsonArray(new JsonObject { ["id"] = two, ["archived"] = true }) }));

        var status = await PullAsync("hubspot");

        status["lastError"].ShouldBeNull();
        status["lastRun"]!.Get<long>("created").ShouldBe(3, "one, two and three; two once, though it came twice");
        status["lastRun"]!.Get<long>("deleted").ShouldBe(1);
        status["rejections"]!.AsArray().ShouldContain(r => r!.Get<string>("externalId") == four);
        var first = await ReadJsonAsync(await Admin.GetAsync($"/v1/opportunities/hubspot/{one}"));
        first.Get<string>("accountName").ShouldBe($"Hub Company 7{one[2..]} Inc.");
        first.Get<string>("companyDomain").ShouldBe($"hub7{one[2..]}.example");
        first.Get<string>("currency").ShouldBe("USD");
        first.Get<string>("closeDate").ShouldBe("2027-02-28");
        (await ReadJsonAsync(await Admin.GetAsync($"/v1/opportunities/hubspot/{three}"))).Get<string>("status").ShouldBe("won");
        (await Admin.GetAsync($"/v1/opportunities/hubspot/{two}")).StatusCode.ShouldBe(HttpStatusCode.NotFound, "archived in HubSpot");

        var searches = Requests(SearchPath).Select(BodyOf).ToList();
        searches.Count.ShouldBe(2);
        searches[0]["filterGroups"]![0]!["filters"]!.AsArray().Single()!["values"]!.AsArray().Select(v => v!.GetValue<string>()).ShouldBe(["default", "75e28846"]);
        searches[0]["sorts"]![0]!.Get<string>("propertyName").ShouldBe("hs_lastmodifieddate");
        searches[1]["filterGroups"]![0]!["filters"]![0]!.Get<string>("value").ShouldBe(t2.ToString(System.Globalization.CultureInfo.InvariantCulture));
        searches[1].Get<string>("after").ShouldBe("1", "past the one deal already taken at that time");
    }

    private static WireMock.ResponseMessage Reply(JsonObject body) => new()
    {
        StatusCode = 200,
        Headers = new Dictionary<string, WireMock.Types.WireMockList<string>> { ["Content-Type"] = new("application/json") },
        BodyData = new WireMock.Util.BodyData { DetectedBodyType = WireMock.Types.BodyType.String, BodyAsString = body.ToJsonString() },
    };
}
