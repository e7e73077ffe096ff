using PartnerDeals.Api.Infrastructure.Data;

namespace PartnerDeals.Api.Features.Outbox;

/// <summary>
/// One channel of the outbox — the CRM sync, the partner webhooks — as the <see cref="OutboxDispatcher"/> drives it: where it
/// sends, how it sends a batch to one destination, and what it keeps of the results besides the delivery's own state.
/// </summary>
public interface IDeliverySender
{
    DeliveryChannel Channel { get; }

    /// <summary>The destinations open for delivery now, as <paramref name="session"/> sees them (a disabled endpoint's deliveries wait).</summary>
    Task<IReadOnlyList<Destination>> DestinationsAsync(DbSession session, CancellationToken ct);

    /// <summary>
    /// Sends leased deliveries to one destination: one result per delivery, in order, each as it finishes (a CRM's batch all at
    /// once, each webhook on its own). A delivery's own failure is a result, never an exception.
    /// </summary>
    IReadOnlyList<Task<Sent>> Send(Destination to, IReadOnlyList<LeasedDelivery> deliveries, CancellationToken ct);

    /// <summary>What the channel keeps of recorded attempts, in their transaction (an endpoint's health); nothing by default.</summary>
    Task RecordedAsync(DbSession session, IReadOnlyList<(LeasedDelivery Delivery, Sent Sent)> recorded, DateTimeOffset now, CancellationToken ct) =>
        Task.CompletedTask;
}

/// <summary>How a channel is delivered: room in flight, leases, how often to look, and the one retry rule's steps.</summary>
/// <param name="Name">crm or webhook.</param>
/// <param name="InFlight">Deliveries of the channel in flight at once on an instance.</param>
/// <param name="InFlightPerDestination">In flight to one destination: what a slow one can hold up.</param>
/// <param name="InFlightPerPartner">In flight to one partner's destinations together.</param>
/// <param name="OneBatchAtATime">A destination is sent its next batch only when the last is recorded (a CRM's batch calls).</param>
/// <param name="Lease">How long a lease holds a delivery for its instance; longer than an attempt.</param>
/// <param name="PollInterval">How long a look that found nothing rests.</param>
/// <param name="Retries">The wait after each failed attempt; a delivery is dead after its last.</param>
/// <param name="Jitter">Each wait is spread over [low, high] × the step, so the retries of many deliveries that failed together spread out.</param>
/// <param name="LatestWins">Each delivery carries state (a CRM's upsert): a dead one overtaken by a later delivered change is not sent again.</param>
/// <param name="NamesDestinations">Metrics carry the destination (a few CRMs), not only the channel (many endpoints).</param>
public sealed record DeliveryChannel(
    string Name, int InFlight, int InFlightPerDestination, int InFlightPerPartner, bool OneBatchAtATime, TimeSpan Lease, TimeSpan PollInterval,
    IReadOnlyList<TimeSpan> Retries, (double Low, double High) Jitter, bool LatestWins, bool NamesDestinations)
{
    /// <summary>The one retry rule: the n-th failure waits the n-th step, spread by the jitter; past the last step the delivery is dead.</summary>
    public DateTimeOffset? RetryAt(int failedAttempts, DateTimeOffset now) =>
        failedAttempts > Retries.Count
            ? null
            : now + Retries[failedAttempts - 1] * (Jitter.Low + Random.Shared.NextDouble() * (Jitter.High - Jitter.Low));
}

/// <summary>Where a delivery goes: a CRM by its name, a webhook endpoint by its id (and its partner).</summary>
public sealed record Destination(string Channel, string Name, Guid? PartnerId = null);

/// <summary>
/// Something to tell the outside world, written in the transaction of the change that caused it: <c>PartnerId</c> is the
/// partner a partner event is for (null for the vendor's own), <c>NoticeKey</c> is set for events sent once per state.
/// </summary>
public sealed record OutboxEvent(
    Guid? PartnerId, Guid? RegistrationId, string EventType, string Payload, DateTimeOffset OccurredAt, string? NoticeKey = null);

/// <summary>A delivery this instance has leased, with the event's payload.</summary>
public sealed record LeasedDelivery
{
    public Guid Id { get; init; }
    public Guid LeaseId { get; init; }
    public int Attempts { get; init; }
    public Guid EventId { get; init; }
    public string EventType { get; init; } = "";
    public Guid? RegistrationId { get; init; }
    public string Payload { get; init; } = "";
    public Destination To { get; init; } = null!;
}

/// <summary>What an attempt means for the delivery.</summary>
public enum AttemptVerdict
{
    /// <summary>The destination has it.</summary>
    Delivered,

    /// <summary>Worth another try later; counts against the attempts.</summary>
    Failed,

    /// <summary>Refused for good (a CRM's validation, an endpoint gone): dead at once.</summary>
    Dead,

    /// <summary>
    /// The destination asked to wait (a rate limit, an open circuit): not an attempt, and the destination pauses until
    /// <see cref="Sent.RetryAt"/>.
    /// </summary>
    Wait,
}

/// <summary>
/// One attempt's result, as a sender reports it: <c>Outcome</c> is the channel's own word for it (delivered, failed, refused,
/// rate_limited, timeout, gone …) as logged and shown, <c>Response</c> the first KiB of the destination's answer where the
/// channel shows it, <c>RetryAt</c> when the destination said to come back.
/// </summary>
public sealed record Sent(
    string Outcome, AttemptVerdict Verdict, DateTimeOffset StartedAt, int DurationMs, int? StatusCode = null, string? Error = null, string? Response = null,
    DateTimeOffset? RetryAt = null);

/// <summary>A delivery's states as stored.</summary>
public static class DeliveryStates
{
    public const string Pending = "pending";
    public const string Delivered = "delivered";
    public const string Dead = "dead";
}

/// <summary>A delivery as stored, for a channel to show in its own words.</summary>
public sealed record StoredDelivery
{
    public Guid Id { get; init; }
    public Guid EventId { get; init; }
    public string Destination { get; init; } = "";
    public Guid? RegistrationId { get; init; }
    public string EventType { get; init; } = "";
    public string Status { get; init; } = "";
    public int Attempts { get; init; }

    /// <summary>When it is next tried (meaningful while pending).</summary>
    public DateTimeOffset NextAttemptAt { get; init; }

    public int? LastStatusCode { get; init; }
    public string? LastError { get; init; }
    public DateTimeOffset CreatedAt { get; init; }
    public DateTimeOffset UpdatedAt { get; init; }
    public DateTimeOffset? DeliveredAt { get; init; }
    public IReadOnlyList<StoredAttempt>? Attempted { get; init; }
}

public sealed record StoredAttempt
{
    public Guid DeliveryId { get; init; }
    public string Outcome { get; init; } = "";
    public int? StatusCode { get; init; }
    public string? Error { get; init; }
    public string? Response { get; init; }
    public DateTimeOffset StartedAt { get; init; }
    public int DurationMs { get; init; }
}

/// <summary>Per destination: how many deliveries wait, are done or dead, and when the oldest waiting was queued.</summary>
public sealed record Backlog
{
    public string Destination { get; init; } = "";
    public int Pending { get; init; }
    public int Delivered { get; init; }
    public int Dead { get; init; }
    public DateTimeOffset? OldestPendingAt { get; init; }
}
