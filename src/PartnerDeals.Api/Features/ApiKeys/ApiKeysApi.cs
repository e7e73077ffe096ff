using System.Security.Claims;
using Microsoft.AspNetCore.Http.HttpResults;
using PartnerDeals.Api.Features.Audit;
using PartnerDeals.Api.Features.Partners;
using PartnerDeals.Api.Infrastructure.Auth;
using PartnerDeals.Api.Infrastructure.Data;
using PartnerDeals.Api.Infrastructure.Http;

namespace PartnerDeals.Api.Features.ApiKeys;

public static class ApiKeysApi
{
    public static void MapApiKeys(this IEndpointRouteBuilder v1)
    {
        var keys = v1.MapGroup("/api-keys").WithTags("API keys");

        keys.MapPost("/", Create)
            .WithName("CreateApiKey")
            .WithSummary("Issue an ops or CRM key")
            .WithDescription("Admin only. The key is in the response this once; only its hash is stored. Partner keys are issued under POST /v1/partners/{id}/api-keys.")
            .RequireAuthorization(Policies.Admin)
            .WithValidation<CreateApiKeyRequest>();

        keys.MapGet("/", List)
            .WithName("ListApiKeys")
            .WithFilterValues<ApiKeyRole>("role")
            .WithSummary("List keys, without their secrets")
            .WithDescription("Ops and admin. Newest last; filter by role or partner; revoked keys only with includeRevoked=true.")
            .RequireAuthorization(Policies.Ops);

        keys.MapDelete("/{id:guid}", Revoke)
            .WithName("RevokeApiKey")
            .WithSummary("Revoke a key")
            .WithDescription("The key stops working at once on every instance. Ops may revoke partner keys; admin may revoke any key. Revoking a revoked key is a no-op.")
            .RequireAuthorization(Policies.Ops)
            .ProducesProblem(StatusCodes.Status404NotFound);

        v1.MapPost("/partners/{id:guid}/api-keys", CreateForPartner)
            .WithTags("API keys")
            .WithName("CreatePartnerApiKey")
            .WithSummary("Issue a key bound to a partner")
            .WithDescription("Ops and admin. The key can act only as this partner and see only its data. Not for terminated partners.")
            .RequireAuthorization(Policies.Ops)
            .WithValidation<CreatePartnerApiKeyRequest>()
            .ProducesProblem(StatusCodes.Status404NotFound)
            .ProducesProblem(StatusCodes.Status409Conflict);
    }

    private static async Task<Created<ApiKeyCreated>> Create(
        CreateApiKeyRequest request, ClaimsPrincipal user, Database database, ApiKeyStore keys, CancellationToken ct)
    {
        await using var connection = await database.OpenAsync(ct);
        await using var session = await database.BeginWriteAsync(connection, ct);
        var issued = await keys.IssueAsync(session, request.Name!.Trim(), request.Role!.Value, null, Actor.From(user), ct);
        await session.CommitAsync(ct);
        return TypedResults.Created($"/v1/api-keys/{issued.Key.Id}", ApiKeyCreated.From(issued));
    }

    private static async Task<Results<Created<ApiKeyCreated>, ProblemHttpResult>> CreateForPartner(
        Guid id, CreatePartnerApiKeyRequest request, ClaimsPrincipal user, Database database, PartnerStore partners, ApiKeyStore keys,
        CancellationToken ct)
    {
        await using var connection = await database.OpenAsync(ct);
        await using var session = await database.BeginWriteAsync(connection, ct);
        var partner = await partners.GetAsync(session, id, ct);
        if (partner is null) return Problems.NotFound("The partner");
        if (partner.Status == PartnerStatus.Terminated)
        {
            return Problems.InvalidTransition("A terminated partner cannot be given keys.");
        }
        var issued = await keys.IssueAsync(session, request.Name!.Trim(), ApiKeyRole.Partner, id, Actor.From(user), ct);
        await session.CommitAsync(ct);
        return TypedResults.Created($"/v1/api-keys/{issued.Key.Id}", ApiKeyCreated.From(issued));
    }

    /// <param name="keys">The key store.</param>
    /// <param name="ct">Cancellation.</param>
    /// <param name="role">Only keys of this role: admin, ops, crm or partner.</param>
    /// <param name="partnerId">Only the keys of this partner.</param>
    /// <param name="includeRevoked">Also list revoked keys.</param>
    /// <param name="page">The page asked for.</param>
    private static async Task<Results<Ok<Page<ApiKeySummary>>, ValidationProblem>> List(
        ApiKeyStore keys, CancellationToken ct,
        string? role = null, Guid? partnerId = null, bool includeRevoked = false, [AsParameters] PageRequest page = default)
    {
        page.TryRead(out var pageSize, out var after, out var errors);
        var roleFilter = Paging.ReadFilter<ApiKeyRole>(role, "role", errors);
        if (errors.Count > 0) return Problems.Validation(errors);
        return TypedResults.Ok(await keys.ListAsync(roleFilter, partnerId, includeRevoked, pageSize, after, ct));
    }

    private static async Task<Results<NoContent, ProblemHttpResult>> Revoke(Guid id, ClaimsPrincipal user, ApiKeyStore keys, CancellationToken ct)
    {
        var key = await keys.GetAsync(id, ct);
        if (key is null) return Problems.NotFound("The API key");
        if (key.Role != ApiKeyRole.Partner && user.Role() != ApiKeyRole.Admin)
        {
            return Problems.Forbidden("Only an admin key may revoke ops, CRM or admin keys.");
        }
        await keys.RevokeAsync(id, Actor.From(user), ct);
        return TypedResults.NoContent();
    }
}
