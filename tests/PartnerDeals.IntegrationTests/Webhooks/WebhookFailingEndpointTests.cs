using System.Net;
using System.Net.Http.Json;
using PartnerDeals.IntegrationTests.Registrations;
using PartnerDeals.IntegrationTests.Support;

namespace PartnerDeals.IntegrationTests.Webhooks;

/// <summary>An endpoint that fails every attempt for longer than <c>Webhooks:DisableAfter</c> is turned off, and program health says so.</summary>
public sealed class WebhookFailingEndpointTests : HostTest
{
    private WebhookReceiver _receiver = null!;

    protected override IDictionary<string, string?> Settings => new Dictionary<string, string?>(WebhookReceiver.QuickRetries("00:00:00.1"))
    {
        ["Webhooks:AllowLoopbackHttp"] = "true",
        ["Webhooks:PollInterval"] = "00:00:00.05",
        ["Webhooks:DisableAfter"] = "00:00:01",
    };

    [OneTimeSetUp]
    public async Task StartReceiver() => _receiver = await WebhookReceiver.StartAsync();

    [OneTimeTearDown]
    public async Task StopReceiver() => await _receiver.DisposeAsync();

    [Test]
    public async Task EndpointFailingLongerThanAllowed_IsDisabled_AndListedInProgramHealth()
    {
        _receiver.Answer = (_, _) => 500;
        var partner = await PartnerAsync("silver");
        var created = await partner.Client.PostAsJsonAsync($"/v1/partners/{partner.Id}/webhooks", new { url = _receiver.Url(), events = new[] { "*" } });
        created.StatusCode.ShouldBe(HttpStatusCode.Created);
        var id = (await ReadJsonAsync(created))["webhook"]!.Get<string>("id");
        (await partner.Client.PostAsync($"/v1/partners/{partner.Id}/webhooks/{id}/test", null)).StatusCode.ShouldBe(HttpStatusCode.Accepted);

        var webhook = await Eventually.UntilAsync(
            async () => await ReadJsonAsync(await partner.Client.GetAsync($"/v1/partners/{partner.Id}/webhooks/{id}")),
            current => !current.Get<bool>("enabled"), "the failing endpoint to be disabled");
        webhook.Get<string>("disabledReason").ShouldBe("failing");
        webhook["failingSince"].ShouldNotBeNull();
        var attempts = _receiver.Received.Count;
        attempts.ShouldBeGreaterThan(2, "it was tried again before it was turned off");
        // Every request recorded as an attempt, and the endpoint off: nothing can be leased for it any more.
        await Eventually.UntilAsync(async () => (await ReadJsonAsync(await partner.Client.GetAsync(
                $"/v1/partners/{partner.Id}/webhooks/{id}/deliveries?limit=200")))["items"]!.AsArray().Sum(d => d!["attemptLog"]!.AsArray().Count),
            count => count == _receiver.Received.Count, "every request to be recorded");
        _receiver.Received.Count.ShouldBe(attempts, "nothing more goes to a disabled endpoint");
        var health = await ReadJsonAsync(await Admin.GetAsync("/v1/program/health"));
        health["disabledWebhooks"]!.AsArray().ShouldContain(w => w!.Get<string>("webhookId") == id && w.Get<string>("reason") == "failing");
    }
}
