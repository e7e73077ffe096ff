using System.Text.Json.Nodes;
using PartnerDeals.Api.Features.Opportunities;
using PartnerDeals.Api.Features.PipelinePull;
using PartnerDeals.Api.Features.Sync;

namespace PartnerDeals.UnitTests;

/// <summary>Vendor text is cleaned, never refused; the Dataverse filter the pull applies itself reads as OData does.</summary>
public sealed class VendorDataTests
{
    [TestCase("\uFEFFContoso Pharma", "Contoso Pharma")]
    [TestCase("Contoso Pharma\r\n", "Contoso Pharma")]
    [TestCase("Contoso\tPharma\u0085", "Contoso Pharma")]
    [TestCase("\u202EContoso  Pharma\u202C", "Contoso Pharma")]
    [TestCase("Contoso\u2028Pharma\u0000", "Contoso Pharma")]
    [TestCase("Con\u200Btoso\u00A0Pharma\uFFFE", "Contoso Pharma")]
    [TestCase("Contoso Pharma\uD83D", "Contoso Pharma")]
    [TestCase("\u200B\uFEFF \t", null)]
    public void Text_DropsInvisibleAndControlCharacters_AndCollapsesSpaces(string written, string? clean) =>
        VendorData.Text(written).ShouldBe(clean);

    [Test]
    public void Cut_EndsAtAWord_AndNeverSplitsAPair()
    {
        VendorData.Cut("Negotiation Review Stage", 20).ShouldBe("Negotiation Review");
        VendorData.Cut(new string('x', 99) + "\U0001F600", 100).Length.ShouldBe(99);
    }

    [Test]
    public void Clean_DropsUnusableOptionalFields_ReadsCountryNames_AndSaysWhat()
    {
        var (cleaned, changes) = VendorData.Clean(new OpportunityBatchItem
        {
            Source = " Salesforce ", ExternalId = "006\u200B1", AccountName = "Contoso\tPharma", AccountDomain = "-", Country = "germany",
            Currency = "Euro", Amount = 10m, Status = OpportunityStatus.Open, CloseDate = new DateOnly(1200, 1, 1),
        });

        cleaned.Source.ShouldBe("salesforce");
        cleaned.ExternalId.ShouldBe("0061");
        cleaned.AccountName.ShouldBe("Contoso Pharma");
        cleaned.AccountDomain.ShouldBeNull();
        cleaned.Country.ShouldBe("DE");
        cleaned.Currency.ShouldBeNull();
        cleaned.Amount.ShouldBeNull();
        cleaned.CloseDate.ShouldBeNull();
        changes.Select(c => c.Field).ShouldBe(["accountDomain", "country", "currency", "amount", "closeDate", "accountName"], ignoreOrder: true);
    }

    [TestCase("statecode ne 2", """{"statecode":0}""", true)]
    [TestCase("statecode ne 2", """{"statecode":2}""", false)]
    [TestCase("statecode eq 0 and (estimatedvalue gt 1000 or name eq 'O''Brien')", """{"statecode":0,"estimatedvalue":10,"name":"o'brien"}""", true)]
    [TestCase("not (_ownerid_value eq null)", """{"_ownerid_value":null}""", false)]
    [TestCase("isprivate eq false", """{"isprivate":false}""", true)]
    public void ODataFilter_ReadsComparisonsJoinedByAndOrNot(string filter, string row, bool passes)
    {
        var parsed = ODataFilter.Parse(filter, out var error)!;
        error.ShouldBeNull();
        parsed.Passes(JsonNode.Parse(row)!.AsObject()).ShouldBe(passes);
    }

    [TestCase("contains(name,'x')")]
    [TestCase("statecode eq")]
    [TestCase("name eq 'open")]
    [TestCase("statecode between 1")]
    public void ODataFilter_ThatCannotBeRead_SaysWhy(string filter)
    {
        ODataFilter.Parse(filter, out var error).ShouldBeNull();
        error.ShouldNotBeNullOrEmpty();
    }
}
