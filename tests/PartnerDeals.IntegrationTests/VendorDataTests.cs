using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json.Nodes;
using PartnerDeals.IntegrationTests.Registrations;
using PartnerDeals.IntegrationTests.Support;
using static PartnerDeals.IntegrationTests.Support.RegistrationCalls;

namespace PartnerDeals.IntegrationTests;

/// <summary>
/// Vendor data is cleaned and kept: an account name with a stray character, sent by upsert, batch or CSV, is stored clean
/// and blocks a partner registering the clean name; an optional field that is not usable is dropped and said so.
/// </summary>
public sealed class VendorDataTests : HostTest
{
    private HttpClient VendorCrm { get; set; } = null!;

    [OneTimeSetUp]
    public async Task IssueCrmKey() => VendorCrm = Factory.Client((await IssueKeyAsync("crm")).Key);

    [OneTimeTearDown]
    public void DisposeCrmClient() => VendorCrm.Dispose();

    [Test]
    public async Task DebrisInTheAccountName_ThroughUpsertBatchAndCsv_IsStoredClean_AndNoPartnerIsAutoApprovedOnIt()
    {
        var stored = new List<(string Channel, string What, string ExternalId, string Clean)>();
        var tag = Guid.NewGuid().ToString("N")[..8];
        var batch = new JsonArray();
        var csv = new StringBuilder("source,externalId,accountName,country,status\n");
        foreach (var (what, dirty) in VendorDebris.Names)
        {
            var (upsertName, _) = NewCompany();
            var upsertId = $"up-{tag}-{stored.Count}";
            var body = new JsonObject { ["accountName"] = dirty(upsertName), ["country"] = "DE", ["status"] = "open" };
            var response = await VendorCrm.PutAsync($"/v1/opportunities/salesforce/{upsertId}", new StringContent(VendorDebris.Json(body), Encoding.UTF8, "application/json"));
            response.StatusCode.ShouldBe(HttpStatusCode.Created, $"{what}: {await response.Content.ReadAsStringAsync()}");
            (await ReadJsonAsync(response))["cleaned"]!.AsArray().ShouldContain(c => c!.Get<string>("field") == "accountName", what);
            stored.Add(("upsert", what, upsertId, upsertName));

            var (batchName, _) = NewCompany();
            var batchId = $"ba-{tag}-{stored.Count}";
            batch.Add(new JsonObject { ["source"] = "salesforce", ["externalId"] = batchId, ["accountName"] = dirty(batchName), ["country"] = "DE", ["status"] = "open" });
            stored.Add(("batch", what, batchId, batchName));

            // A UTF-8 file cannot hold half a surrogate pair: bytes that are not UTF-8 are a file to save again, and said so.
            // A line break inside a quoted cell ends the record (an unterminated quote must not swallow the rows after it).
            if (what is "a lone surrogate" or "a trailing CR" or "a trailing LF") continue;
            var (csvName, _) = NewCompany();
            var csvId = $"csv-{tag}-{stored.Count}";
            csv.Append($"salesforce,{csvId},\"{dirty(csvName)}\",DE,open\n");
            stored.Add(("csv", what, csvId, csvName));
        }

        var batched = await VendorCrm.PostAsync("/v1/opportunities/batch",
            new StringContent(VendorDebris.Json(new JsonObject { ["items"] = batch }), Encoding.UTF8, "application/json"));
        batched.StatusCode.ShouldBe(HttpStatusCode.OK, await batched.Content.ReadAsStringAsync());
        var batchResult = await ReadJsonAsync(batched);
        batchResult.Get<int>("invalid").ShouldBe(0, batchResult.ToJsonString());
        batchResult.Get<int>("cleaned").ShouldBe(VendorDebris.Names.Count);
        var imported = await VendorCrm.PostAsync("/v1/opportunities/import", new StringContent(csv.ToString(), Encoding.UTF8, "text/csv"));
        imported.StatusCode.ShouldBe(HttpStatusCode.OK, await imported.Content.ReadAsStringAsync());
        var importResult = await ReadJsonAsync(imported);
        importResult.Get<int>("rejected").ShouldBe(0, importResult.ToJsonString());

        var partner = await PartnerAsync("gold");
        foreach (var (channel, what, externalId, clean) in stored)
        {
            var opportunity = await ReadJsonAsync(await VendorCrm.GetAsync($"/v1/opportunities/salesforce/{externalId}"));
            opportunity.Get<string>("accountName").ShouldBe(clean, $"{channel}, {what}");
            Status(await RegisterAsync(partner.Client, Body(clean, null))).ShouldNotBe("approved", $"{channel}, {what}: the clean name is in the pipeline");
        }
    }

    [Test]
    public async Task UnusableOptionalFields_AreDroppedOrCut_TheOpportunityIsKept_AndTheAnswerSaysWhat()
    {
        var id = Guid.NewGuid().ToString("N");
        var (name, _) = NewCompany();
        var stage = string.Join(' ', Enumerable.Repeat("Negotiation", 11)); // 131 characters
        var response = await VendorCrm.PutAsJsonAsync($"/v1/opportunities/salesforce/{id}", new
        {
            accountName = name, accountDomain = "n/a", country = "Germany", owner = "Dana\tDirect", stage, status = "open", amount = 5000m, currency = "EURO",
            alternateNames = new[] { "\u200B", name + " Holding" },
        });

        response.StatusCode.ShouldBe(HttpStatusCode.Created, await response.Content.ReadAsStringAsync());
        var stored = await ReadJsonAsync(response);
        stored["accountDomain"].ShouldBeNull();
        stored.Get<string>("country").ShouldBe("DE");
        stored.Get<string>("owner").ShouldBe("Dana Direct");
        stored.Get<string>("stage").Length.ShouldBeLessThanOrEqualTo(100);
        stored.Get<string>("stage").ShouldEndWith("Negotiation");
        stored["amount"].ShouldBeNull();
        stored["currency"].ShouldBeNull();
        stored["alternateNames"]!.AsArray().Select(n => n!.GetValue<string>()).ShouldBe([name + " Holding"]);
        var cleaned = stored["cleaned"]!.AsArray().Select(c => $"{c!.Get<string>("field")} {c.Get<string>("action")}").ToList();
        cleaned.ShouldBe(["owner cleaned", "stage cut", "alternateNames[0] cleaned", "accountDomain dropped", "country cleaned", "currency dropped", "amount dropped"],
            ignoreOrder: true);
        (await ReadJsonAsync(await VendorCrm.GetAsync($"/v1/opportunities/salesforce/{id}")))["cleaned"].ShouldBeNull("only the upsert's answer says what cleaning did");

        // Only what leaves no opportunity is refused: no account name after cleaning.
        var refused = await VendorCrm.PutAsJsonAsync($"/v1/opportunities/salesforce/{id}-2", new { accountName = "\u200B\uFEFF \t", status = "open" });
        ErrorFields(await ReadProblemAsync(refused, HttpStatusCode.BadRequest, "validation")).ShouldBe(["accountName"]);
    }
}
