using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json.Nodes;

namespace PartnerDeals.IntegrationTests.Support;

/// <summary>
/// Base of the host tests, and their only one: one real application and database per fixture (<see cref="ApiFactory"/>,
/// which hands out the clients), and the reading of answers. Registration calls are <see cref="RegistrationCalls"/>.
/// Each test creates the data it needs with unique names, so tests in a fixture stay independent.
/// </summary>
public abstract class HostTest
{
    protected ApiFactory Factory { get; private set; } = null!;
    protected HttpClient Admin => Factory.Admin;

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
    }

    [OneTimeTearDown]
    public void StopHost()
    {
        Factory.Dispose();
        Factory.DeleteDatabase();
    }

    protected static string Unique(string name) => $"{name} {Guid.NewGuid().ToString("N")[..8]}";

    protected static StringContent JsonBody(string json, string mediaType = "application/json") => new(json, Encoding.UTF8, mediaType);

    // What the host hands out, by its own names in tests.
    protected Task<JsonObject> CreatePartnerAsync(string? name = null, string type = "reseller", string tier = "silver", object? terms = null) =>
        Factory.CreatePartnerAsync(name, type, tier, terms);

    protected Task<string> IssuePartnerKeyAsync(string partnerId) => Factory.IssuePartnerKeyAsync(partnerId);

    protected Task<(string Id, string Key)> IssueKeyAsync(string role) => Factory.IssueKeyAsync(role);

    protected Task<PartnerClient> PartnerAsync(string tier = "silver", object? terms = null) => Factory.PartnerAsync(tier, terms);

    protected HttpClient ClientFor(string key) => Factory.ClientFor(key);

    protected async Task<JsonObject> ReadAsync(string registrationId) =>
        (await ReadJsonAsync(await Admin.GetAsync($"/v1/registrations/{registrationId}"))).AsObject();

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
