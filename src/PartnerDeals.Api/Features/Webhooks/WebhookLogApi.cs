using System.Security.Claims;
using Microsoft.AspNetCore.Http.HttpResults;
using PartnerDeals.Api.Features.Audit;
using PartnerDeals.Api.Features.Outbox;
using PartnerDeals.Api.Infrastructure.Auth;
using PartnerDeals.Api.Infrastructure.Data;
using PartnerDeals.Api.Infrastructure.Http;

namespace PartnerDeals.Api.Features.Webhooks;

/// <summary>
/// An endpoint's delivery log, and what sends to it on demand: a test event, a replay since an instant, a delivery
/// again. Mapped in <see cref="WebhooksApi"/>'s group, under the same rules.
/// </summary>
public static class WebhookLogApi
{
    internal static void MapDeliveryLog(this RouteGroupBuilder webhooks)
    {
        webhooks.MapPost("/{webhookId:guid}/test", Test)
            .WithName("TestWebhook")
            .WithSummary("Send a webhook.test event to this endpoint")
            .WithDescription("Signed and delivered like any event, to this endpoint only, whatever events it subscribes to; 409 when it is disabled; "
                + "Webhooks:TestsPerMinute (5) per endpoint, 429 with Retry-After beyond.")
            .ProducesProblem(StatusCodes.Status404NotFound)
            .ProducesProblem(StatusCodes.Status409Conflict)
            .ProducesProblem(StatusCodes.Status429TooManyRequests);

        webhooks.MapPost("/{webhookId:guid}/replay", Replay)
            .WithName("ReplayWebhooks")
            .WithSummary("Send again every event since an instant")
            .WithDescription("For a receiver restored from a backup: every event of the partner since `since` that the endpoint subscribes to "
                + "is queued again, in order, with its original `webhook-id`, so a receiver that kept it can tell a repeat.")
            .ProducesProblem(StatusCodes.Status404NotFound)
            .ProducesProblem(StatusCodes.Status409Conflict);

        webhooks.MapGet("/{webhookId:guid}/deliveries", Deliveries)
            .WithName("ListWebhookDeliveries")
            .WithSummary("The endpoint's delivery log")
            .WithDescription("Newest last; each delivery with every attempt: outcome, status code, latency and the first KiB of the answer.")
            .ProducesProblem(StatusCodes.Status404NotFound);

        webhooks.MapGet("/{webhookId:guid}/deliveries/{deliveryId:guid}", Delivery)
            .WithName("GetWebhookDelivery")
            .WithSummary("One delivery and its attempts")
            .WithDescription("Its status and every attempt: outcome, status code, latency and the first KiB of the answer.")
            .ProducesProblem(StatusCodes.Status404NotFound);

        webhooks.MapPost("/{webhookId:guid}/deliveries/{deliveryId:guid}/retry", Retry)
            .WithName("RetryWebhookDelivery")
            .WithSummary("Send a delivery again now")
            .WithDescription("A dead delivery gets a fresh set of attempts; a pending one is tried now. A delivered one is replayed instead.")
            .ProducesProblem(StatusCodes.Status404NotFound)
            .ProducesProblem(StatusCodes.Status409Conflict);
    }

    private static async Task<Results<Accepted<WebhookQueued>, ProblemHttpResult>> Test(
        Guid id, Guid webhookId, ClaimsPrincipal user, HttpResponse http, [AsParameters] WebhookServices s, CancellationToken ct)
    {
        if (!user.CanSeePartner(id)) return WebhooksApi.WebhookNotFound();
        var now = s.Clock.GetUtcNow();
        await using var connection = await s.Database.OpenAsync(ct);
        await using var session = await s.Database.BeginWriteAsync(connection, ct);
        var current = await s.Webhooks.GetAsync(session, id, webhookId, ct);
        if (current is null) return WebhooksApi.WebhookNotFound();
        if (!current.Enabled) return Problems.InvalidTransition("The endpoint is disabled; enable it first.");
        // A test is a real delivery: metered per endpoint, so tests cannot flood the dispatcher.
        if (await OutboxStore.CountSinceAsync(session, webhookId.ToString("D"), WebhookEventTypes.Test, now.AddMinutes(-1), ct) >= s.Options.Value.TestsPerMinute)
        {
            http.Headers.RetryAfter = "60";
            return TypedResults.Problem(title: "The endpoint's test quota is used up.", statusCode: StatusCodes.Status429TooManyRequests,
                type: Infrastructure.Errors.ProblemTypes.QuotaExceeded,
                detail: $"An endpoint may be sent {s.Options.Value.TestsPerMinute} test events a minute; retry after Retry-After seconds.");
        }
        var queued = await s.Events.RecordAsync(session, id, WebhookEventTypes.Test, null,
            new { webhookId, message = "A test event from PartnerDeals: your endpoint receives and verifies signed events." }, now, ct, onlyTo: webhookId);
        await session.CommitAsync(ct);
        return TypedResults.Accepted($"/v1/partners/{id}/webhooks/{webhookId}/deliveries", new WebhookQueued(queued));
    }

    /// <param name="id">The partner.</param>
    /// <param name="webhookId">The endpoint.</param>
    /// <param name="since" example="2026-11-30T00:00:00Z">The instant (ISO 8601, with an offset) from which every event is sent again.</param>
    /// <param name="user">The caller.</param>
    /// <param name="s">Services.</param>
    /// <param name="ct">Cancellation.</param>
    private static async Task<Results<Accepted<WebhookQueued>, ValidationProblem, ProblemHttpResult>> Replay(
        Guid id, Guid webhookId, [System.ComponentModel.DataAnnotations.Required] string? since, ClaimsPrincipal user, [AsParameters] WebhookServices s, CancellationToken ct)
    {
        if (!user.CanSeePartner(id)) return WebhooksApi.WebhookNotFound();
        var now = s.Clock.GetUtcNow();
        if (!DateTimeOffset.TryParse(since, System.Globalization.CultureInfo.InvariantCulture, System.Globalization.DateTimeStyles.None, out var from)
            || !since!.Contains('T'))
        {
            return Problems.Validation("since", "since is required: an instant in ISO 8601 with its offset, e.g. 2026-11-30T00:00:00Z.");
        }
        if (from > now) return Problems.Validation("since", "since must not be in the future.");
        await using var connection = await s.Database.OpenAsync(ct);
        await using var session = await s.Database.BeginWriteAsync(connection, ct);
        var current = await s.Webhooks.GetAsync(session, id, webhookId, ct);
        if (current is null) return WebhooksApi.WebhookNotFound();
        if (!current.Enabled) return Problems.InvalidTransition("The endpoint is disabled; enable it first.");
        var queued = await ReplayAsync(session, current, from, now, ct);
        await s.Audit.RecordAsync(session, "webhook", webhookId, "webhook.replayed", Actor.From(user), new { since = from, queued }, ct);
        await session.CommitAsync(ct);
        return TypedResults.Accepted($"/v1/partners/{id}/webhooks/{webhookId}/deliveries", new WebhookQueued(queued));
    }

    /// <param name="id">The partner.</param>
    /// <param name="webhookId">The endpoint.</param>
    /// <param name="user">The caller.</param>
    /// <param name="s">Services.</param>
    /// <param name="ct">Cancellation.</param>
    /// <param name="status">Only deliveries in this status: pending, delivered or dead.</param>
    /// <param name="page">The page asked for.</param>
    private static async Task<Results<Ok<Page<WebhookDelivery>>, ValidationProblem, ProblemHttpResult>> Deliveries(
        Guid id, Guid webhookId, ClaimsPrincipal user, [AsParameters] WebhookServices s, CancellationToken ct,
        string? status = null, [AsParameters] PageRequest page = default)
    {
        if (!page.TryRead(out var pageSize, out var after, out var errors)) return Problems.Validation(errors);
        if (status is not null and not ("pending" or "delivered" or "dead"))
        {
            return Problems.Validation("status", "status must be pending, delivered or dead.");
        }
        if (await WebhooksApi.FindAsync(id, webhookId, user, s, ct) is null) return WebhooksApi.WebhookNotFound();
        var stored = await s.Outbox.ListAsync(WebhookSender.ChannelName, webhookId.ToString("D"), status, null, pageSize, after, withAttempts: true, ct);
        return TypedResults.Ok(new Page<WebhookDelivery>(stored.Items.Select(WebhookDelivery.From).ToList(), stored.NextCursor));
    }

    private static async Task<Results<Ok<WebhookDelivery>, ProblemHttpResult>> Delivery(
        Guid id, Guid webhookId, Guid deliveryId, ClaimsPrincipal user, [AsParameters] WebhookServices s, CancellationToken ct)
    {
        if (await WebhooksApi.FindAsync(id, webhookId, user, s, ct) is null) return WebhooksApi.WebhookNotFound();
        return await GetAsync(s, webhookId, deliveryId, ct) is { } delivery ? TypedResults.Ok(delivery) : Problems.NotFound("The delivery");
    }

    private static async Task<Results<Accepted<WebhookDelivery>, ProblemHttpResult>> Retry(
        Guid id, Guid webhookId, Guid deliveryId, ClaimsPrincipal user, [AsParameters] WebhookServices s, CancellationToken ct)
    {
        if (!user.CanSeePartner(id)) return WebhooksApi.WebhookNotFound();
        var now = s.Clock.GetUtcNow();
        await using (var connection = await s.Database.OpenAsync(ct))
        await using (var session = await s.Database.BeginWriteAsync(connection, ct))
        {
            if (await s.Webhooks.GetAsync(session, id, webhookId, ct) is null) return WebhooksApi.WebhookNotFound();
            if ((await OutboxStore.RetryAsync(session, WebhookSender.ChannelName, webhookId.ToString("D"), deliveryId, latestWins: false, now, ct)).Count == 0)
            {
                return await GetAsync(s, webhookId, deliveryId, ct) is null
                    ? Problems.NotFound("The delivery")
                    : Problems.InvalidTransition("The delivery was delivered; replay the endpoint to send it again.");
            }
            await s.Audit.RecordAsync(session, "webhook", webhookId, "webhook.delivery_retried", Actor.From(user), new { deliveryId }, ct);
            await session.CommitAsync(ct);
        }
        return TypedResults.Accepted($"/v1/partners/{id}/webhooks/{webhookId}/deliveries/{deliveryId}", (await GetAsync(s, webhookId, deliveryId, ct))!);
    }

    private static async Task<WebhookDelivery?> GetAsync(WebhookServices s, Guid webhookId, Guid deliveryId, CancellationToken ct) =>
        await s.Outbox.GetAsync(WebhookSender.ChannelName, webhookId.ToString("D"), deliveryId, ct) is { } stored ? WebhookDelivery.From(stored) : null;

    /// <summary>Queues every event of the partner since <paramref name="since"/> that the endpoint wants again, in order; answers how many.</summary>
    private static async Task<int> ReplayAsync(DbSession session, StoredWebhook webhook, DateTimeOffset since, DateTimeOffset now, CancellationToken ct)
    {
        var to = WebhookSender.To(webhook.Id, webhook.PartnerId);
        var events = (await OutboxStore.EventsSinceAsync(session, webhook.PartnerId, to, since, WebhookEventTypes.Test, ct))
            .Where(e => WebhookEventTypes.Matches(webhook.Events, e.EventType)).ToList();
        foreach (var e in events) await OutboxStore.QueueAsync(session, e.Id, to, e.RegistrationId, 0, e.EventType, now, ct);
        return events.Count;
    }
}
