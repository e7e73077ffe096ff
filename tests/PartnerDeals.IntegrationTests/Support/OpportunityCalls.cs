using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;

namespace PartnerDeals.IntegrationTests.Support;

/// <summary>The calls direct-pipeline tests make (<c>using static</c>): an opportunity's body, and a conflict check.</summary>
public static class OpportunityCalls
{
    public static object Opportunity(string name, string? domain = null, string status = "open", string? country = "DE") =>
        new { accountName = name, accountDomain = domain, country, status, amount = 1000m, currency = "EUR", closeDate = "2026-12-15" };

    public static async Task<JsonObject> CheckAsync(HttpClient client, string name, string? domain, string? country)
    {
        var response = await client.PostAsJsonAsync("/v1/conflict-checks", new { companyName = name, domain, country });
        var text = await response.Content.ReadAsStringAsync();
        response.StatusCode.ShouldBe(HttpStatusCode.OK, text);
        return JsonNode.Parse(text)!.AsObject();
    }
}
