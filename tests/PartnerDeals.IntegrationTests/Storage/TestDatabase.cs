using Microsoft.Data.SqlClient;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using PartnerDeals.Api.Infrastructure.Data;
using Testcontainers.MsSql;

namespace PartnerDeals.IntegrationTests.Storage;

/// <summary>
/// A migrated, empty database of one provider for the storage tests. SQLite is always there;
/// SQL Server comes from <c>PARTNERDEALS_TEST_SQLSERVER</c> (a connection string; a fresh database is
/// created on that server and dropped afterwards) or from a Testcontainers container where Docker
/// runs. Without either, the SQL Server fixture is ignored with that reason.
/// </summary>
public sealed class TestDatabase : IAsyncDisposable
{
    public const string SqlServerVariable = "PARTNERDEALS_TEST_SQLSERVER";

    private readonly Func<Task> _cleanup;

    private TestDatabase(Database database, Func<Task> cleanup)
    {
        Database = database;
        _cleanup = cleanup;
    }

    public Database Database { get; }

    public static async Task<TestDatabase> CreateAsync(DatabaseProvider provider)
    {
        return provider == DatabaseProvider.Sqlite ? await CreateSqliteAsync() : await CreateSqlServerAsync();
    }

    private static async Task<TestDatabase> CreateSqliteAsync()
    {
        var folder = Path.Combine(Path.GetTempPath(), "partnerdeals-tests", Guid.NewGuid().ToString("N"));
        var database = await MigrateAsync(DatabaseProvider.Sqlite, $"Data Source={Path.Combine(folder, "storage.db")}");
        return new TestDatabase(database, () =>
        {
            SqliteConnection.ClearAllPools();
            Directory.Delete(folder, recursive: true);
            return Task.CompletedTask;
        });
    }

    private static async Task<TestDatabase> CreateSqlServerAsync()
    {
        var server = Environment.GetEnvironmentVariable(SqlServerVariable);
        MsSqlContainer? container = null;
        if (string.IsNullOrWhiteSpace(server))
        {
            if (!DockerIsReachable())
            {
                Assert.Ignore($"SQL Server tests need {SqlServerVariable} (a connection string) or a running Docker engine; neither is here.");
            }
            try
            {
                container = new MsSqlBuilder("mcr.microsoft.com/mssql/server:2022-latest").Build();
                await container.StartAsync();
            }
            catch (Exception e) when (e is not IgnoreException)
            {
                Assert.Ignore($"SQL Server tests need {SqlServerVariable} or Docker; the Docker engine did not start a container: {e.Message}");
            }
            server = container.GetConnectionString();
        }

        var builder = new SqlConnectionStringBuilder(server) { InitialCatalog = $"partnerdeals_test_{Guid.NewGuid():N}", TrustServerCertificate = true };
        var database = await MigrateAsync(DatabaseProvider.SqlServer, builder.ConnectionString);
        return new TestDatabase(database, async () =>
        {
            SqlConnection.ClearAllPools();
            if (container is not null)
            {
                await container.DisposeAsync();
                return;
            }
            var master = new SqlConnectionStringBuilder(builder.ConnectionString) { InitialCatalog = "master" };
            await using var connection = new SqlConnection(master.ConnectionString);
            await connection.OpenAsync();
            await using var drop = connection.CreateCommand();
            drop.CommandText = $"ALTER DATABASE [{builder.InitialCatalog}] SET SINGLE_USER WITH ROLLBACK IMMEDIATE; DROP DATABASE [{builder.InitialCatalog}];";
            await drop.ExecuteNonQueryAsync();
        });
    }

    private static bool DockerIsReachable() =>
        !string.IsNullOrEmpty(Environment.GetEnvironmentVariable("DOCKER_HOST")) || File.Exists("/var/run/docker.sock");

    private static async Task<Database> MigrateAsync(DatabaseProvider provider, string connectionString)
    {
        var database = new Database(Options.Create(new DatabaseOptions { Provider = provider, ConnectionString = connectionString }));
        await new Migrator(database, NullLogger<Migrator>.Instance).ApplyAsync(CancellationToken.None);
        return database;
    }

    public ValueTask DisposeAsync() => new(_cleanup());
}
