using System.Data;
using System.Data.Common;
using System.Globalization;
using Dapper;
using Microsoft.Data.Sqlite;

namespace PartnerDeals.Api.Infrastructure.Data;

/// <summary>
/// Statements run many times, kept prepared: on SQLite once per connection, only re-valued per run (a statement
/// of many parameters costs more to prepare than to run); on SQL Server, whose client caches plans itself,
/// ordinary commands.
/// </summary>
public sealed partial class Database
{
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
