using System.Data.Common;
using Dapper;
using Microsoft.Extensions.Options;
using PartnerDeals.Api.Infrastructure.Data;
using PartnerDeals.Api.Infrastructure.Http;

namespace PartnerDeals.Api.Features.Metrics;

public sealed class ProgramHealthOptions
{
    public const string Section = "ProgramHealth";

    /// <summary>How long a registration may wait for review before it breaches the SLA.</summary>
    public int ReviewSlaHours { get; set; } = 48;

    /// <summary>How far ahead "expiring soon" looks at protection ends.</summary>
    public int ExpiringWithinDays { get; set; } = 14;

    /// <summary>The most rows the breach and expiring lists hold; their counts are always complete.</summary>
    public int ListLimit { get; set; } = 100;

    public bool IsValid => ReviewSlaHours is >= 1 and <= 8_760 && ExpiringWithinDays is >= 1 and <= 365 && ListLimit is >= 1 and <= 10_000;
}

/// <summary>Program health as a handful of aggregate queries, each on an index.</summary>
public sealed class ProgramHealthStore(Database database, IOptions<ProgramHealthOptions> options)
{
    private const string PartnerRevenueSql = """
        SELECT outcome_currency AS Currency, COUNT(*) AS Count, SUM(outcome_amount) AS Amount
        FROM registrations
        WHERE closed_at >= @Start AND closed_at < @End AND status = 'won' AND outcome_currency IS NOT NULL
        GROUP BY outcome_currency
        """;

    private const string DirectRevenueSql = """
        SELECT currency AS Currency, COUNT(*) AS Count, SUM(amount) AS Amount
        FROM opportunities
        WHERE status = 'won' AND close_date >= @FromDay AND close_date <= @ToDay AND amount IS NOT NULL AND currency IS NOT NULL
        GROUP BY currency
        """;

    // Deals with a team (a distributor's for its reseller included): those submitted in the period, and their wins in it.
    private const string TwoTierSubmittedSql = """
        SELECT COUNT(DISTINCT m.registration_id)
        FROM registration_members m JOIN registrations r ON r.id = m.registration_id
        WHERE m.status = 'active' AND r.submitted_at >= @Start AND r.submitted_at < @End
        """;

    private const string TwoTierWonSql = """
        SELECT r.outcome_currency AS Currency, COUNT(*) AS Count, SUM(r.outcome_amount) AS Amount
        FROM registrations r
        WHERE r.id IN (SELECT m.registration_id FROM registration_members m WHERE m.status = 'active')
          AND r.status = 'won' AND r.closed_at >= @Start AND r.closed_at < @End AND r.outcome_currency IS NOT NULL
        GROUP BY r.outcome_currency
        """;

    private const string PartnerStatusSql = "SELECT status AS Status, COUNT(*) AS Count FROM partners GROUP BY status";

    private const string SubmittingPartnersSql = """
        SELECT COUNT(DISTINCT partner_id) FROM registrations WHERE submitted_at >= @Start AND submitted_at < @End
        """;

    // Joined on or before @JoinedBy = two full quarters have ended by @AsOf.
    private const string WithoutRevenueSql = """
        SELECT p.id AS PartnerId, p.name AS PartnerName, p.tier AS Tier, p.created_at AS JoinedAt,
            (SELECT COUNT(*) FROM registrations r WHERE r.partner_id = p.id AND r.submitted_at < @AsOf) AS Submitted,
            (SELECT COUNT(*) FROM registrations r WHERE r.partner_id = p.id AND r.approved_at < @AsOf) AS Approved,
            (SELECT COUNT(*) FROM registrations r WHERE r.partner_id = p.id AND r.closed_at < @AsOf AND r.status = 'lost') AS Lost,
            (SELECT COUNT(*) FROM registrations r WHERE r.partner_id = p.id AND r.status = 'approved' AND r.protection_expires_at > @Now) AS OpenProtected,
            (SELECT MAX(r.submitted_at) FROM registrations r WHERE r.partner_id = p.id AND r.submitted_at < @AsOf) AS LastSubmittedAt
        FROM partners p
        WHERE p.status = 'active' AND p.created_at <= @JoinedBy
          AND NOT EXISTS (SELECT 1 FROM registrations r WHERE r.partner_id = p.id AND r.closed_at < @AsOf AND r.status = 'won')
        ORDER BY p.created_at, p.id
        """;

    private const string QueueSql = """
        SELECT COUNT(*) AS Pending, MIN(submitted_at) AS OldestSubmittedAt,
            SUM(CASE WHEN submitted_at < @BreachedBefore THEN 1 ELSE 0 END) AS Breaches
        FROM registrations WHERE status = 'pending_review'
        """;

    private const string BreachesSql = """
        SELECT id AS RegistrationId, partner_id AS PartnerId, company_name AS CompanyName, submitted_at AS SubmittedAt
        FROM registrations WHERE status = 'pending_review' AND submitted_at < @BreachedBefore
        ORDER BY submitted_at, id
        """;

    private const string ExpiringCountSql = """
        SELECT COUNT(*) FROM registrations WHERE status = 'approved' AND protection_expires_at > @Now AND protection_expires_at <= @Until
        """;

    private const string ExpiringSql = """
        SELECT id AS RegistrationId, partner_id AS PartnerId, company_name AS CompanyName, protection_expires_at AS ProtectionExpiresAt
        FROM registrations WHERE status = 'approved' AND protection_expires_at > @Now AND protection_expires_at <= @Until
        ORDER BY protection_expires_at, id
        """;

    private const string DeadDeliveriesSql = """
        SELECT destination AS Crm, COUNT(*) AS Count, MIN(created_at) AS OldestCreatedAt FROM outbox_deliveries
        WHERE channel = 'crm' AND status = 'dead' GROUP BY destination ORDER BY destination
        """;

    private const string DisabledWebhooksSql = """
        SELECT id AS WebhookId, partner_id AS PartnerId, url AS Url, disabled_reason AS Reason, disabled_at AS DisabledAt, failing_since AS FailingSince
        FROM webhook_subscriptions WHERE enabled = 0 AND disabled_reason IN ('gone', 'failing') ORDER BY disabled_at, id
        """;

    public async Task<ProgramHealth> ReadAsync(Period period, DateTimeOffset now, CancellationToken ct)
    {
        var settings = options.Value;
        var asOf = period.End < now ? period.End : now;
        var args = new
        {
            period.Start,
            period.End,
            FromDay = period.From,
            ToDay = period.To,
            Now = now,
            AsOf = asOf,
            JoinedBy = JoinedBy(asOf),
            BreachedBefore = now.AddHours(-settings.ReviewSlaHours),
            Until = now.AddDays(settings.ExpiringWithinDays),
            Limit = settings.ListLimit,
        };
        await using var connection = await database.OpenAsync(ct);

        var partnerRevenue = await Amounts(connection, PartnerRevenueSql, args, ct);
        var directRevenue = await Amounts(connection, DirectRevenueSql, args, ct);
        var revenue = partnerRevenue.Keys.Union(directRevenue.Keys).Order(StringComparer.Ordinal).Select(currency =>
        {
            var partner = partnerRevenue.GetValueOrDefault(currency);
            var direct = directRevenue.GetValueOrDefault(currency);
            return new RevenueShare(currency, partner, direct, partner + direct == 0 ? null : Math.Round((double)(partner / (partner + direct)), 4));
        }).ToList();

        var statuses = (await connection.QueryAsync<StatusCount>(database.Command(PartnerStatusSql, args, ct))).ToDictionary(r => r.Status, r => r.Count);
        var submitting = await connection.ExecuteScalarAsync<int>(database.Command(SubmittingPartnersSql, args, ct));
        var withoutRevenue = (await connection.QueryAsync<WithoutRevenueRow>(database.Command(WithoutRevenueSql, args, ct)))
            .Select(r => r.ToPartner()).ToList();

        var queue = await connection.QuerySingleAsync<QueueRow>(database.Command(QueueSql, args, ct));
        var breached = (await connection.QueryAsync<BreachRow>(database.Command(database.Dialect.Page(BreachesSql), args, ct)))
            .Select(b => new ReviewBreach(b.RegistrationId, b.PartnerId, b.CompanyName, b.SubmittedAt, Hours(now - b.SubmittedAt))).ToList();
        var expiringCount = await connection.ExecuteScalarAsync<int>(database.Command(ExpiringCountSql, args, ct));
        var expiring = (await connection.QueryAsync<ExpiringRow>(database.Command(database.Dialect.Page(ExpiringSql), args, ct)))
            .Select(e => new ExpiringRegistration(e.RegistrationId, e.PartnerId, e.CompanyName, e.ProtectionExpiresAt)).ToList();
        var dead = (await connection.QueryAsync<DeadRow>(database.Command(DeadDeliveriesSql, args, ct)))
            .Select(d => new DeadDeliveries(d.Crm, d.Count, d.OldestCreatedAt)).ToList();
        var disabledWebhooks = (await connection.QueryAsync<DisabledWebhookRow>(database.Command(database.Dialect.Page(DisabledWebhooksSql), args, ct)))
            .Select(w => new DisabledWebhook(w.WebhookId, w.PartnerId, w.Url, w.Reason, w.DisabledAt, w.FailingSince)).ToList();

        var twoTier = new TwoTierDeals(await connection.ExecuteScalarAsync<int>(database.Command(TwoTierSubmittedSql, args, ct)),
            PartnerMetricsStore.Sums(await connection.QueryAsync<PartnerMetricsStore.AmountRow>(database.Command(TwoTierWonSql, args, ct))));
        return new ProgramHealth
        {
            From = period.From,
            To = period.To,
            AsOf = asOf,
            Revenue = revenue,
            Partners = new PartnerCounts(statuses.GetValueOrDefault("active"), statuses.GetValueOrDefault("suspended"),
                statuses.GetValueOrDefault("terminated"), submitting),
            PartnersWithoutRevenue = withoutRevenue,
            ReviewQueue = new ReviewQueue(queue.Pending, queue.OldestSubmittedAt, queue.OldestSubmittedAt is { } oldest ? Hours(now - oldest) : null,
                settings.ReviewSlaHours, queue.Breaches ?? 0, breached),
            ExpiringSoon = new ExpiringSoon(settings.ExpiringWithinDays, expiringCount, expiring),
            DeadDeliveries = dead,
            DisabledWebhooks = disabledWebhooks,
            TwoTierDeals = twoTier,
        };
    }

    /// <summary>
    /// A partner's first full quarter starts when it joined if that is a quarter's first instant, else at
    /// the next quarter; its review falls due two quarters later. So at <paramref name="asOf"/> the review
    /// is due for every partner that joined at or before the start of the quarter holding <paramref name="asOf"/> minus six months.
    /// </summary>
    public static DateTimeOffset JoinedBy(DateTimeOffset asOf)
    {
        var quarter = Period.QuarterStart(DateOnly.FromDateTime(asOf.UtcDateTime.AddMonths(-6)));
        return new DateTimeOffset(quarter.ToDateTime(TimeOnly.MinValue), TimeSpan.Zero);
    }

    /// <summary>The day a partner's second full quarter ends.</summary>
    public static DateOnly ReviewDueOn(DateTimeOffset joinedAt)
    {
        var day = DateOnly.FromDateTime(joinedAt.UtcDateTime);
        var quarter = Period.QuarterStart(day);
        var firstFull = joinedAt.UtcDateTime == quarter.ToDateTime(TimeOnly.MinValue) ? quarter : quarter.AddMonths(3);
        return firstFull.AddMonths(6).AddDays(-1);
    }

    private static double Hours(TimeSpan age) => Math.Round(age.TotalHours, 1);

    private async Task<Dictionary<string, decimal>> Amounts(DbConnection connection, string sql, object args, CancellationToken ct) =>
        PartnerMetricsStore.Sums(await connection.QueryAsync<PartnerMetricsStore.AmountRow>(database.Command(sql, args, ct)))
            .ToDictionary(a => a.Currency, a => a.Amount);

    private sealed class StatusCount
    {
        public string Status { get; set; } = "";
        public int Count { get; set; }
    }

    private sealed class QueueRow
    {
        public int Pending { get; set; }
        public DateTimeOffset? OldestSubmittedAt { get; set; }
        public int? Breaches { get; set; }
    }

    private sealed class BreachRow
    {
        public Guid RegistrationId { get; set; }
        public Guid PartnerId { get; set; }
        public string CompanyName { get; set; } = "";
        public DateTimeOffset SubmittedAt { get; set; }
    }

    private sealed class ExpiringRow
    {
        public Guid RegistrationId { get; set; }
        public Guid PartnerId { get; set; }
        public string CompanyName { get; set; } = "";
        public DateTimeOffset ProtectionExpiresAt { get; set; }
    }

    private sealed class DeadRow
    {
        public string Crm { get; set; } = "";
        public int Count { get; set; }
        public DateTimeOffset OldestCreatedAt { get; set; }
    }

    private sealed class WithoutRevenueRow
    {
        public Guid PartnerId { get; set; }
        public string PartnerName { get; set; } = "";
        public string Tier { get; set; } = "";
        public DateTimeOffset JoinedAt { get; set; }
        public int Submitted { get; set; }
        public int Approved { get; set; }
        public int Lost { get; set; }
        public int OpenProtected { get; set; }
        public DateTimeOffset? LastSubmittedAt { get; set; }

        public PartnerWithoutRevenue ToPartner() => new()
        {
            PartnerId = PartnerId,
            PartnerName = PartnerName,
            Tier = Tier,
            JoinedAt = JoinedAt,
            ReviewDueOn = ReviewDueOn(JoinedAt),
            Submitted = Submitted,
            Approved = Approved,
            Lost = Lost,
            OpenProtected = OpenProtected,
            LastSubmittedAt = LastSubmittedAt,
        };
    }

    private sealed class DisabledWebhookRow
    {
        public Guid WebhookId { get; set; }
        public Guid PartnerId { get; set; }
        public string Url { get; set; } = "";
        public string Reason { get; set; } = "";
        public DateTimeOffset DisabledAt { get; set; }
        public DateTimeOffset? FailingSince { get; set; }
    }
}
