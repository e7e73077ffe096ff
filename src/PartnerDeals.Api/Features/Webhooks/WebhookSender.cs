using System.Diagnostics;
using System.Text;
using Microsoft.Extensions.Options;
using PartnerDeals.Api.Features.Audit;
using PartnerDeals.Api.Features.Outbox;
using PartnerDeals.Api.Infrastructure.Data;

namespace PartnerDeals.Api.Features.Webhooks;

/// <summary>
/// The partner webhooks' sender: each enabled endpoint is a destination; each delivery is signed and posted on its own. Endpoints
/// share an instance fairly (<c>MaxInFlightPerEndpoint</c>, <c>MaxInFlightPerPartner</c>), so a slow receiver delays only itself.
/// Any 2xx within the timeout delivers; <c>410 Gone</c> kills the delivery and disables the endpoint; anything else (another
/// status, a timeout, a refused connection, an address webhooks may not reach) is tried again on the retry schedule, and the
/// delivery is dead after its last try. No redirect is followed, no proxy is used, and only the first KiB of an answer is read.
/// </summary>
public sealed partial class WebhookSender(
    WebhookStore webhooks, WebhookSigning signing, IHttpClientFactory http, AuditTrail audit, IOptions<WebhookOptions> options, TimeProvider clock,
    ILogger<WebhookSender> logger) : IDeliverySender
{
    public const string ChannelName = "webhook";
    public const string ClientName = "webhooks";
    private const int ExcerptBytes = 1024;

    private readonly WebhookOptions _options = options.Value;

    public DeliveryChannel Channel { get; } = new(
        ChannelName, options.Value.BatchSize, options.Value.MaxInFlightPerEndpoint, options.Value.MaxInFlightPerPartner, OneBatchAtATime: false,
        options.Value.Lease, options.Value.PollInterval, options.Value.Retries, Jitter: (0.9, 1.1), LatestWins: false, NamesDestinations: false);

    /// <summary>An endpoint as a destination of the outbox.</summary>
    public static Destination To(Guid webhookId, Guid partnerId) => new(ChannelName, webhookId.ToString("D"), partnerId);

    // The enabled endpoints as the last look read them (URL and secrets), so that a lease that follows sends without reading
    // its endpoint again. A change shows at the next look; a secret rotated in between still signs during its overlap.
    private IReadOnlyDictionary<string, StoredWebhook> _enabled = new Dictionary<string, StoredWebhook>();

    public async Task<IReadOnlyList<Destination>> DestinationsAsync(DbSession session, CancellationToken ct)
    {
        var enabled = await webhooks.EnabledAsync(session, ct);
        _enabled = enabled.ToDictionary(e => e.Id.ToString("D"));
        return enabled.Select(e => To(e.Id, e.PartnerId)).ToList();
    }

    /// <summary>Each delivery on its own: a slow answer holds up no other.</summary>
    public IReadOnlyList<Task<Sent>> Send(Destination to, IReadOnlyList<LeasedDelivery> deliveries, CancellationToken ct)
    {
        var endpoint = _enabled.TryGetValue(to.Name, out var known)
            ? Task.FromResult<StoredWebhook?>(known)
            : webhooks.GetAsync(to.PartnerId!.Value, Guid.Parse(to.Name), ct);
        var client = http.CreateClient(ClientName);
        return deliveries.Select(async d => await endpoint is { } found
            ? await SendAsync(client, found, d, ct)
            : new Sent("failed", AttemptVerdict.Failed, clock.GetUtcNow(), 0, Error: "The endpoint was removed.")).ToList();
    }

    /// <summary>An endpoint that answered 410 is disabled; one failing since before <c>DisableAfter</c> is disabled too.</summary>
    public async Task RecordedAsync(DbSession session, IReadOnlyList<(LeasedDelivery Delivery, Sent Sent)> recorded, DateTimeOffset now, CancellationToken ct)
    {
        foreach (var (delivery, sent) in recorded)
        {
            var id = Guid.Parse(delivery.To.Name);
            if (sent.Verdict == AttemptVerdict.Delivered)
            {
                await webhooks.DeliveredToAsync(session, id, ct);
                continue;
            }
            await webhooks.FailedToAsync(session, id, now, ct);
            var (reason, failingBefore) = sent.Outcome == "gone" ? ("gone", (DateTimeOffset?)null) : ("failing", now - _options.DisableAfter);
            if (await webhooks.DisableFailingAsync(session, id, reason, now, failingBefore, ct))
            {
                await audit.RecordAsync(session, "webhook", id, "webhook.disabled", Actor.System,
                    new { reason, partnerId = delivery.To.PartnerId, lastStatusCode = sent.StatusCode }, ct);
                LogDisabled(id, reason);
            }
        }
    }

    private async Task<Sent> SendAsync(HttpClient client, StoredWebhook endpoint, LeasedDelivery delivery, CancellationToken ct)
    {
        var started = clock.GetUtcNow();
        var timer = Stopwatch.GetTimestamp();
        string outcome;
        int? status = null;
        string? response = null;
        string? error = null;
        try
        {
            // During a rotation the previous secret's signature comes first: some verifiers (the StandardWebhooks
            // package 1.1.2 among them) try only the first, and a receiver that has not switched yet must not break.
            var secrets = new List<string>();
            if (endpoint.ProtectedPreviousSecret is { } previous && endpoint.PreviousSecretUntil > started) secrets.Add(signing.Unprotect(previous));
            secrets.Add(signing.Unprotect(endpoint.ProtectedSecret));
            var messageId = WebhookSigning.MessageId(delivery.EventId);
            var timestamp = started.ToUnixTimeSeconds();
            using var request = new HttpRequestMessage(HttpMethod.Post, endpoint.Url)
            {
                Content = new StringContent(delivery.Payload, Encoding.UTF8, "application/json"),
            };
            request.Headers.Add("webhook-id", messageId);
            request.Headers.Add("webhook-timestamp", timestamp.ToString(System.Globalization.CultureInfo.InvariantCulture));
            request.Headers.Add("webhook-signature", WebhookSigning.Signature(messageId, timestamp, delivery.Payload, secrets));
            request.Headers.UserAgent.ParseAdd("PartnerDeals-Webhooks/1.0");

            using var attempt = CancellationTokenSource.CreateLinkedTokenSource(ct);
            attempt.CancelAfter(_options.Timeout);
            using var answer = await client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, attempt.Token);
            status = (int)answer.StatusCode;
            response = await ExcerptAsync(answer, attempt.Token);
            outcome = status is >= 200 and < 300 ? "delivered" : status == 410 ? "gone" : "failed";
        }
        catch (OperationCanceledException) when (!ct.IsCancellationRequested)
        {
            (outcome, error) = ("timeout", $"No answer within {_options.Timeout.TotalSeconds:0.###} s.");
        }
        catch (HttpRequestException e) when (Refused(e) is { } refused)
        {
            (outcome, error) = ("refused_address", refused.Message);
        }
        catch (HttpRequestException e)
        {
            (outcome, error) = ("unreachable", e.Message);
        }
        catch (Exception e) when (e is System.Security.Cryptography.CryptographicException or InvalidOperationException or UriFormatException)
        {
            // A secret that no key of the ring unprotects, or a URL the client will not send to: tried again, then dead.
            (outcome, error) = ("failed", e.GetType().Name);
        }

        var latency = (int)Math.Min(int.MaxValue, Stopwatch.GetElapsedTime(timer).TotalMilliseconds);
        var verdict = outcome switch
        {
            "delivered" => AttemptVerdict.Delivered,
            "gone" => AttemptVerdict.Dead,
            _ => AttemptVerdict.Failed,
        };
        return new Sent(outcome, verdict, started, latency, status, error, response);
    }

    private static async Task<string?> ExcerptAsync(HttpResponseMessage answer, CancellationToken ct)
    {
        await using var body = await answer.Content.ReadAsStreamAsync(ct);
        var buffer = new byte[ExcerptBytes];
        var read = 0;
        while (read < buffer.Length && await body.ReadAsync(buffer.AsMemory(read), ct) is var n and > 0) read += n;
        return read == 0 ? null : Encoding.UTF8.GetString(buffer, 0, read);
    }

    private static RefusedAddressException? Refused(Exception e)
    {
        for (var inner = e.InnerException; inner is not null; inner = inner.InnerException)
        {
            if (inner is RefusedAddressException refused) return refused;
        }
        return null;
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Webhook endpoint {WebhookId} disabled: {Reason}")]
    private partial void LogDisabled(Guid webhookId, string reason);
}
