using System.Security.Claims;
using System.Text.Json;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using PartnerDeals.Api.Infrastructure.Auth;
using PartnerDeals.Api.Infrastructure.Data;
using PartnerDeals.Api.Infrastructure.Errors;
using PartnerDeals.Api.Infrastructure.Http;

namespace PartnerDeals.Api.Features.RegistrationBatches;

/// <summary>
/// Bulk registration as a job (<c>/v1/registration-batches</c>): a partner uploads up to 10,000 rows (CSV or NDJSON) to
/// validate (every row predicted by the same validation and decision code as a single registration, then rolled back) or to
/// commit; a worker (<see cref="BatchWorker"/>) takes the rows in file order, one decision at a time beside single
/// registrations, and records each row's outcome in the decision that makes it, so a stopped instance resumes exactly.
/// </summary>
public static class RegistrationBatchesApi
{
    public const int MaxProcessingPerPartner = 2;
    public const int MaxQueuedPerPartner = 10;

    public static void MapRegistrationBatches(this IEndpointRouteBuilder v1)
    {
        var batches = v1.MapGroup("/registration-batches").WithTags("Registrations");

        batches.MapPost("/", Submit)
            .WithName("CreateRegistrationBatch")
            .WithSummary("Upload registrations to validate or commit")
            .WithDescription("A partner (a distributor for its resellers with onBehalfOf). text/csv (UTF-8, with or without BOM; , ; or tab; quoted "
                + "fields may hold line breaks) or application/x-ndjson, up to 10,000 rows, each with an externalRef unique per partner (the same "
                + "ref and content again is unchanged; other content is a row error). mode=validate predicts every row — would_be_approved, "
                + "would_need_review, unavailable, duplicate_in_file, invalid, not_checked past the check quota — and rolls back; mode=commit "
                + "registers them. 202 with Location; the same Idempotency-Key and file answer the same batch. At most 2 batches processing and "
                + "10 queued per partner (429 with Retry-After). Template: GET /v1/registration-batches/template.csv.")
            .RequireAuthorization(Policies.Registrant)
            .Accepts<string>("text/csv", BatchFile.NdJson)
            .WithMetadata(new RequestSizeLimitAttribute(32L << 20))
            .ProducesProblem(StatusCodes.Status403Forbidden)
            .ProducesProblem(StatusCodes.Status422UnprocessableEntity)
            .ProducesProblem(StatusCodes.Status429TooManyRequests);

        batches.MapGet("/template.csv", () => Results.Text(BatchFile.Template, "text/csv; charset=utf-8"))
            .WithName("GetRegistrationBatchTemplate")
            .WithSummary("The batch file's columns, with a row that registers as it stands")
            .WithDescription("Any key. A CSV of every column a batch row may have (lists such as products separated by |) and one example row.")
            .RequireAuthorization(Policies.AnyKey)
            .Produces<string>(StatusCodes.Status200OK, "text/csv");

        batches.MapGet("/{id:guid}", Get)
            .WithName("GetRegistrationBatch")
            .WithSummary("A batch: its state, counts and progress")
            .WithDescription("Its partner, ops and admin. States: received, validating, validated, committing, completed, completed_with_errors, "
                + "failed, cancelled.")
            .RequireAuthorization(Policies.AnyKey)
            .ProducesProblem(StatusCodes.Status404NotFound);

        batches.MapGet("/{id:guid}/rows", Rows)
            .WithName("ListRegistrationBatchRows")
            .WithSummary("A batch's rows with their predictions and outcomes")
            .WithDescription("Its partner, ops and admin; filter by outcome (a prediction or an outcome). With Accept: text/csv, the rows that failed "
                + "(invalid, unavailable, duplicate_in_file, not_checked) in the upload's own columns plus an error column — fix them and upload "
                + "that file again. Cells a spreadsheet would run as a formula are prefixed with '.")
            .RequireAuthorization(Policies.AnyKey)
            .ProducesProblem(StatusCodes.Status404NotFound);

        batches.MapPost("/{id:guid}/commit", Commit)
            .WithName("CommitRegistrationBatch")
            .WithSummary("Commit a validated batch")
            .WithDescription("Its partner. Rows commit in file order through the same decision code; if the pipeline or the claims changed since "
                + "validation, the rows are validated again first, so each commits to its prediction unless something changed between.")
            .RequireAuthorization(Policies.Registrant)
            .ProducesProblem(StatusCodes.Status404NotFound)
            .ProducesProblem(StatusCodes.Status409Conflict);

        batches.MapPost("/{id:guid}/cancel", Cancel)
            .WithName("CancelRegistrationBatch")
            .WithSummary("Cancel a batch")
            .WithDescription("Its partner, ops and admin, before it completes: no row after the current one is processed; rows committed stay.")
            .RequireAuthorization(Policies.Registrant)
            .ProducesProblem(StatusCodes.Status404NotFound)
            .ProducesProblem(StatusCodes.Status409Conflict);
    }

    /// <param name="http">The request.</param>
    /// <param name="user">The caller.</param>
    /// <param name="idempotencyKey">The same key and file answer the same batch.</param>
    /// <param name="store">The batches.</param>
    /// <param name="clock">The clock.</param>
    /// <param name="ct">Cancellation.</param>
    /// <param name="mode" example="validate">validate (predict every row, store no registration) or commit.</param>
    private static async Task<Results<Accepted<Batch>, ProblemHttpResult, ValidationProblem>> Submit(HttpRequest http, ClaimsPrincipal user,
        [FromHeader(Name = IdempotencyKeys.Header)] string? idempotencyKey, BatchStore store, TimeProvider clock, CancellationToken ct,
        string? mode = null)
    {
        if (user.PartnerId() is not { } partnerId) return Problems.Forbidden("A batch is a partner's own: register one by one on a partner's behalf.");
        if (mode is not ("validate" or "commit")) return Problems.Validation("mode", "mode is validate or commit.");
        if (idempotencyKey is not null && !IdempotencyKeys.IsValid(idempotencyKey)) return Problems.Validation(IdempotencyKeys.Header, IdempotencyKeys.Rule);
        using var buffer = new MemoryStream();
        await http.Body.CopyToAsync(buffer, ct);
        var body = buffer.ToArray();
        var (file, problem) = BatchFile.Read(body, http.ContentType);
        if (problem is not null) return Problems.Validation("file", problem);

        var hash = Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(body)) + ":" + mode;
        if (idempotencyKey is not null && await store.ByIdempotencyKeyAsync(partnerId, idempotencyKey, ct) is { } earlier)
        {
            return earlier.BodyHash == hash
                ? TypedResults.Accepted($"/v1/registration-batches/{earlier.Batch.Id}", earlier.Batch)
                : TypedResults.Problem(title: "This Idempotency-Key was used for another batch.", statusCode: 422, type: ProblemTypes.IdempotencyKeyReused);
        }
        var (processing, queued) = await store.ActiveCountsAsync(partnerId, ct);
        // The worker takes at most two of a partner's at a time; the rest wait, at most ten.
        if (processing + queued >= MaxProcessingPerPartner + MaxQueuedPerPartner)
        {
            http.HttpContext.Response.Headers.RetryAfter = "60";
            return TypedResults.Problem(title: "Too many batches at once.", statusCode: 429, type: ProblemTypes.QuotaExceeded,
                detail: $"A partner has at most {MaxProcessingPerPartner} batches processing and {MaxQueuedPerPartner} queued; retry when one completes.");
        }
        var batch = await store.CreateAsync(partnerId, user, mode, file!, idempotencyKey, hash, clock.GetUtcNow(), ct);
        return TypedResults.Accepted($"/v1/registration-batches/{batch.Id}", batch);
    }

    private static async Task<Results<Ok<Batch>, ProblemHttpResult>> Get(Guid id, ClaimsPrincipal user, BatchStore store, CancellationToken ct) =>
        await store.GetAsync(id, ct) is { } batch && user.CanSeePartner(batch.PartnerId) ? TypedResults.Ok(batch) : Problems.NotFound("The batch");

    /// <param name="id">The batch.</param>
    /// <param name="user">The caller.</param>
    /// <param name="http">The request.</param>
    /// <param name="store">The batches.</param>
    /// <param name="ct">Cancellation.</param>
    /// <param name="outcome">Only rows with this prediction or outcome.</param>
    private static async Task<Results<Ok<IReadOnlyList<BatchRow>>, CsvResult, ProblemHttpResult>> Rows(Guid id, ClaimsPrincipal user, HttpRequest http,
        BatchStore store, CancellationToken ct, string? outcome = null)
    {
        if (await store.GetAsync(id, ct) is not { } batch || !user.CanSeePartner(batch.PartnerId)) return Problems.NotFound("The batch");
        var rows = await store.RowsAsync(id, ct);
        if (CsvResult.IsPreferred(http))
        {
            var failed = rows.Where(r => r.Failed).ToList();
            return new CsvResult($"batch-{id:N}-failed.csv", [.. batch.Columns, "error"],
                failed.Select(r => (IReadOnlyList<string?>)[.. r.Cells, $"{r.Outcome ?? r.Prediction}: {r.Reason}"]));
        }
        var chosen = outcome is null ? rows : rows.Where(r => r.Outcome == outcome || r.Prediction == outcome).ToList();
        return TypedResults.Ok<IReadOnlyList<BatchRow>>(chosen.Select(r => r with { Cells = [] }).ToList());
    }

    private static async Task<Results<Accepted<Batch>, ProblemHttpResult>> Commit(Guid id, ClaimsPrincipal user, BatchStore store, CancellationToken ct)
    {
        if (user.PartnerId() is null) return Problems.Forbidden("A batch is committed by its partner.");
        if (await store.GetAsync(id, ct) is not { } batch || user.PartnerId() != batch.PartnerId) return Problems.NotFound("The batch");
        if (!await store.MoveAsync(id, BatchStates.Validated, BatchStates.Committing, ct))
        {
            return Problems.InvalidTransition($"Only a validated batch is committed; this one is {batch.State}.");
        }
        return TypedResults.Accepted($"/v1/registration-batches/{id}", (await store.GetAsync(id, ct))!);
    }

    private static async Task<Results<Ok<Batch>, ProblemHttpResult>> Cancel(Guid id, ClaimsPrincipal user, BatchStore store, CancellationToken ct)
    {
        if (await store.GetAsync(id, ct) is not { } batch || !user.CanSeePartner(batch.PartnerId)) return Problems.NotFound("The batch");
        foreach (var from in new[] { BatchStates.Received, BatchStates.Validating, BatchStates.Validated, BatchStates.Committing })
        {
            if (await store.MoveAsync(id, from, BatchStates.Cancelled, ct)) return TypedResults.Ok((await store.GetAsync(id, ct))!);
        }
        return Problems.InvalidTransition($"The batch is {batch.State} already.");
    }
}

public static class BatchStates
{
    public const string Received = "received";
    public const string Validating = "validating";
    public const string Validated = "validated";
    public const string Committing = "committing";
    public const string Completed = "completed";
    public const string CompletedWithErrors = "completed_with_errors";
    public const string Failed = "failed";
    public const string Cancelled = "cancelled";
}

/// <summary>A batch of registrations.</summary>
public sealed record Batch
{
    /// <example>0193a6f2-7c1e-7d3a-9f00-5b2c8e4d1a10</example>
    public required Guid Id { get; init; }

    public required Guid PartnerId { get; init; }

    /// <summary>validate or commit.</summary>
    /// <example>validate</example>
    public required string Mode { get; init; }

    /// <summary>received, validating, validated, committing, completed, completed_with_errors, failed or cancelled.</summary>
    /// <example>validated</example>
    public required string State { get; init; }

    /// <summary>csv or ndjson.</summary>
    /// <example>csv</example>
    public required string Format { get; init; }

    /// <summary>The upload's columns, in its order.</summary>
    public required IReadOnlyList<string> Columns { get; init; }

    public required int TotalRows { get; init; }

    /// <summary>Rows predicted so far.</summary>
    public required int ValidatedRows { get; init; }

    /// <summary>Rows committed (or found unchanged, or refused) so far.</summary>
    public required int CommittedRows { get; init; }

    /// <summary>How many rows have each prediction.</summary>
    public required IReadOnlyDictionary<string, int> Predictions { get; init; }

    /// <summary>How many rows have each outcome.</summary>
    public required IReadOnlyDictionary<string, int> Outcomes { get; init; }

    public string? Error { get; init; }

    public required DateTimeOffset CreatedAt { get; init; }

    public required DateTimeOffset UpdatedAt { get; init; }
}

/// <summary>One row of a batch: what validation predicted, what committing did, and why.</summary>
public sealed record BatchRow
{
    public required int Row { get; init; }

    /// <example>CRM-2026-0001</example>
    public string? ExternalRef { get; init; }

    /// <summary>would_be_approved, would_need_review, unavailable, duplicate_in_file, unchanged, invalid or not_checked.</summary>
    public string? Prediction { get; init; }

    /// <summary>approved, pending_review, unavailable, duplicate_in_file, unchanged, invalid or not_checked.</summary>
    public string? Outcome { get; init; }

    /// <summary>Why, in the partner's words (never whose claim or pipeline it met).</summary>
    public string? Reason { get; init; }

    /// <summary>The earlier row of the same file this one repeats.</summary>
    public int? EarlierRow { get; init; }

    public Guid? RegistrationId { get; init; }

    /// <summary>The row as uploaded (only in the failed rows' CSV).</summary>
    [System.Text.Json.Serialization.JsonIgnore]
    public IReadOnlyList<string> Cells { get; init; } = [];

    [System.Text.Json.Serialization.JsonIgnore]
    public bool Failed => (Outcome ?? Prediction) is "invalid" or "unavailable" or "duplicate_in_file" or "not_checked";
}
