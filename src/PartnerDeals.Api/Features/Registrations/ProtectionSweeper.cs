using Microsoft.Extensions.Options;
using PartnerDeals.Api.Features.Audit;
using PartnerDeals.Api.Features.Webhooks;
using PartnerDeals.Api.Infrastructure.Data;

namespace PartnerDeals.Api.Features.Registrations;

/// <summary>
/// Expires approved registrations whose protection has run out and releases their accounts. Every
/// instance runs one; each expiry is its own decision transaction and matches on the version it
/// read, so two instances sweeping at once expire each registration exactly once. Expiries go through the
/// instance's <see cref="DecisionWriter"/>, like every decision. It also tells partners' webhook endpoints,
/// once per protection window, that a window ends within <c>Webhooks:ExpiringNoticeDays</c>.
/// </summary>
public sealed partial class ProtectionSweeper(
    Database database, DecisionWriter writer, RegistrationStore registrations, RegistrationDecisions decisions, WebhookEvents webhooks,
    IOptions<RegistrationOptions> options, IOptions<WebhookOptions> webhookOptions, TimeProvider clock, ILogger<ProtectionSweeper> logger)
    : BackgroundService
{
    private const int Batch = 100;

    // Only partners with an endpoint hear of it, so only their registrations are looked at.
    private const string ExpiringSql = """
        SELECT r.id FROM registrations r
        WHERE r.status = 'approved' AND r.protection_expires_at > @Now AND r.protection_expires_at <= @Soon
          AND EXISTS (SELECT 1 FROM webhook_subscriptions s WHERE s.partner_id = r.partner_id AND s.enabled = 1)
        ORDER BY r.protection_expires_at
        """;

    private const string NoticedSql = "SELECT COUNT(*) FROM webhook_events WHERE notice_key = @NoticeKey";

    /// <summary>
    /// Records <c>registration.expiring</c> for every approved registration whose protection ends within the notice
    /// period and has not been noticed for this end yet (an extension moves the end, and earns a notice of its own).
    /// Answers how many were recorded.
    /// </summary>
    public async Task<int> NoticeExpiringAsync(CancellationToken ct)
    {
        var now = clock.GetUtcNow();
        var soon = now.AddDays(webhookOptions.Value.ExpiringNoticeDays);
        var due = await database.ReadAsync(session => session.QueryAsync<Guid>(ExpiringSql, new { Now = now, Soon = soon }, ct), ct);
        var noticed = 0;
        foreach (var id in due)
        {
            await using var connection = await database.OpenAsync(ct);
            await using var session = await database.BeginWriteAsync(connection, ct);
            if (await registrations.GetAsync(session, id, ct) is not { Status: RegistrationStatus.Approved, ProtectionExpiresAt: { } ends } registration) continue;
            var key = $"{WebhookEventTypes.Expiring}:{id:D}:{ends.UtcDateTime:O}";
            if (await session.ExecuteScalarAsync<long>(NoticedSql, new { NoticeKey = key }, ct) > 0) continue;
            try
            {
                await webhooks.RecordAsync(session, registration.PartnerId, WebhookEventTypes.Expiring, id, registration.ForPartner(), now, ct, noticeKey: key);
                await session.CommitAsync(ct);
                noticed++;
            }
            catch (Exception e) when (SqlDialect.IsUniqueViolation(e))
            {
                // Another instance noticed it first.
            }
        }
        return noticed;
    }

    /// <summary>Expires every registration past its protection; answers how many this call expired.</summary>
    public async Task<int> SweepAsync(CancellationToken ct)
    {
        var expired = 0;
        while (true)
        {
            var now = clock.GetUtcNow();
            IReadOnlyList<Guid> due;
            await using (var connection = await database.OpenAsync(ct))
            {
                due = await registrations.ExpiredAsync(connection, now, Batch, ct);
            }
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
                await NoticeExpiringAsync(stoppingToken);
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
