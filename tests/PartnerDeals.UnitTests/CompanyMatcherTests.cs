using PartnerDeals.Matching;

namespace PartnerDeals.UnitTests;

public sealed class CompanyMatcherTests
{
    private readonly CompanyMatcher _matcher = new(new MatchSettings());

    private MatchResult Score(string a, string? domainA, string? countryA, string b, string? domainB, string? countryB) =>
        _matcher.Score(Company.From(a, domainA, countryA), Company.From(b, domainB, countryB));

    [Test]
    public void SameDomain_IsAConflictWhateverTheName()
    {
        var result = Score("Acme Holdings", "https://acme.com", "US", "ACME Widgets Inc", "sales@acme.com", "US");
        result.Verdict.ShouldBe(Verdict.Conflict);
        result.Signals[0].Name.ShouldBe("domain_equal");
    }

    [Test]
    public void SameKey_SameCountry_IsAConflict()
    {
        var result = Score("Siemens AG", null, "DE", "SIEMENS Aktiengesellschaft", null, "DE");
        result.Verdict.ShouldBe(Verdict.Conflict);
        result.Signals.Select(s => s.Name).ShouldBe(["key_equal", "country_equal"]);
    }

    [Test]
    public void SameName_OtherCountry_IsOnlyAReview()
    {
        var result = Score("Aptiv", null, "US", "Aptiv PLC", null, "IE");
        result.Verdict.ShouldBe(Verdict.Review);
        result.Signals.Select(s => s.Name).ShouldContain("country_differs");
    }

    [Test]
    public void SameName_OtherWebsite_IsOnlyAReview() =>
        Score("ESI", "esi.com", "US", "ESI", "esi-group.com", "US").Verdict.ShouldBe(Verdict.Review);

    [Test]
    public void Acronym_OfThreeOrMoreLetters_IsAConflict()
    {
        var result = Score("IBM", null, "US", "International Business Machines Corp.", null, "US");
        result.Verdict.ShouldBe(Verdict.Conflict);
        result.Signals.Select(s => s.Name).ShouldContain("acronym");
    }

    [Test]
    public void Acronym_OfTwoLetters_IsNotEnoughForAConflict() =>
        Score("KI", null, "JP", "King Industrial", null, "JP").Verdict.ShouldNotBe(Verdict.Conflict);

    [Test]
    public void Typo_InAOneWordName_IsAReview() =>
        Score("Ericsson AB", null, "SE", "Ericcson", null, "SE").Verdict.ShouldBe(Verdict.Review);

    [Test]
    public void Typo_InOneOfSeveralTokens_IsAConflict() =>
        Score("Ericsson Telecom AB", null, "SE", "Ericcson Telecom", null, "SE").Verdict.ShouldBe(Verdict.Conflict);

    [TestCase("Bank of America", "Bank of China")]
    [TestCase("Western Research", "Eastern Research")]
    [TestCase("Microsoft", "MicroStrategy")]
    [TestCase("Delta Air Lines", "Delta Electronics")]
    public void DifferentCompaniesSharingWords_AreNotConflicts(string a, string b) =>
        Score(a, null, "US", b, null, "US").Verdict.ShouldNotBe(Verdict.Conflict);

    [Test]
    public void Thresholds_AreConfiguration()
    {
        var strict = new CompanyMatcher(new MatchSettings { ConflictThreshold = 0.999, ReviewThreshold = 0.5 });
        strict.Score(Company.From("IBM", null, "US"), Company.From("International Business Machines", null, "US")).Verdict.ShouldBe(Verdict.Review);
    }

    [TestCase("martha", "marhta", 0.961)]
    [TestCase("dixon", "dicksonx", 0.813)]
    [TestCase("abc", "abc", 1.0)]
    [TestCase("abc", "xyz", 0.0)]
    public void JaroWinkler_MatchesTheTextbookValues(string a, string b, double expected) =>
        Similarity.JaroWinkler(a, b).ShouldBe(expected, 0.001);
}
