using PartnerDeals.Matching;

namespace PartnerDeals.UnitTests;

/// <summary>
/// Names as CRMs and partners really write them — abbreviated, in their own script, split at a case change,
/// romanised another way, wrapped in a CRM's notes, misspelt in common words, with evidence beside the name —
/// get the verdict the clean spelling gets; companies that merely look alike stay apart.
/// </summary>
public sealed class RealNameTests
{
    private readonly CompanyMatcher _matcher = new(new MatchSettings());

    private MatchResult Score(string query, string stored, string? country = "US") =>
        _matcher.Score(Company.From(query, null, country), Company.From(stored, null, country));

    private void ShouldGetTheCleanVerdict(string written, string clean, string? country = "US")
    {
        var result = Score(written, clean, country);
        result.Verdict.ShouldBe(Score(clean, clean, country).Verdict, $"'{written}' scored {result.Score}");
    }

    [TestCase("Marriott Intl, Inc.", "Marriott International, Inc.")]
    [TestCase("Marriott Int'l Inc", "Marriott International, Inc.")]
    [TestCase("Marriott Intl'l", "Marriott International")]
    [TestCase("Ryder Sys, Inc.", "Ryder System, Inc.")]
    [TestCase("Ryder Systems", "Ryder System, Inc.")]
    [TestCase("Natl Basketball Assn", "National Basketball Association")]
    [TestCase("Air Prod. + Chem.", "Air Products and Chemicals, Inc.")]
    [TestCase("Contoso Pharmaceuticals GmbH", "Contoso Pharma GmbH")]
    [TestCase("Contoso Pharm GmbH", "Contoso Pharmaceutical GmbH")]
    [TestCase("Acme Mfg Co", "Acme Manufacturing Company")]
    [TestCase("Acme Svcs", "Acme Services")]
    [TestCase("Acme Tech Grp", "Acme Technologies Group")]
    [TestCase("Warner Bros", "Warner Brothers")]
    [TestCase("Acme Hldgs", "Acme Holdings")]
    [TestCase("Acme Mgmt", "Acme Management")]
    [TestCase("Acme Inds", "Acme Industries")]
    [TestCase("Bell Labs", "Bell Laboratories")]
    [TestCase("Stanford Univ", "Stanford University")]
    [TestCase("Acme Medical Ctr", "Acme Medical Center")]
    [TestCase("TJX Cos Inc", "The TJX Companies, Inc.")]
    [TestCase("Amer Express Co", "American Express Company")]
    [TestCase("Svc Corp Intl", "Service Corporation International")]
    [TestCase("Acme Info Sys", "Acme Information Systems")]
    [TestCase("Acme Ins Agcy", "Acme Insurance Agency")]
    [TestCase("Chas Schwab Corp", "Charles Schwab Corporation")]
    [TestCase("Genl Elec Co", "General Electric Company")]
    [TestCase("Acme Elec Pwr Co", "Acme Electric Power Company")]
    [TestCase("Acme Hlth Svcs", "Acme Health Services")]
    public void Abbreviation_GetsTheVerdictOfTheSpelledOutName(string abbreviated, string clean)
    {
        ShouldGetTheCleanVerdict(abbreviated, clean);
        Score(abbreviated, clean).Signals.Select(s => s.Name).ShouldContain("abbreviation");
    }

    [TestCase("ヤマハ株式会社", "ヤマハ")]
    [TestCase("株式会社シマノ", "シマノ")]
    [TestCase("㈱シマノ", "シマノ")]
    [TestCase("（株）シマノ", "シマノ")]
    [TestCase("有限会社シマノ", "シマノ")]
    [TestCase("合同会社シマノ", "シマノ")]
    [TestCase("比亚迪股份有限公司", "比亚迪")]
    [TestCase("比亚迪有限公司", "比亚迪")]
    [TestCase("比亚迪集团", "比亚迪")]
    [TestCase("주식회사 카카오", "카카오")]
    [TestCase("(주)카카오", "카카오")]
    [TestCase("카카오 유한회사", "카카오")]
    [TestCase("ООО Контосо", "Контосо")]
    [TestCase("ПАО Контосо", "Контосо")]
    [TestCase("Контосо ГмбХ", "Контосо")]
    [TestCase("Κοντόσο Α.Ε.", "Κοντόσο")]
    [TestCase("קונטוסו בע\"מ", "קונטוסו")]
    [TestCase("קונטוסו בע״מ", "קונטוסו")]
    [TestCase("كونتوسو ش.م.م", "كونتوسو")]
    [TestCase("كونتوسو ذ.م.م", "كونتوسو")]
    public void LegalFormOfAnyScript_IsStrippedGluedOrNot(string withForm, string bare)
    {
        CompanyName.Normalise(withForm).Key.ShouldBe(CompanyName.Normalise(bare).Key);
        ShouldGetTheCleanVerdict(withForm, bare, "JP");
    }

    [Test]
    public void GluedFormBesideWhatIsNotText_NeverThrows() =>
        Should.NotThrow(() => CompanyName.Normalise("ヤマハ\uFFFE株式会社\uD800"));

    [TestCase("ヤマハ株式会社", "Yamaha Corporation")]
    [TestCase("株式会社シマノ", "Shimano Inc.")]
    [TestCase("(주)카카오", "Kakao Corp.")]
    public void NameInItsOwnScript_MeetsItsLatinName(string own, string latin) => ShouldGetTheCleanVerdict(own, latin, "JP");

    [TestCase("MegaFon", "МегаФон")]
    [TestCase("MegaFon", "Mega Fon")]
    [TestCase("PayPal", "Paypal")]
    [TestCase("HubSpot", "Hub Spot")]
    public void CaseChange_MeetsJoinedAndSplitForms(string cased, string other) => ShouldGetTheCleanVerdict(cased, other);

    [Test]
    public void CaseChange_NeverLosesAWordAsALegalForm() => CompanyName.Normalise("MegaFon").Key.ShouldBe("megafon");

    [Test]
    public void LegalFormWrittenOnInCapitals_IsStillStripped() => CompanyName.Normalise("SchummPLC").Key.ShouldBe("schumm");

    [TestCase("Контосо Фарма ГмбХ", "Contoso Pharma GmbH")]
    [TestCase("Филипс", "Philips")]
    [TestCase("Мерседес", "Mercedes")]
    [TestCase("Ситроен", "Citroen")]
    [TestCase("Хюндай", "Hyundai")]
    [TestCase("Майкрософт", "Microsoft")]
    [TestCase("Сименс", "Siemens")]
    [TestCase("Kontoso Farma", "Contoso Pharma")]
    public void RomanisedOtherwise_IsAtLeastAReview(string romanised, string latin)
    {
        var result = Score(romanised, latin, "DE");
        result.Verdict.ShouldNotBe(Verdict.Clear, $"scored {result.Score}");
    }

    [TestCase("ACCOUNTS PAYABLE - TransUnion", "TransUnion")]
    [TestCase("Accounts Receivable: TransUnion LLC", "TransUnion LLC")]
    [TestCase("Attn: Accounts Payable, TransUnion LLC", "TransUnion LLC")]
    [TestCase("TransUnion c/o John Smith", "TransUnion")]
    [TestCase("TransUnion (EMEA)", "TransUnion")]
    [TestCase("TransUnion (Do not use)", "TransUnion")]
    [TestCase("TransUnion - Berlin office", "TransUnion")]
    [TestCase("TransUnion | HQ", "TransUnion")]
    [TestCase("TransUnion [Renewal 2027]", "TransUnion")]
    [TestCase("[DUPLICATE] TransUnion", "TransUnion")]
    [TestCase("DUPLICATE: TransUnion", "TransUnion")]
    [TestCase("TEST - TransUnion", "TransUnion")]
    [TestCase("ZZ TransUnion", "TransUnion")]
    [TestCase("TransUnion (Germany)", "TransUnion")]
    [TestCase("TransUnion - North America", "TransUnion")]
    [TestCase("TransUnion (Europe) GmbH", "TransUnion GmbH")]
    [TestCase("TransUnion (formerly Trans Union Corp)", "TransUnion")]
    [TestCase("TransUnion, Attn: John Smith", "TransUnion")]
    [TestCase("TransUnion: Procurement", "TransUnion")]
    [TestCase("Deutsche Bank AG - London Branch", "Deutsche Bank AG")]
    public void CrmNoteAroundTheName_IsDropped(string noted, string clean) => ShouldGetTheCleanVerdict(noted, clean);

    [TestCase("Coca-Cola")]
    [TestCase("Procter & Gamble")]
    [TestCase("Office Depot")]
    [TestCase("Accounts Payable")]
    [TestCase("[Renewal 2027]")]
    public void NameThatLooksLikeANote_IsKept(string name) => CompanyName.Normalise(name).IsEmpty.ShouldBeFalse();

    [TestCase("Test Equipment Depot - Boston", "testequipmentdepotboston")]
    [TestCase("A - Z Logistics", "azlogistics")]
    [TestCase("AT&T (Pacific Bell)", "attpacificbell")]
    public void NameThatOnlyStartsLikeANote_KeepsEveryWord(string name, string key) => CompanyName.Normalise(name).Key.ShouldBe(key);

    [Test]
    public void CompanyWrittenInsideANote_IsStillARead()
    {
        // What a note would drop stays a reading of the name: a company cannot be hidden in brackets.
        var readings = CompanyName.Readings("Squat Services [Fabrikam Retail]");
        readings.Select(r => r.Key).ShouldContain("squatservice");
        readings.Select(r => r.Key).ShouldContain("squatservicefabrikamretail");
        Score("Squat Services [Fabrikam Retail]", "Fabrikam Retail").Verdict.ShouldNotBe(Verdict.Clear);
    }

    [TestCase("Nordik Bank Solutions AB", "Nordic Bank Solutions AB")]
    [TestCase("Nordic Bank Solution AB", "Nordic Bank Solutions AB")]
    [TestCase("Nordic Bamk Solutions", "Nordic Bank Solutions AB")]
    public void OneTypoInANameOfCommonWords_GetsTheCleanVerdict(string misspelt, string clean) => ShouldGetTheCleanVerdict(misspelt, clean, "SE");

    [Test]
    public void MisspeltKeys_ReplaceOneWordWithEachStoredWordItMisspells()
    {
        var name = CompanyName.Normalise("Nordik Bamk Solutions");
        var keys = Blocking.MisspeltKeys(name, [("nordic", 1), ("bank", 1), ("bark", 1), ("zzzz", 4)], max: 8);
        keys.ShouldBe(["nordicbamksolution", "nordikbanksolution", "nordikbarksolution"], ignoreOrder: true);
        Blocking.MisspeltKeys(name, [("nordic", 1), ("bank", 1), ("bark", 1)], max: 2).Count.ShouldBe(2);
    }

    [Test]
    public void ContactEmailAtTheCandidatesDomain_IsAReviewBesideAnotherWebsite()
    {
        var query = Company.From("Contoso Pharma Services GmbH", "cps.example", "DE", contactEmail: "maria.schmidt@contoso-pharma.de");
        var result = _matcher.Score(query, Company.From("Contoso Pharma GmbH", "contoso-pharma.de", "DE"));
        result.Verdict.ShouldBe(Verdict.Review, $"scored {result.Score}");
        result.Signals.Select(s => s.Name).ShouldContain("email_domain");
    }

    [Test]
    public void WebsiteThatIsTheCandidatesName_IsAReview()
    {
        var query = Company.From("CP Vertrieb", "contosopharma.de", "DE");
        var result = _matcher.Score(query, Company.From("Contoso Pharma GmbH", null, "DE"));
        result.Verdict.ShouldBe(Verdict.Review, $"scored {result.Score}");
        result.Signals.Select(s => s.Name).ShouldContain("website_names_company");
    }

    [Test]
    public void ExactNameInAnotherCountry_UnderTheSameBrand_IsAReview() =>
        _matcher.Score(Company.From("Contoso Pharma GmbH", "contoso-pharma.com", "AT"), Company.From("Contoso Pharma GmbH", "contoso-pharma.de", "DE"))
            .Verdict.ShouldBe(Verdict.Review);

    [Test]
    public void NameOfMoreWordsThanKept_KeepsItsFirstAndLastWords()
    {
        var filler = string.Join(' ', Enumerable.Range(0, 31).Select(i => $"W{i}x"));
        var name = CompanyName.Normalise($"{filler} Contoso Pharma GmbH");
        name.Cut.ShouldBeTrue();
        name.Tokens.Count.ShouldBe(CompanyName.MaxTokens);
        name.Tokens.TakeLast(2).ShouldBe(["contoso", "pharma"]);
        CompanyName.Normalise("Contoso Pharma GmbH").Cut.ShouldBeFalse();
    }

    [TestCase("Marriott Internatio", "Marriott International")]
    [TestCase("Harv", "Harvey")]
    [TestCase("NZ Registry Services", "New Zealand Registry Services")]
    [TestCase("Verisign Labs", "Veri Sign")]
    [TestCase("AT&T Labs", "ATT")]
    [TestCase("BT Americas", "BT")]
    [TestCase("HP Labs", "HP")]
    [TestCase("Luleå Tekniska Universitet", "Luleå University of Technology")]
    [TestCase("Université Catholique de Louvain", "Catholic University of Louvain")]
    public void CutShortOrInitialledOrGlued_IsAtLeastAReview(string written, string clean) =>
        Score(written, clean).Verdict.ShouldNotBe(Verdict.Clear);

    [TestCase("First National Bank Alaska", "First National Bank of Omaha")]
    [TestCase("China Eastern", "China Southern")]
    [TestCase("China Eastern Airlines", "China Southern Airlines")]
    [TestCase("3M", "M3")]
    [TestCase("AB InBev", "AB Volvo")]
    [TestCase("Intel", "Intelsat")]
    [TestCase("Ciena", "Cigna")]
    [TestCase("Western Research", "Eastern Research")]
    [TestCase("IBM", "Iberdrola Mining")]
    public void CompaniesThatDiffer_AreNeverAConflict(string a, string b)
    {
        var result = Score(a, b);
        result.Verdict.ShouldNotBe(Verdict.Conflict, $"scored {result.Score}");
    }

    [TestCase("China Eastern", "China Southern")]
    [TestCase("3M", "M3")]
    [TestCase("AB InBev", "AB Volvo")]
    [TestCase("Intel", "Intelsat")]
    [TestCase("Ciena", "Cigna")]
    [TestCase("XY", "Acme XY Systems")]
    public void CompaniesThatDiffer_AreMostlyClear(string a, string b) => Score(a, b).Verdict.ShouldBe(Verdict.Clear);

    [Test]
    public void SameNameElsewhere_UnderAnotherDomain_IsClear() =>
        _matcher.Score(Company.From("Fabrikam Retail GmbH", "fabrikam.at", "AT"), Company.From("Fabrikam Retail GmbH", "fabrikam-retail.de", "DE"))
            .Verdict.ShouldBe(Verdict.Clear);
}
