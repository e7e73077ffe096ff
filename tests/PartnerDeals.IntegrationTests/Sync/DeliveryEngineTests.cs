using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Dapper;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using PartnerDeals.IntegrationTests.Support;
using WireMock.Matchers;
using WireMock.RequestBuilders;
using WireMock.ResponseBuilders;

namespace PartnerDeals.IntegrationTests.Sync;

/// <summary>
/// The delivery engine end to end, with Salesforce as the CRM: order per registration, leases across
/// instances and restarts, an outage past the retry budget, ops' retries, metrics, and secrets.
/// </summary>
public sealed class DeliveryEngineTests : SyncTest
{
    private const string TokenPath = "/services/oauth2/token";
    private const string UpsertPath = "/services/data/v62.0/sobjects/Opportunity/PartnerDeals_Registration_Id__c/";
    private const string Secret = "engine-client-secret-5d2e";
    private const string HubSpotToken = "pat-eu1-engine-secret-token";
    private const string DynamicsTokenPath = "/engine-tenant/oauth2/v2.0/token";
    private const string DynamicsSecret = "engine-dynamics-secret-8b1f";

    protected override IDictionary<string, string?> CrmSettings => new Dictionary<string, string?>
    {
        ["Crm:Salesforce:InstanceUrl"] = Crm.Url,
        ["Crm:Salesforce:TokenUrl"] = Crm.Url + TokenPath,
        ["Crm:Salesforce:ClientId"] = "engine-app",
        ["Crm:Salesforce:ClientSecret"] = Secret,
    };

    [SetUp]
    public void ResetCrm()
    {
        Crm.ResetMappings();
        Crm.ResetLogEntries();
        Crm.Given(Request.Create().WithPath(TokenPath).UsingPost()).RespondWith(Token("sf-token-1"));
    }

    [Test]
    public async Task ChangesOfOneRegistration_ReachTheCrmInOrder_EvenWhenTheFirstFails()
    {
        var (registration, partner) = await RegisterNewAsync(tier: "registered");
        var id = Id(registration);
        Status(registration).ShouldBe("pending_review");
        await ActAsync(Admin, id, "approve");
        await ActAsync(partner.Client, id, "withdraw");
        var path = UpsertPath + id;
        // Three 503s: the first attempt and both of its quick retries fail; then Salesforce is back.
        Crm.Given(Request.Create().WithPath(path).UsingPatch()).InScenario(id).WillSetStateTo("down1").RespondWith(Response.Create().WithStatusCode(503));
        for (var i = 1; i < 3; i++)
        {
            Crm.Given(Request.Create().WithPath(path).UsingPatch()).InScenario(id).WhenStateIs($"down{i}").WillSetStateTo($"down{i + 1}")
                .RespondWith(Response.Create().WithStatusCode(503));
        }
        Crm.Given(Request.Create().WithPath(path).UsingPatch()).InScenario(id).WhenStateIs("down3").RespondWith(Response.Create().WithStatusCode(204));

        var deliveries = await DispatchUntilSettledAsync(id, expected: 3);

        deliveries.Select(d => d.Get<string>("eventType")).ShouldBe(["registration.created", "registration.approved", "registration.withdrawn"]);
        deliveries.ShouldAllBe(d => d.Get<string>("status") == "delivered");
        Outcomes(deliveries[0]).ShouldBe("failed,delivered");
        Requests(path).Where(e => StatusOf(e) == 204).Select(e => BodyOf(e).Get<string>("PartnerDeals_Status__c"))
            .ShouldBe(["pending_review", "approved", "withdrawn"], "each change after the one before it");
    }

    [Test]
    public async Task TwoDispatchers_OnOneDatabase_NeverDeliverTheSameRowTwice()
    {
        Crm.Given(Request.Create().WithPath(new WildcardMatcher(UpsertPath + "*")).UsingPatch())
            .RespondWith(Response.Create().WithStatusCode(204).WithDelay(TimeSpan.FromMilliseconds(100)));
        var settings = Running();
        using var first = new ApiFactory(settings);
        using var second = new ApiFactory(settings, first.DatabasePath);
        try
        {
            using var admin = first.Client(ApiFactory.AdminKey);
            using var otherAdmin = second.Client(ApiFactory.AdminKey);
            var ids = await RegisterManyAsync(admin, 20);

            var status = await WaitForAsync(admin, s => s.Get<int>("delivered") == 20, TimeSpan.FromSeconds(30));

            status.Get<int>("pending").ShouldBe(0);
            status.Get<int>("dead").ShouldBe(0);
            foreach (var id in ids)
            {
                Requests(UpsertPath + id).Count.ShouldBe(1, $"registration {id} was upserted once");
                Outcomes((await DeliveriesAsync(otherAdmin, id)).Single()).ShouldBe("delivered");
            }
        }
        finally
        {
            second.Dispose();
            first.Dispose();
            first.DeleteDatabase();
        }
    }

    [Test]
    public async Task ProcessStoppedMidDelivery_DeliversItAfterRestart_OnceTheLeaseRunsOut()
    {
        Crm.Given(Request.Create().WithPath(new WildcardMatcher(UpsertPath + "*")).UsingPatch())
            .RespondWith(Response.Create().WithStatusCode(204).WithDelay(TimeSpan.FromSeconds(2)));
        var settings = Running(new()
        {
            ["Crm:Delivery:Lease"] = "00:00:03",
            ["Crm:Resilience:AttemptTimeout"] = "00:00:03",
            ["Crm:Resilience:RetryAttempts"] = "0",
        });
        var first = new ApiFactory(settings);
        var databasePath = first.DatabasePath;
        try
        {
            string id;
            DateTimeOffset leasedUntil;
            using (var admin = first.Client(ApiFactory.AdminKey))
            {
                id = (await RegisterManyAsync(admin, 1)).Single();
                leasedUntil = await LeasedUntilAsync(first.ConnectionString, id);
            }
            first.Dispose(); // mid-delivery: Salesforce has not answered yet

            Crm.ResetMappings();
            Crm.Given(Request.Create().WithPath(TokenPath).UsingPost()).RespondWith(Token("sf-token-1"));
            Crm.Given(Request.Create().WithPath(UpsertPath + id).UsingPatch()).RespondWith(Response.Create().WithStatusCode(204));
            using var restarted = new ApiFactory(settings, databasePath);
            using var client = restarted.Client(ApiFactory.AdminKey);
            await WaitForAsync(client, s => s.Get<int>("delivered") == 1, TimeSpan.FromSeconds(20));

            var delivery = (await DeliveriesAsync(client, id)).Single();
            delivery.Get<string>("status").ShouldBe("delivered");
            Outcomes(delivery).ShouldBe("delivered", "the stopped attempt left no record; its lease simply ran out");
            var started = DateTimeOffset.Parse(delivery["attemptLog"]![0]!.Get<string>("startedAt"), System.Globalization.CultureInfo.InvariantCulture);
            started.ShouldBeGreaterThanOrEqualTo(leasedUntil, "no instance touches a leased row before the lease runs out");
        }
        finally
        {
            first.Dispose();
            SqliteConnection.ClearAllPools();
            Directory.Delete(Path.GetDirectoryName(databasePath)!, recursive: true);
        }
    }

    [TestCase("salesforce")]
    [TestCase("hubspot")]
    [TestCase("dynamics")]
    public async Task OutageLongerThanTheRetryBudget_OpensTheCircuit_AndEveryChangeIsDeliveredAfterRecovery(string crm)
    {
        Crm.ResetMappings();
        StubCrm(crm, up: false);
        var settings = Timings("00:00:00.050");
        foreach (var (key, value) in SettingsOf(crm)) settings[key] = value;
        settings["Crm:Delivery:MaxAttempts"] = "10";
        settings["Crm:Resilience:RetryAttempts"] = "1";
        settings["Crm:Resilience:MinimumThroughput"] = "4";
        settings["Crm:Resilience:SamplingDuration"] = "00:00:05";
        settings["Crm:Resilience:BreakDuration"] = "00:00:01";
        using var host = new ApiFactory(settings);
        try
        {
            using var admin = host.Client(ApiFactory.AdminKey);
            var ids = await RegisterManyAsync(admin, 6);
            // Down until the breaker has opened and postponed deliveries, and for a while after.
            var deadline = DateTime.UtcNow.AddSeconds(20);
            while (!(await Task.WhenAll(ids.Select(id => DeliveriesAsync(admin, id)))).SelectMany(d => d).Any(d => Outcomes(d).Contains("postponed")))
            {
                if (DateTime.UtcNow > deadline) Assert.Fail("The circuit never opened.");
                await Task.Delay(100);
            }
            await Task.Delay(TimeSpan.FromSeconds(2));
            Crm.ResetMappings();
            StubCrm(crm, up: true);

            var status = await WaitForAsync(admin, s => s.Get<int>("delivered") == 6, TimeSpan.FromSeconds(30), crm);

            status.Get<int>("dead").ShouldBe(0, "an outage postpones; it kills nothing");
            var succeeded = Crm.LogEntries.Where(e => StatusOf(e) is >= 200 and < 300 && !e.RequestMessage.Path.Contains("token")).ToList();
            foreach (var id in ids)
            {
                succeeded.Count(e => (e.RequestMessage.Path + e.RequestMessage.Body).Contains(id, StringComparison.Ordinal))
                    .ShouldBe(1, $"{id} reached {crm} once");
            }
        }
        finally
        {
            host.Dispose();
            host.DeleteDatabase();
        }
    }

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

        var sync = metrics.Split('\n').Where(l => l.StartsWith("partnerdeals_sync_", StringComparison.Ordinal)).ToList();
        sync.ShouldContain(l => l.StartsWith("partnerdeals_sync_deliveries_total{") && l.Contains("crm=\"salesforce\",outcome=\"delivered\""));
        sync.ShouldContain(l => l.StartsWith("partnerdeals_sync_attempts_total{") && l.Contains("crm=\"salesforce\",outcome=\"delivered\""));
        sync.ShouldContain(l => l.StartsWith("partnerdeals_sync_lag_seconds{") && l.Contains("crm=\"salesforce\""));
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

    private Dictionary<string, string?> SettingsOf(string crm) => crm switch
    {
        "salesforce" => new(CrmSettings),
        "hubspot" => new() { ["Crm:HubSpot:BaseUrl"] = Crm.Url, ["Crm:HubSpot:AccessToken"] = HubSpotToken },
        _ => new()
        {
            ["Crm:Dynamics:BaseUrl"] = Crm.Url,
            ["Crm:Dynamics:TokenUrl"] = Crm.Url + DynamicsTokenPath,
            ["Crm:Dynamics:ClientId"] = "engine-app",
            ["Crm:Dynamics:ClientSecret"] = DynamicsSecret,
        },
    };

    /// <summary>Every upsert of <paramref name="crm"/> answers 503 (down) or success (up); sign-in always works.</summary>
    private void StubCrm(string crm, bool up)
    {
        var answer = Response.Create().WithStatusCode(up ? (crm == "hubspot" ? 200 : 204) : 503);
        if (up && crm == "hubspot") answer = answer.WithBody("""{"status":"COMPLETE","results":[]}""");
        Crm.Given(Request.Create().WithPath(TokenPath).UsingPost()).RespondWith(Token("sf-token-1"));
        Crm.Given(Request.Create().WithPath(DynamicsTokenPath).UsingPost()).RespondWith(Token("dyn-token-1"));
        var upsert = crm switch
        {
            "salesforce" => Request.Create().WithPath(new WildcardMatcher(UpsertPath + "*")).UsingPatch(),
            "hubspot" => Request.Create().WithPath("/crm/v3/objects/deals/batch/upsert").UsingPost(),
            _ => Request.Create().WithPath(new WildcardMatcher("/api/data/v9.2/opportunities(*")).UsingPatch(),
        };
        Crm.Given(upsert).RespondWith(answer);
        // Dataverse is down or up as a whole: its currency lookup with it.
        Crm.Given(Request.Create().WithPath("/api/data/v9.2/transactioncurrencies").UsingGet()).RespondWith(up
            ? Response.Create().WithStatusCode(200).WithHeader("Content-Type", "application/json")
                .WithBody("""{"value":[{"transactioncurrencyid":"6a4c1d2e-0f3b-4a5c-9d7e-8f1a2b3c4d5e"}]}""")
            : Response.Create().WithStatusCode(503));
    }

    /// <summary>Settings for an instance whose dispatcher runs on its own every 50 ms.</summary>
    private Dictionary<string, string?> Running(Dictionary<string, string?>? overrides = null)
    {
        var settings = Timings("00:00:00.050");
        foreach (var (key, value) in CrmSettings) settings[key] = value;
        foreach (var (key, value) in overrides ?? []) settings[key] = value;
        return settings;
    }

    /// <summary>Registers <paramref name="count"/> new companies for one new silver partner, through ops on its behalf.</summary>
    private static async Task<IReadOnlyList<string>> RegisterManyAsync(HttpClient admin, int count)
    {
        var created = await admin.PostAsJsonAsync("/v1/partners", new { name = Unique("Partner"), type = "reseller", tier = "silver", contactEmail = "a@partner.example" });
        var partnerId = Id((await ReadJsonAsync(created))!);
        var ids = new List<string>();
        for (var i = 0; i < count; i++)
        {
            var (company, domain) = NewCompany();
            ids.Add(Id(await RegisterAsync(admin, Body(company, domain, partnerId: partnerId))));
        }
        return ids;
    }

    private static async Task<JsonObject> WaitForAsync(HttpClient admin, Func<JsonObject, bool> done, TimeSpan timeout, string crm = "salesforce")
    {
        var deadline = DateTime.UtcNow + timeout;
        while (true)
        {
            var status = (await ReadJsonAsync(await admin.GetAsync("/v1/sync/status"))).AsArray().Select(s => s!.AsObject())
                .Single(s => s.Get<string>("crm") == crm);
            if (done(status)) return status;
            if (DateTime.UtcNow > deadline) throw new AssertionException($"Sync never got there: {status.ToJsonString()}");
            await Task.Delay(50);
        }
    }

    /// <summary>Waits until some instance has leased the registration's delivery; answers until when.</summary>
    private static async Task<DateTimeOffset> LeasedUntilAsync(string connectionString, string registrationId)
    {
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (true)
        {
            await using var connection = new SqliteConnection(connectionString);
            var leased = await connection.QuerySingleOrDefaultAsync<string>(
                "SELECT locked_until FROM deliveries WHERE registration_id = @Id AND lease_id IS NOT NULL", new { Id = registrationId });
            if (leased is not null) return DateTimeOffset.Parse(leased, System.Globalization.CultureInfo.InvariantCulture);
            if (DateTime.UtcNow > deadline) throw new AssertionException("The delivery was never leased.");
            await Task.Delay(20);
        }
    }

    private static IResponseBuilder Refusal() => Response.Create().WithStatusCode(400).WithHeader("Content-Type", "application/json")
        .WithBody("""[{"message":"Close Date: You must enter a value","errorCode":"REQUIRED_FIELD_MISSING","fields":["CloseDate"]}]""");

    private static IResponseBuilder Token(string token) => Response.Create().WithStatusCode(200).WithHeader("Content-Type", "application/json")
        .WithBody(new JsonObject { ["access_token"] = token, ["instance_url"] = "https://acme.my.salesforce.com", ["token_type"] = "Bearer" }.ToJsonString());
}
