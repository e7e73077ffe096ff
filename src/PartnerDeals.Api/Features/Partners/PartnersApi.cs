using System.Security.Claims;
using Microsoft.AspNetCore.Http.HttpResults;
using PartnerDeals.Api.Features.Audit;
using PartnerDeals.Api.Infrastructure.Auth;
using PartnerDeals.Api.Infrastructure.Data;
using PartnerDeals.Api.Infrastructure.Http;

namespace PartnerDeals.Api.Features.Partners;

public static class PartnersApi
{
    public static void MapPartners(this IEndpointRouteBuilder v1)
    {
        PartnerResellers.Map(v1);
        var partners = v1.MapGroup("/partners").WithTags("Partners");

        partners.MapPost("/", Create)
            .WithName("CreatePartner")
            .WithSummary("Add a partner to the program")
            .WithDescription("Ops and admin. Terms not given take the defaults. The name must be unique, ignoring case.")
            .RequireAuthorization(Policies.Ops)
            .WithValidation<CreatePartnerRequest>()
            .WithETag()
            .ProducesProblem(StatusCodes.Status409Conflict);

        partners.MapGet("/", List)
            .WithName("ListPartners")
            .WithFilterValues<PartnerType>("type")
            .WithFilterValues<PartnerStatus>("status")
            .WithSummary("List partners")
            .WithDescription("Vendor keys (crm, ops, admin). Oldest first, keyset-paginated: pass nextCursor back as cursor.")
            .RequireAuthorization(Policies.Vendor);

        partners.MapGet("/{id:guid}", Get)
            .WithName("GetPartner")
            .WithSummary("Read a partner")
            .WithDescription("Any key; a partner key reads only its own partner (404 for any other). The ETag header is the version for If-Match.")
            .RequireAuthorization(Policies.AnyKey)
            .WithETag()
            .ProducesProblem(StatusCodes.Status404NotFound);

        partners.MapPatch("/{id:guid}", Update)
            .WithName("UpdatePartner")
            .WithSummary("Change a partner")
            .WithDescription("Ops and admin. Send only the fields to change, with the ETag of your last read in If-Match: 428 without it, 412 when the partner changed since. Suspending makes the partner's keys read-only. Terminating revokes its keys, "
                + "withdraws its pending and approved registrations (reason partner_terminated; the registrations waiting behind them are re-evaluated) and cannot be undone; fees earned before stay.")
            .RequireAuthorization(Policies.Ops)
            .WithValidation<UpdatePartnerRequest>()
            .Accepts<UpdatePartnerRequest>("application/json", "application/merge-patch+json")
            .WithETag(requiresIfMatch: true)
            .ProducesProblem(StatusCodes.Status404NotFound)
            .ProducesProblem(StatusCodes.Status409Conflict);

        partners.MapGet("/{id:guid}/events", Events)
            .WithName("ListPartnerEvents")
            .WithSummary("The partner's audit trail")
            .WithDescription("Ops and admin. Every change of the partner, oldest first: who, when, and each field's from → to.")
            .RequireAuthorization(Policies.Ops)
            .ProducesProblem(StatusCodes.Status404NotFound);
    }

    private static async Task<Results<Created<Partner>, ProblemHttpResult>> Create(
        CreatePartnerRequest request, ClaimsPrincipal user, HttpResponse response, Database database, PartnerStore partners,
        AuditTrail audit, TimeProvider clock, CancellationToken ct)
    {
        var now = clock.GetUtcNow();
        var partner = new Partner
        {
            Id = Ids.New(now),
            Name = request.Name!.Trim(),
            Type = request.Type!.Value,
            Tier = request.Tier!,
            Status = request.Status ?? PartnerStatus.Active,
            ContactEmail = request.ContactEmail!.Trim(),
            Terms = PartnerTerms.Default.With(request.Terms),
            CrmAccounts = request.CrmAccounts?.Over(new CrmAccounts()) ?? new CrmAccounts(),
            Version = 1,
            CreatedAt = now,
            UpdatedAt = now,
        };

        await using var connection = await database.OpenAsync(ct);
        await using var session = await database.BeginWriteAsync(connection, ct);
        try
        {
            await partners.InsertAsync(session, partner, ct);
        }
        catch (Exception e) when (SqlDialect.IsUniqueViolation(e))
        {
            return NameTaken();
        }
        await audit.RecordAsync(session, "partner", partner.Id, "partner.created", Actor.From(user), partner.AuditFields(), ct);
        await session.CommitAsync(ct);

        response.Headers.ETag = ETags.For(partner.Version);
        return TypedResults.Created($"/v1/partners/{partner.Id}", partner);
    }

    /// <param name="partners">The partner store.</param>
    /// <param name="ct">Cancellation.</param>
    /// <param name="type">Only partners of this type: referral, reseller, implementation, technology, affiliate, msp.</param>
    /// <param name="tier">Only partners of this tier (one of the configured tiers).</param>
    /// <param name="status">Only partners in this status: active, suspended, terminated.</param>
    /// <param name="page">The page asked for.</param>
    private static async Task<Results<Ok<Page<Partner>>, ValidationProblem>> List(
        PartnerStore partners, CancellationToken ct,
        string? type = null, string? tier = null, string? status = null, [AsParameters] PageRequest page = default)
    {
        page.TryRead(out var pageSize, out var after, out var errors);
        var typeFilter = Paging.ReadFilter<PartnerType>(type, "type", errors);
        var statusFilter = Paging.ReadFilter<PartnerStatus>(status, "status", errors);
        if (errors.Count > 0) return Problems.Validation(errors);
        return TypedResults.Ok(await partners.ListAsync(typeFilter, tier, statusFilter, pageSize, after, ct));
    }

    private static async Task<Results<Ok<Partner>, ProblemHttpResult>> Get(
        Guid id, ClaimsPrincipal user, HttpResponse response, PartnerStore partners, CancellationToken ct)
    {
        // A partner asking for another partner learns nothing, not even that it exists.
        if (!user.CanSeePartner(id)) return Problems.NotFound("The partner");
        var partner = await partners.GetAsync(id, ct);
        if (partner is null) return Problems.NotFound("The partner");
        response.Headers.ETag = ETags.For(partner.Version);
        return TypedResults.Ok(partner);
    }

    private static async Task<Results<Ok<Partner>, ValidationProblem, ProblemHttpResult>> Update(
        Guid id, UpdatePartnerRequest request, HttpRequest http, ClaimsPrincipal user, DecisionWriter writer, PartnerStore partners,
        IEnumerable<ITerminationStep> termination, AuditTrail audit, TimeProvider clock, CancellationToken ct)
    {
        var ifMatch = ETags.ReadIfMatch(http, out var expected);
        if (ifMatch == ETags.Match.Missing) return Problems.PreconditionRequired();

        // Through the decision writer: terminating releases the partner's claims, which decides who holds their accounts.
        var (problem, invalid, updated) = await writer.DecideAsync(async session =>
        {
            var current = await partners.GetAsync(session, id, ct);
            if (current is null) return PartnerChange.Refused(Problems.NotFound("The partner"));
            if (ifMatch == ETags.Match.Unusable || (ifMatch == ETags.Match.Version && expected != current.Version))
            {
                return PartnerChange.Refused(Problems.PreconditionFailed());
            }

            var terms = current.Terms.With(request.Terms);
            var termErrors = new PartnerTermsValidator().Validate(terms);
            if (!termErrors.IsValid)
            {
                return Decided<PartnerChange>.Discarded(new(null, Problems.Validation(termErrors.Errors
                    .GroupBy(e => "terms." + e.PropertyName)
                    .ToDictionary(g => g.Key, g => g.Select(e => e.ErrorMessage).ToArray())), null));
            }
            if (current.Status == PartnerStatus.Terminated && request.Status is { } next && next != PartnerStatus.Terminated)
            {
                return PartnerChange.Refused(Problems.InvalidTransition("A terminated partner cannot be reactivated; add a new partner instead."));
            }

            var changed = current with
            {
                Name = request.Name?.Trim() ?? current.Name,
                Type = request.Type ?? current.Type,
                Tier = request.Tier ?? current.Tier,
                Status = request.Status ?? current.Status,
                ContactEmail = request.ContactEmail?.Trim() ?? current.ContactEmail,
                Terms = terms,
                CheckQuota = request.CheckQuota ?? (request.SentAsNull(nameof(request.CheckQuota)) ? null : current.CheckQuota),
                CrmAccounts = request.CrmAccounts?.Over(current.CrmAccounts) ?? current.CrmAccounts,
            };
            var changes = AuditTrail.Changes(current.AuditFields(), changed.AuditFields());
            if (changes.Count == 0) return Decided<PartnerChange>.Discarded(new(null, null, current));

            changed = changed with { Version = current.Version + 1, UpdatedAt = clock.GetUtcNow() };
            try
            {
                if (!await partners.UpdateAsync(session, changed, current.Version, ct)) return PartnerChange.Refused(Problems.PreconditionFailed());
            }
            catch (Exception e) when (SqlDialect.IsUniqueViolation(e))
            {
                return PartnerChange.Refused(NameTaken());
            }

            var record = new Dictionary<string, object> { ["changes"] = changes };
            if (changed.Status == PartnerStatus.Terminated && current.Status != PartnerStatus.Terminated)
            {
                foreach (var step in termination.OrderBy(s => s.Order))
                {
                    record[step.Recorded] = await step.TerminateAsync(session, id, Actor.From(user), changed.UpdatedAt, ct);
                }
            }
            await audit.RecordAsync(session, "partner", id, "partner.updated", Actor.From(user), record, ct);
            return Decided<PartnerChange>.Kept(new(null, null, changed));
        }, ct);

        if (problem is not null) return problem;
        if (invalid is not null) return invalid;
        // A status change (suspended, terminated) reaches this instance's keys at once.
        foreach (var step in termination) step.StatusChanged();
        http.HttpContext.Response.Headers.ETag = ETags.For(updated!.Version);
        return TypedResults.Ok(updated);
    }

    private sealed record PartnerChange(ProblemHttpResult? Problem, ValidationProblem? Invalid, Partner? Partner)
    {
        public static Decided<PartnerChange> Refused(ProblemHttpResult problem) => Decided<PartnerChange>.Discarded(new(problem, null, null));
    }

    /// <param name="id">The partner's id.</param>
    /// <param name="partners">The partner store.</param>
    /// <param name="audit">The audit trail.</param>
    /// <param name="ct">Cancellation.</param>
    /// <param name="page">The page asked for.</param>
    private static async Task<Results<Ok<Page<AuditEvent>>, ValidationProblem, ProblemHttpResult>> Events(
        Guid id, PartnerStore partners, AuditTrail audit, CancellationToken ct, [AsParameters] PageRequest page = default)
    {
        if (!page.TryRead(out var pageSize, out var after, out var errors)) return Problems.Validation(errors);
        if (await partners.GetAsync(id, ct) is null) return Problems.NotFound("The partner");
        return TypedResults.Ok(await audit.ListAsync("partner", id, pageSize, after, ct));
    }

    private static ProblemHttpResult NameTaken() =>
        Problems.Conflict("A partner with this name already exists.", "Partner names are unique, ignoring case and spacing.");
}
