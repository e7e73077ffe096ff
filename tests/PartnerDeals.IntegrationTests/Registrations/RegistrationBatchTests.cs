using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json.Nodes;
using PartnerDeals.IntegrationTests.Support;
using static PartnerDeals.IntegrationTests.Support.RegistrationCalls;

namespace PartnerDeals.IntegrationTests.Registrations;

/// <summary>
/// Bulk registration as a job: a file validated (every row predicted by the single registration's own code, rolled back),
/// then committed to exactly what was predicted; the same file again unchanged; bad files refused at once; failed rows
/// answered as a CSV to fix and upload again.
/// </summary>
public sealed class RegistrationBatchTests : HostTest
{
    private const string Header = "externalRef,companyName,domain,country,contactName,contactEmail,dealName,estimatedValue,currency";

    private static string Row(string reference, string company, string? domain, string email = "maria@customer.example") =>
        $"{reference},\"{company}\",{domain},DE,Maria Schmidt,{email},Rollout,50000,EUR";

    private static async Task<JsonNode> UploadAsync(HttpClient client, string mode, string body, string contentType = "text/csv",
        HttpStatusCode expected = HttpStatusCode.Accepted)
    {
        var content = new StringContent(body, Encoding.UTF8);
        content.Headers.ContentType = new MediaTypeHeaderValue(contentType);
        var response = await client.PostAsync($"/v1/registration-batches?mode={mode}", content);
        var text = await response.Content.ReadAsStringAsync();
        response.StatusCode.ShouldBe(expected, text);
        return JsonNode.Parse(text)!;
    }

    private static Task<JsonNode> SettledAsync(HttpClient client, string id, params string[] states) =>
        Eventually.UntilAsync(async () => (await ReadJsonAsync(await client.GetAsync($"/v1/registration-batches/{id}"))),
            b => states.Contains(b.Get<string>("state")), $"the batch to be {string.Join(" or ", states)}", TimeSpan.FromSeconds(120));

    private static async Task<JsonArray> RowsAsync(HttpClient client, string id) =>
        (await ReadJsonAsync(await client.GetAsync($"/v1/registration-batches/{id}/rows"))).AsArray();

    [Test]
    public async Task ABatchOf2000Rows_ValidatedThenCommitted_CommitsEveryRowAsPredicted_AndTheSameFileAgainIsUnchanged()
    {
        var partner = await Factory.PartnerAsync(tier: "gold");
        var crm = await Factory.ClientOfRoleAsync("crm");
        var lines = new List<string> { Header };
        for (var i = 1; i <= 2000; i++)
        {
            var (company, domain) = NewCompany();
            if (i % 100 == 7)
            {
                // The vendor's own account: unavailable.
                (await crm.PutAsJsonAsync($"/v1/opportunities/salesforce/batch-{Guid.NewGuid():N}", OpportunityCalls.Opportunity(company, domain)))
                    .IsSuccessStatusCode.ShouldBeTrue();
            }
            lines.Add(i % 250 == 3 ? Row($"REF-{i}", company, domain, email: "not-an-email")
                : i % 250 == 4 ? Row($"REF-{i}", lines[^1].Split(',')[1].Trim('"'), lines[^1].Split(',')[2])
                : Row($"REF-{i}", company, domain));
        }
        var file = string.Join("\r\n", lines) + "\r\n";

        var batch = await UploadAsync(partner.Client, "validate", file);
        var id = batch.Get<string>("id");
        var validated = await SettledAsync(partner.Client, id, "validated");
        validated.Get<int>("validatedRows").ShouldBe(2000);
        var predictions = (await RowsAsync(partner.Client, id)).ToDictionary(r => r!.Get<int>("row"), r => r!.Get<string>("prediction"));
        predictions.Values.ShouldContain("would_be_approved");
        predictions.Values.Count(p => p == "unavailable").ShouldBe(20);
        predictions.Values.Count(p => p == "invalid").ShouldBe(8);
        predictions.Values.Count(p => p == "duplicate_in_file").ShouldBe(8);
        (await ReadJsonAsync(await Admin.GetAsync($"/v1/registrations?partnerId={partner.Id}"))).AsObject()["items"]!.AsArray()
            .ShouldBeEmpty("validation stores no registration");

        (await partner.Client.PostAsync($"/v1/registration-batches/{id}/commit", null)).StatusCode.ShouldBe(HttpStatusCode.Accepted);
        var committed = await SettledAsync(partner.Client, id, "completed", "completed_with_errors");
        committed.Get<string>("state").ShouldBe("completed_with_errors");
        var outcomes = await RowsAsync(partner.Client, id);
        var asPredicted = new Dictionary<string, string>
        {
            ["would_be_approved"] = "approved", ["would_need_review"] = "pending_review", ["unavailable"] = "unavailable",
            ["duplicate_in_file"] = "duplicate_in_file", ["invalid"] = "invalid", ["not_checked"] = "not_checked",
        };
        foreach (var row in outcomes)
        {
            row!.Get<string>("outcome").ShouldBe(asPredicted[row.Get<string>("prediction")], $"row {row.Get<int>("row")}");
        }

        // The same file again: what was registered is unchanged, nothing twice.
        var again = await UploadAsync(partner.Client, "commit", file);
        await SettledAsync(partner.Client, again.Get<string>("id"), "completed", "completed_with_errors");
        var second = (await RowsAsync(partner.Client, again.Get<string>("id"))).ToDictionary(r => r!.Get<int>("row"), r => r!.Get<string>("outcome"));
        foreach (var row in outcomes.Where(r => r!["registrationId"] is not null))
        {
            second[row!.Get<int>("row")].ShouldBe("unchanged");
        }

        // The failed rows, as a file to fix: the upload's columns and why, formulas defused.
        var request = new HttpRequestMessage(HttpMethod.Get, $"/v1/registration-batches/{id}/rows");
        request.Headers.Accept.ParseAdd("text/csv");
        var csv = await (await partner.Client.SendAsync(request)).Content.ReadAsStringAsync();
        var csvLines = csv.Split("\r\n", StringSplitOptions.RemoveEmptyEntries);
        csvLines[0].ShouldBe(Header + ",error");
        csvLines.Length.ShouldBe(1 + 20 + 8 + 8);
    }

    [Test]
    public async Task RowsPastTheCheckQuota_ArePredictedNotChecked_StillValidated()
    {
        var partner = await Factory.PartnerAsync(tier: "registered");
        var patch = new HttpRequestMessage(HttpMethod.Patch, $"/v1/partners/{partner.Id}")
        {
            Content = JsonContent.Create(new { checkQuota = new { perMinute = 3, perDay = 100 } }),
        };
        patch.Headers.IfMatch.Add((await Admin.GetAsync($"/v1/partners/{partner.Id}")).Headers.ETag!);
        (await Admin.SendAsync(patch)).StatusCode.ShouldBe(HttpStatusCode.OK);
        var lines = new List<string> { Header };
        for (var i = 1; i <= 5; i++)
        {
            var (company, domain) = NewCompany();
            lines.Add(Row($"Q-{i}", company, domain, email: i == 5 ? "broken" : "maria@customer.example"));
        }
        var batch = await UploadAsync(partner.Client, "validate", string.Join("\n", lines));
        await SettledAsync(partner.Client, batch.Get<string>("id"), "validated");
        var predictions = (await RowsAsync(partner.Client, batch.Get<string>("id"))).Select(r => r!.Get<string>("prediction")).ToList();
        predictions.ShouldBe(["would_need_review", "would_need_review", "would_need_review", "not_checked", "invalid"]);
    }

    [Test]
    public async Task BadFiles_AreProblemsAtOnce_AndStoreNothing()
    {
        var partner = await Factory.PartnerAsync();
        var noRef = await UploadAsync(partner.Client, "validate", "companyName,domain\nContoso,contoso.example\n", expected: HttpStatusCode.BadRequest);
        noRef.ToJsonString().ShouldContain("externalRef");
        var content = new ByteArrayContent([.. Encoding.UTF8.GetBytes(Header + "\nREF-1,"), 0xC3, 0x28, .. Encoding.UTF8.GetBytes(",x.example\n")]);
        content.Headers.ContentType = new MediaTypeHeaderValue("text/csv");
        var notUtf8 = await partner.Client.PostAsync("/v1/registration-batches?mode=validate", content);
        notUtf8.StatusCode.ShouldBe(HttpStatusCode.BadRequest);
        (await notUtf8.Content.ReadAsStringAsync()).ShouldContain("UTF-8");
        var tooMany = Header + "\n" + string.Concat(Enumerable.Range(1, 10_001).Select(i => Row($"R{i}", $"Company {i}", null) + "\n"));
        (await UploadAsync(partner.Client, "validate", tooMany, expected: HttpStatusCode.BadRequest)).ToJsonString().ShouldContain("10,000");
        (await UploadAsync(partner.Client, "sometimes", Header + "\n" + Row("R1", "Contoso", null), expected: HttpStatusCode.BadRequest))
            .ToJsonString().ShouldContain("mode");
        (await UploadAsync(Admin, "validate", Header + "\n" + Row("R1", "Contoso", null), expected: HttpStatusCode.Forbidden))
            .Get<string>("type").ShouldBe("urn:partnerdeals:problem:forbidden");
    }

    [Test]
    public async Task NdJson_IsReadAsCsvIs_AndTheTemplateRegistersAsItStands()
    {
        var partner = await Factory.PartnerAsync(tier: "gold");
        var (company, domain) = NewCompany();
        var ndjson = $$"""{"externalRef":"N-1","companyName":"{{company}}","domain":"{{domain}}","country":"DE","contactName":"Maria Schmidt","contactEmail":"maria@customer.example","dealName":"Rollout","estimatedValue":50000,"currency":"EUR","products":["Analytics Suite"]}""";
        var batch = await UploadAsync(partner.Client, "commit", ndjson + "\n", "application/x-ndjson");
        await SettledAsync(partner.Client, batch.Get<string>("id"), "completed");
        (await RowsAsync(partner.Client, batch.Get<string>("id"))).ShouldHaveSingleItem()!.Get<string>("outcome").ShouldBe("approved");

        var template = await (await partner.Client.GetAsync("/v1/registration-batches/template.csv")).Content.ReadAsStringAsync();
        var fromTemplate = await UploadAsync(partner.Client, "validate", template);
        await SettledAsync(partner.Client, fromTemplate.Get<string>("id"), "validated");
        (await RowsAsync(partner.Client, fromTemplate.Get<string>("id"))).ShouldHaveSingleItem()!.Get<string>("prediction")
            .ShouldBeOneOf("would_be_approved", "would_need_review", "unavailable");
    }

    [Test]
    public async Task APartner_HasAtMostTwoBatchesAtWorkAndTenWaiting_Then429WithRetryAfter()
    {
        var partner = await Factory.PartnerAsync();
        var file = Header + "\n" + string.Concat(Enumerable.Range(1, 2000).Select(i => Row($"W-{i}", $"Waiting Company {i} GmbH", null) + "\n"));
        var ids = new List<string>();
        for (var i = 0; i < 12; i++) ids.Add((await UploadAsync(partner.Client, "validate", file.Replace("W-", $"W{i}-")))!.Get<string>("id"));
        var content = new StringContent(file, Encoding.UTF8, "text/csv");
        var refused = await partner.Client.PostAsync("/v1/registration-batches?mode=validate", content);
        refused.StatusCode.ShouldBe(HttpStatusCode.TooManyRequests, await refused.Content.ReadAsStringAsync());
        refused.Headers.RetryAfter.ShouldNotBeNull();
        foreach (var id in ids) await partner.Client.PostAsync($"/v1/registration-batches/{id}/cancel", null);
        (await ReadJsonAsync(await partner.Client.GetAsync($"/v1/registration-batches/{ids[^1]}"))).Get<string>("state").ShouldBe("cancelled");
    }
}
