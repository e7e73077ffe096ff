using System.Diagnostics;
using Microsoft.Extensions.Options;
using PartnerDeals.Api.Features.Outbox;
using PartnerDeals.Api.Infrastructure.Data;
using PartnerDeals.Api.Infrastructure.Http;

namespace PartnerDeals.Api.Features.Sync;

/// <summary>
/// The CRM sync's sender: each enabled CRM is a destination, sent one batch at a time through its adapter. Failures back off
/// exponentially with full jitter, or as long as the CRM asked; a rate limit or an open circuit pauses the CRM without
/// spending attempts; after <see cref="DeliveryOptions.MaxAttempts"/> failures, or a refusal, a delivery is dead and waits for ops.
/// </summary>
public sealed class CrmSender(IReadOnlyList<ICrmAdapter> adapters, Database database, IOptions<CrmOptions> options, TimeProvider clock) : IDeliverySender
{
    public const string ChannelName = "crm";

    // The partner's name is what the CRM shows; read with the batch, as it is now.
    private const string PartnerNamesSql = "SELECT id, name FROM partners WHERE id IN @Ids";

    private readonly DeliveryOptions _delivery = options.Value.Delivery;
    private readonly ResilienceOptions _resilience = options.Value.Resilience;

    public DeliveryChannel Channel { get; } = new(
        ChannelName, InFlight: options.Value.Delivery.BatchSize * Math.Max(1, adapters.Count), InFlightPerDestination: options.Value.Delivery.BatchSize,
        InFlightPerPartner: int.MaxValue, OneBatchAtATime: true, options.Value.Delivery.Lease, options.Value.Delivery.PollInterval,
        Backoff(options.Value.Delivery), Jitter: (0, 1), LatestWins: true, NamesDestinations: true);

    public Task<IReadOnlyList<Destination>> DestinationsAsync(DbSession session, CancellationToken ct) =>
        Task.FromResult<IReadOnlyList<Destination>>(adapters.Select(a => new Destination(ChannelName, a.Crm)).ToList());

    /// <summary>The batch in one adapter call: every result at once.</summary>
    public IReadOnlyList<Task<Sent>> Send(Destination to, IReadOnlyList<LeasedDelivery> deliveries, CancellationToken ct)
    {
        var batch = SendAsync(to, deliveries, ct);
        return deliveries.Select(async (_, i) => (await batch)[i]).ToList();
    }

    private async Task<IReadOnlyList<Sent>> SendAsync(Destination to, IReadOnlyList<LeasedDelivery> deliveries, CancellationToken ct)
    {
        var adapter = adapters.Single(a => a.Crm == to.Name);
        var started = clock.GetUtcNow();
        var timer = Stopwatch.GetTimestamp();
        var snapshots = deliveries.Select(d => RegistrationSnapshot.FromPayload(d.Payload)).ToList();
        var partnerIds = snapshots.Where(s => s is not null).Select(s => s!.PartnerId).Distinct().ToList();
        var names = partnerIds.Count == 0 ? new Dictionary<Guid, string>() : (await database.ReadAsync(read =>
            read.QueryAsync<PartnerName>(PartnerNamesSql, new { Ids = Database.IdList(partnerIds) }, ct), ct)).ToDictionary(p => p.Id, p => p.Name);

        var results = new AttemptResult?[deliveries.Count];
        var changes = new List<(int Index, CrmChange Change)>();
        for (var i = 0; i < deliveries.Count; i++)
        {
            if (snapshots[i] is { } registration && names.TryGetValue(registration.PartnerId, out var partner))
            {
                changes.Add((i, new CrmChange(deliveries[i].Id, deliveries[i].EventType, registration, partner)));
            }
            else results[i] = new AttemptResult(AttemptOutcome.Refused, Error: "The outbox row cannot be read as a registration.");
        }
        if (changes.Count > 0)
        {
            var delivered = await adapter.DeliverAsync(changes.Select(c => c.Change).ToList(), ct);
            for (var i = 0; i < changes.Count; i++) results[changes[i].Index] = delivered[i];
        }

        var now = clock.GetUtcNow();
        var duration = (int)Math.Min(int.MaxValue, Stopwatch.GetElapsedTime(timer).TotalMilliseconds);
        return results.Select(r => Sent(r!, started, duration, now)).ToList();
    }

    private Sent Sent(AttemptResult result, DateTimeOffset started, int durationMs, DateTimeOffset now)
    {
        var (verdict, retryAt) = result.Outcome switch
        {
            AttemptOutcome.Delivered => (AttemptVerdict.Delivered, null),
            AttemptOutcome.Refused => (AttemptVerdict.Dead, null),
            AttemptOutcome.RateLimited => (AttemptVerdict.Wait, result.RetryAt ?? now + _delivery.BackoffBase),
            AttemptOutcome.Postponed => (AttemptVerdict.Wait, result.RetryAt ?? now + _resilience.BreakDuration),
            _ => (AttemptVerdict.Failed, result.RetryAt),
        };
        return new Sent(Json.Name(result.Outcome), verdict, started, durationMs, result.StatusCode,
            result.Error is null ? null : CrmAnswers.Truncate(result.Error), RetryAt: retryAt);
    }

    /// <summary>Exponential: the n-th failure waits up to base × 2^(n-1), capped; dead after <see cref="DeliveryOptions.MaxAttempts"/>.</summary>
    private static List<TimeSpan> Backoff(DeliveryOptions delivery) => Enumerable.Range(1, delivery.MaxAttempts - 1)
        .Select(n => TimeSpan.FromMilliseconds(Math.Min(delivery.BackoffMax.TotalMilliseconds,
            delivery.BackoffBase.TotalMilliseconds * Math.Pow(2, Math.Min(n - 1, 30)))))
        .ToList();

    private sealed class PartnerName
    {
        public Guid Id { get; set; }
        public string Name { get; set; } = "";
    }
}
