using System.Data;
using System.Data.Common;
using Dapper;
using Microsoft.Data.SqlClient;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Options;

namespace PartnerDeals.Api.Infrastructure.Data;

/// <summary>
/// The one seam between the features and the two providers: it opens connections and knows the
/// few places where SQLite and SQL Server SQL differ (see <see cref="SqlDialect"/>).
/// </summary>
public sealed class Database
{
    private readonly DatabaseOptions _options;

    static Database() => DapperTypeHandlers.Register();

    public Database(IOptions<DatabaseOptions> options)
    {
        _options = options.Value;
        Dialect = _options.Provider == DatabaseProvider.Sqlite ? SqlDialect.Sqlite : SqlDialect.SqlServer;
    }

    public DatabaseProvider Provider => _options.Provider;
    public string ConnectionString => _options.ConnectionString;
    public SqlDialect Dialect { get; }

    public async Task<DbConnection> OpenAsync(CancellationToken ct)
    {
        DbConnection connection = Provider == DatabaseProvider.Sqlite
            ? new SqliteConnection(ConnectionString)
            : new SqlConnection(ConnectionString);
        try
        {
            await connection.OpenAsync(ct);
            if (Provider == DatabaseProvider.Sqlite)
            {
                // Per-connection settings: SQLite forgets them when a connection is opened anew.
                await connection.ExecuteAsync(new CommandDefinition(
                    $"PRAGMA foreign_keys = ON; PRAGMA busy_timeout = {_options.SqliteBusyTimeoutMs}; PRAGMA synchronous = {_options.SqliteSynchronous.ToUpperInvariant()};",
                    cancellationToken: ct));
            }
            return connection;
        }
        catch
        {
            await connection.DisposeAsync();
            throw;
        }
    }

    /// <summary>
    /// Starts a write transaction. On SQLite, Microsoft.Data.Sqlite begins it IMMEDIATE, taking the
    /// write lock up front so two writers never deadlock on a lock upgrade.
    /// </summary>
    public async Task<DbTransaction> BeginWriteAsync(DbConnection connection, CancellationToken ct) =>
        await connection.BeginTransactionAsync(IsolationLevel.ReadCommitted, ct);

    /// <summary>
    /// Ids for an <c>IN @Ids</c> list. Dapper expands lists without the id type handler, so they go
    /// as the fixed-length ANSI text the columns hold (no conversion scan on SQL Server).
    /// </summary>
    public static IEnumerable<DbString> IdList(IEnumerable<Guid> ids) =>
        ids.Select(id => new DbString { Value = id.ToString("D"), IsAnsi = true, IsFixedLength = true, Length = 36 }).ToList();

    public CommandDefinition Command(string sql, object? parameters, CancellationToken ct, DbTransaction? transaction = null) =>
        new(sql, parameters, transaction, _options.CommandTimeoutSeconds, cancellationToken: ct);
}
