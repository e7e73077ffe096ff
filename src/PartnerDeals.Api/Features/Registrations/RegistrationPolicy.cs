using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using PartnerDeals.Api.Features.ProductLines;
using PartnerDeals.Api.Infrastructure.Http;

namespace PartnerDeals.Api.Features.Registrations;

/// <summary>Bound from <c>Registrations</c>: the decision policy, extensions per tier and the expiry sweep.</summary>
public sealed class RegistrationOptions
{
    public const string Section = "Registrations";

    public RegistrationPolicy Policy { get; set; } = new();

    /// <summary>Extensions of protection per tier; a tier not listed gets <see cref="ExtensionRule.Default"/>.</summary>
    public Dictionary<string, ExtensionRule> Extensions { get; set; } = new()
    {
        ["registered"] = new() { MaxCount = 1, Days = 30 },
        ["silver"] = new() { MaxCount = 2, Days = 30 },
        ["gold"] = new() { MaxCount = 3, Days = 60 },
    };

    /// <summary>How often each instance looks for approved registrations past their protection (seconds).</summary>
    public int ExpirySweepSeconds { get; set; } = 60;

    /// <summary>Days a partner invited onto a registration's team has to accept; then the invitation is declined as expired.</summary>
    public int MemberInvitationDays { get; set; } = 7;

    public ExtensionRule ExtensionsFor(string tier) =>
        Extensions.FirstOrDefault(e => string.Equals(e.Key, tier, StringComparison.OrdinalIgnoreCase)).Value ?? ExtensionRule.Default;

    public bool IsValid =>
        ExpirySweepSeconds is >= 1 and <= 86_400
        && MemberInvitationDays is >= 1 and <= 365
        && Extensions.Values.All(e => e.MaxCount is >= 0 and <= 100 && e.Days is >= 1 and <= 730)
        && Policy.Icp.MinEmployees is null or >= 0 && Policy.Icp.MaxEmployees is null or >= 1
        && (Policy.Icp.MinEmployees is null || Policy.Icp.MaxEmployees is null || Policy.Icp.MinEmployees <= Policy.Icp.MaxEmployees)
        && Policy.Icp.MinDealSize.All(m => IsoCodes.IsCurrency(m.Key) && m.Value >= 0)
        && Policy.SecondApprovalAbove.All(m => IsoCodes.IsCurrency(m.Key) && m.Value >= 0)
        && !string.IsNullOrWhiteSpace(Policy.Version) && Policy.Version.Length <= 32
        && Policy.ConflictScope is ProductScope.Account or ProductScope.ProductLine;
}

public sealed class ExtensionRule
{
    public static readonly ExtensionRule Default = new() { MaxCount = 1, Days = 30 };

    /// <summary>How many extensions one registration may be granted.</summary>
    public int MaxCount { get; set; }

    /// <summary>Days each granted extension adds to the protection.</summary>
    public int Days { get; set; }
}

/// <summary>
/// What the service decides on its own. Every decision is stamped with <see cref="EffectiveVersion"/>:
/// the configured label plus a hash of the rules, so a rule changed without a new label still shows.
/// </summary>
public sealed class RegistrationPolicy
{
    /// <summary>The label an operator gives this policy; bump it when changing the rules.</summary>
    public string Version { get; set; } = "1";

    /// <summary>Off: every registration waits for a person.</summary>
    public bool AutoApprove { get; set; } = true;

    /// <summary>Tiers whose clear, ICP-qualified registrations are approved without a person; by default silver and gold.</summary>
    // Nullable: the configuration binder appends to a non-empty default array instead of replacing it.
    public string[]? AutoApproveTiers { get; set; }

    public IReadOnlyList<string> EffectiveAutoApproveTiers => AutoApproveTiers is { Length: > 0 } ? AutoApproveTiers : ["silver", "gold"];

    public IcpRules Icp { get; set; } = new();

    /// <summary>
    /// <c>account</c>: any two deals on one account collide. <c>product_line</c>: only deals that share a product line
    /// (<see cref="ProductLines.ProductCatalogue"/>), or of which one names no product, collide.
    /// </summary>
    public string ConflictScope { get; set; } = ProductScope.Account;

    public bool ScopesByProductLine => ConflictScope == ProductScope.ProductLine;

    /// <summary>The catalogue's lines, set at start-up: under <c>product_line</c> they decide, so they are stamped too.</summary>
    [System.Text.Json.Serialization.JsonIgnore]
    public IReadOnlyDictionary<string, List<string>> ProductLines { get; set; } = new Dictionary<string, List<string>>();

    // The account scope hashes as it always did, so today's stamps stay; the product-line scope adds itself and the catalogue.
    public string EffectiveVersion => field ??= Version + "-" + Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(ScopesByProductLine
        ? JsonSerializer.Serialize(new { AutoApprove, EffectiveAutoApproveTiers, Icp, ConflictScope, Lines = ProductLines.OrderBy(l => l.Key, StringComparer.Ordinal) },
            Json.Options)
        : JsonSerializer.Serialize(new { AutoApprove, EffectiveAutoApproveTiers, Icp }, Json.Options))))[..8];

    public bool AutoApproves(string tier) => AutoApprove && EffectiveAutoApproveTiers.Contains(tier, StringComparer.OrdinalIgnoreCase);

    /// <summary>
    /// Deals above these values (per currency, <c>SecondApprovalAbove:EUR=1000000</c>) are approved by two different people
    /// signed in, never by an API key or on their own. None by default; a currency not listed has no such rule.
    /// </summary>
    public Dictionary<string, decimal> SecondApprovalAbove { get; set; } = [];

    /// <summary>The value this deal is above, when it needs two people; null otherwise.</summary>
    public decimal? SecondApprovalOver(Deal deal) =>
        SecondApprovalAbove.FirstOrDefault(m => string.Equals(m.Key, deal.Currency, StringComparison.OrdinalIgnoreCase)) is { Key: not null } limit
        && deal.EstimatedValue > limit.Value ? limit.Value : null;
}

/// <summary>The ideal customer profile. Empty lists and absent limits do not restrict: with nothing configured every registration qualifies.</summary>
public sealed class IcpRules
{
    public string[] Industries { get; set; } = [];
    public string[] Countries { get; set; } = [];
    public int? MinEmployees { get; set; }
    public int? MaxEmployees { get; set; }

    /// <summary>The smallest estimated value per currency (<c>Icp:MinDealSize:EUR=10000</c>). Currencies are never converted: with any minimum configured, a deal in a currency without one does not qualify.</summary>
    public Dictionary<string, decimal> MinDealSize { get; set; } = [];

    /// <summary>Checks the rules in a fixed order and names the first that fails.</summary>
    public IcpResult Evaluate(Customer customer, Deal deal)
    {
        if (Industries.Length > 0 && (customer.Industry is null || !Industries.Contains(customer.Industry.Trim(), StringComparer.OrdinalIgnoreCase)))
        {
            return new IcpResult(false, "industry");
        }
        if (Countries.Length > 0 && !Countries.Contains(customer.Country, StringComparer.OrdinalIgnoreCase)) return new IcpResult(false, "country");
        if (MinEmployees is { } min && (customer.EmployeeCount is null || customer.EmployeeCount < min)) return new IcpResult(false, "min_employees");
        if (MaxEmployees is { } max && (customer.EmployeeCount is null || customer.EmployeeCount > max)) return new IcpResult(false, "max_employees");
        var least = MinDealSize.FirstOrDefault(m => string.Equals(m.Key, deal.Currency, StringComparison.OrdinalIgnoreCase));
        if (MinDealSize.Count > 0 && (least.Key is null || deal.EstimatedValue < least.Value))
        {
            return new IcpResult(false, "min_deal_size");
        }
        return new IcpResult(true, null);
    }
}
