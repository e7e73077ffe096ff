using System.Diagnostics.Metrics;
using PartnerDeals.Api.Features.Opportunities;
using PartnerDeals.Api.Features.Sync;
using PartnerDeals.Api.Infrastructure.Data;

namespace PartnerDeals.Api.Features.PipelinePull;

/// <summary>One record a CRM answered: an opportunity to upsert, a deletion, or one the mapping could not read.</summary>
/// <param name="ExternalId">The CRM's record id.</param>
/// <param name="Item">The opportunity as mapped (source = the CRM); null for a deletion or a rejection.</param>
/// <param name="Deleted">The CRM deleted (or archived) it.</param>
/// <param name="Rejected">Why the mapping could not read it.</param>
public sealed record PulledRecord(string ExternalId, OpportunityBatchItem? Item, bool Deleted = false, string? Rejected = null);

/// <summary>One page of a CRM's changes, oldest first, and the cursor after it: the next run resumes there.</summary>
/// <param name="Records">The records of the page.</param>
/// <param name="Cursor">Where the next page (or run) starts.</param>
/// <param name="More">Another page follows in this run.</param>
/// <param name="UnseenSince">
/// The last page of a full read that began at this instant: the CRM's opportunities stored here and not written since are
/// no longer in the CRM (or no longer pass its filter), and are deleted with the page.
/// </param>
public sealed record PulledPage(IReadOnlyList<PulledRecord> Records, string? Cursor, bool More, DateTimeOffset? UnseenSince = null);

/// <summary>Reads one CRM's pipeline, a page at a time, from a cursor in the CRM's own terms.</summary>
public interface IPipelineReader
{
    string Crm { get; }

    PipelineOptions Options { get; }

    /// <summary>The page after <paramref name="cursor"/> (null: the beginning). Throws <see cref="PipelinePausedException"/> on a rate limit.</summary>
    Task<PulledPage> ReadAsync(string? cursor, CancellationToken ct);
}

/// <summary>The CRM asked us to slow down: the pull stops where it is and resumes after <see cref="Until"/>.</summary>
public sealed class PipelinePausedException(DateTimeOffset until, string message) : Exception(message)
{
    public DateTimeOffset Until { get; } = until;
}

/// <summary>
/// Pulls each enabled CRM's pipeline into the direct pipeline, so conflict checks see it at once. Every instance
/// runs one; a lease in <c>pipeline_cursors</c> lets one instance pull a CRM at a time, and another take over
/// when a lease runs out. Each page is written — its upserts, its deletions, its counts and the cursor after it —
/// in one transaction, so a run that fails midway resumes from the last page committed, and a page read twice
/// changes nothing (upserts by the CRM's id). Each record is cleaned (<see cref="VendorData"/>), checked and keyed on its
/// own: one the mapping cannot read is counted and listed with its reason, one cleaning changed is kept and listed with
/// what changed, and neither ever stops the page or the run. A rate limit pauses the CRM's pull until the CRM's hint;
/// any other failure (sign-in, network, the CRM's error) is tried again after a backoff.
/// </summary>
public sealed partial class PipelinePuller(
    IReadOnlyList<IPipelineReader> readers, PipelineStore store, OpportunityStore opportunities, Database database, IMeterFactory meters,
    ILogger<PipelinePuller> logger) : BackgroundService
{
    public const string MeterName = "PartnerDeals.Pipeline";

    private readonly Counter<long> _rows = meters.Create(MeterName).CreateCounter<long>("partnerdeals.pipeline.rows",
        description: "Pipeline rows pulled from a CRM, by CRM and outcome (created, updated, deleted, rejected).");

    // When each CRM's last run on this instance ended well, for the lag on /metrics.
    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, long> _finished = new();

    private static readonly OpportunityBatchItemValidator Validator = new();

    /// <summary>Runs every CRM's pull that is due and free; answers how many records were read.</summary>
    public async Task<int> PullOnceAsync(CancellationToken ct)
    {
        var read = 0;
        foreach (var reader in readers) read += await PullAsync(reader, ct);
        return read;
    }

    private async Task<int> PullAsync(IPipelineReader reader, CancellationToken ct)
    {
        var crm = reader.Crm;
        if (await store.TryStartAsync(crm, reader.Options, ct) is not { } started) return 0;
        var (lease, cursor, kept, keptCleanings) = started;
        var rejections = kept.ToList();
        var cleanings = keptCleanings.ToList();
        var read = 0;
        LogStarted(crm, cursor ?? "the beginning");
        try
        {
            PulledPage page;
            do
            {
                page = await reader.ReadAsync(cursor, ct);
                read += page.Records.Count;
                if (!await WritePageAsync(crm, lease, page, rejections, cleanings, reader.Options.Lease, ct))
                {
                    LogLeaseLost(crm);
                    return read;
                }
                cursor = page.Cursor;
                LogPage(crm, read, cursor);
            }
            while (page.More);
            await store.FinishAsync(crm, lease, null, null, ct);
            _finished[crm] = System.Diagnostics.Stopwatch.GetTimestamp();
        }
        catch (PipelinePausedException paused)
        {
            LogPaused(crm, paused.Until, paused.Message);
            await store.FinishAsync(crm, lease, paused.Message, paused.Until, ct);
        }
        catch (Exception e) when (!ct.IsCancellationRequested)
        {
            // Nothing after the last committed page was written; the next run resumes there, after a backoff.
            LogFailed(e, crm);
            await store.FailAsync(crm, lease, e.Message, reader.Options.FailureBackoff, reader.Options.Interval, ct);
        }
        return read;
    }

    private async Task<bool> WritePageAsync(string crm, Guid lease, PulledPage page, List<PipelineRejection> rejections,
        List<PipelineCleaning> cleanings, TimeSpan leaseFor, CancellationToken ct)
    {
        var deletions = new List<string>();
        var taken = new List<(PulledRecord Record, OpportunityWrite Write)>();
        foreach (var record in page.Records)
        {
            if (record.Deleted) deletions.Add(record.ExternalId);
            else if (record.Rejected is not null || record.Item is null) rejections.Add(new PipelineRejection(record.ExternalId, record.Rejected ?? "nothing to read"));
            else taken.Add((record, new OpportunityWrite(crm, record.ExternalId, record.Item)));
        }
        var rejectedNow = page.Records.Count - deletions.Count - taken.Count;

        // Cleaned, checked and keyed one by one, side by side: whatever goes wrong with one record is that record's.
        var checkedRecords = taken.Count >= OpportunityStore.ParallelKeysFrom
            ? taken.AsParallel().AsOrdered().Select(t => Check(crm, t.Record.ExternalId, t.Write)).ToList()
            : taken.Select(t => Check(crm, t.Record.ExternalId, t.Write)).ToList();
        var writes = new List<PreparedWrite>(checkedRecords.Count);
        var cleanedNow = 0;
        foreach (var (externalId, prepared, reason, changes) in checkedRecords)
        {
            if (reason is not null)
            {
                rejections.Add(new PipelineRejection(externalId, reason));
                rejectedNow++;
                continue;
            }
            writes.Add(prepared!);
            if (changes.Count == 0) continue;
            cleanedNow++;
            cleanings.Add(new PipelineCleaning(externalId, changes));
        }

        await using var connection = await database.OpenAsync(ct);
        await using var session = await database.BeginWriteAsync(connection, ct);
        var outcomes = writes.Count == 0 ? [] : await opportunities.UpsertAsync(session, writes, ct);
        var deleted = 0;
        foreach (var externalId in deletions.Distinct(StringComparer.Ordinal))
        {
            if (await opportunities.DeleteAsync(session, crm, externalId, ct)) deleted++;
        }
        if (page.UnseenSince is { } since) deleted += await opportunities.DeleteNotWrittenSinceAsync(session, crm, since, ct);
        var counts = new PipelineCounts(outcomes.Count(o => o.Outcome == UpsertOutcome.Created), outcomes.Count(o => o.Outcome == UpsertOutcome.Updated),
            deleted, rejectedNow, cleanedNow);
        if (!await store.RecordPageAsync(session, crm, lease, page.Cursor, counts, rejections, cleanings, leaseFor, ct)) return false;
        await session.CommitAsync(ct);

        Count(crm, "created", counts.Created);
        Count(crm, "updated", counts.Updated);
        Count(crm, "deleted", counts.Deleted);
        Count(crm, "rejected", counts.Rejected);
        Count(crm, "cleaned", counts.Cleaned);
        return true;
    }

    /// <summary>One record cleaned, validated and keyed; the reason it cannot be taken in, whatever it is, instead of an exception.</summary>
    private static (string ExternalId, PreparedWrite? Write, string? Reason, IReadOnlyList<FieldCleaning> Changes) Check(
        string crm, string externalId, OpportunityWrite write)
    {
        try
        {
            var (item, changes) = VendorData.Clean((OpportunityBatchItem)write.Fields);
            var result = Validator.Validate(item);
            if (!result.IsValid) return (externalId, null, string.Join(" ", result.Errors.Select(e => e.ErrorMessage)), changes);
            return (externalId, PreparedWrite.Of(new OpportunityWrite(crm, item.ExternalId!, item)), null, changes);
        }
        catch (Exception e)
        {
            return (externalId, null, $"the record could not be read: {e.Message}", []);
        }
    }

    private void Count(string crm, string outcome, long n)
    {
        if (n > 0) _rows.Add(n, new KeyValuePair<string, object?>("crm", crm), new KeyValuePair<string, object?>("outcome", outcome));
    }

    private IEnumerable<Measurement<double>> Lag() => _finished.Select(f =>
        new Measurement<double>(System.Diagnostics.Stopwatch.GetElapsedTime(f.Value).TotalSeconds, new KeyValuePair<string, object?>("crm", f.Key)));

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (readers.Count == 0) return;
        meters.Create(MeterName).CreateObservableGauge("partnerdeals.pipeline.lag", Lag,
            unit: "s", description: "Seconds since the CRM's pipeline was last pulled to the end on this instance.");
        // A cadence of the machine: when a CRM is due is decided in the database, on the clock.
        using var timer = new PeriodicTimer(TimeSpan.FromSeconds(1));
        do
        {
            try
            {
                await PullOnceAsync(stoppingToken);
            }
            catch (Exception e) when (!stoppingToken.IsCancellationRequested)
            {
                LogFailed(e, "any");
            }
        }
        while (await timer.WaitForNextTickAsync(stoppingToken));
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Pipeline pull of {Crm} started from {Cursor}")]
    private partial void LogStarted(string crm, string cursor);

    [LoggerMessage(Level = LogLevel.Information, Message = "Pipeline pull of {Crm}: {Read} records read, resuming from {Cursor}")]
    private partial void LogPage(string crm, int read, string? cursor);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Pipeline pull of {Crm} paused until {Until:O}: {Reason}")]
    private partial void LogPaused(string crm, DateTimeOffset until, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Pipeline pull of {Crm} failed; the next run resumes from the last page written")]
    private partial void LogFailed(Exception exception, string crm);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Pipeline pull of {Crm}: the lease ran out; another instance carries on")]
    private partial void LogLeaseLost(string crm);
}
