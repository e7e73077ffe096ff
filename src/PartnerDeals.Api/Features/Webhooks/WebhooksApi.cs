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
    Database Database, WebhookStore Webhooks, Outbox.OutboxStore Outbox, WebhookEvents Events, WebhookSigning Signing,
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

        webhooks.MapDeliveryLog();
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

    internal static async Task<StoredWebhook?> FindAsync(Guid id, Guid webhookId, ClaimsPrincipal user, WebhookServices s, CancellationToken ct) =>
        user.CanSeePartner(id) ? await s.Webhooks.GetAsync(id, webhookId, ct) : null;

    internal static ProblemHttpResult PartnerNotFound() => Problems.NotFound("The partner");

    internal static ProblemHttpResult WebhookNotFound() => Problems.NotFound("The webhook endpoint");

    internal static string? Blank(string? text) => string.IsNullOrWhiteSpace(text) ? null : text.Trim();
}
