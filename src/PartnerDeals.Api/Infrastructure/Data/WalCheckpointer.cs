using Dapper;

namespace PartnerDeals.Api.Infrastructure.Data;

/// <summary>
/// Copies committed pages from SQLite's write-ahead log into the database file, in the background.
/// Left to SQLite, the commit that crosses the checkpoint threshold does the copying itself, inside
/// a request: a registration arriving during an import would carry the import's pages. Here every
/// connection's own threshold is only a backstop (<see cref="Database.BackstopCheckpointPages"/>), no
/// request does the copying, and a page rewritten by several commits between two checkpoints is
/// copied once. PASSIVE never waits for a reader or a writer.
/// </summary>
public sealed partial class WalCheckpointer(Database database, TimeProvider clock, ILogger<WalCheckpointer> logger) : BackgroundService
{
    private static readonly TimeSpan Interval = TimeSpan.FromSeconds(2);

    private async Task CheckpointAsync(CancellationToken ct)
    {
        await using var connection = await database.OpenAsync(ct);
        await connection.ExecuteAsync(new CommandDefinition("PRAGMA wal_checkpoint(PASSIVE)", cancellationToken: ct));
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (database.Provider != DatabaseProvider.Sqlite) return;
        using var timer = new PeriodicTimer(Interval, clock);
        while (await timer.WaitForNextTickAsync(stoppingToken))
        {
            try
            {
                await CheckpointAsync(stoppingToken);
            }
            catch (Exception e) when (!stoppingToken.IsCancellationRequested)
            {
                LogFailed(e);
            }
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "A background WAL checkpoint failed; the next one retries")]
    private partial void LogFailed(Exception exception);
}
