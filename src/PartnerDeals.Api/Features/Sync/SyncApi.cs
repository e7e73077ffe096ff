using System.Security.Claims;
using FluentValidation;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Options;
using PartnerDeals.Api.Features.Audit;
using PartnerDeals.Api.Features.Outbox;
using PartnerDeals.Api.Infrastructure.Data;
using PartnerDeals.Api.Infrastructure.Auth;
using PartnerDeals.Api.Infrastructure.Http;

namespace PartnerDeals.Api.Features.Sync;

public sealed record RetryDeadRequest
{
    /// <summary>Only this CRM's dead deliveries (salesforce, hubspot, dynamics); every CRM's when absent.</summary>
    /// <example>hubspot</example>
    public string? Crm { get; init; }
}

public sealed class RetryDeadRequestValidator : AbstractValidator<RetryDeadRequest>
{
    public RetryDeadRequestValidator()
    {
        RuleFor(x => x.Crm).Must(crm => crm is null || Crms.All.Contains(crm))
            .WithMessage($"crm must be one of: {string.Join(", ", Crms.All)}.");
    }
}

/// <param name="Retried">How many dead deliveries are pending again.</param>
/// <param name="Ids">Their ids.</param>
public sealed record RetryDeadResult(int Retried, IReadOnlyList<Guid> Ids);

/// <summary>A CRM's backlog.</summary>
/// <param name="Crm">salesforce, hubspot or dynamics.</param>
/// <param name="Enabled">Whether this instance delivers to it.</param>
/// <param name="Pending">Deliveries waiting.</param>
/// <param name="Delivered">Deliveries done.</param>
/// <param name="Dead">Deliveries waiting for ops.</param>
/// <param name="OldestPendingAt">When the oldest waiting change happened.</param>
/// <param name="LagSeconds">Its age: how far the CRM is behind.</param>
public sealed record CrmSyncStatus(string Crm, bool Enabled, int Pending, int Delivered, int Dead, DateTimeOffset? OldestPendingAt, double LagSeconds);

public static class SyncApi
{
    public static void MapSync(this IEndpointRouteBuilder v1)
    {
        // The channel team watches and replays deliveries; the CRM integration itself has no say in them.
        var sync = v1.MapGroup("/sync").WithTags("CRM sync").RequireAuthorization(Policies.Ops);

        sync.MapGet("/deliveries", List)
            .WithName("ListDeliveries")
            .WithFilterValues<DeliveryStatus>("status")
            .WithSummary("List CRM deliveries")
            .WithDescription("Ops and admin. One delivery per change and CRM, oldest first, keyset-paginated; filters status (pending, delivered, "
                + "dead), crm (salesforce, hubspot, dynamics) and registrationId.");

        sync.MapGet("/deliveries/{id:guid}", Get)
            .WithName("GetDelivery")
            .WithSummary("Read a delivery with every attempt")
            .WithDescription("Ops and admin. Each attempt with its outcome (delivered, failed, refused, rate_limited, postponed), the CRM's status "
                + "code and its message.")
            .ProducesProblem(StatusCodes.Status404NotFound);

        sync.MapPost("/deliveries/{id:guid}/retry", Retry)
            .WithName("RetryDelivery")
            .WithSummary("Retry a dead delivery")
            .WithDescription("Ops and admin. The delivery is pending again with a fresh set of attempts. Refused (409) unless it is dead, and when a "
                + "later change of the same registration has already reached the CRM (sending the older one would put stale values back).")
            .ProducesProblem(StatusCodes.Status404NotFound)
            .ProducesProblem(StatusCodes.Status409Conflict);

        sync.MapPost("/deliveries/retry", RetryDead)
            .WithName("RetryDeadDeliveries")
            .WithSummary("Retry every dead delivery")
            .WithDescription("Ops and admin, typically after fixing a CRM's configuration or data. Every dead delivery (of one CRM, or all) that no "
                + "later delivered change has overtaken is pending again.")
            .WithValidation<RetryDeadRequest>();

        sync.MapGet("/status", Status)
            .WithName("GetSyncStatus")
            .WithSummary("Each CRM's backlog and lag")
            .WithDescription("Ops and admin. Pending, delivered and dead deliveries per CRM, and the age of the oldest pending one.");
    }

    /// <param name="store">The outbox.</param>
    /// <param name="ct">Cancellation.</param>
    /// <param name="status">pending, delivered or dead.</param>
    /// <param name="crm">salesforce, hubspot or dynamics.</param>
    /// <param name="registrationId">Only this registration's deliveries.</param>
    /// <param name="page">The page asked for.</param>
    private static async Task<Results<Ok<Page<Delivery>>, ValidationProblem>> List(
        OutboxStore store, CancellationToken ct, string? status = null, string? crm = null, Guid? registrationId = null, [AsParameters] PageRequest page = default)
    {
        page.TryRead(out var pageSize, out var after, out var errors);
        var statusFilter = Paging.ReadFilter<DeliveryStatus>(status, "status", errors);
        if (crm is not null && !Crms.All.Contains(crm)) errors["crm"] = [$"crm must be one of: {string.Join(", ", Crms.All)}."];
        if (errors.Count > 0) return Problems.Validation(errors);
        var stored = await store.ListAsync(CrmSender.ChannelName, crm, statusFilter is { } s ? Json.Name(s) : null, registrationId, pageSize, after,
            withAttempts: false, ct);
        return TypedResults.Ok(new Page<Delivery>(stored.Items.Select(Delivery.From).ToList(), stored.NextCursor));
    }

    private static async Task<Results<Ok<Delivery>, ProblemHttpResult>> Get(Guid id, OutboxStore store, CancellationToken ct) =>
        await store.GetAsync(CrmSender.ChannelName, null, id, ct) is { } delivery ? TypedResults.Ok(Delivery.From(delivery)) : Problems.NotFound("The delivery");

    private static async Task<Results<Ok<Delivery>, ProblemHttpResult>> Retry(
        Guid id, ClaimsPrincipal user, OutboxStore store, Database database, AuditTrail audit, TimeProvider clock, CancellationToken ct)
    {
        var delivery = await store.GetAsync(CrmSender.ChannelName, null, id, ct);
        if (delivery is null) return Problems.NotFound("The delivery");
        if (delivery.Status != DeliveryStates.Dead)
        {
            return Problems.InvalidTransition($"The delivery is {delivery.Status}; only dead deliveries are retried.");
        }
        var retried = await RetryAsync(id, null, user, database, audit, clock, ct);
        if (retried.Count == 0)
        {
            return Problems.InvalidTransition($"A later change of registration {delivery.RegistrationId} has already reached {delivery.Destination}; "
                + "sending this older one again would put stale values back.");
        }
        return TypedResults.Ok(Delivery.From((await store.GetAsync(CrmSender.ChannelName, null, id, ct))!));
    }

    private static async Task<Ok<RetryDeadResult>> RetryDead(
        ClaimsPrincipal user, Database database, AuditTrail audit, TimeProvider clock, CancellationToken ct, RetryDeadRequest? request = null)
    {
        var retried = await RetryAsync(null, request?.Crm, user, database, audit, clock, ct);
        return TypedResults.Ok(new RetryDeadResult(retried.Count, retried));
    }

    /// <summary>Dead deliveries (one, or every one of a CRM or of all) pending again, but those a later delivered change overtook; each audited.</summary>
    private static async Task<IReadOnlyList<Guid>> RetryAsync(Guid? id, string? crm, ClaimsPrincipal user, Database database, AuditTrail audit,
        TimeProvider clock, CancellationToken ct)
    {
        await using var connection = await database.OpenAsync(ct);
        await using var session = await database.BeginWriteAsync(connection, ct);
        var retried = await OutboxStore.RetryAsync(session, CrmSender.ChannelName, crm, id, latestWins: true, clock.GetUtcNow(), ct);
        foreach (var each in retried) await audit.RecordAsync(session, "delivery", each, "delivery.retried", Actor.From(user), new { }, ct);
        await session.CommitAsync(ct);
        return retried;
    }

    private static async Task<Ok<IReadOnlyList<CrmSyncStatus>>> Status(
        OutboxStore store, IOptions<CrmOptions> options, TimeProvider clock, CancellationToken ct)
    {
        var enabled = options.Value.Enabled;
        var now = clock.GetUtcNow();
        var backlog = (await store.BacklogAsync(CrmSender.ChannelName, ct)).ToDictionary(b => b.Destination);
        IReadOnlyList<CrmSyncStatus> status = enabled.Union(backlog.Keys).Order(StringComparer.Ordinal)
            .Select(crm => backlog.GetValueOrDefault(crm) ?? new Backlog { Destination = crm })
            .Select(b => new CrmSyncStatus(b.Destination, enabled.Contains(b.Destination), b.Pending, b.Delivered, b.Dead,
                b.OldestPendingAt, b.OldestPendingAt is { } oldest ? Math.Max(0, Math.Round((now - oldest).TotalSeconds, 3)) : 0)).ToList();
        return TypedResults.Ok(status);
    }
}
