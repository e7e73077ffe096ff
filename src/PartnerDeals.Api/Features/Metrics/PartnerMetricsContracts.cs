using PartnerDeals.Api.Features.Partners;

namespace PartnerDeals.Api.Features.Metrics;

/// <summary>A sum in one currency. Amounts in different currencies are never added together.</summary>
/// <param name="Currency">ISO 4217.</param>
/// <param name="Amount">The sum.</param>
/// <param name="Count">How many records the sum holds.</param>
public sealed record CurrencyAmount(string Currency, decimal Amount, int Count);

/// <summary>How a duration spreads over a set of records; median and p90 interpolate between ranks, null when there are none.</summary>
/// <param name="Count">How many records.</param>
/// <param name="Median">The median.</param>
/// <param name="P90">The 90th percentile.</param>
public sealed record Distribution(int Count, double? Median, double? P90)
{
    public static readonly Distribution Empty = new(0, null, null);
}

/// <summary>One partner's results in a period. Every figure counts what happened within the period, except open protected pipeline (now).</summary>
public sealed record PartnerMetrics
{
    public required Guid PartnerId { get; init; }

    /// <example>Northwind Consulting</example>
    public required string PartnerName { get; init; }

    /// <example>silver</example>
    public required string Tier { get; init; }

    public required PartnerStatus Status { get; init; }

    /// <summary>First day (UTC), inclusive.</summary>
    public required DateOnly From { get; init; }

    /// <summary>Last day (UTC), inclusive.</summary>
    public required DateOnly To { get; init; }

    /// <summary>Registrations first submitted in the period.</summary>
    public required int Submitted { get; init; }

    /// <summary>Of those, how many met the ideal customer profile.</summary>
    public required int IcpQualified { get; init; }

    /// <summary><c>icpQualified / submitted</c>; null when nothing was submitted.</summary>
    public double? IcpQualifiedRate { get; init; }

    /// <summary>Registrations approved in the period (by their latest approval).</summary>
    public required int Approved { get; init; }

    /// <summary>Of those, how many were won by the end of the period.</summary>
    public required int ApprovedWon { get; init; }

    /// <summary>Conversion, approved → won: <c>approvedWon / approved</c>; null when nothing was approved.</summary>
    public double? Conversion { get; init; }

    /// <summary>Won outcomes reported with a close in the period.</summary>
    public required int Won { get; init; }

    /// <summary>Lost outcomes reported with a close in the period.</summary>
    public required int Lost { get; init; }

    /// <summary>Partner-sourced revenue closed won in the period, per currency.</summary>
    public required IReadOnlyList<CurrencyAmount> Revenue { get; init; }

    /// <summary>Days from submission to a won close, over the registrations won in the period.</summary>
    public required Distribution DaysToClose { get; init; }

    /// <summary>
    /// Days from opened to won for the vendor's direct pipeline closed in the period, side by side with
    /// <c>daysToClose</c>; null for a partner key (the vendor's own pipeline).
    /// </summary>
    public Distribution? DirectDaysToClose { get; init; }

    /// <summary>Hours from submission to the decision (approval, automatic or by ops, or rejection), over the decisions made in the period.</summary>
    public required Distribution ApprovalTurnaroundHours { get; init; }

    /// <summary>The estimated value of the partner's registrations under protection now, per currency (a snapshot, whatever the period).</summary>
    public required IReadOnlyList<CurrencyAmount> OpenProtectedPipeline { get; init; }

    /// <summary>Fees accrued in the period, per currency.</summary>
    public required IReadOnlyList<CurrencyAmount> FeesEarned { get; init; }

    /// <summary>With <c>groupBy=productLine</c>: the period's registrations and won revenue per product line.</summary>
    [System.Text.Json.Serialization.JsonIgnore(Condition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull)]
    public IReadOnlyList<ProductLineMetrics>? ProductLines { get; init; }
}

/// <summary>
/// Partner metrics as SQL aggregates over the period's slice of each index (submitted_at, approved_at,
/// decided_at, closed_at, accrued_at): a period costs what happened in it, never a scan of every
/// registration. One partner or all of them in the same queries; percentiles come back as the few
/// rows at the ranks that interpolate them.
/// </summary>
/// <summary>
/// One product line's part of a partner's results in the period. A deal naming products of two lines counts in
/// both; one naming none counts under <c>unspecified</c>.
/// </summary>
/// <param name="Line">The line (<c>Products:Lines</c>; a product not listed is its own line).</param>
/// <param name="Submitted">Registrations submitted in the period.</param>
/// <param name="Approved">Registrations approved in the period.</param>
/// <param name="Won">Registrations won in the period.</param>
/// <param name="Revenue">Their won revenue per currency.</param>
public sealed record ProductLineMetrics(string Line, int Submitted, int Approved, int Won, IReadOnlyList<CurrencyAmount> Revenue);
