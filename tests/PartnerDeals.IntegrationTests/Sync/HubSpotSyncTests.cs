using System.Globalization;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Microsoft.Extensions.DependencyInjection;
using PartnerDeals.Api.Features.Outbox;
using PartnerDeals.Api.Features.Sync;
using PartnerDeals.IntegrationTests.Support;
using WireMock.RequestBuilders;
using WireMock.ResponseBuilders;
using static PartnerDeals.IntegrationTests.Support.RegistrationCalls;

namespace PartnerDeals.IntegrationTests.Sync;

/// <summary>The HubSpot adapter through the real dispatcher, against stubs that answer as HubSpot CRM v3 does.</summary>
public sealed class HubSpotSyncTests : SyncTest
{
    private const string BatchPath = "/crm/v3/objects/deals/batch/upsert";
    private const string AccessToken = "pat-na1-0b1c2d3e-secret";

    protected override IDictionary<string, string?> CrmSettings => new Dictionary<string, string?>
    {
        ["Crm:HubSpot:BaseUrl"] = Crm.Url,
        ["Crm:HubSpot:AccessToken"] = AccessToken,
        ["Crm:HubSpot:RollingWindowWait"] = "00:00:00.300",
    };

    [SetUp]
    public void ResetCrm()
    {
        Crm.ResetMappings();
        Crm.ResetLogEntries();
    }

    [Test]
    public async Task Registered_SendsOneBatchUpsert_ByTheIdProperty()
    {
        var registered = new List<JsonObject>();
        for (var i = 0; i < 3; i++) registered.Add((await RegisterNewAsync()).Registration);
        Crm.Given(Request.Create().WithPath(BatchPath).UsingPost()).RespondWith(Complete());

        (await DispatchAsync()).ShouldBe(3);

        var request = Requests(BatchPath).Single();
        Header(request, "Authorization").ShouldBe($"Bearer {AccessToken}");
        var inputs = BodyOf(request)["inputs"]!.AsArray();
        inputs.Select(i => i!.Get<string>("id")).Order().ShouldBe(registered.Select(Id).Order());
        var input = inputs[0]!;
        input.Get<string>("idProperty").ShouldBe("partnerdeals_registration_id");
        var properties = input["properties"]!.AsObject();
        properties.Get<string>("dealname").ShouldBe("Rollout");
        properties.Get<string>("amount").ShouldBe("50000", "HubSpot property values are strings");
        properties.Get<string>("deal_currency_code").ShouldBe("EUR");
        properties.Get<string>("closedate").ShouldBe("2027-03-31T00:00:00.000Z", "HubSpot's date properties are instants");
        properties.Get<string>("dealstage").ShouldBe("qualifiedtobuy");
        properties.Get<string>("partnerdeals_status").ShouldBe("approved");
        foreach (var registration in registered)
        {
            (await DeliveriesAsync(Admin, Id(registration))).Single().Get<string>("status").ShouldBe("delivered");
        }
    }

    [Test]
    public async Task MultiStatus_DeliversTheWrittenInputs_AndRefusesTheInvalidOne()
    {
        var good = Id((await RegisterNewAsync()).Registration);
        var bad = Id((await RegisterNewAsync()).Registration);
        Crm.Given(Request.Create().WithPath(BatchPath).UsingPost()).RespondWith(Response.Create().WithStatusCode(207)
            .WithHeader("Content-Type", "application/json")
            .WithBody(new JsonObject
            {
                ["status"] = "COMPLETE",
                ["results"] = new JsonArray(new JsonObject
                {
                    ["id"] = "18734562001",
                    ["new"] = true,
                    ["properties"] = new JsonObject { ["partnerdeals_registration_id"] = good, ["dealname"] = "Rollout" },
                }),
                ["numErrors"] = 1,
                ["errors"] = new JsonArray(new JsonObject
                {
                    ["status"] = "error",
                    ["category"] = "VALIDATION_ERROR",
                    ["message"] = "Property values were not valid: dealstage 'qualifiedtobuy' is not in pipeline 'default'",
                    ["context"] = new JsonObject { ["id"] = new JsonArray(bad) },
                }),
                ["startedAt"] = "2026-11-23T10:00:00Z",
                ["completedAt"] = "2026-11-23T10:00:01Z",
            }.ToJsonString()));

        (await DispatchAsync()).ShouldBe(2);

        (await DeliveriesAsync(Admin, good)).Single().Get<string>("status").ShouldBe("delivered");
        var refused = (await DeliveriesAsync(Admin, bad)).Single();
        refused.Get<string>("status").ShouldBe("dead");
        refused.Get<int>("lastStatusCode").ShouldBe(207);
        refused.Get<string>("lastError").ShouldStartWith("VALIDATION_ERROR: Property values were not valid");
    }

    [TestCase("PENDING")]
    [TestCase("PROCESSING")]
    [TestCase("CANCELED")]
    public async Task BatchAnsweredNotComplete_IsNotDelivered_AndIsSentAgain(string status)
    {
        var id = Id((await RegisterNewAsync()).Registration);
        Crm.Given(Request.Create().WithPath(BatchPath).UsingPost()).RespondWith(Response.Create().WithStatusCode(200)
            .WithHeader("Content-Type", "application/json")
            .WithBody($$"""{"status":"{{status}}","results":[],"startedAt":"2026-11-23T10:00:00Z"}"""));

        (await DispatchAsync()).ShouldBe(1);
        var waiting = (await DeliveriesAsync(Admin, id)).Single();
        waiting.Get<string>("status").ShouldBe("pending");
        waiting.Get<string>("lastError").ShouldContain(status);

        Crm.ResetMappings();
        Crm.Given(Request.Create().WithPath(BatchPath).UsingPost()).RespondWith(Complete());
        var settled = await DispatchUntilSettledAsync(id);
        settled.Single().Get<string>("status").ShouldBe("delivered");
        Requests(BatchPath).Count.ShouldBe(2);
    }

    [Test]
    public async Task MultiStatus_MatchesResultsByTraceId_AndAnInputInNeitherIsTriedAgainNotRefused()
    {
        var written = Id((await RegisterNewAsync()).Registration);
        var refusedId = Id((await RegisterNewAsync()).Registration);
        var unanswered = Id((await RegisterNewAsync()).Registration);
        // The answer is built from the request: a result for the first input by its trace id only (no id property among
        // its properties), an error naming the second, nothing about the third.
        Crm.Given(Request.Create().WithPath(BatchPath).UsingPost()).RespondWith(Response.Create().WithCallback(request =>
        {
            var inputs = JsonNode.Parse(request.Body!)!["inputs"]!.AsArray();
            JsonNode Input(string id) => inputs.Single(i => i!.Get<string>("id") == id)!;
            return new WireMock.ResponseMessage
            {
                StatusCode = 207,
                Headers = new Dictionary<string, WireMock.Types.WireMockList<string>> { ["Content-Type"] = new("application/json") },
                BodyData = new WireMock.Util.BodyData
                {
                    DetectedBodyType = WireMock.Types.BodyType.String,
                    BodyAsString = new JsonObject
                    {
                        ["status"] = "COMPLETE",
                        ["results"] = new JsonArray(new JsonObject
                        {
                            ["id"] = "18734562001",
                            ["new"] = false,
                            ["objectWriteTraceId"] = Input(written).Get<string>("objectWriteTraceId"),
                            ["properties"] = new JsonObject { ["dealname"] = "Rollout" },
                        }),
                        ["numErrors"] = 1,
                        ["errors"] = new JsonArray(new JsonObject
                        {
                            ["status"] = "error",
                            ["category"] = "VALIDATION_ERROR",
                            ["message"] = "Property values were not valid",
                            ["context"] = new JsonObject { ["id"] = new JsonArray(refusedId) },
                        }),
                    }.ToJsonString(),
                },
            };
        }));

        (await DispatchAsync()).ShouldBe(3);

        (await DeliveriesAsync(Admin, written)).Single().Get<string>("status").ShouldBe("delivered");
        (await DeliveriesAsync(Admin, refusedId)).Single().Get<string>("status").ShouldBe("dead");
        var retried = (await DeliveriesAsync(Admin, unanswered)).Single();
        retried.Get<string>("status").ShouldBe("pending", "another input's error is not this one's refusal");
        retried.Get<string>("lastError").ShouldContain("neither written nor refused");

        // Answered as it should be the next time: delivered, and nothing left for the fixture's next test.
        Crm.ResetMappings();
        Crm.Given(Request.Create().WithPath(BatchPath).UsingPost()).RespondWith(Complete());
        (await DispatchUntilSettledAsync(unanswered)).Single().Get<string>("status").ShouldBe("delivered");
    }

    [Test]
    public async Task TenSecondlyLimit_WaitsForTheWindow_WithoutSpendingAnAttempt()
    {
        var id = Id((await RegisterNewAsync()).Registration);
        Crm.Given(Request.Create().WithPath(BatchPath).UsingPost()).InScenario("rolling").WillSetStateTo("open")
            .RespondWith(RateLimited("TEN_SECONDLY_ROLLING", "You have reached your ten_secondly_rolling limit."));
        Crm.Given(Request.Create().WithPath(BatchPath).UsingPost()).InScenario("rolling").WhenStateIs("open").RespondWith(Complete());

        var delivery = (await DispatchUntilSettledAsync(id)).Single();

        delivery.Get<string>("status").ShouldBe("delivered");
        Outcomes(delivery).ShouldBe("rate_limited,delivered");
        delivery.Get<int>("attempts").ShouldBe(1, "the rate limit did not count");
        Gap(delivery, 0, 1).ShouldBeGreaterThanOrEqualTo(TimeSpan.FromMilliseconds(300), "the rolling window was waited out");
        Requests(BatchPath).Count.ShouldBe(2, "no call while the window rolls");
    }

    [Test]
    public async Task DailyLimit_WaitsForTheAccountsNextMidnight()
    {
        // Its own instance: the daily limit stops this dispatcher until midnight.
        using var host = new ApiFactory(Settings);
        try
        {
            using var admin = host.Client(ApiFactory.AdminKey);
            var partner = (await (await admin.PostAsJsonAsync("/v1/partners",
                new { name = Unique("Partner"), type = "reseller", tier = "silver", contactEmail = "a@partner.example" })).Content.ReadFromJsonAsync<JsonObject>())!;
            var (company, domain) = NewCompany();
            var id = Id((await RegisterAsync(admin, Body(company, domain, partnerId: Id(partner))))!);
            Crm.Given(Request.Create().WithPath(BatchPath).UsingPost()).RespondWith(RateLimited("DAILY", "You have reached your daily limit."));
            var dispatcher = host.Services.GetRequiredService<OutboxDispatcher>();

            await dispatcher.DispatchOnceAsync(CrmSender.ChannelName, CancellationToken.None);
            await dispatcher.DispatchOnceAsync(CrmSender.ChannelName, CancellationToken.None);

            var delivery = (await DeliveriesAsync(admin, id)).Single();
            delivery.Get<string>("status").ShouldBe("pending");
            delivery.Get<int>("attempts").ShouldBe(0, "a daily limit burns no attempts");
            Outcomes(delivery).ShouldBe("rate_limited");
            var next = DateTimeOffset.Parse(delivery.Get<string>("nextAttemptAt"), CultureInfo.InvariantCulture);
            next.ShouldBe(new DateTimeOffset(DateTime.UtcNow.Date.AddDays(1), TimeSpan.Zero), TimeSpan.FromSeconds(1), "the next UTC midnight");
            Requests(BatchPath).Count.ShouldBe(1, "the second round made no call");
        }
        finally
        {
            host.Dispose();
            host.DeleteDatabase();
        }
    }

    [Test]
    public async Task ScriptedOutage_503Then429ThenTimeout_EndsInExactlyOneUpsert()
    {
        var id = Id((await RegisterNewAsync()).Registration);
        Crm.Given(Request.Create().WithPath(BatchPath).UsingPost()).InScenario("outage").WillSetStateTo("limit")
            .RespondWith(Response.Create().WithStatusCode(503).WithBody("upstream connect error"));
        Crm.Given(Request.Create().WithPath(BatchPath).UsingPost()).InScenario("outage").WhenStateIs("limit").WillSetStateTo("slow")
            .RespondWith(RateLimited("TEN_SECONDLY_ROLLING", "You have reached your ten_secondly_rolling limit."));
        Crm.Given(Request.Create().WithPath(BatchPath).UsingPost()).InScenario("outage").WhenStateIs("slow").WillSetStateTo("up")
            .RespondWith(Response.Create().WithStatusCode(504).WithDelay(TimeSpan.FromSeconds(3)));
        Crm.Given(Request.Create().WithPath(BatchPath).UsingPost()).InScenario("outage").WhenStateIs("up").RespondWith(Complete());

        var delivery = (await DispatchUntilSettledAsync(id)).Single();

        delivery.Get<string>("status").ShouldBe("delivered");
        Outcomes(delivery).ShouldStartWith("rate_limited,");
        Outcomes(delivery).ShouldEndWith(",delivered");
        Requests(BatchPath).Count(e => StatusOf(e) is >= 200 and < 300).ShouldBe(1, "exactly one upsert succeeded");
    }

    private static TimeSpan Gap(JsonObject delivery, int from, int to) =>
        DateTimeOffset.Parse(delivery["attemptLog"]![to]!.Get<string>("startedAt"), CultureInfo.InvariantCulture)
        - DateTimeOffset.Parse(delivery["attemptLog"]![from]!.Get<string>("startedAt"), CultureInfo.InvariantCulture);

    private static IResponseBuilder Complete() => Response.Create().WithStatusCode(200).WithHeader("Content-Type", "application/json")
        .WithBody("""{"status":"COMPLETE","results":[],"startedAt":"2026-11-23T10:00:00Z","completedAt":"2026-11-23T10:00:01Z"}""");

    private static IResponseBuilder RateLimited(string policy, string message) => Response.Create().WithStatusCode(429)
        .WithHeader("Content-Type", "application/json")
        .WithBody(new JsonObject
        {
            ["status"] = "error",
            ["message"] = message,
            ["errorType"] = "RATE_LIMIT",
            ["correlationId"] = "9c5a2f0e-1d2b-4c3d-8e9f-0a1b2c3d4e5f",
            ["policyName"] = policy,
            ["groupName"] = "publicapi:private-app:1234567",
        }.ToJsonString());
}
