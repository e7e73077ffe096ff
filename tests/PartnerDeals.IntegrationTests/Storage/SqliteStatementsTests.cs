using Dapper;
using PartnerDeals.Api.Infrastructure.Data;

namespace PartnerDeals.IntegrationTests.Storage;

/// <summary>
/// Bulk writes bind values straight through SQLite's API, and repeated queries run on the connection's kept
/// statements; what they store and read must be what Dapper and Microsoft.Data.Sqlite store and read for the
/// same value, or a row would read back differently by the path that wrote it.
/// </summary>
public sealed class SqliteStatementsTests
{
    private static readonly object?[] Samples =
    [
        null, "", "Zürich Straße AG", "O'Brien & Söhne", Guid.Parse("0190a000-1234-7abc-8def-0123456789ab"),
        new DateTimeOffset(2026, 11, 23, 10, 30, 15, 123, TimeSpan.FromHours(2)).AddTicks(4567),
        new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero),
        new DateOnly(2026, 2, 28), 1234.5m, 1000m, 0.0001m, -7m, 98500.10m, 79228162514264337593543950335m,
        true, false, 42, long.MaxValue, 2.5, new string('ü', 1_000), "nul\0inside",
    ];

    // A value equal to the row before's is not bound again: each must still be stored, and an equal value
    // of another type or spelling (1 and 1L, 1m and 1.00m, 0.0 and -0.0) stored as its own binding would be.
    private static readonly object?[] Repeats =
    [
        "same", "same", null, null, "same", "", "", 1, 1L, 1L, 1m, 1.00m, 0.0, -0.0, -0.0, Guid.Empty, Guid.Empty,
        new DateTimeOffset(2026, 11, 23, 12, 0, 0, TimeSpan.FromHours(1)), new DateTimeOffset(2026, 11, 23, 11, 0, 0, TimeSpan.Zero), null,
    ];

    private static IEnumerable<TestCaseData> SampleSets()
    {
        yield return new TestCaseData((object)Samples).SetArgDisplayNames("every type");
        yield return new TestCaseData((object)Repeats).SetArgDisplayNames("repeated values");
    }

    [TestCaseSource(nameof(SampleSets))]
    public async Task ExecuteEach_StoresEveryValueAsDapperWouldBindIt(object?[] samples)
    {
        await using var db = await TestDatabase.CreateAsync(DatabaseProvider.Sqlite);
        await using var connection = await db.Database.OpenAsync(CancellationToken.None);
        // One column of each SQLite affinity the schema uses.
        await connection.ExecuteAsync("CREATE TABLE bound (path TEXT NOT NULL, n INTEGER NOT NULL, t TEXT, num NUMERIC, i INTEGER, r REAL)");
        const string insert = "INSERT INTO bound (path, n, t, num, i, r) VALUES (@Path, @N, @Value, @Value, @Value, @Value)";

        await using (var tx = await db.Database.BeginWriteAsync(connection, CancellationToken.None))
        {
            await tx.ExecuteEachAsync(insert, ["@Path", "@N", "@Value"], samples.Select((value, n) => (value, n)),
                (row, v) => (v[0], v[1], v[2]) = ("raw", row.n, row.value), CancellationToken.None);
            for (var n = 0; n < samples.Length; n++)
            {
                var parameters = new DynamicParameters(new { Path = "dapper", N = n });
                parameters.Add("Value", samples[n]);
                await connection.ExecuteAsync(insert, parameters, tx.Transaction);
            }
            await tx.CommitAsync();
        }

        const string read = """
            SELECT n || ': ' || typeof(t) || ' ' || quote(t) || ' | ' || typeof(num) || ' ' || quote(num) || ' | '
                || typeof(i) || ' ' || quote(i) || ' | ' || typeof(r) || ' ' || quote(r)
            FROM bound WHERE path = @Path ORDER BY n
            """;
        var byDapper = (await connection.QueryAsync<string>(read, new { Path = "dapper" })).ToList();
        var byRaw = (await connection.QueryAsync<string>(read, new { Path = "raw" })).ToList();
        byDapper.Count.ShouldBe(samples.Length);
        byRaw.ShouldBe(byDapper);
    }

    [Test]
    public async Task RepeatedQuery_ColumnStoredAsAnIntegerThenAsAReal_ReadsBothOnOneConnection()
    {
        await using var db = await TestDatabase.CreateAsync(DatabaseProvider.Sqlite);
        await using var connection = await db.Database.OpenAsync(CancellationToken.None);
        // A NUMERIC column keeps 1 as an integer and 0.98 as a real: one kept statement reads both kinds.
        await connection.ExecuteAsync("CREATE TABLE scored (id INTEGER PRIMARY KEY, score NUMERIC NOT NULL)");
        await connection.ExecuteAsync("INSERT INTO scored (id, score) VALUES (1, 1), (2, 0.98), (3, 1)");
        await using var session = await db.Database.BeginWriteAsync(connection, CancellationToken.None);

        var scores = new List<double>();
        foreach (var id in new[] { 1, 2, 3, 2 })
        {
            var rows = await session.QueryRepeatedAsync<Scored>("SELECT id, score FROM scored WHERE id = @Id", [("@Id", id)], CancellationToken.None);
            scores.Add(rows.Single().Score);
        }

        scores.ShouldBe([1, 0.98, 1, 0.98]);
    }

    private sealed record Scored
    {
        public long Id { get; init; }
        public double Score { get; init; }
    }

    [Test]
    public async Task ExecuteEach_ConstraintViolation_ThrowsAndWritesNothingOnRollback()
    {
        await using var db = await TestDatabase.CreateAsync(DatabaseProvider.Sqlite);
        await using var connection = await db.Database.OpenAsync(CancellationToken.None);
        await connection.ExecuteAsync("CREATE TABLE unique_names (name TEXT NOT NULL PRIMARY KEY)");

        await using (var tx = await db.Database.BeginWriteAsync(connection, CancellationToken.None))
        {
            var failure = await Should.ThrowAsync<Microsoft.Data.Sqlite.SqliteException>(() => tx.ExecuteEachAsync(
                "INSERT INTO unique_names (name) VALUES (@Name)", ["@Name"], new[] { "a", "b", "a" }, (row, v) => v[0] = row, CancellationToken.None));
            SqlDialect.IsUniqueViolation(failure).ShouldBeTrue(failure.Message);
        }

        (await connection.ExecuteScalarAsync<long>("SELECT COUNT(*) FROM unique_names")).ShouldBe(0);
    }
}
