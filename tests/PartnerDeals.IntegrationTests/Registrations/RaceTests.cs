using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Microsoft.Data.Sqlite;
using PartnerDeals.IntegrationTests.Support;

namespace PartnerDeals.IntegrationTests.Registrations;

/// <summary>
/// Two instances of the service on one SQLite file, as two processes behind a load balancer would
/// be: many partners register the same customers at the same moment through both.
/// </summary>
public sealed class RaceTests
{
    [Test]
    public async Task Register_ParallelClaimsThroughTwoInstances_LeaveExactlyOneHolderPerCustomerAndLoseNothing()
    {
        const int partners = 10, customers = 20;
        using var first = new ApiFactory();
        using var second = new ApiFactory(databasePath: first.DatabasePath);
        try
        {
            using var admin = first.Client(ApiFactory.AdminKey);
            var keys = new List<string>();
            for (var p = 0; p < partners; p++)
            {
                var partner = await (await admin.PostAsJsonAsync("/v1/partners", new { name = $"Racer {p}", type = "reseller", tier = "gold", contactEmail = "r@x.example" }))
                    .Content.ReadFromJsonAsync<JsonObject>();
                var key = await (await admin.PostAsJsonAsync($"/v1/partners/{partner!["id"]}/api-keys", new { name = "portal" }))
                    .Content.ReadFromJsonAsync<JsonObject>();
                keys.Add(key!.Get<string>("key"));
            }
            // Each partner's key on both instances: [partner * 2] is the first, [partner * 2 + 1] the second.
            var clients = keys.SelectMany(k => new[] { first.Client(k), second.Client(k) }).ToList();
            string[] names = ["Aldebaran Logistics", "Borealis Textiles", "Cygnus Dairy", "Draco Mining", "Eridanus Optics", "Fornax Shipping",
                "Grus Pharmaceuticals", "Hydra Robotics", "Indus Breweries", "Jupiter Ceramics", "Kepler Insurance", "Lyra Acoustics",
                "Mensa Furniture", "Norma Timber", "Orion Kitchens", "Pavo Cosmetics", "Quasar Semiconductors", "Reticulum Fisheries",
                "Sagitta Archery", "Tucana Coffee"];
            var companies = names.Take(customers).Select(n => (n, n.Split(' ')[0].ToLowerInvariant() + ".example")).ToList();

            // 200 registrations at once: every partner claims every customer, half through each instance.
            var attempts = (from c in Enumerable.Range(0, customers)
                            from p in Enumerable.Range(0, partners)
                            select (client: clients[p * 2 + (p + c) % 2], c: companies[c])).ToList();
            var responses = await Task.WhenAll(attempts.Select(async a =>
            {
                var body = new
                {
                    customer = new { companyName = a.c.Item1, domain = a.c.Item2, country = "DE" },
                    contact = new { name = "Buyer", email = "buyer@x.example" },
                    deal = new { name = "Race", estimatedValue = 1000m, currency = "EUR" },
                };
                var request = new HttpRequestMessage(HttpMethod.Post, "/v1/registrations") { Content = JsonContent.Create(body) };
                request.Headers.Add("Idempotency-Key", Guid.NewGuid().ToString());
                var response = await a.client.SendAsync(request);
                return (response.StatusCode, Body: await response.Content.ReadAsStringAsync());
            }));

            responses.Where(r => (int)r.StatusCode >= 500).ShouldBeEmpty();
            responses.ShouldAllBe(r => r.StatusCode == HttpStatusCode.Created);
            var acknowledged = responses.Select(r => JsonNode.Parse(r.Body)!.Get<string>("id")).ToHashSet();
            acknowledged.Count.ShouldBe(attempts.Count);

            await using var connection = new SqliteConnection(first.ConnectionString);
            await connection.OpenAsync();
            var stored = await QueryAsync(connection, "SELECT id, company_domain, status FROM registrations");
            stored.Select(r => r[0]).ToHashSet().SetEquals(acknowledged).ShouldBeTrue("every acknowledged registration is stored, and nothing else");
            foreach (var (_, domain) in companies)
            {
                stored.Count(r => r[1] == domain && r[2] == "approved").ShouldBe(1, $"exactly one holder of {domain}");
            }
            foreach (var client in clients) client.Dispose();
        }
        finally
        {
            first.DeleteDatabase();
        }
    }

    private static async Task<List<string[]>> QueryAsync(SqliteConnection connection, string sql)
    {
        var command = connection.CreateCommand();
        command.CommandText = sql;
        var rows = new List<string[]>();
        await using var reader = await command.ExecuteReaderAsync();
        while (await reader.ReadAsync()) rows.Add(Enumerable.Range(0, reader.FieldCount).Select(reader.GetString).ToArray());
        return rows;
    }
}
