using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Microsoft.Extensions.Time.Testing;
using PartnerDeals.IntegrationTests.Support;
using static PartnerDeals.IntegrationTests.Support.RegistrationCalls;

namespace PartnerDeals.IntegrationTests.Registrations;

/// <summary>Fees accrue by the terms snapshotted on each registration, fall due after the net days, and ops mark them paid.</summary>
public sealed class FeeTests : HostTest
{
    // 2026-11-23 is in the fourth quarter: the default period is 2026-10-01 to 2026-12-31.
    private readonly FakeTimeProvider _clock = new(new DateTimeOffset(2026, 11, 23, 9, 0, 0, TimeSpan.Zero));

    protected override TimeProvider Clock => _clock;

    [Test]
    public async Task FixedFeeForQualifiedIntroduction_AccruesAtApproval_AndFallsDueAfterTheNetDays()
    {
        var partner = await PartnerAsync(terms: new
        {
            feeModel = "fixed_fee", feeAmount = 750m, feeCurrency = "USD", feeTrigger = "qualified_introduction", paymentNetDays = 30,
        });
        var (company, domain) = NewCompany();
        var registration = await RegisterAsync(partner.Client, Body(company, domain));
        Status(registration).ShouldBe("approved");
        // A later change in the approved state (an extension, an outcome) earns no second introduction fee.
        await ActAsync(Admin, Id(registration), "outcome", new { result = "won", amount = 40_000m, currency = "EUR" });

        var statement = await StatementAsync(partner.Client, partner.Id);

        var fee = statement["items"]!.AsArray().Single()!;
        fee.Get<string>("trigger").ShouldBe("qualified_introduction");
        fee.Get<decimal>("amount").ShouldBe(750m);
        fee.Get<string>("currency").ShouldBe("USD");
        fee.Get<string>("status").ShouldBe("accrued");
        fee.Get<DateTimeOffset>("dueAt").ShouldBe(_clock.GetUtcNow().AddDays(30));
        _clock.Advance(TimeSpan.FromDays(30));
        (await StatementAsync(partner.Client, partner.Id, "2026-11-01", "2026-11-30"))["items"]![0]!.Get<string>("status").ShouldBe("due");
    }

    [Test]
    public async Task PercentOfRevenue_AccruesAtTheWonOutcome_OnTheWonAmountInItsCurrency()
    {
        var partner = await PartnerAsync(terms: new { feeModel = "percent_of_revenue", feePercent = 12.5m, feeTrigger = "closed_won", paymentNetDays = 45 });
        var (first, firstDomain) = NewCompany();
        var (second, secondDomain) = NewCompany();
        var (third, thirdDomain) = NewCompany();
        var euro = await RegisterAsync(partner.Client, Body(first, firstDomain));
        var dollar = await RegisterAsync(partner.Client, Body(second, secondDomain, currency: "USD"));
        var lost = await RegisterAsync(partner.Client, Body(third, thirdDomain));

        var before = await StatementAsync(Admin, partner.Id);
        await ActAsync(Admin, Id(euro), "outcome", new { result = "won", amount = 98_500.10m, currency = "EUR" });
        await ActAsync(Admin, Id(dollar), "outcome", new { result = "won", amount = 20_000m, currency = "USD" });
        await ActAsync(Admin, Id(lost), "outcome", new { result = "lost", lostReason = "budget" });

        before["items"]!.AsArray().ShouldBeEmpty("approval earns nothing on a revenue share");
        var statement = await StatementAsync(Admin, partner.Id);
        var items = statement["items"]!.AsArray().Select(i => i!).ToList();
        items.Count.ShouldBe(2, "a lost deal earns nothing");
        var onEuro = items.Single(i => i.Get<string>("registrationId") == Id(euro));
        onEuro.Get<decimal>("basisAmount").ShouldBe(98_500.10m);
        onEuro.Get<decimal>("feePercent").ShouldBe(12.5m);
        onEuro.Get<decimal>("amount").ShouldBe(12_312.51m, "12.5 % of 98,500.10 = 12,312.5125, to the cent");
        var totals = statement["totals"]!.AsArray();
        totals.Select(t => t!.Get<string>("currency")).ShouldBe(["EUR", "USD"], "currencies are never summed together");
        totals[1]!.Get<decimal>("accrued").ShouldBe(2_500m);
    }

    [Test]
    public async Task MarkPaid_RecordsTheReference_OnceOnly_AndOnlyOpsMayDoIt()
    {
        var partner = await PartnerAsync(terms: new { feeModel = "fixed_fee", feeAmount = 500m, feeCurrency = "EUR", feeTrigger = "closed_won" });
        var (company, domain) = NewCompany();
        var registration = await RegisterAsync(partner.Client, Body(company, domain));
        await ActAsync(Admin, Id(registration), "outcome", new { result = "won", amount = 10_000m, currency = "EUR" });
        var feeId = Id((await StatementAsync(Admin, partner.Id))["items"]![0]!);

        await ReadProblemAsync(await partner.Client.PostAsJsonAsync($"/v1/fees/{feeId}/paid", new { reference = "mine" }), HttpStatusCode.Forbidden, "forbidden");
        var paid = await Admin.PostAsJsonAsync($"/v1/fees/{feeId}/paid", new { reference = "REM-2026-11-0042" });
        var again = await Admin.PostAsJsonAsync($"/v1/fees/{feeId}/paid", new { reference = "REM-2026-11-0043" });

        paid.StatusCode.ShouldBe(HttpStatusCode.OK, await paid.Content.ReadAsStringAsync());
        var fee = await ReadJsonAsync(paid);
        fee.Get<string>("status").ShouldBe("paid");
        fee.Get<string>("paymentReference").ShouldBe("REM-2026-11-0042");
        await ReadProblemAsync(again, HttpStatusCode.Conflict, "invalid-transition");
        await ReadProblemAsync(await Admin.PostAsync($"/v1/fees/{Guid.NewGuid()}/paid", null), HttpStatusCode.NotFound, "not-found");
        (await StatementAsync(partner.Client, partner.Id))["totals"]![0]!.Get<decimal>("paid").ShouldBe(500m);
    }

    [Test]
    public async Task Statement_OtherPartnersAndBadPeriods_AreRefused()
    {
        var partner = await PartnerAsync();
        var other = await PartnerAsync();
        var (_, crmKey) = await IssueKeyAsync("crm");
        using var crm = ClientFor(crmKey);

        await ReadProblemAsync(await partner.Client.GetAsync($"/v1/partners/{other.Id}/fees"), HttpStatusCode.NotFound, "not-found");
        await ReadProblemAsync(await crm.GetAsync($"/v1/partners/{partner.Id}/fees"), HttpStatusCode.Forbidden, "forbidden");
        await ReadProblemAsync(await Admin.GetAsync($"/v1/partners/{Guid.NewGuid()}/fees"), HttpStatusCode.NotFound, "not-found");
        var problem = await ReadProblemAsync(await Admin.GetAsync($"/v1/partners/{partner.Id}/fees?from=2026-12-01&to=2026-11-01"),
            HttpStatusCode.BadRequest, "validation");
        ErrorFields(problem).ShouldBe(["from"]);
        (await Admin.GetAsync($"/v1/partners/{partner.Id}/fees?from=2026-13-01")).StatusCode.ShouldBe(HttpStatusCode.BadRequest);
        var statement = await StatementAsync(Admin, partner.Id);
        statement.Get<string>("from").ShouldBe("2026-10-01");
        statement.Get<string>("to").ShouldBe("2026-12-31");
    }

    private static async Task<JsonObject> StatementAsync(HttpClient client, string partnerId, string? from = null, string? to = null)
    {
        var query = from is null ? "" : $"?from={from}&to={to}";
        var response = await client.GetAsync($"/v1/partners/{partnerId}/fees{query}");
        response.StatusCode.ShouldBe(HttpStatusCode.OK, await response.Content.ReadAsStringAsync());
        return (await ReadJsonAsync(response)).AsObject();
    }
}
