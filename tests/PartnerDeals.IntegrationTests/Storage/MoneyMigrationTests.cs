using System.Text.Json.Nodes;
using DbUp;
using Microsoft.Data.Sqlite;
using PartnerDeals.Api.Infrastructure.Data;
using PartnerDeals.IntegrationTests.Support;

namespace PartnerDeals.IntegrationTests.Storage;

/// <summary>A database written before money was stored exactly (migrations up to 0011) upgrades with its amounts as they read before.</summary>
public sealed class MoneyMigrationTests
{
    [Test]
    public async Task Upgrade_OfAmountsStoredAsNumbers_KeepsTheirValuesAsExactText()
    {
        var path = Path.Combine(Path.GetTempPath(), "partnerdeals-tests", Guid.NewGuid().ToString("N"), "upgrade.db");
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        var connectionString = $"Data Source={path}";
        var before = DeployChanges.To.SqliteDatabase(connectionString)
            .WithScriptsEmbeddedInAssembly(typeof(Migrator).Assembly,
                name => name.Contains(".Migrations.Sqlite.", StringComparison.Ordinal) && string.CompareOrdinal(name[(name.IndexOf(".Sqlite.", StringComparison.Ordinal) + 8)..], "0012") < 0)
            .WithTransactionPerScript().LogToNowhere().Build().PerformUpgrade();
        before.Successful.ShouldBeTrue(before.Error?.ToString());
        await using (var connection = new SqliteConnection(connectionString))
        {
            await connection.OpenAsync();
            await using var insert = connection.CreateCommand();
            insert.CommandText = """
                INSERT INTO opportunities (id, source, external_id, account_name, status, amount, currency, name_key, name_acronym, name_tokens,
                    version, created_at, updated_at)
                VALUES ('01a20000-0000-7000-8000-000000000001', 'salesforce', 'real', 'Real Amount', 'open', 98500.1, 'EUR', 'real amount', 'ra', 'real amount', 1,
                        '2026-11-01T00:00:00Z', '2026-11-01T00:00:00Z'),
                       ('01a20000-0000-7000-8000-000000000002', 'salesforce', 'integer', 'Integer Amount', 'open', 20000, 'EUR', 'integer amount', 'ia', 'integer amount', 1,
                        '2026-11-01T00:00:00Z', '2026-11-01T00:00:00Z'),
                       ('01a20000-0000-7000-8000-000000000003', 'salesforce', 'none', 'No Amount', 'open', NULL, NULL, 'no amount', 'na', 'no amount', 1,
                        '2026-11-01T00:00:00Z', '2026-11-01T00:00:00Z');
                """;
            await insert.ExecuteNonQueryAsync();
        }

        using var factory = new ApiFactory(databasePath: path);
        using var admin = factory.Client(ApiFactory.AdminKey);
        async Task<string> AmountAsync(string externalId) =>
            JsonNode.Parse(await admin.GetStringAsync($"/v1/opportunities/salesforce/{externalId}"))!["amount"]?.ToJsonString() ?? "null";

        (await AmountAsync("real")).ShouldBe("98500.1");
        (await AmountAsync("integer")).ShouldBe("20000");
        (await AmountAsync("none")).ShouldBe("null");
        await using (var connection = new SqliteConnection(connectionString))
        {
            await connection.OpenAsync();
            await using var types = connection.CreateCommand();
            types.CommandText = "SELECT group_concat(typeof(amount), ',') FROM (SELECT amount FROM opportunities ORDER BY id)";
            ((string)(await types.ExecuteScalarAsync())!).ShouldBe("text,text,null");
        }
        factory.DeleteDatabase();
    }
}
