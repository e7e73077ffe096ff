using System.Data.Common;
using System.Data;
using System.Globalization;
using Dapper;
using Microsoft.Data.SqlClient;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Options;

namespace PartnerDeals.Api.Infrastructure.Data;

/// <summary>
/// The one seam between the features and the two providers: it opens connections and knows the
/// few places where SQLite and SQL Server SQL differ (see <see cref="SqlDialect"/>).
/// </summary>
public sealed class Database : IAsyncDisposable
{
    private readonly DatabaseOptions _options;

    static Database() => DapperTypeHandlers.Register();

    private readonly Lazy<string> _unpooledSqlite;

    // The SQLite handles (pooled physical connections) whose settings are already applied.
    private readonly System.Runtime.CompilerServices.ConditionalWeakTable<SQLitePCL.sqlite3, object> _configured = new();
    private static readonly object Configured = new();

    public Database(IOptions<DatabaseOptions> options)
    {
        _options = options.Value;
        _unpooledSqlite = new(() => new SqliteConnectionStringBuilder(_options.ConnectionString) { Pooling = false }.ToString());
        Dialect = _options.Provider == DatabaseProvider.Sqlite ? SqlDialect.Sqlite : SqlDialect.SqlServer;
    }

    public DatabaseProvider Provider => _options.Provider;
    public string ConnectionString => _options.ConnectionString;
    public SqlDialect Dialect { get; }

    public Task<DbConnection> OpenAsync(CancellationToken ct) => OpenAsync(bulk: false, ct);

    /// <summary>Closes the kept read connections (the host disposes its singletons when it stops).</summary>
    public async ValueTask DisposeAsync()
    {
        while (_readers.TryTake(out var connection)) await connection.DisposeAsync();
    }

    /// <summary>Idle read connections kept open at most; more are opened under load and closed after.</summary>
    private const int MaxIdleReaders = 16;

    private readonly System.Collections.Concurrent.ConcurrentBag<DbConnection> _readers = [];

    /// <summary>
    /// Runs a read on one of a few SQLite connections kept open, so the statements it prepares with
    /// <see cref="QueryRepeatedAsync{T}"/> are prepared once per connection rather than once per request (a
    /// registration's 50 columns take longer to prepare than to read). A read that fails closes its connection.
    /// On SQL Server, whose client caches plans itself, it is an ordinary pooled connection.
    /// </summary>
    public async Task<T> ReadAsync<T>(Func<DbSession, Task<T>> read, CancellationToken ct)
    {
        if (Provider != DatabaseProvider.Sqlite)
        {
            await using var pooled = await OpenAsync(ct);
            return await read(new DbSession(this, pooled, null));
        }
        var connection = _readers.TryTake(out var idle) ? idle : await OpenAsync(ct);
        T result;
        try
        {
            result = await read(new DbSession(this, connection, null));
        }
        catch
        {
            await connection.DisposeAsync();
            throw;
        }
        if (_readers.Count < MaxIdleReaders) _readers.Add(connection);
        else await connection.DisposeAsync();
        return result;
    }

    /// <summary>
    /// A connection for writes of thousands of rows (opportunity batches and imports). On SQLite it
    /// keeps 128 MiB of pages instead of 2 MiB, so a batch's random index inserts find their pages in
    /// memory, and an import's transaction of 30,000 rows keeps its dirty pages there until it commits;
    /// other connections keep the small cache, since every pooled one grows to it.
    /// </summary>
    public Task<DbConnection> OpenBulkAsync(CancellationToken ct) => OpenAsync(bulk: true, ct);

    /// <summary>
    /// The decision writer's connection: not pooled, and with 32 MiB of pages instead of 2 MiB. Only its own
    /// commits touch its cache, so the index pages every check reads stay there between decisions.
    /// </summary>
    public Task<DbConnection> OpenDecisionWriterAsync(CancellationToken ct) => OpenAsync(bulk: false, ct, writerCache: true);

    /// <summary>
    /// SQLite: the write-ahead log's size, in pages, at which a commit checkpoints it itself. The
    /// <see cref="WalCheckpointer"/> keeps the log far below this; it only bounds the log if that stalls.
    /// </summary>
    public const int BackstopCheckpointPages = 100_000;

    /// <summary>SQLite: once checkpointed, the log file is cut back to this size rather than left at its high-water mark.</summary>
    private const long WalSizeLimitBytes = 64L * 1024 * 1024;

    /// <summary>
    /// SQLite: the same for a bulk connection. An import grows the log to hundreds of MiB between
    /// checkpoints; cut back to 64 MiB on every restart, the file system must allocate and zero those
    /// blocks again on the next commits, a large part of an import's time. The next ordinary
    /// writer to restart the log cuts it back.
    /// </summary>
    private const long BulkWalSizeLimitBytes = 1024L * 1024 * 1024;

    private async Task<DbConnection> OpenAsync(bool bulk, CancellationToken ct, bool writerCache = false)
    {
        var unpooled = bulk || writerCache;
        // A bulk connection is not pooled: closing it hands its 128 MiB of cached pages back at once,
        // where a pooled one would keep them until a later open shrank it.
        DbConnection connection = Provider == DatabaseProvider.Sqlite
            ? new SqliteConnection(unpooled ? _unpooledSqlite.Value : ConnectionString)
            : new SqlConnection(ConnectionString);
        try
        {
            await connection.OpenAsync(ct);
            // Per-connection settings, set once per SQLite handle: a pooled connection keeps them (nothing else
            // changes them), and a bulk one is never pooled.
            if (connection is SqliteConnection sqlite && (unpooled || !_configured.TryGetValue(sqlite.Handle!, out _)))
            {
                var cacheKiB = bulk ? 131_072 : writerCache ? 32_768 : 2_000;
                await connection.ExecuteAsync(new CommandDefinition(
                    $"PRAGMA foreign_keys = ON; PRAGMA busy_timeout = {_options.SqliteBusyTimeoutMs}; PRAGMA synchronous = {_options.SqliteSynchronous.ToUpperInvariant()}; " +
                    $"PRAGMA cache_size = -{cacheKiB}; PRAGMA wal_autocheckpoint = {BackstopCheckpointPages}; PRAGMA journal_size_limit = {(bulk ? BulkWalSizeLimitBytes : WalSizeLimitBytes)};",
                    cancellationToken: ct));
                if (!unpooled) _configured.AddOrUpdate(sqlite.Handle!, Configured);
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
    public async Task<DbSession> BeginWriteAsync(DbConnection connection, CancellationToken ct)
    {
        Interlocked.Increment(ref _writersWaiting);
        try
        {
            return new DbSession(this, connection, await connection.BeginTransactionAsync(IsolationLevel.ReadCommitted, ct));
        }
        finally
        {
            Interlocked.Decrement(ref _writersWaiting);
        }
    }

    private int _writersWaiting;

    /// <summary>Whether a write transaction of this process is waiting to begin.</summary>
    public bool WritersAreWaiting => Volatile.Read(ref _writersWaiting) > 0;

    /// <summary>
    /// Called by a bulk writer between its transactions: while another write transaction of this process
    /// is waiting to begin, it waits too, for at most about a quarter of a second. SQLite hands its write
    /// lock to no one in particular: a waiting writer polls, sleeping up to 100 ms between tries, and an
    /// import whose next chunk is ready takes the lock back within microseconds of committing, so a
    /// registration could wait out a whole import. This gives it the lock first. The pauses are counted,
    /// not timed: a test's stopped clock must not stop an import.
    /// </summary>
    public async Task LetWaitingWritersGoFirstAsync(CancellationToken ct)
    {
        for (var pause = 0; pause < 250 && WritersAreWaiting; pause++)
        {
            await Task.Delay(TimeSpan.FromMilliseconds(1), ct);
        }
    }

    /// <summary>
    /// Starts a write transaction that decides who holds an account: registering, approving, releasing.
    /// The check reads fuzzy matches (similar names, shared rare tokens), so no key-range lock on one
    /// index entry covers every row that could collide; two such transactions must simply not overlap.
    /// SQLite already runs one write transaction at a time across processes (BEGIN IMMEDIATE takes the
    /// file's write lock). On SQL Server an exclusive application lock owned by the transaction does the
    /// same for every instance on the database: the second decision waits until the first commits and
    /// then sees its row, so the phantom (both checks clear, both insert) cannot happen.
    /// </summary>
    public async Task<DbSession> BeginDecisionAsync(DbConnection connection, CancellationToken ct)
    {
        var session = await BeginWriteAsync(connection, ct);
        if (Dialect.DecisionLockSql is not { } lockSql) return session;
        try
        {
            var granted = await session.ExecuteScalarAsync<int>(lockSql, new { TimeoutMs = _options.CommandTimeoutSeconds * 1000 }, ct);
            if (granted < 0) throw new DatabaseBusyException($"The registration decision lock was not granted (sp_getapplock returned {granted}).");
            return session;
        }
        catch
        {
            await session.DisposeAsync();
            throw;
        }
    }

    /// <summary>
    /// Ids for an <c>IN @Ids</c> list. Dapper expands lists without the id type handler, so they go
    /// as the fixed-length ANSI text the columns hold (no conversion scan on SQL Server).
    /// </summary>
    public static IEnumerable<DbString> IdList(IEnumerable<Guid> ids) =>
        ids.Select(id => new DbString { Value = id.ToString("D"), IsAnsi = true, IsFixedLength = true, Length = 36 }).ToList();

    public CommandDefinition Command(string sql, object? parameters, CancellationToken ct, DbTransaction? transaction = null) =>
        new(sql, parameters, transaction, _options.CommandTimeoutSeconds, cancellationToken: ct);

    // Statements run many times, kept prepared: on SQLite once per connection, only re-valued per run (a statement
    // of many parameters costs more to prepare than to run); on SQL Server, whose client caches plans itself,
    // ordinary commands.

    /// <summary>
    /// Runs one statement once per row, prepared once and only re-valued per row. Bulk writes spend
    /// most of their time here: building a parameter set per row (Dapper's list form) and binding it by
    /// name cost more than SQLite's own insert. Names are given with their <c>@</c>, as the statement
    /// spells them; ids go as text and null as NULL, as elsewhere. <c>inserted</c>, when given, is called
    /// after each row with the key the database gave the row it inserted: SQLite's rowid, or on SQL Server
    /// the value the statement selects last (<see cref="SqlDialect.InsertedKey"/>).
    /// </summary>
    internal async Task ExecuteEachAsync<T>(DbConnection connection, DbTransaction? tx, string sql, string[] names, IEnumerable<T> rows,
        Action<T, object?[]> valuesOf, CancellationToken ct, Action<T, long>? inserted = null)
    {
        if (connection is SqliteConnection sqlite)
        {
            SqliteStatements.ExecuteEach(sqlite, sql, names, rows, valuesOf, inserted, ct);
            return;
        }

        await using var command = connection.CreateCommand();
        command.Transaction = tx;
        command.CommandText = sql;
        command.CommandTimeout = _options.CommandTimeoutSeconds;
        var parameters = new DbParameter[names.Length];
        for (var i = 0; i < names.Length; i++)
        {
            parameters[i] = command.CreateParameter();
            parameters[i].ParameterName = names[i];
            command.Parameters.Add(parameters[i]);
        }

        var values = new object?[names.Length];
        foreach (var row in rows)
        {
            valuesOf(row, values);
            for (var i = 0; i < values.Length; i++)
            {
                switch (values[i])
                {
                    case null: parameters[i].Value = DBNull.Value; break;
                    case Guid id:
                        // As the id type handler sends them: fixed-length ANSI, no conversion scan on SQL Server.
                        parameters[i].DbType = DbType.AnsiStringFixedLength;
                        parameters[i].Size = 36;
                        parameters[i].Value = id.ToString("D");
                        break;
                    case DateTimeOffset instant: parameters[i].Value = instant.ToUniversalTime(); break;
                    case var value: parameters[i].Value = value; break;
                }
            }
            if (inserted is null) await command.ExecuteNonQueryAsync(ct);
            else inserted(row, Convert.ToInt64(await command.ExecuteScalarAsync(ct), CultureInfo.InvariantCulture));
        }
    }

    /// <summary>
    /// Runs a query the caller repeats with other values (the conflict check's lookups: one per name key,
    /// token and count). On SQLite each SQL text is prepared once per connection and kept, and only its
    /// values are bound again: parsing and planning a statement cost more than running these lookups, and
    /// the decision writer's connection lives for the whole process. Elsewhere it is an ordinary Dapper query.
    /// </summary>
    internal async Task<IReadOnlyList<T>> QueryRepeatedAsync<T>(
        DbConnection connection, DbTransaction? tx, string sql, IReadOnlyList<(string Name, object? Value)> parameters, CancellationToken ct)
    {
        if (connection is not SqliteConnection sqlite)
        {
            return (await connection.QueryAsync<T>(Command(sql, Dynamic(parameters), ct, tx))).AsList();
        }
        ct.ThrowIfCancellationRequested();
        var prepared = Prepared(sqlite, tx, sql, parameters);
        // Microsoft.Data.Sqlite runs its async methods synchronously; calling the synchronous ones saves their tasks.
        using var reader = prepared.Command.ExecuteReader();
        var rows = new List<T>();
        if (!reader.Read()) return rows;
        var parse = prepared.ParserFor<T>(reader);
        do rows.Add(parse(reader)); while (reader.Read());
        return rows;
    }

    /// <summary>The same for a query answering one number.</summary>
    internal async Task<long> ScalarRepeatedAsync(
        DbConnection connection, DbTransaction? tx, string sql, IReadOnlyList<(string Name, object? Value)> parameters, CancellationToken ct)
    {
        if (connection is not SqliteConnection sqlite)
        {
            return await connection.ExecuteScalarAsync<long>(Command(sql, Dynamic(parameters), ct, tx));
        }
        ct.ThrowIfCancellationRequested();
        return Convert.ToInt64(Prepared(sqlite, tx, sql, parameters).Command.ExecuteScalar(), CultureInfo.InvariantCulture);
    }

    private static DynamicParameters Dynamic(IReadOnlyList<(string Name, object? Value)> parameters)
    {
        var dynamic = new DynamicParameters();
        foreach (var (name, value) in parameters) dynamic.Add(name, value);
        return dynamic;
    }

    // Commands by SQL text per connection object: they die with it, and closing it finalizes their statements.
    private readonly System.Runtime.CompilerServices.ConditionalWeakTable<SqliteConnection, Dictionary<string, PreparedQuery>> _prepared = new();

    private sealed record PreparedQuery(SqliteCommand Command)
    {
        private readonly Dictionary<(Type, string), object> _parsers = [];

        /// <summary>
        /// The row parser for the first row's columns, built once per statement and kinds of column: Dapper's own lookup
        /// compares the columns' names every time. A SQLite column's values may be stored as different types (an
        /// integral score as an integer, another as a real), and a parser is built for the types it reads, as Dapper's is.
        /// </summary>
        public Func<DbDataReader, T> ParserFor<T>(DbDataReader reader)
        {
            var types = string.Create(reader.FieldCount, reader, static (span, r) =>
            {
                for (var i = 0; i < span.Length; i++) span[i] = (char)Type.GetTypeCode(r.GetFieldType(i));
            });
            if (_parsers.TryGetValue((typeof(T), types), out var cached)) return (Func<DbDataReader, T>)cached;
            var parse = typeof(T) == typeof(string) ? r => (T)(object)r.GetString(0) : reader.GetRowParser<T>();
            _parsers[(typeof(T), types)] = parse;
            return parse;
        }
    }

    private PreparedQuery Prepared(SqliteConnection connection, DbTransaction? tx, string sql, IReadOnlyList<(string Name, object? Value)> parameters)
    {
        var commands = _prepared.GetOrCreateValue(connection);
        if (!commands.TryGetValue(sql, out var prepared))
        {
            var created = connection.CreateCommand();
            created.CommandText = sql;
            created.CommandTimeout = _options.CommandTimeoutSeconds;
            foreach (var (name, _) in parameters) created.Parameters.Add(new SqliteParameter { ParameterName = name });
            commands[sql] = prepared = new PreparedQuery(created);
        }
        var command = prepared.Command;
        command.Transaction = (SqliteTransaction?)tx;
        foreach (var (name, value) in parameters)
        {
            // As the type handlers send them: ids as text, instants in UTC.
            command.Parameters[name].Value = value switch
            {
                null => DBNull.Value,
                Guid id => id.ToString("D"),
                DateTimeOffset instant => instant.ToUniversalTime(),
                _ => value,
            };
        }
        return prepared;
    }
}
