using System.Security.Claims;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Options;
using PartnerDeals.Api.Features.Audit;
using PartnerDeals.Api.Features.Partners;
using PartnerDeals.Api.Infrastructure.Auth;
using PartnerDeals.Api.Infrastructure.Data;
using PartnerDeals.Api.Infrastructure.Http;

namespace PartnerDeals.Api.Features.Webhooks;

/// <summary>What the webhook endpoints need.</summary>
public sealed record WebhookServices(
    Database Database, WebhookStore Webhooks, WebhookDeliveries Deliveries, WebhookEvents Events, WebhookSigning Signing,
    EndpointAddresses Addresses, PartnerStore Partners, AuditTrail Audit, IOptions<WebhookOptions> Options, TimeProvider Clock);

/// <summary>
/// A partner's webhook endpoints: the partner for itself, ops and admin for any partner. Every change is in
/// the audit trail, never with a secret.
/// </summary>
public static class WebhooksApi
{
    public static void MapWebhooks(this RouteGroupBuilder v1)
    {
        var webhooks = v1.MapGroup("/partners/{id:guid}/webhooks").WithTags("Webhooks").RequireAuthorization(Policies.Registrant);

        webhooks.MapPost("", Create)
            .WithName("CreateWebhook")
            .WithSummary("Add a webhook endpoint")
            .WithDescription("The partner for itself, ops and admin. The URL must be https and must not resolve to a private, loopback, "
                + "link-local or metadata address. The answer shows the signing secret once. At most `Webhooks:MaxEndpointsPerPartner` endpoints.")
            .WithValidation<CreateWebhookRequest>()
            .ProducesProblem(StatusCodes.Status404NotFound)
            .ProducesProblem(StatusCodes.Status409Conflict);

        webhooks.MapGet("", List)
            .WithName("ListWebhooks")
            .WithSummary("The partner's webhook endpoints")
            .WithDescription("The partner for itself, ops and admin; never a secret.")
            .ProducesProblem(StatusCodes.Status404NotFound);

        webhooks.MapGet("/{webhookId:guid}", Get)
            .WithName("GetWebhook")
            .WithSummary("One webhook endpoint")
            .WithDescription("The ETag header is the endpoint's version for If-Match.")
            .WithETag()
            .ProducesProblem(StatusCodes.Status404NotFound);

        webhooks.MapPatch("/{webhookId:guid}", Update)
            .WithName("UpdateWebhook")
            .WithSummary("Change an endpoint's URL, events, description, or turn it off and on")
            .WithDescription("Only the fields given change, with the ETag of your last read in If-Match: 428 without it, 412 when the endpoint "
                + "changed since. Turning it on again sends what is still pending; a replay brings what it missed while off.")
            .WithValidation<UpdateWebhookRequest>()
            .WithETag(requiresIfMatch: true)
            .ProducesProblem(StatusCodes.Status404NotFound)
            .ProducesProblem(StatusCodes.Status409Conflict);

        webhooks.MapDelete("/{webhookId:guid}", Delete)
            .WithName("DeleteWebhook")
            .WithSummary("Remove an endpoint, with its deliveries")
            .WithDescription("Nothing more is sent to it; its delivery log goes with it. The audit trail keeps that it existed.")
            .ProducesProblem(StatusCodes.Status404NotFound);

        webhooks.MapPost("/{webhookId:guid}/rotate-secret", RotateSecret)
            .WithName("RotateWebhookSecret")
            .WithSummary("Issue a new signing secret")
            .WithDescription("The new secret is shown once. For `Webhooks:RotationOverlap` (24 h) every message carries two signatures, "
                + "by the new secret and the previous one, so a receiver can switch when it is ready.")
            .ProducesProblem(StatusCodes.Status404NotFound);

        webhooks.MapPost("/{webhookId:guid}/test", Test)
            .WithName("TestWebhook")
            .WithSummary("Send a webhook.test event to this endpoint")
            .WithDescription("Signed and delivered like any event, to this endpoint only, whatever events it subscribes to; 409 when it is disabled.")
            .ProducesProblem(StatusCodes.Status404NotFound)
            .ProducesProblem(StatusCodes.Status409Conflict);

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

    private static async Task<Results<Created<WebhookSubscriptionWithSecret>, ValidationProblem, ProblemHttpResult>> Create(
        Guid id, CreateWebhookRequest request, ClaimsPrincipal user, [AsParameters] WebhookServices s, CancellationToken ct)
    {
        if (!user.CanSeePartner(id)) return PartnerNotFound();
        var url = request.Url!.Trim();
        if (await s.Addresses.RefusalAsync(url, ct) is { } refusal) return Problems.Validation("url", refusal);

        var now = s.Clock.GetUtcNow();
        var secret = WebhookSigning.NewSecret();
        var webhook = new StoredWebhook
        {
            Id = Ids.New(now),
            PartnerId = id,
            Url = url,
            Events = request.Events!.Distinct().ToList(),
            Description = Blank(request.Description),
            ProtectedSecret = s.Signing.Protect(secret),
            CreatedAt = now,
            UpdatedAt = now,
        };
        await using var connection = await s.Database.OpenAsync(ct);
        await using var session = await s.Database.BeginWriteAsync(connection, ct);
        var partner = await s.Partners.GetAsync(session, id, ct);
        if (partner is null) return PartnerNotFound();
        if (partner.Status == PartnerStatus.Terminated) return Problems.InvalidTransition("A terminated partner cannot add webhook endpoints.");
        var max = s.Options.Value.MaxEndpointsPerPartner;
        if (await s.Webhooks.CountAsync(session, id, ct) >= max)
        {
            return Problems.Conflict("Too many webhook endpoints", $"A partner may have at most {max} endpoints; remove one first.");
        }
        await s.Webhooks.InsertAsync(session, webhook, ct);
        await s.Audit.RecordAsync(session, "webhook", webhook.Id, "webhook.created", Actor.From(user), webhook.AuditFields(), ct);
        await session.CommitAsync(ct);
        return TypedResults.Created($"/v1/partners/{id}/webhooks/{webhook.Id}",
            new WebhookSubscriptionWithSecret { Webhook = webhook.ToSubscription(now), Secret = secret });
    }

    private static async Task<Results<Ok<Page<WebhookSubscription>>, ProblemHttpResult>> List(
        Guid id, ClaimsPrincipal user, [AsParameters] WebhookServices s, CancellationToken ct)
    {
        if (!user.CanSeePartner(id) || await s.Partners.GetAsync(id, ct) is null) return PartnerNotFound();
        var now = s.Clock.GetUtcNow();
        var all = await s.Webhooks.ListAsync(id, ct);
        return TypedResults.Ok(new Page<WebhookSubscription>(all.Select(w => w.ToSubscription(now)).ToList(), null));
    }

    private static async Task<Results<Ok<WebhookSubscription>, ProblemHttpResult>> Get(
        Guid id, Guid webhookId, ClaimsPrincipal user, HttpResponse response, [AsParameters] WebhookServices s, CancellationToken ct)
    {
        if (await FindAsync(id, webhookId, user, s, ct) is not { } webhook) return WebhookNotFound();
        response.Headers.ETag = ETags.For(webhook.Version);
        return TypedResults.Ok(webhook.ToSubscription(s.Clock.GetUtcNow()));
    }

    private static async Task<Results<Ok<WebhookSubscription>, ValidationProblem, ProblemHttpResult>> Update(
        Guid id, Guid webhookId, UpdateWebhookRequest request, HttpRequest http, ClaimsPrincipal user, [AsParameters] WebhookServices s,
        CancellationToken ct)
    {
        var ifMatch = ETags.ReadIfMatch(http, out var expected);
        if (ifMatch == ETags.Match.Missing) return Problems.PreconditionRequired();
        if (!user.CanSeePartner(id)) return WebhookNotFound();
        var url = request.Url?.Trim();
        if (url is not null && await s.Addresses.RefusalAsync(url, ct) is { } refusal) return Problems.Validation("url", refusal);

        var now = s.Clock.GetUtcNow();
        await using var connection = await s.Database.OpenAsync(ct);
        await using var session = await s.Database.BeginWriteAsync(connection, ct);
        var current = await s.Webhooks.GetAsync(session, id, webhookId, ct);
        if (current is null) return WebhookNotFound();
        if (ifMatch == ETags.Match.Unusable || (ifMatch == ETags.Match.Version && expected != current.Version)) return Problems.PreconditionFailed();
        if (request.Enabled == true && (await s.Partners.GetAsync(session, id, ct))!.Status == PartnerStatus.Terminated)
        {
            return Problems.InvalidTransition("A terminated partner's endpoints stay off.");
        }
        var changed = current with
        {
            Url = url ?? current.Url,
            Events = request.Events?.Distinct().ToList() ?? current.Events,
            Description = request.Description is null ? current.Description : Blank(request.Description),
            Version = current.Version + 1,
            UpdatedAt = now,
        };
        if (request.Enabled is { } enabled && enabled != current.Enabled)
        {
            changed = enabled
                ? changed with { Enabled = true, DisabledReason = null, DisabledAt = null, FailingSince = null }
                : changed with { Enabled = false, DisabledReason = "disabled", DisabledAt = now };
        }
        if (!await s.Webhooks.UpdateAsync(session, changed, current.Version, ct)) return Problems.PreconditionFailed();
        await s.Audit.RecordAsync(session, "webhook", webhookId, "webhook.updated", Actor.From(user), changed.AuditFields(), ct);
        await session.CommitAsync(ct);
        http.HttpContext.Response.Headers.ETag = ETags.For(changed.Version);
        return TypedResults.Ok(changed.ToSubscription(now));
    }

    private static async Task<Results<NoContent, ProblemHttpResult>> Delete(
        Guid id, Guid webhookId, ClaimsPrincipal user, [AsParameters] WebhookServices s, CancellationToken ct)
    {
        if (!user.CanSeePartner(id)) return WebhookNotFound();
        await using var connection = await s.Database.OpenAsync(ct);
        await using var session = await s.Database.BeginWriteAsync(connection, ct);
        var current = await s.Webhooks.GetAsync(session, id, webhookId, ct);
        if (current is null) return WebhookNotFound();
        await s.Webhooks.DeleteAsync(session, webhookId, ct);
        await s.Audit.RecordAsync(session, "webhook", webhookId, "webhook.deleted", Actor.From(user), current.AuditFields(), ct);
        await session.CommitAsync(ct);
        return TypedResults.NoContent();
    }

    private static async Task<Results<Ok<WebhookSubscriptionWithSecret>, ProblemHttpResult>> RotateSecret(
        Guid id, Guid webhookId, ClaimsPrincipal user, [AsParameters] WebhookServices s, CancellationToken ct)
    {
        if (!user.CanSeePartner(id)) return WebhookNotFound();
        var now = s.Clock.GetUtcNow();
        await using var connection = await s.Database.OpenAsync(ct);
        await using var session = await s.Database.BeginWriteAsync(connection, ct);
        var current = await s.Webhooks.GetAsync(session, id, webhookId, ct);
        if (current is null) return WebhookNotFound();
        var secret = WebhookSigning.NewSecret();
        var until = now + s.Options.Value.RotationOverlap;
        await s.Webhooks.RotateAsync(session, webhookId, s.Signing.Protect(secret), current.ProtectedSecret, until, now, ct);
        await s.Audit.RecordAsync(session, "webhook", webhookId, "webhook.secret_rotated", Actor.From(user), new { previousSecretValidUntil = until }, ct);
        await session.CommitAsync(ct);
        var rotated = current with { PreviousSecretUntil = until, UpdatedAt = now };
        return TypedResults.Ok(new WebhookSubscriptionWithSecret { Webhook = rotated.ToSubscription(now), Secret = secret });
    }

    private static async Task<Results<Accepted<WebhookQueued>, ProblemHttpResult>> Test(
        Guid id, Guid webhookId, ClaimsPrincipal user, [AsParameters] WebhookServices s, CancellationToken ct)
    {
        if (!user.CanSeePartner(id)) return WebhookNotFound();
        var now = s.Clock.GetUtcNow();
        await using var connection = await s.Database.OpenAsync(ct);
        await using var session = await s.Database.BeginWriteAsync(connection, ct);
        var current = await s.Webhooks.GetAsync(session, id, webhookId, ct);
        if (current is null) return WebhookNotFound();
        if (!current.Enabled) return Problems.InvalidTransition("The endpoint is disabled; enable it first.");
        var queued = await s.Events.RecordAsync(session, id, WebhookEventTypes.Test, null,
            new { webhookId, message = "A test event from PartnerDeals: your endpoint receives and verifies signed events." }, now, ct, onlyTo: webhookId);
        await session.CommitAsync(ct);
        return TypedResults.Accepted($"/v1/partners/{id}/webhooks/{webhookId}/deliveries", new WebhookQueued(queued));
    }

    /// <param name="id">The partner.</param>
    /// <param name="webhookId">The endpoint.</param>
    /// <param name="since">The instant (ISO 8601, with an offset) from which every event is sent again.</param>
    /// <param name="user">The caller.</param>
    /// <param name="s">Services.</param>
    /// <param name="ct">Cancellation.</param>
    private static async Task<Results<Accepted<WebhookQueued>, ValidationProblem, ProblemHttpResult>> Replay(
        Guid id, Guid webhookId, string? since, ClaimsPrincipal user, [AsParameters] WebhookServices s, CancellationToken ct)
    {
        if (!user.CanSeePartner(id)) return WebhookNotFound();
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
        if (current is null) return WebhookNotFound();
        if (!current.Enabled) return Problems.InvalidTransition("The endpoint is disabled; enable it first.");
        var queued = await s.Deliveries.ReplayAsync(session, current, from, now, ct);
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
    /// <param name="limit">Page size, 1–200 (default 50).</param>
    /// <param name="cursor">The nextCursor of the previous page.</param>
    private static async Task<Results<Ok<Page<WebhookDelivery>>, ValidationProblem, ProblemHttpResult>> Deliveries(
        Guid id, Guid webhookId, ClaimsPrincipal user, [AsParameters] WebhookServices s, CancellationToken ct,
        string? status = null, int? limit = null, string? cursor = null)
    {
        if (!Paging.TryRead(limit, cursor, out var pageSize, out var after, out var errors)) return Problems.Validation(errors);
        if (status is not null and not ("pending" or "delivered" or "dead"))
        {
            return Problems.Validation("status", "status must be pending, delivered or dead.");
        }
        if (await FindAsync(id, webhookId, user, s, ct) is null) return WebhookNotFound();
        return TypedResults.Ok(await s.Deliveries.ListAsync(webhookId, status, pageSize, after, ct));
    }

    private static async Task<Results<Ok<WebhookDelivery>, ProblemHttpResult>> Delivery(
        Guid id, Guid webhookId, Guid deliveryId, ClaimsPrincipal user, [AsParameters] WebhookServices s, CancellationToken ct)
    {
        if (await FindAsync(id, webhookId, user, s, ct) is null) return WebhookNotFound();
        return await s.Deliveries.GetAsync(webhookId, deliveryId, ct) is { } delivery
            ? TypedResults.Ok(delivery)
            : Problems.NotFound("The delivery");
    }

    private static async Task<Results<Accepted<WebhookDelivery>, ProblemHttpResult>> Retry(
        Guid id, Guid webhookId, Guid deliveryId, ClaimsPrincipal user, [AsParameters] WebhookServices s, CancellationToken ct)
    {
        if (!user.CanSeePartner(id)) return WebhookNotFound();
        var now = s.Clock.GetUtcNow();
        await using (var connection = await s.Database.OpenAsync(ct))
        await using (var session = await s.Database.BeginWriteAsync(connection, ct))
        {
            if (await s.Webhooks.GetAsync(session, id, webhookId, ct) is null) return WebhookNotFound();
            if (!await s.Deliveries.RetryAsync(session, webhookId, deliveryId, now, ct))
            {
                return await s.Deliveries.GetAsync(webhookId, deliveryId, ct) is null
                    ? Problems.NotFound("The delivery")
                    : Problems.InvalidTransition("The delivery was delivered; replay the endpoint to send it again.");
            }
            await s.Audit.RecordAsync(session, "webhook", webhookId, "webhook.delivery_retried", Actor.From(user), new { deliveryId }, ct);
            await session.CommitAsync(ct);
        }
        return TypedResults.Accepted($"/v1/partners/{id}/webhooks/{webhookId}/deliveries/{deliveryId}",
            (await s.Deliveries.GetAsync(webhookId, deliveryId, ct))!);
    }

    private static async Task<StoredWebhook?> FindAsync(Guid id, Guid webhookId, ClaimsPrincipal user, WebhookServices s, CancellationToken ct) =>
        user.CanSeePartner(id) ? await s.Webhooks.GetAsync(id, webhookId, ct) : null;

    private static ProblemHttpResult PartnerNotFound() => Problems.NotFound("The partner");

    private static ProblemHttpResult WebhookNotFound() => Problems.NotFound("The webhook endpoint");

    private static string? Blank(string? text) => string.IsNullOrWhiteSpace(text) ? null : text.Trim();
}
