using Microsoft.Data.SqlClient;
using Microsoft.Data.Sqlite;

namespace PartnerDeals.Api.Infrastructure.Data;

/// <summary>
/// Every difference between the SQLite and SQL Server SQL the features write. Queries are written
/// once in the common subset; only what is listed here varies.
/// </summary>
public sealed class SqlDialect
{
    public static readonly SqlDialect Sqlite = new("sqlite", " LIMIT @Limit", null,
        (earlier, later) => $"((julianday({later}) - julianday({earlier})) * 86400.0)", instant => $"date({instant})",
        parameter => $"SELECT value FROM json_each({parameter})", "");

    public static readonly SqlDialect SqlServer = new("sqlserver", " OFFSET 0 ROWS FETCH NEXT @Limit ROWS ONLY", SqlServerDecisionLockSql,
        (earlier, later) => $"(CAST(DATEDIFF_BIG(millisecond, {earlier}, {later}) AS FLOAT) / 1000.0)", instant => $"CAST({instant} AS DATE)",
        parameter => $"SELECT value FROM OPENJSON({parameter}) WITH (value NVARCHAR(4000) '$')", ";\nSELECT CAST(SCOPE_IDENTITY() AS BIGINT);");

    // Returns 0 or 1 when granted, a negative number on timeout or deadlock.
    private const string SqlServerDecisionLockSql = """
        DECLARE @Result INT;
        EXEC @Result = sp_getapplock @Resource = N'partnerdeals:registration-decisions', @LockMode = N'Exclusive',
            @LockOwner = N'Transaction', @LockTimeout = @TimeoutMs;
        SELECT @Result;
        """;

    private readonly string _pageClause;
    private readonly Func<string, string, string> _secondsBetween;
    private readonly Func<string, string> _dateOf;
    private readonly Func<string, string> _textValues;

    private SqlDialect(string name, string pageClause, string? decisionLockSql, Func<string, string, string> secondsBetween, Func<string, string> dateOf,
        Func<string, string> textValues, string insertedKey)
    {
        _textValues = textValues;
        InsertedKey = insertedKey;
        Name = name;
        _pageClause = pageClause;
        DecisionLockSql = decisionLockSql;
        _secondsBetween = secondsBetween;
        _dateOf = dateOf;
    }

    public string Name { get; }

    /// <summary>
    /// Appended to a single-row INSERT into a table with an identity key, to answer the key it gave the
    /// row: SQL Server selects it; SQLite needs nothing, its rowid is read from the connection.
    /// </summary>
    public string InsertedKey { get; }

    /// <summary>Taken at the start of a decision transaction (<c>@TimeoutMs</c>); null where the write transaction already serialises.</summary>
    public string? DecisionLockSql { get; }

    /// <summary>Appends the row limit (<c>@Limit</c>) to a query that ends with its ORDER BY.</summary>
    public string Page(string sqlEndingWithOrderBy) => sqlEndingWithOrderBy + _pageClause;

    /// <summary>
    /// An insert that skips a row whose key is already there, for a table whose SQL Server key is declared
    /// WITH (IGNORE_DUP_KEY = ON): SQLite says so in the statement, SQL Server in the key.
    /// </summary>
    public string InsertIgnoringDuplicates(string table) => (this == Sqlite ? "INSERT OR IGNORE INTO " : "INSERT INTO ") + table;

    /// <summary>The seconds from one instant or date column to another, as a floating-point expression.</summary>
    public string SecondsBetween(string earlier, string later) => _secondsBetween(earlier, later);

    /// <summary>The UTC calendar day of an instant column.</summary>
    public string DateOf(string instant) => _dateOf(instant);

    /// <summary>
    /// The strings of a JSON array bound as one parameter, as a subquery of one column, <c>value</c>:
    /// for <c>IN (…)</c> over thousands of values, where a parameter per value costs more than the lookups.
    /// </summary>
    public string TextValues(string parameter) => _textValues(parameter);

    public static bool IsUniqueViolation(Exception exception) => exception switch
    {
        // SQLITE_CONSTRAINT_UNIQUE (2067) and SQLITE_CONSTRAINT_PRIMARYKEY (1555)
        SqliteException e => e.SqliteExtendedErrorCode is 2067 or 1555,
        SqlException e => e.Number is 2601 or 2627,
        _ => false,
    };

    /// <summary>The database was too busy to answer in time: worth a retry, not the caller's fault.</summary>
    public static bool IsBusy(Exception exception) => exception switch
    {
        DatabaseBusyException => true,
        // SQLITE_BUSY (5), SQLITE_LOCKED (6) after the busy timeout
        SqliteException e => e.SqliteErrorCode is 5 or 6,
        // deadlock victim, lock request timeout
        SqlException e => e.Number is 1205 or 1222,
        _ => false,
    };

    public override string ToString() => Name;
}

public sealed class DatabaseBusyException(string message) : Exception(message);
