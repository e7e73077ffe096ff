using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json.Nodes;

namespace PartnerDeals.IntegrationTests.Support;

/// <summary>
/// Base of the host tests: one real application and database per fixture, and the calls most tests
/// make. Each test creates the data it needs with unique names, so tests in a fixture stay independent.
/// </summary>
public abstract class HostTest
{
    protected ApiFactory Factory { get; private set; } = null!;
    protected HttpClient Admin { get; private set; } = null!;

    protected virtual IDictionary<string, string?>? Settings => null;

    /// <summary>The service's clock; null for the system clock.</summary>
    protected virtual TimeProvider? Clock => null;

    /// <summary>Services the fixture replaces in the host, before it starts.</summary>
    protected virtual void ConfigureServices(Microsoft.Extensions.DependencyInjection.IServiceCollection services)
    {
    }

    [OneTimeSetUp]
    public void StartHost()
    {
        Factory = new ApiFactory(Settings, clock: Clock) { TestServices = ConfigureServices };
        Admin = Factory.Client(ApiFactory.AdminKey);
    }

    [OneTimeTearDown]
    public void StopHost()
    {
        Admin.Dispose();
        Factory.Dispose();
        Factory.DeleteDatabase();
    }

    protected static string Unique(string name) => $"{name} {Guid.NewGuid().ToString("N")[..8]}";

    protected static StringContent JsonBody(string json, string mediaType = "application/json") => new(json, Encoding.UTF8, mediaType);

    protected async Task<JsonObject> CreatePartnerAsync(string? name = null, string type = "reseller", string tier = "silver", object? terms = null)
    {
        var response = await Admin.PostAsJsonAsync("/v1/partners", new
        {
            name = name ?? Unique("Partner"),
            type,
            tier,
            contactEmail = "alliances@partner.example",
            terms,
        });
        response.StatusCode.ShouldBe(HttpStatusCode.Created, await response.Content.ReadAsStringAsync());
        return (await ReadJsonAsync(response)).AsObject();
    }

    protected async Task<string> IssuePartnerKeyAsync(string partnerId)
    {
        var response = await Admin.PostAsJsonAsync($"/v1/partners/{partnerId}/api-keys", new { name = "portal" });
        response.StatusCode.ShouldBe(HttpStatusCode.Created, await response.Content.ReadAsStringAsync());
        return (await ReadJsonAsync(response)).Get<string>("key");
    }

    protected async Task<(string Id, string Key)> IssueKeyAsync(string role)
    {
        var response = await Admin.PostAsJsonAsync("/v1/api-keys", new { name = $"{role} key", role });
        response.StatusCode.ShouldBe(HttpStatusCode.Created, await response.Content.ReadAsStringAsync());
        var body = await ReadJsonAsync(response);
        return (body.Get<string>("id"), body.Get<string>("key"));
    }

    protected static async Task<JsonNode> ReadJsonAsync(HttpResponseMessage response)
    {
        var text = await response.Content.ReadAsStringAsync();
        return JsonNode.Parse(text) ?? throw new AssertionException($"Empty body with {response.StatusCode}");
    }

    /// <summary>Asserts the response is a problem document with this status and type, and returns it.</summary>
    protected static async Task<JsonObject> ReadProblemAsync(HttpResponseMessage response, HttpStatusCode status, string type)
    {
        var text = await response.Content.ReadAsStringAsync();
        response.StatusCode.ShouldBe(status, text);
        response.Content.Headers.ContentType?.MediaType.ShouldBe("application/problem+json", text);
        var problem = JsonNode.Parse(text)!.AsObject();
        problem.Get<string>("type").ShouldBe($"urn:partnerdeals:problem:{type}", text);
        problem.Get<int>("status").ShouldBe((int)status);
        problem.Get<string>("title").ShouldNotBeNullOrWhiteSpace();
        problem.Get<string>("traceId").ShouldNotBeNullOrWhiteSpace();
        return problem;
    }

    protected static string[] ErrorFields(JsonObject problem) =>
        problem["errors"]!.AsObject().Select(e => e.Key).Order().ToArray();
}
