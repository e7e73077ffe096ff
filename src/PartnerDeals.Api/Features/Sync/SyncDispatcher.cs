using System.Collections.Concurrent;
using Microsoft.Extensions.Options;
using PartnerDeals.Api.Infrastructure.Http;

namespace PartnerDeals.Api.Features.Sync;

/// <summary>
/// Delivers the outbox to every enabled CRM. Every instance runs one: it leases due deliveries
/// (another instance skips them until the lease runs out, so a crashed instance's work is taken over),
/// hands them to the CRM's adapter, and records each attempt. Failures back off exponentially with
/// full jitter, or as long as the CRM asked; rate limits and an open circuit postpone without
/// spending attempts; after <see cref="DeliveryOptions.MaxAttempts"/> failures, or a refusal, a
/// delivery is dead and waits for ops.
/// </summary>
public sealed partial class SyncDispatcher(
    DeliveryStore store, IReadOnlyList<ICrmAdapter> adapters, IOptions<CrmOptions> options, SyncMetrics metrics, TimeProvider clock,
    ILogger<SyncDispatcher> logger) : BackgroundService
{
    private readonly DeliveryOptions _delivery = options.Value.Delivery;
    private readonly ResilienceOptions _resilience = options.Value.Resilience;

    // Per CRM, per instance: a rate limit or an open circuit stops claiming until then.
    private readonly ConcurrentDictionary<string, DateTimeOffset> _pausedUntil = new();

    /// <summary>One round: each CRM's due deliveries, up to a batch each, side by side. Answers how many were attempted.</summary>
    public async Task<int> DispatchOnceAsync(CancellationToken ct)
    {
        var attempted = await Task.WhenAll(adapters.Select(adapter => DispatchAsync(adapter, ct)));
        return attempted.Sum();
    }

    private async Task<int> DispatchAsync(ICrmAdapter adapter, CancellationToken ct)
    {
        var now = clock.GetUtcNow();
        if (_pausedUntil.TryGetValue(adapter.Crm, out var paused) && paused > now) return 0;
        var claimed = await store.ClaimAsync(adapter.Crm, _delivery.BatchSize, now, _delivery.Lease, ct);
        if (claimed.Count == 0) return 0;

        var started = clock.GetUtcNow();
        var results = new AttemptResult?[claimed.Count];
        var changes = new List<(int Index, CrmChange Change)>();
        for (var i = 0; i < claimed.Count; i++)
        {
            if (Read(claimed[i]) is { } change) changes.Add((i, change));
            else results[i] = new AttemptResult(AttemptOutcome.Refused, Error: "The outbox row cannot be read as a registration.");
        }
        if (changes.Count > 0)
        {
            var delivered = await adapter.DeliverAsync(changes.Select(c => c.Change).ToList(), ct);
            for (var i = 0; i < changes.Count; i++) results[changes[i].Index] = delivered[i];
        }

        var finished = clock.GetUtcNow();
        for (var i = 0; i < claimed.Count; i++) await RecordAsync(adapter.Crm, claimed[i], results[i]!, started, finished, ct);
        return claimed.Count;
    }

    private async Task RecordAsync(string crm, ClaimedDelivery claimed, AttemptResult result, DateTimeOffset started, DateTimeOffset now, CancellationToken ct)
    {
        var waited = result.Outcome is AttemptOutcome.RateLimited or AttemptOutcome.Postponed;
        var attempts = claimed.Attempts + (waited ? 0 : 1);
        var (status, next) = result.Outcome switch
        {
            AttemptOutcome.Delivered => (DeliveryStatus.Delivered, now),
            AttemptOutcome.Refused => (DeliveryStatus.Dead, now),
            AttemptOutcome.RateLimited => (DeliveryStatus.Pending, result.RetryAt ?? now + _delivery.BackoffBase),
            AttemptOutcome.Postponed => (DeliveryStatus.Pending, result.RetryAt ?? now + _resilience.BreakDuration),
            _ => (attempts >= _delivery.MaxAttempts ? DeliveryStatus.Dead : DeliveryStatus.Pending, Later(now + Backoff(attempts), result.RetryAt)),
        };
        if (waited)
        {
            _pausedUntil.AddOrUpdate(crm, next, (_, current) => Later(current, next));
            LogPaused(crm, Json.Name(result.Outcome), next, result.Error);
        }

        if (!await store.RecordAsync(claimed, result, status, attempts, next, started, now, ct))
        {
            LogLeaseLost(claimed.Id, crm);
            return;
        }
        metrics.Attempted(crm, result.Outcome);
        if (status != DeliveryStatus.Pending) metrics.Finished(crm, status);
        if (status == DeliveryStatus.Dead) LogDead(claimed.Id, crm, claimed.EventType, attempts, result.StatusCode, result.Error);
    }

    /// <summary>Exponential with full jitter: up to base × 2^(n-1), capped, so retries of many deliveries spread out.</summary>
    private TimeSpan Backoff(int attempts)
    {
        var ceiling = Math.Min(_delivery.BackoffMax.TotalMilliseconds, _delivery.BackoffBase.TotalMilliseconds * Math.Pow(2, Math.Min(attempts - 1, 30)));
        return TimeSpan.FromMilliseconds(Random.Shared.NextDouble() * ceiling);
    }

    private static DateTimeOffset Later(DateTimeOffset a, DateTimeOffset? b) => b is { } other && other > a ? other : a;

    private static CrmChange? Read(ClaimedDelivery claimed) =>
        RegistrationSnapshot.FromPayload(claimed.Payload) is { } registration
            ? new CrmChange(claimed.Id, claimed.EventType, registration, claimed.PartnerName)
            : null;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (adapters.Count == 0) return;
        LogStarted(string.Join(", ", adapters.Select(a => a.Crm)));
        using var timer = new PeriodicTimer(_delivery.PollInterval, clock);
        do
        {
            try
            {
                // Keep going while there is work; rest only when a round found nothing due.
                while (!stoppingToken.IsCancellationRequested && await DispatchOnceAsync(stoppingToken) > 0)
                {
                }
                metrics.Observe(await store.OldestPendingAsync(stoppingToken));
            }
            catch (Exception e) when (!stoppingToken.IsCancellationRequested)
            {
                // Nothing is lost: an unrecorded delivery keeps its lease until it runs out and is tried again.
                LogRoundFailed(e);
            }
        }
        while (await timer.WaitForNextTickAsync(stoppingToken));
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "CRM sync delivering to {Crms}")]
    private partial void LogStarted(string crms);

    [LoggerMessage(Level = LogLevel.Information, Message = "CRM {Crm} {Outcome}: no deliveries until {Until:O} ({Reason})")]
    private partial void LogPaused(string crm, string outcome, DateTimeOffset until, string? reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Delivery {DeliveryId} of {EventType} to {Crm} is dead after {Attempts} attempt(s): {StatusCode} {Error}")]
    private partial void LogDead(Guid deliveryId, string crm, string eventType, int attempts, int? statusCode, string? error);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Delivery {DeliveryId} to {Crm}: the lease ran out before the result was recorded; the new holder's result stands")]
    private partial void LogLeaseLost(Guid deliveryId, string crm);

    [LoggerMessage(Level = LogLevel.Warning, Message = "CRM sync round failed; trying again on the next tick")]
    private partial void LogRoundFailed(Exception exception);
}
