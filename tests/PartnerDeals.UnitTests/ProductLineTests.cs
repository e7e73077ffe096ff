using PartnerDeals.Api.Features.ProductLines;
using PartnerDeals.Api.Features.Registrations;
using PartnerDeals.Matching;

namespace PartnerDeals.UnitTests;

/// <summary>Which products are one line, and when two deals on one account collide under the product-line scope.</summary>
public sealed class ProductLineTests
{
    private static readonly ProductCatalogue Catalogue = new()
    {
        Lines = new(StringComparer.OrdinalIgnoreCase)
        {
            ["analytics"] = ["Analytics Suite", "dash-pro", "Reports"],
            ["security"] = ["Vault", "Shield"],
        },
    };

    [TestCase("Analytics Suite", "analytics")]
    [TestCase("  analytics suite ", "analytics")]
    [TestCase("DASH-PRO", "analytics")]
    [TestCase("vault", "security")]
    [TestCase("Unlisted Widget", ProductCatalogue.Unlisted)]
    public void LineOf_MapsAConfiguredProductToItsLine_AndAnyOtherToUnlisted(string product, string line) =>
        Catalogue.LineOf(product).ShouldBe(line);

    // A partner's respelling of a listed product is that product: never a line of its own.
    [TestCase("Analytics-Suite")]
    [TestCase("Analytics  Suite")]
    [TestCase("AnalyticsSuite")]
    [TestCase("analyticssuite")]
    [TestCase("Analytics Suite 2026")]
    [TestCase("Analytics Suite (Enterprise)")]
    [TestCase("Analytics Suite - Enterprise")]
    [TestCase("analytics suite pro")]
    [TestCase("\u0410nalytics Suite")]
    [TestCase("Analytics Suite\u200B")]
    [TestCase("Analytics\u00A0Suite")]
    [TestCase("Ａｎａｌｙｔｉｃｓ Ｓｕｉｔｅ")]
    [TestCase("Analytic Suite")]
    [TestCase("Analytcs Suite")]
    [TestCase("AN 100")]
    [TestCase("an100")]
    [TestCase("AN-100 Enterprise")]
    public void LineOf_RespelledListedProduct_IsItsLine(string product) => Respelt.LineOf(product).ShouldBe("analytics");

    [TestCase("AN-1000")]
    [TestCase("AN-200")]
    [TestCase("Analytics")]
    [TestCase("Shield Suite")]
    public void LineOf_AnotherCodeOrAnotherName_IsUnlisted(string product) => Respelt.LineOf(product).ShouldBe(ProductCatalogue.Unlisted);

    private static readonly ProductCatalogue Respelt = new()
    {
        Lines = new(StringComparer.OrdinalIgnoreCase) { ["analytics"] = ["Analytics Suite", "AN-100"], ["security"] = ["Vault"] },
    };

    [Test]
    public void LinesOf_IsTheDistinctLinesOfADealsProducts() =>
        Catalogue.LinesOf(["Reports", "dash-pro", "Vault", " ", "Gizmo"]).ShouldBe(["analytics", "security", ProductCatalogue.Unlisted]);

    [Test]
    public void Problems_ProductInTwoLinesOrAnEmptyLine_AreNamed()
    {
        var bad = new ProductCatalogue
        {
            Lines = new(StringComparer.OrdinalIgnoreCase) { ["a"] = ["x", "y"], ["b"] = ["X"], ["c"] = [] },
        };
        var problems = bad.Problems().ToList();
        problems.ShouldContain(p => p.Contains("'x'") && p.Contains("more than one line"));
        problems.ShouldContain(p => p.Contains("Products:Lines:c"));
        new ProductCatalogue { Lines = new() { ["unlisted"] = ["x"] } }.Problems().ShouldContain(p => p.Contains("'unlisted'"));
        new ProductCatalogue { Lines = new() { ["a"] = ["Vault"], ["b"] = ["vault!"] } }.Problems().ShouldContain(p => p.Contains("more than one line"));
        Catalogue.Problems().ShouldBeEmpty();
    }

    private static readonly MatchResult Conflict = new(0.97, Verdict.Conflict, [new MatchSignal("name_key_equal", 1)]);
    private static readonly MatchResult Review = new(0.8, Verdict.Review, [new MatchSignal("name_fuzzy", 0.8)]);
    private static readonly MatchResult Clear = new(0.3, Verdict.Clear, []);

    // ours, theirs, the verdict that stands, the signal added (null: none)
    [TestCase("analytics", "analytics", Verdict.Conflict, ProductScope.Overlap)]
    [TestCase("analytics,security", "security", Verdict.Conflict, ProductScope.Overlap)]
    [TestCase("analytics", "security", Verdict.Clear, ProductScope.Disjoint)]
    [TestCase("", "security", Verdict.Conflict, ProductScope.Unknown)]
    [TestCase("analytics", "", Verdict.Conflict, ProductScope.Unknown)]
    [TestCase("", "", Verdict.Conflict, ProductScope.Unknown)]
    [TestCase("unlisted", "security", Verdict.Conflict, ProductScope.Unknown)]
    [TestCase("security", "analytics,unlisted", Verdict.Conflict, ProductScope.Unknown)]
    public void Apply_ConflictOnTheAccount_StandsOnlyWhereTheLinesMayOverlap(string ours, string theirs, Verdict stands, string signal)
    {
        var scoped = ProductScope.Apply(Conflict, Split(ours), Split(theirs));
        scoped.Verdict.ShouldBe(stands);
        scoped.Score.ShouldBe(Conflict.Score, "the score still says how alike the companies are");
        scoped.Signals.Select(s => s.Name).ShouldBe(["name_key_equal", signal]);
    }

    [Test]
    public void Apply_ReviewWithDisjointLines_NoLongerBlocks_AndSaysWhichLinesOnEachSide()
    {
        var scoped = ProductScope.Apply(Review, ["analytics"], ["security"]);
        scoped.Verdict.ShouldBe(Verdict.Clear);
        scoped.Signals[^1].Detail.ShouldBe("no line in common (this deal: analytics; theirs: security)");
    }

    [Test]
    public void Apply_NoMatchOnTheAccount_IsLeftAsItIs() => ProductScope.Apply(Clear, ["a"], ["b"]).ShouldBeSameAs(Clear);

    [Test]
    public void EffectiveVersion_AccountScope_HashesAsBefore_ProductLineScopeStampsTheCatalogue()
    {
        var account = new RegistrationPolicy();
        var byLine = new RegistrationPolicy { ConflictScope = PartnerDeals.Api.Features.ProductLines.ProductScope.ProductLine, ProductLines = Catalogue.Lines };
        var otherCatalogue = new RegistrationPolicy
        {
            ConflictScope = PartnerDeals.Api.Features.ProductLines.ProductScope.ProductLine,
            ProductLines = new Dictionary<string, List<string>> { ["analytics"] = ["Analytics Suite"] },
        };
        var accountWithLines = new RegistrationPolicy { ProductLines = Catalogue.Lines };

        accountWithLines.EffectiveVersion.ShouldBe(account.EffectiveVersion, "lines do not decide under the account scope");
        byLine.EffectiveVersion.ShouldNotBe(account.EffectiveVersion);
        otherCatalogue.EffectiveVersion.ShouldNotBe(byLine.EffectiveVersion);
    }

    private static IReadOnlyList<string> Split(string lines) => lines.Split(',', StringSplitOptions.RemoveEmptyEntries);
}
