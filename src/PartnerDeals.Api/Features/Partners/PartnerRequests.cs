using System.ComponentModel.DataAnnotations;
using System.Text.Json.Serialization;
using System.Text.RegularExpressions;
using FluentValidation;
using Microsoft.Extensions.Options;
using PartnerDeals.Api.Infrastructure.Http;

namespace PartnerDeals.Api.Features.Partners;

/// <summary>Terms to set; every field is optional and an absent one keeps its current (or default) value.</summary>
public sealed record PartnerTermsInput
{
    /// <example>percent_of_revenue</example>
    public FeeModel? FeeModel { get; init; }

    /// <summary>Percentage for <c>percent_of_revenue</c> and <c>resale_margin</c> (0–100).</summary>
    /// <example>12.5</example>
    public decimal? FeePercent { get; init; }

    /// <summary>Amount per trigger for <c>fixed_fee</c>.</summary>
    public decimal? FeeAmount { get; init; }

    /// <summary>ISO 4217 currency of <c>feeAmount</c>.</summary>
    public string? FeeCurrency { get; init; }

    /// <example>closed_won</example>
    public FeeTrigger? FeeTrigger { get; init; }

    /// <example>30</example>
    public int? PaymentNetDays { get; init; }

    /// <example>90</example>
    public int? ProtectionDays { get; init; }

    /// <example>false</example>
    public bool? Exclusive { get; init; }
}

/// <summary>Add a partner to the program.</summary>
// [Required] only marks fields as required in the OpenAPI document; the validators below enforce it.
public sealed record CreatePartnerRequest
{
    /// <summary>Unique in the program, ignoring case (2–200 characters).</summary>
    /// <example>Northwind Consulting</example>
    [Required]
    public string? Name { get; init; }

    /// <example>implementation</example>
    [Required]
    public PartnerType? Type { get; init; }

    /// <summary>One of the configured tiers (by default <c>registered</c>, <c>silver</c>, <c>gold</c>).</summary>
    /// <example>silver</example>
    [Required]
    public string? Tier { get; init; }

    /// <summary>Defaults to <c>active</c>.</summary>
    /// <example>active</example>
    public PartnerStatus? Status { get; init; }

    /// <example>alliances@northwind.example</example>
    [Required]
    public string? ContactEmail { get; init; }

    /// <summary>Optional; missing fields take the defaults (10% of closed-won revenue, net 30, 90 days of protection, not exclusive).</summary>
    public PartnerTermsInput? Terms { get; init; }

    /// <summary>Optional: the partner's own record in each CRM.</summary>
    public CrmAccountsInput? CrmAccounts { get; init; }
}

/// <summary>The partner's record in each CRM; on a change, a field left out stays and a field sent as null is removed.</summary>
public sealed record CrmAccountsInput : PatchableInput
{
    /// <summary>A Salesforce Account id: 15 or 18 letters and digits.</summary>
    /// <example>001Dn00000ABCdeIAF</example>
    public string? Salesforce { get; init => field = Sent(value); }

    /// <summary>A HubSpot company id: digits.</summary>
    /// <example>18239457</example>
    [JsonPropertyName("hubspot")]
    public string? HubSpot { get; init => field = Sent(value); }

    /// <summary>A Dataverse account id: a GUID.</summary>
    /// <example>5b7a3c1e-2d4f-4e8a-9b0c-1d2e3f4a5b6c</example>
    public string? Dynamics { get; init => field = Sent(value); }

    /// <summary><paramref name="current"/> with what this input sets or removes.</summary>
    public CrmAccounts Over(CrmAccounts current) => new()
    {
        Salesforce = Salesforce?.Trim() ?? (SentAsNull(nameof(Salesforce)) ? null : current.Salesforce),
        HubSpot = HubSpot?.Trim() ?? (SentAsNull(nameof(HubSpot)) ? null : current.HubSpot),
        Dynamics = Dynamics is { } d && Guid.TryParse(d, out var id) ? id.ToString("D") : SentAsNull(nameof(Dynamics)) ? null : current.Dynamics,
    };
}

/// <summary>Change a partner: send only the fields to change (JSON merge patch: <c>checkQuota: null</c> returns the partner to the program's quota).</summary>
public sealed record UpdatePartnerRequest : PatchableInput
{
    /// <example>Northwind Consulting Group</example>
    public string? Name { get; init; }

    public PartnerType? Type { get; init; }

    /// <example>gold</example>
    public string? Tier { get; init; }

    /// <summary>A terminated partner cannot be reactivated; terminating revokes the partner's keys.</summary>
    public PartnerStatus? Status { get; init; }

    public string? ContactEmail { get; init; }

    public PartnerTermsInput? Terms { get; init; }

    /// <summary>Ops and admin: the partner's own check quota (both numbers), or null for the program's.</summary>
    public CheckQuota? CheckQuota { get; init => field = Sent(value); }

    /// <summary>The partner's record in each CRM: the fields sent are set (null removes one), the others stay.</summary>
    public CrmAccountsInput? CrmAccounts { get; init; }
}

internal static partial class PartnerRules
{
    public static void Name<T>(IRuleBuilderInitial<T, string?> rule) =>
        rule.Must(n => n is null || n.Trim().Length is >= 2 and <= 200).WithMessage("name must be 2 to 200 characters.")
            .Must(TextRules.IsName).WithMessage(TextRules.NameMessage);

    public static void Tier<T>(IRuleBuilderInitial<T, string?> rule, IReadOnlyList<string> tiers) =>
        rule.Must(t => t is null || tiers.Contains(t))
            .WithMessage($"tier must be one of: {string.Join(", ", tiers)}.");

    public static void Email<T>(IRuleBuilderInitial<T, string?> rule) =>
        rule.MaximumLength(320).Must(e => e is null || EmailShape().IsMatch(e))
            .WithMessage("contactEmail must be an e-mail address.");

    [GeneratedRegex(@"^[^@\s]+@[^@\s]+\.[^@\s]+$")]
    private static partial Regex EmailShape();

    [GeneratedRegex("^[A-Z]{3}$")]
    public static partial Regex CurrencyShape();

    public static void CrmAccounts<T>(IRuleBuilderInitial<T, CrmAccountsInput?> rule) => rule.ChildRules(accounts =>
    {
        accounts.RuleFor(a => a!.Salesforce).Must(id => id is null || SalesforceId().IsMatch(id.Trim()))
            .WithMessage("crmAccounts.salesforce must be a Salesforce Account id: 15 or 18 letters and digits, starting 001.");
        accounts.RuleFor(a => a!.HubSpot).Must(id => id is null || HubSpotId().IsMatch(id.Trim()))
            .WithMessage("crmAccounts.hubspot must be a HubSpot company id: digits.").OverridePropertyName("hubspot");
        accounts.RuleFor(a => a!.Dynamics).Must(id => id is null || Guid.TryParse(id, out _))
            .WithMessage("crmAccounts.dynamics must be a Dataverse account id: a GUID.");
    });

    // An Account's key prefix is 001 in every org.
    [GeneratedRegex("^001[A-Za-z0-9]{12}(?:[A-Za-z0-9]{3})?$")]
    private static partial Regex SalesforceId();

    [GeneratedRegex("^[0-9]{1,18}$")]
    private static partial Regex HubSpotId();
}

public sealed class PartnerTermsValidator : AbstractValidator<PartnerTerms>
{
    public PartnerTermsValidator()
    {
        When(t => PartnerTerms.IsPercent(t.FeeModel), () =>
        {
            RuleFor(t => t.FeePercent).NotNull().WithMessage("feePercent is required for this fee model.")
                .InclusiveBetween(0m, 100m).PrecisionScale(7, 4, true);
            RuleFor(t => t.FeeAmount).Null().WithMessage("feeAmount applies only to fixed_fee.");
            RuleFor(t => t.FeeCurrency).Null().WithMessage("feeCurrency applies only to fixed_fee.");
        }).Otherwise(() =>
        {
            RuleFor(t => t.FeeAmount).NotNull().WithMessage("feeAmount is required for fixed_fee.")
                .GreaterThan(0m).LessThan(1_000_000_000m).PrecisionScale(19, 4, true);
            RuleFor(t => t.FeeCurrency).NotNull().WithMessage("feeCurrency is required for fixed_fee.")
                .Matches(PartnerRules.CurrencyShape()).WithMessage("feeCurrency must be an ISO 4217 code such as USD.");
            RuleFor(t => t.FeePercent).Null().WithMessage("feePercent does not apply to fixed_fee.");
        });
        RuleFor(t => t.PaymentNetDays).InclusiveBetween(0, 365);
        RuleFor(t => t.ProtectionDays).InclusiveBetween(1, 730);
    }
}

public sealed class CreatePartnerRequestValidator : AbstractValidator<CreatePartnerRequest>
{
    public CreatePartnerRequestValidator(IOptions<PartnerProgramOptions> program)
    {
        PartnerRules.Name(RuleFor(x => x.Name));
        RuleFor(x => x.Name).NotEmpty();
        RuleFor(x => x.Type).NotNull();
        RuleFor(x => x.Tier).NotEmpty();
        PartnerRules.Tier(RuleFor(x => x.Tier), program.Value.EffectiveTiers);
        RuleFor(x => x.ContactEmail).NotEmpty();
        PartnerRules.Email(RuleFor(x => x.ContactEmail));
        RuleFor(x => PartnerTerms.Default.With(x.Terms)).SetValidator(new PartnerTermsValidator()).OverridePropertyName("terms");
        PartnerRules.CrmAccounts(RuleFor(x => x.CrmAccounts));
    }
}

/// <summary>Checks the fields given; the handler checks the merged terms with <see cref="PartnerTermsValidator"/>.</summary>
public sealed class UpdatePartnerRequestValidator : AbstractValidator<UpdatePartnerRequest>
{
    public UpdatePartnerRequestValidator(IOptions<PartnerProgramOptions> program)
    {
        PartnerRules.Name(RuleFor(x => x.Name));
        PartnerRules.Tier(RuleFor(x => x.Tier), program.Value.EffectiveTiers);
        PartnerRules.Email(RuleFor(x => x.ContactEmail));
        RuleFor(x => x.CheckQuota!.PerMinute).InclusiveBetween(1, 100_000).When(x => x.CheckQuota is not null).OverridePropertyName("checkQuota.perMinute");
        RuleFor(x => x.CheckQuota!.PerDay).InclusiveBetween(1, 1_000_000).When(x => x.CheckQuota is not null).OverridePropertyName("checkQuota.perDay");
        RuleFor(x => x.CheckQuota).Must(q => q is null || q.PerMinute <= q.PerDay).WithMessage("checkQuota.perMinute must not exceed perDay.");
        PartnerRules.CrmAccounts(RuleFor(x => x.CrmAccounts));
    }
}
