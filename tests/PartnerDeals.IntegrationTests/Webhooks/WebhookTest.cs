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
}
