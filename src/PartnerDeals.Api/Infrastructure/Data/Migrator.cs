using DbUp;
using DbUp.Engine;
using Microsoft.Data.Sqlite;

namespace PartnerDeals.Api.Infrastructure.Data;

/// <summary>
/// Applies the versioned scripts under <c>Migrations/&lt;Provider&gt;/</c> (embedded resources, run in
/// name order, each in its own transaction) and answers whether any are still outstanding.
/// </summary>
public sealed class Migrator(Database database, ILogger<Migrator> logger)
{
    private volatile bool _knownCurrent;

    public async Task ApplyAsync(CancellationToken ct)
    {
        if (database.Provider == DatabaseProvider.Sqlite)
        {
            PrepareSqliteFile(database.ConnectionString);
        }
        else
        {
            EnsureDatabase.For.SqlDatabase(database.ConnectionString);
        }

        var result = BuildUpgrader().PerformUpgrade();
        if (!result.Successful)
        {
            throw new InvalidOperationException(
                $"Migration {result.ErrorScript?.Name} failed; the database is left at the previous version.", result.Error);
        }

        foreach (var script in result.Scripts)
        {
            logger.LogInformation("Applied migration {Migration}", script.Name);
        }
        _knownCurrent = true;
        await Task.CompletedTask;
    }

    /// <summary>True when every embedded script has been applied (cached once true: scripts never un-apply).</summary>
    public bool IsCurrent()
    {
        if (_knownCurrent) return true;
        _knownCurrent = BuildUpgrader().GetScriptsToExecute().Count == 0;
        return _knownCurrent;
    }

    private UpgradeEngine BuildUpgrader()
    {
        var folder = database.Provider == DatabaseProvider.Sqlite ? ".Migrations.Sqlite." : ".Migrations.SqlServer.";
        var builder = database.Provider == DatabaseProvider.Sqlite
            ? DeployChanges.To.SqliteDatabase(database.ConnectionString)
            : DeployChanges.To.SqlDatabase(database.ConnectionString);
        return builder
            .WithScriptsEmbeddedInAssembly(typeof(Migrator).Assembly, name => name.Contains(folder, StringComparison.Ordinal))
            .WithTransactionPerScript()
            .LogToNowhere()
            .Build();
    }

    /// <summary>Creates the file's folder and switches it to WAL once; WAL is a property of the file and persists.</summary>
    private static void PrepareSqliteFile(string connectionString)
    {
        var builder = new SqliteConnectionStringBuilder(connectionString);
        var folder = Path.GetDirectoryName(Path.GetFullPath(builder.DataSource));
        if (!string.IsNullOrEmpty(folder)) Directory.CreateDirectory(folder);

        using var connection = new SqliteConnection(connectionString);
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText = "PRAGMA journal_mode = WAL;";
        command.ExecuteNonQuery();
    }
}
