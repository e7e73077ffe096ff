using PartnerDeals.Api.Infrastructure.Data;
using PartnerDeals.Matching;

namespace PartnerDeals.Api.Features.ConflictChecks;

/// <summary>
/// Writes a table's matching keys again when they were made by an older normaliser
/// (<see cref="CompanyName.KeysVersion"/>): a row keyed "contosopharmaceuticals" is not found by the key a new
/// "Contoso Pharmaceuticals" gets ("contosopharma"). In the background after start-up, a batch a transaction, by
/// seq, resuming where a stopped instance left off (<c>matching_keys</c>); two instances doing it at once write the
/// same keys. Checks meanwhile find a row by its old keys or its new ones. A table that was empty when migration 0017
/// ran was filled by this release's normaliser: nothing to write again until <see cref="CompanyName.KeysVersion"/> moves.
/// </summary>
/// <param name="database">The database.</param>
/// <param name="table">The table, as <c>matching_keys</c> names it.</param>
/// <param name="decisions">Whether its rows are claims, written under the decision lock.</param>
/// <param name="rekey">Writes the keys of the rows after a seq, up to a limit: the last seq it read (null when none were left), and how many changed.</param>
/// <param name="logger">Where its start, end and failure are logged.</param>
public sealed partial class MatchingKeysRefresh(
    Database database, string table, bool decisions, MatchingKeysRefresh.Rekey rekey, ILogger<MatchingKeysRefresh> logger) : BackgroundService
{
    public delegate Task<(long? LastSeq, int Changed)> Rekey(DbSession session, long afterSeq, int limit, CancellationToken ct);

    /// <summary>Rows a transaction: short enough that a registration waiting for the lock waits little.</summary>
    private const int Batch = 500;

    private const string StateSql = "SELECT version, refreshing_to, after_seq FROM matching_keys WHERE record_table = @Table";

    private const string StartSql = """
        INSERT INTO matching_keys (record_table, version, refreshing_to, after_seq) VALUES (@Table, 1, @Version, 0)
        """;

    private const string ProgressSql = "UPDATE matching_keys SET refreshing_to = @Version, after_seq = @AfterSeq WHERE record_table = @Table";

    private const string DoneSql = "UPDATE matching_keys SET version = @Version, refreshing_to = @Version, after_seq = 0 WHERE record_table = @Table";

    private sealed class State
    {
        public long Version { get; init; }
        public long RefreshingTo { get; init; }
        public long AfterSeq { get; init; }
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        try
        {
            await RefreshAsync(stoppingToken);
        }
        catch (Exception e) when (!stoppingToken.IsCancellationRequested)
        {
            // The keys already written stay; the next start goes on from there.
            LogFailed(e, table);
        }
    }

    private async Task RefreshAsync(CancellationToken ct)
    {
        var state = await StateAsync(ct);
        if (state.Version >= CompanyName.KeysVersion) return;
        var after = state.RefreshingTo == CompanyName.KeysVersion ? state.AfterSeq : 0;
        LogStarted(table, state.Version, CompanyName.KeysVersion, after);
        long read = 0, changed = 0;
        while (true)
        {
            await database.LetWaitingWritersGoFirstAsync(ct);
            await using var connection = await database.OpenAsync(ct);
            await using var session = decisions ? await database.BeginDecisionAsync(connection, ct) : await database.BeginWriteAsync(connection, ct);
            var (last, batchChanged) = await rekey(session, after, Batch, ct);
            changed += batchChanged;
            if (last is null)
            {
                await session.ExecuteAsync(DoneSql, new { Table = table, Version = CompanyName.KeysVersion }, ct);
                await session.CommitAsync(ct);
                LogDone(table, read, changed);
                return;
            }
            read += Batch;
            after = last.Value;
            await session.ExecuteAsync(ProgressSql, new { Table = table, Version = CompanyName.KeysVersion, AfterSeq = after }, ct);
            await session.CommitAsync(ct);
        }
    }

    private async Task<State> StateAsync(CancellationToken ct)
    {
        await using var connection = await database.OpenAsync(ct);
        await using var session = await database.BeginWriteAsync(connection, ct);
        var state = await session.QuerySingleOrDefaultAsync<State>(StateSql, new { Table = table }, ct);
        if (state is null)
        {
            await session.ExecuteAsync(StartSql, new { Table = table, Version = CompanyName.KeysVersion }, ct);
            state = new State { Version = 1, RefreshingTo = CompanyName.KeysVersion };
        }
        await session.CommitAsync(ct);
        return state;
    }

    [LoggerMessage(Level = LogLevel.Information,
        Message = "Writing the matching keys of {Table} again: made by normaliser {From}, now {To}; from seq {After}")]
    private partial void LogStarted(string table, long from, int to, long after);

    [LoggerMessage(Level = LogLevel.Information, Message = "The matching keys of {Table} are current: about {Read} rows read, {Changed} changed")]
    private partial void LogDone(string table, long read, long changed);

    [LoggerMessage(Level = LogLevel.Error, Message = "Writing the matching keys of {Table} again failed; the next start goes on")]
    private partial void LogFailed(Exception e, string table);
}
