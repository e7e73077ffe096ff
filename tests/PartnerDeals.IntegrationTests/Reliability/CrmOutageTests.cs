using System.Collections.Concurrent;
using Dapper;
using Microsoft.Data.Sqlite;
using PartnerDeals.IntegrationTests.Sync;
using WireMock.Matchers;
using WireMock.RequestBuilders;
using WireMock.ResponseBuilders;
using PartnerDeals.IntegrationTests.Support;
using static PartnerDeals.IntegrationTests.Support.RegistrationCalls;

namespace PartnerDeals.IntegrationTests.Reliability;

/// <summary>
/// Salesforce down for a full minute while partners keep registering and deals keep closing: it answers
/// 503, then 429 with a Retry-After, then takes the change but answers too late, request by request. After it
/// recovers, every change is delivered, each once in effect, in order, and nothing is dead.
/// </summary>
public sealed class CrmOutageTests : SyncTest
{
    private static readonly TimeSpan Outage = TimeSpan.FromSeconds(60);
    private const string TokenPath = "/services/oauth2/token";
    private const string UpsertPath = "/services/data/v62.0/sobjects/Opportunity/PartnerDeals_Registration_Id__c/";

    // The product's delivery and resilience defaults, but for a shorter circuit break, attempt timeout and
    // backoff ceiling, so recovery after the minute takes seconds rather than the default hour's backoff.
    protected override IDictionary<string, string?> CrmSettings => new Dictionary<string, string?>
    {
        ["Crm:Salesforce:InstanceUrl"] = Crm.Url,
        ["Crm:Salesforce:TokenUrl"] = Crm.Url + TokenPath,
        ["Crm:Salesforce:ClientId"] = "outage-app",
        ["Crm:Salesforce:ClientSecret"] = "outage-secret",
        // The engine's per-request behaviour (faults request by request, one upsert per change); several changes in one
        // sObject Collections call are SalesforceSyncTests'.
        ["Crm:Salesforce:Collections"] = "false",
        ["Crm:Delivery:MaxAttempts"] = "10",
        ["Crm:Delivery:Lease"] = "00:02:00",
        ["Crm:Delivery:BackoffBase"] = "00:00:01",
        ["Crm:Delivery:BackoffMax"] = "00:00:10",
        ["Crm:Resilience:AttemptTimeout"] = "00:00:02",
        ["Crm:Resilience:RetryAttempts"] = "2",
        ["Crm:Resilience:RetryBaseDelay"] = "00:00:00.200",
        ["Crm:Resilience:MaxInlineRetryAfter"] = "00:00:05",
        ["Crm:Resilience:MinimumThroughput"] = "5",
        ["Crm:Resilience:SamplingDuration"] = "00:00:10",
        ["Crm:Resilience:BreakDuration"] = "00:00:05",
    };

    protected override string PollInterval => "00:00:00.200";

    [Test]
    public async Task SixtySecondOutageUnderLoad_AfterRecovery_EveryChangeIsDeliveredOnceInEffect_AndNothingIsDead()
    {
        Crm.Given(Request.Create().WithPath(TokenPath).UsingPost()).AtPriority(1).RespondWith(Response.Create().WithStatusCode(200)
            .WithHeader("Content-Type", "application/json").WithBody("""{"access_token":"sf-token","instance_url":"https://acme.my.salesforce.com","token_type":"Bearer"}"""));
        // Request by request, in turn, so each fault is met however few requests the open circuit lets through.
        var upserts = Request.Create().WithPath(new WildcardMatcher(UpsertPath + "*")).UsingPatch();
        var down = Response.Create().WithStatusCode(503);
        Crm.Given(upserts).AtPriority(10).InScenario("outage").WillSetStateTo("limited").RespondWith(down);
        Crm.Given(upserts).AtPriority(10).InScenario("outage").WhenStateIs("down").WillSetStateTo("limited").RespondWith(down);
        Crm.Given(upserts).AtPriority(10).InScenario("outage").WhenStateIs("limited").WillSetStateTo("slow")
            .RespondWith(Response.Create().WithStatusCode(429).WithHeader("Retry-After", "10"));
        Crm.Given(upserts).AtPriority(10).InScenario("outage").WhenStateIs("slow").WillSetStateTo("down")
            .RespondWith(Response.Create().WithStatusCode(204).WithDelay(TimeSpan.FromSeconds(5))); // applied, but answered after we gave up
        // Concurrent requests can catch the scenario between two states, where no mapping above matches and
        // WireMock answers 404 (seen once in a clean-clone run); the CRM is down then too.
        Crm.Given(upserts).AtPriority(20).RespondWith(down);

        var registrations = new ConcurrentBag<string>();
        using var stopLoad = new CancellationTokenSource();
        var partners = new List<PartnerClient>();
        for (var i = 0; i < 4; i++) partners.Add(await PartnerAsync("silver"));
        var load = partners.Select(partner => Task.Run(async () =>
        {
            for (var n = 0; !stopLoad.IsCancellationRequested; n++)
            {
                var (company, domain) = NewCompany();
                var id = Id(await RegisterAsync(partner.Client, Body(company, domain)));
                registrations.Add(id);
                if (n % 3 == 0) await ActAsync(Admin, id, "outcome", new { result = "won", amount = 48_000m, currency = "EUR" });
                if (n % 3 == 1) await ActAsync(partner.Client, id, "withdraw", new { reason = "customer chose another vendor" });
                await Task.Delay(250);
            }
        })).ToList();

        await Task.Delay(Outage);
        Crm.Given(upserts).AtPriority(5).RespondWith(Response.Create().WithStatusCode(204));
        var recovered = DateTime.UtcNow;
        await Task.Delay(TimeSpan.FromSeconds(3)); // the load goes on a little past the recovery
        await stopLoad.CancelAsync();
        await Task.WhenAll(load);

        await using var db = new SqliteConnection(Factory.ConnectionString);
        await Eventually.UntilAsync(() => db.ExecuteScalarAsync<int>("SELECT COUNT(*) FROM outbox_deliveries WHERE status = 'pending'"), pending => pending == 0,
            "every pending delivery to be delivered after the recovery", TimeSpan.FromSeconds(90), TimeSpan.FromMilliseconds(200));

        var deliveries = await db.ExecuteScalarAsync<int>("SELECT COUNT(*) FROM outbox_deliveries");
        var outcomes = (await db.QueryAsync<(string Outcome, int Count)>("SELECT outcome, COUNT(*) FROM outbox_attempts GROUP BY outcome")).ToList();
        var duringOutage = Crm.LogEntries.Where(e => e.RequestMessage.Path.StartsWith(UpsertPath, StringComparison.Ordinal) && e.RequestMessage.DateTime < recovered)
            .GroupBy(StatusOf).ToDictionary(g => g.Key, g => g.Count());
        TestContext.Out.WriteLine($"{registrations.Count} registrations, {deliveries} deliveries; attempts {string.Join(", ", outcomes.Select(o => $"{o.Outcome} {o.Count}"))}; "
            + $"upserts during the outage by answer {string.Join(", ", duringOutage.Select(s => $"{s.Key} x {s.Value}"))}");
        duringOutage.Keys.ShouldBe([503, 429, 204], ignoreOrder: true, "each fault was met: down, slow down, and too slow (204 after the timeout)");
        outcomes.Select(o => o.Outcome).ShouldContain("rate_limited");
        outcomes.Select(o => o.Outcome).ShouldContain("postponed", "the circuit opened");
        (await db.ExecuteScalarAsync<int>("SELECT COUNT(*) FROM outbox_deliveries WHERE status = 'dead'")).ShouldBe(0, "an outage postpones; it kills nothing");
        (await db.ExecuteScalarAsync<int>("SELECT COUNT(*) FROM outbox_events WHERE partner_id IS NULL")).ShouldBe(deliveries, "one Salesforce delivery per change");
        (await db.ExecuteScalarAsync<int>("""
            SELECT COUNT(*) FROM outbox_deliveries d
            WHERE (SELECT COUNT(*) FROM outbox_attempts a WHERE a.delivery_id = d.id AND a.outcome = 'delivered') <> 1
            """)).ShouldBe(0, "each delivery delivered exactly once");

        // Once in effect: what Salesforce applied last for each registration is what the registration is now.
        var applied = Crm.LogEntries
            .Where(e => e.RequestMessage.Path.StartsWith(UpsertPath, StringComparison.Ordinal) && StatusOf(e) is >= 200 and < 300)
            .GroupBy(e => e.RequestMessage.Path[UpsertPath.Length..])
            .ToDictionary(g => g.Key, g => BodyOf(g.OrderBy(e => e.RequestMessage.DateTime).Last()).Get<string>("PartnerDeals_Status__c"));
        var wrong = new List<string>();
        foreach (var id in registrations)
        {
            var status = Status(await ReadAsync(id));
            if (!applied.TryGetValue(id, out var inCrm) || inCrm != status) wrong.Add($"{id}: {status} here, {inCrm ?? "nothing"} in Salesforce");
        }
        wrong.ShouldBeEmpty();
    }
}
