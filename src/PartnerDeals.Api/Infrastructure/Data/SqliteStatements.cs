using System.Globalization;
using System.Text;
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
            // What each parameter holds now: SQLite keeps a statement's bindings across resets, so a value
            // equal to the row before's (the source, the status, the import's timestamp) is not bound again.
            var bound = new object?[names.Length];
            Array.Fill(bound, Unbound);
            var utf8 = new byte[256];
            foreach (var row in rows)
            {
                ct.ThrowIfCancellationRequested();
                valuesOf(row, values);
                for (var i = 0; i < values.Length; i++)
                {
                    if (Equals(values[i], bound[i])) continue;
                    Bind(statement, positions[i], values[i], ref utf8);
                    bound[i] = values[i];
                }
                var rc = raw.sqlite3_step(statement);
                raw.sqlite3_reset(statement);
                if (rc != raw.SQLITE_DONE) SqliteException.ThrowExceptionForRC(rc, db);
                inserted?.Invoke(row, raw.sqlite3_last_insert_rowid(db));
            }
        }
    }

    private static readonly object Unbound = new();

    private static void Bind(sqlite3_stmt statement, int position, object? value, ref byte[] utf8)
    {
        var rc = value switch
        {
            null or DBNull => raw.sqlite3_bind_null(statement, position),
            string text => BindText(statement, position, text, ref utf8),
            Guid id => BindFormatted(statement, position, id, "D", ref utf8),
            DateTimeOffset instant => BindFormatted(statement, position, instant.ToUniversalTime(), @"yyyy\-MM\-dd HH\:mm\:ss.FFFFFFFzzz", ref utf8),
            DateOnly day => BindFormatted(statement, position, day, @"yyyy\-MM\-dd", ref utf8),
            decimal number => BindFormatted(statement, position, number, "0.0###########################", ref utf8),
            bool flag => raw.sqlite3_bind_int64(statement, position, flag ? 1 : 0),
            int number => raw.sqlite3_bind_int64(statement, position, number),
            long number => raw.sqlite3_bind_int64(statement, position, number),
            double number => raw.sqlite3_bind_double(statement, position, number),
            _ => throw new NotSupportedException($"No SQLite binding for {value.GetType().Name}."),
        };
        if (rc != raw.SQLITE_OK) throw new InvalidOperationException($"Binding parameter {position} failed with SQLite code {rc}.");
    }

    // Text is encoded, and ids, instants and amounts formatted, into one buffer reused for every value;
    // SQLite copies it when bound (SQLITE_TRANSIENT). Through SQLitePCL's string overload each value was a
    // string and a UTF-8 array of its own, and binding was a large part of an import's time in the write lock
    // (docs/performance.md has the figures).
    private static int BindText(sqlite3_stmt statement, int position, string text, ref byte[] utf8)
    {
        var most = Encoding.UTF8.GetMaxByteCount(text.Length);
        if (utf8.Length < most) utf8 = new byte[Math.Max(most, utf8.Length * 2)];
        var length = Encoding.UTF8.GetBytes(text, utf8);
        return raw.sqlite3_bind_text(statement, position, utf8.AsSpan(0, length));
    }

    private static int BindFormatted<T>(sqlite3_stmt statement, int position, T value, string format, ref byte[] utf8) where T : IUtf8SpanFormattable
    {
        int length;
        while (!value.TryFormat(utf8, out length, format, CultureInfo.InvariantCulture)) utf8 = new byte[utf8.Length * 2];
        return raw.sqlite3_bind_text(statement, position, utf8.AsSpan(0, length));
    }
}
