using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using PartnerDeals.IntegrationTests.Support;

namespace PartnerDeals.IntegrationTests;

/// <summary>
/// The direct pipeline over HTTP, through a CRM key.
/// </summary>
public abstract class OpportunityTest : HostTest
{
    protected HttpClient Crm { get; private set; } = null!;

    [OneTimeSetUp]
    public async Task IssueCrmKey() => Crm = Factory.Client((await IssueKeyAsync("crm")).Key);

    [OneTimeTearDown]
    public void DisposeCrmClient() => Crm.Dispose();

    protected static object Opportunity(string name, string? domain = null, string status = "open", string? country = "DE") =>
        new { accountName = name, accountDomain = domain, country, status, amount = 1000m, currency = "EUR", closeDate = "2026-12-15" };

    protected static async Task<JsonObject> CheckAsync(HttpClient client, string name, string? domain, string? country)
    {
        var response = await client.PostAsJsonAsync("/v1/conflict-checks", new { companyName = name, domain, country });
        response.StatusCode.ShouldBe(HttpStatusCode.OK, await response.Content.ReadAsStringAsync());
        return (await ReadJsonAsync(response)).AsObject();
    }
}
