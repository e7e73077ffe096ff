using System.Security.Claims;
using FluentValidation;
using Microsoft.AspNetCore.Http.HttpResults;
using PartnerDeals.Api.Features.Audit;
using PartnerDeals.Api.Infrastructure.Auth;
using PartnerDeals.Api.Infrastructure.Data;
using PartnerDeals.Api.Infrastructure.Http;

namespace PartnerDeals.Api.Features.Partners;

/// <summary>
/// A distributor and the resellers it supplies (<c>/v1/partners/{distributorId}/resellers</c>): ops start and end the
/// relationship, which says whether the distributor may register deals for the reseller and see the reseller's deals.
/// Ending one keeps its history (and the audit trail says who did what).
/// </summary>
public static class PartnerResellers
{
    private const string Columns = "id, distributor_id, reseller_id, may_register_on_behalf, may_view_deals, started_at, ended_at";

    private const string ActiveSql = "SELECT " + Columns + """
         FROM partner_resellers WHERE distributor_id = @DistributorId AND reseller_id = @ResellerId AND ended_at IS NULL
        """;

    private const string ListResellersSql = "SELECT " + Columns + """
         FROM partner_resellers WHERE distributor_id = @DistributorId AND (@IncludeEnded = 1 OR ended_at IS NULL) ORDER BY id
        """;

    private const string InsertRelationshipSql = """
        INSERT INTO partner_resellers (id, distributor_id, reseller_id, may_register_on_behalf, may_view_deals, started_at, ended_at)
        VALUES (@Id, @DistributorId, @ResellerId, @MayRegisterOnBehalf, @MayViewDeals, @StartedAt, NULL)
        """;

    private const string ChangeRelationshipSql = """
        UPDATE partner_resellers SET may_register_on_behalf = @MayRegisterOnBehalf, may_view_deals = @MayViewDeals WHERE id = @Id
        """;

    private const string EndRelationshipSql = "UPDATE partner_resellers SET ended_at = @EndedAt WHERE id = @Id AND ended_at IS NULL";

    public static void Map(IEndpointRouteBuilder v1)
    {
        var resellers = v1.MapGroup("/partners/{id:guid}/resellers").WithTags("Partners");

        resellers.MapPost("/", Start)
            .WithName("AddReseller")
            .WithSummary("Add a reseller to a distributor")
            .WithDescription("Ops and admin. The partner must be a distributor, the reseller another active partner. mayRegisterOnBehalf lets the "
                + "distributor register deals for the reseller (POST /v1/registrations with onBehalfOf); mayViewDeals lets it read the reseller's "
                + "registrations. Sent again for an active relationship, it changes the two permissions (200).")
            .RequireAuthorization(Policies.Ops)
            .WithValidation<ResellerRequest>()
            .ProducesProblem(StatusCodes.Status404NotFound)
            .ProducesProblem(StatusCodes.Status409Conflict);

        resellers.MapGet("/", List)
            .WithName("ListResellers")
            .WithSummary("A distributor's resellers")
            .WithDescription("Ops and admin; a distributor for itself. Active relationships, oldest first; ended ones too with includeEnded=true.")
            .RequireAuthorization(Policies.AnyKey)
            .ProducesProblem(StatusCodes.Status404NotFound);

        resellers.MapDelete("/{resellerId:guid}", End)
            .WithName("EndReseller")
            .WithSummary("End a distributor's relationship with a reseller")
            .WithDescription("Ops and admin. The distributor may no longer register for the reseller or see its deals; the relationship's history "
                + "and the registrations it made stay.")
            .RequireAuthorization(Policies.Ops)
            .ProducesProblem(StatusCodes.Status404NotFound);
    }

    /// <summary>The active relationship of a distributor with a reseller, read in the caller's transaction; null when there is none.</summary>
    public static async Task<Reseller?> ActiveAsync(DbSession session, Guid distributorId, Guid resellerId, CancellationToken ct) =>
        (await session.QuerySingleOrDefaultAsync<RelationshipRow>(ActiveSql, new { DistributorId = distributorId, ResellerId = resellerId }, ct))
            ?.ToReseller();

    private static async Task<Results<Created<Reseller>, Ok<Reseller>, ProblemHttpResult>> Start(Guid id, ResellerRequest request,
        ClaimsPrincipal user, Database database, PartnerStore partners, AuditTrail audit, TimeProvider clock, CancellationToken ct)
    {
        var distributorId = id;
        await using var connection = await database.OpenAsync(ct);
        await using var session = await database.BeginWriteAsync(connection, ct);
        var distributor = await partners.GetAsync(session, distributorId, ct);
        if (distributor is null) return Problems.NotFound("The distributor");
        if (distributor.Type != PartnerType.Distributor) return Problems.Conflict("Only a distributor has resellers.", $"The partner is a {Json.Name(distributor.Type)}.");
        var reseller = request.ResellerId == distributorId ? null : await partners.GetAsync(session, request.ResellerId!.Value, ct);
        if (reseller is null) return Problems.InvalidField("resellerId", "No other partner has this id.");
        if (distributor.Status != PartnerStatus.Active || reseller.Status != PartnerStatus.Active)
        {
            return Problems.Conflict("Both partners must be active.", $"The distributor is {Json.Name(distributor.Status)}, the reseller {Json.Name(reseller.Status)}.");
        }

        var actor = Actor.From(user);
        var row = new RelationshipRow
        {
            DistributorId = distributorId, ResellerId = reseller.Id,
            MayRegisterOnBehalf = request.MayRegisterOnBehalf ?? true, MayViewDeals = request.MayViewDeals ?? true,
        };
        if (await ActiveAsync(session, distributorId, reseller.Id, ct) is { } active)
        {
            row = row with { Id = active.Id, StartedAt = active.StartedAt };
            await session.ExecuteAsync(ChangeRelationshipSql, row, ct);
            await audit.RecordAsync(session, "partner", distributorId, "partner.reseller_changed", actor,
                new { resellerId = reseller.Id, row.MayRegisterOnBehalf, row.MayViewDeals }, ct);
            await session.CommitAsync(ct);
            return TypedResults.Ok(row.ToReseller());
        }
        var now = clock.GetUtcNow();
        row = row with { Id = Ids.New(now), StartedAt = now };
        await session.ExecuteAsync(InsertRelationshipSql, row, ct);
        await audit.RecordAsync(session, "partner", distributorId, "partner.reseller_added", actor,
            new { resellerId = reseller.Id, row.MayRegisterOnBehalf, row.MayViewDeals }, ct);
        await session.CommitAsync(ct);
        return TypedResults.Created($"/v1/partners/{distributorId}/resellers/{reseller.Id}", row.ToReseller());
    }

    /// <param name="id">The distributor.</param>
    /// <param name="user">The caller.</param>
    /// <param name="database">The database.</param>
    /// <param name="partners">The partners.</param>
    /// <param name="ct">Cancellation.</param>
    /// <param name="includeEnded">Also list relationships that ended.</param>
    private static async Task<Results<Ok<IReadOnlyList<Reseller>>, ProblemHttpResult>> List(Guid id, ClaimsPrincipal user,
        Database database, PartnerStore partners, CancellationToken ct, bool includeEnded = false)
    {
        var distributorId = id;
        if (!user.CanSeePartner(distributorId) || await partners.GetAsync(distributorId, ct) is null) return Problems.NotFound("The distributor");
        var rows = await database.ReadAsync(session => session.QueryAsync<RelationshipRow>(ListResellersSql,
            new { DistributorId = distributorId, IncludeEnded = includeEnded ? 1 : 0 }, ct), ct);
        return TypedResults.Ok<IReadOnlyList<Reseller>>(rows.Select(r => r.ToReseller()).ToList());
    }

    private static async Task<Results<NoContent, ProblemHttpResult>> End(Guid id, Guid resellerId, ClaimsPrincipal user,
        Database database, AuditTrail audit, TimeProvider clock, CancellationToken ct)
    {
        var distributorId = id;
        await using var connection = await database.OpenAsync(ct);
        await using var session = await database.BeginWriteAsync(connection, ct);
        if (await ActiveAsync(session, distributorId, resellerId, ct) is not { } active) return Problems.NotFound("The relationship");
        await session.ExecuteAsync(EndRelationshipSql, new { active.Id, EndedAt = clock.GetUtcNow() }, ct);
        await audit.RecordAsync(session, "partner", distributorId, "partner.reseller_ended", Actor.From(user), new { resellerId }, ct);
        await session.CommitAsync(ct);
        return TypedResults.NoContent();
    }

    /// <summary>One row of <c>partner_resellers</c>, as Dapper writes and reads it.</summary>
    private sealed record RelationshipRow
    {
        public Guid Id { get; init; }
        public Guid DistributorId { get; init; }
        public Guid ResellerId { get; init; }
        public bool MayRegisterOnBehalf { get; init; }
        public bool MayViewDeals { get; init; }
        public DateTimeOffset StartedAt { get; init; }
        public DateTimeOffset? EndedAt { get; init; }

        public Reseller ToReseller() => new()
        {
            Id = Id, DistributorId = DistributorId, ResellerId = ResellerId, MayRegisterOnBehalf = MayRegisterOnBehalf, MayViewDeals = MayViewDeals,
            StartedAt = StartedAt, EndedAt = EndedAt,
        };
    }
}

/// <summary>A distributor's relationship with one of its resellers.</summary>
public sealed record Reseller
{
    /// <example>0193a6f2-7c1e-7d3a-9f00-5b2c8e4d1a10</example>
    public required Guid Id { get; init; }

    public required Guid DistributorId { get; init; }

    public required Guid ResellerId { get; init; }

    /// <summary>The distributor may register deals for the reseller.</summary>
    /// <example>true</example>
    public required bool MayRegisterOnBehalf { get; init; }

    /// <summary>The distributor may read the reseller's registrations.</summary>
    /// <example>true</example>
    public required bool MayViewDeals { get; init; }

    public required DateTimeOffset StartedAt { get; init; }

    /// <summary>When ops ended it; null while it lasts.</summary>
    public DateTimeOffset? EndedAt { get; init; }
}

public sealed record ResellerRequest
{
    /// <summary>The reseller: another partner of the program.</summary>
    /// <example>0193a6f2-7c1e-7d3a-9f00-5b2c8e4d1a11</example>
    public Guid? ResellerId { get; init; }

    /// <summary>Whether the distributor may register deals for it (default true).</summary>
    /// <example>true</example>
    public bool? MayRegisterOnBehalf { get; init; }

    /// <summary>Whether the distributor may read its registrations (default true).</summary>
    /// <example>true</example>
    public bool? MayViewDeals { get; init; }
}

public sealed class ResellerRequestValidator : AbstractValidator<ResellerRequest>
{
    public ResellerRequestValidator() => RuleFor(x => x.ResellerId).NotNull();
}
