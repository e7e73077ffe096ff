using System.Net;
using System.Net.Http.Json;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using PartnerDeals.IntegrationTests.Support;
using WireMock.Matchers;
using WireMock.RequestBuilders;
using WireMock.ResponseBuilders;
using static PartnerDeals.IntegrationTests.Support.RegistrationCalls;

namespace PartnerDeals.IntegrationTests.Sync;

/// <summary>What ops see and do with deliveries: retrying dead ones (never an overtaken one), the sync endpoints' rules, metrics and lag, and no secret anywhere. See <see cref="SalesforceDeliveryTest"/>.</summary>
public sealed class DeliveryOpsTests : SalesforceDeliveryTest
{
    [Test]
    public async Task DeadDelivery_RetriedByOps_IsDeliveredOnce_AndCannotBeRetriedAgain()
    {
        var id = Id((await RegisterNewAsync()).Registration);
        Crm.Given(Request.Create().WithPath(UpsertPath + id).UsingPatch()).InScenario(id).WillSetStateTo("fixed").RespondWith(Refusal());
        Crm.Given(Request.Create().WithPath(UpsertPath + id).UsingPatch()).InScenario(id).WhenStateIs("fixed").RespondWith(Response.Create().WithStatusCode(204));
        var dead = (await DispatchUntilSettledAsync(id)).Single();
        dead.Get<string>("status").ShouldBe("dead");

        var retried = await Admin.PostAsync($"/v1/sync/deliveries/{Id(dead)}/retry", null);

        retried.StatusCode.ShouldBe(HttpStatusCode.OK, await retried.Content.ReadAsStringAsync());
        var pending = await ReadJsonAsync(retried);
        pending.Get<string>("status").ShouldBe("pending");
        pending.Get<int>("attempts").ShouldBe(0);
        var delivered = (await DispatchUntilSettledAsync(id)).Single();
        delivered.Get<string>("status").ShouldBe("delivered");
        Outcomes(delivered).ShouldBe("refused,delivered");
        await ReadProblemAsync(await Admin.PostAsync($"/v1/sync/deliveries/{Id(dead)}/retry", null), HttpStatusCode.Conflict, "invalid-transition");
        await ReadProblemAsync(await Admin.PostAsync($"/v1/sync/deliveries/{Guid.NewGuid()}/retry", null), HttpStatusCode.NotFound, "not-found");
        var events = await ReadJsonAsync(await Admin.GetAsync($"/v1/sync/deliveries/{Id(dead)}"));
        events["attemptLog"]!.AsArray().Count.ShouldBe(2);
    }

    [Test]
    public async Task DeadDelivery_OvertakenByALaterDeliveredChange_IsNotSentAgain()
    {
        var (registration, _) = await RegisterNewAsync(tier: "registered");
        var id = Id(registration);
        Crm.Given(Request.Create().WithPath(UpsertPath + id).UsingPatch()).InScenario(id).WillSetStateTo("fixed").RespondWith(Refusal());
        Crm.Given(Request.Create().WithPath(UpsertPath + id).UsingPatch()).InScenario(id).WhenStateIs("fixed").RespondWith(Response.Create().WithStatusCode(204));
        await DispatchUntilSettledAsync(id);
        await ActAsync(Admin, id, "approve");
        var deliveries = await DispatchUntilSettledAsync(id, expected: 2);
        deliveries.Select(d => d.Get<string>("status")).ShouldBe(["dead", "delivered"]);

        var single = await Admin.PostAsync($"/v1/sync/deliveries/{Id(deliveries[0])}/retry", null);
        var bulk = await Admin.PostAsJsonAsync("/v1/sync/deliveries/retry", new { crm = "salesforce" });

        (await ReadProblemAsync(single, HttpStatusCode.Conflict, "invalid-transition")).Get<string>("detail").ShouldContain("stale");
        bulk.StatusCode.ShouldBe(HttpStatusCode.OK);
        (await ReadJsonAsync(bulk))["ids"]!.AsArray().Select(i => i!.GetValue<string>()).ShouldNotContain(Id(deliveries[0]));
        (await DeliveriesAsync(Admin, id))[0].Get<string>("status").ShouldBe("dead");
    }

    [Test]
    public async Task SyncEndpoints_RefuseBadFilters_AndEveryoneButOps()
    {
        var problem = await ReadProblemAsync(await Admin.PostAsJsonAsync("/v1/sync/deliveries/retry", new { crm = "pipedrive" }),
            HttpStatusCode.BadRequest, "validation");
        ErrorFields(problem).ShouldBe(["crm"]);
        problem = await ReadProblemAsync(await Admin.GetAsync("/v1/sync/deliveries?status=lost&crm=zoho&limit=0"), HttpStatusCode.BadRequest, "validation");
        ErrorFields(problem).ShouldBe(["crm", "limit", "status"]);
        var (_, partner) = await RegisterNewAsync();
        var (_, crmKey) = await IssueKeyAsync("crm");
        using var crm = ClientFor(crmKey);
        using var anonymous = Factory.Client(null);
        foreach (var client in new[] { partner.Client, crm })
        {
            await ReadProblemAsync(await client.GetAsync("/v1/sync/deliveries"), HttpStatusCode.Forbidden, "forbidden");
            await ReadProblemAsync(await client.PostAsync("/v1/sync/deliveries/retry", null), HttpStatusCode.Forbidden, "forbidden");
        }
        await ReadProblemAsync(await anonymous.GetAsync("/v1/sync/status"), HttpStatusCode.Unauthorized, "unauthenticated");
    }

    [Test]
    public async Task Metrics_CountDeliveriesAndAttempts_AndReportTheLag()
    {
        var id = Id((await RegisterNewAsync()).Registration);
        Crm.Given(Request.Create().WithPath(UpsertPath + id).UsingPatch()).RespondWith(Response.Create().WithStatusCode(204));
        await DispatchUntilSettledAsync(id);

        using var anonymous = Factory.Client(null);
        var metrics = await anonymous.GetStringAsync("/metrics");

        var sync = metrics.Split('\n').Where(l => l.StartsWith("partnerdeals_outbox_", StringComparison.Ordinal) && l.Contains("channel=\"crm\"")).ToList();
        sync.ShouldContain(l => l.StartsWith("partnerdeals_outbox_deliveries_total{") && l.Contains("destination=\"salesforce\"") && l.Contains("outcome=\"delivered\""));
        sync.ShouldContain(l => l.StartsWith("partnerdeals_outbox_attempts_total{") && l.Contains("destination=\"salesforce\"") && l.Contains("outcome=\"delivered\""));
        sync.ShouldContain(l => l.StartsWith("partnerdeals_outbox_lag_seconds{") && l.Contains("destination=\"salesforce\""));
        var status = (await ReadJsonAsync(await Admin.GetAsync("/v1/sync/status"))).AsArray().Single(s => s!.Get<string>("crm") == "salesforce")!;
        status.Get<bool>("enabled").ShouldBeTrue();
        status.Get<int>("delivered").ShouldBeGreaterThanOrEqualTo(1);
    }

    [Test]
    public async Task Secrets_NeverAppearInALogLineOrAnApiResponse()
    {
        Crm.Given(Request.Create().WithPath(new WildcardMatcher(UpsertPath + "*")).UsingPatch().WithHeader("Authorization", "Bearer sf-token-1"))
            .RespondWith(Response.Create().WithStatusCode(401).WithBody("""[{"message":"Session expired or invalid","errorCode":"INVALID_SESSION_ID"}]"""));
        Crm.Given(Request.Create().WithPath(TokenPath).UsingPost()).InScenario("tokens").WhenStateIs("second").RespondWith(Token("sf-token-2"));
        Crm.Given(Request.Create().WithPath(TokenPath).UsingPost()).InScenario("tokens").WillSetStateTo("second").RespondWith(Token("sf-token-1"));
        Crm.Given(Request.Create().WithPath(new WildcardMatcher(UpsertPath + "*")).UsingPatch().WithHeader("Authorization", "Bearer sf-token-2"))
            .RespondWith(Refusal());
        Crm.Given(Request.Create().WithPath("/crm/v3/objects/deals/batch/upsert").UsingPost()).RespondWith(Response.Create().WithStatusCode(401)
            .WithBody("""{"status":"error","message":"Authentication credentials not found.","category":"INVALID_AUTHENTICATION"}"""));
        Crm.Given(Request.Create().WithPath(DynamicsTokenPath).UsingPost()).RespondWith(Token("dyn-token-1"));
        Crm.Given(Request.Create().WithPath(new WildcardMatcher("/api/data/v9.2/opportunities(*")).UsingPatch())
            .RespondWith(Response.Create().WithStatusCode(400).WithBody("""{"error":{"code":"0x80040203","message":"Invalid argument."}}"""));
        Crm.Given(Request.Create().WithPath("/api/data/v9.2/transactioncurrencies").UsingGet()).RespondWith(Response.Create().WithStatusCode(200)
            .WithHeader("Content-Type", "application/json").WithBody("""{"value":[{"transactioncurrencyid":"6a4c1d2e-0f3b-4a5c-9d7e-8f1a2b3c4d5e"}]}"""));
        var logs = new CapturedLogs();
        var settings = Running(new()
        {
            ["Crm:Delivery:MaxAttempts"] = "1",
        });
        foreach (var (key, value) in SettingsOf("hubspot").Concat(SettingsOf("dynamics"))) settings[key] = value;
        using var host = new ApiFactory(settings)
        {
            TestServices = services => services.AddLogging(b => b.AddProvider(logs).AddFilter<CapturedLogs>(null, LogLevel.Trace)),
        };
        try
        {
            using var admin = host.Client(ApiFactory.AdminKey);
            var id = (await RegisterManyAsync(admin, 1)).Single();
            await WaitForAsync(admin, s => s.Get<int>("dead") == 1, TimeSpan.FromSeconds(20), "salesforce");
            await WaitForAsync(admin, s => s.Get<int>("dead") == 1, TimeSpan.FromSeconds(20), "hubspot");
            await WaitForAsync(admin, s => s.Get<int>("dead") == 1, TimeSpan.FromSeconds(20), "dynamics");

            var responses = new List<string>
            {
                await admin.GetStringAsync($"/v1/sync/deliveries?registrationId={id}"),
                await admin.GetStringAsync("/v1/sync/status"),
            };
            foreach (var delivery in await DeliveriesAsync(admin, id)) responses.Add(delivery.ToJsonString());

            Requests(TokenPath).Count.ShouldBe(2, "the scenario signed in, was refused, and signed in again");
            Requests(DynamicsTokenPath).Count.ShouldBe(1);
            logs.Lines.ShouldContain(l => l.Contains("System.Net.Http.HttpClient.salesforce"), "HTTP client logging was captured");
            foreach (var secret in new[] { Secret, "sf-token-1", "sf-token-2", HubSpotToken, DynamicsSecret, "dyn-token-1" })
            {
                logs.Lines.ShouldNotContain(l => l.Contains(secret, StringComparison.Ordinal), $"a log line carries {secret}");
                responses.ShouldNotContain(r => r.Contains(secret, StringComparison.Ordinal), $"a response carries {secret}");
            }
        }
        finally
        {
            host.Dispose();
            host.DeleteDatabase();
        }
    }
}
