using PartnerDeals.Api.Infrastructure.Http;

namespace PartnerDeals.Api.Features.Sync;

/// <summary>One row of <c>deliveries</c>, as Dapper writes it (its properties are the statements' parameters) and reads it back.</summary>
internal sealed record DeliveryRow
{
    public Guid Id { get; init; }

    /// <summary>Written, never read back: the change is read with its lease (<see cref="DeliveryStore.ClaimAsync"/>).</summary>
    public Guid OutboxId { get; init; }

    public Guid RegistrationId { get; init; }

    /// <summary>Written for delivery order, never read back.</summary>
    public int RegistrationVersion { get; init; }

    public string Crm { get; init; } = "";
    public string EventType { get; init; } = "";
    public string Status { get; init; } = "";
    public int Attempts { get; init; }
    public DateTimeOffset NextAttemptAt { get; init; }
    public Guid? LeaseId { get; init; }
    public int? LastStatusCode { get; init; }
    public string? LastError { get; init; }
    public DateTimeOffset CreatedAt { get; init; }
    public DateTimeOffset UpdatedAt { get; init; }
    public DateTimeOffset? DeliveredAt { get; init; }

    public Delivery ToDelivery(IReadOnlyList<DeliveryAttempt>? attempts)
    {
        var status = Json.Parse<DeliveryStatus>(Status);
        return new Delivery
        {
            Id = Id,
            RegistrationId = RegistrationId,
            Crm = Crm,
            EventType = EventType,
            Status = status,
            Attempts = Attempts,
            NextAttemptAt = status == DeliveryStatus.Pending ? NextAttemptAt : null,
            LastStatusCode = LastStatusCode,
            LastError = LastError,
            CreatedAt = CreatedAt,
            UpdatedAt = UpdatedAt,
            DeliveredAt = DeliveredAt,
            AttemptLog = attempts,
        };
    }
}

/// <summary>One row of <c>delivery_attempts</c>, written and read.</summary>
internal sealed record DeliveryAttemptRow
{
    public Guid Id { get; init; }
    public Guid DeliveryId { get; init; }
    public string Outcome { get; init; } = "";
    public int? StatusCode { get; init; }
    public string? Error { get; init; }
    public DateTimeOffset StartedAt { get; init; }
    public int DurationMs { get; init; }
}
