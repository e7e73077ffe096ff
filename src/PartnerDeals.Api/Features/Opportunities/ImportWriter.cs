using System.Data.Common;
using System.Threading.Channels;
using PartnerDeals.Api.Infrastructure.Data;

namespace PartnerDeals.Api.Features.Opportunities;

/// <summary>
/// Writes an import's rows in the order read. The reading side prepares and plans each chunk (matching
/// keys, the stored rows of its identities, on a read connection) while the writer writes the chunks
/// before it: SQLite writes on one core, so the rest of the import runs beside it.
/// <para>
/// The writer commits chunks as a group. It keeps writing chunks into one transaction while the next
/// is already planned, up to <see cref="TransactionRows"/>, and commits as soon as another writer of this
/// process waits for the lock or no chunk is ready. A registration arriving during an import therefore
/// waits for one chunk and a commit, not for a whole transaction; an import nobody waits for writes each
/// index page it dirties once per 30,000 rows; and the lock is never held waiting for a slow upload.
/// </para>
/// </summary>
public sealed class ImportWriter(Database database, OpportunityStore store, TimeProvider clock,
    int chunkRows = ImportWriter.ChunkRows, int transactionRows = ImportWriter.TransactionRows) : IAsyncDisposable
{
    /// <summary>Rows planned and written as one step: what a writer arriving during an import waits for, with a commit.</summary>
    public const int ChunkRows = 2_000;

    /// <summary>
    /// Rows committed together at most, while nobody waits. A commit writes every page the transaction
    /// dirtied, and at 1,000,000 rows the random-order indexes take most of a commit's pages, so the cost
    /// per row falls with rows per commit. The dirty pages of 30,000 rows fit the bulk connection's
    /// 128 MiB cache; larger transactions spilled and ingest was slower (docs/performance.md).
    /// </summary>
    public const int TransactionRows = 30_000;

    private sealed record Chunk(IReadOnlyList<PreparedWrite> Prepared, OpportunityStore.UpsertPlan Plan, CancellationToken Ct)
    {
        public IReadOnlyList<(UpsertOutcome Outcome, Guid Id)>? Outcomes { get; set; }
    }

    private readonly List<OpportunityWrite> _rows = new(chunkRows);
    // Two planned chunks ahead at most: the reading side waits for the writer rather than buffering the file.
    private readonly Channel<Chunk> _planned = Channel.CreateBounded<Chunk>(new BoundedChannelOptions(2) { SingleReader = true, SingleWriter = true });
    private Task? _writer;
    private DbConnection? _reader;

    public int Created { get; private set; }
    public int Updated { get; private set; }

    /// <summary>Write transactions committed.</summary>
    public int Transactions { get; private set; }

    /// <summary>Chunks whose plan went stale when written; each time, the chunks of that transaction were written again under the lock.</summary>
    public int StalePlans { get; private set; }

    /// <summary>The longest the import held the write lock in one transaction.</summary>
    public TimeSpan LongestTransaction { get; private set; }

    public async Task AddAsync(OpportunityWrite write, CancellationToken ct)
    {
        _rows.Add(write);
        if (_rows.Count == chunkRows) await FlushAsync(ct);
    }

    /// <summary>Writes what is left and waits until every chunk is committed.</summary>
    public async Task CompleteAsync(CancellationToken ct)
    {
        await FlushAsync(ct);
        _planned.Writer.TryComplete();
        if (_writer is not null) await _writer;
    }

    private async Task FlushAsync(CancellationToken ct)
    {
        if (_rows.Count == 0) return;
        var prepared = OpportunityStore.Prepare(_rows);
        _rows.Clear();
        // Planned while the chunks before it are still being written: a row one of them also holds is
        // planned from the row as it was, and the writer finds the plan stale and upserts under the lock.
        _reader ??= await database.OpenAsync(ct);
        var plan = await store.PlanAsync(new DbSession(database, _reader, null), prepared, ct);
        _writer ??= Task.Run(WriteAllAsync, CancellationToken.None);
        try
        {
            await _planned.Writer.WriteAsync(new Chunk(prepared, plan, ct), ct);
        }
        catch (ChannelClosedException)
        {
            // The writer failed and closed the channel: its own exception is the one to report.
            await _writer;
            throw;
        }
    }

    private async Task WriteAllAsync()
    {
        try
        {
            // One connection for the whole import: its page cache still holds the index pages the last
            // transaction touched, where a fresh connection would read them all again.
            await using var connection = await database.OpenBulkAsync(CancellationToken.None);
            while (await _planned.Reader.WaitToReadAsync())
            {
                await WriteTransactionAsync(connection);
            }
        }
        catch (Exception e)
        {
            _planned.Writer.TryComplete(e);
            throw;
        }
    }

    /// <summary>One transaction: chunks in order while they are ready, nobody waits and the transaction has room.</summary>
    private async Task WriteTransactionAsync(DbConnection connection)
    {
        await database.LetWaitingWritersGoFirstAsync(CancellationToken.None);
        var started = clock.GetTimestamp();
        var chunks = new List<Chunk>();
        var rows = 0;
        var session = await database.BeginWriteAsync(connection, CancellationToken.None);
        try
        {
            // At least one chunk each time, or writers that keep arriving would stop the import.
            while ((chunks.Count == 0 || (rows < transactionRows && !database.WritersAreWaiting)) && _planned.Reader.TryRead(out var chunk))
            {
                chunks.Add(chunk);
                rows += chunk.Prepared.Count;
                chunk.Outcomes = await store.WriteAsync(session, chunk.Plan, chunk.Ct);
                if (chunk.Outcomes is not null) continue;

                // Stale: another writer, or an earlier chunk of this transaction, wrote one of its rows
                // after it was planned. The transaction's chunks are written again, each planned in it.
                await session.RollbackAsync(chunk.Ct);
                await session.DisposeAsync();
                StalePlans++;
                session = await database.BeginWriteAsync(connection, chunk.Ct);
                foreach (var again in chunks) again.Outcomes = await store.UpsertAsync(session, again.Prepared, again.Ct);
            }
            await session.CommitAsync(chunks.Count > 0 ? chunks[^1].Ct : CancellationToken.None);
        }
        finally
        {
            await session.DisposeAsync();
        }

        Transactions++;
        var held = clock.GetElapsedTime(started);
        if (held > LongestTransaction) LongestTransaction = held;
        foreach (var chunk in chunks)
        {
            Created += chunk.Outcomes!.Count(o => o.Outcome == UpsertOutcome.Created);
            Updated += chunk.Outcomes!.Count(o => o.Outcome == UpsertOutcome.Updated);
        }
    }

    /// <summary>
    /// When the import stops early (a bad request body, a cancelled request), the chunks already planned
    /// are still written or rolled back before this returns, so nothing writes after the response; a
    /// failure, if any, is the one already thrown.
    /// </summary>
    public async ValueTask DisposeAsync()
    {
        _planned.Writer.TryComplete();
        if (_writer is not null)
        {
            try
            {
                await _writer;
            }
            catch (Exception) when (_writer.IsFaulted || _writer.IsCanceled)
            {
                // Already observed by CompleteAsync or AddAsync, or superseded by the exception that ended the import.
            }
        }
        if (_reader is not null) await _reader.DisposeAsync();
    }
}
