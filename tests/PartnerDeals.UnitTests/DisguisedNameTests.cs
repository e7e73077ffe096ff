using PartnerDeals.Matching;

namespace PartnerDeals.UnitTests;

/// <summary>
/// A name written with look-alike letters, invisible characters, marks or compatibility forms is
/// decided exactly as the clean spelling is; misspellings are found while short names stay apart.
/// </summary>
public sealed class DisguisedNameTests
{
    private readonly CompanyMatcher _matcher = new(new MatchSettings());

    private MatchResult Score(string query, string stored, string? country = "US") =>
        _matcher.Score(Company.From(query, null, country), Company.From(stored, null, country));

    [TestCase("Micr\u043Esoft Corporation", "Microsoft Corporation")] // Cyrillic о
    [TestCase("\u0421ontoso Pharma GmbH", "Contoso Pharma GmbH")] // Cyrillic С first
    [TestCase("Micr\u03BFs\u03BFft", "Microsoft")] // Greek omicron twice
    [TestCase("\u13AAcme Tools", "Acme Tools")] // Cherokee A
    [TestCase("\u0410\u0421\u041C\u0415 Tools", "Acme Tools")] // a whole word of Cyrillic look-alikes (АСМЕ)
    [TestCase("\u041C\u0406CROSOFT", "Microsoft")] // Cyrillic М and І in capitals
    [TestCase("\u1D04\u1D0F\u0274\u1D1B\u1D0F\uA731\u1D0F Pharma", "Contoso Pharma")] // small capitals
    [TestCase("Micro\u00ADsoft", "Microsoft")] // soft hyphen
    [TestCase("Micro\u200Bsoft", "Microsoft")] // zero-width space
    [TestCase("Micro\u200Csoft", "Microsoft")] // zero-width non-joiner
    [TestCase("Micro\u200Dsoft", "Microsoft")] // zero-width joiner
    [TestCase("Micro\u2060soft", "Microsoft")] // word joiner
    [TestCase("\uFEFFMicrosoft", "Microsoft")] // byte-order mark
    [TestCase("\u200EMicrosoft\u200F", "Microsoft")] // left-to-right and right-to-left marks
    [TestCase("\u202EMicrosoft\u202C", "Microsoft")] // bidirectional override
    [TestCase("\u2066Microsoft\u2069", "Microsoft")] // bidirectional isolate
    public void DisguisedName_GetsTheVerdictOfTheCleanName(string disguised, string clean)
    {
        var result = Score(disguised, clean);
        result.Verdict.ShouldBe(Score(clean, clean).Verdict);
        result.Verdict.ShouldBe(Verdict.Conflict);
        result.Signals.Select(s => s.Name).ShouldContain("confusable_folded");
    }

    [TestCase("Mi\u0301cro\u0308soft", "Microsoft")] // combining marks
    [TestCase("\uFF2D\uFF49\uFF43\uFF52\uFF4F\uFF53\uFF4F\uFF46\uFF54", "Microsoft")] // full-width
    [TestCase("\U0001D40C\U0001D422\U0001D41C\U0001D42B\U0001D428\U0001D42C\U0001D428\U0001D41F\U0001D42D", "Microsoft")] // mathematical bold
    public void CompatibilityFormsAndMarks_FoldToTheCleanName(string written, string clean) =>
        Company.From(written, null, null).Name.Key.ShouldBe(Company.From(clean, null, null).Name.Key);

    [TestCase("Газпром", "Gazprom")]
    [TestCase("Ελληνικά Πετρέλαια", "Ellinika Petrelaia")]
    [TestCase("삼성전자", "Samseongjeonja")]
    public void OtherScript_MeetsItsRomanisation(string native, string romanised) =>
        Score(native, romanised).Verdict.ShouldBe(Verdict.Conflict);

    [Test]
    public void ExpandingCharacters_AreBoundedInLength()
    {
        var name = Company.From(new string('\uFDFA', 300), null, null).Name;
        name.Key.Length.ShouldBeLessThanOrEqualTo(Characters.MaxLength);
        name.Tokens.Count.ShouldBeLessThanOrEqualTo(CompanyName.MaxTokens);
    }

    [TestCase("Mircosoft", "Microsoft")] // transposition
    [TestCase("Microsft Corporation", "Microsoft Corporation")] // deletion
    [TestCase("Snowlfake Inc.", "Snowflake Inc.")] // transposition
    [TestCase("Ericssno", "Ericsson")] // transposition at the end
    [TestCase("Kontoso Pharma GmbH", "Contoso Pharma GmbH")] // the first letter
    [TestCase("Contosso Pharma GmbH", "Contoso Pharma GmbH")] // insertion
    [TestCase("Mikrosoftt", "Microsoft")] // two edits in a long word
    [TestCase("Kontoso Pharmma", "Contoso Pharma")] // a typo in each of two words
    public void Misspelling_OfADistinctiveToken_IsNeverClear(string misspelt, string clean) =>
        Score(misspelt, clean).Verdict.ShouldNotBe(Verdict.Clear);

    [TestCase("Contoso Pharma", "Contosopharma")] // glued
    [TestCase("Pharma Contoso", "Contoso Pharma")] // reordered
    public void GluedOrReorderedWords_AreNeverClear(string a, string b) =>
        Score(a, b).Verdict.ShouldNotBe(Verdict.Clear);

    [TestCase("Sony", "Sonos")]
    [TestCase("Intel", "Intuit")]
    [TestCase("Ciena", "Cigna")]
    [TestCase("Oracle", "Orange")]
    public void ShortNames_StayApart(string a, string b) =>
        Score(a, b).Verdict.ShouldBe(Verdict.Clear);

    [TestCase("Studio 52 LLC", "Studio 54 LLC")]
    [TestCase("Channel 4", "Channel 5")]
    [TestCase("Acme Tools 2", "Acme Tools 3")]
    [TestCase("Studio52", "Studio54")]
    public void NumbersThatDiffer_AreTwoCompanies(string a, string b)
    {
        var result = Score(a, b);
        result.Verdict.ShouldBe(Verdict.Clear);
        result.Signals.Select(s => s.Name).ShouldContain("number_differs");
    }

    [Test]
    public void NumbersThatDiffer_WithTwoDomains_AreNotAReview() =>
        _matcher.Score(Company.From("Studio 52 LLC", "studio52.com", null), Company.From("Studio 54 LLC", "studio54.com", null))
            .Verdict.ShouldBe(Verdict.Clear);

    [Test]
    public void SameNumbers_StillMatch() =>
        Score("Studio 54 LLC", "Studio 54 Inc").Verdict.ShouldBe(Verdict.Conflict);

    [TestCase("Contoso Pharma Europe GmbH", "contoso-pharma.eu")]
    [TestCase("Contoso Pharma Deutschland GmbH", "contoso-pharma.com")]
    public void SiblingDomain_OfTheSameBrand_IsEvidenceForTheCompany(string name, string domain)
    {
        var result = _matcher.Score(Company.From(name, domain, "DE"), Company.From("Contoso Pharma GmbH", "contoso-pharma.de", "DE"));
        result.Verdict.ShouldNotBe(Verdict.Clear);
        result.Signals.Select(s => s.Name).ShouldContain("brand_label_equal");
        result.Signals.Select(s => s.Name).ShouldNotContain("domain_differs");
    }

    [Test]
    public void PartialName_OnAnotherDomain_IsNotAReview() =>
        _matcher.Score(Company.From("Boston Consulting", "bcg.com", "US"), Company.From("Boston Novo Design", "bostonnovo.com", "US"))
            .Verdict.ShouldBe(Verdict.Clear);

    [Test]
    public void ContactEmailDomain_IsEvidenceWhenNoWebsiteIsGiven()
    {
        var query = Company.From("CP Europe", null, "DE", contactEmail: "maria@contoso-pharma.de");
        var result = _matcher.Score(query, Company.From("Contoso Pharma GmbH", "contoso-pharma.de", "DE"));
        result.Verdict.ShouldBe(Verdict.Conflict);
        result.Signals[0].Name.ShouldBe("email_domain");
    }

    [Test]
    public void FreeMailContact_IsNeverEvidence() =>
        Company.From("CP Europe", null, "DE", contactEmail: "maria@gmail.com").Domain.ShouldBeNull();

    [Test]
    public void AlternateName_IsMatchedAndNamedInTheExplanation()
    {
        var stored = Company.From("LG Electronics", null, "KR", alternateNames: ["Lucky Goldstar", "엘지전자"]);
        var result = _matcher.Score(Company.From("Lucky-Goldstar Co., Ltd.", null, "KR"), stored);
        result.Verdict.ShouldBe(Verdict.Conflict);
        result.Signals.ShouldContain(s => s.Name == "alternate_name" && s.Detail == "Lucky Goldstar");
    }

    [TestCase(0, "ab", "ab")]
    [TestCase(1, "ab", "ba")]
    [TestCase(1, "microsoft", "mircosoft")]
    [TestCase(2, "microsoft", "mikrosoftt")]
    [TestCase(3, "kitten", "sitting")]
    public void Edits_CountsSubstitutionsInsertionsDeletionsAndTranspositions(int expected, string a, string b) =>
        Similarity.Edits(a, b, 5).ShouldBe(expected);

    [Test]
    public void Edits_AgreeWithTheFullAlignment_OnManyNearlyEqualTokens()
    {
        // A small alphabet makes shared ends, repeated letters and swapped neighbours common.
        var random = new Random(20261201);
        string Token(int length) => string.Concat(Enumerable.Range(0, length).Select(_ => "abcab"[random.Next(5)]));
        for (var n = 0; n < 20_000; n++)
        {
            var a = Token(random.Next(0, 12));
            var b = random.Next(3) == 0 ? Token(random.Next(0, 12)) : Mutate(a, random);
            var max = random.Next(0, 4);
            Math.Min(Similarity.Edits(a, b, max), max + 1).ShouldBe(Math.Min(FullAlignment(a, b), max + 1), $"{a} / {b} within {max}");
        }
    }

    private static string Mutate(string token, Random random)
    {
        var letters = token.ToList();
        for (var edits = random.Next(1, 4); edits > 0; edits--)
        {
            var at = letters.Count == 0 ? 0 : random.Next(letters.Count);
            switch (random.Next(4))
            {
                case 0 when letters.Count > 0: letters[at] = "abc"[random.Next(3)]; break;
                case 1: letters.Insert(at, "abc"[random.Next(3)]); break;
                case 2 when letters.Count > 0: letters.RemoveAt(at); break;
                case 3 when at + 1 < letters.Count: (letters[at], letters[at + 1]) = (letters[at + 1], letters[at]); break;
            }
        }
        return string.Concat(letters);
    }

    /// <summary>The optimal string alignment distance over the whole matrix, with no shortcut: the reference.</summary>
    private static int FullAlignment(string a, string b)
    {
        var d = new int[a.Length + 1, b.Length + 1];
        for (var i = 0; i <= a.Length; i++) d[i, 0] = i;
        for (var j = 0; j <= b.Length; j++) d[0, j] = j;
        for (var i = 1; i <= a.Length; i++)
        {
            for (var j = 1; j <= b.Length; j++)
            {
                d[i, j] = Math.Min(Math.Min(d[i - 1, j] + 1, d[i, j - 1] + 1), d[i - 1, j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1));
                if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1]) d[i, j] = Math.Min(d[i, j], d[i - 2, j - 2] + 1);
            }
        }
        return d[a.Length, b.Length];
    }
}

public sealed class MisspellingIndexTests
{
    private static readonly char[] Letters = "abcdefghijklmnopqrstuvwxyz".ToCharArray();

    /// <summary>Every single edit of every kind, at every position, is reached through the halves index.</summary>
    [TestCase("microsoft")]
    [TestCase("snowflake")]
    [TestCase("contoso")]
    [TestCase("ericsson")]
    [TestCase("acme")]
    public void EverySingleEdit_IsFoundByItsSignatures(string token)
    {
        foreach (var misspelt in SingleEdits(token).Where(m => m.Length >= Blocking.MisspeltFrom))
        {
            Blocking.MisspellingProbes(misspelt).Intersect(Blocking.MisspellingSignatures(token))
                .ShouldNotBeEmpty($"'{misspelt}' should reach '{token}'");
        }
    }

    [TestCase("microsoft", "microsaftt")] // both edits in the second half
    [TestCase("snowflake", "snowlfakee")]
    [TestCase("international", "internatoinall")]
    public void TwoEditsInOneHalf_AreFound(string token, string misspelt) =>
        Blocking.MisspellingProbes(misspelt).Intersect(Blocking.MisspellingSignatures(token)).ShouldNotBeEmpty();

    [Test]
    public void NumbersAndShortTokens_AreNotInTheMisspellingIndex()
    {
        Blocking.MisspellingSignatures("1234").ShouldBeEmpty();
        Blocking.MisspellingSignatures("abc").ShouldBeEmpty();
    }

    [Test]
    public void GluedNeighbours_AreLookedUp() =>
        Blocking.LookupTokens(CompanyName.Normalise("Contoso Pharma GmbH")).ShouldContain("contosopharma");

    private static IEnumerable<string> SingleEdits(string t)
    {
        for (var i = 0; i < t.Length; i++)
        {
            yield return t.Remove(i, 1);
            foreach (var c in Letters) yield return t[..i] + c + t[(i + 1)..];
            if (i + 1 < t.Length) yield return t[..i] + t[i + 1] + t[i] + t[(i + 2)..];
        }
        for (var i = 0; i <= t.Length; i++)
        {
            foreach (var c in Letters) yield return t.Insert(i, c.ToString());
        }
    }
}

public sealed class ContainedNameTests
{
    private readonly CompanyMatcher _matcher = new(new MatchSettings());

    [TestCase("Jigsaw Google", "Google")]
    [TestCase("LAAS CNRS", "CNRS")]
    public void NameHeldWholeInTheOther_IsAReview(string a, string b) =>
        _matcher.Score(Company.From(a, null, null), Company.From(b, null, null)).Verdict.ShouldBe(Verdict.Review);
}
