using System.ComponentModel.DataAnnotations;
using System.Data.Common;
using System.Diagnostics;
using System.Diagnostics.Metrics;
using System.Threading.Channels;
using Microsoft.Extensions.Options;

namespace PartnerDeals.Api.Infrastructure.Data;

/// <summary>Bound from <c>Decisions</c>.</summary>
public sealed class DecisionOptions
{
    public const string Section = "Decisions";

    /// <summary>Most decisions run in one transaction and committed together.</summary>
    [Range(1, 10_000)]
    public int MaxBatch { get; set; } = 64;

    /// <summary>Most decisions waiting; beyond it a request is answered 503 at once rather than queued.</summary>
    [Range(1, 1_000_000)]
    public int MaxQueue { get; set; } = 512;
}

/// <summary>What a decision did: its answer, and whether its writes are kept (a refusal's are rolled back).</summary>
public readonly record struct Decided<T>(T Result, bool Keep)
{
    public static Decided<T> Kept(T result) => new(result, true);

    public static Decided<T> Discarded(T result) => new(result, false);
}

/// <summary>
/// Every decision of this instance — who holds an account, and every status change of a registration —
/// runs here, one after another, on one long-lived write connection whose page cache only its own
/// commits touch. The writer takes every decision waiting (up to <see cref="DecisionOptions.MaxBatch"/>),
/// runs each in its own savepoint inside one decision transaction (so each sees the ones before it, and a
/// decision that fails rolls back alone), commits once, and only then answers each. A failed commit
/// answers every decision of the batch with 503 and acknowledges none. Across instances nothing weakens:
/// the batch runs under <see cref="Database.BeginDecisionAsync"/> (SQLite's write lock, SQL Server's
/// decision lock), taken once per batch instead of once per decision.
/// </summary>
public sealed class DecisionWriter : BackgroundService
{
    public const string MeterName = "PartnerDeals.Decisions";

    private readonly Database _database;
    private readonly DecisionOptions _options;
    private readonly ILogger<DecisionWriter> _logger;
    private readonly Channel<Pending> _queue = Channel.CreateUnbounded<Pending>(new UnboundedChannelOptions { SingleReader = true });
    private readonly Histogram<int> _batchSize;
    private readonly Histogram<double> _decisionTime;
    private readonly Histogram<double> _commitTime;
    private readonly Counter<long> _refused;
    private int _waiting;
    private DbConnection? _connection;

    public DecisionWriter(Database database, IOptions<DecisionOptions> options, IMeterFactory meters, ILogger<DecisionWriter> logger)
    {
        _database = database;
        _options = options.Value;
        _logger = logger;
        var meter = meters.Create(MeterName);
        meter.CreateObservableGauge("partnerdeals.decisions.queue", () => Volatile.Read(ref _waiting), description: "Decisions waiting for the writer.");
        _batchSize = meter.CreateHistogram<int>("partnerdeals.decisions.batch_size", description: "Decisions committed together.");
        _decisionTime = meter.CreateHistogram<double>("partnerdeals.decisions.decision_time", "ms", "Time one decision ran in the writer.");
        _commitTime = meter.CreateHistogram<double>("partnerdeals.decisions.commit_time", "ms", "Time a batch's commit took.");
        _refused = meter.CreateCounter<long>("partnerdeals.decisions.refused", description: "Decisions answered 503 at once because the queue was full.");
    }

    /// <summary>
    /// Runs <paramref name="decide"/> in the writer's transaction and answers once its batch has committed.
    /// Throws <see cref="DatabaseBusyException"/> (503) when the queue is full or the commit failed.
    /// </summary>
    public async Task<T> DecideAsync<T>(Func<DbSession, Task<Decided<T>>> decide, CancellationToken ct)
    {
        if (Interlocked.Increment(ref _waiting) > _options.MaxQueue)
        {
            Interlocked.Decrement(ref _waiting);
            _refused.Add(1);
            throw new DatabaseBusyException($"More than {_options.MaxQueue} decisions are waiting.");
        }
        var pending = new Pending<T>(decide, ct);
        if (!_queue.Writer.TryWrite(pending))
        {
            Interlocked.Decrement(ref _waiting);
            throw new DatabaseBusyException("The decision writer has stopped.");
        }
        return await pending.Answer.Task;
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var batch = new List<Pending>(_options.MaxBatch);
        try
        {
            while (await _queue.Reader.WaitToReadAsync(stoppingToken))
            {
                while (batch.Count < _options.MaxBatch && _queue.Reader.TryRead(out var next)) batch.Add(next);
                Interlocked.Add(ref _waiting, -batch.Count);
                await RunAsync(batch, stoppingToken);
                batch.Clear();
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
        finally
        {
            // Whatever is still queued at shutdown was never started: nothing of it was written.
            _queue.Writer.TryComplete();
            foreach (var pending in batch) pending.Fail(new DatabaseBusyException("The service is stopping."));
            while (_queue.Reader.TryRead(out var left)) left.Fail(new DatabaseBusyException("The service is stopping."));
            if (_connection is not null) await _connection.DisposeAsync();
        }
    }

    private async Task RunAsync(List<Pending> batch, CancellationToken stoppingToken)
    {
        DbSession session;
        try
        {
            // SQLite keeps one connection (its cache stays warm); SQL Server takes a pooled one per batch.
            _connection ??= await _database.OpenDecisionWriterAsync(stoppingToken);
            session = await _database.BeginDecisionAsync(_connection, stoppingToken);
        }
        catch (Exception e)
        {
            await DropConnectionAsync();
            foreach (var pending in batch) pending.Fail(e);
            return;
        }

        await using (session)
        {
            var tx = session.Transaction!;
            var ran = new List<Pending>(batch.Count);
            foreach (var pending in batch)
            {
                if (pending.Cancelled)
                {
                    pending.Fail(new OperationCanceledException(pending.Ct));
                    continue;
                }
                var started = Stopwatch.GetTimestamp();
                await tx.SaveAsync("decision", stoppingToken);
                try
                {
                    if (!await pending.RunAsync(session)) await tx.RollbackAsync("decision", stoppingToken);
                    // SQL Server has no release: its savepoints simply end with the transaction.
                    else if (_database.Provider == DatabaseProvider.Sqlite) await tx.ReleaseAsync("decision", stoppingToken);
                    ran.Add(pending);
                }
                catch (Exception e)
                {
                    // This decision alone is undone; the others of the batch go on.
                    try
                    {
                        await tx.RollbackAsync("decision", stoppingToken);
                    }
                    catch (Exception rollback)
                    {
                        _logger.LogWarning(rollback, "Rolling back a failed decision failed; the batch is abandoned");
                        pending.Fail(e);
                        await AbandonAsync(ran, rollback);
                        return;
                    }
                    pending.Fail(e);
                }
                _decisionTime.Record(Stopwatch.GetElapsedTime(started).TotalMilliseconds);
            }

            var committing = Stopwatch.GetTimestamp();
            try
            {
                await tx.CommitAsync(stoppingToken);
            }
            catch (Exception e)
            {
                _logger.LogWarning(e, "A batch of {Count} decisions failed to commit; none is acknowledged", ran.Count);
                await AbandonAsync(ran, e);
                return;
            }
            _commitTime.Record(Stopwatch.GetElapsedTime(committing).TotalMilliseconds);
            _batchSize.Record(ran.Count);
            foreach (var pending in ran) pending.Complete();
        }
        if (_database.Provider != DatabaseProvider.Sqlite) await DropConnectionAsync();
    }

    private async Task AbandonAsync(List<Pending> ran, Exception cause)
    {
        await DropConnectionAsync();
        foreach (var pending in ran) pending.Fail(new DatabaseBusyException($"The decisions were not committed: {cause.Message}"));
    }

    private async Task DropConnectionAsync()
    {
        if (_connection is null) return;
        await _connection.DisposeAsync();
        _connection = null;
    }

    private abstract class Pending(CancellationToken ct)
    {
        public CancellationToken Ct { get; } = ct;

        public bool Cancelled => Ct.IsCancellationRequested;

        /// <summary>Runs the decision; answers whether its writes are kept.</summary>
        public abstract Task<bool> RunAsync(DbSession session);

        /// <summary>Hands the decision's answer to its caller: its batch committed.</summary>
        public abstract void Complete();

        public abstract void Fail(Exception e);
    }

    private sealed class Pending<T>(Func<DbSession, Task<Decided<T>>> decide, CancellationToken ct) : Pending(ct)
    {
        private T _result = default!;

        public TaskCompletionSource<T> Answer { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public override async Task<bool> RunAsync(DbSession session)
        {
            var decided = await decide(session);
            _result = decided.Result;
            return decided.Keep;
        }

        public override void Complete() => Answer.TrySetResult(_result);

        public override void Fail(Exception e) => Answer.TrySetException(e);
    }
}
