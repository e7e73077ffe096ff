using PartnerDeals.Api.Features.Fees;
using PartnerDeals.Api.Features.Registrations;
using PartnerDeals.Api.Infrastructure.Data;

namespace PartnerDeals.Api.Features.Webhooks;

/// <summary>
/// The partner's webhooks follow its registrations and fees: each change a partner hears of, each note it may read and
/// each fee accrued or paid is recorded for its endpoints in the transaction of the change (<see cref="WebhookEvents"/>).
/// The data of a registration's event is what the partner's own key reads.
/// </summary>
public sealed class PartnerWebhooks(WebhookEvents webhooks) : IRegistrationFollower, IFeeFollower
{
    public async Task ChangedAsync(DbSession session, Registration before, Registration after, string action, DateTimeOffset now, CancellationToken ct)
    {
        var types = EventsOf(action, before, after);
        if (types.Count == 0) return;
        // Every active member of the deal's team hears it too, as it reads the deal: without the primary's terms or notes.
        var members = await RegistrationTeam.ActiveMembersAsync(session, after.Id, ct);
        foreach (var type in types)
        {
            await webhooks.RecordAsync(session, after.PartnerId, type, after.Id, after.ForPartner(), now, ct);
            foreach (var member in members) await webhooks.RecordAsync(session, member, type, after.Id, RegistrationTeam.ForMember(after), now, ct);
        }
    }

    public Task NoteAddedAsync(DbSession session, Registration registration, Note note, DateTimeOffset now, CancellationToken ct) =>
        webhooks.RecordAsync(session, registration.PartnerId, WebhookEventTypes.NoteAdded, registration.Id, note, now, ct);

    public Task AccruedAsync(DbSession session, Fee fee, DateTimeOffset now, CancellationToken ct) =>
        webhooks.RecordAsync(session, fee.PartnerId, WebhookEventTypes.FeeAccrued, fee.RegistrationId, fee, now, ct);

    public Task PaidAsync(DbSession session, Fee fee, DateTimeOffset now, CancellationToken ct) =>
        webhooks.RecordAsync(session, fee.PartnerId, WebhookEventTypes.FeePaid, fee.RegistrationId, fee, now, ct);

    /// <summary>
    /// The webhook events of a registration's change, in order: none when it is nothing a partner hears of; a new
    /// registration decided at once (auto-approved) is created and then approved.
    /// </summary>
    public static IReadOnlyList<string> EventsOf(string action, Registration before, Registration after) =>
        action == "registration.created" && after.Status == RegistrationStatus.Approved ? [action, "registration.approved"]
        : EventOf(action, before, after) is { } type ? [type]
        : [];

    private static string? EventOf(string action, Registration before, Registration after) => action switch
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
}
