using System.Text.Json;
using Microsoft.Extensions.Options;
using PartnerDeals.Api.Features.Audit;
using PartnerDeals.Api.Features.Sync;
using PartnerDeals.Api.Infrastructure.Data;
using PartnerDeals.Api.Infrastructure.Http;

namespace PartnerDeals.Api.Features.Registrations;

/// <summary>
/// Every transition of a registration leaves two records in its own transaction: an immutable
/// audit event (who, when, what) and the change queued for the CRM sync (Sync's outbox row, and one delivery per
/// enabled CRM, which the <see cref="SyncDispatcher"/> delivers). Neither can be lost without the change itself being lost.
/// </summary>
public sealed class RegistrationJournal(AuditTrail audit, IOptions<CrmOptions> crm, TimeProvider clock)
{
    private readonly IReadOnlyList<string> _crms = crm.Value.Enabled;

    /// <summary>
    /// The webhook events of a registration's change, in order: none when it is nothing a partner hears of; a new
    /// registration decided at once (auto-approved) is created and then approved.
    /// </summary>
    public static IReadOnlyList<string> WebhookEventsOf(string action, Registration before, Registration after) =>
        action == "registration.created" && after.Status == RegistrationStatus.Approved ? [action, "registration.approved"]
        : WebhookEventOf(action, before, after) is { } type ? [type]
        : [];

    private static string? WebhookEventOf(string action, Registration before, Registration after) => action switch
    {
        "registration.created" or "registration.approved" or "registration.rejected" or "registration.more_info_requested"
            or "registration.withdrawn" or "registration.expired" or "registration.extension_refused" or "registration.won"
            or "registration.lost" => action,
        "registration.extended" => "registration.extension_granted",
        // Decided again (a resubmission, another claim released): the partner hears the status it reached.
        _ when before.Status != after.Status => after.Status switch
        {
            RegistrationStatus.Approved => "registration.approved",
            RegistrationStatus.Rejected => "registration.rejected",
            RegistrationStatus.MoreInfoRequested => "registration.more_info_requested",
            RegistrationStatus.Withdrawn => "registration.withdrawn",
            _ => null,
        },
        _ => null,
    };

    /// <summary>
    /// Records <paramref name="action"/> (e.g. <c>registration.approved</c>) in the audit trail, and queues the registration as
    /// it now is for every enabled CRM (an outbox row, one delivery per CRM).
    /// </summary>
    public async Task AuditAndQueueForCrmsAsync(DbSession session, Registration registration, string action, Actor actor, object data, CancellationToken ct)
    {
        await audit.RecordAsync(session, "registration", registration.Id, action, actor, data, ct);
        var now = clock.GetUtcNow();
        var payload = JsonSerializer.Serialize(new { action, occurredAt = now, registration }, Json.Options);
        await DeliveryStore.QueueChangeAsync(session, registration.Id, registration.Version, action, payload, _crms, now, ct);
    }
}
