using System.Globalization;
using System.Security.Claims;
using FluentValidation;
using Microsoft.AspNetCore.Http.HttpResults;
using PartnerDeals.Api.Features.Audit;
using PartnerDeals.Api.Features.Fees;
using PartnerDeals.Api.Infrastructure.Auth;
using PartnerDeals.Api.Infrastructure.Data;
using PartnerDeals.Api.Infrastructure.Errors;
using PartnerDeals.Api.Infrastructure.Http;
using static PartnerDeals.Api.Features.Registrations.RegistrationsApi;

namespace PartnerDeals.Api.Features.Registrations;

/// <summary>
/// How a deal's fee is split between its team (<c>PUT</c>/<c>GET /v1/registrations/{id}/splits</c>): exact decimal shares
/// totalling 100, set by the primary until approval and by ops after; after a win a change is a correction — a new version
/// whose fees replace the old ones, which are reversed. Every version is kept. Without a split the primary earns it all.
/// </summary>
public static class RegistrationSplits
{
    private const string CurrentSplitSql = """
        SELECT version, member_id, partner_id, share, set_at FROM registration_splits
        WHERE registration_id = @RegistrationId AND version = (SELECT MAX(version) FROM registration_splits WHERE registration_id = @RegistrationId)
        ORDER BY member_id
        """;

    private const string InsertShareSql = """
        INSERT INTO registration_splits (registration_id, version, member_id, partner_id, share, set_at)
        VALUES (@RegistrationId, @Version, @MemberId, @PartnerId, @Share, @SetAt)
        """;

    public static void MapRegistrationSplits(this RouteGroupBuilder registrations)
    {
        registrations.MapPut("/{id:guid}/splits", Set)
            .WithName("SetRegistrationSplit")
            .WithSummary("Split a deal's fee between its team")
            .WithDescription("The primary partner until approval, ops and admin always. Shares are decimal strings (up to four decimals) of the primary "
                + "(memberId: the registration's id) and active members, totalling exactly 100 (else 422 with the sum). On a win each accrues its "
                + "fee by its own terms on its share of the revenue, split in the currency's minor units so the parts add up to the whole. After "
                + "the win a change (ops) is a correction: the old fees are reversed and the new split accrues; every version is kept.")
            .RequireAuthorization(Policies.Registrant)
            .WithValidation<SplitRequest>()
            .ProducesProblem(StatusCodes.Status404NotFound)
            .ProducesProblem(StatusCodes.Status409Conflict)
            .ProducesProblem(StatusCodes.Status422UnprocessableEntity);

        registrations.MapGet("/{id:guid}/splits", Get)
            .WithName("GetRegistrationSplit")
            .WithSummary("A deal's fee split, with a preview of the money")
            .WithDescription("Whoever reads the registration; a partner sees its own share only. With amount and currency, each share's part of that "
                + "revenue as it would be allocated (largest remainder in the currency's minor units: JPY 0, EUR 2, BHD 3).")
            .RequireAuthorization(Policies.AnyKey)
            .ProducesProblem(StatusCodes.Status404NotFound);
    }

    /// <summary>The latest split of a registration, read in the caller's transaction; null when none was set (the primary earns it all).</summary>
    public static async Task<Split?> CurrentAsync(DbSession session, Guid registrationId, CancellationToken ct)
    {
        var rows = await session.QueryAsync<ShareRow>(CurrentSplitSql, new { RegistrationId = registrationId }, ct);
        if (rows.Count == 0) return null;
        // The primary first, then the members in the order they were added.
        var shares = rows.OrderBy(r => r.MemberId == registrationId ? 0 : 1).ThenBy(r => r.MemberId)
            .Select(r => new SplitShare(r.MemberId, r.PartnerId, decimal.Parse(r.Share, CultureInfo.InvariantCulture))).ToList();
        return new Split(rows[0].Version, shares, rows[0].SetAt);
    }

    private static async Task<Results<Ok<SplitView>, ProblemHttpResult>> Set(Guid id, SplitRequest request, ClaimsPrincipal user,
        [AsParameters] RegistrationServices s, FeeLedger fees, AuditTrail audit, CancellationToken ct)
    {
        var shares = request.Shares!.Select(x => (x.MemberId!.Value, Share: decimal.Parse(x.Share!, NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture)))
            .ToList();
        var total = shares.Sum(x => x.Share);
        if (total != 100m)
        {
            return TypedResults.Problem(title: "The shares must total exactly 100.", detail: $"They total {Fees.Shares.Format(total)}.", statusCode: 422,
                type: ProblemTypes.SplitNotWhole);
        }

        var (problem, split) = await s.Writer.DecideAsync(async session =>
        {
            var registration = await s.Registrations.GetAsync(session, id, ct);
            if (registration is null || !user.CanSeePartner(registration.PartnerId)) return Decided<SplitAnswer>.Discarded(new(NotFound(), null));
            var won = registration.Status == RegistrationStatus.Won;
            if (!won && !Claims.IsClaim(registration.Status))
            {
                return Decided<SplitAnswer>.Discarded(new(Problems.InvalidTransition($"The registration is {Json.Name(registration.Status)}: its split is closed."), null));
            }
            if (user.IsPartner() && registration.Status is not (RegistrationStatus.PendingReview or RegistrationStatus.MoreInfoRequested))
            {
                return Decided<SplitAnswer>.Discarded(new(Problems.Forbidden("After approval only ops change a deal's split."), null));
            }
            var members = (await RegistrationTeam.ActiveTermsAsync(session, id, ct)).ToDictionary(m => m.MemberId);
            var unknown = shares.Where(x => x.Item1 != id && !members.ContainsKey(x.Item1)).Select(x => x.Item1).ToList();
            if (unknown.Count > 0)
            {
                return Decided<SplitAnswer>.Discarded(new(Problems.InvalidField("shares",
                    $"Not the primary (the registration's id) or an active member: {string.Join(", ", unknown)}."), null));
            }

            var now = s.Clock.GetUtcNow();
            var before = await CurrentAsync(session, id, ct);
            var version = (before?.Version ?? 0) + 1;
            foreach (var (memberId, share) in shares)
            {
                await session.ExecuteAsync(InsertShareSql, new
                {
                    RegistrationId = id, Version = version, MemberId = memberId,
                    PartnerId = memberId == id ? registration.PartnerId : members[memberId].PartnerId, Share = Fees.Shares.Format(share), SetAt = now,
                }, ct);
            }
            var current = (await CurrentAsync(session, id, ct))!;
            await audit.RecordAsync(session, "registration", id, won ? "registration.split_corrected" : "registration.split_set", Actor.From(user),
                new { version, shares = current.Shares.Select(x => new { x.MemberId, x.PartnerId, share = Fees.Shares.Format(x.Share) }) }, ct);
            if (won)
            {
                // A correction: what the version before earned is reversed, then the new split accrues.
                await fees.ReverseWinsAsync(session, id, version - 1, now, ct);
                await AccrueAsync(session, fees, registration, current, members, now, ct);
            }
            return Decided<SplitAnswer>.Kept(new(null, current));
        }, ct);
        if (problem is not null) return problem;
        return TypedResults.Ok(SplitView.Of(split!, id, user, null, null));
    }

    /// <summary>A won registration's fees by its split: each share earns by its partner's terms (the primary's snapshotted at approval).</summary>
    public static Task AccrueAsync(DbSession session, FeeLedger fees, Registration won, Split split,
        IReadOnlyDictionary<Guid, (Guid MemberId, Guid PartnerId, Partners.TermsSnapshot? Terms)> members, DateTimeOffset now, CancellationToken ct) =>
        fees.AccrueSharesAsync(session, won.Id, split.Version, won.Outcome!.Amount!.Value, won.Outcome.Currency!,
            split.Shares.Select(x => (x.PartnerId, x.Share, x.MemberId == won.Id ? won.Terms : members.GetValueOrDefault(x.MemberId).Terms)).ToList(),
            now, ct);

    /// <param name="id">The registration's id.</param>
    /// <param name="user">The caller.</param>
    /// <param name="s">The registrations.</param>
    /// <param name="ct">Cancellation.</param>
    /// <param name="amount">A revenue to preview each share's part of.</param>
    /// <param name="currency">The revenue's ISO 4217 currency.</param>
    private static async Task<Results<Ok<SplitView>, ProblemHttpResult, ValidationProblem>> Get(Guid id, ClaimsPrincipal user,
        [AsParameters] RegistrationServices s, CancellationToken ct, decimal? amount = null, string? currency = null)
    {
        if (amount is not null != currency is not null || amount < 0 || currency is not null && !IsoCodes.IsCurrency(currency))
        {
            return Problems.Validation("amount", "amount (0 or more) and currency (ISO 4217) go together.");
        }
        return await s.Database.ReadAsync<Results<Ok<SplitView>, ProblemHttpResult, ValidationProblem>>(async session =>
        {
            var registration = await s.Registrations.GetAsync(session, id, ct);
            if (registration is null || !await RegistrationTeam.MayReadAsync(session, registration, user, ct)) return NotFound();
            var split = await CurrentAsync(session, id, ct) ?? new Split(0, [new SplitShare(id, registration.PartnerId, 100m)], registration.CreatedAt);
            return TypedResults.Ok(SplitView.Of(split, id, user, amount, currency));
        }, ct);
    }

    private sealed record SplitAnswer(ProblemHttpResult? Problem, Split? Split);

    private sealed record ShareRow
    {
        public int Version { get; init; }
        public Guid MemberId { get; init; }
        public Guid PartnerId { get; init; }
        public string Share { get; init; } = "";
        public DateTimeOffset SetAt { get; init; }
    }
}

/// <summary>A version of a deal's split.</summary>
public sealed record Split(int Version, IReadOnlyList<SplitShare> Shares, DateTimeOffset SetAt);

/// <summary>One share: the member (the registration's id for the primary), its partner, and its percentage.</summary>
public sealed record SplitShare(Guid MemberId, Guid PartnerId, decimal Share);

/// <summary>A deal's split as the caller may see it, with each share's part of a previewed revenue.</summary>
public sealed record SplitView
{
    /// <summary>The split's version: 0 while none was set (the primary earns it all).</summary>
    /// <example>1</example>
    public required int Version { get; init; }

    public required IReadOnlyList<SplitViewShare> Shares { get; init; }

    /// <summary>The currency of the previewed parts; null without a preview.</summary>
    public string? Currency { get; init; }

    public static SplitView Of(Split split, Guid registrationId, ClaimsPrincipal user, decimal? amount, string? currency)
    {
        var parts = amount is { } revenue ? MoneySplit.Allocate(revenue, currency!, split.Shares.Select(x => x.Share).ToList()) : null;
        var shares = split.Shares.Select((x, i) => new SplitViewShare
        {
            MemberId = x.MemberId, PartnerId = x.PartnerId, Primary = x.MemberId == registrationId, Share = Fees.Shares.Format(x.Share), Amount = parts?[i],
        });
        // A partner sees its own share, never another member's.
        return new SplitView
        {
            Version = split.Version,
            Shares = (user.IsPartner() ? shares.Where(x => x.PartnerId == user.PartnerId()) : shares).ToList(),
            Currency = parts is null ? null : currency!.ToUpperInvariant(),
        };
    }
}

public sealed record SplitViewShare
{
    public required Guid MemberId { get; init; }
    public required Guid PartnerId { get; init; }
    public required bool Primary { get; init; }

    /// <example>33.3333</example>
    public required string Share { get; init; }

    /// <summary>Its part of the previewed revenue; null without a preview.</summary>
    public decimal? Amount { get; init; }
}

public sealed record SplitRequest
{
    /// <summary>Every share: the primary's memberId is the registration's id. Exact decimal strings totalling 100.</summary>
    /// <example>[{"memberId":"0193a6f2-7c1e-7d3a-9f00-5b2c8e4d1a10","share":"100"}]</example>
    public IReadOnlyList<ShareInput>? Shares { get; init; }
}

public sealed record ShareInput
{
    /// <example>0193a6f2-7c1e-7d3a-9f00-5b2c8e4d1a10</example>
    public Guid? MemberId { get; init; }

    /// <summary>A percentage as a decimal string, up to four decimals.</summary>
    /// <example>100</example>
    public string? Share { get; init; }
}

public sealed class SplitRequestValidator : AbstractValidator<SplitRequest>
{
    public SplitRequestValidator()
    {
        RuleFor(x => x.Shares).NotEmpty().Must(s => s is null || s.Count <= 20).WithMessage("shares holds 1 to 20 members.")
            .Must(s => s is null || s.Select(x => x.MemberId).Distinct().Count() == s.Count).WithMessage("Each member has one share.");
        RuleForEach(x => x.Shares).ChildRules(share =>
        {
            share.RuleFor(x => x.MemberId).NotNull();
            share.RuleFor(x => x.Share).NotEmpty()
                .Matches(@"^\d{1,3}(\.\d{1,4})?$").WithMessage("share is a decimal string such as \"33.3333\": up to four decimals.")
                .Must(x => x is null || !decimal.TryParse(x, NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out var v) || v is > 0 and <= 100)
                .WithMessage("share is more than 0 and at most 100.");
        });
    }
}
