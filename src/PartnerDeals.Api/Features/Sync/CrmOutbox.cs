using System.Text.Json;
using Microsoft.Extensions.Options;
using PartnerDeals.Api.Features.Outbox;
using PartnerDeals.Api.Features.Registrations;
using PartnerDeals.Api.Infrastructure.Data;
using PartnerDeals.Api.Infrastructure.Http;

namespace PartnerDeals.Api.Features.Sync;

/// <summary>
/// The CRM sync follows registrations: every change is written, in the change's transaction, as one outbox event carrying
/// <c>{action, occurredAt, registration}</c> with a delivery per enabled CRM, which the <see cref="CrmSender"/> delivers.
/// </summary>
public sealed class CrmOutbox(IOptions<CrmOptions> crm) : IRegistrationFollower
{
    private readonly IReadOnlyList<string> _crms = crm.Value.Enabled;

    public async Task ChangedAsync(DbSession session, Registration before, Registration after, string action, DateTimeOffset now, CancellationToken ct)
    {
        var payload = JsonSerializer.Serialize(new { action, occurredAt = now, registration = after }, Json.Options);
        var eventId = await OutboxStore.AddEventAsync(session, new OutboxEvent(null, after.Id, action, payload, now), ct);
        foreach (var name in _crms)
        {
            await OutboxStore.QueueAsync(session, eventId, new Destination(CrmSender.ChannelName, name), after.Id, after.Version, action, now, ct);
        }
    }
}
