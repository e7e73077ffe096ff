using System.Net;
using System.Text.Json.Nodes;
using WireMock.RequestBuilders;
using WireMock.ResponseBuilders;
using PartnerDeals.IntegrationTests.Support;
using static PartnerDeals.IntegrationTests.Support.RegistrationCalls;

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
            ["hs_is_closed"] = won ? "true" : "false", ["hs_is_closed_won"] = won ? "true" : "false", ["hubspot_owner_id"] = "31337", ["pipeline"] = "default",
        },
        ["archived"] = false,
    };

    private static IResponseBuilder Json(JsonNode body) =>
        Response.Create().WithStatusCode(200).WithHeader("Content-Type", "application/json").WithBody(body.ToJsonString());

    /// <summary>The next run reads from the beginning: the cursor is cleared, and the run that asks for (against no stubs) waited out.</summary>
    private async Task FromTheBeginningAsync()
    {
        Crm.ResetMappings();
        (await Admin.PostAsync("/v1/sync/pipeline/hubspot/resync", null)).StatusCode.ShouldBe(HttpStatusCode.Accepted);
        await PullAsync("hubspot");
        Crm.ResetLogEntries();
    }

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
        await FromTheBeginningAsync();
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
            Checked(request, HubSpotContract.ObjectsBatchRead, body =>
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

    [Test]
    public async Task RenamedCompany_ItsDealsAreReadAgain_ThoughNoDealChanged()
    {
        await FromTheBeginningAsync();
        var tag = Random.Shared.Next(100_000, 999_999).ToString(System.Globalization.CultureInfo.InvariantCulture);
        var (deal, company) = ($"93{tag}", $"83{tag}");
        const long dealStamp = 1_764_700_000_000, companyStamp = dealStamp + 5_000, renamedAt = companyStamp + 3_600_000;
        var name = "Harbour Freight Lines Inc.";
        JsonObject Company(long modified) => new()
        {
            ["id"] = company, ["properties"] = new JsonObject
            {
                ["name"] = name, ["domain"] = "harbour-freight.example", ["country"] = "US",
                ["hs_lastmodifieddate"] = DateTimeOffset.FromUnixTimeMilliseconds(modified).ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'"),
            },
        };
        var searches = 0;
        Crm.Given(Request.Create().WithPath(SearchPath).UsingPost()).RespondWith(Response.Create().WithCallback(request =>
            Checked(request, HubSpotContract.DealSearch, _ => Interlocked.Increment(ref searches) == 1
                ? new JsonObject { ["total"] = 1, ["results"] = new JsonArray(Deal(deal, dealStamp)) }
                : new JsonObject { ["total"] = 0, ["results"] = new JsonArray() })));
        Crm.Given(Request.Create().WithPath("/crm/v4/associations/deals/companies/batch/read").UsingPost()).RespondWith(Response.Create().WithCallback(request =>
            Checked(request, HubSpotContract.AssociationsBatchRead, _ => new JsonObject
            {
                ["status"] = "COMPLETE",
                ["results"] = new JsonArray(new JsonObject { ["from"] = new JsonObject { ["id"] = deal }, ["to"] = new JsonArray(Associated(company, 5)) }),
            })));
        var modified = companyStamp;
        Crm.Given(Request.Create().WithPath("/crm/v3/objects/companies/batch/read").UsingPost()).RespondWith(Response.Create().WithCallback(request =>
            Checked(request, HubSpotContract.ObjectsBatchRead, _ => new JsonObject { ["status"] = "COMPLETE", ["results"] = new JsonArray(Company(modified)) })));
        Crm.Given(Request.Create().WithPath("/crm/v3/objects/deals").UsingGet().WithParam("archived", "true")).RespondWith(Json(new JsonObject { ["results"] = new JsonArray() }));
        (await PullAsync("hubspot"))["lastError"].ShouldBeNull();

        // The company is renamed: its deal's modification time does not move; the company's does.
        (name, modified) = ("Harbour Freight Logistics Inc.", renamedAt);
        Crm.Given(Request.Create().WithPath("/crm/v3/objects/companies/search").UsingPost()).RespondWith(Response.Create().WithCallback(request =>
            Checked(request, HubSpotContract.DealSearch, body => new JsonObject { ["total"] = 1, ["results"] = new JsonArray(Company(modified)) })));
        Crm.Given(Request.Create().WithPath("/crm/v4/associations/companies/deals/batch/read").UsingPost()).RespondWith(Response.Create().WithCallback(request =>
            Checked(request, HubSpotContract.AssociationsBatchRead, _ => new JsonObject
            {
                ["status"] = "COMPLETE",
                ["results"] = new JsonArray(new JsonObject { ["from"] = new JsonObject { ["id"] = company }, ["to"] = new JsonArray(Associated(deal, 6)) }),
            })));
        Crm.Given(Request.Create().WithPath("/crm/v3/objects/deals/batch/read").UsingPost()).RespondWith(Response.Create().WithCallback(request =>
            Checked(request, HubSpotContract.ObjectsBatchRead, _ => new JsonObject
            {
                ["status"] = "COMPLETE", ["results"] = new JsonArray(Deal(deal, dealStamp)),
            })));

        var renamed = await PullAsync("hubspot");

        renamed["lastError"].ShouldBeNull();
        renamed["lastRun"]!.Get<long>("updated").ShouldBe(1);
        (await ReadJsonAsync(await Admin.GetAsync($"/v1/opportunities/hubspot/{deal}"))).Get<string>("accountName").ShouldBe("Harbour Freight Logistics Inc.");
        var companySearch = Requests("/crm/v3/objects/companies/search").Select(BodyOf).ShouldHaveSingleItem();
        companySearch["filterGroups"]![0]!["filters"]![0]!.Get<string>("value").ShouldBe(companyStamp.ToString(System.Globalization.CultureInfo.InvariantCulture),
            "from the latest company change the full read saw");
        Crm.LogEntries.ShouldAllBe(e => StatusOf(e) < 400);
    }

    [Test]
    public async Task MoreDealsAtOneTimeThanASearchReturns_AreTakenById_AndNoneIsLost()
    {
        await FromTheBeginningAsync();
        // 10,050 deals share one modification time; a search returns at most 10,000 results.
        const long tied = 1_764_600_000_000;
        var prefix = Random.Shared.Next(1_000, 9_999);
        var all = Enumerable.Range(0, 10_050).Select(i => long.Parse($"{prefix}{i:D6}", System.Globalization.CultureInfo.InvariantCulture)).ToList();
        Crm.Given(Request.Create().WithPath(SearchPath).UsingPost()).RespondWith(Response.Create().WithCallback(request =>
        {
            var body = JsonNode.Parse(request.Body!)!.AsObject();
            var offset = int.Parse(body.Get<string>("after"), System.Globalization.CultureInfo.InvariantCulture);
            if (offset >= 10_000)
            {
                return Checked(request, HubSpotContract.DealSearch, _ => throw new InvalidOperationException("unreachable")) is { StatusCode: 400 } invalid
                    ? invalid : Refused("Search results are limited to 10,000.");
            }
            return Checked(request, HubSpotContract.DealSearch, _ =>
            {
                var filters = body["filterGroups"]!.AsArray().SelectMany(g => g!["filters"]!.AsArray()).ToList();
                var afterId = filters.FirstOrDefault(f => f!.Get<string>("propertyName") == "hs_object_id")?.Get<string>("value");
                var since = filters.FirstOrDefault(f => f!.Get<string>("propertyName") == "hs_lastmodifieddate")?.Get<string>("value");
                var matching = all.Where(id => (since is null || long.Parse(since, System.Globalization.CultureInfo.InvariantCulture) <= tied)
                    && (afterId is null || id > long.Parse(afterId, System.Globalization.CultureInfo.InvariantCulture))).ToList();
                var page = matching.Skip(offset).Take(100).ToList();
                var answer = new JsonObject { ["total"] = matching.Count, ["results"] = new JsonArray(page.Select(id => (JsonNode)Deal(id.ToString(System.Globalization.CultureInfo.InvariantCulture), tied)).ToArray()) };
                if (offset + 100 < matching.Count)
                {
                    answer["paging"] = new JsonObject { ["next"] = new JsonObject { ["after"] = (offset + 100).ToString(System.Globalization.CultureInfo.InvariantCulture) } };
                }
                return answer;
            });
        }));
        StubPrimaryCompanies("5", id => new JsonObject { ["name"] = $"Tied {id} LLC", ["country"] = "US" });
        Crm.Given(Request.Create().WithPath("/crm/v3/objects/deals").UsingGet().WithParam("archived", "true")).RespondWith(Json(new JsonObject { ["results"] = new JsonArray() }));

        var status = await PullAsync("hubspot", TimeSpan.FromSeconds(120));

        status["lastError"].ShouldBeNull();
        status["lastRun"]!.Get<long>("created").ShouldBe(all.Count);
        Crm.LogEntries.ShouldAllBe(e => StatusOf(e) < 400);
    }

    [Test]
    public async Task PoisonPage_TheRunCompletes_CleanedDealsAreIn_AndBlockTheCleanName()
    {
        await FromTheBeginningAsync();
        var tag = Random.Shared.Next(100_000, 999_999).ToString(System.Globalization.CultureInfo.InvariantCulture);
        var clean = new Dictionary<string, string>();
        var dirty = new Dictionary<string, string>();
        foreach (var (_, soil) in VendorDebris.Names)
        {
            var (name, _) = NewCompany();
            var id = $"94{tag}{clean.Count:D2}";
            (clean[id], dirty[id]) = (name, soil(name));
        }
        var deals = clean.Keys.Select((id, i) =>
        {
            var deal = Deal(id, 1_764_800_000_000 + i);
            deal["properties"]!["dealstage"] = new string('s', 60) + " " + new string('t', 59);
            deal["properties"]!["hubspot_owner_id"] = "31337\t";
            return (JsonNode)deal;
        }).ToArray();
        Crm.Given(Request.Create().WithPath(SearchPath).UsingPost()).RespondWith(Response.Create().WithCallback(request =>
            Checked(request, HubSpotContract.DealSearch, _ => new JsonObject { ["total"] = deals.Length, ["results"] = new JsonArray([.. deals.Select(d => d!.DeepClone())]) })));
        StubPrimaryCompanies("8", id => new JsonObject { ["name"] = dirty[id[1..]], ["domain"] = "n/a", ["country"] = "United States" });
        Crm.Given(Request.Create().WithPath("/crm/v3/objects/deals").UsingGet().WithParam("archived", "true")).RespondWith(Json(new JsonObject { ["results"] = new JsonArray() }));

        var status = await PullAsync("hubspot");

        status["lastError"].ShouldBeNull();
        status["lastRun"]!.Get<long>("created").ShouldBe(clean.Count);
        status["lastRun"]!.Get<long>("cleaned").ShouldBe(clean.Count);
        var partner = await PartnerAsync("gold");
        foreach (var (id, name) in clean)
        {
            var stored = await ReadJsonAsync(await Admin.GetAsync($"/v1/opportunities/hubspot/{id}"));
            stored.Get<string>("accountName").ShouldBe(name);
            stored["accountDomain"].ShouldBeNull();
            stored.Get<string>("country").ShouldBe("US");
            stored.Get<string>("owner").ShouldBe("31337");
            stored.Get<string>("stage").ShouldBe(new string('s', 60));
            Status(await RegisterAsync(partner.Client, Body(name, null, country: "US"))).ShouldNotBe("approved", name);
        }
    }

    private static WireMock.ResponseMessage Refused(string message) => new()
    {
        StatusCode = 400,
        Headers = new Dictionary<string, WireMock.Types.WireMockList<string>> { ["Content-Type"] = new("application/json") },
        BodyData = new WireMock.Util.BodyData { DetectedBodyType = WireMock.Types.BodyType.String, BodyAsString = HubSpotContract.Invalid([message]) },
    };

    /// <summary>Each deal's primary company is <paramref name="prefix"/> + the deal's id, with the properties <paramref name="properties"/> gives.</summary>
    private void StubPrimaryCompanies(string prefix, Func<string, JsonObject> properties)
    {
        Crm.Given(Request.Create().WithPath("/crm/v4/associations/deals/companies/batch/read").UsingPost()).RespondWith(Response.Create().WithCallback(request =>
            Checked(request, HubSpotContract.AssociationsBatchRead, body => new JsonObject
            {
                ["status"] = "COMPLETE",
                ["results"] = new JsonArray(body["inputs"]!.AsArray().Select(i => (JsonNode)new JsonObject
                {
                    ["from"] = new JsonObject { ["id"] = i!.Get<string>("id") }, ["to"] = new JsonArray(Associated(prefix + i.Get<string>("id"), 5)),
                }).ToArray()),
            })));
        Crm.Given(Request.Create().WithPath("/crm/v3/objects/companies/batch/read").UsingPost()).RespondWith(Response.Create().WithCallback(request =>
            Checked(request, HubSpotContract.ObjectsBatchRead, body => new JsonObject
            {
                ["status"] = "COMPLETE",
                ["results"] = new JsonArray(body["inputs"]!.AsArray().Select(i => (JsonNode)new JsonObject
                {
                    ["id"] = i!.Get<string>("id"), ["properties"] = properties(i.Get<string>("id")),
                }).ToArray()),
            })));
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
        BodyData = new WireMock.Util.BodyData { DetectedBodyType = WireMock.Types.BodyType.String, BodyAsString = VendorDebris.Json(body) },
    };
}
