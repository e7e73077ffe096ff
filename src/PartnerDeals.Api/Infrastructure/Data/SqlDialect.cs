using Microsoft.Data.SqlClient;
using Microsoft.Data.Sqlite;

namespace PartnerDeals.Api.Infrastructure.Data;

/// <summary>
/// Every difference between the SQLite and SQL Server SQL the features write. Queries are written
/// once in the common subset; only what is listed here varies.
/// </summary>
public sealed class SqlDialect
{
    public static readonly SqlDialect Sqlite = new("sqlite", " LIMIT @Limit");
    public static readonly SqlDialect SqlServer = new("sqlserver", " OFFSET 0 ROWS FETCH NEXT @Limit ROWS ONLY");

    private readonly string _pageClause;

    private SqlDialect(string name, string pageClause)
    {
        Name = name;
        _pageClause = pageClause;
    }

    public string Name { get; }

    /// <summary>Appends the row limit (<c>@Limit</c>) to a query that ends with its ORDER BY.</summary>
    public string Page(string sqlEndingWithOrderBy) => sqlEndingWithOrderBy + _pageClause;

    public static bool IsUniqueViolation(Exception exception) => exception switch
    {
        // SQLITE_CONSTRAINT_UNIQUE (2067) and SQLITE_CONSTRAINT_PRIMARYKEY (1555)
        SqliteException e => e.SqliteExtendedErrorCode is 2067 or 1555,
        SqlException e => e.Number is 2601 or 2627,
        _ => false,
    };

    public override string ToString() => Name;
}
