using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using PartnerDeals.IntegrationTests.Support;

namespace PartnerDeals.IntegrationTests.Webhooks;

/// <summary>
/// Partner webhooks end to end: the real service delivers to a real receiver on loopback, which checks every
/// signature with the Standard Webhooks library's own verifier.
/// </summary>
public abstract class WebhookTest : HostTest
{
    protected WebhookReceiver Receiver { get; private set; } = null!;
    protected HttpClient Ops { get; private set; } = null!;
    protected HttpClient Crm { get; private set; } = null!;

    protected override IDictionary<string, string?> Settings => new Dictionary<string, string?>(WebhookReceiver.QuickRetries("00:00:00.2"))
    {
        ["Webhooks:AllowLoopbackHttp"] = "true",
        ["Webhooks:PollInterval"] = "00:00:00.05",
        ["Webhooks:Timeout"] = "00:00:01",
        ["Webhooks:Lease"] = "00:00:10",
        ["Webhooks:RotationOverlap"] = "00:00:03",
    };

    [OneTimeSetUp]
    public async Task StartReceiver()
    {
        Receiver = await WebhookReceiver.StartAsync();
        Ops = Factory.Client((await IssueKeyAsync("ops")).Key);
        Crm = Factory.Client((await IssueKeyAsync("crm")).Key);
    }

    [OneTimeTearDown]
    public async Task StopReceiver()
    {
        Ops.Dispose();
        Crm.Dispose();
        await Receiver.DisposeAsync();
    }

    protected static readonly TimeSpan Patience = TimeSpan.FromSeconds(30);

    protected static string NewPath() => "/hooks/" + Guid.NewGuid().ToString("N")[..10];

    /// <summary>Adds an endpoint through the partner's own key; answers its id and secret.</summary>
    protected async Task<(string Id, string Secret)> SubscribeAsync(PartnerClient partner, string path, params string[] events)
    {
        var response = await partner.Client.PostAsJsonAsync($"/v1/partners/{partner.Id}/webhooks",
            new { url = Receiver.Url(path), events = events.Length == 0 ? ["*"] : events, description = "portal" });
        response.StatusCode.ShouldBe(HttpStatusCode.Created, await response.Content.ReadAsStringAsync());
        var body = await ReadJsonAsync(response);
        return (body["webhook"]!.Get<string>("id"), body.Get<string>("secret"));
    }

    protected static object FixedFee => new
    {
        feeModel = "fixed_fee", feeAmount = 500m, feeCurrency = "EUR", feeTrigger = "closed_won", paymentNetDays = 30,
    };

    protected static Task<JsonNode> PollAsync(Func<Task<JsonNode>> read, Func<JsonNode, bool> done) =>
        Eventually.UntilAsync(read, done, "the answer to change", Patience);

    /// <summary>
    /// Waits until an endpoint has settled: while it is on, nothing of it is pending (a delivery in flight is pending); once it
    /// is off, its log records an attempt for every request its receiver got (none is in flight, and none can be leased). After
    /// that nothing more is sent unless something new is queued, so "nothing more arrived" is a fact, not a wait that a busy
    /// machine can outrun.
    /// </summary>
    protected static Task SettledAsync(HttpClient client, string partnerId, string webhookId, Func<int> received) =>
        Eventually.UntilAsync(async () =>
        {
            var endpoint = await ReadJsonAsync(await client.GetAsync($"/v1/partners/{partnerId}/webhooks/{webhookId}"));
            var log = (await ReadJsonAsync(await client.GetAsync($"/v1/partners/{partnerId}/webhooks/{webhookId}/deliveries?limit=200")))["items"]!.AsArray();
            var recorded = log.Sum(d => d!["attemptLog"]!.AsArray().Count);
            var pending = log.Count(d => d!.Get<string>("status") == "pending");
            return endpoint.Get<bool>("enabled") ? pending == 0 : recorded == received();
        }, "the endpoint's deliveries to settle", Patience);
}
