using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.DependencyInjection;

namespace PartnerDeals.IntegrationTests.Support;

/// <summary>
/// The real application on a fresh SQLite file of its own, in the "Testing" environment, with a
/// known bootstrap admin key. Settings given to the constructor override the defaults. The one test host: it
/// hands out clients (admin, a key of any role, a new partner with its own key) and disposes them with itself.
/// </summary>
public class ApiFactory : WebApplicationFactory<Program>
{
    public const string AdminKey = "pd_testboot_0123456789abcdef0123456789abcdef0123456789abcdef";

    private readonly Dictionary<string, string?> _settings;
    private readonly TimeProvider? _clock;

    /// <param name="settings">Configuration overriding the defaults.</param>
    /// <param name="databasePath">A SQLite file to share with another factory (another "instance"); a fresh one by default.</param>
    /// <param name="clock">The service's clock, e.g. a FakeTimeProvider; the system clock by default.</param>
    public ApiFactory(IDictionary<string, string?>? settings = null, string? databasePath = null, TimeProvider? clock = null)
    {
        _clock = clock;
        DatabasePath = databasePath ?? Path.Combine(Path.GetTempPath(), "partnerdeals-tests", Guid.NewGuid().ToString("N"), "partnerdeals.db");
        _settings = new Dictionary<string, string?>
        {
            ["ConnectionStrings:PartnerDeals"] = $"Data Source={DatabasePath}",
            ["Auth:BootstrapAdminKey"] = AdminKey,
            ["RateLimiting:Enabled"] = "false",
            // A partner's check quota has its own tests (PreCheckQuotaTests); elsewhere a partner checks and registers as often as a test needs.
            ["ConflictChecks:PartnerQuota:PerMinute"] = "100000",
            ["ConflictChecks:PartnerQuota:PerDay"] = "1000000",
        };
        foreach (var (key, value) in settings ?? new Dictionary<string, string?>()) _settings[key] = value;
    }

    public string DatabasePath { get; }

    /// <summary>Extra services for the host, e.g. a logger provider that captures every line.</summary>
    public Action<IServiceCollection>? TestServices { get; init; }

    public string ConnectionString => $"Data Source={DatabasePath}";

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        builder.UseEnvironment("Testing");
        foreach (var (key, value) in _settings) builder.UseSetting(key, value);
        builder.ConfigureServices(services =>
        {
            services.AddSingleton<IStartupFilter, FailingEndpoint>();
            if (_clock is not null) services.AddSingleton(_clock);
            TestServices?.Invoke(services);
        });
    }

    public HttpClient Client(string? apiKey)
    {
        var client = CreateDefaultClient(new ContractCheck());
        if (apiKey is not null) client.DefaultRequestHeaders.Add("X-Api-Key", apiKey);
        return client;
    }

    private readonly List<HttpClient> _clients = [];
    private HttpClient? _admin;

    /// <summary>A client with the bootstrap admin key, made once.</summary>
    public HttpClient Admin => _admin ??= Client(AdminKey);

    /// <summary>A client with <paramref name="apiKey"/>, disposed with the host.</summary>
    public HttpClient ClientFor(string apiKey)
    {
        var client = Client(apiKey);
        lock (_clients) _clients.Add(client);
        return client;
    }

    /// <summary>A new partner (a unique name unless given), added by the admin.</summary>
    public async Task<JsonObject> CreatePartnerAsync(string? name = null, string type = "reseller", string tier = "silver", object? terms = null)
    {
        var response = await Admin.PostAsJsonAsync("/v1/partners", new
        {
            name = name ?? $"Partner {Guid.NewGuid().ToString("N")[..8]}",
            type,
            tier,
            contactEmail = "alliances@partner.example",
            terms,
        });
        response.StatusCode.ShouldBe(HttpStatusCode.Created, await response.Content.ReadAsStringAsync());
        return JsonNode.Parse(await response.Content.ReadAsStringAsync())!.AsObject();
    }

    public async Task<string> IssuePartnerKeyAsync(string partnerId)
    {
        var response = await Admin.PostAsJsonAsync($"/v1/partners/{partnerId}/api-keys", new { name = "portal" });
        response.StatusCode.ShouldBe(HttpStatusCode.Created, await response.Content.ReadAsStringAsync());
        return JsonNode.Parse(await response.Content.ReadAsStringAsync())!.Get<string>("key");
    }

    /// <summary>A new key of <paramref name="role"/> (ops, crm, admin): its id and secret.</summary>
    public async Task<(string Id, string Key)> IssueKeyAsync(string role)
    {
        var response = await Admin.PostAsJsonAsync("/v1/api-keys", new { name = $"{role} key", role });
        response.StatusCode.ShouldBe(HttpStatusCode.Created, await response.Content.ReadAsStringAsync());
        var body = JsonNode.Parse(await response.Content.ReadAsStringAsync())!;
        return (body.Get<string>("id"), body.Get<string>("key"));
    }

    /// <summary>A client with a new key of <paramref name="role"/>.</summary>
    public async Task<HttpClient> ClientOfRoleAsync(string role) => ClientFor((await IssueKeyAsync(role)).Key);

    /// <summary>A new partner of <paramref name="tier"/> and a client with a key of its own.</summary>
    public async Task<PartnerClient> PartnerAsync(string tier = "silver", object? terms = null)
    {
        var partner = await CreatePartnerAsync(tier: tier, terms: terms);
        var id = partner.Get<string>("id");
        return new PartnerClient(id, ClientFor(await IssuePartnerKeyAsync(id)));
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            lock (_clients) foreach (var client in _clients) client.Dispose();
            _admin?.Dispose();
        }
        base.Dispose(disposing);
    }

    /// <summary>Deletes the database folder; other factories may still share it when given the same path.</summary>
    public void DeleteDatabase()
    {
        SqliteConnection.ClearAllPools();
        var folder = Path.GetDirectoryName(DatabasePath)!;
        // Only a folder made for one test's database goes whole; a file elsewhere (say, straight in /tmp) goes alone.
        if (Path.GetFileName(Path.GetDirectoryName(folder)) == "partnerdeals-tests")
        {
            if (Directory.Exists(folder)) Directory.Delete(folder, recursive: true);
            return;
        }
        foreach (var suffix in new[] { "", "-wal", "-shm" }) File.Delete(DatabasePath + suffix);
    }

    /// <summary>
    /// A path no route answers, which throws: the only way to see what the service does with an
    /// unhandled exception. It sits after the application's own pipeline, inside its exception handler.
    /// </summary>
    private sealed class FailingEndpoint : IStartupFilter
    {
        public const string Path = "/test/unhandled";

        public Action<IApplicationBuilder> Configure(Action<IApplicationBuilder> next) => app =>
        {
            next(app);
            app.Use((http, nextMiddleware) => http.Request.Path == Path
                ? throw new InvalidOperationException("secret internal detail: connection string Password=hunter2")
                : nextMiddleware(http));
        };
    }
}

/// <summary>A partner and a client holding a key of its own.</summary>
public sealed record PartnerClient(string Id, HttpClient Client);
