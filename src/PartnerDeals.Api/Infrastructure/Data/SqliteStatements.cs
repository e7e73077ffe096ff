using System.Globalization;
using Microsoft.Data.Sqlite;
using SQLitePCL;

namespace PartnerDeals.Api.Infrastructure.Data;

/// <summary>
/// A statement run once per row straight on SQLite's own API. Microsoft.Data.Sqlite looks every
/// parameter up by name on every execution (<c>sqlite3_bind_parameter_index</c>, a linear scan with
/// <c>strncmp</c>): at 18 parameters a row that was an eighth of a bulk import's time. Here names are
/// looked up once per statement and values bound by position, as text, integer or real exactly as
/// Microsoft.Data.Sqlite would bind them, so a row reads back the same whichever path wrote it
/// (a storage test compares the two).
/// </summary>
public static class SqliteStatements
{
    /// <summary>Runs the statement once per row; <c>inserted</c>, when given, is called after each row with the rowid it inserted.</summary>
    public static void ExecuteEach<T>(SqliteConnection connection, string sql, string[] names, IEnumerable<T> rows, Action<T, object?[]> valuesOf,
        Action<T, long>? inserted, CancellationToken ct)
    {
        var db = connection.Handle ?? throw new InvalidOperationException("The connection is not open.");
        SqliteException.ThrowExceptionForRC(raw.sqlite3_prepare_v2(db, sql, out var statement), db);
        using (statement)
        {
            var positions = new int[names.Length];
            for (var i = 0; i < names.Length; i++)
            {
                positions[i] = raw.sqlite3_bind_parameter_index(statement, names[i]);
                if (positions[i] == 0) throw new ArgumentException($"The statement has no parameter {names[i]}.", nameof(names));
            }

            var values = new object?[names.Length];
            foreach (var row in rows)
            {
                ct.ThrowIfCancellationRequested();
                valuesOf(row, values);
                for (var i = 0; i < values.Length; i++) Bind(statement, positions[i], values[i]);
                var rc = raw.sqlite3_step(statement);
                raw.sqlite3_reset(statement);
                if (rc != raw.SQLITE_DONE) SqliteException.ThrowExceptionForRC(rc, db);
                inserted?.Invoke(row, raw.sqlite3_last_insert_rowid(db));
            }
        }
    }

    private static void Bind(sqlite3_stmt statement, int position, object? value)
    {
        var rc = value switch
        {
            null or DBNull => raw.sqlite3_bind_null(statement, position),
            string text => raw.sqlite3_bind_text(statement, position, text),
            Guid id => raw.sqlite3_bind_text(statement, position, id.ToString("D")),
            DateTimeOffset instant => raw.sqlite3_bind_text(statement, position,
                instant.ToUniversalTime().ToString(@"yyyy\-MM\-dd HH\:mm\:ss.FFFFFFFzzz", CultureInfo.InvariantCulture)),
            DateOnly day => raw.sqlite3_bind_text(statement, position, day.ToString(@"yyyy\-MM\-dd", CultureInfo.InvariantCulture)),
            decimal number => raw.sqlite3_bind_text(statement, position, number.ToString("0.0###########################", CultureInfo.InvariantCulture)),
            bool flag => raw.sqlite3_bind_int64(statement, position, flag ? 1 : 0),
            int number => raw.sqlite3_bind_int64(statement, position, number),
            long number => raw.sqlite3_bind_int64(statement, position, number),
            double number => raw.sqlite3_bind_double(statement, position, number),
            _ => throw new NotSupportedException($"No SQLite binding for {value.GetType().Name}."),
        };
        if (rc != raw.SQLITE_OK) throw new InvalidOperationException($"Binding parameter {position} failed with SQLite code {rc}.");
    }
}
