using PartnerDeals.Api.Features.Registrations;
using PartnerDeals.Api.Infrastructure.Http;
using PartnerDeals.Matching;

namespace PartnerDeals.UnitTests;

public sealed class ExactDataRulesTests
{
    [TestCase("Contoso Pharma GmbH")]
    [TestCase("Газпром")]
    [TestCase("\u05D0\u05DC \u05E2\u05DC\u200F")]
    [TestCase("Caf\u00E9 \U0001F600 Ltd")]
    [TestCase("Broken \uFFFD Data")]
    public void Name_OfVisibleText_IsAccepted(string name) => TextRules.IsName(name).ShouldBeTrue();

    [TestCase("Contoso\u0000Pharma")]
    [TestCase("Contoso\u001BPharma")]
    [TestCase("Contoso\r\nPharma")]
    [TestCase("Contoso\tPharma")]
    [TestCase("\uFEFFContoso")]
    [TestCase("Contoso\uFFFF")]
    [TestCase("Contoso\uFFFE")]
    [TestCase("Contoso\uFDD0")]
    [TestCase("Contoso\U0001FFFF")]
    [TestCase("Contoso\u202EamrahP")]
    [TestCase("Contoso\u2066Pharma\u2069")]
    [TestCase("Contoso\u0085Pharma")]
    [TestCase("Contoso\u2028Pharma")]
    [TestCase("Contoso Pharma\u2029")]
    public void Name_WithAControlNonCharacterOrBidiControl_IsRefused(string name) => TextRules.IsName(name).ShouldBeFalse();

    [Test]
    public void Name_WithALoneSurrogate_IsRefused()
    {
        TextRules.IsName("Contoso" + '\uD800' + "Pharma").ShouldBeFalse();
        TextRules.IsName("Contoso" + '\uDC00').ShouldBeFalse();
    }

    [Test]
    public void FreeText_MayHoldLineBreaksAndTabs_ButNoOtherControl()
    {
        TextRules.IsText("Line one\r\n\tLine two").ShouldBeTrue();
        TextRules.IsText("Bell\u0007").ShouldBeFalse();
        TextRules.IsText("Override\u202E").ShouldBeFalse();
    }

    [TestCase("120000.00", "120000")]
    [TestCase("999999999999999.9999", "999999999999999.9999")]
    [TestCase("0.0001000", "0.0001")]
    [TestCase("100", "100")]
    public void Amount_Normalised_KeepsEveryDigitAndDropsTrailingZeros(string written, string expected) =>
        Amounts.Normalised(decimal.Parse(written, System.Globalization.CultureInfo.InvariantCulture))
            .ToString(System.Globalization.CultureInfo.InvariantCulture).ShouldBe(expected);

    [Test]
    public void NextVersion_OfAChangeOnlyVendorsSee_KeepsThePartnersVersionAndTime()
    {
        var submitted = DateTimeOffset.Parse("2026-11-02T09:00:00Z", System.Globalization.CultureInfo.InvariantCulture);
        var current = Sample(submitted) with { Version = 3, PartnerVersion = 2, UpdatedAt = submitted, PartnerUpdatedAt = submitted };
        var later = submitted.AddHours(1);

        var conflictReRecorded = current.NextVersion(current with { ConflictId = Guid.NewGuid() }, later);
        var reasonChanged = current.NextVersion(current with { Reason = "awaiting_review", Verdict = Verdict.Clear }, later);

        (conflictReRecorded.Version, conflictReRecorded.PartnerVersion, conflictReRecorded.PartnerUpdatedAt).ShouldBe((4, 2, submitted));
        conflictReRecorded.ForPartner().UpdatedAt.ShouldBe(submitted);
        (reasonChanged.Version, reasonChanged.PartnerVersion, reasonChanged.PartnerUpdatedAt).ShouldBe((4, 3, later));
    }

    [TestCase("Contoso Pharma GmbH", "contoso.de", false, TestName = "NamesAnotherCompany_SameNameAndDomain_IsFalse")]
    [TestCase("CONTOSO PHARMA GMBH", "https://www.contoso.de/", false, TestName = "NamesAnotherCompany_SameCompanyWrittenDifferently_IsFalse")]
    [TestCase("Fabrikam Robotics", "contoso.de", true, TestName = "NamesAnotherCompany_NewName_IsTrue")]
    [TestCase("Contoso Pharma GmbH", "fabrikam.com", true, TestName = "NamesAnotherCompany_NewDomain_IsTrue")]
    public void NamesAnotherCompany_ComparesTheCompanyNotItsSpelling(string name, string domain, bool expected)
    {
        var before = Sample(DateTimeOffset.UnixEpoch);
        var after = before with { Customer = before.Customer with { CompanyName = name, Domain = domain } };
        RegistrationDecisions.NamesAnotherCompany(before, after).ShouldBe(expected);
    }

    private static Registration Sample(DateTimeOffset at) => new()
    {
        Id = Guid.NewGuid(),
        PartnerId = Guid.NewGuid(),
        Status = RegistrationStatus.PendingReview,
        Verdict = Verdict.Conflict,
        Reason = "account_unavailable",
        Customer = new Customer("Contoso Pharma GmbH", "contoso.de", "DE", null, null),
        Contact = new Contact("Maria Schmidt", "maria@contoso.de", null),
        Deal = new Deal("Rollout", [], 50_000m, "EUR", null, null),
        CoSell = new CoSell(CoSellParty.Partner, CoSellParty.Partner, CoSellParty.Partner),
        CoSelling = false,
        Icp = new IcpResult(true, null),
        PolicyVersion = "1-abc",
        ExtensionsGranted = 0,
        SubmittedAt = at,
        CreatedAt = at,
        UpdatedAt = at,
    };
}
