using System.Data.Common;
using System.Text.Json;
using Dapper;
using PartnerDeals.Api.Features.Audit;
using PartnerDeals.Api.Infrastructure.Data;
using PartnerDeals.Api.Infrastructure.Http;

namespace PartnerDeals.Api.Features.Registrations;

/// <summary>
/// Every transition of a registration leaves two records in its own transaction: an immutable
/// audit event (who, when, what) and an outbox row that the CRM sync delivers. Neither can be lost
/// without the change itself being lost.
/// </summary>
public sealed class RegistrationJournal(Database database, AuditTrail audit, TimeProvider clock)
{
    private const string InsertOutboxSql = """
        INSERT INTO outbox (id, registration_id, event_type, payload, occurred_at)
        VALUES (@Id, @RegistrationId, @EventType, @Payload, @OccurredAt)
        """;

    /// <summary>Records <paramref name="action"/> (e.g. <c>registration.approved</c>) on the registration as it now is.</summary>
    public async Task RecordAsync(DbTransaction tx, Registration registration, string action, Actor actor, object data, CancellationToken ct)
    {
        await audit.RecordAsync(tx, "registration", registration.Id, action, actor, data, ct);
        var now = clock.GetUtcNow();
        await tx.Connection!.ExecuteAsync(database.Command(InsertOutboxSql, new
        {
            Id = Ids.New(now),
            RegistrationId = registration.Id,
            EventType = action,
            Payload = JsonSerializer.Serialize(new { action, occurredAt = now, registration }, Json.Options),
            OccurredAt = now,
        }, ct, tx));
    }
}
