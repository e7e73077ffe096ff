using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;

namespace PartnerDeals.IntegrationTests.Support;

/// <summary>The calls registration tests make (<c>using static</c>): a company nobody else has, a body, and the actions.</summary>
public static class RegistrationCalls
{
    /// <summary>
    /// A company no other in the fixture resembles: two random words (names sharing a prefix or a word
    /// would be fuzzy matches, as the matcher is meant to find), and a domain of its own.
    /// </summary>
    public static (string Name, string Domain) NewCompany()
    {
        string Word() => string.Concat(Enumerable.Range(0, 9).Select(i => (char)('a' + Random.Shared.Next(26))));
        var (first, second) = (Word(), Word());
        return ($"{char.ToUpperInvariant(first[0])}{first[1..]} {char.ToUpperInvariant(second[0])}{second[1..]} GmbH", $"{first}{second}.example");
    }

    public static object Body(string company, string? domain, string country = "DE", decimal value = 50_000m, string currency = "EUR",
        string? partnerId = null, string? industry = null, int? employees = null) => new
    {
        partnerId,
        customer = new { companyName = company, domain, country, industry, employeeCount = employees },
        contact = new { name = "Maria Schmidt", email = "maria@customer.example", title = "CIO" },
        deal = new { name = "Rollout", products = new[] { "analytics" }, estimatedValue = value, currency, expectedCloseDate = "2027-03-31" },
        coSell = new { relationshipOwner = "partner", demo = "vendor", contract = "partner" },
    };

    public static async Task<JsonObject> RegisterAsync(HttpClient client, object body, string? idempotencyKey = null)
    {
        var response = await PostRegistrationAsync(client, body, idempotencyKey);
        response.StatusCode.ShouldBe(HttpStatusCode.Created, await response.Content.ReadAsStringAsync());
        return (await ReadJsonAsync(response)).AsObject();
    }

    public static Task<HttpResponseMessage> PostRegistrationAsync(HttpClient client, object body, string? idempotencyKey = null)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, "/v1/registrations") { Content = JsonContent.Create(body) };
        if (idempotencyKey is not null) request.Headers.Add("Idempotency-Key", idempotencyKey);
        return client.SendAsync(request);
    }

    public static async Task<JsonObject> ActAsync(HttpClient client, string id, string action, object? body = null)
    {
        var response = await client.PostAsync($"/v1/registrations/{id}/{action}", body is null ? null : JsonContent.Create(body));
        response.StatusCode.ShouldBe(HttpStatusCode.OK, $"{action}: {await response.Content.ReadAsStringAsync()}");
        return (await ReadJsonAsync(response)).AsObject();
    }

    /// <summary>An edit as a client makes it: the registration read for its ETag, then patched with that If-Match.</summary>
    public static async Task<HttpResponseMessage> PatchRegistrationAsync(HttpClient client, string id, HttpContent body)
    {
        var current = await client.GetAsync($"/v1/registrations/{id}");
        var request = new HttpRequestMessage(HttpMethod.Patch, $"/v1/registrations/{id}") { Content = body };
        request.Headers.IfMatch.Add(current.Headers.ETag!);
        return await client.SendAsync(request);
    }

    public static string Status(JsonNode registration) => registration.Get<string>("status");

    public static string Id(JsonNode node) => node.Get<string>("id");

    private static async Task<JsonNode> ReadJsonAsync(HttpResponseMessage response) =>
        JsonNode.Parse(await response.Content.ReadAsStringAsync()) ?? throw new AssertionException($"Empty body with {response.StatusCode}");
}
