using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Time.Testing;
using PartnerDeals.IntegrationTests.Registrations;
using PartnerDeals.IntegrationTests.Support;

namespace PartnerDeals.IntegrationTests.Metrics;

/// <summary>
/// What <see cref="ProgramMetricsTests"/> lives its program with: a fake clock from 15 January 2026, the ideal customer
/// profile's deal sizes, and the steps and reads of the story.
/// </summary>
public abstract class ProgramMetricsTest : RegistrationTest
{
    private readonly FakeTimeProvider _clock = new(At("2026-01-15T09:00"));

    protected override TimeProvider Clock => _clock;

    // Deals under 10,000 EUR or USD miss the ideal customer profile and wait for a person.
    protected override IDictionary<string, string?>? Settings => new Dictionary<string, string?>
    {
        ["Registrations:Policy:Icp:MinDealSize:EUR"] = "10000",
        ["Registrations:Policy:Icp:MinDealSize:USD"] = "10000",
    };

    protected static DateTimeOffset At(string instant) => DateTimeOffset.Parse(instant + "Z", System.Globalization.CultureInfo.InvariantCulture);

    protected void Set(string instant) => _clock.SetUtcNow(At(instant));

    protected async Task<PartnerClient> NamedPartnerAsync(string name, string tier, object? terms)
    {
        var partner = await CreatePartnerAsync(name: name, tier: tier, terms: terms);
        var id = partner.Get<string>("id");
        return new PartnerClient(id, ClientFor(await IssuePartnerKeyAsync(id)));
    }

    protected async Task SuspendAsync(string partnerId)
    {
        var read = await Admin.GetAsync($"/v1/partners/{partnerId}");
        var request = new HttpRequestMessage(HttpMethod.Patch, $"/v1/partners/{partnerId}") { Content = JsonContent.Create(new { status = "suspended" }) };
        request.Headers.IfMatch.Add(read.Headers.ETag!);
        var response = await Admin.SendAsync(request);
        response.StatusCode.ShouldBe(HttpStatusCode.OK, await response.Content.ReadAsStringAsync());
    }

    protected static async Task<JsonObject> SubmitAsync(PartnerClient partner, decimal value, string currency)
    {
        var (company, domain) = NewCompany();
        return await RegisterAsync(partner.Client, Body(company, domain, value: value, currency: currency));
    }

    protected async Task DirectAsync(string status, decimal amount, string currency, string close, string? opened)
    {
        var (company, domain) = NewCompany();
        var response = await Admin.PutAsJsonAsync($"/v1/opportunities/salesforce/{Guid.NewGuid():N}", new
        {
            accountName = company, accountDomain = domain, country = "DE", status, amount, currency, closeDate = close, openedDate = opened,
        });
        response.StatusCode.ShouldBe(HttpStatusCode.Created, await response.Content.ReadAsStringAsync());
    }

    // No CRM is enabled here; a delivery the CRM refused is written as the dispatcher would leave it.
    protected async Task RecordDeadDeliveryAsync(string crm, string createdAt)
    {
        await using var connection = new SqliteConnection(Factory.ConnectionString);
        await connection.OpenAsync();
        await using var command = connection.CreateCommand();
        command.CommandText = """
            INSERT INTO deliveries (id, outbox_id, registration_id, registration_version, crm, event_type, status, attempts, next_attempt_at,
                last_status_code, last_error, created_at, updated_at)
            SELECT lower(hex(randomblob(16))), id, registration_id, 1, $crm, event_type, 'dead', 1, $at, 400, 'INVALID_FIELD: refused', $at, $at
            FROM outbox ORDER BY id LIMIT 1
            """;
        command.Parameters.AddWithValue("$crm", crm);
        command.Parameters.AddWithValue("$at", createdAt);
        (await command.ExecuteNonQueryAsync()).ShouldBe(1);
    }

    protected static async Task<JsonNode> GetAsync(HttpClient client, string url)
    {
        var response = await client.GetAsync(url);
        response.StatusCode.ShouldBe(HttpStatusCode.OK, await response.Content.ReadAsStringAsync());
        return await ReadJsonAsync(response);
    }

    protected static async Task<string[]> CsvAsync(HttpClient client, string url)
    {
        var request = new HttpRequestMessage(HttpMethod.Get, url);
        request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("text/csv"));
        var response = await client.SendAsync(request);
        response.StatusCode.ShouldBe(HttpStatusCode.OK, await response.Content.ReadAsStringAsync());
        response.Content.Headers.ContentType!.MediaType.ShouldBe("text/csv");
        return (await response.Content.ReadAsStringAsync()).Split("\r\n", StringSplitOptions.RemoveEmptyEntries);
    }

    protected static int Int(JsonNode node, string name) => node.Get<int>(name);

    protected static double Number(JsonNode node, string name) => node.Get<double>(name);

    protected static string[] Names(JsonNode board) => board["items"]!.AsArray().Select(i => i!.Get<string>("partnerName")).ToArray();

    protected static string[] Amounts(JsonNode? amounts) => amounts!.AsArray()
        .Select(a => $"{a!.Get<string>("currency")} {a.Get<decimal>("amount"):0.####} x{a.Get<int>("count")}").ToArray();

    protected static (int, double?, double?) Distribution(JsonNode? node) =>
        (node!.Get<int>("count"), node["median"]?.GetValue<double>(), node["p90"]?.GetValue<double>());
}
