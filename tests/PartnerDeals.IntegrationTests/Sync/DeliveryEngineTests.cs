using Microsoft.Data.Sqlite;
using PartnerDeals.IntegrationTests.Support;
using WireMock.Matchers;
using WireMock.RequestBuilders;
using WireMock.ResponseBuilders;
using static PartnerDeals.IntegrationTests.Support.RegistrationCalls;

namespace PartnerDeals.IntegrationTests.Sync;

/// <summary>Changes reach the CRM in order and once: a failure first, two dispatchers, a process stopped mid-delivery, an outage past the retry budget. See <see cref="SalesforceDeliveryTest"/>.</summary>
public sealed class DeliveryEngineTests : SalesforceDeliveryTest
{
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
            // Down until the breaker has opened and postponed deliveries, and through a break after it: a delivery postponed twice.
            await Eventually.UntilAsync(
                async () => (await Task.WhenAll(ids.Select(id => DeliveriesAsync(admin, id)))).SelectMany(d => d)
                    .Any(d => Outcomes(d).Split(',').Count(o => o == "postponed") >= 2),
                "the circuit to open and postpone a delivery twice", TimeSpan.FromSeconds(20), TimeSpan.FromMilliseconds(100));
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
}
