using PartnerDeals.Api.Features.Outbox;
using PartnerDeals.Api.Infrastructure.Http;

namespace PartnerDeals.Api.Features.Sync;

public enum DeliveryStatus
{
    /// <summary>Waiting for its first or next attempt.</summary>
    Pending,

    /// <summary>The CRM has it.</summary>
    Delivered,

    /// <summary>Refused by the CRM, or out of attempts; waits for ops to retry it.</summary>
    Dead,
}

/// <summary>One change on its way to one CRM.</summary>
public sealed record Delivery
{
    public required Guid Id { get; init; }
    public required Guid RegistrationId { get; init; }

    /// <example>salesforce</example>
    public required string Crm { get; init; }

    /// <summary>The change, e.g. <c>registration.approved</c>.</summary>
    /// <example>registration.approved</example>
    public required string EventType { get; init; }

    /// <example>delivered</example>
    public required DeliveryStatus Status { get; init; }

    /// <summary>Attempts that counted against the limit (rate limits and an open circuit do not).</summary>
    public required int Attempts { get; init; }

    /// <summary>When a pending delivery is next tried.</summary>
    public DateTimeOffset? NextAttemptAt { get; init; }
    public int? LastStatusCode { get; init; }

    /// <summary>The CRM's message on the last attempt that did not deliver.</summary>
    public string? LastError { get; init; }

    public required DateTimeOffset CreatedAt { get; init; }
    public required DateTimeOffset UpdatedAt { get; init; }
    public DateTimeOffset? DeliveredAt { get; init; }

    /// <summary>Every attempt, oldest first (absent in lists).</summary>
    [System.Text.Json.Serialization.JsonIgnore(Condition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull)]
    public IReadOnlyList<DeliveryAttempt>? AttemptLog { get; init; }

    /// <summary>A delivery of the outbox's CRM channel, as ops read it.</summary>
    public static Delivery From(StoredDelivery d) => new()
    {
        Id = d.Id,
        RegistrationId = d.RegistrationId ?? Guid.Empty,
        Crm = d.Destination,
        EventType = d.EventType,
        Status = Json.Parse<DeliveryStatus>(d.Status),
        Attempts = d.Attempts,
        NextAttemptAt = d.Status == DeliveryStates.Pending ? d.NextAttemptAt : null,
        LastStatusCode = d.LastStatusCode,
        LastError = d.LastError,
        CreatedAt = d.CreatedAt,
        UpdatedAt = d.UpdatedAt,
        DeliveredAt = d.DeliveredAt,
        AttemptLog = d.Attempted?.Select(a => new DeliveryAttempt(Json.Parse<AttemptOutcome>(a.Outcome), a.StatusCode, a.Error, a.StartedAt, a.DurationMs))
            .ToList(),
    };
}

/// <param name="Outcome">delivered, failed, refused, rate_limited or postponed.</param>
/// <param name="StatusCode">The CRM's HTTP status, when it answered.</param>
/// <param name="Error">What the CRM said, or what went wrong on the way.</param>
/// <param name="StartedAt">When the attempt began.</param>
/// <param name="DurationMs">How long it took.</param>
public sealed record DeliveryAttempt(AttemptOutcome Outcome, int? StatusCode, string? Error, DateTimeOffset StartedAt, int DurationMs);
