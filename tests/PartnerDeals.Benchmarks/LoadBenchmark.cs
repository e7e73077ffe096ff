using System.Diagnostics;
using System.Globalization;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using PartnerDeals.Api.Features.Opportunities;
using PartnerDeals.Api.Infrastructure.Data;

namespace PartnerDeals.Benchmarks;

/// <summary>
/// The two halves of scripts/bench-load.sh that are not HTTP: a SQLite file with N direct opportunities
/// written through the product's own store (so every matching key and token is there), and the raw
/// single-row commit rate of SQLite on the same file system at the product's durability setting —
/// the ceiling any registration rate is measured against.
/// </summary>
public static class LoadBenchmark
{
    public static async Task SeedAsync(string path, int opportunities)
    {
        if (File.Exists(path)) File.Delete(path);
        var database = new Database(Options.Create(new DatabaseOptions { ConnectionString = $"Data Source={path}" }));
        await new Migrator(database, NullLogger<Migrator>.Instance).ApplyAsync(CancellationToken.None);
        using var checkpointer = new WalCheckpointer(database, TimeProvider.System, NullLogger<WalCheckpointer>.Instance);
        await checkpointer.StartAsync(CancellationToken.None);
        var random = new Random(20261123);
        var seconds = await SpeedBenchmark.IngestAsync(database, new OpportunityStore(database, TimeProvider.System),
            SpeedBenchmark.Generated(random, 0, opportunities), 0, SpeedBenchmark.Import);
        await checkpointer.StopAsync(CancellationToken.None);
        SqliteConnection.ClearAllPools();
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"seeded {opportunities:N0} opportunities in {seconds:F0} s; file {new FileInfo(path).Length / 1048576.0:F0} MiB"));
    }

    /// <summary>One connection, one row per transaction, as fast as the disk lets it, for <paramref name="seconds"/>.</summary>
    public static async Task RawCommitsAsync(string folder, int seconds, string synchronous)
    {
        var path = Path.Combine(folder, "raw-commits.db");
        await using (var connection = new SqliteConnection($"Data Source={path}"))
        {
            await connection.OpenAsync();
            Execute(connection, $"PRAGMA journal_mode = WAL; PRAGMA synchronous = {synchronous.ToUpperInvariant()};");
            Execute(connection, "CREATE TABLE rows (id TEXT NOT NULL PRIMARY KEY, payload TEXT NOT NULL, created_at TEXT NOT NULL)");
            await using var insert = connection.CreateCommand();
            insert.CommandText = "INSERT INTO rows (id, payload, created_at) VALUES ($id, $payload, $at)";
            var id = insert.Parameters.Add("$id", SqliteType.Text);
            insert.Parameters.AddWithValue("$payload", new string('x', 600)); // about a registration's row
            var at = insert.Parameters.Add("$at", SqliteType.Text);
            var commits = 0;
            var stopwatch = Stopwatch.StartNew();
            while (stopwatch.Elapsed.TotalSeconds < seconds)
            {
                await using var tx = connection.BeginTransaction();
                insert.Transaction = tx;
                id.Value = Guid.CreateVersion7().ToString("D");
                at.Value = DateTimeOffset.UtcNow.ToString("O", CultureInfo.InvariantCulture);
                await insert.ExecuteNonQueryAsync();
                await tx.CommitAsync();
                commits++;
            }
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"raw commits: {commits / stopwatch.Elapsed.TotalSeconds:F0}/s (one row per transaction, one connection, WAL, synchronous={synchronous}, {commits:N0} in {stopwatch.Elapsed.TotalSeconds:F0} s)"));
        }
        SqliteConnection.ClearAllPools();
        foreach (var file in Directory.GetFiles(folder, "raw-commits.db*")) File.Delete(file);
    }

    private static void Execute(SqliteConnection connection, string sql)
    {
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        command.ExecuteNonQuery();
    }
}
