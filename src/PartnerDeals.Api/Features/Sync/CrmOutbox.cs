using System.Text.Json;
using Microsoft.Extensions.Options;
using PartnerDeals.Api.Features.Registrations;
using PartnerDeals.Api.Infrastructure.Data;
using PartnerDeals.Api.Infrastructure.Http;

namespace PartnerDeals.Api.Features.Sync;

/// <summary>
/// The CRM sync follows registrations: every change is queued, in the change's transaction, as an outbox row carrying
/// <c>{action, occurredAt, registration}</c> and one delivery per enabled CRM, which the <see cref="SyncDispatcher"/> delivers.
/// </summary>
public sealed class CrmOutbox(IOptions<CrmOptions> crm) : IRegistrationFollower
{
    private readonly IReadOnlyList<string> _crms = crm.Value.Enabled;

    public Task ChangedAsync(DbSession session, Registration before, Registration after, string action, DateTimeOffset now, CancellationToken ct)
    {
        var payload = JsonSerializer.Serialize(new { action, occurredAt = now, registration = after }, Json.Options);
        return DeliveryStore.QueueChangeAsync(session, after.Id, after.Version, action, payload, _crms, now, ct);
    }
}
