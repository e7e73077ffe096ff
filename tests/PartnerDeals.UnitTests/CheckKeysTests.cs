using PartnerDeals.Api.Features.ConflictChecks;
using PartnerDeals.Matching;

namespace PartnerDeals.UnitTests;

/// <summary>A check run ahead of its batch stands only if no registration written since shares a key with it.</summary>
public sealed class CheckKeysTests
{
    [TestCase("Contoso Pharma GmbH", null, "Contoso Pharma GmbH", null, TestName = "CheckKeys_SameName_Share")]
    [TestCase("Contoso Pharma GmbH", null, "Kontoso Pharma AG", null, TestName = "CheckKeys_MisspeltName_Share")]
    [TestCase("Contosopharma", null, "Contoso Pharma", null, TestName = "CheckKeys_GluedName_Share")]
    [TestCase("International Business Machines", null, "IBM", null, TestName = "CheckKeys_Acronym_Share")]
    [TestCase("Totally Different Ltd", "contoso.de", "Contoso Pharma", "https://www.contoso.de", TestName = "CheckKeys_SameDomain_Share")]
    public void Record_ACheckCouldFind_SharesAKey(string query, string? queryDomain, string record, string? recordDomain) =>
        CheckKeys.OfQuery(Company.From(query, queryDomain, "DE")).Intersect(CheckKeys.OfRecord(Company.From(record, recordDomain, "DE"))).ShouldNotBeEmpty();

    [Test]
    public void Record_OfAnUnrelatedCompany_SharesNoKey() =>
        CheckKeys.OfQuery(Company.From("Fabrikam Robotics", "fabrikam.com", "US"))
            .Intersect(CheckKeys.OfRecord(Company.From("Contoso Pharma GmbH", "contoso.de", "DE"))).ShouldBeEmpty();
}
