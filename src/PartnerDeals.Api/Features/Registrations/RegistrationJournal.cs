using PartnerDeals.Api.Features.Audit;
using PartnerDeals.Api.Infrastructure.Data;
using PartnerDeals.Api.Infrastructure.Http;

namespace PartnerDeals.Api.Features.Registrations;

/// <summary>
/// Every transition of a registration leaves its records in its own transaction: an immutable audit event (who, when,
/// what), and whatever each <see cref="IRegistrationFollower"/> keeps of it (the CRM sync queues it for every enabled CRM;
/// the partner's webhooks tell its endpoints).
/// None can be lost without the change itself being lost. Registrations knows its followers only by this interface: they
/// depend on it, not it on them.
/// </summary>
public sealed class RegistrationJournal(AuditTrail audit, IEnumerable<IRegistrationFollower> followers, TimeProvider clock)
{
    private readonly IReadOnlyList<IRegistrationFollower> _followers = followers.ToList();

    /// <summary>
    /// Records <paramref name="action"/> (e.g. <c>registration.approved</c>) in the audit trail, and tells every follower of
    /// the registration as it now is.
    /// </summary>
    public async Task AuditAndTellFollowersAsync(DbSession session, Registration before, Registration registration, string action, Actor actor, object data,
        CancellationToken ct)
    {
        await audit.RecordAsync(session, "registration", registration.Id, action, actor, data, ct);
        var now = clock.GetUtcNow();
        foreach (var follower in _followers) await follower.ChangedAsync(session, before, registration, action, now, ct);
    }

    /// <summary>Tells every follower of a note the partner may read.</summary>
    public async Task TellFollowersOfNoteAsync(DbSession session, Registration registration, Note note, DateTimeOffset now, CancellationToken ct)
    {
        foreach (var follower in _followers) await follower.NoteAddedAsync(session, registration, note, now, ct);
    }
}

/// <summary>
/// Keeps something of every change of a registration, in the change's own transaction: the CRM sync's outbox, the partner's
/// webhooks. `before` is the registration as it was (the same as `after` for a new one).
/// </summary>
public interface IRegistrationFollower
{
    Task ChangedAsync(DbSession session, Registration before, Registration after, string action, DateTimeOffset now, CancellationToken ct);

    /// <summary>A note the partner may read was added to the deal's thread.</summary>
    Task NoteAddedAsync(DbSession session, Registration registration, Note note, DateTimeOffset now, CancellationToken ct) => Task.CompletedTask;
}
