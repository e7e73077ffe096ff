using System.Diagnostics;
using System.Diagnostics.Metrics;
using System.Text;
using Microsoft.Extensions.Options;
using PartnerDeals.Api.Infrastructure.Data;

namespace PartnerDeals.Api.Features.Webhooks;

/// <summary>A delivery this instance has leased, with what to send and where.</summary>
public sealed record LeasedWebhook(
    Guid Id, Guid LeaseId, int Attempts, Guid EventId, string EventType, Guid SubscriptionId, Guid PartnerId, string Payload, string Url,
    string ProtectedSecret, string? ProtectedPreviousSecret, DateTimeOffset? PreviousSecretUntil);

/// <summary>How one attempt went, and what it leaves the delivery and its endpoint as.</summary>
public sealed record WebhookAttemptResult(
    LeasedWebhook Delivery, string Outcome, int? StatusCode, string? Response, string? Error, DateTimeOffset StartedAt, int LatencyMs,
    string Status, int Attempts, DateTimeOffset NextAttemptAt);

/// <summary>
/// Delivers partner webhooks. Every instance runs one: it leases due deliveries (another instance skips them
/// until the lease runs out, so a crashed instance's work is taken over), signs and posts each, and records
/// every attempt as it finishes. Endpoints share the instance fairly: the endpoint waiting longest is served first, none
/// has more than <c>MaxInFlightPerEndpoint</c> deliveries in flight and no partner more than <c>MaxInFlightPerPartner</c>,
/// so a slow receiver delays only itself. Any 2xx within the timeout delivers; <c>410 Gone</c> disables the endpoint; anything else
/// (another status, a timeout, a refused connection, an address webhooks may not reach) is tried again on
/// the retry schedule, and the delivery is dead after its last try. No redirect is followed, no proxy is used,
/// and only the first KiB of an answer is read.
/// </summary>
public sealed partial class WebhookDispatcher : BackgroundService
{
    public const string MeterName = "PartnerDeals.Webhooks";
    public const string ClientName = "webhooks";
    private const int ExcerptBytes = 1024;

    private readonly Database _database;
    private readonly WebhookDeliveries _deliveries;
    private readonly WebhookSigning _signing;
    private readonly IHttpClientFactory _http;
    private readonly TimeProvider _clock;
    private readonly ILogger<WebhookDispatcher> _logger;
    private readonly WebhookOptions _options;
    private readonly Counter<long> _attempts;
    private readonly Counter<long> _finished;
    private DateTimeOffset? _oldestPending;

    // Deliveries in flight on this instance, per endpoint and per partner (ids of both are UUIDv7: they never collide), and in all.
    private readonly Dictionary<Guid, int> _inFlight = [];
    private int _inFlightTotal;

    // Attempts finished and waiting to be written, and the one write under way.
    private readonly System.Collections.Concurrent.ConcurrentQueue<WebhookAttemptResult> _finishedUnrecorded = new();
    private readonly SemaphoreSlim _recording = new(1, 1);

    public WebhookDispatcher(Database database, WebhookDeliveries deliveries, WebhookSigning signing, IHttpClientFactory http, IOptions<WebhookOptions> options,
        IMeterFactory meters, TimeProvider clock, ILogger<WebhookDispatcher> logger)
    {
        (_database, _deliveries, _signing, _http, _clock, _logger, _options) = (database, deliveries, signing, http, clock, logger, options.Value);
        var meter = meters.Create(MeterName);
        _attempts = meter.CreateCounter<long>("partnerdeals.webhooks.attempts",
            description: "Webhook attempts by outcome (delivered, failed, timeout, unreachable, refused_address, gone).");
        _finished = meter.CreateCounter<long>("partnerdeals.webhooks.deliveries", description: "Webhook deliveries finished, by outcome (delivered, dead).");
        meter.CreateObservableGauge("partnerdeals.webhooks.oldest_pending_age",
            () => _oldestPending is { } oldest ? Math.Max(0, (_clock.GetUtcNow() - oldest).TotalSeconds) : 0,
            unit: "s", description: "Age of the oldest pending webhook delivery (0 when none waits).");
    }

    /// <summary>
    /// One round, for tests and tools: leases what there is room for, sends each, records each as it finishes, and waits for all
    /// of them. Answers how many were attempted. The service never waits for a round: see <see cref="ExecuteAsync"/>.
    /// </summary>
    public async Task<int> DispatchOnceAsync(CancellationToken ct)
    {
        var started = await StartDueAsync(_http.CreateClient(ClientName), keepGoing: false, ct);
        await Task.WhenAll(started);
        return started.Count;
    }

    /// <summary>
    /// Leases due deliveries for the room left — <c>BatchSize</c> in flight on this instance, <c>MaxInFlightPerEndpoint</c> to any
    /// one endpoint, <c>MaxInFlightPerPartner</c> to any one partner's endpoints — and starts each: a slow receiver holds only
    /// its own slots, and one partner's endpoints together never all of them.
    /// </summary>
    private async Task<IReadOnlyList<Task>> StartDueAsync(HttpClient client, bool keepGoing, CancellationToken ct)
    {
        if (Free() <= 0) return [];
        var due = await _deliveries.DueEndpointsAsync(_clock.GetUtcNow(), ct);
        if (!due.Any(e => HasRoom(e.Endpoint, e.Partner))) return [];
        await using var connection = await _database.OpenAsync(ct);
        await using var session = await _database.BeginWriteAsync(connection, ct);
        var leased = await LeaseAsync(session, ct);
        try
        {
            await session.CommitAsync(ct);
        }
        catch
        {
            foreach (var delivery in leased) GiveBack(delivery);
            throw;
        }
        return leased.Select(delivery => DeliverAsync(client, delivery, keepGoing, ct)).ToList();
    }

    /// <summary>
    /// Leases what there is room for in <paramref name="session"/>, counted in flight as it is granted. When the transaction
    /// does not commit, the caller hands the leases back.
    /// </summary>
    private async Task<IReadOnlyList<LeasedWebhook>> LeaseAsync(DbSession session, CancellationToken ct) =>
        Free() is var free and > 0 ? await _deliveries.LeaseDueAsync(session, free, Reserve, Release, _clock.GetUtcNow(), _options.Lease, ct) : [];

    private int Free()
    {
        lock (_inFlight) return _options.BatchSize - _inFlightTotal;
    }

    /// <summary>
    /// Reserves up to <paramref name="wanted"/> slots for an endpoint of a partner: no more than this instance has left, nor
    /// the endpoint (<c>MaxInFlightPerEndpoint</c>), nor the partner's endpoints together (<c>MaxInFlightPerPartner</c>).
    /// </summary>
    private int Reserve(Guid endpoint, Guid partner, int wanted)
    {
        lock (_inFlight)
        {
            var granted = Math.Min(wanted, Room(endpoint, partner));
            if (granted <= 0) return 0;
            _inFlight[endpoint] = _inFlight.GetValueOrDefault(endpoint) + granted;
            _inFlight[partner] = _inFlight.GetValueOrDefault(partner) + granted;
            _inFlightTotal += granted;
            return granted;
        }
    }

    private bool HasRoom(Guid endpoint, Guid partner)
    {
        lock (_inFlight) return Room(endpoint, partner) > 0;
    }

    /// <summary>The slots left for an endpoint of a partner: on this instance, for the endpoint, for the partner. Under the lock.</summary>
    private int Room(Guid endpoint, Guid partner) => Math.Min(_options.BatchSize - _inFlightTotal, Math.Min(
        _options.MaxInFlightPerEndpoint - _inFlight.GetValueOrDefault(endpoint), _options.MaxInFlightPerPartner - _inFlight.GetValueOrDefault(partner)));

    private void Release(Guid endpoint, Guid partner, int count)
    {
        lock (_inFlight)
        {
            if ((_inFlight[endpoint] -= count) == 0) _inFlight.Remove(endpoint);
            if ((_inFlight[partner] -= count) == 0) _inFlight.Remove(partner);
            _inFlightTotal -= count;
        }
    }

    private void GiveBack(LeasedWebhook delivery) => Release(delivery.SubscriptionId, delivery.PartnerId, 1);

    /// <summary>Sends one delivery; its attempt is recorded as soon as it finishes, whatever the others do.</summary>
    private async Task DeliverAsync(HttpClient client, LeasedWebhook delivery, bool keepGoing, CancellationToken ct)
    {
        WebhookAttemptResult result;
        try
        {
            result = await SendAsync(client, delivery, ct);
        }
        catch (Exception e) when (!ct.IsCancellationRequested)
        {
            // Unsent and unrecorded: the lease runs out and it is tried again.
            LogRoundFailed(e);
            GiveBack(delivery);
            return;
        }
        _finishedUnrecorded.Enqueue(result);
        await RecordFinishedAsync(client, keepGoing, ct);
    }

    /// <summary>
    /// Records every attempt finished and not yet recorded in one write transaction — those that finish while a write is
    /// under way share the next, so a busy dispatcher's writes do not queue behind each other for the database's one write
    /// lock — and, in the same transaction, leases what the freed room takes next, which starts at once.
    /// </summary>
    private async Task RecordFinishedAsync(HttpClient client, bool keepGoing, CancellationToken ct)
    {
        await _recording.WaitAsync(ct);
        var batch = new List<WebhookAttemptResult>();
        var freed = false;
        IReadOnlyList<LeasedWebhook> next = [];
        try
        {
            while (_finishedUnrecorded.TryDequeue(out var finished)) batch.Add(finished);
            if (batch.Count == 0) return;
            var now = _clock.GetUtcNow();
            await using var connection = await _database.OpenAsync(ct);
            await using var session = await _database.BeginWriteAsync(connection, ct);
            var (lost, disabled) = await _deliveries.RecordAsync(session, batch, now, now - _options.DisableAfter, ct);
            foreach (var result in batch) GiveBack(result.Delivery);
            freed = true;
            if (keepGoing) next = await LeaseAsync(session, ct);
            await session.CommitAsync(ct);
            Count(batch, lost, disabled);
        }
        catch (Exception e) when (!ct.IsCancellationRequested)
        {
            // Nothing is lost: an unrecorded delivery keeps its lease until it runs out and is tried again.
            LogRoundFailed(e);
            foreach (var delivery in next) GiveBack(delivery);
            next = [];
        }
        finally
        {
            if (!freed) foreach (var result in batch) GiveBack(result.Delivery);
            _recording.Release();
        }
        foreach (var delivery in next) _ = DeliverAsync(client, delivery, keepGoing, ct);
    }

    private void Count(IReadOnlyList<WebhookAttemptResult> results, IReadOnlyList<Guid> lost, IReadOnlyList<(Guid Id, string Reason)> disabled)
    {
        foreach (var result in results)
        {
            var delivery = result.Delivery;
            if (lost.Contains(delivery.Id))
            {
                LogLeaseLost(delivery.Id);
                continue;
            }
            _attempts.Add(1, new KeyValuePair<string, object?>("outcome", result.Outcome));
            if (result.Status != "pending") _finished.Add(1, new KeyValuePair<string, object?>("outcome", result.Status));
            if (result.Status == "dead") LogDead(delivery.Id, delivery.SubscriptionId, delivery.EventType, result.Attempts, result.Outcome);
        }
        foreach (var (id, reason) in disabled) LogDisabled(id, reason);
    }

    private async Task<WebhookAttemptResult> SendAsync(HttpClient client, LeasedWebhook delivery, CancellationToken ct)
    {
        var started = _clock.GetUtcNow();
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
            if (delivery.ProtectedPreviousSecret is { } previous && delivery.PreviousSecretUntil > started) secrets.Add(_signing.Unprotect(previous));
            secrets.Add(_signing.Unprotect(delivery.ProtectedSecret));
            var messageId = WebhookSigning.MessageId(delivery.EventId);
            var timestamp = started.ToUnixTimeSeconds();
            using var request = new HttpRequestMessage(HttpMethod.Post, delivery.Url)
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
        var attempts = delivery.Attempts + 1;
        var retries = _options.Retries;
        var (state, next) = outcome switch
        {
            "delivered" => ("delivered", started),
            "gone" => ("dead", started),
            _ when attempts > retries.Count => ("dead", started),
            // ±10% so that the retries of many deliveries that failed together spread out.
            _ => ("pending", started + retries[attempts - 1] * (0.9 + Random.Shared.NextDouble() * 0.2)),
        };
        return new WebhookAttemptResult(delivery, outcome, status, response, error, started, latency, state, attempts, next);
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

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        // Polling is a cadence of the machine, not a time of the domain: a test clock moved by months must not fire it
        // once per interval skipped, and a stopped one must not stop deliveries. When a delivery is due stays on the clock.
        var client = _http.CreateClient(ClientName);
        var running = new List<Task>();
        long lastLook = 0;
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                var started = await StartDueAsync(client, keepGoing: true, stoppingToken);
                running.AddRange(started);
                running.RemoveAll(t => t.IsCompleted);
                // Room left and more found: look again at once. Otherwise rest until a delivery finishes (its slot is free
                // again) or the poll interval passes (something may have fallen due).
                if (started.Count == 0 || running.Count >= _options.BatchSize)
                {
                    await Task.WhenAny([.. running, Task.Delay(_options.PollInterval, stoppingToken)]);
                }
                // The backlog's age for /metrics, every 5 s: a query, not worth one per look.
                if (Stopwatch.GetElapsedTime(lastLook) > TimeSpan.FromSeconds(5))
                {
                    _oldestPending = await _deliveries.OldestPendingAsync(stoppingToken);
                    lastLook = Stopwatch.GetTimestamp();
                }
            }
            catch (Exception e) when (!stoppingToken.IsCancellationRequested)
            {
                LogRoundFailed(e);
                await Task.Delay(_options.PollInterval, stoppingToken);
            }
        }
        // Deliveries still in flight are not waited for: their leases run out and another instance, or the next start, sends them.
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Webhook delivery {DeliveryId} of {EventType} to endpoint {WebhookId} is dead after {Attempts} attempt(s), last {Outcome}")]
    private partial void LogDead(Guid deliveryId, Guid webhookId, string eventType, int attempts, string outcome);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Webhook endpoint {WebhookId} disabled: {Reason}")]
    private partial void LogDisabled(Guid webhookId, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Webhook delivery {DeliveryId}: the lease ran out before the result was recorded; the new holder's result stands")]
    private partial void LogLeaseLost(Guid deliveryId);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Webhook round failed; trying again on the next tick")]
    private partial void LogRoundFailed(Exception exception);
}
