using System.Text.Json.Serialization;

namespace PartnerDeals.Api.Features.Partners;

public enum PartnerType
{
    Referral,
    Reseller,
    Implementation,
    Technology,
    Affiliate,
    Msp,

    /// <summary>Supplies resellers, and may register deals on their behalf (<c>/v1/partners/{id}/resellers</c>).</summary>
    Distributor,
}

public enum PartnerStatus
{
    Active,
    Suspended,
    Terminated,
}

public enum FeeModel
{
    /// <summary>A percentage of the closed-won revenue (referral fee).</summary>
    PercentOfRevenue,

    /// <summary>A fixed amount per trigger.</summary>
    FixedFee,

    /// <summary>The partner resells and keeps a margin percentage.</summary>
    ResaleMargin,
}

public enum FeeTrigger
{
    /// <summary>Earned when an ICP-qualified registration is approved.</summary>
    QualifiedIntroduction,

    /// <summary>Earned when the deal is won.</summary>
    ClosedWon,
}

/// <summary>Bound from the <c>Partners</c> section.</summary>
public sealed class PartnerProgramOptions
{
    public const string Section = "Partners";
    public static readonly string[] DefaultTiers = ["registered", "silver", "gold"];

    /// <summary>The program's tiers, lowest first. Defaults to registered, silver, gold.</summary>
    public string[]? Tiers { get; set; }

    public IReadOnlyList<string> EffectiveTiers => Tiers is { Length: > 0 } ? Tiers : DefaultTiers;
}

/// <summary>A partner's commercial terms. Snapshotted onto each registration at approval, so a later change never rewrites history.</summary>
public sealed record PartnerTerms
{
    /// <summary>How the partner is paid.</summary>
    /// <example>percent_of_revenue</example>
    public required FeeModel FeeModel { get; init; }

    /// <summary>Percentage for <c>percent_of_revenue</c> and <c>resale_margin</c> (0–100); null for <c>fixed_fee</c>.</summary>
    /// <example>10</example>
    public decimal? FeePercent { get; init; }

    /// <summary>Amount per trigger for <c>fixed_fee</c>; null otherwise.</summary>
    public decimal? FeeAmount { get; init; }

    /// <summary>ISO 4217 currency of <c>feeAmount</c>; null unless <c>fixed_fee</c>.</summary>
    public string? FeeCurrency { get; init; }

    /// <summary>What earns the fee.</summary>
    /// <example>closed_won</example>
    public required FeeTrigger FeeTrigger { get; init; }

    /// <summary>Days after the fee accrues until it is due (0–365).</summary>
    /// <example>30</example>
    public required int PaymentNetDays { get; init; }

    /// <summary>Days an approved registration is protected (1–730).</summary>
    /// <example>90</example>
    public required int ProtectionDays { get; init; }

    /// <summary>Whether the partner's approved registrations are exclusive.</summary>
    /// <example>false</example>
    public required bool Exclusive { get; init; }

    /// <summary>Terms of a partner created without any: 10% of closed-won revenue, net 30, 90 days of protection.</summary>
    public static readonly PartnerTerms Default = new()
    {
        FeeModel = FeeModel.PercentOfRevenue,
        FeePercent = 10m,
        FeeTrigger = FeeTrigger.ClosedWon,
        PaymentNetDays = 30,
        ProtectionDays = 90,
        Exclusive = false,
    };

    /// <summary>
    /// These terms with the given fields changed. Fields that do not apply to the resulting fee model
    /// (a percentage after a switch to <c>fixed_fee</c>) are dropped unless given, in which case validation refuses them.
    /// </summary>
    public PartnerTerms With(PartnerTermsInput? input)
    {
        if (input is null) return this;
        var model = input.FeeModel ?? FeeModel;
        var sameKind = IsPercent(model) == IsPercent(FeeModel);
        return new PartnerTerms
        {
            FeeModel = model,
            FeePercent = input.FeePercent ?? (sameKind ? FeePercent : null),
            FeeAmount = input.FeeAmount ?? (sameKind ? FeeAmount : null),
            FeeCurrency = input.FeeCurrency?.Trim().ToUpperInvariant() ?? (sameKind ? FeeCurrency : null),
            FeeTrigger = input.FeeTrigger ?? FeeTrigger,
            PaymentNetDays = input.PaymentNetDays ?? PaymentNetDays,
            ProtectionDays = input.ProtectionDays ?? ProtectionDays,
            Exclusive = input.Exclusive ?? Exclusive,
        };
    }

    public static bool IsPercent(FeeModel model) => model is FeeModel.PercentOfRevenue or FeeModel.ResaleMargin;
}

/// <summary>How many checks a partner may ask for: pre-checks, registrations and company-changing edits together.</summary>
/// <param name="PerMinute">Over a rolling minute (1–100,000).</param>
/// <param name="PerDay">Over a rolling day (1–1,000,000).</param>
public sealed record CheckQuota(int PerMinute, int PerDay);

/// <summary>
/// A partner's own record in each CRM. A deal's team reaches a CRM only for partners that have one there: Salesforce an
/// OpportunityPartner on the Account, HubSpot an association of the deal with the company, Dataverse a connection of the
/// opportunity with the account.
/// </summary>
public sealed record CrmAccounts
{
    /// <summary>The partner's Salesforce Account id (15 or 18 characters).</summary>
    /// <example>001Dn00000ABCdeIAF</example>
    public string? Salesforce { get; init; }

    /// <summary>The partner's HubSpot company id.</summary>
    /// <example>18239457</example>
    [JsonPropertyName("hubspot")]
    public string? HubSpot { get; init; }

    /// <summary>The partner's Dataverse account id.</summary>
    /// <example>5b7a3c1e-2d4f-4e8a-9b0c-1d2e3f4a5b6c</example>
    public string? Dynamics { get; init; }

    /// <summary>The account in <paramref name="crm"/> (a name of <c>Crms</c>), if any.</summary>
    public string? In(string crm) => crm switch
    {
        "salesforce" => Salesforce,
        "hubspot" => HubSpot,
        "dynamics" => Dynamics,
        _ => null,
    };
}

/// <summary>The terms the registration was approved under (a snapshot of the partner's tier and terms).</summary>
public sealed record TermsSnapshot(
    string Tier, FeeModel FeeModel, decimal? FeePercent, decimal? FeeAmount, string? FeeCurrency, FeeTrigger FeeTrigger,
    int PaymentNetDays, int ProtectionDays);

/// <summary>A partner of the program.</summary>
public sealed record Partner
{
    /// <example>0193a6f2-7c1e-7d3a-9f00-5b2c8e4d1a10</example>
    public required Guid Id { get; init; }

    /// <example>Northwind Consulting</example>
    public required string Name { get; init; }

    /// <example>implementation</example>
    public required PartnerType Type { get; init; }

    /// <summary>One of the configured tiers (by default <c>registered</c>, <c>silver</c>, <c>gold</c>).</summary>
    /// <example>silver</example>
    public required string Tier { get; init; }

    /// <example>active</example>
    public required PartnerStatus Status { get; init; }

    /// <example>alliances@northwind.example</example>
    public required string ContactEmail { get; init; }

    public required PartnerTerms Terms { get; init; }

    /// <summary>
    /// The partner's own check quota, set by ops (a large reseller, a distributor); null: the program's
    /// (<c>ConflictChecks:PartnerQuota</c>). Pre-checks, registrations and company-changing edits all draw on it.
    /// </summary>
    public CheckQuota? CheckQuota { get; init; }

    /// <summary>The partner's own record in each CRM, so the deals it is on show it there (empty until ops set it).</summary>
    public CrmAccounts CrmAccounts { get; init; } = new();

    public required DateTimeOffset CreatedAt { get; init; }

    public required DateTimeOffset UpdatedAt { get; init; }

    /// <summary>The concurrency version; sent as the ETag header, not in the body.</summary>
    [JsonIgnore]
    public int Version { get; init; }

    /// <summary>Every field as the audit trail records it, so an update can list what changed.</summary>
    public IReadOnlyDictionary<string, object?> AuditFields() => new Dictionary<string, object?>
    {
        ["name"] = Name,
        ["type"] = Infrastructure.Http.Json.Name(Type),
        ["tier"] = Tier,
        ["status"] = Infrastructure.Http.Json.Name(Status),
        ["contactEmail"] = ContactEmail,
        ["terms.feeModel"] = Infrastructure.Http.Json.Name(Terms.FeeModel),
        ["terms.feePercent"] = Terms.FeePercent,
        ["terms.feeAmount"] = Terms.FeeAmount,
        ["terms.feeCurrency"] = Terms.FeeCurrency,
        ["terms.feeTrigger"] = Infrastructure.Http.Json.Name(Terms.FeeTrigger),
        ["terms.paymentNetDays"] = Terms.PaymentNetDays,
        ["terms.protectionDays"] = Terms.ProtectionDays,
        ["terms.exclusive"] = Terms.Exclusive,
        ["checkQuota.perMinute"] = CheckQuota?.PerMinute,
        ["checkQuota.perDay"] = CheckQuota?.PerDay,
        ["crmAccounts.salesforce"] = CrmAccounts.Salesforce,
        ["crmAccounts.hubspot"] = CrmAccounts.HubSpot,
        ["crmAccounts.dynamics"] = CrmAccounts.Dynamics,
    };
}
