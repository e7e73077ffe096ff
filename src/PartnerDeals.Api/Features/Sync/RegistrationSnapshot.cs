using System.Text.Json;
using System.Text.Json.Serialization;
using PartnerDeals.Api.Features.Registrations;
using PartnerDeals.Api.Infrastructure.Http;

namespace PartnerDeals.Api.Features.Sync;

/// <summary>
/// A registration as the outbox payload carries it after a change (<c>{action, occurredAt, registration}</c>), read for
/// what a CRM is sent: the sync's own reading of the payload, which stays readable for rows queued by earlier versions.
/// Fields a CRM is never sent are skipped; the statuses are the registration's own.
/// </summary>
[JsonUnmappedMemberHandling(JsonUnmappedMemberHandling.Skip)]
public sealed record RegistrationSnapshot
{
    /// <summary>The statuses a registration has, as the payload writes them.</summary>
    public static readonly IReadOnlyList<string> Statuses = Enum.GetValues<RegistrationStatus>().Select(s => Json.Name(s)).ToList();

    public required Guid Id { get; init; }
    public required Guid PartnerId { get; init; }

    /// <summary>One of <see cref="Statuses"/>.</summary>
    public required string Status { get; init; }

    public required string Reason { get; init; }
    public required SnapshotCustomer Customer { get; init; }
    public required SnapshotDeal Deal { get; init; }
    public SnapshotOutcome? Outcome { get; init; }
    public DateTimeOffset? ProtectionExpiresAt { get; init; }
    public required bool CoSelling { get; init; }
    public required DateTimeOffset SubmittedAt { get; init; }

    [JsonIgnore]
    public bool IsWon => Status == Json.Name(RegistrationStatus.Won);

    [JsonIgnore]
    public bool IsClosed => IsWon || Status == Json.Name(RegistrationStatus.Lost);

    /// <summary>The registration of an outbox payload; null when the payload does not hold one.</summary>
    public static RegistrationSnapshot? FromPayload(string payload)
    {
        try
        {
            using var document = JsonDocument.Parse(payload);
            return document.RootElement.GetProperty("registration").Deserialize<RegistrationSnapshot>(Json.Options);
        }
        catch (Exception e) when (e is JsonException or KeyNotFoundException or InvalidOperationException)
        {
            return null;
        }
    }
}

[JsonUnmappedMemberHandling(JsonUnmappedMemberHandling.Skip)]
public sealed record SnapshotCustomer(string CompanyName, string? Domain, string Country);

[JsonUnmappedMemberHandling(JsonUnmappedMemberHandling.Skip)]
public sealed record SnapshotDeal(string Name, decimal EstimatedValue, string Currency, DateOnly? ExpectedCloseDate);

[JsonUnmappedMemberHandling(JsonUnmappedMemberHandling.Skip)]
public sealed record SnapshotOutcome(decimal? Amount, string? Currency, DateTimeOffset ClosedAt, string? LostReason);
