using PartnerDeals.Api.Features.Audit;
using PartnerDeals.Api.Infrastructure.Data;
using PartnerDeals.Api.Infrastructure.Http;

namespace PartnerDeals.Api.Features.Registrations;

/// <summary>
/// Every transition of a registration leaves its records in its own transaction: an immutable audit event (who, when,
/// what), and whatever each <see cref="IRegistrationFollower"/> keeps of it (the CRM sync queues it for every enabled CRM).
/// None can be lost without the change itself being lost. Registrations knows its followers only by this interface: they
/// depend on it, not it on them.
/// </summary>
public sealed class RegistrationJournal(AuditTrail audit, IEnumerable<IRegistrationFollower> followers, TimeProvider clock)
{
    private readonly IReadOnlyList<IRegistrationFollower> _followers = followers.ToList();

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
    /// Records <paramref name="action"/> (e.g. <c>registration.approved</c>) in the audit trail, and tells every follower of
    /// the registration as it now is.
    /// </summary>
    public async Task AuditAndTellFollowersAsync(DbSession session, Registration registration, string action, Actor actor, object data, CancellationToken ct)
    {
        await audit.RecordAsync(session, "registration", registration.Id, action, actor, data, ct);
        var now = clock.GetUtcNow();
        foreach (var follower in _followers) await follower.ChangedAsync(session, registration, action, now, ct);
    }
}

/// <summary>Keeps something of every change of a registration, in the change's own transaction (the CRM sync's outbox, say).</summary>
public interface IRegistrationFollower
{
    Task ChangedAsync(DbSession session, Registration registration, string action, DateTimeOffset now, CancellationToken ct);
}
