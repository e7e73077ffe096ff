using System.Net;
using System.Net.Http.Json;
using System.Text.RegularExpressions;
using Dapper;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.DependencyInjection;
using PartnerDeals.IntegrationTests.Support;

namespace PartnerDeals.IntegrationTests;

/// <summary>Start-up on an empty and on an existing database: migrations, readiness, and the first admin key.</summary>
[NonParallelizable] // captures the process's console
public sealed partial class StartupTests
{
    private static readonly int MigrationCount = typeof(Program).Assembly.GetManifestResourceNames()
        .Count(n => n.Contains(".Migrations.Sqlite.", StringComparison.Ordinal));

    [TestCase("Products:Lines:analytics:0", "Vault", "Products:Lines:security:0", "vault")]
    [TestCase("Products:Lines:analytics:0", " ", null, null)]
    [TestCase("Registrations:Policy:ConflictScope", "products", null, null)]
    [TestCase("Webhooks:Timeout", "00:00:00", null, null)]
    [TestCase("Webhooks:RetrySchedule:0", "-00:00:01", null, null)]
    [TestCase("Crm:HubSpot:Pipeline:Enabled", "true", null, null)]
    [TestCase("Crm:Dynamics:Pipeline:Enabled", "true", "Crm:Dynamics:Pipeline:Interval", "00:00:00")]
    [TestCase("Crm:HubSpot:SearchesPerSecond", "0", null, null)]
    public void Startup_WithABadSetting_StopsBeforeServing(string key, string value, string? otherKey, string? otherValue)
    {
        var settings = new Dictionary<string, string?> { [key] = value };
        if (otherKey is not null) settings[otherKey] = otherValue;
        using var factory = new ApiFactory(settings);
        try
        {
            var failure = Should.Throw<Exception>(() => factory.CreateClient());
            failure.ToString().ShouldContain("OptionsValidationException");
        }
        finally
        {
            factory.DeleteDatabase();
        }
    }

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
    public async Task Production_EmptyDatabaseWithoutBootstrapKey_SaysInOneLineHowToCreateOne()
    {
        var logs = new CapturedLogs();
        var factory = new ProductionFactory(new Dictionary<string, string?> { ["Auth:BootstrapAdminKey"] = "" }) { TestServices = s => s.AddSingleton<Microsoft.Extensions.Logging.ILoggerProvider>(logs) };
        try
        {
            using var anonymous = factory.Client(null);
            (await anonymous.GetAsync("/health/live")).StatusCode.ShouldBe(HttpStatusCode.OK);
            var said = logs.Lines.Where(l => l.Contains("BootstrapAdminKey", StringComparison.Ordinal)).ToList();
            said.ShouldHaveSingleItem();
            said[0].ShouldContain("nobody can call the API");
            said[0].ShouldContain("Auth__BootstrapAdminKey");
            said[0].ShouldNotContain("\n");
        }
        finally
        {
            await factory.DisposeAsync();
            factory.DeleteDatabase();
        }
    }

    [Test]
    public async Task Start_OnAPortAlreadyTaken_SaysSoInOneLineAndExitsNonZero()
    {
        using var taken = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        taken.Start();
        var port = ((System.Net.IPEndPoint)taken.LocalEndpoint).Port;
        var folder = Directory.CreateTempSubdirectory("partnerdeals-port-");
        try
        {
            var (exitCode, output, errors) = await ApiProcess.RunUntilExitAsync(Path.Combine(folder.FullName, "p.db"), port, TimeSpan.FromSeconds(60));

            exitCode.ShouldNotBe(0);
            var said = (output + errors).Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
            said.ShouldHaveSingleItem($"one line, not: {output}{errors}");
            said[0].ShouldStartWith("PartnerDeals did not start:");
            said[0].ShouldContain($"127.0.0.1:{port} is already in use");
            said[0].ShouldContain("--urls");
        }
        finally
        {
            SqliteConnection.ClearAllPools();
            folder.Delete(recursive: true);
        }
    }

    [TestCase("not-a-database", "is not a PartnerDeals database")]
    [TestCase("missing-folder", "cannot be created")]
    [TestCase("bad-setting", "a setting is invalid")]
    public async Task Start_ThatCannotProceed_SaysWhyInOneLineAndExitsNonZero(string fault, string cause)
    {
        var folder = Directory.CreateTempSubdirectory("partnerdeals-start-");
        var database = Path.Combine(folder.FullName, "p.db");
        var settings = new Dictionary<string, string>();
        switch (fault)
        {
            case "not-a-database":
                await File.WriteAllTextAsync(database, new string('x', 8192)); // a file of something else, where the database should be
                break;
            case "missing-folder":
                await File.WriteAllTextAsync(Path.Combine(folder.FullName, "file"), "");
                database = Path.Combine(folder.FullName, "file", "p.db"); // under a file, so no folder can be made
                break;
            case "bad-setting":
                settings["Webhooks:Timeout"] = "00:00:00";
                break;
        }
        using var free = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        free.Start();
        var port = ((System.Net.IPEndPoint)free.LocalEndpoint).Port;
        free.Stop();
        try
        {
            var (exitCode, output, errors) = await ApiProcess.RunUntilExitAsync(database, port, TimeSpan.FromSeconds(60), settings);

            exitCode.ShouldNotBe(0);
            var said = (output + errors).Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
            said.ShouldHaveSingleItem($"one line, not: {output}{errors}");
            said[0].ShouldStartWith("PartnerDeals did not start:");
            said[0].ShouldContain(cause);
        }
        finally
        {
            SqliteConnection.ClearAllPools();
            folder.Delete(recursive: true);
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

    [Test]
    public async Task Upgrade_FromTokenRowsById_KeepsEveryOpportunityAndFindsItByItsTokens()
    {
        // A file as 0007 left it: token rows refer to their opportunity by its text id.
        // In a folder of its own: DeleteDatabase removes the file's whole folder.
        var path = Path.Combine(Path.GetTempPath(), "partnerdeals-tests", Guid.NewGuid().ToString("N"), "partnerdeals.db");
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        var before = DbUp.DeployChanges.To.SqliteDatabase($"Data Source={path}")
            .WithScriptsEmbeddedInAssembly(typeof(Program).Assembly, n =>
                n.Contains(".Migrations.Sqlite.", StringComparison.Ordinal) && string.CompareOrdinal(n.Split('.')[^2], "0008") < 0)
            .WithTransactionPerScript().LogToNowhere().Build().PerformUpgrade();
        before.Successful.ShouldBeTrue(before.Error?.ToString());
        var (wonId, openId) = ("0190a000-0000-7000-8000-000000000001", "0190a000-0000-7000-8000-000000000002");
        using (var connection = new SqliteConnection($"Data Source={path}"))
        {
            connection.Execute("""
                INSERT INTO opportunities (id, source, external_id, account_name, account_domain, company_domain, country, status, amount, currency,
                    close_date, name_key, name_acronym, name_tokens, version, created_at, updated_at)
                VALUES (@Id, 'salesforce', @ExternalId, @Name, NULL, NULL, 'DE', @Status, 5000, 'EUR', @CloseDate, @Key, '', @Tokens, 1,
                    '2026-11-01 09:00:00+00:00', '2026-11-01 09:00:00+00:00')
                """, new[]
            {
                new { Id = wonId, ExternalId = "006A", Name = "Zyphorion Global GmbH", Status = "won", CloseDate = (string?)"2026-10-30", Key = "zyphorionglobal", Tokens = "zyphorion global" },
                new { Id = openId, ExternalId = "006B", Name = "Quendral Systems AG", Status = "open", CloseDate = (string?)null, Key = "quendralsystems", Tokens = "quendral systems" },
            });
            connection.Execute("INSERT INTO opportunity_tokens (token, opportunity_id) VALUES (@Token, @Id)", new[]
            {
                new { Token = "zyphorion", Id = wonId }, new { Token = "global", Id = wonId },
                new { Token = "quendral", Id = openId }, new { Token = "systems", Id = openId },
            });
        }
        SqliteConnection.ClearAllPools();

        using var factory = new ApiFactory(databasePath: path);
        try
        {
            using var admin = factory.Client(ApiFactory.AdminKey);
            (await admin.GetAsync("/health/ready")).StatusCode.ShouldBe(HttpStatusCode.OK);
            AppliedMigrations(factory).ShouldBe(MigrationCount);
            (await admin.GetStringAsync("/v1/opportunities/salesforce/006A")).ShouldContain("\"status\":\"won\"");

            // Other names than the stored ones, so only the shared rare token can find each.
            foreach (var (name, id) in new[] { ("Zyphorion Dynamics", wonId), ("Quendral Robotics", openId) })
            {
                var check = await admin.PostAsJsonAsync("/v1/conflict-checks", new { companyName = name, country = "DE" });
                (await check.Content.ReadAsStringAsync()).ShouldContain($"\"id\":\"{id}\"");
            }

            // "systems" as the rows were written, or "system" once the refresh to today's normaliser has written them again.
            using var connection = new SqliteConnection(factory.ConnectionString);
            connection.ExecuteScalar<long>("""
                SELECT COUNT(*) FROM opportunity_tokens t JOIN opportunities o ON o.seq = t.opportunity_seq
                WHERE (o.id = @wonId AND t.token IN ('zyphorion', 'global')) OR (o.id = @openId AND t.token IN ('quendral', 'systems', 'system'))
                """, new { wonId, openId }).ShouldBe(4);
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

    private sealed class ProductionFactory(IDictionary<string, string?> settings) : ApiFactory(settings)
    {
        protected override void ConfigureWebHost(IWebHostBuilder builder)
        {
            base.ConfigureWebHost(builder);
            builder.UseEnvironment("Production");
        }
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
