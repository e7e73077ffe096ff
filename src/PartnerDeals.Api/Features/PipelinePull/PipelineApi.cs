using Microsoft.AspNetCore.Http.HttpResults;
using PartnerDeals.Api.Infrastructure.Auth;
using PartnerDeals.Api.Infrastructure.Http;

namespace PartnerDeals.Api.Features.PipelinePull;

/// <summary>The channel team watches each CRM's pipeline pull and starts one now, or from the beginning.</summary>
public static class PipelineApi
{
    public static void MapPipelinePull(this IEndpointRouteBuilder v1)
    {
        var pipeline = v1.MapGroup("/sync/pipeline").WithTags("CRM sync").RequireAuthorization(Policies.Ops);

        pipeline.MapGet("", Status)
            .WithName("GetPipelinePull")
            .WithSummary("Each CRM's pipeline pull")
            .WithDescription("Ops and admin. Per CRM: enabled, the last run's start and end, the cursor the next run resumes from, rows "
                + "created, updated, deleted and rejected in the last run and in total, the records the mapping could not read (with why), "
                + "the last error, a rate limit's pause, and the lag since the last run finished.");

        pipeline.MapPost("/{crm}/run", Run)
            .WithName("RunPipelinePull")
            .WithSummary("Pull a CRM's pipeline now")
            .WithDescription("Ops and admin. The next instance free to pull it starts a run from the cursor; 404 for a CRM whose pull is not enabled.")
            .ProducesProblem(StatusCodes.Status404NotFound);

        pipeline.MapPost("/{crm}/resync", Resync)
            .WithName("ResyncPipelinePull")
            .WithSummary("Pull a CRM's pipeline again from the beginning")
            .WithDescription("Ops and admin. The cursor is cleared and a run starts; every record is upserted again (nothing is doubled).")
            .ProducesProblem(StatusCodes.Status404NotFound);
    }

    private static async Task<Ok<IReadOnlyList<PipelineStatus>>> Status(PipelineStore store, IReadOnlyList<IPipelineReader> readers, CancellationToken ct) =>
        TypedResults.Ok(await store.StatusAsync(readers.Select(r => r.Crm).ToList(), ct));

    private static Task<Results<Accepted<PipelineStatus>, ProblemHttpResult>> Run(
        string crm, PipelineStore store, IReadOnlyList<IPipelineReader> readers, CancellationToken ct) => RequestAsync(crm, false, store, readers, ct);

    private static Task<Results<Accepted<PipelineStatus>, ProblemHttpResult>> Resync(
        string crm, PipelineStore store, IReadOnlyList<IPipelineReader> readers, CancellationToken ct) => RequestAsync(crm, true, store, readers, ct);

    private static async Task<Results<Accepted<PipelineStatus>, ProblemHttpResult>> RequestAsync(
        string crm, bool fromTheBeginning, PipelineStore store, IReadOnlyList<IPipelineReader> readers, CancellationToken ct)
    {
        if (readers.All(r => r.Crm != crm)) return Problems.NotFound($"A pipeline pull of '{crm}'");
        await store.RequestAsync(crm, fromTheBeginning, ct);
        var status = (await store.StatusAsync(readers.Select(r => r.Crm).ToList(), ct)).Single(s => s.Crm == crm);
        return TypedResults.Accepted("/v1/sync/pipeline", status);
    }
}
