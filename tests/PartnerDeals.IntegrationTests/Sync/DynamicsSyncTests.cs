using System.Globalization;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.Extensions.DependencyInjection;
using PartnerDeals.Api.Features.Sync;
using WireMock.Matchers;
using WireMock.RequestBuilders;
using WireMock.ResponseBuilders;
using PartnerDeals.IntegrationTests.Support;
using static PartnerDeals.IntegrationTests.Support.RegistrationCalls;

namespace PartnerDeals.IntegrationTests.Sync;

/// <summary>The Dynamics 365 / Dataverse adapter through the real dispatcher, against stubs that answer as the Web API does.</summary>
public sealed class DynamicsSyncTests : SyncTest
{
    private const string TokenPath = "/contoso-tenant/oauth2/v2.0/token";
    private const string Secret = "dyn-client-secret-91c4";
    private const string ApiPath = "/api/data/v9.2/";

    protected override IDictionary<string, string?> CrmSettings => new Dictionary<string, string?>
    {
        ["Crm:Dynamics:BaseUrl"] = Crm.Url,
        ["Crm:Dynamics:TokenUrl"] = Crm.Url + TokenPath,
        ["Crm:Dynamics:ClientId"] = "3f1b2c4d-app",
        ["Crm:Dynamics:ClientSecret"] = Secret,
    };

    [SetUp]
    public void ResetCrm()
    {
        Crm.ResetMappings();
        Crm.ResetLogEntries();
        Crm.Given(Request.Create().WithPath(TokenPath).UsingPost()).RespondWith(Token("dyn-token-1"));
        // The environment's transaction currencies, as the Web API lists them: EUR and USD.
        Crm.Given(Request.Create().WithPath(ApiPath + "transactioncurrencies").WithParam("$filter", "isocurrencycode eq 'EUR'").UsingGet())
            .RespondWith(Json($$"""{"value":[{"transactioncurrencyid":"{{EuroId}}"}]}"""));
        Crm.Given(Request.Create().WithPath(ApiPath + "transactioncurrencies").WithParam("$filter", "isocurrencycode eq 'USD'").UsingGet())
            .RespondWith(Json($$"""{"value":[{"transactioncurrencyid":"{{DollarId}}"}]}"""));
        Crm.Given(Request.Create().WithPath(ApiPath + "transactioncurrencies").UsingGet()).AtPriority(100).RespondWith(Json("""{"value":[]}"""));
    }

    private const string EuroId = "6a4c1d2e-0f3b-4a5c-9d7e-8f1a2b3c4d5e";
    private const string DollarId = "7b5d2e3f-1a4c-4b6d-8e8f-9a2b3c4d5e6f";

    private static string Record(string id) => $"{ApiPath}opportunities(pd_registrationid='{id}')";

    [Test]
    public async Task Registered_UpsertsOpportunityByAlternateKey_WithODataHeaders()
    {
        var id = Id((await RegisterNewAsync()).Registration);
        Crm.Given(Request.Create().WithPath(Record(id)).UsingPatch()).RespondWith(Response.Create().WithStatusCode(204));
        var adapter = Factory.Services.GetRequiredService<DynamicsAdapter>();
        adapter.Token.Invalidate(await adapter.Token.GetAsync(CancellationToken.None)); // so this delivery signs in
        Crm.ResetLogEntries();

        var delivery = (await DispatchUntilSettledAsync(id)).Single();

        delivery.Get<string>("status").ShouldBe("delivered");
        var upsert = Requests(Record(id)).Single();
        upsert.RequestMessage.Method.ShouldBe("PATCH");
        Header(upsert, "OData-MaxVersion").ShouldBe("4.0");
        Header(upsert, "OData-Version").ShouldBe("4.0");
        Header(upsert, "Authorization").ShouldStartWith("Bearer dyn-token-");
        var body = BodyOf(upsert);
        body.Get<string>("name").ShouldBe("Rollout");
        body.Get<decimal>("estimatedvalue").ShouldBe(50_000m);
        body.Get<string>("estimatedclosedate").ShouldBe("2027-03-31");
        body.Get<string>("stepname").ShouldBe("2-Develop");
        body.Get<string>("pd_status").ShouldBe("approved");
        body.Get<string>("transactioncurrencyid@odata.bind").ShouldBe($"/transactioncurrencies({EuroId})", "the amount is in the deal's currency");
        var token = Requests(TokenPath).Single().RequestMessage.Body!;
        token.ShouldContain("grant_type=client_credentials");
        token.ShouldContain($"client_secret={Secret}");
        token.ShouldContain("scope=" + Uri.EscapeDataString(Crm.Url + "/.default"));
    }

    [Test]
    public async Task WonInAnotherCurrency_WhenTheOpportunityMayNotChangeIt_IsClosedAnyway_WithTheWonAmountInTheDescription()
    {
        var id = Id((await RegisterNewAsync()).Registration);
        // An opportunity with products keeps its currency: Dataverse refuses to bind another one.
        Crm.Given(Request.Create().WithPath(Record(id)).UsingPatch().WithBody(new WildcardMatcher("*transactioncurrencyid@odata.bind*"))).AtPriority(1)
            .RespondWith(Response.Create().WithStatusCode(400).WithHeader("Content-Type", "application/json").WithBody("""
                {"error":{"code":"0x80048cf5","message":"The currency cannot be changed because the opportunity has opportunity products, quotes, orders, or invoices associated with it."}}
                """));
        Crm.Given(Request.Create().WithPath(Record(id)).UsingPatch()).AtPriority(5).RespondWith(Response.Create().WithStatusCode(204));
        Crm.Given(Request.Create().WithPath(Record(id)).UsingGet()).RespondWith(Json("""{"statecode":0}"""));
        Crm.Given(Request.Create().WithPath(ApiPath + "WinOpportunity").UsingPost()).RespondWith(Response.Create().WithStatusCode(204));
        (await Admin.PostAsJsonAsync($"/v1/registrations/{id}/outcome", new { result = "won", amount = 48_000m, currency = "USD" })).EnsureSuccessStatusCode();

        var deliveries = await DispatchUntilSettledAsync(id, expected: 2);

        deliveries.ShouldAllBe(d => d.Get<string>("status") == "delivered", string.Join("; ", deliveries.Select(Outcomes)));
        var kept = BodyOf(Requests(Record(id), "PATCH").Last());
        kept.ContainsKey("transactioncurrencyid@odata.bind").ShouldBeFalse();
        kept.ContainsKey("estimatedvalue").ShouldBeFalse("an amount in USD would be read in the opportunity's own currency");
        var close = BodyOf(Requests(ApiPath + "WinOpportunity").Single())["OpportunityClose"]!.AsObject();
        close.ContainsKey("actualrevenue").ShouldBeFalse();
        close.Get<string>("description").ShouldContain("48000 USD");
    }

    [Test]
    public async Task Won_ClosesTheOpportunityWithWinOpportunity_AndARepeatFindsItClosed()
    {
        var id = Id((await RegisterNewAsync()).Registration);
        Crm.Given(Request.Create().WithPath(Record(id)).UsingPatch()).RespondWith(Response.Create().WithStatusCode(204));
        Crm.Given(Request.Create().WithPath(Record(id)).UsingGet()).RespondWith(Json("""{"@odata.etag":"W/\"470867\"","statecode":0}"""));
        Crm.Given(Request.Create().WithPath(ApiPath + "WinOpportunity").UsingPost()).RespondWith(Response.Create().WithStatusCode(204));
        var closedAt = DateTimeOffset.UtcNow;
        var won = await Admin.PostAsJsonAsync($"/v1/registrations/{id}/outcome", new { result = "won", amount = 48_000m, currency = "EUR", closedAt });
        won.EnsureSuccessStatusCode();

        var deliveries = await DispatchUntilSettledAsync(id, expected: 2);

        deliveries.ShouldAllBe(d => d.Get<string>("status") == "delivered");
        var close = Requests(ApiPath + "WinOpportunity").Single();
        var body = BodyOf(close);
        body.Get<int>("Status").ShouldBe(3);
        var opportunityClose = body["OpportunityClose"]!;
        opportunityClose.Get<string>("opportunityid@odata.bind").ShouldBe($"/opportunities(pd_registrationid='{id}')");
        opportunityClose.Get<decimal>("actualrevenue").ShouldBe(48_000m);
        opportunityClose.Get<string>("actualend").ShouldBe(
            closedAt.ToUniversalTime().ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", System.Globalization.CultureInfo.InvariantCulture), "Edm.DateTimeOffset: an instant");
        opportunityClose.Get<string>("subject").ShouldBe("Won: Rollout");

        // Delivered again (a crash after the close, before the result was recorded): the opportunity is already won.
        Crm.Given(Request.Create().WithPath(Record(id)).UsingGet()).AtPriority(-10).RespondWith(Json("""{"statecode":1}"""));
        var registration = JsonSerializer.Deserialize<RegistrationSnapshot>(await Admin.GetStringAsync($"/v1/registrations/{id}"), PartnerDeals.Api.Infrastructure.Http.Json.Options)!;
        var adapter = Factory.Services.GetRequiredService<DynamicsAdapter>();
        var patchesBefore = Requests(Record(id), "PATCH").Count;

        var again = await adapter.DeliverAsync([new CrmChange(Guid.NewGuid(), "registration.outcome_recorded", registration, "Partner")], CancellationToken.None);

        again.Single().Outcome.ShouldBe(AttemptOutcome.Delivered);
        Requests(Record(id), "PATCH").Count.ShouldBe(patchesBefore, "a closed opportunity is read-only; nothing is sent");
        Requests(ApiPath + "WinOpportunity").Count.ShouldBe(1);
    }

    [Test]
    public async Task WinOpportunityFailing_IsNotRetriedInsideTheAttempt_AndTheNextAttemptChecksFirst()
    {
        var id = Id((await RegisterNewAsync()).Registration);
        Crm.Given(Request.Create().WithPath(Record(id)).UsingPatch()).RespondWith(Response.Create().WithStatusCode(204));
        Crm.Given(Request.Create().WithPath(Record(id)).UsingGet()).RespondWith(Json("""{"statecode":0}"""));
        // The close answers 503, though (as may happen) it was carried out.
        Crm.Given(Request.Create().WithPath(ApiPath + "WinOpportunity").UsingPost())
            .RespondWith(Json("""{"error":{"code":"0x80040216","message":"Unavailable"}}""", 503));
        (await DispatchUntilSettledAsync(id)).Single().Get<string>("status").ShouldBe("delivered");
        (await Admin.PostAsJsonAsync($"/v1/registrations/{id}/outcome", new { result = "won", amount = 48_000m, currency = "USD" })).EnsureSuccessStatusCode();

        await DispatchAsync();

        Requests(ApiPath + "WinOpportunity").Count.ShouldBe(1, "a close is not idempotent: the quick retries inside an attempt leave it alone");
        BodyOf(Requests(Record(id), "PATCH").Last()).Get<string>("transactioncurrencyid@odata.bind").ShouldBe($"/transactioncurrencies({DollarId})");
        Crm.Given(Request.Create().WithPath(Record(id)).UsingGet()).AtPriority(-10).RespondWith(Json("""{"statecode":1}"""));
        var settled = await DispatchUntilSettledAsync(id, expected: 2);
        settled.ShouldAllBe(d => d.Get<string>("status") == "delivered");
        Requests(ApiPath + "WinOpportunity").Count.ShouldBe(1, "the next attempt found it won");
    }

    [Test]
    public async Task CurrencyTheEnvironmentLacks_IsRefused_WithoutWritingTheOpportunity()
    {
        var partner = await PartnerAsync();
        var (company, domain) = NewCompany();
        var id = Id(await RegisterAsync(partner.Client, Body(company, domain, currency: "CHF")));
        Crm.Given(Request.Create().WithPath(ApiPath + "transactioncurrencies").UsingGet()).AtPriority(-20).RespondWith(Json("""{"value":[]}"""));
        Crm.Given(Request.Create().WithPath(Record(id)).UsingPatch()).RespondWith(Response.Create().WithStatusCode(204));

        var delivery = (await DispatchUntilSettledAsync(id)).Single();

        delivery.Get<string>("status").ShouldBe("dead");
        delivery.Get<string>("lastError").ShouldContain("CHF is not a currency of this Dataverse environment");
        Requests(Record(id), "PATCH").ShouldBeEmpty();
    }

    [Test]
    public async Task Lost_ClosesTheOpportunityWithLoseOpportunity()
    {
        var id = Id((await RegisterNewAsync()).Registration);
        Crm.Given(Request.Create().WithPath(Record(id)).UsingPatch()).RespondWith(Response.Create().WithStatusCode(204));
        Crm.Given(Request.Create().WithPath(Record(id)).UsingGet()).RespondWith(Json("""{"statecode":0}"""));
        Crm.Given(Request.Create().WithPath(ApiPath + "LoseOpportunity").UsingPost()).RespondWith(Response.Create().WithStatusCode(204));
        (await Admin.PostAsJsonAsync($"/v1/registrations/{id}/outcome", new { result = "lost", lostReason = "Chose a competitor" })).EnsureSuccessStatusCode();

        var deliveries = await DispatchUntilSettledAsync(id, expected: 2);

        deliveries.ShouldAllBe(d => d.Get<string>("status") == "delivered");
        var body = BodyOf(Requests(ApiPath + "LoseOpportunity").Single());
        body.Get<int>("Status").ShouldBe(4, "statuscode Canceled");
        body["OpportunityClose"]!.Get<string>("subject").ShouldBe("Lost: Rollout");
        body["OpportunityClose"]!.Get<string>("description").ShouldBe("Chose a competitor");
        BodyOf(Requests(Record(id), "PATCH").Last()).Get<string>("pd_status").ShouldBe("lost");
    }

    [Test]
    public async Task TooManyRequests_WaitsForRetryAfter_WithoutSpendingAnAttempt()
    {
        var id = Id((await RegisterNewAsync()).Registration);
        Crm.Given(Request.Create().WithPath(Record(id)).UsingPatch()).InScenario(id).WillSetStateTo("open")
            .RespondWith(Response.Create().WithStatusCode(429).WithHeader("Retry-After", "3").WithHeader("Content-Type", "application/json")
                .WithBody("""{"error":{"code":"0x80072322","message":"Number of requests exceeded the limit of 6000 over time window of 300 seconds."}}"""));
        Crm.Given(Request.Create().WithPath(Record(id)).UsingPatch()).InScenario(id).WhenStateIs("open").RespondWith(Response.Create().WithStatusCode(204));

        var delivery = (await DispatchUntilSettledAsync(id)).Single();

        delivery.Get<string>("status").ShouldBe("delivered");
        Outcomes(delivery).ShouldBe("rate_limited,delivered");
        delivery.Get<int>("attempts").ShouldBe(1);
        var log = delivery["attemptLog"]!.AsArray();
        log[0]!.Get<string>("error").ShouldStartWith("0x80072322: Number of requests exceeded");
        var gap = DateTimeOffset.Parse(log[1]!.Get<string>("startedAt"), CultureInfo.InvariantCulture)
            - DateTimeOffset.Parse(log[0]!.Get<string>("startedAt"), CultureInfo.InvariantCulture);
        gap.ShouldBeGreaterThanOrEqualTo(TimeSpan.FromSeconds(2.9), "Retry-After: 3 is honoured");
    }

    [Test]
    public async Task ScriptedOutage_503Then429ThenTimeout_EndsInExactlyOneUpsert()
    {
        var id = Id((await RegisterNewAsync()).Registration);
        var path = Record(id);
        Crm.Given(Request.Create().WithPath(path).UsingPatch()).InScenario(id).WillSetStateTo("limit")
            .RespondWith(Response.Create().WithStatusCode(503));
        Crm.Given(Request.Create().WithPath(path).UsingPatch()).InScenario(id).WhenStateIs("limit").WillSetStateTo("slow")
            .RespondWith(Response.Create().WithStatusCode(429).WithHeader("Retry-After", "1")
                .WithBody("""{"error":{"code":"0x80072326","message":"Number of concurrent requests exceeded the limit of 52."}}"""));
        Crm.Given(Request.Create().WithPath(path).UsingPatch()).InScenario(id).WhenStateIs("slow").WillSetStateTo("up")
            .RespondWith(Response.Create().WithStatusCode(504).WithDelay(TimeSpan.FromSeconds(3)));
        Crm.Given(Request.Create().WithPath(path).UsingPatch()).InScenario(id).WhenStateIs("up").RespondWith(Response.Create().WithStatusCode(204));

        var delivery = (await DispatchUntilSettledAsync(id)).Single();

        delivery.Get<string>("status").ShouldBe("delivered");
        Outcomes(delivery).ShouldEndWith("delivered");
        Requests(path).Count(e => StatusOf(e) is >= 200 and < 300).ShouldBe(1, "exactly one upsert succeeded");
        Requests(path).Select(StatusOf).Take(2).ShouldBe([503, 429]);
    }

    [Test]
    public async Task ExpiredToken_IsRefreshedOnce_AndTheUpsertGoesThrough()
    {
        var id = Id((await RegisterNewAsync()).Registration);
        var adapter = Factory.Services.GetRequiredService<DynamicsAdapter>();
        var token = await adapter.Token.GetAsync(CancellationToken.None);
        Crm.Given(Request.Create().WithPath(Record(id)).UsingPatch().WithHeader("Authorization", $"Bearer {token}"))
            .RespondWith(Response.Create().WithStatusCode(401).WithHeader("WWW-Authenticate", "Bearer error=\"invalid_token\""));
        Crm.Given(Request.Create().WithPath(TokenPath).UsingPost()).AtPriority(-10).RespondWith(Token("dyn-token-2"));
        Crm.Given(Request.Create().WithPath(Record(id)).UsingPatch().WithHeader("Authorization", "Bearer dyn-token-2"))
            .RespondWith(Response.Create().WithStatusCode(204));

        var delivery = (await DispatchUntilSettledAsync(id)).Single();

        delivery.Get<string>("status").ShouldBe("delivered");
        Requests(Record(id)).Select(StatusOf).ShouldBe([401, 204]);
    }

    [Test]
    public async Task BadRequest_GoesStraightToDead_WithDataversesMessage()
    {
        var id = Id((await RegisterNewAsync()).Registration);
        Crm.Given(Request.Create().WithPath(new WildcardMatcher(ApiPath + "opportunities(*")).UsingPatch())
            .RespondWith(Json("""{"error":{"code":"0x80048d19","message":"Error identified in Payload provided by the user for Entity :'opportunities'"}}""", 400));

        var delivery = (await DispatchUntilSettledAsync(id)).Single();

        delivery.Get<string>("status").ShouldBe("dead");
        delivery.Get<string>("lastError").ShouldBe("0x80048d19: Error identified in Payload provided by the user for Entity :'opportunities'");
        Requests(Record(id)).Count.ShouldBe(1);
    }

    private static IResponseBuilder Token(string token) => Json(new JsonObject
    {
        ["token_type"] = "Bearer",
        ["expires_in"] = 3599,
        ["ext_expires_in"] = 3599,
        ["access_token"] = token,
    }.ToJsonString());

    private static IResponseBuilder Json(string body, int status = 200) =>
        Response.Create().WithStatusCode(status).WithHeader("Content-Type", "application/json; odata.metadata=minimal").WithBody(body);
}
