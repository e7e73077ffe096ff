using System.Net;
using System.Net.Http.Json;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using PartnerDeals.IntegrationTests.Support;
using PartnerDeals.Matching;
using static PartnerDeals.IntegrationTests.Support.RegistrationCalls;

namespace PartnerDeals.IntegrationTests.Registrations;

/// <summary>
/// Rows whose matching keys an older normaliser wrote ("Contoso Pharmaceuticals" keyed "contosopharmaceuticals")
/// get today's keys when the service starts, in the background, and are then found by them.
/// </summary>
public sealed class OlderMatchingKeysTests : HostTest
{
    [Test]
    public async Task Start_WithKeysOfAnOlderNormaliser_WritesThemAgainAndChecksFindTheRows()
    {
        using var crm = Factory.Client((await IssueKeyAsync("crm")).Key);
        (await crm.PutAsJsonAsync("/v1/opportunities/salesforce/older-keys",
            new { accountName = "Woodgrove Pharmaceuticals GmbH", country = "DE", status = "open" })).StatusCode.ShouldBe(HttpStatusCode.Created);
        var holder = await PartnerAsync("gold");
        var claim = await RegisterAsync(holder.Client, Body("Tailwind Laboratories AG", null));
        Status(claim).ShouldBe("approved");
        await WithKeysOfVersionOneAsync();

        var logs = new CapturedLogs();
        using var restarted = new ApiFactory(databasePath: Factory.DatabasePath)
        {
            TestServices = services => services.AddLogging(b => b.AddProvider(logs)),
        };
        using var started = restarted.Client(ApiFactory.AdminKey); // a client starts the second instance
        await WaitUntilCurrentAsync(restarted.ConnectionString, logs);

        (await KeyOfAsync("opportunities", "account_name = 'Woodgrove Pharmaceuticals GmbH'")).ShouldBe("woodgrovepharma");
        (await KeyOfAsync("registrations", "company_name = 'Tailwind Laboratories AG'")).ShouldBe("tailwindlaboratory");
        var partner = await CreatePartnerAsync(tier: "gold");
        using var client = restarted.Client(await IssuePartnerKeyAsync(partner.Get<string>("id")));
        var direct = await RegisterAsync(client, Body("Woodgrove Pharma GmbH", null));
        direct.Get<string>("verdict").ShouldBe("conflict");
        var behind = await RegisterAsync(client, Body("Tailwind Labs AG", null));
        behind.Get<string>("verdict").ShouldBe("conflict");
    }

    // As the normaliser before word forms wrote them: "pharmaceuticals" and "laboratories" as written, not as "pharma"
    // and "laboratory"; and the refresh not yet run.
    private async Task WithKeysOfVersionOneAsync()
    {
        await using var connection = new SqliteConnection(Factory.ConnectionString);
        await connection.OpenAsync();
        await using var command = connection.CreateCommand();
        command.CommandText = """
            UPDATE opportunities SET name_key = 'woodgrovepharmaceuticals', name_tokens = 'woodgrove pharmaceuticals'
            WHERE account_name = 'Woodgrove Pharmaceuticals GmbH';
            DELETE FROM opportunity_tokens WHERE token = 'pharma'
              AND opportunity_seq = (SELECT seq FROM opportunities WHERE account_name = 'Woodgrove Pharmaceuticals GmbH');
            INSERT INTO opportunity_tokens (token, opportunity_seq)
            SELECT 'pharmaceuticals', seq FROM opportunities WHERE account_name = 'Woodgrove Pharmaceuticals GmbH';
            UPDATE registrations SET name_key = 'tailwindlaboratories', name_tokens = 'tailwind laboratories'
            WHERE company_name = 'Tailwind Laboratories AG';
            DELETE FROM registration_tokens WHERE token = 'laboratory'
              AND registration_id = (SELECT id FROM registrations WHERE company_name = 'Tailwind Laboratories AG');
            INSERT INTO registration_tokens (token, registration_id)
            SELECT 'laboratories', id FROM registrations WHERE company_name = 'Tailwind Laboratories AG';
            UPDATE matching_keys SET version = 1, refreshing_to = 1, after_seq = 0;
            """;
        (await command.ExecuteNonQueryAsync()).ShouldBeGreaterThan(0);
    }

    private async Task<string?> KeyOfAsync(string table, string where)
    {
        await using var connection = new SqliteConnection(Factory.ConnectionString);
        await connection.OpenAsync();
        await using var command = connection.CreateCommand();
        command.CommandText = $"SELECT name_key FROM {table} WHERE {where}";
        return (string?)await command.ExecuteScalarAsync();
    }

    private static async Task WaitUntilCurrentAsync(string connectionString, CapturedLogs logs)
    {
        await Eventually.UntilAsync(
            async () =>
            {
                await using var connection = new SqliteConnection(connectionString);
                await connection.OpenAsync();
                await using var command = connection.CreateCommand();
                command.CommandText = "SELECT COUNT(*) FROM matching_keys WHERE version = $version";
                command.Parameters.AddWithValue("$version", CompanyName.KeysVersion);
                return (Rows: (long)(await command.ExecuteScalarAsync())!, Log: string.Join("\n", logs.Lines.Where(l => l.Contains("MatchingKeys"))));
            },
            current => current.Rows == 2, "the matching keys to be written again", TimeSpan.FromSeconds(20));
    }
}
