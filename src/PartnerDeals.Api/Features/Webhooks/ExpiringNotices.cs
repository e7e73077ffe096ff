using Microsoft.Extensions.Options;
using PartnerDeals.Api.Features.Registrations;
using PartnerDeals.Api.Infrastructure.Data;

namespace PartnerDeals.Api.Features.Webhooks;

/// <summary>
/// Tells partners' webhook endpoints, once per protection window, that a window ends within <c>Webhooks:ExpiringNoticeDays</c>.
/// Every instance runs it on the protection sweep's interval; the notice key makes each window's notice one, whoever is first.
/// </summary>
public sealed partial class ExpiringNotices(
    Database database, RegistrationStore registrations, WebhookEvents webhooks, IOptions<RegistrationOptions> options,
    IOptions<WebhookOptions> webhookOptions, TimeProvider clock, ILogger<ExpiringNotices> logger)
    : BackgroundService
{
    // Only partners with an endpoint hear of it, so only their registrations are looked at.
    private const string ExpiringSql = """
        SELECT r.id FROM registrations r
        WHERE r.status = 'approved' AND r.protection_expires_at > @Now AND r.protection_expires_at <= @Soon
          AND EXISTS (SELECT 1 FROM webhook_subscriptions s WHERE s.partner_id = r.partner_id AND s.enabled = 1)
        ORDER BY r.protection_expires_at
        """;

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
            if (await Outbox.OutboxStore.NoticedAsync(session, key, ct)) continue;
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

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(TimeSpan.FromSeconds(options.Value.ExpirySweepSeconds), clock);
        do
        {
            try
            {
                await NoticeExpiringAsync(stoppingToken);
            }
            catch (Exception e) when (!stoppingToken.IsCancellationRequested)
            {
                // The next tick tries again; a notice not committed is noticed then.
                LogNoticesFailed(e);
            }
        }
        while (await timer.WaitForNextTickAsync(stoppingToken));
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Expiring notices failed; retrying on the next tick")]
    private partial void LogNoticesFailed(Exception exception);
}
