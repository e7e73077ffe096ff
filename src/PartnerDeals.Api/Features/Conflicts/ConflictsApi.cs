using System.ComponentModel.DataAnnotations;
using System.Security.Claims;
using FluentValidation;
using Microsoft.AspNetCore.Http.HttpResults;
using PartnerDeals.Api.Features.Audit;
using PartnerDeals.Api.Features.ConflictChecks;
using PartnerDeals.Api.Features.Registrations;
using PartnerDeals.Api.Infrastructure.Auth;
using PartnerDeals.Api.Infrastructure.Data;
using PartnerDeals.Api.Infrastructure.Http;
using Conflict = PartnerDeals.Api.Features.Registrations.Conflict;

namespace PartnerDeals.Api.Features.Conflicts;

public static class ConflictsApi
{
    public static void MapConflicts(this IEndpointRouteBuilder v1)
    {
        var conflicts = v1.MapGroup("/conflicts").WithTags("Conflicts");

        conflicts.MapGet("/", List)
            .WithName("ListConflicts")
            .WithFilterValues<ConflictStatus>("status")
            .WithFilterValues<CandidateKind>("kind")
            .WithSummary("List conflicts")
            .WithDescription("Vendor keys (crm, ops, admin). Oldest first, keyset-paginated; filters status (open, resolved), kind of the strongest "
                + "match (direct_opportunity, existing_customer, partner_registration, duplicate_registration) and registrationId.")
            .RequireAuthorization(Policies.Vendor);

        conflicts.MapGet("/{id:guid}", Get)
            .WithName("GetConflict")
            .WithSummary("Read a conflict with every candidate")
            .WithDescription("Vendor keys. Every match at review level or above with its score and signals, and the policy version that decided.")
            .RequireAuthorization(Policies.Vendor)
            .ProducesProblem(StatusCodes.Status404NotFound);

        ResolveConflict.Map(conflicts);
    }

    /// <param name="store">The conflict store.</param>
    /// <param name="ct">Cancellation.</param>
    /// <param name="status">open or resolved.</param>
    /// <param name="kind">The kind of the strongest match.</param>
    /// <param name="registrationId">Only this registration's conflicts.</param>
    /// <param name="page">The page asked for.</param>
    private static async Task<Results<Ok<Page<Conflict>>, ValidationProblem>> List(
        ConflictStore store, CancellationToken ct, string? status = null, string? kind = null, Guid? registrationId = null, [AsParameters] PageRequest page = default)
    {
        page.TryRead(out var pageSize, out var after, out var errors);
        var statusFilter = Paging.ReadFilter<ConflictStatus>(status, "status", errors);
        var kindFilter = Paging.ReadFilter<CandidateKind>(kind, "kind", errors);
        if (errors.Count > 0) return Problems.Validation(errors);
        return TypedResults.Ok(await store.ListAsync(statusFilter, kindFilter, registrationId, pageSize, after, ct));
    }

    private static async Task<Results<Ok<Conflict>, ProblemHttpResult>> Get(Guid id, ConflictStore store, CancellationToken ct) =>
        await store.GetAsync(id, ct) is { } conflict ? TypedResults.Ok(conflict) : Problems.NotFound("The conflict");
}
