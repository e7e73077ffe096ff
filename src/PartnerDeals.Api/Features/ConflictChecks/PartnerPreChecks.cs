using System.ComponentModel.DataAnnotations;
using System.Diagnostics.Metrics;
using Dapper;
using Microsoft.Extensions.Options;
using PartnerDeals.Api.Infrastructure.Data;
using PartnerDeals.Api.Infrastructure.Http;
using PartnerDeals.Matching;

namespace PartnerDeals.Api.Features.ConflictChecks;

/// <summary>How many pre-checks one partner may run: all its keys together, over a rolling minute and day.</summary>
public sealed class PartnerPreCheckOptions
{
    public const string Section = "ConflictChecks:PartnerQuota";

    [Range(1, 100_000)]
    public int PerMinute { get; set; } = 10;

    [Range(1, 1_000_000)]
    public int PerDay { get; set; } = 100;
}

/// <summary>One pre-check a partner key ran, as ops read it.</summary>
public sealed record PartnerPreCheck
{
    public required Guid Id { get; init; }
    public required Guid PartnerId { get; init; }

    /// <summary>The key that asked.</summary>
    public required Guid KeyId { get; init; }

    /// <example>Contoso Pharma</example>
    public required string CompanyName { get; init; }

    public string? Domain { get; init; }

    public string? Country { get; init; }

    /// <summary>What the matcher found (the partner was told only whether the account is available); null when refused.</summary>
    public Verdict? Verdict { get; init; }

    /// <summary><c>answered</c>, <c>refused_per_minute</c> or <c>refused_per_day</c>.</summary>
    /// <example>answered</example>
    public required string Outcome { get; init; }

    public required DateTimeOffset CheckedAt { get; init; }
}

/// <summary>
/// Pre-checks by partner keys are a window onto the vendor's pipeline: each is counted against the
/// partner's quota and logged in <c>partner_conflict_checks</c> in one write transaction (so two
/// instances cannot both let the last one through), and counted on <c>/metrics</c>.
/// </summary>
public sealed class PartnerPreChecks(Database database, IOptions<PartnerPreCheckOptions> options, IMeterFactory meters, TimeProvider clock)
{
    public const string MeterName = "PartnerDeals.ConflictChecks";

    private const string CountSql = """
        SELECT COUNT(CASE WHEN checked_at >= @MinuteAgo THEN 1 END) AS LastMinute, COUNT(*) AS LastDay, MIN(checked_at) AS OldestToday
        FROM partner_conflict_checks
        WHERE partner_id = @PartnerId AND outcome = 'answered' AND checked_at >= @DayAgo
        """;

    private const string InsertSql = """
        INSERT INTO partner_conflict_checks (id, partner_id, key_id, company_name, domain, country, verdict, outcome, checked_at)
        VALUES (@Id, @PartnerId, @KeyId, @CompanyName, @Domain, @Country, @Verdict, @Outcome, @CheckedAt)
        """;

    private const string ListSql = """
        SELECT id, partner_id, key_id, company_name, domain, country, verdict, outcome, checked_at
        FROM partner_conflict_checks
        WHERE partner_id = @PartnerId AND (@After IS NULL OR id > @After)
        ORDER BY id
        """;

    private readonly Counter<long> _checks = meters.Create(MeterName).CreateCounter<long>("partnerdeals.conflict_checks",
        description: "Conflict pre-checks by caller (partner, vendor) and outcome (clear, review, conflict, refused).");

    /// <summary>Counts a vendor key's check; vendor checks are the vendor's own business and are not logged.</summary>
    public void CountVendorCheck(Verdict verdict) => _checks.Add(1, new("caller", "vendor"), new("outcome", Json.Name(verdict)));

    /// <summary>
    /// Logs a partner's check and answers whether the quota allowed it; when it did not, also how long
    /// until it will.
    /// </summary>
    public async Task<(bool Allowed, TimeSpan RetryAfter)> RecordAsync(
        Guid partnerId, Guid keyId, ConflictCheckRequest asked, Verdict verdict, CancellationToken ct)
    {
        var now = clock.GetUtcNow();
        var quota = options.Value;
        await using var connection = await database.OpenAsync(ct);
        await using var session = await database.BeginWriteAsync(connection, ct);
        var used = (await session.QuerySingleOrDefaultAsync<Usage>(CountSql,
            new { PartnerId = partnerId, MinuteAgo = now.AddMinutes(-1), DayAgo = now.AddDays(-1) }, ct))!;
        var outcome = used.LastDay >= quota.PerDay ? "refused_per_day" : used.LastMinute >= quota.PerMinute ? "refused_per_minute" : "answered";
        await session.ExecuteAsync(InsertSql, new
        {
            Id = Ids.New(now),
            PartnerId = partnerId,
            KeyId = keyId,
            CompanyName = asked.CompanyName!.Trim(),
            Domain = string.IsNullOrWhiteSpace(asked.Domain) ? null : asked.Domain.Trim(),
            Country = string.IsNullOrWhiteSpace(asked.Country) ? null : asked.Country.Trim().ToUpperInvariant(),
            Verdict = outcome == "answered" ? Json.Name(verdict) : null,
            Outcome = outcome,
            CheckedAt = now,
        }, ct);
        await session.CommitAsync(ct);

        _checks.Add(1, new("caller", "partner"), new("outcome", outcome == "answered" ? Json.Name(verdict) : "refused"));
        return outcome switch
        {
            "answered" => (true, TimeSpan.Zero),
            "refused_per_minute" => (false, TimeSpan.FromMinutes(1)),
            _ => (false, used.OldestToday is { } oldest ? oldest.AddDays(1) - now : TimeSpan.FromDays(1)),
        };
    }

    public async Task<Page<PartnerPreCheck>> ListAsync(Guid partnerId, int pageSize, Guid? after, CancellationToken ct)
    {
        await using var connection = await database.OpenAsync(ct);
        var rows = (await connection.QueryAsync<Row>(database.Command(database.Dialect.Page(ListSql),
            new { PartnerId = partnerId, After = after, Limit = pageSize + 1 }, ct))).AsList();
        return Paging.ToPage(rows, pageSize, r => r.Id, r => new PartnerPreCheck
        {
            Id = r.Id,
            PartnerId = r.PartnerId,
            KeyId = r.KeyId,
            CompanyName = r.CompanyName,
            Domain = r.Domain,
            Country = r.Country,
            Verdict = r.Verdict is null ? null : Json.Parse<Verdict>(r.Verdict),
            Outcome = r.Outcome,
            CheckedAt = r.CheckedAt,
        });
    }

    private sealed class Usage
    {
        public int LastMinute { get; set; }
        public int LastDay { get; set; }
        public DateTimeOffset? OldestToday { get; set; }
    }

    private sealed class Row
    {
        public Guid Id { get; set; }
        public Guid PartnerId { get; set; }
        public Guid KeyId { get; set; }
        public string CompanyName { get; set; } = "";
        public string? Domain { get; set; }
        public string? Country { get; set; }
        public string? Verdict { get; set; }
        public string Outcome { get; set; } = "";
        public DateTimeOffset CheckedAt { get; set; }
    }
}
