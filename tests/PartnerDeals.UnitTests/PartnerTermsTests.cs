using FluentValidation.TestHelper;
using Microsoft.Extensions.Options;
using PartnerDeals.Api.Features.Partners;
using PartnerDeals.Api.Infrastructure.Http;

namespace PartnerDeals.UnitTests;

public sealed class PartnerTermsTests
{
    [OneTimeSetUp]
    public void UseJsonNames() => ValidationSetup.UseJsonFieldNames();

    [Test]
    public void With_NoInput_KeepsTerms() => PartnerTerms.Default.With(null).ShouldBe(PartnerTerms.Default);

    [Test]
    public void With_SomeFields_ChangesOnlyThose()
    {
        var changed = PartnerTerms.Default.With(new PartnerTermsInput { ProtectionDays = 120, Exclusive = true });
        changed.ShouldBe(PartnerTerms.Default with { ProtectionDays = 120, Exclusive = true });
    }

    [Test]
    public void With_SwitchToFixedFee_DropsThePercentage()
    {
        var changed = PartnerTerms.Default.With(new PartnerTermsInput { FeeModel = FeeModel.FixedFee, FeeAmount = 500, FeeCurrency = " usd " });
        changed.FeePercent.ShouldBeNull();
        changed.FeeAmount.ShouldBe(500m);
        changed.FeeCurrency.ShouldBe("USD");
    }

    [Test]
    public void With_SwitchBetweenPercentModels_KeepsThePercentage()
    {
        var changed = PartnerTerms.Default.With(new PartnerTermsInput { FeeModel = FeeModel.ResaleMargin });
        changed.FeePercent.ShouldBe(10m);
    }

    [Test]
    public void Validator_DefaultTerms_AreValid() =>
        new PartnerTermsValidator().TestValidate(PartnerTerms.Default).ShouldNotHaveAnyValidationErrors();

    [Test]
    public void Validator_FixedFeeWithPercentage_IsRefused()
    {
        var terms = PartnerTerms.Default.With(new PartnerTermsInput { FeeModel = FeeModel.FixedFee, FeePercent = 5 });
        var result = new PartnerTermsValidator().TestValidate(terms);
        result.ShouldHaveValidationErrorFor(t => t.FeePercent);
        result.ShouldHaveValidationErrorFor(t => t.FeeAmount);
        result.ShouldHaveValidationErrorFor(t => t.FeeCurrency);
    }

    [TestCase(-1)]
    [TestCase(100.5)]
    public void Validator_PercentOutOfRange_IsRefused(decimal percent) =>
        new PartnerTermsValidator().TestValidate(PartnerTerms.Default with { FeePercent = percent })
            .ShouldHaveValidationErrorFor(t => t.FeePercent);

    [Test]
    public void CreateValidator_TierOutsideConfiguredTiers_IsRefused()
    {
        var validator = new CreatePartnerRequestValidator(Options.Create(new PartnerProgramOptions { Tiers = ["bronze", "platinum"] }));
        var request = new CreatePartnerRequest { Name = "Acme", Type = PartnerType.Msp, Tier = "gold", ContactEmail = "a@b.example" };
        validator.TestValidate(request).ShouldHaveValidationErrorFor(r => r.Tier);
        validator.TestValidate(request with { Tier = "platinum" }).ShouldNotHaveAnyValidationErrors();
    }

    [Test]
    public void CreateValidator_ErrorKeysAreJsonFieldPaths()
    {
        var validator = new CreatePartnerRequestValidator(Options.Create(new PartnerProgramOptions()));
        var request = new CreatePartnerRequest
        {
            Name = "Acme", Type = PartnerType.Msp, Tier = "gold", ContactEmail = "a@b.example",
            Terms = new PartnerTermsInput { ProtectionDays = 0 },
        };
        validator.Validate(request).Errors.Select(e => e.PropertyName).ShouldBe(["terms.protectionDays"]);
    }

    [Test]
    public void NameKey_IgnoresCaseAndSpacing() =>
        PartnerStore.NameKey("  Northwind   CONSULTING ").ShouldBe("northwind consulting");
}
