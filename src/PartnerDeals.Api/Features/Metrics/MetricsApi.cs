using System.Security.Claims;
using Microsoft.AspNetCore.Http.HttpResults;
using PartnerDeals.Api.Infrastructure.Auth;
using PartnerDeals.Api.Infrastructure.Http;

namespace PartnerDeals.Api.Features.Metrics;

/// <summary>One row per partner, ranked.</summary>
/// <param name="From">First day (UTC), inclusive.</param>
/// <param name="To">Last day (UTC), inclusive.</param>
/// <param name="Sort">The order applied.</param>
/// <param name="Items">The partners, best first for a descending sort.</param>
public sealed record Leaderboard(DateOnly From, DateOnly To, string Sort, IReadOnlyList<PartnerMetrics> Items);

public static class MetricsApi
{
    private const string ProductLineGroup = "productLine";

    private const string PeriodText = "`from` and `to` are ISO dates (UTC), both inclusive; the current quarter by default.";

    /// <summary>The leaderboard's sort keys; a leading <c>-</c> sorts descending. Revenue and fees are per currency.</summary>
    private static readonly Dictionary<string, Func<PartnerMetrics, string?, double?>> SortKeys = new(StringComparer.Ordinal)
    {
        ["submitted"] = (m, _) => m.Submitted,
        ["icpQualified"] = (m, _) => m.IcpQualified,
        ["icpQualifiedRate"] = (m, _) => m.IcpQualifiedRate,
        ["approved"] = (m, _) => m.Approved,
        ["conversion"] = (m, _) => m.Conversion,
        ["won"] = (m, _) => m.Won,
        ["revenue"] = (m, c) => (double)(m.Revenue.FirstOrDefault(r => r.Currency == c)?.Amount ?? 0),
        ["feesEarned"] = (m, c) => (double)(m.FeesEarned.FirstOrDefault(r => r.Currency == c)?.Amount ?? 0),
        ["daysToClose"] = (m, _) => m.DaysToClose.Median,
        ["approvalTurnaroundHours"] = (m, _) => m.ApprovalTurnaroundHours.Median,
    };

    public static void MapMetrics(this IEndpointRouteBuilder v1)
    {
        v1.MapGet("/partners/{id:guid}/metrics", ForPartner)
            .WithTags("Metrics")
            .WithName("GetPartnerMetrics")
            .WithSummary("One partner's results in a period")
            .WithDescription("Ops and admin; a partner key for its own partner (404 for any other; the direct pipeline's figures are left out). "
                + PeriodText + " Submitted, ICP-qualified, approved, conversion approved → won, revenue per currency, days to close beside the "
                + "direct pipeline's, approval turnaround, open protected pipeline (now) and fees earned. `groupBy=productLine` adds "
                + "productLines: registrations submitted, approved and won and won revenue per product line.")
            .RequireAuthorization(Policies.AnyKey)
            .ProducesProblem(StatusCodes.Status404NotFound);

        v1.MapGet("/partners/metrics", ForEveryPartner)
            .WithTags("Metrics")
            .WithName("GetPartnerLeaderboard")
            .WithSummary("Every partner's results in a period, ranked")
            .WithDescription("Ops and admin. " + PeriodText + " `sort` is one of " + string.Join(", ", SortKeys.Keys)
                + " or name; a leading `-` sorts descending (default `-won`). Sorting by revenue or feesEarned needs `currency`. "
                + "`Accept: text/csv` answers a spreadsheet with one column per currency; `groupBy=productLine` adds each "
                + "partner's productLines (JSON).")
            .RequireAuthorization(Policies.Ops);

        v1.MapGet("/program/health", Health)
            .WithTags("Metrics")
            .WithName("GetProgramHealth")
            .WithSummary("The partner program at a glance")
            .WithDescription("Ops and admin. " + PeriodText + " Partner-sourced share of closed-won revenue per currency; partner counts; active "
                + "partners with no partner-sourced revenue two full quarters after joining (judged at the period's end), with their activity; "
                + "and, as of now, the review queue against the SLA, protection expiring soon and dead CRM deliveries.")
            .RequireAuthorization(Policies.Ops);
    }

    /// <param name="id">The partner.</param>
    /// <param name="user">The caller.</param>
    /// <param name="metrics">The metrics queries.</param>
    /// <param name="clock">The clock.</param>
    /// <param name="ct">Cancellation.</param>
    /// <param name="from">First day, ISO 8601 (default: the first day of the current quarter).</param>
    /// <param name="to">Last day, ISO 8601 (default: the last day of the current quarter).</param>
    /// <param name="groupBy"><c>productLine</c>: also the registrations and won revenue per product line.</param>
    private static async Task<Results<Ok<PartnerMetrics>, ValidationProblem, ProblemHttpResult>> ForPartner(
        Guid id, ClaimsPrincipal user, PartnerMetricsStore metrics, TimeProvider clock, CancellationToken ct,
        DateOnly? from = null, DateOnly? to = null, string? groupBy = null)
    {
        if (groupBy is not null and not ProductLineGroup) return Problems.Validation("groupBy", $"groupBy must be {ProductLineGroup}.");
        if (user.Role() == ApiKeyRole.Crm) return Problems.Forbidden("Partner metrics are for the channel team and the partner itself.");
        if (!user.CanSeePartner(id)) return Problems.NotFound("The partner");
        var now = clock.GetUtcNow();
        if (!Period.TryRead(from, to, now, out var period, out var errors)) return Problems.Validation(errors);
        var found = await metrics.ReadAsync(id, period, now, ct, byProductLine: groupBy is not null);
        if (found.Count == 0) return Problems.NotFound("The partner");
        return TypedResults.Ok(user.IsPartner() ? found[0] with { DirectDaysToClose = null } : found[0]);
    }

    /// <param name="http">The request.</param>
    /// <param name="metrics">The metrics queries.</param>
    /// <param name="clock">The clock.</param>
    /// <param name="ct">Cancellation.</param>
    /// <param name="from">First day, ISO 8601 (default: the first day of the current quarter).</param>
    /// <param name="to">Last day, ISO 8601 (default: the last day of the current quarter).</param>
    /// <param name="sort">A sort key, descending with a leading '-' (default -won).</param>
    /// <param name="currency">The currency revenue and feesEarned sort by (ISO 4217).</param>
    /// <param name="limit">At most this many partners (default: all).</param>
    /// <param name="groupBy"><c>productLine</c>: each partner also with its registrations and won revenue per product line (JSON only).</param>
    private static async Task<Results<Ok<Leaderboard>, CsvResult, ValidationProblem>> ForEveryPartner(
        HttpRequest http, PartnerMetricsStore metrics, TimeProvider clock, CancellationToken ct,
        DateOnly? from = null, DateOnly? to = null, string? sort = null, string? currency = null, int? limit = null, string? groupBy = null)
    {
        var now = clock.GetUtcNow();
        Period.TryRead(from, to, now, out var period, out var errors);
        if (groupBy is not null and not ProductLineGroup) errors["groupBy"] = [$"groupBy must be {ProductLineGroup}."];
        sort ??= "-won";
        var descending = sort.StartsWith('-');
        var key = descending ? sort[1..] : sort;
        if (key != "name" && !SortKeys.ContainsKey(key))
        {
            errors["sort"] = [$"sort must be one of: name, {string.Join(", ", SortKeys.Keys)}, each optionally preceded by '-'."];
        }
        if (key is "revenue" or "feesEarned" && currency is null) errors["currency"] = [$"Sorting by {key} needs a currency: amounts are per currency."];
        if (currency is not null && !IsoCodes.IsCurrency(currency)) errors["currency"] = ["currency must be an ISO 4217 code such as EUR."];
        if (limit is < 1 or > 100_000) errors["limit"] = ["limit must be between 1 and 100000."];
        if (errors.Count > 0) return Problems.Validation(errors);

        var all = await metrics.ReadAsync(null, period, now, ct, byProductLine: groupBy is not null);
        var ranked = Rank(all, key, descending, currency).Take(limit ?? int.MaxValue).ToList();
        if (CsvResult.IsPreferred(http)) return LeaderboardCsv(period, ranked);
        return TypedResults.Ok(new Leaderboard(period.From, period.To, sort, ranked));
    }

    /// <param name="health">The program health queries.</param>
    /// <param name="clock">The clock.</param>
    /// <param name="ct">Cancellation.</param>
    /// <param name="from">First day, ISO 8601 (default: the first day of the current quarter).</param>
    /// <param name="to">Last day, ISO 8601 (default: the last day of the current quarter).</param>
    private static async Task<Results<Ok<ProgramHealth>, ValidationProblem>> Health(
        ProgramHealthStore health, TimeProvider clock, CancellationToken ct, DateOnly? from = null, DateOnly? to = null)
    {
        var now = clock.GetUtcNow();
        if (!Period.TryRead(from, to, now, out var period, out var errors)) return Problems.Validation(errors);
        return TypedResults.Ok(await health.ReadAsync(period, now, ct));
    }

    // Partners without a value (no rate, no median) come last whichever the direction; ties by name.
    private static IEnumerable<PartnerMetrics> Rank(IReadOnlyList<PartnerMetrics> all, string key, bool descending, string? currency)
    {
        if (key == "name")
        {
            var byName = descending ? all.OrderByDescending(m => m.PartnerName, StringComparer.OrdinalIgnoreCase) : all.OrderBy(m => m.PartnerName, StringComparer.OrdinalIgnoreCase);
            return byName.ThenBy(m => m.PartnerId);
        }
        var value = SortKeys[key];
        var withValue = all.OrderBy(m => value(m, currency) is null);
        var ordered = descending ? withValue.ThenByDescending(m => value(m, currency)) : withValue.ThenBy(m => value(m, currency));
        return ordered.ThenBy(m => m.PartnerName, StringComparer.OrdinalIgnoreCase).ThenBy(m => m.PartnerId);
    }

    private static CsvResult LeaderboardCsv(Period period, IReadOnlyList<PartnerMetrics> rows)
    {
        string[] Currencies(Func<PartnerMetrics, IReadOnlyList<CurrencyAmount>> amounts) =>
            rows.SelectMany(r => amounts(r).Select(a => a.Currency)).Distinct().Order(StringComparer.Ordinal).ToArray();
        var revenue = Currencies(r => r.Revenue);
        var pipeline = Currencies(r => r.OpenProtectedPipeline);
        var fees = Currencies(r => r.FeesEarned);
        string[] header =
        [
            "partnerId", "partnerName", "tier", "status", "from", "to", "submitted", "icpQualified", "icpQualifiedRate", "approved", "approvedWon",
            "conversion", "won", "lost", .. revenue.Select(c => "revenue" + c), "daysToCloseMedian", "daysToCloseP90", "directDaysToCloseMedian",
            "directDaysToCloseP90", "approvalTurnaroundHoursMedian", "approvalTurnaroundHoursP90",
            .. pipeline.Select(c => "openProtectedPipeline" + c), .. fees.Select(c => "feesEarned" + c),
        ];
        static string Amount(IReadOnlyList<CurrencyAmount> amounts, string currency) => CsvResult.Cell(amounts.FirstOrDefault(a => a.Currency == currency)?.Amount ?? 0);
        var lines = rows.Select(m => (IReadOnlyList<string?>)
        [
            m.PartnerId.ToString("D"), m.PartnerName, m.Tier, Json.Name(m.Status), m.From.ToString("O"), m.To.ToString("O"),
            m.Submitted.ToString(), m.IcpQualified.ToString(), CsvResult.Cell(m.IcpQualifiedRate), m.Approved.ToString(), m.ApprovedWon.ToString(),
            CsvResult.Cell(m.Conversion), m.Won.ToString(), m.Lost.ToString(), .. revenue.Select(c => Amount(m.Revenue, c)),
            CsvResult.Cell(m.DaysToClose.Median), CsvResult.Cell(m.DaysToClose.P90), CsvResult.Cell(m.DirectDaysToClose?.Median),
            CsvResult.Cell(m.DirectDaysToClose?.P90), CsvResult.Cell(m.ApprovalTurnaroundHours.Median), CsvResult.Cell(m.ApprovalTurnaroundHours.P90),
            .. pipeline.Select(c => Amount(m.OpenProtectedPipeline, c)), .. fees.Select(c => Amount(m.FeesEarned, c)),
        ]);
        return new CsvResult($"partner-metrics-{period.From:yyyy-MM-dd}-{period.To:yyyy-MM-dd}.csv", header, lines);
    }
}
