using System.Net;
using System.Net.Http.Json;
using PartnerDeals.IntegrationTests.Support;
using static PartnerDeals.IntegrationTests.Support.RegistrationCalls;

namespace PartnerDeals.IntegrationTests.Registrations;

/// <summary>
/// Through <c>POST /v1/registrations</c>, names as CRMs and partners really write them: abbreviated, in their
/// own script, wrapped in a CRM's notes, misspelt in common words, with the evidence beside the name. None of
/// them is approved past an open direct opportunity of the company; companies that merely look alike are never
/// a conflict.
/// </summary>
public sealed class RealNameTests : HostTest
{
    private HttpClient _ops = null!;
    private HttpClient _crm = null!;

    // The direct pipeline every case is registered against: (external id, account name, domain, country, alternate names).
    private static readonly (string Id, string Name, string? Domain, string Country, string[]? Alternates)[] Pipeline =
    [
        ("marriott", "Marriott International, Inc.", null, "US", null),
        ("ryder", "Ryder System, Inc.", null, "US", null),
        ("nba", "National Basketball Association", null, "US", null),
        ("airproducts", "Air Products and Chemicals, Inc.", null, "US", null),
        ("contoso", "Contoso Pharma GmbH", "contoso-pharma.de", "DE", null),
        ("yamaha", "Yamaha Corporation", null, "JP", null),
        ("shimano", "Shimano Inc.", null, "JP", null),
        ("kakao", "Kakao Corp.", null, "KR", null),
        ("megafon", "МегаФон", null, "RU", null),
        ("byd", "BYD Company Limited", null, "CN", ["比亚迪股份有限公司"]),
        ("transunion", "ACCOUNTS PAYABLE - TransUnion", null, "US", null),
        ("equifax", "Attn: Accounts Payable, Equifax Inc.", null, "US", null),
        ("experian", "Experian plc c/o Jane Doe", null, "GB", null),
        ("fabrikam", "Fabrikam Retail GmbH (EMEA)", "fabrikam-retail.de", "DE", null),
        ("northwind", "Northwind Traders - Berlin office", null, "DE", null),
        ("tailspin", "Tailspin Toys AG [Renewal 2027]", null, "DE", null),
        ("fnba", "First National Bank Alaska", null, "US", null),
        ("chinaeastern", "China Eastern Airlines", null, "CN", null),
        ("3m", "3M Company", null, "US", null),
        ("abinbev", "AB InBev", null, "BE", null),
    ];

    [OneTimeSetUp]
    public async Task SeedPipeline()
    {
        _ops = Factory.Client((await IssueKeyAsync("ops")).Key);
        _crm = Factory.Client((await IssueKeyAsync("crm")).Key);
        var items = Pipeline.Select(o => new
        {
            source = "salesforce", externalId = o.Id, accountName = o.Name, accountDomain = o.Domain, country = o.Country, status = "open",
            alternateNames = o.Alternates,
        }).ToList();
        var batch = await _crm.PostAsJsonAsync("/v1/opportunities/batch", new { items });
        batch.StatusCode.ShouldBe(HttpStatusCode.OK, await batch.Content.ReadAsStringAsync());
    }

    [OneTimeTearDown]
    public void DisposeVendorClients()
    {
        _ops.Dispose();
        _crm.Dispose();
    }

    private static object Registration(string name, string? domain, string country, string? email = null) => new
    {
        customer = new { companyName = name, domain, country },
        contact = new { name = "Maria Schmidt", email = email ?? "maria@customer.example" },
        deal = new { name = "Rollout", estimatedValue = 50_000m, currency = "EUR" },
    };

    // Every input the issue quotes, with the opportunity it names.
    private static IEnumerable<TestCaseData> RealWorldNames()
    {
        TestCaseData Case(string kind, string name, string country, string expected, string? domain = null, string? email = null) =>
            new TestCaseData(name, domain, country, email, expected).SetArgDisplayNames(kind);

        yield return Case("Intl", "Marriott Intl, Inc.", "US", "Marriott International, Inc.");
        yield return Case("Sys", "Ryder Sys, Inc.", "US", "Ryder System, Inc.");
        yield return Case("Natl and Assn", "Natl Basketball Assn", "US", "National Basketball Association");
        yield return Case("Prod + Chem", "Air Prod. + Chem.", "US", "Air Products and Chemicals, Inc.");
        yield return Case("Pharmaceuticals for Pharma", "Contoso Pharmaceuticals GmbH", "DE", "Contoso Pharma GmbH");
        yield return Case("株式会社 glued after", "ヤマハ株式会社", "JP", "Yamaha Corporation");
        yield return Case("株式会社 glued before", "株式会社シマノ", "JP", "Shimano Inc.");
        yield return Case("㈱", "㈱シマノ", "JP", "Shimano Inc.");
        yield return Case("주식회사", "주식회사 카카오", "KR", "Kakao Corp.");
        yield return Case("(주)", "(주)카카오", "KR", "Kakao Corp.");
        yield return Case("case change", "MegaFon", "RU", "МегаФон");
        yield return Case("Cyrillic with ГмбХ", "Контосо Фарма ГмбХ", "DE", "Contoso Pharma GmbH");
        yield return Case("alternate name with 股份有限公司", "比亚迪", "CN", "BYD Company Limited");
        yield return Case("Accounts Payable -", "TransUnion", "US", "ACCOUNTS PAYABLE - TransUnion");
        yield return Case("Attn:", "Equifax", "US", "Attn: Accounts Payable, Equifax Inc.");
        yield return Case("c/o", "Experian", "GB", "Experian plc c/o Jane Doe");
        yield return Case("(EMEA)", "Fabrikam Retail", "DE", "Fabrikam Retail GmbH (EMEA)");
        yield return Case("- Berlin office", "Northwind Traders GmbH", "DE", "Northwind Traders - Berlin office");
        yield return Case("[Renewal 2027]", "Tailspin Toys", "DE", "Tailspin Toys AG [Renewal 2027]");
        yield return Case("e-mail domain beside another website", "Contoso Pharma Services GmbH", "DE", "Contoso Pharma GmbH",
            domain: "cps.example", email: "maria.schmidt@contoso-pharma.de");
        yield return Case("website names the company", "Contoso Pharma Vertrieb", "DE", "Contoso Pharma GmbH", domain: "contosopharma.de");
        yield return Case("exact name, another country's site", "Contoso Pharma GmbH", "AT", "Contoso Pharma GmbH", domain: "contoso-pharma.com");
    }

    [TestCaseSource(nameof(RealWorldNames))]
    public async Task Register_RealWorldFormOfAnOpenDirectDeal_IsNeverAutoApproved(string name, string? domain, string country, string? email, string expected)
    {
        var partner = await PartnerAsync("gold");

        var registration = await RegisterAsync(partner.Client, Registration(name, domain, country, email));

        Status(registration).ShouldBe("pending_review", $"'{name}' was decided {registration["verdict"]}");
        var conflictId = (await ReadAsync(Id(registration))).Get<string>("conflictId");
        var conflict = await ReadJsonAsync(await _ops.GetAsync($"/v1/conflicts/{conflictId}"));
        conflict["candidates"]!.AsArray().Select(c => c!.Get<string>("accountName")).ShouldContain(expected);
    }

    // Companies that share generic words, numbers, initials, or a name in another country under another domain.
    private static IEnumerable<TestCaseData> DistinctCompanies()
    {
        yield return new TestCaseData("First National Bank of Omaha", null, "US").SetArgDisplayNames("First National Bank");
        yield return new TestCaseData("China Southern Airlines", null, "CN").SetArgDisplayNames("China Southern");
        yield return new TestCaseData("M3, Inc.", null, "US").SetArgDisplayNames("M3");
        yield return new TestCaseData("AB Volvo", null, "SE").SetArgDisplayNames("AB Volvo");
        yield return new TestCaseData("Fabrikam Retail GmbH", "fabrikam.at", "AT").SetArgDisplayNames("same name, another country and domain");
    }

    [TestCaseSource(nameof(DistinctCompanies))]
    public async Task Register_AnotherCompanyThatLooksAlike_IsNeverAConflict(string name, string? domain, string country)
    {
        var partner = await PartnerAsync("gold");

        var registration = await RegisterAsync(partner.Client, Registration(name, domain, country));

        (await ReadAsync(Id(registration))).Get<string>("verdict").ShouldNotBe("conflict", $"'{name}' (the vendor's view: a partner reads review as conflict)");
    }

    [TestCase("Nordik Bank Solutions AB")]
    [TestCase("Nordic Bank Solution AB")]
    [TestCase("Nordic Bamk Solutions")]
    public async Task Register_MisspeltNameOfCommonWords_IsFoundAmongHundredsSharingThem(string misspelt)
    {
        await CommonWordPipelineAsync();
        var partner = await PartnerAsync("gold");

        var registration = await RegisterAsync(partner.Client, Registration(misspelt, null, "SE"));

        Status(registration).ShouldBe("pending_review", $"'{misspelt}' was decided {registration["verdict"]}");
        var conflictId = (await ReadAsync(Id(registration))).Get<string>("conflictId");
        var conflict = await ReadJsonAsync(await _ops.GetAsync($"/v1/conflicts/{conflictId}"));
        conflict["candidates"]!.AsArray().Select(c => c!.Get<string>("accountName")).ShouldContain("Nordic Bank Solutions AB");
    }

    private bool _commonWordsSeeded;

    // 900 opportunities in which each of "Nordic", "Bank" and "Solutions" is in 600 rows (far more than a token
    // is read by), and the one company all three name.
    private async Task CommonWordPipelineAsync()
    {
        if (_commonWordsSeeded) return;
        _commonWordsSeeded = true;
        static string Word() => string.Concat(Enumerable.Range(0, 8).Select(_ => (char)('a' + Random.Shared.Next(26))));
        string[] patterns = ["Nordic Bank {0}", "Nordic {0} Solutions", "{0} Bank Solutions"];
        var items = Enumerable.Range(0, 900).Select(i => new
        {
            source = "hubspot", externalId = $"common-{i}", accountName = string.Format(patterns[i % 3], Word()), country = "SE", status = "open",
        }).Append(new { source = "hubspot", externalId = "nordic-bank-solutions", accountName = "Nordic Bank Solutions AB", country = "SE", status = "open" });
        var batch = await _crm.PostAsJsonAsync("/v1/opportunities/batch", new { items = items.ToList() });
        batch.StatusCode.ShouldBe(HttpStatusCode.OK, await batch.Content.ReadAsStringAsync());
    }

    [Test]
    public async Task Register_NameOfMoreWordsThanTheMatcherKeeps_IsRefusedNotCut()
    {
        var partner = await PartnerAsync("gold");
        var filler = string.Join(' ', Enumerable.Range(0, 31).Select(i => $"W{i}x"));

        var response = await PostRegistrationAsync(partner.Client, Registration($"{filler} Contoso Pharma GmbH", null, "DE"));

        var problem = await ReadProblemAsync(response, HttpStatusCode.BadRequest, "validation");
        ErrorFields(problem).ShouldBe(["customer.companyName"]);
        problem["errors"]!["customer.companyName"]![0]!.GetValue<string>().ShouldContain("at most 32 words");
    }

    [Test]
    public async Task Upsert_AccountNameOfMoreWordsThanTheMatcherKeeps_IsKeptAndFound()
    {
        var filler = string.Join(' ', Enumerable.Range(0, 31).Select(i => $"W{i}x"));
        (await _crm.PutAsJsonAsync("/v1/opportunities/salesforce/long-name",
            new { accountName = $"Woodgrove Analytics {filler} GmbH", country = "DE", status = "open" })).StatusCode.ShouldBe(HttpStatusCode.Created);
        var partner = await PartnerAsync("gold");

        var registration = await RegisterAsync(partner.Client, Registration("Woodgrove Analytics GmbH", null, "DE"));

        Status(registration).ShouldBe("pending_review", $"decided {registration["verdict"]}");
    }
}
