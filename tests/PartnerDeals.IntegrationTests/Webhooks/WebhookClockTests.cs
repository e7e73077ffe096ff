using System.Net;
using System.Net.Http.Json;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;
using PartnerDeals.Api.Features.Outbox;
using PartnerDeals.Api.Features.Registrations;
using PartnerDeals.Api.Features.Webhooks;
using PartnerDeals.IntegrationTests.Registrations;
using PartnerDeals.IntegrationTests.Support;
using static PartnerDeals.IntegrationTests.Support.RegistrationCalls;

namespace PartnerDeals.IntegrationTests.Webhooks;

/// <summary>Protection windows on the service's clock: a partner hears once that one is about to end, and when it has.</summary>
public sealed class WebhookClockTests : HostTest
{
    // Starts at the real time, so the first signatures also pass the verifier's five-minute window.
    private readonly FakeTimeProvider _clock = new(DateTimeOffset.UtcNow);
    private WebhookReceiver _receiver = null!;

    protected override TimeProvider Clock => _clock;

    protected override IDictionary<string, string?> Settings => new Dictionary<string, string?>
    {
        ["Webhooks:AllowLoopbackHttp"] = "true",
        ["Webhooks:ExpiringNoticeDays"] = "7",
    };

    [OneTimeSetUp]
    public async Task StartReceiver() => _receiver = await WebhookReceiver.StartAsync();

    [OneTimeTearDown]
    public async Task StopReceiver() => await _receiver.DisposeAsync();

    private async Task DispatchAsync()
    {
        var dispatcher = Factory.Services.GetRequiredService<OutboxDispatcher>();
        while (await dispatcher.DispatchOnceAsync(WebhookSender.ChannelName, CancellationToken.None) > 0)
        {
        }
    }

    [Test]
    public async Task ProtectionEndingSoon_IsNoticedOnce_AndItsExpiryFollows()
    {
        var partner = await PartnerAsync("silver", terms: new { protectionDays = 30 });
        var subscribed = await partner.Client.PostAsJsonAsync($"/v1/partners/{partner.Id}/webhooks",
            new { url = _receiver.Url("/expiry"), events = new[] { "registration.expiring", "registration.expired" } });
        subscribed.StatusCode.ShouldBe(HttpStatusCode.Created);
        var endpoint = await ReadJsonAsync(subscribed);
        var secret = endpoint.Get<string>("secret");
        var (name, domain) = NewCompany();
        var id = Id(await RegisterAsync(partner.Client, Body(name, domain)));
        var sweeper = Factory.Services.GetRequiredService<ProtectionSweeper>();
        var notices = Factory.Services.GetRequiredService<ExpiringNotices>();

        // The hosted sweeper and notices also wake when the clock moves: what counts is what the receiver gets.
        _clock.Advance(TimeSpan.FromDays(22));
        await notices.NoticeExpiringAsync(CancellationToken.None);
        await DispatchAsync();
        _receiver.DeliveredTo("/expiry").ShouldBeEmpty("eight days left: not yet");
        _clock.Advance(TimeSpan.FromDays(2));
        await notices.NoticeExpiringAsync(CancellationToken.None);
        await notices.NoticeExpiringAsync(CancellationToken.None);
        await DispatchAsync();
        // The hosted dispatcher may hold the notice's lease: settled before the clock jumps past it, or it is sent twice.
        await Eventually.UntilAsync(async () => (await ReadJsonAsync(await partner.Client.GetAsync(
                $"/v1/partners/{partner.Id}/webhooks/{endpoint["webhook"].Get<string>("id")}/deliveries?status=pending")))["items"]!.AsArray().Count,
            pending => pending == 0, "the notice's delivery to settle");

        _clock.Advance(TimeSpan.FromDays(7));
        await sweeper.SweepAsync(CancellationToken.None);
        await notices.NoticeExpiringAsync(CancellationToken.None);
        await DispatchAsync();
        await _receiver.WaitForAsync(r => r.DeliveredTo("/expiry").Count >= 2, TimeSpan.FromSeconds(30), "the notice and the expiry");
        await Eventually.UntilAsync(async () => (await ReadJsonAsync(await partner.Client.GetAsync(
                $"/v1/partners/{partner.Id}/webhooks/{endpoint["webhook"].Get<string>("id")}/deliveries?limit=200")))["items"]!.AsArray()
                .Sum(d => d!["attemptLog"]!.AsArray().Count) == _receiver.Received.Count(r => r.Path == "/expiry"),
            "every request to be recorded", TimeSpan.FromSeconds(30));

        var got = _receiver.DeliveredTo("/expiry");
        got.Select(r => r.Type).ShouldBe(["registration.expiring", "registration.expired"]);
        got.ShouldAllBe(r => r.SignedWith(secret));
        got[0].Json["data"]!.Get<string>("id").ShouldBe(id);
        got[0].Json["data"]!.Get<string>("status").ShouldBe("approved");
        got[1].Json["data"]!.Get<string>("status").ShouldBe("expired");
    }
}
