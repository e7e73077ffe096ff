using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Time.Testing;
using PartnerDeals.IntegrationTests.Support;
using static PartnerDeals.IntegrationTests.Support.RegistrationCalls;

namespace PartnerDeals.IntegrationTests.Metrics;

/// <summary>
/// A small partner program lived through 2026 on a fake clock, and every figure of the partner
/// metrics, the leaderboard and program health checked against numbers worked out by hand (in the
/// comments). The fixture is built once; the tests only read, so each figure is exact. It runs on a fake clock from
/// 15 January 2026, with the ideal customer profile's deal sizes set.
/// </summary>
public sealed class ProgramMetricsTests : HostTest
{
    private readonly FakeTimeProvider _clock = new(At("2026-01-15T09:00"));

    protected override TimeProvider Clock => _clock;

    // Deals under 10,000 EUR or USD miss the ideal customer profile and wait for a person.
    protected override IDictionary<string, string?>? Settings => new Dictionary<string, string?>
    {
        ["Registrations:Policy:Icp:MinDealSize:EUR"] = "10000",
        ["Registrations:Policy:Icp:MinDealSize:USD"] = "10000",
    };

    private static DateTimeOffset At(string instant) => DateTimeOffset.Parse(instant + "Z", System.Globalization.CultureInfo.InvariantCulture);

    private void Set(string instant) => _clock.SetUtcNow(At(instant));

    private async Task<PartnerClient> NamedPartnerAsync(string name, string tier, object? terms)
    {
        var partner = await CreatePartnerAsync(name: name, tier: tier, terms: terms);
        var id = partner.Get<string>("id");
        return new PartnerClient(id, ClientFor(await IssuePartnerKeyAsync(id)));
    }

    private async Task SuspendAsync(string partnerId)
    {
        var read = await Admin.GetAsync($"/v1/partners/{partnerId}");
        var request = new HttpRequestMessage(HttpMethod.Patch, $"/v1/partners/{partnerId}") { Content = JsonContent.Create(new { status = "suspended" }) };
        request.Headers.IfMatch.Add(read.Headers.ETag!);
        var response = await Admin.SendAsync(request);
        response.StatusCode.ShouldBe(HttpStatusCode.OK, await response.Content.ReadAsStringAsync());
    }

    private static async Task<JsonObject> SubmitAsync(PartnerClient partner, decimal value, string currency)
    {
        var (company, domain) = NewCompany();
        return await RegisterAsync(partner.Client, Body(company, domain, value: value, currency: currency));
    }

    private async Task DirectAsync(string status, decimal amount, string currency, string close, string? opened)
    {
        var (company, domain) = NewCompany();
        var response = await Admin.PutAsJsonAsync($"/v1/opportunities/salesforce/{Guid.NewGuid():N}", new
        {
            accountName = company, accountDomain = domain, country = "DE", status, amount, currency, closeDate = close, openedDate = opened,
        });
        response.StatusCode.ShouldBe(HttpStatusCode.Created, await response.Content.ReadAsStringAsync());
    }

    // No CRM is enabled here; a delivery the CRM refused is written as the dispatcher would leave it.
    private async Task RecordDeadDeliveryAsync(string crm, string createdAt)
    {
        await using var connection = new SqliteConnection(Factory.ConnectionString);
        await connection.OpenAsync();
        await using var command = connection.CreateCommand();
        command.CommandText = """
            INSERT INTO outbox_deliveries (id, event_id, channel, destination, registration_id, registration_version, event_type, status, attempts,
                next_attempt_at, last_status_code, last_error, created_at, updated_at)
            SELECT lower(hex(randomblob(16))), id, 'crm', $crm, registration_id, 1, event_type, 'dead', 1, $at, 400, 'INVALID_FIELD: refused', $at, $at
            FROM outbox_events WHERE partner_id IS NULL ORDER BY id LIMIT 1
            """;
        command.Parameters.AddWithValue("$crm", crm);
        command.Parameters.AddWithValue("$at", createdAt);
        (await command.ExecuteNonQueryAsync()).ShouldBe(1);
    }

    private static async Task<JsonNode> GetAsync(HttpClient client, string url)
    {
        var response = await client.GetAsync(url);
        response.StatusCode.ShouldBe(HttpStatusCode.OK, await response.Content.ReadAsStringAsync());
        return await ReadJsonAsync(response);
    }

    private static async Task<string[]> CsvAsync(HttpClient client, string url)
    {
        var request = new HttpRequestMessage(HttpMethod.Get, url);
        request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("text/csv"));
        var response = await client.SendAsync(request);
        response.StatusCode.ShouldBe(HttpStatusCode.OK, await response.Content.ReadAsStringAsync());
        response.Content.Headers.ContentType!.MediaType.ShouldBe("text/csv");
        return (await response.Content.ReadAsStringAsync()).Split("\r\n", StringSplitOptions.RemoveEmptyEntries);
    }

    private static int Int(JsonNode node, string name) => node.Get<int>(name);

    private static double Number(JsonNode node, string name) => node.Get<double>(name);

    private static string[] Names(JsonNode board) => board["items"]!.AsArray().Select(i => i!.Get<string>("partnerName")).ToArray();

    private static string[] Amounts(JsonNode? amounts) => amounts!.AsArray()
        .Select(a => $"{a!.Get<string>("currency")} {a.Get<decimal>("amount"):0.####} x{a.Get<int>("count")}").ToArray();

    private static (int, double?, double?) Distribution(JsonNode? node) =>
        (node!.Get<int>("count"), node["median"]?.GetValue<double>(), node["p90"]?.GetValue<double>());

    private PartnerClient _gold = null!;
    private PartnerClient _fixed = null!;
    private PartnerClient _idle = null!;
    private string _formerId = "";
    private string _breachingId = "";
    private string _expiringId = "";

    [OneTimeSetUp]
    public async Task LiveThroughTheYear()
    {
        // Joined 2026-01-15: first full quarter Q2, review due after Q3 (2026-09-30).
        _gold = await NamedPartnerAsync("Gold Partner Co", "gold",
            new { feeModel = "percent_of_revenue", feePercent = 10m, feeTrigger = "closed_won", paymentNetDays = 30, protectionDays = 90 });
        _idle = await NamedPartnerAsync("Idle Partner Ltd", "silver", null);
        _formerId = (await NamedPartnerAsync("Former Partner", "silver", null)).Id;
        Set("2026-02-01T09:00");
        await SuspendAsync(_formerId);

        Set("2026-05-05T09:00");
        var i0 = await SubmitAsync(_idle, 30_000m, "EUR"); // qualified, silver: approved at once
        Set("2026-06-30T12:00");
        await ActAsync(Admin, Id(i0), "outcome", new { result = "lost", lostReason = "no budget" });

        // Joined 2026-08-10: first full quarter Q4; its review is not due before 2027-03-31.
        Set("2026-08-10T09:00");
        _fixed = await NamedPartnerAsync("Fixed Fee Partners", "registered",
            new { feeModel = "fixed_fee", feeAmount = 500m, feeCurrency = "EUR", feeTrigger = "qualified_introduction", paymentNetDays = 15, protectionDays = 40 });

        Set("2026-09-20T09:00");
        var g0 = await SubmitAsync(_gold, 80_000m, "EUR"); // approved in Q3
        Set("2026-10-05T09:00");
        var g1 = await SubmitAsync(_gold, 40_000m, "USD"); // approved at once: 0 h
        Set("2026-10-10T09:00");
        await ActAsync(Admin, Id(g0), "outcome", new { result = "won", amount = 90_000m, currency = "EUR" }); // 20 days; fee 9,000 EUR
        Set("2026-10-12T09:00");
        var g2 = await SubmitAsync(_gold, 5_000m, "EUR"); // not ICP: waits
        Set("2026-10-14T09:00");
        await ActAsync(Admin, Id(g2), "approve"); // 48 h
        Set("2026-10-20T09:00");
        var f1 = await SubmitAsync(_fixed, 20_000m, "EUR"); // registered tier: waits
        Set("2026-10-21T15:00");
        _expiringId = Id(await ActAsync(Admin, Id(f1), "approve")); // 30 h; fee 500 EUR; protected to 2026-11-30T15:00
        Set("2026-11-01T09:00");
        await SubmitAsync(_gold, 60_000m, "EUR"); // approved at once, stays protected
        Set("2026-11-04T09:00");
        await ActAsync(Admin, Id(g1), "outcome", new { result = "won", amount = 50_000m, currency = "USD" }); // 30 days; fee 5,000 USD
        Set("2026-11-10T09:00");
        await ActAsync(Admin, Id(g2), "outcome", new { result = "lost", lostReason = "went with a competitor" });
        Set("2026-11-20T09:00");
        _breachingId = Id(await SubmitAsync(_fixed, 3_000m, "EUR")); // 72 h old at the end: past the 48 h SLA
        Set("2026-11-22T09:00");
        await SubmitAsync(_idle, 2_000m, "EUR"); // 24 h old at the end

        Set("2026-11-23T09:00");
        await DirectAsync("won", 100_000m, "EUR", close: "2026-10-31", opened: "2026-08-01"); // 91 days
        await DirectAsync("won", 20_000m, "USD", close: "2026-11-15", opened: "2026-10-01"); // 45 days
        await DirectAsync("won", 30_000m, "EUR", close: "2026-12-01", opened: null); // from today: 8 days
        await DirectAsync("won", 10_000m, "EUR", close: "2026-11-01", opened: null); // closed before it reached us: revenue, no duration
        await DirectAsync("won", 999m, "EUR", close: "2026-09-15", opened: "2026-07-01"); // Q3
        await DirectAsync("open", 500_000m, "EUR", close: "2026-12-20", opened: "2026-11-01"); // not closed
        await RecordDeadDeliveryAsync("salesforce", "2026-11-05 10:00:00+00:00");
    }

    [Test]
    public async Task PartnerMetrics_CurrentQuarter_MatchesTheHandComputedFigures()
    {
        var gold = await GetAsync(Admin, $"/v1/partners/{_gold.Id}/metrics");

        gold.Get<string>("from").ShouldBe("2026-10-01");
        gold.Get<string>("to").ShouldBe("2026-12-31");
        gold.Get<string>("partnerName").ShouldBe("Gold Partner Co");
        gold.Get<string>("tier").ShouldBe("gold");
        Int(gold, "submitted").ShouldBe(3, "g1, g2, g3; g0 was submitted in Q3");
        Int(gold, "icpQualified").ShouldBe(2, "g2's 5,000 EUR is under the minimum");
        Number(gold, "icpQualifiedRate").ShouldBe(0.6667);
        Int(gold, "approved").ShouldBe(3, "g1, g2, g3 approved in Q4");
        Int(gold, "approvedWon").ShouldBe(1, "g1");
        Number(gold, "conversion").ShouldBe(0.3333);
        Int(gold, "won").ShouldBe(2, "g0 and g1 closed won in Q4");
        Int(gold, "lost").ShouldBe(1);
        Amounts(gold["revenue"]).ShouldBe(["EUR 90000 x1", "USD 50000 x1"], "currencies are never added together");
        Distribution(gold["daysToClose"]).ShouldBe((2, 25, 29), "20 and 30 days: median 25, p90 20 + 0.9 × 10");
        Distribution(gold["directDaysToClose"]).ShouldBe((3, 45, 81.8), "8, 45, 91 days: p90 45 + 0.8 × 46");
        Distribution(gold["approvalTurnaroundHours"]).ShouldBe((3, 0, 38.4), "0, 0, 48 hours");
        Amounts(gold["openProtectedPipeline"]).ShouldBe(["EUR 60000 x1"]);
        Amounts(gold["feesEarned"]).ShouldBe(["EUR 9000 x1", "USD 5000 x1"], "10 % of each won amount");

        var fixedFee = await GetAsync(Admin, $"/v1/partners/{_fixed.Id}/metrics");
        Int(fixedFee, "submitted").ShouldBe(2);
        Int(fixedFee, "icpQualified").ShouldBe(1);
        Number(fixedFee, "icpQualifiedRate").ShouldBe(0.5);
        Int(fixedFee, "approved").ShouldBe(1);
        Number(fixedFee, "conversion").ShouldBe(0);
        Int(fixedFee, "won").ShouldBe(0);
        Amounts(fixedFee["revenue"]).ShouldBeEmpty();
        Distribution(fixedFee["daysToClose"]).ShouldBe((0, null, null));
        Distribution(fixedFee["approvalTurnaroundHours"]).ShouldBe((1, 30, 30));
        Amounts(fixedFee["openProtectedPipeline"]).ShouldBe(["EUR 20000 x1"]);
        Amounts(fixedFee["feesEarned"]).ShouldBe(["EUR 500 x1"], "the qualified introduction");

        var idle = await GetAsync(Admin, $"/v1/partners/{_idle.Id}/metrics");
        Int(idle, "submitted").ShouldBe(1);
        Number(idle, "icpQualifiedRate").ShouldBe(0);
        Int(idle, "approved").ShouldBe(0);
        idle["conversion"].ShouldBeNull("nothing was approved to convert");
    }

    [Test]
    public async Task PartnerMetrics_PeriodCuttingThroughARegistration_CountsOnlyWhatHappenedInIt()
    {
        // g0: submitted and approved 2026-09-20 (Q3), won 2026-10-10 (Q4).
        var q3 = await GetAsync(Admin, $"/v1/partners/{_gold.Id}/metrics?from=2026-07-01&to=2026-09-30");
        var september20 = await GetAsync(Admin, $"/v1/partners/{_gold.Id}/metrics?from=2026-09-20&to=2026-09-20");
        var year = await GetAsync(Admin, $"/v1/partners/{_gold.Id}/metrics?from=2026-01-01&to=2026-12-31");

        (Int(q3, "submitted"), Int(q3, "approved"), Int(q3, "approvedWon"), Int(q3, "won")).ShouldBe((1, 1, 0, 0), "not won by the end of Q3");
        Number(q3, "conversion").ShouldBe(0);
        Amounts(q3["revenue"]).ShouldBeEmpty();
        Amounts(q3["feesEarned"]).ShouldBeEmpty();
        Int(september20, "submitted").ShouldBe(1, "a one-day period holds that whole day");
        (Int(year, "submitted"), Int(year, "approved"), Int(year, "approvedWon"), Int(year, "won")).ShouldBe((4, 4, 2, 2));
        Number(year, "conversion").ShouldBe(0.5);
    }

    [Test]
    public async Task Leaderboard_SortsAndRanksEveryPartner()
    {
        var byWon = await GetAsync(Admin, "/v1/partners/metrics");
        var byConversion = await GetAsync(Admin, "/v1/partners/metrics?sort=-conversion");
        var byUsdRevenue = await GetAsync(Admin, "/v1/partners/metrics?sort=-revenue&currency=USD&limit=2");
        var byName = await GetAsync(Admin, "/v1/partners/metrics?sort=name");

        byWon.Get<string>("sort").ShouldBe("-won");
        Names(byWon).ShouldBe(["Gold Partner Co", "Fixed Fee Partners", "Former Partner", "Idle Partner Ltd"], "ties by name");
        Names(byConversion).ShouldBe(["Gold Partner Co", "Fixed Fee Partners", "Former Partner", "Idle Partner Ltd"],
            "0.33, 0, then the partners with nothing approved");
        Names(byUsdRevenue).ShouldBe(["Gold Partner Co", "Fixed Fee Partners"]);
        Names(byName).ShouldBe(["Fixed Fee Partners", "Former Partner", "Gold Partner Co", "Idle Partner Ltd"]);
        var gold = byWon["items"]![0]!;
        Int(gold, "submitted").ShouldBe(3);
        Distribution(gold["directDaysToClose"]).ShouldBe((3, 45, 81.8));
    }

    [Test]
    public async Task ProgramHealth_MatchesTheHandComputedFigures()
    {
        var health = await GetAsync(Admin, "/v1/program/health");

        health.Get<DateTimeOffset>("asOf").ShouldBe(At("2026-11-23T09:00"), "the period has not ended: judged now");
        var revenue = health["revenue"]!.AsArray().Select(r => (
            r!.Get<string>("currency"), r.Get<decimal>("partnerSourced"), r.Get<decimal>("direct"), r.Get<double>("partnerShare")));
        // EUR: 90,000 / (90,000 + 100,000 + 30,000 + 10,000); USD: 50,000 / (50,000 + 20,000).
        revenue.ShouldBe([("EUR", 90_000m, 140_000m, 0.3913), ("USD", 50_000m, 20_000m, 0.7143)]);

        var partners = health["partners"]!;
        (Int(partners, "active"), Int(partners, "suspended"), Int(partners, "terminated"), Int(partners, "submittedInPeriod")).ShouldBe((3, 1, 0, 3));

        // Gold has revenue, Fixed joined too recently, Former is suspended.
        var idle = health["partnersWithoutRevenue"]!.AsArray().ShouldHaveSingleItem()!;
        idle.Get<string>("partnerId").ShouldBe(_idle.Id);
        idle.Get<string>("reviewDueOn").ShouldBe("2026-09-30");
        (Int(idle, "submitted"), Int(idle, "approved"), Int(idle, "lost"), Int(idle, "openProtected")).ShouldBe((2, 1, 1, 0));
        idle.Get<DateTimeOffset>("lastSubmittedAt").ShouldBe(At("2026-11-22T09:00"));

        var queue = health["reviewQueue"]!;
        (Int(queue, "pending"), Int(queue, "slaHours"), Int(queue, "breaches")).ShouldBe((2, 48, 1));
        Number(queue, "oldestAgeHours").ShouldBe(72);
        var breach = queue["breached"]!.AsArray().ShouldHaveSingleItem()!;
        breach.Get<string>("registrationId").ShouldBe(_breachingId);
        Number(breach, "ageHours").ShouldBe(72);

        var expiring = health["expiringSoon"]!;
        (Int(expiring, "withinDays"), Int(expiring, "count")).ShouldBe((14, 1));
        var soon = expiring["items"]!.AsArray().ShouldHaveSingleItem()!;
        soon.Get<string>("registrationId").ShouldBe(_expiringId);
        soon.Get<DateTimeOffset>("protectionExpiresAt").ShouldBe(At("2026-11-30T15:00"));

        var dead = health["deadDeliveries"]!.AsArray().ShouldHaveSingleItem()!;
        (dead.Get<string>("crm"), Int(dead, "count")).ShouldBe(("salesforce", 1));
    }

    [Test]
    public async Task ProgramHealth_PastPeriod_JudgesTheReviewAtThePeriodsEnd()
    {
        // At the end of Q2 (2026-07-01) no partner had completed two full quarters.
        var q2 = await GetAsync(Admin, "/v1/program/health?from=2026-04-01&to=2026-06-30");

        q2.Get<DateTimeOffset>("asOf").ShouldBe(At("2026-07-01T00:00"));
        q2["partnersWithoutRevenue"]!.AsArray().ShouldBeEmpty();
        q2["revenue"]!.AsArray().ShouldBeEmpty("i0 was lost");
        Int(q2["partners"]!, "submittedInPeriod").ShouldBe(1);
    }

    [Test]
    public async Task Csv_LeaderboardAndFees_AnswerSpreadsheetsWithACurrencyPerColumn()
    {
        var leaderboard = await CsvAsync(Admin, "/v1/partners/metrics?sort=-won");
        var fees = await CsvAsync(Admin, $"/v1/partners/{_fixed.Id}/fees");

        var header = leaderboard[0].Split(',');
        header.ShouldContain("revenueEUR");
        header.ShouldContain("revenueUSD");
        var gold = leaderboard[1].Split(',');
        gold[Array.IndexOf(header, "partnerName")].ShouldBe("Gold Partner Co");
        gold[Array.IndexOf(header, "revenueEUR")].ShouldBe("90000");
        gold[Array.IndexOf(header, "revenueUSD")].ShouldBe("50000");
        gold[Array.IndexOf(header, "daysToCloseP90")].ShouldBe("29");
        leaderboard.Length.ShouldBe(5, "a header and four partners");
        fees.Length.ShouldBe(2);
        var feeHeader = fees[0].Split(',');
        fees[1].Split(',')[Array.IndexOf(feeHeader, "amount")].ShouldBe("500");
        fees[1].Split(',')[Array.IndexOf(feeHeader, "accruedAt")].ShouldBe("2026-10-21T15:00:00Z");
    }

    [Test]
    public async Task Metrics_WhoMayReadWhat()
    {
        var (_, crmKey) = await IssueKeyAsync("crm");
        using var crm = ClientFor(crmKey);

        var own = await GetAsync(_gold.Client, $"/v1/partners/{_gold.Id}/metrics");
        own["directDaysToClose"].ShouldBeNull("the vendor's own pipeline is not the partner's to read");
        Int(own, "won").ShouldBe(2);
        await ReadProblemAsync(await _gold.Client.GetAsync($"/v1/partners/{_idle.Id}/metrics"), HttpStatusCode.NotFound, "not-found");
        await ReadProblemAsync(await crm.GetAsync($"/v1/partners/{_gold.Id}/metrics"), HttpStatusCode.Forbidden, "forbidden");
        await ReadProblemAsync(await Admin.GetAsync($"/v1/partners/{Guid.NewGuid()}/metrics"), HttpStatusCode.NotFound, "not-found");
        (await _gold.Client.GetAsync("/v1/partners/metrics")).StatusCode.ShouldBe(HttpStatusCode.Forbidden);
        (await _gold.Client.GetAsync("/v1/program/health")).StatusCode.ShouldBe(HttpStatusCode.Forbidden);
        (await crm.GetAsync("/v1/program/health")).StatusCode.ShouldBe(HttpStatusCode.Forbidden);
        (await Factory.Client(null).GetAsync("/v1/program/health")).StatusCode.ShouldBe(HttpStatusCode.Unauthorized);
    }

    [TestCase("/v1/partners/metrics?sort=loudest", "sort")]
    [TestCase("/v1/partners/metrics?sort=-revenue", "currency")]
    [TestCase("/v1/partners/metrics?sort=revenue&currency=EURO", "currency")]
    [TestCase("/v1/partners/metrics?limit=0", "limit")]
    [TestCase("/v1/partners/metrics?from=2026-12-01&to=2026-11-01", "from")]
    [TestCase("/v1/program/health?from=2000-01-01&to=2026-12-31", "to")]
    public async Task Metrics_BadQuery_IsAProblemNamingTheField(string url, string field)
    {
        var problem = await ReadProblemAsync(await Admin.GetAsync(url), HttpStatusCode.BadRequest, "validation");
        ErrorFields(problem).ShouldBe([field]);
    }

    [Test]
    public async Task Metrics_UnparsableDate_IsABadRequest()
    {
        var response = await Admin.GetAsync("/v1/program/health?from=2026-02-30");
        response.StatusCode.ShouldBe(HttpStatusCode.BadRequest);
        response.Content.Headers.ContentType!.MediaType.ShouldBe("application/problem+json");
    }
}
