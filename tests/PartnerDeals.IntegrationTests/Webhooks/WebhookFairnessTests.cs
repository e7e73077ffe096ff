using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using PartnerDeals.IntegrationTests.Registrations;
using PartnerDeals.IntegrationTests.Support;
using static PartnerDeals.IntegrationTests.Support.RegistrationCalls;

namespace PartnerDeals.IntegrationTests.Webhooks;

/// <summary>
/// Endpoints share the dispatcher fairly: one partner's slow receivers (answering after 8 s, within the timeout, never
/// failing) hold only their own slots, and another partner's events arrive as fast as without them.
/// </summary>
public sealed class WebhookFairnessTests : HostTest
{
    private WebhookReceiver _slow = null!;
    private WebhookReceiver _fast = null!;

    protected override IDictionary<string, string?> Settings => new Dictionary<string, string?>
    {
        ["Webhooks:AllowLoopbackHttp"] = "true",
        ["Webhooks:PollInterval"] = "00:00:00.05",
        ["Webhooks:Timeout"] = "00:00:10",
        ["Webhooks:Lease"] = "00:01:00",
    };

    [OneTimeSetUp]
    public async Task StartReceivers()
    {
        _slow = await WebhookReceiver.StartAsync();
        _slow.Delay = TimeSpan.FromSeconds(8);
        _fast = await WebhookReceiver.StartAsync();
    }

    [OneTimeTearDown]
    public async Task StopReceivers()
    {
        await _slow.DisposeAsync();
        await _fast.DisposeAsync();
    }

    [Test]
    public async Task TenSlowEndpointsOfOnePartner_DoNotDelayAnotherPartnersWebhook()
    {
        var victim = await PartnerAsync("gold");
        await SubscribeAsync(victim, _fast, "/victim");
        await LatencyAsync(victim);
        var baseline = await LatencyAsync(victim);

        var flooder = await PartnerAsync("gold");
        for (var i = 0; i < 10; i++) await SubscribeAsync(flooder, _slow, $"/slow/{i}");
        for (var i = 0; i < 10; i++) await RegisterAsync(flooder.Client, Body(NewCompany().Name, null));
        await WaitAsync(() => _slow.Arrived >= 8, "the flood to hold its slots");

        var flooded = await LatencyAsync(victim);

        TestContext.Out.WriteLine($"victim's registration.created: {baseline.TotalMilliseconds:0} ms alone, {flooded.TotalMilliseconds:0} ms beside the flood");
        flooded.ShouldBeLessThan(baseline + TimeSpan.FromSeconds(2));
        _slow.Delivered.Count.ShouldBeLessThan(100, "the flood is still being delivered");
    }

    [Test]
    public async Task TestEvents_AreMeteredPerEndpoint()
    {
        var partner = await PartnerAsync("gold");
        var webhookId = await SubscribeAsync(partner, _fast, "/tests");
        for (var i = 0; i < 5; i++)
        {
            (await partner.Client.PostAsync($"/v1/partners/{partner.Id}/webhooks/{webhookId}/test", null)).StatusCode.ShouldBe(HttpStatusCode.Accepted);
        }
        var sixth = await partner.Client.PostAsync($"/v1/partners/{partner.Id}/webhooks/{webhookId}/test", null);
        await ReadProblemAsync(sixth, HttpStatusCode.TooManyRequests, "quota-exceeded");
        sixth.Headers.RetryAfter!.Delta.ShouldBe(TimeSpan.FromSeconds(60));
    }

    /// <summary>From the registration's 201 to its <c>registration.created</c> at the victim's receiver.</summary>
    private async Task<TimeSpan> LatencyAsync(PartnerClient victim)
    {
        var timer = Stopwatch.StartNew();
        var id = Id(await RegisterAsync(victim.Client, Body(NewCompany().Name, null)));
        await WaitAsync(() => _fast.Delivered.Any(r => r.Type == "registration.created" && r.Json["data"]!.Get<string>("id") == id),
            "the victim's registration.created");
        return timer.Elapsed;
    }

    private async Task<string> SubscribeAsync(PartnerClient partner, WebhookReceiver receiver, string path)
    {
        var response = await partner.Client.PostAsJsonAsync($"/v1/partners/{partner.Id}/webhooks",
            new { url = receiver.Url(path), events = new[] { "registration.created" } });
        response.StatusCode.ShouldBe(HttpStatusCode.Created, await response.Content.ReadAsStringAsync());
        return (await ReadJsonAsync(response))["webhook"]!.Get<string>("id");
    }

    private Task WaitAsync(Func<bool> done, string what) =>
        _fast.WaitForAsync(_ => done(), TimeSpan.FromSeconds(30), what);
}
