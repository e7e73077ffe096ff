using System.Text.Json;
using PartnerDeals.Api.Features.Sync;
using PartnerDeals.Api.Infrastructure.Data;

namespace PartnerDeals.Api.Features.PipelinePull;

/// <summary>A CRM's pull as ops read it.</summary>
public sealed record PipelineStatus
{
    /// <example>salesforce</example>
    public required string Crm { get; init; }
    public required bool Enabled { get; init; }
    public DateTimeOffset? LastStartedAt { get; init; }
    public DateTimeOffset? LastFinishedAt { get; init; }

    /// <summary>Where the next run resumes, in the CRM's own terms (its clock and the last record at it, or its delta link).</summary>
    public string? Cursor { get; init; }

    /// <summary>Rows of the last run (so far, while one runs).</summary>
    public required PipelineCounts LastRun { get; init; }

    public required PipelineCounts Total { get; init; }

    /// <summary>The latest records the mapping could not read, each with its reason.</summary>
    public required IReadOnlyList<PipelineRejection> Rejections { get; init; }

    /// <summary>The latest records kept after cleaning changed or dropped a field, each with what changed.</summary>
    public required IReadOnlyList<PipelineCleaning> Cleanings { get; init; }

    /// <summary>What stopped the last run outside any one record (sign-in, network, the CRM's answer); null when it ended well.</summary>
    public string? LastError { get; init; }

    /// <summary>Runs that failed in a row; each waits longer before the next try (backoff, at most the interval).</summary>
    public required int FailedRuns { get; init; }

    /// <summary>A rate limit, or the backoff after a failed run: no run before this.</summary>
    public DateTimeOffset? PausedUntil { get; init; }

    /// <summary>Seconds since the last run finished; null before the first.</summary>
    public double? LagSeconds { get; init; }
}

/// <param name="Created">Opportunities created.</param>
/// <param name="Updated">Opportunities updated.</param>
/// <param name="Deleted">Opportunities deleted (deleted in the CRM, or no longer seen by a full read).</param>
/// <param name="Rejected">Records not taken in (no usable identity or account name).</param>
/// <param name="Cleaned">Records taken in after cleaning changed or dropped a field.</param>
public sealed record PipelineCounts(long Created, long Updated, long Deleted, long Rejected, long Cleaned = 0);

/// <param name="ExternalId">The CRM's record id.</param>
/// <param name="Reason">Why it was not taken in.</param>
public sealed record PipelineRejection(string ExternalId, string Reason);

/// <param name="ExternalId">The CRM's record id.</param>
/// <param name="Changes">What cleaning changed or dropped.</param>
public sealed record PipelineCleaning(string ExternalId, IReadOnlyList<Opportunities.FieldCleaning> Changes);

/// <summary>The <c>pipeline_cursors</c> table: one row per CRM, its lease, its cursor and its counts.</summary>
public sealed class PipelineStore(Database database, TimeProvider clock)
{
    private const int KeptRejections = 50;

    private const string Columns = """
        crm, resume_from, locked_until, lease_id, run_requested, last_started_at, last_finished_at, last_error, paused_until, run_created,
        run_updated, run_deleted, run_rejected, run_cleaned, total_created, total_updated, total_deleted, total_rejected, total_cleaned, rejections,
        cleanings, failed_runs, updated_at
        """;

    private const string EnsureSql = """
        INSERT INTO pipeline_cursors (crm, run_requested, run_created, run_updated, run_deleted, run_rejected, total_created, total_updated,
            total_deleted, total_rejected, updated_at)
        SELECT @Crm, 0, 0, 0, 0, 0, 0, 0, 0, 0, @Now WHERE NOT EXISTS (SELECT 1 FROM pipeline_cursors WHERE crm = @Crm)
        """;

    private const string GetSql = "SELECT " + Columns + " FROM pipeline_cursors WHERE crm = @Crm";

    private const string AllSql = "SELECT " + Columns + " FROM pipeline_cursors ORDER BY crm";

    // Due (asked for, or its interval passed), not paused, and not leased by a live instance: one instance pulls a CRM at a time.
    private const string LeaseSql = """
        UPDATE pipeline_cursors
        SET locked_until = @LockedUntil, lease_id = @LeaseId, last_started_at = @Now, run_requested = 0, last_error = NULL,
            run_created = 0, run_updated = 0, run_deleted = 0, run_rejected = 0, run_cleaned = 0, updated_at = @Now
        WHERE crm = @Crm AND (locked_until IS NULL OR locked_until <= @Now) AND (paused_until IS NULL OR paused_until <= @Now)
          AND (run_requested = 1 OR last_finished_at IS NULL OR last_finished_at <= @DueBefore)
        """;

    private const string PageSql = """
        UPDATE pipeline_cursors
        SET resume_from = @Cursor, locked_until = @LockedUntil, run_created = run_created + @Created, run_updated = run_updated + @Updated,
            run_deleted = run_deleted + @Deleted, run_rejected = run_rejected + @Rejected, run_cleaned = run_cleaned + @Cleaned,
            total_created = total_created + @Created, total_updated = total_updated + @Updated, total_deleted = total_deleted + @Deleted,
            total_rejected = total_rejected + @Rejected, total_cleaned = total_cleaned + @Cleaned, rejections = @Rejections, cleanings = @Cleanings,
            updated_at = @Now
        WHERE crm = @Crm AND lease_id = @LeaseId
        """;

    // A failed run asks for the next at once, held back by paused_until: the backoff, not the interval, decides when.
    private const string FinishSql = """
        UPDATE pipeline_cursors
        SET locked_until = NULL, lease_id = NULL, last_finished_at = @FinishedAt, last_error = @Error, paused_until = @PausedUntil,
            failed_runs = CASE WHEN @Failed = 1 THEN failed_runs + 1 ELSE 0 END, run_requested = @Failed, updated_at = @Now
        WHERE crm = @Crm AND lease_id = @LeaseId
        """;

    private const string FailedRunsSql = "SELECT failed_runs FROM pipeline_cursors WHERE crm = @Crm";

    // Asked for by ops, a run does not wait out the backoff of failed runs (the cause may be fixed); a rate limit it does.
    private const string RequestSql = """
        UPDATE pipeline_cursors SET run_requested = 1, paused_until = CASE WHEN failed_runs > 0 THEN NULL ELSE paused_until END, updated_at = @Now
        WHERE crm = @Crm
        """;

    private const string ResyncSql = "UPDATE pipeline_cursors SET run_requested = 1, resume_from = NULL, paused_until = NULL, updated_at = @Now WHERE crm = @Crm";

    /// <summary>Takes <paramref name="crm"/>'s pull when it is due and free; answers the lease and the cursor to resume from, or null.</summary>
    public async Task<(Guid Lease, string? Cursor, IReadOnlyList<PipelineRejection> Rejections, IReadOnlyList<PipelineCleaning> Cleanings)?> TryStartAsync(
        string crm, PipelineOptions options, CancellationToken ct)
    {
        var now = clock.GetUtcNow();
        var lease = Ids.New(now);
        await using var connection = await database.OpenAsync(ct);
        await using var session = await database.BeginWriteAsync(connection, ct);
        await session.ExecuteAsync(EnsureSql, new { Crm = crm, Now = now }, ct);
        var taken = await session.ExecuteAsync(LeaseSql,
            new { Crm = crm, LockedUntil = now + options.Lease, LeaseId = lease, Now = now, DueBefore = now - options.Interval }, ct);
        if (taken == 0) return null;
        var row = (await session.QuerySingleOrDefaultAsync<Row>(GetSql, new { Crm = crm }, ct))!;
        await session.CommitAsync(ct);
        return (lease, row.ResumeFrom, Read<PipelineRejection>(row.Rejections), Read<PipelineCleaning>(row.Cleanings));
    }

    /// <summary>Records a page's counts and the cursor after it, in the page's own transaction; false when the lease was lost.</summary>
    public async Task<bool> RecordPageAsync(DbSession session, string crm, Guid lease, string? cursor, PipelineCounts counts,
        IReadOnlyList<PipelineRejection> rejections, IReadOnlyList<PipelineCleaning> cleanings, TimeSpan leaseFor, CancellationToken ct)
    {
        var now = clock.GetUtcNow();
        return await session.ExecuteAsync(PageSql, new
        {
            Crm = crm,
            LeaseId = lease,
            Cursor = cursor,
            LockedUntil = now + leaseFor,
            counts.Created,
            counts.Updated,
            counts.Deleted,
            counts.Rejected,
            counts.Cleaned,
            Rejections = JsonSerializer.Serialize(rejections.TakeLast(KeptRejections)),
            Cleanings = JsonSerializer.Serialize(cleanings.TakeLast(KeptRejections)),
            Now = now,
        }, ct) == 1;
    }

    /// <summary>Ends a run: finished (with an error, or paused by a rate limit) and the lease given back.</summary>
    public async Task FinishAsync(string crm, Guid lease, string? error, DateTimeOffset? pausedUntil, CancellationToken ct) =>
        await FinishAsync(crm, lease, error, pausedUntil, failed: false, ct);

    /// <summary>
    /// Ends a run that something outside the records stopped (sign-in, network, the CRM's error): it is tried again after a
    /// backoff that doubles with each failure in a row, from <paramref name="first"/> up to the interval, with jitter.
    /// </summary>
    public async Task FailAsync(string crm, Guid lease, string error, TimeSpan first, TimeSpan interval, CancellationToken ct)
    {
        var failed = await database.ReadAsync(session => session.QuerySingleOrDefaultAsync<int>(FailedRunsSql, new { Crm = crm }, ct), ct);
        var wait = TimeSpan.FromTicks(Math.Min(interval.Ticks, first.Ticks * (1L << Math.Min(failed, 20))));
        wait *= 0.8 + Random.Shared.NextDouble() * 0.4;
        await FinishAsync(crm, lease, error, clock.GetUtcNow() + wait, failed: true, ct);
    }

    private async Task FinishAsync(string crm, Guid lease, string? error, DateTimeOffset? pausedUntil, bool failed, CancellationToken ct)
    {
        var now = clock.GetUtcNow();
        await using var connection = await database.OpenAsync(ct);
        await using var session = await database.BeginWriteAsync(connection, ct);
        await session.ExecuteAsync(FinishSql, new
        {
            Crm = crm,
            LeaseId = lease,
            FinishedAt = now,
            Error = error is { Length: > 2000 } ? error[..2000] : error,
            PausedUntil = pausedUntil,
            Failed = failed,
            Now = now,
        }, ct);
        await session.CommitAsync(ct);
    }

    /// <summary>Asks for a run now; with <paramref name="fromTheBeginning"/>, from the start of the CRM's pipeline.</summary>
    public async Task RequestAsync(string crm, bool fromTheBeginning, CancellationToken ct)
    {
        var now = clock.GetUtcNow();
        await using var connection = await database.OpenAsync(ct);
        await using var session = await database.BeginWriteAsync(connection, ct);
        await session.ExecuteAsync(EnsureSql, new { Crm = crm, Now = now }, ct);
        await session.ExecuteAsync(fromTheBeginning ? ResyncSql : RequestSql, new { Crm = crm, Now = now }, ct);
        await session.CommitAsync(ct);
    }

    public async Task<IReadOnlyList<PipelineStatus>> StatusAsync(IReadOnlyCollection<string> enabled, CancellationToken ct)
    {
        var now = clock.GetUtcNow();
        var rows = await database.ReadAsync(session => session.QueryAsync<Row>(AllSql, null, ct), ct);
        return enabled.Union(rows.Select(r => r.Crm)).Order(StringComparer.Ordinal).Select(crm =>
        {
            var row = rows.FirstOrDefault(r => r.Crm == crm);
            return new PipelineStatus
            {
                Crm = crm,
                Enabled = enabled.Contains(crm),
                LastStartedAt = row?.LastStartedAt,
                LastFinishedAt = row?.LastFinishedAt,
                Cursor = row?.ResumeFrom,
                LastRun = new PipelineCounts(row?.RunCreated ?? 0, row?.RunUpdated ?? 0, row?.RunDeleted ?? 0, row?.RunRejected ?? 0, row?.RunCleaned ?? 0),
                Total = new PipelineCounts(row?.TotalCreated ?? 0, row?.TotalUpdated ?? 0, row?.TotalDeleted ?? 0, row?.TotalRejected ?? 0,
                    row?.TotalCleaned ?? 0),
                Rejections = Read<PipelineRejection>(row?.Rejections),
                Cleanings = Read<PipelineCleaning>(row?.Cleanings),
                LastError = row?.LastError,
                FailedRuns = row?.FailedRuns ?? 0,
                PausedUntil = row?.PausedUntil > now ? row.PausedUntil : null,
                LagSeconds = row?.LastFinishedAt is { } finished ? Math.Round((now - finished).TotalSeconds, 1) : null,
            };
        }).ToList();
    }

    private static IReadOnlyList<T> Read<T>(string? json) =>
        string.IsNullOrEmpty(json) ? [] : JsonSerializer.Deserialize<List<T>>(json) ?? [];

    private sealed class Row
    {
        public string Crm { get; set; } = "";
        public string? ResumeFrom { get; set; }
        public DateTimeOffset? LastStartedAt { get; set; }
        public DateTimeOffset? LastFinishedAt { get; set; }
        public string? LastError { get; set; }
        public DateTimeOffset? PausedUntil { get; set; }
        public long RunCreated { get; set; }
        public long RunUpdated { get; set; }
        public long RunDeleted { get; set; }
        public long RunRejected { get; set; }
        public long RunCleaned { get; set; }
        public long TotalCreated { get; set; }
        public long TotalUpdated { get; set; }
        public long TotalDeleted { get; set; }
        public long TotalRejected { get; set; }
        public long TotalCleaned { get; set; }
        public string? Rejections { get; set; }
        public string? Cleanings { get; set; }
        public int FailedRuns { get; set; }
    }
}
