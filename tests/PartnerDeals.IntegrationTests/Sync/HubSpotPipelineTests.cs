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
        ["Crm:HubSpot:SearchesPerSecond"] = "1000",
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

    /// <summary>Answers as HubSpot does: a request its published shape refuses gets its 400, any other the stub's answer.</summary>
    private static WireMock.ResponseMessage Checked(WireMock.IRequestMessage request, Json.Schema.JsonSchema schema, Func<JsonObject, JsonObject> answer)
    {
        var violations = HubSpotContract.Violations(schema, request.Body!);
        if (violations.Count > 0)
        {
            return new WireMock.ResponseMessage
            {
                StatusCode = 400,
                Headers = new Dictionary<string, WireMock.Types.WireMockList<string>> { ["Content-Type"] = new("application/json") },
                BodyData = new WireMock.Util.BodyData { DetectedBodyType = WireMock.Types.BodyType.String, BodyAsString = HubSpotContract.Invalid(violations) },
            };
        }
        return Reply(answer(JsonNode.Parse(request.Body!)!.AsObject()));
    }

    [Test]
    public async Task Pull_AsThePublishedContractSays_PagesByTheOpaqueCursor_TakesThePrimaryCompany_RereadsIncompleteBatches_DeletesArchived()
    {
        Crm.ResetMappings();
        Crm.ResetLogEntries(); // the host's first run, before any stub, asked too
        var tag = Random.Shared.Next(100_000, 999_999).ToString(System.Globalization.CultureInfo.InvariantCulture);
        var (one, two, three, four) = ($"91{tag}1", $"91{tag}2", $"91{tag}3", $"91{tag}4");
        const long t1 = 1_764_500_000_000, t2 = t1 + 60_000, t3 = t2 + 60_000;
        // One search, two pages: the second asked with the opaque token the first answered.
        Crm.Given(Request.Create().WithPath(SearchPath).UsingPost()).RespondWith(Response.Create().WithCallback(request =>
            Checked(request, HubSpotContract.DealSearch, body => body.Get<string>("after") == "NTA4MzY0"
                ? new JsonObject { ["total"] = 4, ["results"] = new JsonArray(Deal(three, t2, won: true), Deal(four, t3)) }
                : new JsonObject
                {
                    ["total"] = 4, ["results"] = new JsonArray(Deal(one, t1), Deal(two, t2)),
                    ["paging"] = new JsonObject { ["next"] = new JsonObject { ["after"] = "NTA4MzY0", ["link"] = "?after=NTA4MzY0" } },
                })));
        // Deal one has a reseller first and its primary company second; four has no company.
        Crm.Given(Request.Create().WithPath("/crm/v4/associations/deals/companies/batch/read").UsingPost()).RespondWith(Response.Create().WithCallback(request =>
            Checked(request, HubSpotContract.AssociationsBatchRead, body => new JsonObject
            {
                ["status"] = "COMPLETE", ["startedAt"] = "2026-12-05T10:00:00Z", ["completedAt"] = "2026-12-05T10:00:01Z",
                ["results"] = new JsonArray(body["inputs"]!.AsArray().Select(i => i!.Get<string>("id")).Where(id => id != four).Select(id => (JsonNode)new JsonObject
                {
                    ["from"] = new JsonObject { ["id"] = id },
                    ["to"] = id == one
                        ? new JsonArray(Associated("8" + id[2..], 341), Associated("7" + id[2..], 5))
                        : new JsonArray(Associated("7" + id[2..], 341)),
                }).ToArray()),
            })));
        // The first companies read is not complete: one company comes back later.
        var companyReads = 0;
        Crm.Given(Request.Create().WithPath("/crm/v3/objects/companies/batch/read").UsingPost()).RespondWith(Response.Create().WithCallback(request =>
            Checked(request, HubSpotContract.CompaniesBatchRead, body =>
            {
                var ids = body["inputs"]!.AsArray().Select(i => i!.Get<string>("id")).ToList();
                var first = Interlocked.Increment(ref companyReads) == 1;
                return new JsonObject
                {
                    ["status"] = first ? "PROCESSING" : "COMPLETE", ["startedAt"] = "2026-12-05T10:00:00Z", ["completedAt"] = "2026-12-05T10:00:01Z",
                    ["results"] = new JsonArray(ids.Skip(first ? 1 : 0).Select(id => (JsonNode)new JsonObject
                    {
                        ["id"] = id, ["properties"] = new JsonObject { ["name"] = $"Hub Company {id} Inc.", ["domain"] = $"hub{id}.example", ["country"] = "US" },
                    }).ToArray()),
                };
            })));
        Crm.Given(Request.Create().WithPath("/crm/v3/objects/deals").UsingGet().WithParam("archived", "true"))
            .RespondWith(Json(new JsonObject { ["results"] = new JsonArray(new JsonObject { ["id"] = two, ["archived"] = true }) }));

        var status = await PullAsync("hubspot");

        status["lastError"].ShouldBeNull();
        status["lastRun"]!.Get<long>("created").ShouldBe(3);
        status["lastRun"]!.Get<long>("deleted").ShouldBe(1);
        status["rejections"]!.AsArray().ShouldContain(r => r!.Get<string>("externalId") == four);
        var first = await ReadJsonAsync(await Admin.GetAsync($"/v1/opportunities/hubspot/{one}"));
        first.Get<string>("accountName").ShouldBe($"Hub Company 7{one[2..]} Inc.", "the primary company, not the first associated");
        first.Get<string>("companyDomain").ShouldBe($"hub7{one[2..]}.example");
        first.Get<string>("currency").ShouldBe("USD");
        first.Get<string>("closeDate").ShouldBe("2027-02-28");
        (await ReadJsonAsync(await Admin.GetAsync($"/v1/opportunities/hubspot/{three}"))).Get<string>("status").ShouldBe("won");
        (await Admin.GetAsync($"/v1/opportunities/hubspot/{two}")).StatusCode.ShouldBe(HttpStatusCode.NotFound, "archived in HubSpot");

        Crm.LogEntries.ShouldAllBe(e => StatusOf(e) < 400, "every request valid against HubSpot's published shapes");
        var searches = Requests(SearchPath).Select(BodyOf).ToList();
        searches.Count.ShouldBe(2);
        searches[0].Get<string>("after").ShouldBe("0");
        searches[0]["sorts"]!.AsArray().Select(v => v!.GetValue<string>()).ShouldBe(["hs_lastmodifieddate"]);
        searches[0]["filterGroups"]![0]!["filters"]!.AsArray().Single()!["values"]!.AsArray().Select(v => v!.GetValue<string>()).ShouldBe(["default", "75e28846"]);
        searches[1].Get<string>("after").ShouldBe("NTA4MzY0", "only ever the previous answer's paging.next.after");
        searches[1]["filterGroups"]!.ToJsonString().ShouldBe(searches[0]["filterGroups"]!.ToJsonString(), "the same search, its next page");
        Requests("/crm/v3/objects/companies/batch/read").Count.ShouldBe(3, "two pages, the first read again for what it lacked");
    }

    private static JsonObject Associated(string companyId, int typeId) => new()
    {
        ["toObjectId"] = companyId,
        ["associationTypes"] = new JsonArray(new JsonObject { ["category"] = "HUBSPOT_DEFINED", ["typeId"] = typeId, ["label"] = typeId == 5 ? "Primary" : null }),
    };

    private static WireMock.ResponseMessage Reply(JsonObject body) => new()
    {
        StatusCode = 200,
        Headers = new Dictionary<string, WireMock.Types.WireMockList<string>> { ["Content-Type"] = new("application/json") },
        BodyData = new WireMock.Util.BodyData { DetectedBodyType = WireMock.Types.BodyType.String, BodyAsString = body.ToJsonString() },
    };
}
