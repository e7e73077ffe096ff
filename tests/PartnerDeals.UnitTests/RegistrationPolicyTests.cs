using PartnerDeals.Api.Features.Registrations;
using PartnerDeals.Api.Infrastructure.Data;

namespace PartnerDeals.UnitTests;

public sealed class RegistrationPolicyTests
{
    private static readonly Customer Customer = new("Contoso", "contoso.example", "DE", "Pharmaceuticals", 1_200);
    private static readonly Deal Deal = new("Rollout", [], 50_000m, "EUR", null, null);

    private static IEnumerable<TestCaseData> Rules()
    {
        yield return new TestCaseData(new IcpRules(), null).SetName("Icp_NoRulesConfigured_EveryRegistrationQualifies");
        yield return new TestCaseData(new IcpRules { Industries = ["pharmaceuticals"] }, null).SetName("Icp_IndustryListed_IgnoringCase_Qualifies");
        yield return new TestCaseData(new IcpRules { Industries = ["banking"] }, "industry").SetName("Icp_IndustryNotListed_FailsIndustry");
        yield return new TestCaseData(new IcpRules { Countries = ["FR", "IT"] }, "country").SetName("Icp_CountryNotListed_FailsCountry");
        yield return new TestCaseData(new IcpRules { MinEmployees = 5_000 }, "min_employees").SetName("Icp_TooFewEmployees_FailsMinEmployees");
        yield return new TestCaseData(new IcpRules { MaxEmployees = 1_000 }, "max_employees").SetName("Icp_TooManyEmployees_FailsMaxEmployees");
        yield return new TestCaseData(new IcpRules { MinDealSize = new() { ["EUR"] = 60_000m } }, "min_deal_size").SetName("Icp_DealBelowMinimum_FailsMinDealSize");
        yield return new TestCaseData(new IcpRules { MinDealSize = new() { ["eur"] = 50_000m } }, null).SetName("Icp_DealAtMinimum_Qualifies");
        yield return new TestCaseData(new IcpRules { MinDealSize = new() { ["USD"] = 1m } }, "min_deal_size")
            .SetName("Icp_DealInACurrencyWithoutMinimum_FailsRatherThanConverting");
        yield return new TestCaseData(new IcpRules { Countries = ["FR"], MinEmployees = 5_000 }, "country").SetName("Icp_SeveralFailures_NamesTheFirstInRuleOrder");
    }

    [TestCaseSource(nameof(Rules))]
    public void Evaluate(IcpRules rules, string? failedRule)
    {
        var result = rules.Evaluate(Customer, Deal);
        result.Qualified.ShouldBe(failedRule is null);
        result.FailedRule.ShouldBe(failedRule);
    }

    [Test]
    public void Icp_EmployeeRuleWithUnknownCount_DoesNotQualify() =>
        new IcpRules { MinEmployees = 10 }.Evaluate(Customer with { EmployeeCount = null }, Deal).FailedRule.ShouldBe("min_employees");

    [Test]
    public void PolicyVersion_ChangesWithTheRulesEvenUnderTheSameLabel()
    {
        var defaults = new RegistrationPolicy().EffectiveVersion;
        defaults.ShouldStartWith("1-");
        new RegistrationPolicy().EffectiveVersion.ShouldBe(defaults);
        new RegistrationPolicy { Icp = new IcpRules { Countries = ["DE"] } }.EffectiveVersion.ShouldNotBe(defaults);
        new RegistrationPolicy { AutoApproveTiers = ["gold"] }.EffectiveVersion.ShouldNotBe(defaults);
        new RegistrationPolicy { Version = "2" }.EffectiveVersion.ShouldStartWith("2-");
    }

    [TestCase("silver", true)]
    [TestCase("GOLD", true)]
    [TestCase("registered", false)]
    public void AutoApproves_ByDefault_SilverAndGold(string tier, bool expected) =>
        new RegistrationPolicy().AutoApproves(tier).ShouldBe(expected);

    [Test]
    public void AutoApproves_SwitchedOff_NoTier() => new RegistrationPolicy { AutoApprove = false }.AutoApproves("gold").ShouldBeFalse();

    [TestCase(RejectionReason.DirectConflict, "rejected_account_unavailable")]
    [TestCase(RejectionReason.ExistingCustomer, "rejected_account_unavailable")]
    [TestCase(RejectionReason.Duplicate, "rejected_duplicate")]
    [TestCase(RejectionReason.NotIcp, "rejected_not_icp")]
    public void RejectedReason_NeverNamesTheDirectDealToThePartner(RejectionReason reason, string shown) =>
        RejectRegistration.ShownReason(reason).ShouldBe(shown);

    [Test]
    public void Claims_TheSqlList_NamesExactlyTheClaimStatuses() =>
        Claims.StatusList.Split(',').Select(s => s.Trim().Trim('\'')).ShouldBe(Claims.Statuses.Select(s => PartnerDeals.Api.Infrastructure.Http.Json.Name(s)));

    [Test]
    public void Extensions_UnlistedTier_GetsTheDefault()
    {
        var options = new RegistrationOptions();
        options.ExtensionsFor("gold").Days.ShouldBe(60);
        options.ExtensionsFor("platinum").MaxCount.ShouldBe(ExtensionRule.Default.MaxCount);
    }

    [Test]
    public void Ids_WithTheClockStandingStill_StillIncrease()
    {
        var now = new DateTimeOffset(2026, 11, 23, 10, 0, 0, TimeSpan.Zero);
        var ids = Enumerable.Range(0, 1_000).Select(_ => Ids.New(now).ToString()).ToList();
        ids.ShouldBe(ids.Order(StringComparer.Ordinal).ToList());
        ids.Distinct().Count().ShouldBe(ids.Count);
        Ids.New(now).Version.ShouldBe(7);
    }
}
