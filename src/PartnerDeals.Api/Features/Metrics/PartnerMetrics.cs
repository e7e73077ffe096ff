using Dapper;
using PartnerDeals.Api.Features.Partners;
using PartnerDeals.Api.Infrastructure.Data;
using PartnerDeals.Api.Infrastructure.Http;

namespace PartnerDeals.Api.Features.Metrics;

public sealed class PartnerMetricsStore(Database database, Microsoft.Extensions.Options.IOptions<ProductLines.ProductCatalogue> catalogue)
{
    public const string Unspecified = "unspecified";

    // Every registration that counts in the period somewhere: submitted, approved or closed in it.
    public static string ByProductLineSql(bool onePartner) => $"""
        SELECT partner_id AS Partner, products AS Products, status AS Status, submitted_at AS SubmittedAt, approved_at AS ApprovedAt,
            closed_at AS ClosedAt, outcome_currency AS Currency, outcome_amount AS Amount
        FROM registrations
        WHERE ((submitted_at >= @Start AND submitted_at < @End) OR (approved_at >= @Start AND approved_at < @End)
            OR (closed_at >= @Start AND closed_at < @End)) {OfPartner(onePartner)}
        """;

    private const string PartnersSql = """
        SELECT id, name, tier, status FROM partners WHERE @PartnerId IS NULL OR id = @PartnerId ORDER BY id
        """;

    // Every query below exists in two shapes: for one partner it filters on partner_id so the planner
    // walks that partner's slice of a partner-first index; for all of them the period's slice of a time-first one.
    public static string SubmittedSql(SqlDialect sql, bool onePartner) => $"""
        SELECT partner_id AS Partner, COUNT(*) AS Total, SUM(CASE WHEN icp_qualified = 1 THEN 1 ELSE 0 END) AS Part
        FROM registrations
        WHERE submitted_at >= @Start AND submitted_at < @End {OfPartner(onePartner)}
        GROUP BY partner_id
        """;

    // The cohort approved in the period, and how much of it was won by the period's end.
    public static string ApprovedSql(SqlDialect sql, bool onePartner) => $"""
        SELECT partner_id AS Partner, COUNT(*) AS Total, SUM(CASE WHEN status = 'won' AND closed_at < @End THEN 1 ELSE 0 END) AS Part
        FROM registrations
        WHERE approved_at >= @Start AND approved_at < @End {OfPartner(onePartner)}
        GROUP BY partner_id
        """;

    public static string OutcomesSql(SqlDialect sql, bool onePartner) => $"""
        SELECT partner_id AS Partner, status AS Status, outcome_currency AS Currency, COUNT(*) AS Count, SUM(outcome_amount) AS Amount
        FROM registrations
        WHERE closed_at >= @Start AND closed_at < @End AND status IN ('won', 'lost') {OfPartner(onePartner)}
        GROUP BY partner_id, status, outcome_currency
        """;

    // The won deals of the period split between a team: each share's partner, the deal's primary, and the revenue to split.
    public static string SplitSharesSql(SqlDialect sql, bool onePartner) => $"""
        SELECT s.registration_id AS Registration, s.partner_id AS Partner, r.partner_id AS PrimaryPartner, s.share AS Share,
            r.outcome_currency AS Currency, r.outcome_amount AS Amount
        FROM registration_splits s JOIN registrations r ON r.id = s.registration_id
        WHERE r.status = 'won' AND r.closed_at >= @Start AND r.closed_at < @End AND r.outcome_currency IS NOT NULL
          AND s.version = (SELECT MAX(x.version) FROM registration_splits x WHERE x.registration_id = s.registration_id)
          {(onePartner ? OfSplitDeal : "")}
        ORDER BY s.registration_id, s.member_id
        """;

    // Every share of a deal the partner is the primary of or has a share in: the whole split is needed to allocate it.
    private const string OfSplitDeal = """
        AND (r.partner_id = @PartnerId
          OR EXISTS (SELECT 1 FROM registration_splits y WHERE y.registration_id = s.registration_id AND y.partner_id = @PartnerId))
        """;

    public static string OpenProtectedSql(SqlDialect sql, bool onePartner) => $"""
        SELECT partner_id AS Partner, currency AS Currency, COUNT(*) AS Count, SUM(estimated_value) AS Amount
        FROM registrations
        WHERE status = 'approved' AND protection_expires_at > @Now {OfPartner(onePartner)}
        GROUP BY partner_id, currency
        """;

    public static string FeesEarnedSql(SqlDialect sql, bool onePartner) => $"""
        SELECT partner_id AS Partner, currency AS Currency, COUNT(*) AS Count, SUM(amount) AS Amount
        FROM fees
        WHERE accrued_at >= @Start AND accrued_at < @End {OfPartner(onePartner)}
        GROUP BY partner_id, currency
        """;

    // Ranks each partner's values and keeps the rows either side of the median's and the p90's rank.
    private const string PercentileRanks = """
        , ranked AS (
            SELECT partner, value, ROW_NUMBER() OVER (PARTITION BY partner ORDER BY value) - 1 AS position, COUNT(*) OVER (PARTITION BY partner) AS n
            FROM durations)
        SELECT partner AS Partner, position AS Position, n AS Count, value AS Value
        FROM ranked
        WHERE position IN ((n - 1) / 2, n / 2, (n - 1) * 9 / 10, ((n - 1) * 9 + 9) / 10)
        """;

    public static string DaysToCloseSql(SqlDialect sql, bool onePartner) => $"""
        WITH durations AS (
            SELECT partner_id AS partner, {sql.SecondsBetween("submitted_at", "closed_at")} / 86400.0 AS value
            FROM registrations
            WHERE closed_at >= @Start AND closed_at < @End AND status = 'won' {OfPartner(onePartner)})
        """ + PercentileRanks;

    public static string TurnaroundSql(SqlDialect sql, bool onePartner) => $"""
        WITH durations AS (
            SELECT partner_id AS partner, {sql.SecondsBetween("submitted_at", "decided_at")} / 3600.0 AS value
            FROM registrations
            WHERE decided_at >= @Start AND decided_at < @End {OfPartner(onePartner)})
        """ + PercentileRanks;

    // Whole days, so a histogram (a few hundred rows) replaces sorting every won opportunity of the period.
    // An opportunity without an opened date counts from the day it first reached PartnerDeals; one that
    // closed before that day has no known duration and is left out.
    public static string DirectDaysToCloseSql(SqlDialect sql) => $"""
        SELECT days AS Days, COUNT(*) AS Count
        FROM (SELECT CAST({sql.SecondsBetween($"COALESCE(opened_date, {sql.DateOf("created_at")})", "close_date")} / 86400.0 AS INT) AS days
              FROM opportunities
              WHERE status = 'won' AND close_date >= @FromDay AND close_date <= @ToDay) closed
        WHERE days >= 0
        GROUP BY days
        """;

    public async Task<IReadOnlyList<PartnerMetrics>> ReadAsync(Guid? partnerId, Period period, DateTimeOffset now, CancellationToken ct,
        bool byProductLine = false)
    {
        var args = new { PartnerId = partnerId, period.Start, period.End, Now = now };
        await using var connection = await database.OpenAsync(ct);
        var partners = await connection.QueryAsync<PartnerRow>(database.Command(PartnersSql, args, ct));
        var one = partnerId is not null;
        var dialect = database.Dialect;
        var submitted = (await connection.QueryAsync<CountRow>(database.Command(SubmittedSql(dialect, one), args, ct))).ToDictionary(r => r.Partner);
        var approved = (await connection.QueryAsync<CountRow>(database.Command(ApprovedSql(dialect, one), args, ct))).ToDictionary(r => r.Partner);
        var outcomes = (await connection.QueryAsync<OutcomeRow>(database.Command(OutcomesSql(dialect, one), args, ct))).ToLookup(r => r.Partner);
        var protectedNow = (await connection.QueryAsync<AmountRow>(database.Command(OpenProtectedSql(dialect, one), args, ct))).ToLookup(r => r.Partner);
        var fees = (await connection.QueryAsync<AmountRow>(database.Command(FeesEarnedSql(dialect, one), args, ct))).ToLookup(r => r.Partner);
        var daysToClose = Distributions(await connection.QueryAsync<RankRow>(database.Command(DaysToCloseSql(dialect, one), args, ct)));
        var turnaround = Distributions(await connection.QueryAsync<RankRow>(database.Command(TurnaroundSql(dialect, one), args, ct)));
        var direct = await DirectDaysToCloseAsync(connection, period, ct);
        var lines = byProductLine
            ? (await connection.QueryAsync<LineRow>(database.Command(ByProductLineSql(one), args, ct))).ToLookup(r => r.Partner)
            : null;
        var shares = SplitRevenue(await connection.QueryAsync<ShareRow>(database.Command(SplitSharesSql(dialect, one), args, ct)));

        return partners.Select(p =>
        {
            var key = p.Id.ToString("D");
            var (submittedCount, qualified) = submitted.TryGetValue(key, out var s) ? (s.Total, s.Part) : (0, 0);
            var (approvedCount, approvedWon) = approved.TryGetValue(key, out var a) ? (a.Total, a.Part) : (0, 0);
            var won = outcomes[key].Where(o => o.Status == "won").ToList();
            return new PartnerMetrics
            {
                PartnerId = p.Id,
                PartnerName = p.Name,
                Tier = p.Tier,
                Status = Json.Parse<PartnerStatus>(p.Status),
                From = period.From,
                To = period.To,
                Submitted = submittedCount,
                IcpQualified = qualified,
                IcpQualifiedRate = Rate(qualified, submittedCount),
                Approved = approvedCount,
                ApprovedWon = approvedWon,
                Conversion = Rate(approvedWon, approvedCount),
                Won = won.Sum(o => o.Count),
                Lost = outcomes[key].Where(o => o.Status == "lost").Sum(o => o.Count),
                // A deal split between a team counts each partner's share of its revenue, not the whole to the primary.
                Revenue = Sums(won.Where(o => o.Currency is not null).Select(o => new AmountRow { Currency = o.Currency!, Amount = o.Amount ?? 0, Count = o.Count })
                    .Concat(shares[key])),
                DaysToClose = daysToClose.GetValueOrDefault(key, Distribution.Empty),
                DirectDaysToClose = direct,
                ApprovalTurnaroundHours = turnaround.GetValueOrDefault(key, Distribution.Empty),
                OpenProtectedPipeline = Sums(protectedNow[key]),
                FeesEarned = Sums(fees[key]),
                ProductLines = lines is null ? null : ByLine(lines[key], period),
            };
        }).ToList();
    }

    /// <summary>A partner's registrations that count in the period, summed per product line, lines in name order.</summary>
    private IReadOnlyList<ProductLineMetrics> ByLine(IEnumerable<LineRow> rows, Period period)
    {
        bool In(DateTimeOffset? at) => at >= period.Start && at < period.End;
        var perLine = rows
            .SelectMany(r => catalogue.Value.LinesOf(ProductLines.StoredProducts.Read(r.Products)) is { Count: > 0 } named
                ? named.Select(line => (Line: line, Row: r))
                : [(Line: Unspecified, Row: r)])
            .GroupBy(x => x.Line, x => x.Row, StringComparer.Ordinal);
        return perLine.OrderBy(g => g.Key, StringComparer.Ordinal).Select(g =>
        {
            var won = g.Where(r => r.Status == "won" && In(r.ClosedAt)).ToList();
            return new ProductLineMetrics(g.Key, g.Count(r => In(r.SubmittedAt)), g.Count(r => In(r.ApprovedAt)), won.Count,
                Sums(won.Where(r => r.Currency is not null).Select(r => new AmountRow { Currency = r.Currency!, Amount = r.Amount ?? 0, Count = 1 })));
        }).ToList();
    }

    /// <summary>Days from opened to won across the vendor's direct pipeline closed in the period.</summary>
    public async Task<Distribution> DirectDaysToCloseAsync(System.Data.Common.DbConnection connection, Period period, CancellationToken ct)
    {
        var histogram = (await connection.QueryAsync<DaysRow>(database.Command(DirectDaysToCloseSql(database.Dialect),
            new { FromDay = period.From, ToDay = period.To }, ct))).OrderBy(r => r.Days).ToList();
        var n = histogram.Sum(r => r.Count);
        if (n == 0) return Distribution.Empty;
        // The value at a 0-based position of the sorted durations.
        double At(long position)
        {
            foreach (var bucket in histogram)
            {
                if (position < bucket.Count) return bucket.Days;
                position -= bucket.Count;
            }
            throw new InvalidOperationException("A position past the last duration.");
        }
        return new Distribution((int)n, Interpolate(At, n, 0.5), Interpolate(At, n, 0.9));
    }

    private static string OfPartner(bool onePartner) => onePartner ? "AND partner_id = @PartnerId" : "";

    private static double? Rate(int part, int total) => total == 0 ? null : Math.Round((double)part / total, 4);

    /// <summary>
    /// What the split deals change in each partner's revenue: the primary's whole amount taken back, each share's part (in the
    /// currency's minor units, as the fees are allocated) added. A deal counts once for each partner with a share.
    /// </summary>
    private static ILookup<string, AmountRow> SplitRevenue(IEnumerable<ShareRow> rows) =>
        rows.GroupBy(r => r.Registration).SelectMany(deal =>
        {
            var list = deal.ToList();
            var amount = list[0].Amount;
            var parts = Fees.MoneySplit.Allocate(amount, list[0].Currency,
                list.Select(r => decimal.Parse(r.Share, System.Globalization.CultureInfo.InvariantCulture)).ToList());
            return list.Select((r, i) => new AmountRow { Partner = r.Partner, Currency = r.Currency, Amount = parts[i], Count = r.Partner == r.PrimaryPartner ? 0 : 1 })
                .Append(new AmountRow { Partner = list[0].PrimaryPartner, Currency = list[0].Currency, Amount = -amount, Count = 0 });
        }).ToLookup(r => r.Partner);

    internal static IReadOnlyList<CurrencyAmount> Sums(IEnumerable<AmountRow> rows) =>
        rows.GroupBy(r => r.Currency, StringComparer.Ordinal).OrderBy(g => g.Key, StringComparer.Ordinal)
            // SQLite sums a NUMERIC column as a double: back to the column's four decimals.
            .Select(g => new CurrencyAmount(g.Key, Math.Round(g.Sum(r => r.Amount), 4), g.Sum(r => r.Count))).ToList();

    /// <summary>Median and p90 per group by linear interpolation between the ranks either side (as PERCENTILE_CONT).</summary>
    private static Dictionary<string, Distribution> Distributions(IEnumerable<RankRow> rows) =>
        rows.GroupBy(r => r.Partner).ToDictionary(g => g.Key, g =>
        {
            var byPosition = g.ToDictionary(r => r.Position, r => r.Value);
            var n = g.First().Count;
            return new Distribution((int)n, Interpolate(i => byPosition[i], n, 0.5), Interpolate(i => byPosition[i], n, 0.9));
        });

    private static double Interpolate(Func<long, double> valueAt, long n, double p)
    {
        var rank = (n - 1) * p;
        var low = (long)Math.Floor(rank);
        var high = (long)Math.Ceiling(rank);
        var value = valueAt(low) + (valueAt(high) - valueAt(low)) * (rank - low);
        return Math.Round(value, 2);
    }

    private sealed class PartnerRow
    {
        public Guid Id { get; set; }
        public string Name { get; set; } = "";
        public string Tier { get; set; } = "";
        public string Status { get; set; } = "";
    }

    private sealed class CountRow
    {
        public string Partner { get; set; } = "";
        public int Total { get; set; }
        public int Part { get; set; }
    }

    private sealed class LineRow
    {
        public string Partner { get; set; } = "";
        public string? Products { get; set; }
        public string Status { get; set; } = "";
        public DateTimeOffset? SubmittedAt { get; set; }
        public DateTimeOffset? ApprovedAt { get; set; }
        public DateTimeOffset? ClosedAt { get; set; }
        public string? Currency { get; set; }
        public decimal? Amount { get; set; }
    }

    private sealed class OutcomeRow
    {
        public string Partner { get; set; } = "";
        public string Status { get; set; } = "";
        public string? Currency { get; set; }
        public int Count { get; set; }
        public decimal? Amount { get; set; }
    }

    private sealed class ShareRow
    {
        public string Registration { get; set; } = "";
        public string Partner { get; set; } = "";
        public string PrimaryPartner { get; set; } = "";
        public string Share { get; set; } = "";
        public string Currency { get; set; } = "";
        public decimal Amount { get; set; }
    }

    internal sealed class AmountRow
    {
        public string Partner { get; set; } = "";
        public string Currency { get; set; } = "";
        public int Count { get; set; }
        public decimal Amount { get; set; }
    }

    private sealed class DaysRow
    {
        public int Days { get; set; }
        public long Count { get; set; }
    }

    private sealed class RankRow
    {
        public string Partner { get; set; } = "";
        public long Position { get; set; }
        public long Count { get; set; }
        public double Value { get; set; }
    }
}
