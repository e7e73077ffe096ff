using System.Security.Claims;
using System.Text.Json;
using FluentValidation;
using PartnerDeals.Api.Features.ConflictChecks;
using PartnerDeals.Api.Features.Registrations;
using PartnerDeals.Api.Infrastructure.Auth;
using PartnerDeals.Api.Infrastructure.Data;
using PartnerDeals.Api.Infrastructure.Http;

namespace PartnerDeals.Api.Features.RegistrationBatches;

/// <summary>
/// Works through the batches, one row at a time in file order, taking turns between the batches at work (at most
/// <see cref="RegistrationBatchesApi.MaxProcessingPerPartner"/> of a partner's). Each row is one decision of the decision writer,
/// queued behind whatever single registrations wait, so a large upload never holds them up for more than a row. A prediction
/// runs the single registration's own validation and decision and rolls it back; a commit keeps it, and records the row's
/// outcome in the same transaction — so an instance stopped anywhere resumes at the first row without one, losing and doubling none.
/// </summary>
public sealed partial class BatchWorker(
    Database database, BatchStore store, DecisionWriter writer, RegistrationStore registrations, Partners.PartnerStore partners,
    RegistrationDecisions decisions, PartnerPreChecks checks, Microsoft.Extensions.Options.IOptions<RegistrationOptions> options,
    IValidator<CreateRegistrationRequest> validator, TimeProvider clock, ILogger<BatchWorker> logger) : BackgroundService
{
    private readonly RegistrationServices services = new(database, writer, registrations, partners, decisions, checks, options, clock);

    private const string WorkSql = """
        SELECT id, partner_id, key_id, person_id, display, mode, state, format, columns, total_rows, body_hash, stamp, error, commit_requested,
            created_at, updated_at
        FROM registration_batches WHERE state IN ('received', 'validating', 'committing') ORDER BY created_at, id
        """;

    private const string NextToPredictSql = """
        SELECT row_number, external_ref, request, content_hash, earlier_row FROM registration_batch_rows
        WHERE batch_id = @BatchId AND prediction IS NULL ORDER BY row_number
        """;

    private const string NextToCommitSql = """
        SELECT row_number, external_ref, request, content_hash, earlier_row FROM registration_batch_rows
        WHERE batch_id = @BatchId AND outcome IS NULL ORDER BY row_number
        """;

    private const string PredictedSql = """
        UPDATE registration_batch_rows SET prediction = @Outcome, reason = @Reason WHERE batch_id = @BatchId AND row_number = @RowNumber
        """;

    private const string CommittedSql = """
        UPDATE registration_batch_rows SET outcome = @Outcome, reason = @Reason, registration_id = @RegistrationId
        WHERE batch_id = @BatchId AND row_number = @RowNumber AND outcome IS NULL
        """;

    private const string ExternalRefSql = """
        SELECT content_hash, registration_id FROM batch_external_refs WHERE partner_id = @PartnerId AND external_ref = @ExternalRef
        """;

    private const string InsertExternalRefSql = """
        INSERT INTO batch_external_refs (partner_id, external_ref, content_hash, registration_id)
        VALUES (@PartnerId, @ExternalRef, @ContentHash, @RegistrationId)
        """;

    private const string FinishSql = """
        UPDATE registration_batches
        SET state = @To, stamp = COALESCE(@Stamp, stamp), commit_requested = @CommitRequested, error = @Error, updated_at = @Now
        WHERE id = @Id AND state = @From
        """;

    private const string ResetPredictionsSql = "UPDATE registration_batch_rows SET prediction = NULL WHERE batch_id = @Id";

    // What a prediction depends on: the claims and the pipeline as they were when the batch was validated.
    private const string ClaimsStampSql = "SELECT COUNT(*) AS rows_count, MAX(updated_at) AS latest FROM registrations";

    private const string PipelineStampSql = "SELECT COUNT(*) AS rows_count, MAX(updated_at) AS latest FROM opportunities";

    private static readonly TimeSpan Idle = TimeSpan.FromMilliseconds(200);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        while (!stoppingToken.IsCancellationRequested)
        {
            var worked = false;
            try
            {
                worked = await RoundAsync(stoppingToken);
            }
            catch (Exception e) when (!stoppingToken.IsCancellationRequested)
            {
                LogRoundFailed(e);
            }
            if (!worked) await Task.Delay(Idle, clock, stoppingToken).ContinueWith(_ => { }, TaskScheduler.Default);
        }
    }

    /// <summary>One row of every batch at work; false when there was nothing to do.</summary>
    public async Task<bool> RoundAsync(CancellationToken ct)
    {
        var active = await database.ReadAsync(s => s.QueryAsync<BatchStore.BatchRecord>(WorkSql, null, ct), ct);
        var worked = false;
        foreach (var batch in active.GroupBy(b => b.PartnerId).SelectMany(g => g.Take(RegistrationBatchesApi.MaxProcessingPerPartner)))
        {
            try
            {
                worked |= await StepAsync(batch, ct);
            }
            catch (Exception e) when (!ct.IsCancellationRequested && e is not OperationCanceledException)
            {
                LogBatchFailed(e, batch.Id);
                await FinishAsync(batch.Id, batch.State, BatchStates.Failed, null, ct,
                    error: "The batch stopped on an unexpected error; its rows committed so far stay.");
            }
        }
        return worked;
    }

    private async Task<bool> StepAsync(BatchStore.BatchRecord batch, CancellationToken ct)
    {
        switch (batch.State)
        {
            case BatchStates.Received:
                return await FinishAsync(batch.Id, BatchStates.Received, batch.Mode == "commit" ? BatchStates.Committing : BatchStates.Validating, null, ct);
            case BatchStates.Committing when batch.Mode == "validate" && !batch.CommitRequested:
                // Committing what was validated, looked at once as the commit starts: if anything it depends on changed since, every
                // row is predicted again first, and then committed at once.
                if (batch.Stamp == await StampAsync(ct))
                {
                    return await FinishAsync(batch.Id, BatchStates.Committing, BatchStates.Committing, null, ct, commitRequested: true);
                }
                await WriteAsync(session => session.ExecuteAsync(ResetPredictionsSql, new { batch.Id }, ct), ct);
                return await FinishAsync(batch.Id, BatchStates.Committing, BatchStates.Validating, null, ct, commitRequested: true);
        }
        var committing = batch.State == BatchStates.Committing;
        var next = await database.ReadAsync(s => s.QueryFirstOrDefaultAsync<PendingRow>(committing ? NextToCommitSql : NextToPredictSql,
            new { BatchId = batch.Id }, ct), ct);
        if (next is null)
        {
            var to = !committing ? (batch.CommitRequested ? BatchStates.Committing : BatchStates.Validated)
                : (await store.RowsAsync(batch.Id, ct)).Any(r => r.Failed) ? BatchStates.CompletedWithErrors : BatchStates.Completed;
            return await FinishAsync(batch.Id, batch.State, to, committing ? null : await StampAsync(ct), ct, batch.CommitRequested);
        }
        if (committing) await CommitRowAsync(batch, next, ct);
        else await PredictRowAsync(batch, next, ct);
        return true;
    }

    /// <summary>What the row would become: the single registration's validation and decision, rolled back.</summary>
    private async Task PredictRowAsync(BatchStore.BatchRecord batch, PendingRow row, CancellationToken ct)
    {
        var (outcome, reason) = await CheckedAsync(batch, row, ct);
        if (outcome is null)
        {
            // Predicting tells availability as a pre-check does: it draws on the partner's check quota, and is logged with them.
            var user = batch.Submitter();
            var (proposed, distributor) = Proposed(row, user);
            var charged = await services.Writer.DecideAsync(async session =>
            {
                // The submitting partner asks: a distributor for its resellers, or a partner for itself.
                var asker = (await services.Partners.GetAsync(session, batch.PartnerId, ct))!;
                var quota = await services.Checks.QuotaAsync(session, asker.Id, asker.CheckQuota, ct);
                if (!quota.Allowed) return Decided<bool>.Discarded(false);
                await services.Checks.LogAsync(session, asker.Id, user.CallerId(), RegistrationsApi.Asked(PartnerPreChecks.PreCheck, proposed), quota,
                    null, null, ct);
                return Decided<bool>.Kept(true);
            }, ct);
            (outcome, reason) = !charged ? ("not_checked", "The partner's check quota is used up; the row was validated but not checked.")
                : await services.Writer.DecideAsync(async session =>
                {
                    var (refused, registered, _) = await RegisterDeal.SubmitAsync(session, services, user, proposed, distributor, null, ct, chargeQuota: false);
                    return Decided<(string?, string?)>.Discarded(Outcome(refused, registered, predicting: true));
                }, ct);
        }
        await WriteAsync(session => session.ExecuteAsync(PredictedSql, new { Outcome = outcome, Reason = reason, BatchId = batch.Id, row.RowNumber }, ct), ct);
    }

    /// <summary>The row registered (or refused), its outcome and external reference recorded in the same decision.</summary>
    private async Task CommitRowAsync(BatchStore.BatchRecord batch, PendingRow row, CancellationToken ct)
    {
        var (outcome, reason) = await CheckedAsync(batch, row, ct);
        var user = batch.Submitter();
        await services.Writer.DecideAsync(async session =>
        {
            Guid? registrationId = null;
            if (outcome is null)
            {
                var (proposed, distributor) = Proposed(row, user);
                var (refused, registered, quota) = await RegisterDeal.SubmitAsync(session, services, user, proposed, distributor, null, ct);
                (outcome, reason) = Outcome(refused, registered, predicting: false);
                if (registered is not null)
                {
                    registrationId = registered.Id;
                    await session.ExecuteAsync(InsertExternalRefSql, new
                    {
                        batch.PartnerId, row.ExternalRef, row.ContentHash, RegistrationId = registered.Id,
                    }, ct);
                }
                else if (quota is { Allowed: false })
                {
                    await services.Checks.LogAsync(session, distributor ?? proposed.PartnerId, user.CallerId(),
                        RegistrationsApi.Asked(PartnerPreChecks.Registration, proposed), quota, null, null, ct);
                }
            }
            await session.ExecuteAsync(CommittedSql,
                new { Outcome = outcome, Reason = reason, RegistrationId = registrationId, BatchId = batch.Id, row.RowNumber }, ct);
            return Decided<bool>.Kept(true);
        }, ct);
    }

    /// <summary>What a row is before any decision: invalid, a repeat of an earlier row, or already registered; null when it is to be decided.</summary>
    private async Task<(string? Outcome, string? Reason)> CheckedAsync(BatchStore.BatchRecord batch, PendingRow row, CancellationToken ct)
    {
        if (string.IsNullOrWhiteSpace(row.ExternalRef)) return ("invalid", "externalRef is required.");
        if (row.ExternalRef.Length > 100) return ("invalid", "externalRef is at most 100 characters.");
        var request = Request(row);
        if (request is null) return ("invalid", "The row's values are not of the right types (a number where a number goes, a date as 2027-03-31).");
        var (_, _, invalid) = RegisterDeal.Whose(request, batch.Submitter());
        var errors = (await validator.ValidateAsync(request, ct)).Errors.Select(e => e.ErrorMessage).ToList();
        if (invalid is not null) errors.AddRange(invalid.ProblemDetails.Errors.SelectMany(e => e.Value));
        if (errors.Count > 0) return ("invalid", string.Join(" ", errors.Distinct()));
        var known = await database.ReadAsync(s => s.QuerySingleOrDefaultAsync<KnownRef>(ExternalRefSql, new { batch.PartnerId, row.ExternalRef }, ct), ct);
        if (known is not null)
        {
            return known.ContentHash == row.ContentHash ? ("unchanged", $"Registered already as {known.RegistrationId}.")
                : ("invalid", $"externalRef {row.ExternalRef} was registered with other content ({known.RegistrationId}); give this row a new reference.");
        }
        if (row.EarlierRow is { } earlier) return ("duplicate_in_file", $"The same customer as row {earlier} of this file.");
        return (null, null);
    }

    /// <summary>The row as the registration a single submission would propose, and the distributor registering it, if one is.</summary>
    private (Registration Proposed, Guid? Distributor) Proposed(PendingRow row, ClaimsPrincipal user)
    {
        var request = Request(row)!;
        var (partnerId, distributor, _) = RegisterDeal.Whose(request, user);
        var now = clock.GetUtcNow();
        return (RegisterDeal.New(Ids.New(now), partnerId, request, now) with { RegisteredBy = distributor }, distributor);
    }

    /// <summary>A decision's answer in the partner's words: available or not, never how close a match came or whose it is.</summary>
    private static (string, string?) Outcome(Microsoft.AspNetCore.Http.HttpResults.ProblemHttpResult? refused, Registration? registered, bool predicting)
    {
        if (refused is not null)
        {
            return refused.StatusCode == 429
                ? ("not_checked", "The partner's check quota is used up.")
                : ("invalid", refused.ProblemDetails.Detail ?? refused.ProblemDetails.Title);
        }
        var seen = registered!.ForPartner();
        if (seen.Status == RegistrationStatus.Approved) return (predicting ? "would_be_approved" : "approved", null);
        return seen.Reason is "account_unavailable" or "duplicate_registration"
            ? ("unavailable", seen.Reason)
            : (predicting ? "would_need_review" : "pending_review", seen.Reason);
    }

    private static CreateRegistrationRequest? Request(PendingRow row)
    {
        try
        {
            return JsonSerializer.Deserialize<CreateRegistrationRequest>(row.Request ?? "", Json.Options);
        }
        catch (JsonException)
        {
            return null;
        }
    }

    private Task<string> StampAsync(CancellationToken ct) =>
        database.ReadAsync(async s =>
        {
            var claims = await s.QuerySingleOrDefaultAsync<TableStamp>(ClaimsStampSql, null, ct);
            var pipeline = await s.QuerySingleOrDefaultAsync<TableStamp>(PipelineStampSql, null, ct);
            return $"{claims?.RowsCount}:{claims?.Latest:O}:{pipeline?.RowsCount}:{pipeline?.Latest:O}";
        }, ct);

    private async Task<bool> FinishAsync(Guid id, string from, string to, string? stamp, CancellationToken ct, bool commitRequested = false,
        string? error = null)
    {
        var moved = 0;
        await WriteAsync(async session => moved = await session.ExecuteAsync(FinishSql,
            new { Id = id, From = from, To = to, Stamp = stamp, CommitRequested = commitRequested, Error = error, Now = clock.GetUtcNow() }, ct), ct);
        return moved == 1;
    }

    private sealed record TableStamp
    {
        public long RowsCount { get; init; }
        public DateTimeOffset? Latest { get; init; }
    }

    private async Task WriteAsync(Func<DbSession, Task> write, CancellationToken ct)
    {
        await using var connection = await database.OpenAsync(ct);
        await using var session = await database.BeginWriteAsync(connection, ct);
        await write(session);
        await session.CommitAsync(ct);
    }

    private sealed record PendingRow
    {
        public int RowNumber { get; init; }
        public string? ExternalRef { get; init; }
        public string? Request { get; init; }
        public string ContentHash { get; init; } = "";
        public int? EarlierRow { get; init; }
    }

    private sealed record KnownRef
    {
        public string ContentHash { get; init; } = "";
        public Guid RegistrationId { get; init; }
    }

    [LoggerMessage(Level = LogLevel.Error, Message = "A round of the registration batches failed; it is tried again")]
    private partial void LogRoundFailed(Exception e);

    [LoggerMessage(Level = LogLevel.Error, Message = "Registration batch {BatchId} failed")]
    private partial void LogBatchFailed(Exception e, Guid batchId);
}
