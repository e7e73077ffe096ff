using System.Diagnostics.Metrics;
using Microsoft.Extensions.Options;
using PartnerDeals.Api.Infrastructure.Http;

namespace PartnerDeals.Api.Features.Sync;

/// <summary>
/// The CRM sync's health on <c>/metrics</c>: deliveries finished by outcome, attempts by outcome, and
/// the lag — the age of the oldest delivery still pending, per CRM (0 when none waits).
/// </summary>
public sealed class SyncMetrics
{
    public const string MeterName = "PartnerDeals.Sync";

    private readonly Counter<long> _finished;
    private readonly Counter<long> _attempts;
    private IReadOnlyDictionary<string, DateTimeOffset> _oldestPending = new Dictionary<string, DateTimeOffset>();

    public SyncMetrics(IMeterFactory meters, IOptions<CrmOptions> options, TimeProvider clock)
    {
        var meter = meters.Create(MeterName);
        _finished = meter.CreateCounter<long>("partnerdeals.sync.deliveries", description: "Deliveries finished, by CRM and outcome (delivered, dead).");
        _attempts = meter.CreateCounter<long>("partnerdeals.sync.attempts",
            description: "Delivery attempts by CRM and outcome (delivered, failed, refused, rate_limited, postponed).");
        var crms = options.Value.Enabled;
        meter.CreateObservableGauge("partnerdeals.sync.lag", () => crms.Select(crm => new Measurement<double>(
                _oldestPending.TryGetValue(crm, out var oldest) ? Math.Max(0, (clock.GetUtcNow() - oldest).TotalSeconds) : 0,
                new KeyValuePair<string, object?>("crm", crm))),
            unit: "s", description: "Age of the oldest pending delivery, by CRM.");
    }

    public void Attempted(string crm, AttemptOutcome outcome) =>
        _attempts.Add(1, new("crm", crm), new("outcome", Json.Name(outcome)));

    public void Finished(string crm, DeliveryStatus status) =>
        _finished.Add(1, new("crm", crm), new("outcome", Json.Name(status)));

    public void Observe(IReadOnlyDictionary<string, DateTimeOffset> oldestPending) => _oldestPending = oldestPending;
}
