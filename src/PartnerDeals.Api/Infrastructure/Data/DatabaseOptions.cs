using System.ComponentModel.DataAnnotations;

namespace PartnerDeals.Api.Infrastructure.Data;

public enum DatabaseProvider
{
    Sqlite,
    SqlServer,
}

/// <summary>Bound from the <c>Database</c> section; the connection string comes from <c>ConnectionStrings:PartnerDeals</c>.</summary>
public sealed class DatabaseOptions
{
    public const string Section = "Database";
    public const string ConnectionStringName = "PartnerDeals";
    public const string DefaultSqliteConnectionString = "Data Source=data/partnerdeals.db";

    public DatabaseProvider Provider { get; set; } = DatabaseProvider.Sqlite;

    [Required]
    public string ConnectionString { get; set; } = "";

    /// <summary>
    /// SQLite <c>synchronous</c> pragma. <c>full</c> fsyncs every commit so an acknowledged write
    /// survives power loss; <c>normal</c> survives a process crash only (WAL).
    /// </summary>
    [RegularExpression("^(full|normal)$", ErrorMessage = "Database:SqliteSynchronous must be 'full' or 'normal'.")]
    public string SqliteSynchronous { get; set; } = "full";

    /// <summary>How long a SQLite writer waits for the write lock before giving up.</summary>
    [Range(100, 120_000)]
    public int SqliteBusyTimeoutMs { get; set; } = 5_000;

    [Range(1, 600)]
    public int CommandTimeoutSeconds { get; set; } = 30;
}
