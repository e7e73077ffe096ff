using System.Text.Json.Nodes;
using WireMock.RequestBuilders;
using WireMock.ResponseBuilders;
using PartnerDeals.IntegrationTests.Support;
using static PartnerDeals.IntegrationTests.Support.RegistrationCalls;

namespace PartnerDeals.IntegrationTests.Sync;

/// <summary>The Salesforce adapter through the real dispatcher, against stubs that answer as Salesforce REST does.</summary>
public sealed class SalesforceSyncTests : SyncTest
{
    private const string TokenPath = "/services/oauth2/token";
    private const string UpsertPath = "/services/data/v62.0/sobjects/Opportunity/PartnerDeals_Registration_Id__c/";
    private const string Secret = "sf-client-secret-7f3a";

    protected override IDictionary<string, string?> CrmSettings => new Dictionary<string, string?>
    {
        ["Crm:Salesforce:InstanceUrl"] = Crm.Url,
        ["Crm:Salesforce:TokenUrl"] = Crm.Url + TokenPath,
        ["Crm:Salesforce:ClientId"] = "partnerdeals-connected-app",
        ["Crm:Salesforce:ClientSecret"] = Secret,
        ["Crm:Salesforce:RequestLimitWait"] = "00:00:00.300",
    };

    [SetUp]
    public void StubToken()
    {
        if (Crm.Mappings.Any(m => m.Title == "token")) return;
        Crm.Given(Request.Create().WithPath(TokenPath).UsingPost()).WithTitle("token")
            .RespondWith(Token("sf-token-1"));
    }

    [Test]
    public async Task SeveralWaitingChanges_GoAsOneSObjectCollectionsUpsert_EachRecordsResultItsOwn()
    {
        const string collectionPath = "/services/data/v62.0/composite/sobjects/Opportunity/PartnerDeals_Registration_Id__c";
        var ids = new List<string>();
        for (var i = 0; i < 3; i++) ids.Add(Id((await RegisterNewAsync()).Registration));
        var refused = ids[1];
        // Salesforce answers 200 with one result per record, in order; a record's own error leaves the others written.
        Crm.Given(Request.Create().WithPath(collectionPath).UsingPatch().WithBody(new WireMock.Matchers.WildcardMatcher($"*{refused}*")))
            .RespondWith(Response.Create().WithCallback(request =>
        {
            var records = JsonNode.Parse(request.Body!)!["records"]!.AsArray();
            var results = new JsonArray(records.Select(r => (JsonNode)(r!.Get<string>("PartnerDeals_Registration_Id__c") == refused
                ? new JsonObject { ["success"] = false, ["errors"] = new JsonArray(new JsonObject
                    { ["statusCode"] = "FIELD_CUSTOM_VALIDATION_EXCEPTION", ["message"] = "Close date must be in the future", ["fields"] = new JsonArray() }) }
                : new JsonObject { ["id"] = "0065g00000AbCdEAAV", ["success"] = true, ["errors"] = new JsonArray(), ["created"] = true })).ToArray());
            return new WireMock.ResponseMessage
            {
                StatusCode = 200,
                Headers = new Dictionary<string, WireMock.Types.WireMockList<string>> { ["Content-Type"] = new("application/json") },
                BodyData = new WireMock.Util.BodyData { DetectedBodyType = WireMock.Types.BodyType.String, BodyAsString = results.ToJsonString() },
            };
        }));

        foreach (var id in ids) await DispatchUntilSettledAsync(id);

        var call = Requests(collectionPath).Where(r => r.RequestMessage.Body!.Contains(refused, StringComparison.Ordinal)).ShouldHaveSingleItem();
        var body = BodyOf(call);
        body.Get<bool>("allOrNone").ShouldBeFalse();
        var sent = body["records"]!.AsArray();
        sent.Select(r => r!.Get<string>("PartnerDeals_Registration_Id__c")).ShouldBe(ids, ignoreOrder: true);
        sent.ShouldAllBe(r => r!["attributes"]!.Get<string>("type") == "Opportunity" && r.Get<string>("Name") == "Rollout");
        foreach (var id in ids)
        {
            var delivery = (await DeliveriesAsync(Admin, id)).Single();
            delivery.Get<string>("status").ShouldBe(id == refused ? "dead" : "delivered");
            if (id == refused) delivery.Get<string>("lastError").ShouldContain("FIELD_CUSTOM_VALIDATION_EXCEPTION");
        }
        ids.ShouldAllBe(id => Requests(UpsertPath + id).Count == 0, "one call for all three");
    }

    [Test]
    public async Task CollectionsCallRefusedAsAWhole_EveryChangeInItWaitsForTheLimit_ThenAllAreDelivered()
    {
        const string collectionPath = "/services/data/v62.0/composite/sobjects/Opportunity/PartnerDeals_Registration_Id__c";
        var ids = new List<string>();
        for (var i = 0; i < 2; i++) ids.Add(Id((await RegisterNewAsync()).Registration));
        var ours = Request.Create().WithPath(collectionPath).UsingPatch().WithBody(new WireMock.Matchers.WildcardMatcher($"*{ids[0]}*"));
        Crm.Given(ours).InScenario("limit").WillSetStateTo("freed")
            .RespondWith(Response.Create().WithStatusCode(403).WithHeader("Content-Type", "application/json")
                .WithBody("""[{"message":"TotalRequests Limit exceeded.","errorCode":"REQUEST_LIMIT_EXCEEDED"}]"""));
        Crm.Given(ours).InScenario("limit").WhenStateIs("freed")
            .RespondWith(Response.Create().WithStatusCode(200).WithHeader("Content-Type", "application/json")
                .WithBody("""[{"id":"0065g00000AbCdEAAV","success":true,"errors":[],"created":true},{"id":"0065g00000AbCdFAAV","success":true,"errors":[],"created":true}]"""));

        foreach (var id in ids) await DispatchUntilSettledAsync(id);

        foreach (var id in ids)
        {
            var delivery = (await DeliveriesAsync(Admin, id)).Single();
            delivery.Get<string>("status").ShouldBe("delivered");
            Outcomes(delivery).ShouldBe("rate_limited,delivered", "the limit counts against no attempt");
        }
    }

    [Test]
    public async Task Registered_UpsertsOpportunityByExternalId_WithTokenAndMappedFields()
    {
        var (registration, _) = await RegisterNewAsync();
        var id = Id(registration);
        Crm.Given(Request.Create().WithPath(UpsertPath + id).UsingPatch()).RespondWith(Created());

        var delivery = (await DispatchUntilSettledAsync(id)).Single();

        delivery.Get<string>("status").ShouldBe("delivered");
        delivery.Get<string>("eventType").ShouldBe("registration.created");
        var upsert = Requests(UpsertPath + id).Single();
        upsert.RequestMessage.Method.ShouldBe("PATCH");
        Header(upsert, "Authorization").ShouldStartWith("Bearer sf-token-");
        var body = BodyOf(upsert);
        body.Get<string>("Name").ShouldBe("Rollout");
        body.Get<decimal>("Amount").ShouldBe(50_000m);
        body.Get<string>("CurrencyIsoCode").ShouldBe("EUR", "in a multi-currency org the amount is in the deal's currency");
        body.Get<string>("CloseDate").ShouldBe("2027-03-31");
        body.Get<string>("StageName").ShouldBe("Qualification");
        body.Get<string>("PartnerDeals_Status__c").ShouldBe("approved");
        body.Get<string>("PartnerDeals_Reason__c").ShouldBe("auto_approved");
        body.Get<string>("PartnerDeals_Partner__c").ShouldStartWith("Partner ");
        body.ContainsKey("PartnerDeals_Registration_Id__c").ShouldBeFalse("the external id goes in the URL, never the body");
        var token = Requests(TokenPath).First();
        token.RequestMessage.Body!.ShouldContain("grant_type=client_credentials");
        token.RequestMessage.Body!.ShouldContain("client_id=partnerdeals-connected-app");
        token.RequestMessage.Body!.ShouldContain($"client_secret={Secret}");
    }

    [Test]
    public async Task Upserts_ReuseTheToken_UntilSalesforceEndsTheSession_And201200And204AreSuccess()
    {
        var tokensBefore = Requests(TokenPath).Count;
        var (first, _) = await RegisterNewAsync();
        var (second, _) = await RegisterNewAsync();
        Crm.Given(Request.Create().WithPath(UpsertPath + Id(first)).UsingPatch()).RespondWith(Created());
        Crm.Given(Request.Create().WithPath(UpsertPath + Id(second)).UsingPatch()).RespondWith(Response.Create().WithStatusCode(204));
        await DispatchUntilSettledAsync(Id(first));
        await DispatchUntilSettledAsync(Id(second));
        var fetched = Requests(TokenPath).Count - tokensBefore;
        fetched.ShouldBeLessThanOrEqualTo(1, "one token serves every upsert until it expires");

        // The session ends: 401 INVALID_SESSION_ID for the old token, a new token, and the upsert goes through with it.
        var (third, _) = await RegisterNewAsync();
        var path = UpsertPath + Id(third);
        Crm.Given(Request.Create().WithPath(path).UsingPatch().WithHeader("Authorization", "Bearer sf-token-1")).AtPriority(-10)
            .RespondWith(Response.Create().WithStatusCode(401).WithHeader("Content-Type", "application/json")
                .WithBody("""[{"message":"Session expired or invalid","errorCode":"INVALID_SESSION_ID"}]"""));
        Crm.Given(Request.Create().WithPath(TokenPath).UsingPost()).AtPriority(-10).RespondWith(Token("sf-token-2"));
        Crm.Given(Request.Create().WithPath(path).UsingPatch().WithHeader("Authorization", "Bearer sf-token-2")).AtPriority(-10)
            .RespondWith(Response.Create().WithStatusCode(200).WithHeader("Content-Type", "application/json")
                .WithBody("""{"id":"006Dn00000A1b2cIAB","success":true,"errors":[],"created":false}"""));

        var delivery = (await DispatchUntilSettledAsync(Id(third))).Single();

        delivery.Get<string>("status").ShouldBe("delivered");
        Outcomes(delivery).ShouldBe("delivered", "a refreshed token is part of the same attempt");
        Requests(path).Select(e => (Header(e, "Authorization"), StatusOf(e))).ShouldBe([("Bearer sf-token-1", 401), ("Bearer sf-token-2", 200)]);
    }

    [Test]
    public async Task ForbiddenForAnotherReasonThanTheLimit_GoesStraightToDead()
    {
        var (registration, _) = await RegisterNewAsync();
        var id = Id(registration);
        Crm.Given(Request.Create().WithPath(UpsertPath + id).UsingPatch()).RespondWith(Response.Create().WithStatusCode(403)
            .WithHeader("Content-Type", "application/json")
            .WithBody("""[{"message":"insufficient access rights on object id","errorCode":"INSUFFICIENT_ACCESS_ON_CROSS_REFERENCE_ENTITY","fields":[]}]"""));

        var delivery = (await DispatchUntilSettledAsync(id)).Single();

        delivery.Get<string>("status").ShouldBe("dead");
        delivery.Get<int>("attempts").ShouldBe(1);
        Outcomes(delivery).ShouldBe("refused");
        Requests(UpsertPath + id).Count.ShouldBe(1, "a permission refusal is not retried");
    }

    [Test]
    public async Task BadRequest_GoesStraightToDead_WithSalesforcesMessage()
    {
        var (registration, _) = await RegisterNewAsync();
        var id = Id(registration);
        Crm.Given(Request.Create().WithPath(UpsertPath + id).UsingPatch()).RespondWith(Response.Create().WithStatusCode(400)
            .WithHeader("Content-Type", "application/json")
            .WithBody("""[{"message":"No such column 'PartnerDeals_Partner__c' on sobject of type Opportunity","errorCode":"INVALID_FIELD","fields":[]}]"""));

        var delivery = (await DispatchUntilSettledAsync(id)).Single();

        delivery.Get<string>("status").ShouldBe("dead");
        delivery.Get<int>("attempts").ShouldBe(1);
        delivery.Get<int>("lastStatusCode").ShouldBe(400);
        delivery.Get<string>("lastError").ShouldBe("INVALID_FIELD: No such column 'PartnerDeals_Partner__c' on sobject of type Opportunity");
        Outcomes(delivery).ShouldBe("refused");
        Requests(UpsertPath + id).Count.ShouldBe(1, "a refusal is not retried");
    }

    [Test]
    public async Task GatewayAnswering429_MoreOftenThanTheAttemptBudget_WaitsAsAskedAndDelivers()
    {
        var (registration, _) = await RegisterNewAsync();
        var id = Id(registration);
        var path = UpsertPath + id;
        // An API gateway in front of the org: first with a Retry-After longer than an inline wait, then with none.
        Crm.Given(Request.Create().WithPath(path).UsingPatch()).InScenario(id).WillSetStateTo("limited1")
            .RespondWith(Response.Create().WithStatusCode(429).WithHeader("Retry-After", "3"));
        for (var i = 1; i <= 4; i++)
        {
            Crm.Given(Request.Create().WithPath(path).UsingPatch()).InScenario(id).WhenStateIs($"limited{i}").WillSetStateTo($"limited{i + 1}")
                .RespondWith(Response.Create().WithStatusCode(429));
        }
        Crm.Given(Request.Create().WithPath(path).UsingPatch()).InScenario(id).WhenStateIs("limited5").RespondWith(Created());

        var delivery = (await DispatchUntilSettledAsync(id)).Single();

        delivery.Get<string>("status").ShouldBe("delivered", "five rate limits are more than the 4 attempts allowed, and use none of them");
        Outcomes(delivery).ShouldBe("rate_limited,rate_limited,rate_limited,rate_limited,rate_limited,delivered");
        var log = delivery["attemptLog"]!.AsArray();
        var waited = DateTimeOffset.Parse(log[1]!.Get<string>("startedAt"), System.Globalization.CultureInfo.InvariantCulture)
            - DateTimeOffset.Parse(log[0]!.Get<string>("startedAt"), System.Globalization.CultureInfo.InvariantCulture);
        waited.ShouldBeGreaterThanOrEqualTo(TimeSpan.FromSeconds(2.5), "the Retry-After of 3 s is honoured");
        Requests(path).Count.ShouldBe(6);
    }

    [Test]
    public async Task ScriptedOutage_503ThenRequestLimitThenTimeout_EndsInExactlyOneUpsert()
    {
        var (registration, _) = await RegisterNewAsync();
        var id = Id(registration);
        var path = UpsertPath + id;
        Crm.Given(Request.Create().WithPath(path).UsingPatch()).InScenario(id).WillSetStateTo("limit")
            .RespondWith(Response.Create().WithStatusCode(503).WithBody("Service Unavailable"));
        Crm.Given(Request.Create().WithPath(path).UsingPatch()).InScenario(id).WhenStateIs("limit").WillSetStateTo("slow")
            .RespondWith(Response.Create().WithStatusCode(403).WithHeader("Content-Type", "application/json")
                .WithBody("""[{"message":"TotalRequests Limit exceeded.","errorCode":"REQUEST_LIMIT_EXCEEDED"}]"""));
        Crm.Given(Request.Create().WithPath(path).UsingPatch()).InScenario(id).WhenStateIs("slow").WillSetStateTo("up")
            .RespondWith(Response.Create().WithStatusCode(504).WithDelay(TimeSpan.FromSeconds(3)));
        Crm.Given(Request.Create().WithPath(path).UsingPatch()).InScenario(id).WhenStateIs("up").RespondWith(Created());

        var delivery = (await DispatchUntilSettledAsync(id)).Single();

        delivery.Get<string>("status").ShouldBe("delivered");
        // The 503 is retried inside the first attempt and meets the limit; the timeout is retried inside a later one
        // (or, when WireMock is slow to move on, fails it and the next attempt succeeds).
        Outcomes(delivery).ShouldStartWith("rate_limited,");
        Outcomes(delivery).ShouldEndWith(",delivered");
        Outcomes(delivery).ShouldNotContain("refused");
        var limited = delivery["attemptLog"]![0]!;
        limited.Get<int>("statusCode").ShouldBe(403);
        var waited = DateTimeOffset.Parse(delivery["attemptLog"]![1]!.Get<string>("startedAt"), System.Globalization.CultureInfo.InvariantCulture)
            - DateTimeOffset.Parse(limited.Get<string>("startedAt"), System.Globalization.CultureInfo.InvariantCulture);
        waited.ShouldBeGreaterThanOrEqualTo(TimeSpan.FromMilliseconds(300), "Salesforce's limit is waited out (Crm:Salesforce:RequestLimitWait)");
        Requests(path).Select(StatusOf).Count(s => s is >= 200 and < 300).ShouldBe(1, "exactly one upsert succeeded");
    }

    private static IResponseBuilder Token(string token) => Response.Create().WithStatusCode(200).WithHeader("Content-Type", "application/json")
        .WithBody(new JsonObject
        {
            ["access_token"] = token,
            ["instance_url"] = "https://acme.my.salesforce.com",
            ["id"] = "https://login.salesforce.com/id/00D/005",
            ["token_type"] = "Bearer",
            ["issued_at"] = "1763892000000",
            ["signature"] = "c2lnbmF0dXJl",
        }.ToJsonString());

    private static IResponseBuilder Created() => Response.Create().WithStatusCode(201).WithHeader("Content-Type", "application/json")
        .WithHeader("Sforce-Limit-Info", "api-usage=18/15000")
        .WithBody("""{"id":"006Dn00000A1b2cIAB","success":true,"errors":[],"created":true}""");
}
