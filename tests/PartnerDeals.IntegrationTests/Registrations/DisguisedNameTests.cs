using System.Net;
using System.Net.Http.Json;
using System.Text;
using PartnerDeals.IntegrationTests.Support;
using static PartnerDeals.IntegrationTests.Support.RegistrationCalls;

namespace PartnerDeals.IntegrationTests.Registrations;

/// <summary>
/// Through <c>POST /v1/registrations</c>: a partner cannot slip a disguised or misspelt name of an open
/// direct opportunity past the check, and a company's other names are found wherever they were given.
/// </summary>
public sealed class DisguisedNameTests : HostTest
{
    private HttpClient _ops = null!;
    private HttpClient _crm = null!;

    [OneTimeSetUp]
    public async Task IssueVendorKeys()
    {
        _ops = Factory.Client((await IssueKeyAsync("ops")).Key);
        _crm = Factory.Client((await IssueKeyAsync("crm")).Key);
    }

    [OneTimeTearDown]
    public void DisposeVendorClients()
    {
        _ops.Dispose();
        _crm.Dispose();
    }

    private static string Letters(int count) => string.Concat(Enumerable.Range(0, count).Select(_ => (char)('a' + Random.Shared.Next(26))));

    // Each disguise of "Co<brand> GmbH" (brand: seven letters, the fifth a "p"); the clean name is an open
    // direct opportunity. One word alone, so that no other token finds it.
    private static readonly (string Kind, Func<string, string> Disguise)[] Disguises =
    [
        ("Cyrillic first letter", b => "\u0421o" + b),
        ("Cyrillic o", b => "C\u043E" + b),
        ("Greek omicron", b => "C\u03BF" + b),
        ("small capitals", b => "\u1D04\u1D0F" + b),
        ("soft hyphen", b => "Co\u00AD" + b),
        ("zero-width non-joiner", b => "Co\u200C" + b),
        ("word joiner", b => "Co\u2060" + b),
        ("left-to-right mark", b => "\u200ECo" + b),
        ("right-to-left mark", b => "Co" + b + "\u200F"),
        ("first letter misspelt", b => "Ko" + b),
        ("a letter doubled", b => "Coo" + b),
        ("two letters swapped", b => "Co" + b[1] + b[0] + b[2..]),
        ("look-alikes in both halves", b => "\u0421o" + b[..4] + "\u0440" + b[5..]), // Cyrillic С and р: transliterated they would read S and r
    ];

    private static IEnumerable<TestCaseData> DisguiseCases() => Disguises.Select(d => new TestCaseData(d.Kind).SetArgDisplayNames(d.Kind));

    [TestCaseSource(nameof(DisguiseCases))]
    public async Task Register_DisguisedNameOfOpenDirectDeal_IsNeverAutoApproved(string kind)
    {
        var brand = Letters(4) + "p" + Letters(2);
        (await _crm.PutAsJsonAsync($"/v1/opportunities/salesforce/{Guid.NewGuid():N}",
            new { accountName = $"Co{brand} GmbH", country = "DE", status = "open" })).StatusCode.ShouldBe(HttpStatusCode.Created);
        var partner = await PartnerAsync("gold");

        var disguised = Disguises.Single(d => d.Kind == kind).Disguise(brand) + " GmbH";
        var registration = await RegisterAsync(partner.Client, Body(disguised, null));

        Status(registration).ShouldBe("pending_review", $"'{disguised}' ({kind}) was decided {registration["verdict"]}");
        registration.Get<string>("verdict").ShouldNotBe("clear");
    }

    // The inputs a partner portal was seen to get past the check with, against "Contoso Pharma GmbH"
    // (contoso-pharma.de, DE) and "Microsoft Corporation" (US), open direct opportunities.
    private static IEnumerable<TestCaseData> ReportedEvasions()
    {
        yield return new TestCaseData("Micr\u043Esoft Corporation", null, "US", null).SetArgDisplayNames("Cyrillic o in Microsoft");
        yield return new TestCaseData("\u0421ontoso Pharma GmbH", null, "DE", null).SetArgDisplayNames("Cyrillic C first");
        yield return new TestCaseData("\u1D04\u1D0F\u0274\u1D1B\u1D0F\uA731\u1D0F Pharma", null, "DE", null).SetArgDisplayNames("small capitals");
        yield return new TestCaseData("Kontoso Pharma GmbH", null, "DE", null).SetArgDisplayNames("first letter misspelt");
        yield return new TestCaseData("Contoso Pharma Europe GmbH", "contoso-pharma.eu", "DE", null).SetArgDisplayNames("sibling domain .eu");
        yield return new TestCaseData("Contoso Pharma Deutschland GmbH", "contoso-pharma.com", "DE", null).SetArgDisplayNames("sibling domain .com");
        yield return new TestCaseData("CP Europe", null, "DE", "maria@contoso-pharma.de").SetArgDisplayNames("contact e-mail at its domain");
    }

    [TestCaseSource(nameof(ReportedEvasions))]
    public async Task Register_ReportedEvasionOfAnOpenDirectDeal_IsNeverAutoApproved(string name, string? domain, string country, string? email)
    {
        await OpportunityOnceAsync("contoso", new { accountName = "Contoso Pharma GmbH", accountDomain = "contoso-pharma.de", country = "DE", status = "open" });
        await OpportunityOnceAsync("microsoft", new { accountName = "Microsoft Corporation", country = "US", status = "open" });
        var partner = await PartnerAsync("gold");

        var registration = await RegisterAsync(partner.Client, new
        {
            customer = new { companyName = name, domain, country },
            contact = new { name = "Maria Schmidt", email = email ?? "maria@customer.example" },
            deal = new { name = "Rollout", estimatedValue = 50_000m, currency = "EUR" },
        });

        Status(registration).ShouldBe("pending_review", $"'{name}' was decided {registration["verdict"]}");
    }

    [Test]
    public async Task Register_NameDifferingOnlyByANumber_IsAnotherCompany()
    {
        var brand = Letters(8);
        (await _crm.PutAsJsonAsync($"/v1/opportunities/salesforce/{Guid.NewGuid():N}",
            new { accountName = $"{brand} 52 LLC", country = "US", status = "open" })).StatusCode.ShouldBe(HttpStatusCode.Created);
        var partner = await PartnerAsync("gold");

        var registration = await RegisterAsync(partner.Client, Body($"{brand} 54 LLC", null, country: "US"));

        Status(registration).ShouldBe("approved");
        registration.Get<string>("verdict").ShouldBe("clear");
    }

    private readonly HashSet<string> _opportunities = [];

    private async Task OpportunityOnceAsync(string externalId, object body)
    {
        if (!_opportunities.Add(externalId)) return;
        (await _crm.PutAsJsonAsync($"/v1/opportunities/salesforce/{externalId}", body)).IsSuccessStatusCode.ShouldBeTrue();
    }

    [Test]
    public async Task Register_MisspeltName_IsFoundAmongHundredsSharingItsCommonToken()
    {
        var common = Letters(8);
        var brand = Letters(9);
        var items = Enumerable.Range(0, 600).Select(i => new
        {
            source = "hubspot", externalId = Guid.NewGuid().ToString("N"), accountName = $"{Letters(9)} {common} GmbH", country = "DE", status = "open",
        }).Append(new { source = "hubspot", externalId = Guid.NewGuid().ToString("N"), accountName = $"{brand} {common} GmbH", country = "DE", status = "open" });
        var batch = await _crm.PostAsJsonAsync("/v1/opportunities/batch", new { items = items.ToList() });
        batch.StatusCode.ShouldBe(HttpStatusCode.OK, await batch.Content.ReadAsStringAsync());
        var partner = await PartnerAsync("gold");

        var misspelt = brand[..4] + brand[5] + brand[4] + brand[6..]; // two letters swapped
        var registration = await RegisterAsync(partner.Client, Body($"{misspelt} {common} GmbH", null));

        Status(registration).ShouldBe("pending_review");
        var conflictId = (await ReadAsync(Id(registration))).Get<string>("conflictId");
        var conflict = await ReadJsonAsync(await _ops.GetAsync($"/v1/conflicts/{conflictId}"));
        conflict["candidates"]!.AsArray().Select(c => c!.Get<string>("accountName")).ShouldContain($"{brand} {common} GmbH");
    }

    [Test]
    public async Task Register_NameThatExpandsUnderNormalisation_IsAnsweredWithinBounds()
    {
        var partner = await PartnerAsync("gold");
        var response = await PostRegistrationAsync(partner.Client, Body(new string('\uFDFA', 300), null));
        // One character that folds to four words, 300 times: more words than the matcher compares.
        await ReadProblemAsync(response, HttpStatusCode.BadRequest, "validation");
    }

    [Test]
    public async Task Register_AlternateNameOfAnUpsertedOpportunity_IsAConflictNamingThatName()
    {
        var alias = $"{Letters(9)} {Letters(8)}";
        (await _crm.PutAsJsonAsync($"/v1/opportunities/salesforce/{Guid.NewGuid():N}",
            new { accountName = $"{Letters(9)} Holdings", alternateNames = new[] { alias }, country = "DE", status = "open" }))
            .StatusCode.ShouldBe(HttpStatusCode.Created);

        await ShouldBeFoundThroughAlternateNameAsync(alias);
    }

    [Test]
    public async Task Register_AlternateNameOfABatchItem_IsAConflict()
    {
        var alias = $"{Letters(9)} {Letters(8)}";
        var batch = await _crm.PostAsJsonAsync("/v1/opportunities/batch", new
        {
            items = new[] { new { source = "dynamics", externalId = Guid.NewGuid().ToString("N"), accountName = $"{Letters(9)} AG", alternateNames = new[] { "Other", alias }, country = "DE", status = "open" } },
        });
        batch.StatusCode.ShouldBe(HttpStatusCode.OK, await batch.Content.ReadAsStringAsync());

        await ShouldBeFoundThroughAlternateNameAsync(alias);
    }

    [Test]
    public async Task Register_AlternateNameOfACsvRow_IsAConflict()
    {
        var alias = $"{Letters(9)} {Letters(8)}";
        var externalId = Guid.NewGuid().ToString("N");
        var csv = $"source,externalId,accountName,alternateNames,country,status\nsalesforce,{externalId},{Letters(9)} Ltd,Former Name {Letters(6)}; {alias},DE,open\n";
        var import = await _crm.PostAsync("/v1/opportunities/import", new StringContent(csv, Encoding.UTF8, "text/csv"));
        import.StatusCode.ShouldBe(HttpStatusCode.OK, await import.Content.ReadAsStringAsync());
        var stored = await ReadJsonAsync(await _crm.GetAsync($"/v1/opportunities/salesforce/{externalId}"));
        stored["alternateNames"]!.AsArray().Select(n => n!.GetValue<string>()).ShouldContain(alias);

        await ShouldBeFoundThroughAlternateNameAsync(alias);
    }

    [Test]
    public async Task Register_WithAlternateNames_MeetsARegistrationUnderThatName()
    {
        // An alternate name is held when something ties it to the company: here its brand, the company's website.
        var brand = Letters(9);
        var alias = $"{char.ToUpperInvariant(brand[0])}{brand[1..]} Trading";
        var first = await PartnerAsync("gold");
        var holder = await RegisterAsync(first.Client, new
        {
            customer = new { companyName = $"{Letters(9)} SE", domain = $"{brand}trading.example", alternateNames = new[] { alias }, country = "DE" },
            contact = new { name = "Maria Schmidt", email = "maria@customer.example" },
            deal = new { name = "Rollout", estimatedValue = 50_000m, currency = "EUR" },
        });
        Status(holder).ShouldBe("approved");
        holder["customer"]!["alternateNames"]!.AsArray().Select(n => n!.GetValue<string>()).ShouldBe([alias]);

        var second = await PartnerAsync("gold");
        Status(await RegisterAsync(second.Client, Body(alias + " GmbH", null))).ShouldBe("pending_review");
    }

    [Test]
    public async Task Register_ContactEmailAtTheOpportunitysDomain_IsAConflict()
    {
        var (name, domain) = NewCompany();
        (await _crm.PutAsJsonAsync($"/v1/opportunities/salesforce/{Guid.NewGuid():N}",
            new { accountName = name, accountDomain = domain, country = "DE", status = "open" })).StatusCode.ShouldBe(HttpStatusCode.Created);
        var partner = await PartnerAsync("gold");

        var registration = await RegisterAsync(partner.Client, new
        {
            customer = new { companyName = $"{Letters(9)} Europe", country = "DE" },
            contact = new { name = "Maria Schmidt", email = $"maria@{domain}" },
            deal = new { name = "Rollout", estimatedValue = 50_000m, currency = "EUR" },
        });

        Status(registration).ShouldBe("pending_review");
        var conflictId = (await ReadAsync(Id(registration))).Get<string>("conflictId");
        var conflict = await ReadJsonAsync(await _ops.GetAsync($"/v1/conflicts/{conflictId}"));
        conflict["candidates"]![0]!["signals"]!.AsArray().Select(s => s!.Get<string>("name")).ShouldContain("email_domain");
    }

    [Test]
    public async Task Upsert_TooManyAlternateNames_KeepsTheFirstTwenty_AndSaysSo()
    {
        var externalId = Guid.NewGuid().ToString("N");
        var response = await _crm.PutAsJsonAsync($"/v1/opportunities/salesforce/{externalId}",
            new { accountName = "Fabrikam", alternateNames = Enumerable.Range(0, 21).Select(i => $"Name {i}").ToArray(), status = "open" });
        response.StatusCode.ShouldBe(HttpStatusCode.Created, await response.Content.ReadAsStringAsync());
        var stored = await ReadJsonAsync(response);
        stored["alternateNames"]!.AsArray().Count.ShouldBe(20);
        stored["cleaned"]!.AsArray().ShouldContain(c => c!.Get<string>("field") == "alternateNames" && c.Get<string>("action") == "cut");
    }

    private async Task ShouldBeFoundThroughAlternateNameAsync(string alias)
    {
        var partner = await PartnerAsync("gold");
        var registration = await RegisterAsync(partner.Client, Body(alias, null));
        Status(registration).ShouldBe("pending_review");
        var conflictId = (await ReadAsync(Id(registration))).Get<string>("conflictId");
        var conflict = await ReadJsonAsync(await _ops.GetAsync($"/v1/conflicts/{conflictId}"));
        conflict["candidates"]![0]!["signals"]!.AsArray()
            .ShouldContain(s => s!.Get<string>("name") == "alternate_name" && s.Get<string>("detail") == alias);
    }
}
