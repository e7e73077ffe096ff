using System.Net;
using System.Text.Json.Nodes;
using Microsoft.Extensions.DependencyInjection;
using PartnerDeals.Api.Features.Outbox;
using PartnerDeals.Api.Features.Sync;
using PartnerDeals.IntegrationTests.Registrations;
using WireMock.Logging;
using WireMock.Server;
using PartnerDeals.IntegrationTests.Support;
using static PartnerDeals.IntegrationTests.Support.RegistrationCalls;

namespace PartnerDeals.IntegrationTests.Sync;

/// <summary>
/// The real service with its real adapters and dispatcher, against a WireMock server that answers as
/// the CRM does. The dispatcher's own loop sleeps (an hour between rounds) and tests run rounds with
/// <see cref="DispatchAsync"/>, so each step of a scenario is seen in order; engine tests that need
/// the loop running set <see cref="PollInterval"/>.
/// </summary>
public abstract class SyncTest : HostTest
{
    protected WireMockServer Crm { get; } = WireMockServer.Start();

    /// <summary>The CRM's section of the settings, pointing at <see cref="Crm"/>.</summary>
    protected abstract IDictionary<string, string?> CrmSettings { get; }

    protected virtual string PollInterval => "01:00:00";

    protected override IDictionary<string, string?>? Settings => Timings(PollInterval).Concat(CrmSettings)
        .GroupBy(s => s.Key).ToDictionary(g => g.Key, g => g.Last().Value);

    /// <summary>Short waits so scenarios run in seconds; a breaker that only trips when a test sets it low.</summary>
    protected static Dictionary<string, string?> Timings(string pollInterval) => new()
    {
        ["Crm:Delivery:PollInterval"] = pollInterval,
        ["Crm:Delivery:Lease"] = "00:00:10",
        ["Crm:Delivery:MaxAttempts"] = "4",
        ["Crm:Delivery:BackoffBase"] = "00:00:00.050",
        ["Crm:Delivery:BackoffMax"] = "00:00:00.200",
        ["Crm:Resilience:AttemptTimeout"] = "00:00:01",
        ["Crm:Resilience:RetryAttempts"] = "2",
        ["Crm:Resilience:RetryBaseDelay"] = "00:00:00.020",
        ["Crm:Resilience:MaxInlineRetryAfter"] = "00:00:02",
        ["Crm:Resilience:MinimumThroughput"] = "1000",
        ["Crm:Resilience:BreakDuration"] = "00:00:01",
    };

    [OneTimeTearDown]
    public void StopCrm()
    {
        Crm.Stop();
        Crm.Dispose();
    }

    protected Task<int> DispatchAsync() => Factory.Services.GetRequiredService<OutboxDispatcher>().DispatchOnceAsync(CrmSender.ChannelName, CancellationToken.None);

    /// <summary>Runs dispatcher rounds until the registration's deliveries are all delivered or dead; answers them oldest first.</summary>
    protected async Task<IReadOnlyList<JsonObject>> DispatchUntilSettledAsync(string registrationId, int expected = 1, TimeSpan? timeout = null)
    {
        return await Eventually.UntilAsync(
            async () =>
            {
                await DispatchAsync();
                return await DeliveriesAsync(Admin, registrationId);
            },
            deliveries => deliveries.Count >= expected && deliveries.All(d => d.Get<string>("status") != "pending"),
            "the registration's deliveries to be delivered or dead", timeout ?? TimeSpan.FromSeconds(20));
    }

    /// <summary>A registration's deliveries, each read in full (with its attempts), oldest first.</summary>
    protected static async Task<IReadOnlyList<JsonObject>> DeliveriesAsync(HttpClient client, string registrationId)
    {
        var list = await client.GetAsync($"/v1/sync/deliveries?registrationId={registrationId}&limit=200");
        list.StatusCode.ShouldBe(HttpStatusCode.OK, await list.Content.ReadAsStringAsync());
        var result = new List<JsonObject>();
        foreach (var item in (await ReadJsonAsync(list))["items"]!.AsArray())
        {
            result.Add((await ReadJsonAsync(await client.GetAsync($"/v1/sync/deliveries/{Id(item!)}"))).AsObject());
        }
        return result;
    }

    protected static string Outcomes(JsonObject delivery) =>
        string.Join(",", delivery["attemptLog"]!.AsArray().Select(a => a!.Get<string>("outcome")));

    /// <summary>The requests the CRM received whose path contains <paramref name="pathPart"/>, in arrival order.</summary>
    protected IReadOnlyList<ILogEntry> Requests(string pathPart, string? method = null) => Crm.LogEntries
        .Where(e => e.RequestMessage.Path.Contains(pathPart, StringComparison.Ordinal) && (method is null || e.RequestMessage.Method == method))
        .OrderBy(e => e.RequestMessage.DateTime)
        .ToList();

    protected static int StatusOf(ILogEntry entry) => Convert.ToInt32(entry.ResponseMessage.StatusCode, System.Globalization.CultureInfo.InvariantCulture);

    protected static string Header(ILogEntry entry, string name) =>
        string.Join(",", entry.RequestMessage.Headers!.First(h => string.Equals(h.Key, name, StringComparison.OrdinalIgnoreCase)).Value);

    protected static JsonObject BodyOf(ILogEntry entry) => JsonNode.Parse(entry.RequestMessage.Body!)!.AsObject();

    /// <summary>Registers a new company for a new silver partner (approved on the spot); answers the registration.</summary>
    protected async Task<(JsonObject Registration, PartnerClient Partner)> RegisterNewAsync(string tier = "silver")
    {
        var partner = await PartnerAsync(tier);
        var (company, domain) = NewCompany();
        return (await RegisterAsync(partner.Client, Body(company, domain)), partner);
    }

    /// <summary>Asks for a pull of <paramref name="crm"/> and runs the puller until that run has finished; answers its status.</summary>
    protected async Task<JsonObject> PullAsync(string crm, TimeSpan? timeout = null)
    {
        var previous = (await PipelineStatusAsync(crm))["lastFinishedAt"]?.GetValue<DateTimeOffset>();
        (await Admin.PostAsync($"/v1/sync/pipeline/{crm}/run", null)).StatusCode.ShouldBe(System.Net.HttpStatusCode.Accepted);
        var puller = Factory.Services.GetRequiredService<PartnerDeals.Api.Features.PipelinePull.PipelinePuller>();
        return await Eventually.UntilAsync(
            async () =>
            {
                // The hosted puller may take the run first: what counts is that one finished.
                await puller.PullOnceAsync(CancellationToken.None);
                return await PipelineStatusAsync(crm);
            },
            status => status["lastFinishedAt"]?.GetValue<DateTimeOffset>() is { } finished && finished != previous,
            "the pull to finish", timeout ?? TimeSpan.FromSeconds(20));
    }

    protected async Task<JsonObject> PipelineStatusAsync(string crm) =>
        (await ReadJsonAsync(await Admin.GetAsync("/v1/sync/pipeline"))).AsArray().Single(s => s!.Get<string>("crm") == crm)!.AsObject();

    /// <summary>A CRM never pulled is due at once: the host's first run, against no stubs yet, ends before any test starts.</summary>
    protected async Task WaitForFirstPullAsync(string crm)
    {
        await Eventually.UntilAsync(async () => (await PipelineStatusAsync(crm))["lastFinishedAt"] is not null, "the first pull to finish",
            TimeSpan.FromSeconds(20));
    }
}
