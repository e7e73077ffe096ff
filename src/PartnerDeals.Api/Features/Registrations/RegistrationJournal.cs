using System.Text.Json;
using Dapper;
using Microsoft.Extensions.Options;
using PartnerDeals.Api.Features.Audit;
using PartnerDeals.Api.Features.Sync;
using PartnerDeals.Api.Infrastructure.Data;
using PartnerDeals.Api.Infrastructure.Http;

namespace PartnerDeals.Api.Features.Registrations;

/// <summary>
/// Every transition of a registration leaves two records in its own transaction: an immutable
/// audit event (who, when, what) and an outbox row that the CRM sync delivers. Neither can be lost
/// without the change itself being lost. The outbox row gets one delivery per enabled CRM, which the
/// <see cref="SyncDispatcher"/> delivers.
/// </summary>
public sealed class RegistrationJournal(AuditTrail audit, IOptions<CrmOptions> crm, TimeProvider clock)
{
    private const string InsertOutboxSql = """
        INSERT INTO outbox (id, registration_id, event_type, payload, occurred_at)
        VALUES (@Id, @RegistrationId, @EventType, @Payload, @OccurredAt)
        """;

    private readonly IReadOnlyList<string> _crms = crm.Value.Enabled;

    /// <summary>Records <paramref name="action"/> (e.g. <c>registration.approved</c>) on the registration as it now is.</summary>
    public async Task RecordAsync(DbSession session, Registration registration, string action, Actor actor, object data, CancellationToken ct)
    {
        await audit.RecordAsync(session, "registration", registration.Id, action, actor, data, ct);
        var now = clock.GetUtcNow();
        var outboxId = Ids.New(now);
        await session.ExecuteAsync(InsertOutboxSql, new
        {
            Id = outboxId,
            RegistrationId = registration.Id,
            EventType = action,
            Payload = JsonSerializer.Serialize(new { action, occurredAt = now, registration }, Json.Options),
            OccurredAt = now,
        }, ct);
        foreach (var name in _crms)
        {
            await DeliveryStore.QueueAsync(session, outboxId, registration.Id, registration.Version, action, name, now, ct);
        }
    }
}
