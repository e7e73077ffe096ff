using FluentValidation;
using Microsoft.AspNetCore.Http.HttpResults;
using PartnerDeals.Api.Infrastructure.Auth;
using PartnerDeals.Api.Infrastructure.Data;
using PartnerDeals.Api.Infrastructure.Http;

namespace PartnerDeals.Api.Features.Opportunities;

public static class OpportunitiesApi
{
    public static void MapOpportunities(this IEndpointRouteBuilder v1)
    {
        // The direct pipeline belongs to the vendor: no partner key ever reads or writes it.
        var opportunities = v1.MapGroup("/opportunities").WithTags("Direct pipeline").RequireAuthorization(Policies.Vendor);

        opportunities.MapPut("/{source}/{externalId}", Upsert)
            .WithName("UpsertOpportunity")
            .WithSummary("Create or update one opportunity by its CRM identity")
            .WithDescription("crm, ops, admin. 201 when created, 200 when updated. A won opportunity makes its account an existing customer. "
                + "The vendor's data is cleaned before it is validated (invisible and control characters dropped, spaces collapsed, an unusable "
                + "optional field dropped, an overlong one cut at a word); `cleaned` says what changed. Only a missing account name or status is a 400.")
            .ProducesValidationProblem();

        opportunities.MapPost("/batch", Batch)
            .WithName("UpsertOpportunityBatch")
            .WithSummary("Create or update up to 1,000 opportunities in one transaction")
            .WithDescription("crm, ops, admin. Each item is cleaned and validated on its own: valid items are written together, invalid ones "
                + "(no identity, no account name, no status) are reported with their errors, cleaned ones with what cleaning changed.")
            .WithValidation<OpportunityBatchRequest>();

        opportunities.MapImport();

        opportunities.MapGet("/", List)
            .WithName("ListOpportunities")
            .WithFilterValues<OpportunityStatus>("status")
            .WithSummary("List opportunities")
            .WithDescription("crm, ops, admin. Oldest first, keyset-paginated; filters source, status, country, domain.");

        opportunities.MapGet("/{source}/{externalId}", Get)
            .WithName("GetOpportunity")
            .WithSummary("Read one opportunity by its CRM identity")
            .WithDescription("crm, ops, admin. The stored fields and the matching keys derived from them (companyDomain, nameKey).")
            .ProducesProblem(StatusCodes.Status404NotFound);

        opportunities.MapDelete("/{source}/{externalId}", Delete)
            .WithName("DeleteOpportunity")
            .WithSummary("Delete one opportunity")
            .WithDescription("crm, ops, admin. It stops taking part in conflict checks at once.")
            .ProducesProblem(StatusCodes.Status404NotFound);
    }

    private static async Task<Results<Created<Opportunity>, Ok<Opportunity>, ValidationProblem>> Upsert(
        string source, string externalId, UpsertOpportunityRequest request, IValidator<UpsertOpportunityRequest> validator, Database database,
        OpportunityStore store, CancellationToken ct)
    {
        if (IdentityErrors(source, externalId) is { Count: > 0 } errors) return Problems.Validation(errors);
        (request, var cleaned) = VendorData.Clean(request);
        if (await validator.ValidateAsync(request, ct) is { IsValid: false } invalid) return Problems.Validation(invalid.ToDictionary());

        await using var connection = await database.OpenAsync(ct);
        await using var session = await database.BeginWriteAsync(connection, ct);
        var (outcome, _) = (await store.UpsertAsync(session, OpportunityStore.Prepare([new OpportunityWrite(source, externalId, request)]), ct))[0];
        await session.CommitAsync(ct);

        var stored = (await store.GetAsync(source, externalId, ct))! with { Cleaned = cleaned.Count > 0 ? cleaned : null };
        return outcome == UpsertOutcome.Created
            ? TypedResults.Created($"/v1/opportunities/{Uri.EscapeDataString(source)}/{Uri.EscapeDataString(externalId)}", stored)
            : TypedResults.Ok(stored);
    }

    private static async Task<Ok<OpportunityBatchResponse>> Batch(
        OpportunityBatchRequest request, IValidator<OpportunityBatchItem> validator, Database database, OpportunityStore store, CancellationToken ct)
    {
        var results = new UpsertItemResult[request.Items!.Count];
        var valid = new List<(int Index, OpportunityWrite Write, IReadOnlyList<FieldCleaning> Cleaned)>();
        for (var i = 0; i < request.Items.Count; i++)
        {
            var (item, cleaned) = request.Items[i] is { } sent ? VendorData.Clean(sent) : (null, []);
            var check = item is null ? null : await validator.ValidateAsync(item, ct);
            if (item is null || !check!.IsValid)
            {
                results[i] = new UpsertItemResult
                {
                    Index = i, Source = item?.Source, ExternalId = item?.ExternalId, Outcome = UpsertOutcome.Invalid,
                    Errors = check?.ToDictionary() ?? new Dictionary<string, string[]> { ["item"] = ["An item is required."] },
                };
                continue;
            }
            valid.Add((i, new OpportunityWrite(item.Source!, item.ExternalId!, item), cleaned));
        }

        if (valid.Count > 0)
        {
            var prepared = OpportunityStore.Prepare(valid.Select(v => v.Write).ToList());
            await using var connection = await database.OpenBulkAsync(ct);
            await using var session = await database.BeginWriteAsync(connection, ct);
            var outcomes = await store.UpsertAsync(session, prepared, ct);
            await session.CommitAsync(ct);
            for (var j = 0; j < valid.Count; j++)
            {
                var (index, write, cleaned) = valid[j];
                results[index] = new UpsertItemResult
                {
                    Index = index, Source = write.Source, ExternalId = write.ExternalId, Outcome = outcomes[j].Outcome, Id = outcomes[j].Id,
                    Cleaned = cleaned.Count > 0 ? cleaned : null,
                };
            }
        }

        return TypedResults.Ok(new OpportunityBatchResponse
        {
            Created = results.Count(r => r.Outcome == UpsertOutcome.Created),
            Updated = results.Count(r => r.Outcome == UpsertOutcome.Updated),
            Invalid = results.Count(r => r.Outcome == UpsertOutcome.Invalid),
            Cleaned = results.Count(r => r.Cleaned is not null),
            Items = results,
        });
    }

    /// <param name="store">The opportunity store.</param>
    /// <param name="ct">Cancellation.</param>
    /// <param name="source">Only this CRM's opportunities.</param>
    /// <param name="status">Only opportunities in this status: open, won, lost.</param>
    /// <param name="country">Only this country (ISO 3166-1 alpha-2).</param>
    /// <param name="domain">Only accounts at this domain (a URL, e-mail or host is reduced to its registrable domain).</param>
    /// <param name="page">The page asked for.</param>
    private static async Task<Results<Ok<Page<Opportunity>>, ValidationProblem>> List(
        OpportunityStore store, CancellationToken ct,
        string? source = null, string? status = null, string? country = null, string? domain = null, [AsParameters] PageRequest page = default)
    {
        page.TryRead(out var pageSize, out var after, out var errors);
        var statusFilter = Paging.ReadFilter<OpportunityStatus>(status, "status", errors);
        if (country is not null && !IsoCodes.IsCountry(country)) errors["country"] = ["country must be an ISO 3166-1 alpha-2 code such as DE."];
        if (errors.Count > 0) return Problems.Validation(errors);
        return TypedResults.Ok(await store.ListAsync(source, statusFilter, country, domain, pageSize, after, ct));
    }

    private static async Task<Results<Ok<Opportunity>, ProblemHttpResult>> Get(string source, string externalId, OpportunityStore store, CancellationToken ct) =>
        await store.GetAsync(source, externalId, ct) is { } opportunity ? TypedResults.Ok(opportunity) : Problems.NotFound("The opportunity");

    private static async Task<Results<NoContent, ProblemHttpResult>> Delete(string source, string externalId, OpportunityStore store, CancellationToken ct) =>
        await store.DeleteAsync(source, externalId, ct) ? TypedResults.NoContent() : Problems.NotFound("The opportunity");

    private static Dictionary<string, string[]> IdentityErrors(string source, string externalId)
    {
        var errors = new Dictionary<string, string[]>();
        if (!OpportunityIdentity.IsSource(source)) errors["source"] = [OpportunityIdentity.SourceRule];
        if (!OpportunityIdentity.IsExternalId(externalId)) errors["externalId"] = [OpportunityIdentity.ExternalIdRule];
        return errors;
    }
}
