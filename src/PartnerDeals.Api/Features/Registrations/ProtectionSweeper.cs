using Microsoft.Extensions.Options;
using PartnerDeals.Api.Features.Audit;
using PartnerDeals.Api.Infrastructure.Data;

namespace PartnerDeals.Api.Features.Registrations;

/// <summary>
/// Expires approved registrations whose protection has run out and releases their accounts. Every
/// instance runs one; each expiry is its own decision transaction and matches on the version it
/// read, so two instances sweeping at once expire each registration exactly once. Expiries go through the
/// instance's <see cref="DecisionWriter"/>, like every decision. (The partners' webhooks tell of windows about to end
/// themselves: Webhooks/ExpiringNotices.)
/// </summary>
public sealed partial class ProtectionSweeper(
    DecisionWriter writer, RegistrationStore registrations, RegistrationDecisions decisions,
    IOptions<RegistrationOptions> options, TimeProvider clock, ILogger<ProtectionSweeper> logger)
    : BackgroundService
{
    private const int Batch = 100;

    /// <summary>Expires every registration past its protection; answers how many this call expired.</summary>
    public async Task<int> SweepAsync(CancellationToken ct)
    {
        var expired = 0;
        while (true)
        {
            var now = clock.GetUtcNow();
            var due = await registrations.ExpiredAsync(now, Batch, ct);
            var before = expired;
            foreach (var id in due)
            {
                var done = await writer.DecideAsync(async session =>
                {
                    var current = await registrations.GetAsync(session, id, ct);
                    // Null when extended meanwhile, or another instance expired it first.
                    if (Expire(current, now) is not { } step) return Decided<bool>.Discarded(false);
                    var transitioned = await decisions.ApplyAsync(session, current!, step.Changed!, Actor.System, step.Action!, step.Data!, ct);
                    return transitioned is null ? Decided<bool>.Discarded(false) : Decided<bool>.Kept(true);
                }, ct);
                if (done) expired++;
            }
            if (due.Count < Batch || expired == before) return expired;
        }
    }

    /// <summary>The guard and the change: an approved registration past its protection expires; null when it is not (extended, or already decided).</summary>
    private static Step? Expire(Registration? current, DateTimeOffset now) =>
        current is not { Status: RegistrationStatus.Approved } || current.ProtectionExpiresAt > now
            ? null
            : Step.To(current with { Status = RegistrationStatus.Expired, Reason = "protection_expired" }, "registration.expired",
                new { protectionExpiresAt = current.ProtectionExpiresAt });

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(TimeSpan.FromSeconds(options.Value.ExpirySweepSeconds), clock);
        do
        {
            try
            {
                var expired = await SweepAsync(stoppingToken);
                if (expired > 0) LogExpired(expired);
            }
            catch (Exception e) when (!stoppingToken.IsCancellationRequested)
            {
                // The next tick tries again; a failed sweep changed nothing it did not commit.
                LogSweepFailed(e);
            }
        }
        while (await timer.WaitForNextTickAsync(stoppingToken));
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Expired {Count} registration(s) past their protection")]
    private partial void LogExpired(int count);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Protection sweep failed; retrying on the next tick")]
    private partial void LogSweepFailed(Exception exception);
}
