using System.ComponentModel.DataAnnotations;
using System.Diagnostics.Metrics;
using Dapper;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Options;
using PartnerDeals.Api.Infrastructure.Data;
using PartnerDeals.Api.Infrastructure.Http;
using PartnerDeals.Matching;

namespace PartnerDeals.Api.Features.ConflictChecks;

/// <summary>
/// How many checks one partner may ask for — pre-checks, registrations and company-changing edits together — with all its keys,
/// over a rolling minute and day. Ops may give one partner its own (<c>PATCH /v1/partners/{id}</c>, <c>checkQuota</c>).
/// </summary>
public sealed class PartnerPreCheckOptions
{
    public const string Section = "ConflictChecks:PartnerQuota";

    [Range(1, 100_000)]
    public int PerMinute { get; set; } = 10;

    [Range(1, 1_000_000)]
    public int PerDay { get; set; } = 100;
}

/// <summary>One check a partner key asked for, as ops read it.</summary>
public sealed record PartnerPreCheck
{
    public required Guid Id { get; init; }
    public required Guid PartnerId { get; init; }

    /// <summary>The key that asked, or the signed-in person.</summary>
    public required Guid KeyId { get; init; }

    /// <summary>What asked: <c>pre_check</c>, <c>registration</c> or <c>edit</c> (an edit that names another company).</summary>
    /// <example>pre_check</example>
    public required string AskedBy { get; init; }

    /// <summary>The registration a registration or an edit decided.</summary>
    public Guid? RegistrationId { get; init; }

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

/// <summary>What a partner asked to have checked, and through what.</summary>
/// <param name="AskedBy"><see cref="PartnerPreChecks.PreCheck"/>, <see cref="PartnerPreChecks.Registration"/> or <see cref="PartnerPreChecks.Edit"/>.</param>
/// <param name="CompanyName">The company name asked about.</param>
/// <param name="Domain">Its website, if given.</param>
/// <param name="Country">Its country, if given.</param>
public sealed record CheckAsked(string AskedBy, string CompanyName, string? Domain, string? Country);

/// <summary>Whether the quota let a check through, how it is logged, and when it would.</summary>
public sealed record QuotaAnswer(bool Allowed, string Outcome, TimeSpan RetryAfter);

/// <summary>
/// Every check a partner asks for is a window onto the vendor's pipeline, whatever asks it — a pre-check, a registration or an
/// edit that names another company: each draws on the partner's one quota (counted per minute in <c>partner_check_minutes</c>,
/// so the count reads at most a day's 1,440 rows however large the quota) and is logged in <c>partner_conflict_checks</c>, in
/// the transaction that answers it (so two instances cannot both let the last one through), and counted on <c>/metrics</c>.
/// </summary>
public sealed class PartnerPreChecks(Database database, IOptions<PartnerPreCheckOptions> options, IMeterFactory meters, TimeProvider clock)
{
    public const string MeterName = "PartnerDeals.ConflictChecks";

    public const string PreCheck = "pre_check";
    public const string Registration = "registration";
    public const string Edit = "edit";

    // The rolling minute is the minute buckets begun within the last 60 s; the day, those of the last 24 hours.
    private const string CountSql = """
        SELECT COALESCE(SUM(CASE WHEN minute > @MinuteAgo THEN answered END), 0) AS LastMinute, COALESCE(SUM(answered), 0) AS LastDay,
            MIN(minute) AS OldestToday
        FROM partner_check_minutes
        WHERE partner_id = @PartnerId AND minute > @DayAgo
        """;

    // One answered check more in its minute: the row is added when it is the minute's first. Two statements, each kept
    // prepared on the decision writer's connection, where every registration runs them (see the Performance section).
    private const string CountAnsweredSql = """
        UPDATE partner_check_minutes SET answered = answered + 1 WHERE partner_id = @PartnerId AND minute = @Minute
        """;

    private const string FirstAnsweredSql = """
        INSERT INTO partner_check_minutes (partner_id, minute, answered)
        SELECT @PartnerId, @Minute, 1 WHERE NOT EXISTS (SELECT 1 FROM partner_check_minutes WHERE partner_id = @PartnerId AND minute = @Minute)
        """;

    private const string InsertSql = """
        INSERT INTO partner_conflict_checks (id, partner_id, key_id, asked_by, registration_id, company_name, domain, country, verdict, outcome, checked_at)
        VALUES (@Id, @PartnerId, @KeyId, @AskedBy, @RegistrationId, @CompanyName, @Domain, @Country, @Verdict, @Outcome, @CheckedAt)
        """;

    private const string ListSql = """
        SELECT id, partner_id, key_id, asked_by, registration_id, company_name, domain, country, verdict, outcome, checked_at
        FROM partner_conflict_checks
        WHERE partner_id = @PartnerId AND (@After IS NULL OR id > @After)
        ORDER BY id
        """;

    private readonly Counter<long> _checks = meters.Create(MeterName).CreateCounter<long>("partnerdeals.conflict_checks",
        description: "Conflict checks by caller (partner, vendor), what asked (pre_check, registration, edit) and outcome (clear, review, conflict, refused).");

    /// <summary>Counts a vendor key's check; vendor checks are the vendor's own business and are not logged.</summary>
    public void CountVendorCheck(Verdict verdict) => _checks.Add(1, new("caller", "vendor"), new("outcome", Json.Name(verdict)));

    /// <summary>Whether the partner's quota (its own, else the program's) allows one more check now, in <paramref name="session"/>.</summary>
    public async Task<QuotaAnswer> QuotaAsync(DbSession session, Guid partnerId, Partners.CheckQuota? own, CancellationToken ct)
    {
        var now = clock.GetUtcNow();
        var (perMinute, perDay) = own is { } q ? (q.PerMinute, q.PerDay) : (options.Value.PerMinute, options.Value.PerDay);
        var used = (await session.QueryRepeatedAsync<Usage>(CountSql,
            [("@PartnerId", partnerId), ("@MinuteAgo", now.AddMinutes(-1)), ("@DayAgo", now.AddDays(-1))], ct))[0];
        return used.LastDay >= perDay
            ? new(false, "refused_per_day", used.OldestToday is { } oldest ? oldest.AddDays(1).AddMinutes(1) - now : TimeSpan.FromDays(1))
            : used.LastMinute >= perMinute ? new(false, "refused_per_minute", TimeSpan.FromMinutes(1))
            : new(true, "answered", TimeSpan.Zero);
    }

    /// <summary>Logs a check the quota answered (with what the matcher found) or refused, in <paramref name="session"/>.</summary>
    public async Task LogAsync(DbSession session, Guid partnerId, Guid keyId, CheckAsked asked, QuotaAnswer answer, Verdict? verdict, Guid? registrationId,
        CancellationToken ct)
    {
        var now = clock.GetUtcNow();
        if (answer.Allowed)
        {
            var minute = new DateTimeOffset(now.Year, now.Month, now.Day, now.Hour, now.Minute, 0, TimeSpan.Zero);
            await session.ScalarRepeatedAsync(CountAnsweredSql, [("@PartnerId", partnerId), ("@Minute", minute)], ct);
            await session.ScalarRepeatedAsync(FirstAnsweredSql, [("@PartnerId", partnerId), ("@Minute", minute)], ct);
        }
        await session.ScalarRepeatedAsync(InsertSql,
        [
            ("@Id", Ids.New(now)), ("@PartnerId", partnerId), ("@KeyId", keyId), ("@AskedBy", asked.AskedBy), ("@RegistrationId", registrationId),
            ("@CompanyName", asked.CompanyName.Trim()), ("@Domain", string.IsNullOrWhiteSpace(asked.Domain) ? null : asked.Domain.Trim()),
            ("@Country", string.IsNullOrWhiteSpace(asked.Country) ? null : asked.Country.Trim().ToUpperInvariant()),
            ("@Verdict", answer.Allowed && verdict is { } v ? Json.Name(v) : null), ("@Outcome", answer.Outcome), ("@CheckedAt", now),
        ], ct);
        _checks.Add(1, new("caller", "partner"), new("asked_by", asked.AskedBy),
            new("outcome", answer.Allowed && verdict is { } found ? Json.Name(found) : "refused"));
    }

    /// <summary>A pre-check: drawn from the quota and logged in one write transaction.</summary>
    public async Task<QuotaAnswer> RecordAsync(Guid partnerId, Partners.CheckQuota? own, Guid keyId, CheckAsked asked, Verdict verdict, CancellationToken ct)
    {
        await using var connection = await database.OpenAsync(ct);
        await using var session = await database.BeginWriteAsync(connection, ct);
        var answer = await QuotaAsync(session, partnerId, own, ct);
        await LogAsync(session, partnerId, keyId, asked, answer, verdict, null, ct);
        await session.CommitAsync(ct);
        return answer;
    }

    /// <summary>A registration or an edit the quota refused: its decision was rolled back, so the refusal is logged on its own.</summary>
    public async Task LogRefusalAsync(Guid partnerId, Guid keyId, CheckAsked asked, QuotaAnswer answer, CancellationToken ct)
    {
        await using var connection = await database.OpenAsync(ct);
        await using var session = await database.BeginWriteAsync(connection, ct);
        await LogAsync(session, partnerId, keyId, asked, answer, null, null, ct);
        await session.CommitAsync(ct);
    }

    /// <summary>The 429 a refused check answers, with its Retry-After.</summary>
    public static ProblemHttpResult Refused(QuotaAnswer answer, HttpResponse? response)
    {
        if (response is not null) response.Headers.RetryAfter = Math.Max(1, (int)Math.Ceiling(answer.RetryAfter.TotalSeconds)).ToString(System.Globalization.CultureInfo.InvariantCulture);
        return TypedResults.Problem(title: "The partner's check quota is used up.", statusCode: StatusCodes.Status429TooManyRequests,
            type: Infrastructure.Errors.ProblemTypes.QuotaExceeded,
            detail: "Pre-checks, registrations and edits that name another company share one quota per partner per minute and per day; "
                + "retry after Retry-After seconds.");
    }

    public async Task<Page<PartnerPreCheck>> ListAsync(Guid partnerId, int pageSize, Guid? after, CancellationToken ct)
    {
        var rows = (await database.ReadAsync(read => read.QueryAsync<Row>(database.Dialect.Page(ListSql),
            new { PartnerId = partnerId, After = after, Limit = pageSize + 1 }, ct), ct)).AsList();
        return Paging.ToPage(rows, pageSize, r => r.Id, r => new PartnerPreCheck
        {
            Id = r.Id,
            PartnerId = r.PartnerId,
            KeyId = r.KeyId,
            AskedBy = r.AskedBy,
            RegistrationId = r.RegistrationId,
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
        public string AskedBy { get; set; } = "";
        public Guid? RegistrationId { get; set; }
        public string CompanyName { get; set; } = "";
        public string? Domain { get; set; }
        public string? Country { get; set; }
        public string? Verdict { get; set; }
        public string Outcome { get; set; } = "";
        public DateTimeOffset CheckedAt { get; set; }
    }
}
