using System.Net;
using System.Net.Http.Json;
using System.Text.RegularExpressions;
using Dapper;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Data.Sqlite;
using PartnerDeals.IntegrationTests.Support;

namespace PartnerDeals.IntegrationTests;

/// <summary>Start-up on an empty and on an existing database: migrations, readiness, and the first admin key.</summary>
[NonParallelizable] // captures the process's console
public sealed partial class StartupTests
{
    private static readonly int MigrationCount = typeof(Program).Assembly.GetManifestResourceNames()
        .Count(n => n.Contains(".Migrations.Sqlite.", StringComparison.Ordinal));

    [Test]
    public async Task Startup_OnEmptyDatabase_AppliesEveryMigrationAndIsReady()
    {
        using var factory = new ApiFactory();
        try
        {
            using var client = factory.Client(null);
            var ready = await client.GetAsync("/health/ready");
            ready.StatusCode.ShouldBe(HttpStatusCode.OK, await ready.Content.ReadAsStringAsync());
            (await ready.Content.ReadAsStringAsync()).ShouldContain("\"status\":\"Healthy\"");
            AppliedMigrations(factory).ShouldBe(MigrationCount);
            JournalMode(factory).ShouldBe("wal");
        }
        finally
        {
            factory.DeleteDatabase();
        }
    }

    [Test]
    public async Task Restart_OnExistingDatabase_KeepsDataAndAppliesNothingAgain()
    {
        var first = new ApiFactory();
        string partnerId;
        using (var admin = first.Client(ApiFactory.AdminKey))
        {
            var response = await admin.PostAsJsonAsync("/v1/partners", new { name = "Survivor Ltd", type = "msp", tier = "gold", contactEmail = "a@b.example" });
            response.StatusCode.ShouldBe(HttpStatusCode.Created);
            partnerId = (await response.Content.ReadFromJsonAsync<Dictionary<string, object>>())!["id"].ToString()!;
        }
        await first.DisposeAsync();

        using var second = new ApiFactory(databasePath: first.DatabasePath);
        try
        {
            using var admin = second.Client(ApiFactory.AdminKey);
            (await admin.GetAsync("/health/ready")).StatusCode.ShouldBe(HttpStatusCode.OK);
            (await admin.GetAsync($"/v1/partners/{partnerId}")).StatusCode.ShouldBe(HttpStatusCode.OK);
            AppliedMigrations(second).ShouldBe(MigrationCount);
            var keys = await admin.GetStringAsync("/v1/api-keys?role=admin");
            Regex.Matches(keys, "\"prefix\"").Count.ShouldBe(1); // the bootstrap key was not installed twice
        }
        finally
        {
            second.DeleteDatabase();
        }
    }

    [Test]
    public async Task Development_EmptyDatabaseWithoutBootstrapKey_PrintsAWorkingAdminKeyOnce()
    {
        var original = Console.Out;
        var captured = new StringWriter();
        var settings = new Dictionary<string, string?> { ["Auth:BootstrapAdminKey"] = "" };
        var first = new DevelopmentFactory(settings);
        try
        {
            Console.SetOut(captured);
            using (var anonymous = first.Client(null))
            {
                (await anonymous.GetAsync("/health/live")).StatusCode.ShouldBe(HttpStatusCode.OK);
            }
            var key = PrintedKey().Match(captured.ToString()).Value;
            key.ShouldNotBeNullOrEmpty("no admin key was printed");

            using (var admin = first.Client(key))
            {
                (await admin.GetAsync("/v1/api-keys")).StatusCode.ShouldBe(HttpStatusCode.OK);
            }
            await first.DisposeAsync();

            captured.GetStringBuilder().Clear();
            using var second = new DevelopmentFactory(settings, first.DatabasePath);
            using (var anonymous = second.Client(null))
            {
                (await anonymous.GetAsync("/health/live")).StatusCode.ShouldBe(HttpStatusCode.OK);
            }
            PrintedKey().IsMatch(captured.ToString()).ShouldBeFalse("a second key was printed on restart");
        }
        finally
        {
            Console.SetOut(original);
            first.DeleteDatabase();
        }
    }

    [Test]
    public async Task Operations_EndpointsAnswerWithoutKey()
    {
        using var factory = new ApiFactory();
        try
        {
            using var client = factory.Client(null);
            (await client.GetAsync("/health/live")).StatusCode.ShouldBe(HttpStatusCode.OK);
            (await client.GetAsync("/swagger/index.html")).StatusCode.ShouldBe(HttpStatusCode.OK);
            await client.GetAsync("/v1/partners");
            var metrics = await client.GetAsync("/metrics");
            metrics.StatusCode.ShouldBe(HttpStatusCode.OK);
            (await metrics.Content.ReadAsStringAsync()).ShouldContain("http_server_request_duration");
        }
        finally
        {
            factory.DeleteDatabase();
        }
    }

    [GeneratedRegex("pd_[0-9a-f]{8}_[0-9a-f]{64}")]
    private static partial Regex PrintedKey();

    private static long AppliedMigrations(ApiFactory factory)
    {
        using var connection = new SqliteConnection(factory.ConnectionString);
        return connection.ExecuteScalar<long>("SELECT COUNT(*) FROM SchemaVersions");
    }

    private static string JournalMode(ApiFactory factory)
    {
        using var connection = new SqliteConnection(factory.ConnectionString);
        return connection.ExecuteScalar<string>("PRAGMA journal_mode")!;
    }

    private sealed class DevelopmentFactory(IDictionary<string, string?> settings, string? databasePath = null)
        : ApiFactory(settings, databasePath)
    {
        protected override void ConfigureWebHost(IWebHostBuilder builder)
        {
            base.ConfigureWebHost(builder);
            builder.UseEnvironment("Development");
        }
    }
}
