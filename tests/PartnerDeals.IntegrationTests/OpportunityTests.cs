using System.Net;
using System.Net.Http.Json;
using PartnerDeals.IntegrationTests.Support;
using static PartnerDeals.IntegrationTests.Support.OpportunityCalls;

namespace PartnerDeals.IntegrationTests;

/// <summary>The direct pipeline's endpoints: upserts, batches, CSV imports, deletes, lists and the token index behind them.</summary>
public sealed class OpportunityTests : HostTest
{
    // The direct pipeline over HTTP, through a CRM key.
    private HttpClient Crm { get; set; } = null!;

    [OneTimeSetUp]
    public async Task IssueCrmKey() => Crm = await Factory.ClientOfRoleAsync("crm");

    [Test]
    public async Task Upsert_NewThenExisting_AnswersCreatedThenOk()
    {
        var id = Guid.NewGuid().ToString("N");
        var created = await Crm.PutAsJsonAsync($"/v1/opportunities/salesforce/{id}", Opportunity("Contoso Pharma GmbH", "https://www.contoso-pharma.de/"));
        created.StatusCode.ShouldBe(HttpStatusCode.Created, await created.Content.ReadAsStringAsync());
        created.Headers.Location!.ToString().ShouldBe($"/v1/opportunities/salesforce/{id}");
        var body = await ReadJsonAsync(created);
        body.Get<string>("companyDomain").ShouldBe("contoso-pharma.de");
        body.Get<string>("nameKey").ShouldBe("contosopharma");
        body.Get<string>("closeDate").ShouldBe("2026-12-15");

        var updated = await Crm.PutAsJsonAsync($"/v1/opportunities/salesforce/{id}", Opportunity("Contoso Pharma GmbH", status: "won"));
        updated.StatusCode.ShouldBe(HttpStatusCode.OK);
        var read = await ReadJsonAsync(await Crm.GetAsync($"/v1/opportunities/salesforce/{id}"));
        read.Get<string>("status").ShouldBe("won");
        read.Get<string>("id").ShouldBe(body.Get<string>("id"));
    }

    [Test]
    public async Task Upsert_NoAccountName_IsRefused_UnusableOptionalFieldsAreNot_AndWritesNothing()
    {
        var response = await Crm.PutAsync("/v1/opportunities/salesforce/x", JsonBody(
            """{"accountName":"","accountDomain":"not a domain","country":"XX","status":"open","amount":-5,"currency":"EURO"}"""));
        var problem = await ReadProblemAsync(response, HttpStatusCode.BadRequest, "validation");
        ErrorFields(problem).ShouldBe(["accountName"]);
        (await Crm.GetAsync("/v1/opportunities/salesforce/x")).StatusCode.ShouldBe(HttpStatusCode.NotFound);
        // an identity the path cannot carry is refused
        var second = await Crm.PutAsJsonAsync("/v1/opportunities/Sales%20Force/x", Opportunity("Valid Name"));
        ErrorFields(await ReadProblemAsync(second, HttpStatusCode.BadRequest, "validation")).ShouldBe(["source"]);
        await ReadProblemAsync(await Crm.GetAsync("/v1/opportunities/Sales%20Force/x"), HttpStatusCode.NotFound, "not-found");
    }

    [Test]
    public async Task Batch_MixOfValidAndInvalidItems_WritesValidOnesAndReportsEach()
    {
        var prefix = Guid.NewGuid().ToString("N")[..8];
        var response = await Crm.PostAsJsonAsync("/v1/opportunities/batch", new
        {
            items = new object[]
            {
                new { source = "hubspot", externalId = prefix + "-1", accountName = "Northwind Traders", status = "open", country = "US" },
                new { source = "hubspot", externalId = prefix + "-2", accountName = "", status = "open" },
                new { source = "hubspot", externalId = prefix + "-1", accountName = "Northwind Traders Inc", status = "won", country = "US" },
                new { source = "BAD SOURCE", externalId = prefix + "-3", accountName = "Fabrikam", status = "lost" },
            },
        });

        response.StatusCode.ShouldBe(HttpStatusCode.OK, await response.Content.ReadAsStringAsync());
        var body = await ReadJsonAsync(response);
        body.Get<int>("created").ShouldBe(1);
        body.Get<int>("updated").ShouldBe(1);
        body.Get<int>("invalid").ShouldBe(2);
        var items = body["items"]!.AsArray();
        items.Select(i => i!.Get<string>("outcome")).ShouldBe(["created", "invalid", "updated", "invalid"]);
        items[1]!["errors"]!.AsObject().Select(e => e.Key).ShouldContain("accountName");
        items[3]!["errors"]!.AsObject().Select(e => e.Key).ShouldContain("source");

        var stored = await ReadJsonAsync(await Crm.GetAsync($"/v1/opportunities/hubspot/{prefix}-1"));
        stored.Get<string>("status").ShouldBe("won");
        stored.Get<string>("accountName").ShouldBe("Northwind Traders Inc");
    }

    [TestCase(0)]
    [TestCase(1001)]
    public async Task Batch_EmptyOrAboveOneThousand_IsRefused(int count)
    {
        var items = Enumerable.Range(0, count).Select(i => new { source = "hubspot", externalId = $"big-{i}", accountName = "Big Co", status = "open" });
        var response = await Crm.PostAsJsonAsync("/v1/opportunities/batch", new { items });
        ErrorFields(await ReadProblemAsync(response, HttpStatusCode.BadRequest, "validation")).ShouldBe(["items"]);
    }

    [Test]
    public async Task Import_CsvWithBadRows_ImportsTheGoodOnes_KeepsTheCleanedOnes_AndListsTheRest()
    {
        var prefix = Guid.NewGuid().ToString("N")[..8];
        var csv = $"""
            source,externalId,accountName,accountDomain,country,status,amount,currency,closeDate
            dynamics,{prefix}-1,"Litware, Inc.",litware.com,US,open,2500.50,USD,2026-11-30
            dynamics,{prefix}-2,Adventure Works,adventure-works.com,US,won,,,
            dynamics,{prefix}-3,Bad Status Ltd,,US,maybe,,,
            dynamics,{prefix}-4,Bad Numbers,,ZZ,open,lots,USD,30/11/2026
            dynamics,,No Id Co,,US,open,,,
            """;
        var response = await Crm.PostAsync("/v1/opportunities/import", new StringContent(csv, System.Text.Encoding.UTF8, "text/csv"));

        response.StatusCode.ShouldBe(HttpStatusCode.OK, await response.Content.ReadAsStringAsync());
        var body = await ReadJsonAsync(response);
        body.Get<int>("rowsRead").ShouldBe(5);
        body.Get<int>("created").ShouldBe(3);
        body.Get<int>("rejected").ShouldBe(2);
        var rejected = body["rejectedRows"]!.AsArray();
        rejected.Select(r => r!.Get<int>("index")).ShouldBe([3, 5]);
        // An optional value that cannot be read is dropped and said so; the row is kept.
        body.Get<int>("cleaned").ShouldBe(1);
        body["cleanedRows"]![0]!["cleaned"]!.AsArray().Select(c => c!.Get<string>("field")).Order().ShouldBe(["amount", "closeDate", "country"]);
        (await ReadJsonAsync(await Crm.GetAsync($"/v1/opportunities/dynamics/{prefix}-1"))).Get<string>("accountName").ShouldBe("Litware, Inc.");
    }

    [Test]
    public async Task Import_WithoutRequiredColumns_IsRefused()
    {
        var response = await Crm.PostAsync("/v1/opportunities/import", new StringContent("name,domain\nA,a.com\n", System.Text.Encoding.UTF8, "text/csv"));
        ErrorFields(await ReadProblemAsync(response, HttpStatusCode.BadRequest, "validation")).ShouldBe(["header"]);
    }

    [Test]
    public async Task Import_NotCsv_IsUnsupportedMediaType()
    {
        var response = await Crm.PostAsync("/v1/opportunities/import", JsonBody("{}"));
        await ReadProblemAsync(response, HttpStatusCode.UnsupportedMediaType, "unsupported-media-type");
    }

    [Test]
    public async Task Delete_RemovesItFromListsAndChecks()
    {
        var id = Guid.NewGuid().ToString("N");
        var name = "Quixotic Zephyr " + id[..6];
        await Crm.PutAsJsonAsync($"/v1/opportunities/salesforce/{id}", Opportunity(name));
        (await CheckAsync(Crm, name, null, "DE")).Get<string>("verdict").ShouldBe("conflict");

        (await Crm.DeleteAsync($"/v1/opportunities/salesforce/{id}")).StatusCode.ShouldBe(HttpStatusCode.NoContent);

        (await CheckAsync(Crm, name, null, "DE")).Get<string>("verdict").ShouldBe("clear");
        await ReadProblemAsync(await Crm.DeleteAsync($"/v1/opportunities/salesforce/{id}"), HttpStatusCode.NotFound, "not-found");
    }

    [Test]
    public async Task TokenIndex_FollowsRenamesAndDeletes_NoRowLeftBehind()
    {
        var id = Guid.NewGuid().ToString("N");
        var tag = string.Concat(id.Take(12).Select(c => (char)('k' + Convert.ToInt32(c.ToString(), 16))));
        var (first, second) = ("Quillon " + tag[..6], "Ventrix " + tag[6..]);
        async Task<string[]> TokensAsync()
        {
            await using var connection = new Microsoft.Data.Sqlite.SqliteConnection(Factory.ConnectionString);
            return (await Dapper.SqlMapper.QueryAsync<string>(connection, """
                SELECT t.token FROM opportunity_tokens t JOIN opportunities o ON o.seq = t.opportunity_seq
                WHERE o.source = 'salesforce' AND o.external_id = @id ORDER BY t.token
                """, new { id })).ToArray();
        }
        async Task<long> OrphansAsync()
        {
            await using var connection = new Microsoft.Data.Sqlite.SqliteConnection(Factory.ConnectionString);
            return await Dapper.SqlMapper.ExecuteScalarAsync<long>(connection,
                "SELECT COUNT(*) FROM opportunity_tokens t WHERE NOT EXISTS (SELECT 1 FROM opportunities o WHERE o.seq = t.opportunity_seq)");
        }

        await Crm.PutAsJsonAsync($"/v1/opportunities/salesforce/{id}", Opportunity(first + " Global GmbH"));
        (await TokensAsync()).ShouldBe(new[] { "global", "quillon", tag[..6] }.Order(StringComparer.Ordinal).ToArray());

        // Renamed twice in one batch: the last name wins, and only its tokens stay.
        var batch = await Crm.PostAsJsonAsync("/v1/opportunities/batch", new
        {
            items = new[]
            {
                new { source = "salesforce", externalId = id, accountName = "Interim Name", status = "open" },
                new { source = "salesforce", externalId = id, accountName = second, status = "open" },
            },
        });
        batch.StatusCode.ShouldBe(HttpStatusCode.OK, await batch.Content.ReadAsStringAsync());
        (await TokensAsync()).ShouldBe(new[] { "ventrix", tag[6..] }.Order(StringComparer.Ordinal).ToArray());
        (await CheckAsync(Crm, first + " Global", null, "DE")).Get<string>("verdict").ShouldBe("clear");

        (await Crm.DeleteAsync($"/v1/opportunities/salesforce/{id}")).StatusCode.ShouldBe(HttpStatusCode.NoContent);
        (await OrphansAsync()).ShouldBe(0);
    }

    [Test]
    public async Task List_FiltersByStatusAndDomain()
    {
        var domain = $"filter-{Guid.NewGuid():N}.example.com";
        await Crm.PutAsJsonAsync($"/v1/opportunities/salesforce/{Guid.NewGuid():N}", Opportunity("Filter One", domain, "open"));
        await Crm.PutAsJsonAsync($"/v1/opportunities/salesforce/{Guid.NewGuid():N}", Opportunity("Filter Two", domain, "won"));
        var page = await ReadJsonAsync(await Crm.GetAsync($"/v1/opportunities?domain=https://{domain}/&status=won"));
        page["items"]!.AsArray().Select(i => i!.Get<string>("accountName")).ShouldBe(["Filter Two"]);
        await ReadProblemAsync(await Crm.GetAsync("/v1/opportunities?status=closed"), HttpStatusCode.BadRequest, "validation");
    }

    [Test]
    public async Task List_BySourceAcrossPages_ReturnsEveryRowOnceInCreationOrder()
    {
        var source = $"crm-{Guid.NewGuid():N}"[..20];
        var created = new List<string>();
        for (var i = 0; i < 5; i++)
        {
            var response = await Crm.PutAsJsonAsync($"/v1/opportunities/{source}/{i}", Opportunity($"Paging {i}"));
            created.Add((await ReadJsonAsync(response)).Get<string>("id"));
        }
        await Crm.PutAsJsonAsync($"/v1/opportunities/salesforce/{Guid.NewGuid():N}", Opportunity("Paging Elsewhere"));

        var seen = new List<string>();
        string? cursor = null;
        var pages = 0;
        do
        {
            var page = await ReadJsonAsync(await Crm.GetAsync($"/v1/opportunities?source={source}&status=open&limit=2" + (cursor is null ? "" : $"&cursor={cursor}")));
            seen.AddRange(page["items"]!.AsArray().Select(o => o!.Get<string>("id")));
            cursor = page["nextCursor"]?.GetValue<string>();
            pages++;
        } while (cursor is not null && pages < 10);

        seen.ShouldBe(created);
        pages.ShouldBe(3);
    }

    [Test]
    public async Task PartnerKey_CannotTouchTheDirectPipeline()
    {
        var partner = await CreatePartnerAsync();
        using var client = Factory.Client(await IssuePartnerKeyAsync(partner.Get<string>("id")));
        await ReadProblemAsync(await client.GetAsync("/v1/opportunities"), HttpStatusCode.Forbidden, "forbidden");
        await ReadProblemAsync(await client.PutAsJsonAsync("/v1/opportunities/salesforce/p1", Opportunity("Sneaky")), HttpStatusCode.Forbidden, "forbidden");
        await ReadProblemAsync(await client.PostAsJsonAsync("/v1/opportunities/batch", new { items = Array.Empty<object>() }), HttpStatusCode.Forbidden, "forbidden");
    }
}
