using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.Data.Sqlite;
using PartnerDeals.IntegrationTests.Registrations;
using PartnerDeals.IntegrationTests.Support;
using static PartnerDeals.IntegrationTests.Support.RegistrationCalls;

namespace PartnerDeals.IntegrationTests.Hardening;

/// <summary>Data that must stay exact: money to the last digit, dates within bounds, text without hidden characters, one value per key.</summary>
public sealed class ExactDataTests : HostTest
{
    private HttpClient _crm = null!;

    [OneTimeSetUp]
    public async Task IssueKeys() => _crm = Factory.Client((await IssueKeyAsync("crm")).Key);

    [OneTimeTearDown]
    public void DisposeCrm() => _crm.Dispose();

    [TestCase("123456789012.3456")]
    [TestCase("999999999999999.9999")]
    [TestCase("0.0001")]
    public async Task Register_AmountOfManySignificantDigits_IsStoredAndReadExactly(string amount)
    {
        var partner = await PartnerAsync();
        var (name, domain) = NewCompany();
        var body = JsonSerializer.SerializeToNode(Body(name, domain), JsonSerializerOptions.Web)!;
        body["deal"]!["estimatedValue"] = JsonNode.Parse(amount);

        var created = await RegisterAsync(partner.Client, body);
        var read = await ReadAsync(Id(created));

        created["deal"]!["estimatedValue"]!.ToJsonString().ShouldBe(amount);
        read["deal"]!["estimatedValue"]!.ToJsonString().ShouldBe(amount);
        (await StoredAsync("SELECT typeof(estimated_value) || ':' || estimated_value FROM registrations WHERE id = @Id", Id(created)))
            .ShouldBe("text:" + amount);
    }

    [Test]
    public async Task Won_AmountOfNineteenDigits_IsTheFeesExactBasis()
    {
        var partner = await PartnerAsync("gold", new { feeModel = "percent_of_revenue", feePercent = 10m, feeTrigger = "closed_won" });
        var (name, domain) = NewCompany();
        var id = Id(await RegisterAsync(partner.Client, Body(name, domain)));
        if (Status(await ReadAsync(id)) != "approved") await ActAsync(Admin, id, "approve");

        var won = await _crm.PostAsync($"/v1/registrations/{id}/outcome",
            JsonBody("""{"result":"won","amount":999999999999999.9999,"currency":"EUR"}"""));
        won.StatusCode.ShouldBe(HttpStatusCode.OK, await won.Content.ReadAsStringAsync());

        (await ReadAsync(id))["outcome"]!["amount"]!.ToJsonString().ShouldBe("999999999999999.9999");
        var fees = await ReadJsonAsync(await Admin.GetAsync($"/v1/partners/{partner.Id}/fees"));
        var fee = fees["items"]!.AsArray().Single(f => f!.Get<string>("registrationId") == id)!;
        fee["basisAmount"]!.ToJsonString().ShouldBe("999999999999999.9999");
        fee["amount"]!.ToJsonString().ShouldBe("100000000000000");
    }

    [Test]
    public async Task Opportunity_AmountOfManySignificantDigits_IsStoredAndReadExactly()
    {
        var id = Guid.NewGuid().ToString("N");
        var put = await _crm.PutAsync($"/v1/opportunities/salesforce/{id}",
            JsonBody($$"""{"accountName":"Exact Amounts {{id[..6]}}","status":"open","amount":123456789012.3456,"currency":"EUR"}"""));
        put.StatusCode.ShouldBeOneOf(HttpStatusCode.OK, HttpStatusCode.Created);

        var read = await ReadJsonAsync(await _crm.GetAsync($"/v1/opportunities/salesforce/{id}"));
        read["amount"]!.ToJsonString().ShouldBe("123456789012.3456");
    }

    [TestCase("2000-01-01T00:00:00Z", TestName = "Outcome_ClosedBeforeTheSubmission_IsRefused")]
    [TestCase("2999-12-31T00:00:00Z", TestName = "Outcome_ClosedFarInTheFuture_IsRefused")]
    public async Task Outcome_ClosedAtOutsideSubmissionToNow_IsRefusedAndChangesNothing(string closedAt)
    {
        var partner = await PartnerAsync("gold");
        var (name, domain) = NewCompany();
        var id = Id(await RegisterAsync(partner.Client, Body(name, domain)));
        if (Status(await ReadAsync(id)) != "approved") await ActAsync(Admin, id, "approve");

        var response = await _crm.PostAsJsonAsync($"/v1/registrations/{id}/outcome", new { result = "won", amount = 1000m, currency = "EUR", closedAt });

        ErrorFields(await ReadProblemAsync(response, HttpStatusCode.BadRequest, "validation")).ShouldBe(["closedAt"]);
        Status(await ReadAsync(id)).ShouldBe("approved");
    }

    [TestCase("today", TestName = "Outcome_ClosedOnTheSubmissionsDayAsADate_IsRecorded")]
    [TestCase("now+0000", TestName = "Outcome_ClosedAtWithSalesforcesOffsetWithoutAColon_IsRecorded")]
    [TestCase("now+05:30", TestName = "Outcome_ClosedAtWithAnotherOffset_IsRecorded")]
    public async Task Outcome_ClosedAtAsCrmsSendIt_IsRecordedAndEarnsTheFee(string form)
    {
        var partner = await PartnerAsync("gold");
        var (name, domain) = NewCompany();
        var id = Id(await RegisterAsync(partner.Client, Body(name, domain)));
        var now = DateTimeOffset.UtcNow;
        var closedAt = form switch
        {
            "today" => now.ToString("yyyy-MM-dd", System.Globalization.CultureInfo.InvariantCulture),
            "now+0000" => now.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'+0000'", System.Globalization.CultureInfo.InvariantCulture),
            _ => now.ToOffset(TimeSpan.FromMinutes(330)).ToString("yyyy-MM-dd'T'HH:mm:ss.fffzzz", System.Globalization.CultureInfo.InvariantCulture),
        };

        var response = await _crm.PostAsJsonAsync($"/v1/registrations/{id}/outcome", new { result = "won", amount = 1000m, currency = "EUR", closedAt });

        response.StatusCode.ShouldBe(HttpStatusCode.OK, await response.Content.ReadAsStringAsync());
        var outcome = (await ReadAsync(id))["outcome"]!;
        var recorded = outcome.Get<DateTimeOffset>("closedAt");
        recorded.ShouldBeGreaterThanOrEqualTo((await ReadAsync(id)).Get<DateTimeOffset>("submittedAt"));
        recorded.UtcDateTime.Date.ShouldBe(now.UtcDateTime.Date);
        var fees = await ReadJsonAsync(await Admin.GetAsync($"/v1/partners/{partner.Id}/fees"));
        fees["items"]!.AsArray().ShouldContain(f => f!.Get<string>("registrationId") == id);
    }

    [TestCase(1, TestName = "Outcome_ClosedTomorrowAsADate_IsRefused")]
    [TestCase(-1, TestName = "Outcome_ClosedTheDayBeforeTheSubmissionAsADate_IsRefused")]
    public async Task Outcome_ClosedOnADayOutsideSubmissionToToday_IsRefused(int days)
    {
        var partner = await PartnerAsync("gold");
        var (name, domain) = NewCompany();
        var id = Id(await RegisterAsync(partner.Client, Body(name, domain)));
        var closedAt = DateTimeOffset.UtcNow.AddDays(days).ToString("yyyy-MM-dd", System.Globalization.CultureInfo.InvariantCulture);

        var response = await _crm.PostAsJsonAsync($"/v1/registrations/{id}/outcome", new { result = "won", amount = 1000m, currency = "EUR", closedAt });

        ErrorFields(await ReadProblemAsync(response, HttpStatusCode.BadRequest, "validation")).ShouldBe(["closedAt"]);
        Status(await ReadAsync(id)).ShouldBe("approved");
    }

    [Test]
    public async Task Edit_OptionalFieldSentAsNull_IsRemoved_ARequiredOneIsAProblem()
    {
        var partner = await PartnerAsync("registered");
        var (name, domain) = NewCompany();
        var body = new
        {
            customer = new { companyName = name, domain, country = "DE", industry = "pharma", employeeCount = 40, alternateNames = new[] { name + " Holding" } },
            contact = new { name = "Maria Schmidt", email = "maria@customer.example", title = "CIO" },
            deal = new { name = "Rollout", products = new[] { "analytics" }, estimatedValue = 50_000m, currency = "EUR", expectedCloseDate = "2027-03-31", notes = "n" },
        };
        var id = Id(await RegisterAsync(partner.Client, body));

        Task<HttpResponseMessage> PatchAsync(string json) => PatchRegistrationAsync(partner.Client, id, JsonBody(json, "application/merge-patch+json"));

        var removed = await PatchAsync("""
            {"customer":{"domain":null,"industry":null,"employeeCount":null,"alternateNames":null},"contact":{"title":null},
             "deal":{"products":null,"expectedCloseDate":null,"notes":null}}
            """);
        removed.StatusCode.ShouldBe(HttpStatusCode.OK, await removed.Content.ReadAsStringAsync());
        var read = await ReadAsync(id);
        read["customer"]!["domain"].ShouldBeNull();
        read["customer"]!["industry"].ShouldBeNull();
        read["customer"]!["employeeCount"].ShouldBeNull();
        read["customer"]!["alternateNames"]!.AsArray().ShouldBeEmpty();
        read["contact"]!["title"].ShouldBeNull();
        read["deal"]!["products"]!.AsArray().ShouldBeEmpty();
        read["deal"]!["expectedCloseDate"].ShouldBeNull();
        read["deal"]!["notes"].ShouldBeNull();
        read["customer"]!.Get<string>("companyName").ShouldBe(name, "a field left out stays");

        var required = await PatchAsync("""{"customer":{"companyName":null},"deal":{"currency":null}}""");
        ErrorFields(await ReadProblemAsync(required, HttpStatusCode.BadRequest, "validation")).Order()
            .ShouldBe(["customer.companyName", "deal.currency"]);
    }

    [TestCase("\u2028")]
    [TestCase("\u2029")]
    public async Task Register_NameWithALineOrParagraphSeparator_IsAProblem(string separator)
    {
        var partner = await PartnerAsync("gold");
        var (name, domain) = NewCompany();

        var response = await PostRegistrationAsync(partner.Client, Body(name.Replace(" ", separator, StringComparison.Ordinal), domain));

        ErrorFields(await ReadProblemAsync(response, HttpStatusCode.BadRequest, "validation")).ShouldBe(["customer.companyName"]);
    }

    [TestCase("/v1/partners/{partner}/metrics?from=9999-12-31&to=9999-12-31", "from")]
    [TestCase("/v1/partners/{partner}/fees?from=9999-12-31&to=9999-12-31", "from")]
    [TestCase("/v1/partners/metrics?from=9999-12-01&to=9999-12-31", "to")]
    [TestCase("/v1/program/health?from=9999-12-01&to=9999-12-31", "to")]
    [TestCase("/v1/program/health?from=0001-01-01&to=0001-01-31", "from")]
    public async Task Period_AtTheEdgeOfTheCalendar_IsABadRequestNotA500(string url, string field)
    {
        var partner = await PartnerAsync();
        var client = url.Contains("{partner}", StringComparison.Ordinal) ? partner.Client : Admin;

        var response = await client.GetAsync(url.Replace("{partner}", partner.Id, StringComparison.Ordinal));

        ErrorFields(await ReadProblemAsync(response, HttpStatusCode.BadRequest, "validation")).ShouldContain(field);
    }

    private static readonly (string Kind, string Text)[] HiddenCharacters =
    [
        ("NUL", "\u0000"), ("ESC", "\u001B"), ("CR LF", "\r\n"), ("byte-order mark", "\uFEFF"), ("U+FFFF", "\uFFFF"),
        ("right-to-left override", "\u202E"), ("non-character U+FDD0", "\uFDD0"),
    ];

    private static IEnumerable<TestCaseData> HiddenCharacterCases() => HiddenCharacters.Select(h => new TestCaseData(h.Kind).SetArgDisplayNames(h.Kind));

    [TestCaseSource(nameof(HiddenCharacterCases))]
    public async Task Names_WithAControlOrNonCharacter_AreRefusedFromPartnersAndOps_AndStoredCleanFromTheVendor(string kind)
    {
        var hidden = HiddenCharacters.Single(h => h.Kind == kind).Text;
        var name = "Contoso" + hidden + "Pharma";
        var partner = await PartnerAsync();

        var registration = JsonSerializer.SerializeToNode(Body(name, null), JsonSerializerOptions.Web)!;
        var alternate = JsonSerializer.SerializeToNode(Body(NewCompany().Name, null), JsonSerializerOptions.Web)!;
        alternate["customer"]!["alternateNames"] = new JsonArray(name);
        var refusals = new (HttpResponseMessage Response, string Field)[]
        {
            (await PostRegistrationAsync(partner.Client, registration), "customer.companyName"),
            (await PostRegistrationAsync(partner.Client, alternate), "customer.alternateNames"),
            (await Admin.PostAsJsonAsync("/v1/conflict-checks", new { companyName = name }), "companyName"),
            (await Admin.PostAsJsonAsync("/v1/partners", new { name, type = "reseller", tier = "silver", contactEmail = "a@partner.example" }), "name"),
        };
        // The vendor's pipeline is cleaned and kept: an opportunity lost to a stray character is an account open to every partner.
        var upsert = await _crm.PutAsJsonAsync($"/v1/opportunities/salesforce/{Guid.NewGuid():N}", new { accountName = name, status = "open" });
        upsert.StatusCode.ShouldBe(HttpStatusCode.Created, kind);
        (await ReadJsonAsync(upsert)).Get<string>("accountName").ShouldBe(kind == "CR LF" ? "Contoso Pharma" : "ContosoPharma", kind);

        foreach (var (response, field) in refusals)
        {
            ErrorFields(await ReadProblemAsync(response, HttpStatusCode.BadRequest, "validation")).ShouldBe([field], kind);
        }
        var list = await ReadJsonAsync(await Admin.GetAsync($"/v1/registrations?partnerId={partner.Id}"));
        list["items"]!.AsArray().ShouldBeEmpty();
    }

    [Test]
    public async Task Register_DirectionalMarkInARightToLeftName_IsAccepted()
    {
        var partner = await PartnerAsync();
        var (name, domain) = NewCompany();
        await RegisterAsync(partner.Client, Body("\u200F" + name, domain));
    }

    [Test]
    public async Task Register_DuplicateKey_IsRefusedNamingTheKeyAndRegistersNothing()
    {
        var partner = await PartnerAsync();
        var (name, domain) = NewCompany();
        var json = JsonSerializer.Serialize(Body(name, domain), JsonSerializerOptions.Web)
            .Replace("\"companyName\":", "\"companyName\":\"Harmless Ltd\",\"companyName\":", StringComparison.Ordinal);

        var response = await partner.Client.PostAsync("/v1/registrations", JsonBody(json));

        var problem = await ReadProblemAsync(response, HttpStatusCode.BadRequest, "malformed-request");
        ErrorFields(problem).ShouldBe(["customer.companyName"]);
        problem.Get<string>("detail").ShouldContain("customer.companyName");
        (await ReadJsonAsync(await Admin.GetAsync($"/v1/registrations?partnerId={partner.Id}")))["items"]!.AsArray().ShouldBeEmpty();
    }

    [Test]
    public async Task Register_RetryWithTheSameMeaningWrittenDifferently_ReplaysTheFirstAnswer()
    {
        var partner = await PartnerAsync();
        var (name, domain) = NewCompany();
        var key = Guid.NewGuid().ToString();
        var first = JsonSerializer.SerializeToNode(Body(name, domain, value: 120000m), JsonSerializerOptions.Web)!;
        first["coSell"] = null;
        var created = await RegisterAsync(partner.Client, first, key);

        var retry = JsonSerializer.SerializeToNode(Body("  " + name + " ", domain), JsonSerializerOptions.Web)!;
        retry["deal"]!["estimatedValue"] = JsonNode.Parse("120000.00");
        retry["coSell"] = new JsonObject { ["relationshipOwner"] = "partner", ["demo"] = "partner", ["contract"] = "partner" };
        var replayed = await PostRegistrationAsync(partner.Client, retry, key);

        replayed.StatusCode.ShouldBe(HttpStatusCode.Created, await replayed.Content.ReadAsStringAsync());
        replayed.Headers.GetValues("Idempotent-Replayed").ShouldBe(["true"]);
        Id(await ReadJsonAsync(replayed)).ShouldBe(Id(created));

        retry["deal"]!["estimatedValue"] = JsonNode.Parse("120000.01");
        await ReadProblemAsync(await PostRegistrationAsync(partner.Client, retry, key), HttpStatusCode.UnprocessableEntity, "idempotency-key-reused");
    }

    [Test]
    public async Task Import_RecordAboveTheSizeLimitAfterGoodRows_Answers413WithWhatWasImported()
    {
        var tag = Guid.NewGuid().ToString("N")[..8];
        var csv = new StringBuilder("source,externalId,accountName,status\n");
        for (var i = 0; i < 5_000; i++) csv.Append($"csvlimit,{tag}-{i},Limit Test {tag} {i},open\n");
        csv.Append($"csvlimit,{tag}-huge,{new string('x', 3_000_000)},open\n");
        csv.Append($"csvlimit,{tag}-after,After The Huge One {tag},open\n");

        var response = await _crm.PostAsync("/v1/opportunities/import", new StringContent(csv.ToString(), Encoding.UTF8, "text/csv"));

        var problem = await ReadProblemAsync(response, HttpStatusCode.RequestEntityTooLarge, "payload-too-large");
        problem.Get<int>("stoppedAtRow").ShouldBe(5_001);
        problem.Get<int>("created").ShouldBe(5_000);
        var listed = await ReadJsonAsync(await _crm.GetAsync($"/v1/opportunities/csvlimit/{tag}-4999"));
        listed.Get<string>("accountName").ShouldBe($"Limit Test {tag} 4999");
    }

    [Test]
    public async Task Import_HeaderAboveTheSizeLimit_IsABadRequestNotA500()
    {
        var csv = "source,externalId," + new string('x', 3_000_000) + ",status\n";

        var response = await _crm.PostAsync("/v1/opportunities/import", new StringContent(csv, Encoding.UTF8, "text/csv"));

        await ReadProblemAsync(response, HttpStatusCode.BadRequest, "malformed-request");
    }

    [Test]
    public async Task Import_UnterminatedQuote_IsReportedAndTheRowsAfterItAreImported()
    {
        var tag = Guid.NewGuid().ToString("N")[..8];
        var csv = $"source,externalId,accountName,status\ncsvquote,{tag}-1,First {tag},open\ncsvquote,{tag}-2,\"Broken {tag},open\n"
            + $"csvquote,{tag}-3,Third {tag},open\ncsvquote,{tag}-4,Fourth {tag},open\n";

        var response = await _crm.PostAsync("/v1/opportunities/import", new StringContent(csv, Encoding.UTF8, "text/csv"));

        response.StatusCode.ShouldBe(HttpStatusCode.OK, await response.Content.ReadAsStringAsync());
        var result = await ReadJsonAsync(response);
        result.Get<int>("created").ShouldBe(3);
        result.Get<int>("rejected").ShouldBe(1);
        result["rejectedRows"]![0]!.Get<int>("index").ShouldBe(2);
        (await _crm.GetAsync($"/v1/opportunities/csvquote/{tag}-4")).StatusCode.ShouldBe(HttpStatusCode.OK);
    }

    [Test]
    public async Task Import_RowThatIsNotUtf8_IsRejectedNamingTheColumn()
    {
        var tag = Guid.NewGuid().ToString("N")[..8];
        byte[] Utf8(string s) => Encoding.UTF8.GetBytes(s);
        byte[] body = [.. Utf8($"source,externalId,accountName,status\ncsvutf,{tag}-1,M"), 0xFC, .. Utf8($"ller {tag},open\ncsvutf,{tag}-2,Good {tag},open\n")];
        var content = new ByteArrayContent(body);
        content.Headers.ContentType = new("text/csv");

        var response = await _crm.PostAsync("/v1/opportunities/import", content);

        response.StatusCode.ShouldBe(HttpStatusCode.OK, await response.Content.ReadAsStringAsync());
        var result = await ReadJsonAsync(response);
        result.Get<int>("created").ShouldBe(1);
        result["rejectedRows"]![0]!["errors"]!.AsObject().Select(e => e.Key).ShouldBe(["accountName"]);
    }

    private async Task<string?> StoredAsync(string sql, string id)
    {
        await using var connection = new SqliteConnection(Factory.ConnectionString);
        await connection.OpenAsync();
        await using var command = connection.CreateCommand();
        command.CommandText = sql;
        command.Parameters.AddWithValue("@Id", id);
        return (string?)await command.ExecuteScalarAsync();
    }
}
