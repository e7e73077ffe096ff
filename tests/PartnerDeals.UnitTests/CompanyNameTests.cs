using PartnerDeals.Matching;

namespace PartnerDeals.UnitTests;

public sealed class CompanyNameTests
{
    [TestCase("Siemens AG", "siemens")]
    [TestCase("Apple Inc.", "apple")]
    [TestCase("APPLE INC", "apple")]
    [TestCase("Apple Incorporated", "apple")]
    [TestCase("Comvita Limited", "comvita")]
    [TestCase("Abengoa, S.A.", "abengoa")]
    [TestCase("Fiat S.p.A.", "fiat")]
    [TestCase("Fiat SpA", "fiat")]
    [TestCase("Volvo AB", "volvo")]
    [TestCase("Nokia Oyj", "nokia")]
    [TestCase("BHP Group Pty Ltd", "bhp")]
    [TestCase("Toshiba K.K.", "toshiba")]
    [TestCase("Kabushiki Kaisha Toshiba", "toshiba")]
    [TestCase("PT Telkom Indonesia Tbk", "telkomindonesia")]
    [TestCase("Müller GmbH & Co. KG", "muller")]
    [TestCase("Tesco PLC", "tesco")]
    [TestCase("S2 Innovation sp. z o.o.", "s2innovation")]
    [TestCase("Vodafone Group Plc", "vodafone")]
    [TestCase("The Coca-Cola Company", "cocacola")]
    public void Normalise_StripsLegalFormsOfEveryJurisdiction(string name, string key) =>
        CompanyName.Normalise(name).Key.ShouldBe(key);

    [TestCase("Straße Bau", "strassebau")]
    [TestCase("Ærø Energi", "aeroenergi")]
    [TestCase("Søren Ølsted", "sorenolsted")]
    [TestCase("Société Générale", "societegenerale")]
    [TestCase("Łódź Instruments", "lodzinstruments")]
    [TestCase("ＡＣＭＥ Ｃｏｒｐ", "acme")] // full-width letters fold under NFKD
    [TestCase("Œuvre Partners", "oeuvrepartners")]
    public void Normalise_FoldsUnicode(string name, string key) =>
        CompanyName.Normalise(name).Key.ShouldBe(key);

    [TestCase("ExxonMobil", "Exxon Mobil")]
    [TestCase("ExxonMobil Corp.", "EXXON-MOBIL CORPORATION")]
    [TestCase("AT&T Inc.", "AT and T")]
    [TestCase("McDonald's Corporation", "McDonalds")]
    [TestCase("Procter & Gamble Co.", "Procter and Gamble")]
    [TestCase("Johnson & Johnson", "Johnson and Johnson Inc")]
    [TestCase("SchummPLC", "Schumm PLC")]
    [TestCase("Deutsche Bank AG", "Deutsche Bank")]
    public void Normalise_SameCompanyWrittenDifferently_HasOneKey(string a, string b) =>
        CompanyName.Normalise(a).Key.ShouldBe(CompanyName.Normalise(b).Key);

    [TestCase("Deutsche Bank AG", "deutschebank")]
    [TestCase("Plan A", "plana")]
    [TestCase("Company", "company")]
    [TestCase("Inc.", "inc")]
    [TestCase("Holding AG", "holding")]
    public void Normalise_NeverStripsANameToNothingNorMeaningfulWords(string name, string key) =>
        CompanyName.Normalise(name).Key.ShouldBe(key);

    [Test]
    public void Normalise_KeepsTokensAndAcronym()
    {
        var name = CompanyName.Normalise("International Business Machines Corporation");
        name.Tokens.ShouldBe(["international", "business", "machine"]); // plurals read as the word (word_forms.txt)
        name.Acronym.ShouldBe("ibm");
        CompanyName.Normalise("IBM").Acronym.ShouldBe("");
    }

    [TestCase(null)]
    [TestCase("")]
    [TestCase("   ")]
    [TestCase("!!! ---")]
    public void Normalise_NothingToMatch_IsEmpty(string? name) => CompanyName.Normalise(name).IsEmpty.ShouldBeTrue();

    [Test]
    public void Normalise_NonLatinScript_KeepsItsLetters() =>
        CompanyName.Normalise("株式会社日立製作所").IsEmpty.ShouldBeFalse();

    [TestCase("Contoso\uFFFE Pharma")]
    [TestCase("Contoso\uFFFF Pharma\uFDD0")]
    [TestCase("Contoso Pharma\uD83D")]
    [TestCase("\uDC00Contoso Pharma")]
    [TestCase("Contoso\u0000\tPharma\r\n")]
    public void NotText_NeverThrows_AndIsReadAsTheCleanName(string written) =>
        CompanyName.Normalise(written).Key.ShouldBe(CompanyName.Normalise("Contoso Pharma").Key);
}
