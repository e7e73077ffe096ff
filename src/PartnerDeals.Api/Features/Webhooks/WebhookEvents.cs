using System.Text.Json;
using PartnerDeals.Api.Features.Outbox;
using PartnerDeals.Api.Infrastructure.Data;
using PartnerDeals.Api.Infrastructure.Http;

namespace PartnerDeals.Api.Features.Webhooks;

/// <summary>
/// Records an event for a partner's endpoints in the transaction of the change that caused it, with one
/// pending delivery per enabled endpoint that wants it, in the outbox. Nothing is
/// recorded for a partner without endpoints; an endpoint that is disabled gets no deliveries (a replay
/// brings what it missed). The payload is <c>{type, timestamp, data}</c>, where <c>data</c> is exactly what
/// the partner's own key reads from the resource.
/// </summary>
public sealed class WebhookEvents
{
    private const string SubscribersSql = "SELECT id, events, enabled FROM webhook_subscriptions WHERE partner_id = @PartnerId ORDER BY id";

    /// <summary>
    /// Records <paramref name="type"/> for <paramref name="partnerId"/>'s endpoints (only <paramref name="onlyTo"/>, for a test
    /// event). Answers how many deliveries were queued.
    /// </summary>
    public async Task<int> RecordAsync(DbSession session, Guid partnerId, string type, Guid? registrationId, object data, DateTimeOffset now,
        CancellationToken ct, string? noticeKey = null, Guid? onlyTo = null)
    {
        var subscribers = await session.QueryRepeatedAsync<Subscriber>(SubscribersSql, [("@PartnerId", partnerId)], ct);
        if (subscribers.Count == 0) return 0;

        var payload = JsonSerializer.Serialize(new { type, timestamp = now, data }, Json.Options);
        var eventId = await OutboxStore.AddEventAsync(session, new OutboxEvent(partnerId, registrationId, type, payload, now, noticeKey), ct);
        var queued = 0;
        foreach (var subscriber in subscribers)
        {
            if (!subscriber.Enabled || (onlyTo is { } only && subscriber.Id != only)) continue;
            if (!WebhookEventTypes.Matches(JsonSerializer.Deserialize<List<string>>(subscriber.Events) ?? [], type)) continue;
            await OutboxStore.QueueAsync(session, eventId, WebhookSender.To(subscriber.Id, partnerId), registrationId, 0, type, now, ct);
            queued++;
        }
        return queued;
    }

    private sealed class Subscriber
    {
        public Guid Id { get; set; }
        public string Events { get; set; } = "[]";
        public bool Enabled { get; set; }
    }
}
