using Dapper;
using PartnerDeals.Api.Features.Partners;
using PartnerDeals.Api.Infrastructure.Data;
using PartnerDeals.Api.Infrastructure.Http;

namespace PartnerDeals.Api.Features.Fees;

public enum FeeStatus
{
    /// <summary>Earned; not yet payable.</summary>
    Accrued,

    /// <summary>Payable: the payment terms' net days have passed.</summary>
    Due,

    /// <summary>Marked paid by ops.</summary>
    Paid,
}

/// <summary>What a registration, as a transition left it, offers the ledger.</summary>
/// <param name="RegistrationId">The registration.</param>
/// <param name="PartnerId">Its partner.</param>
/// <param name="Terms">The terms it was approved under; none before approval.</param>
/// <param name="QualifiedApproval">Approved, and the customer fits the ideal customer profile.</param>
/// <param name="WonRevenue">Won: what it closed at, when recorded.</param>
/// <param name="WonCurrency">Won: the currency of that.</param>
public sealed record FeeBasis(Guid RegistrationId, Guid PartnerId, TermsSnapshot? Terms, bool QualifiedApproval, decimal? WonRevenue, string? WonCurrency);

/// <summary>A fee a partner earned on one registration.</summary>
public sealed record Fee
{
    public required Guid Id { get; init; }
    public required Guid RegistrationId { get; init; }
    public required Guid PartnerId { get; init; }

    /// <summary>What earned it: <c>qualified_introduction</c> (approval of an ICP-qualified registration) or <c>closed_won</c>.</summary>
    /// <example>closed_won</example>
    public required FeeTrigger Trigger { get; init; }

    /// <example>percent_of_revenue</example>
    public required FeeModel FeeModel { get; init; }

    /// <summary>The closed-won revenue a percentage applies to; null for a fixed fee.</summary>
    /// <example>98500</example>
    public decimal? BasisAmount { get; init; }

    /// <summary>The percentage of the terms; null for a fixed fee.</summary>
    /// <example>10</example>
    public decimal? FeePercent { get; init; }

    /// <example>9850</example>
    public required decimal Amount { get; init; }

    /// <example>EUR</example>
    public required string Currency { get; init; }

    /// <example>due</example>
    public required FeeStatus Status { get; init; }

    public required DateTimeOffset AccruedAt { get; init; }

    /// <summary>The accrual plus the terms' payment net days.</summary>
    public required DateTimeOffset DueAt { get; init; }

    public DateTimeOffset? PaidAt { get; init; }

    /// <summary>The payment's reference, as ops recorded it.</summary>
    public string? PaymentReference { get; init; }

    /// <summary>The partner's share of a split deal (percent, exact), when the fee is one of its parts.</summary>
    /// <example>33.3333</example>
    public string? Share { get; init; }

    /// <summary>The fee this one reverses (a correction of a won deal's split: the opposite sign); null otherwise.</summary>
    public Guid? Reverses { get; init; }
}

/// <summary>
/// The <c>fees</c> table. A registration accrues by the terms snapshotted at its approval: a fixed
/// fee at its trigger (approval of an ICP-qualified registration, or a won outcome); a percentage of
/// revenue or a resale margin when won, on the won amount in the won currency — there is no revenue to
/// take a percentage of before. Accrual runs inside the transition's transaction, once per trigger.
/// </summary>
public sealed class FeeLedger(Database database, IEnumerable<IFeeFollower> followers)
{
    private readonly IReadOnlyList<IFeeFollower> _followers = followers.ToList();

    private const string Columns = """
        id, registration_id, partner_id, fee_trigger, fee_model, basis_amount, fee_percent, amount, currency, accrued_at, due_at, paid_at,
        payment_reference, split_version, share, reverses
        """;

    // Once per registration and trigger, however often the registration passes through the state again.
    private const string AccrueSql = """
        INSERT INTO fees (id, registration_id, partner_id, fee_trigger, fee_model, basis_amount, fee_percent, amount, currency, accrued_at, due_at)
        SELECT @Id, @RegistrationId, @PartnerId, @FeeTrigger, @FeeModel, @BasisAmount, @FeePercent, @Amount, @Currency, @AccruedAt, @DueAt
        WHERE NOT EXISTS (SELECT 1 FROM fees WHERE registration_id = @RegistrationId AND fee_trigger = @FeeTrigger)
        """;

    // A split deal's share of a win: once per registration, trigger, partner and split version, however often it is asked.
    private const string AccrueShareSql = """
        INSERT INTO fees (id, registration_id, partner_id, fee_trigger, fee_model, basis_amount, fee_percent, amount, currency, accrued_at, due_at,
            split_version, share, reverses)
        SELECT @Id, @RegistrationId, @PartnerId, @FeeTrigger, @FeeModel, @BasisAmount, @FeePercent, @Amount, @Currency, @AccruedAt, @DueAt,
            @SplitVersion, @Share, ''
        WHERE NOT EXISTS (SELECT 1 FROM fees WHERE registration_id = @RegistrationId AND fee_trigger = @FeeTrigger AND partner_id = @PartnerId
            AND split_version = @SplitVersion AND reverses = '')
        """;

    // The wins of a split version not yet reversed.
    private const string UnreversedWinsSql = "SELECT " + Columns + """

        FROM fees f
        WHERE f.registration_id = @RegistrationId AND f.fee_trigger = 'closed_won' AND f.split_version = @SplitVersion AND f.reverses = ''
          AND NOT EXISTS (SELECT 1 FROM fees r WHERE r.reverses = f.id)
        ORDER BY f.id
        """;

    private const string ReverseSql = """
        INSERT INTO fees (id, registration_id, partner_id, fee_trigger, fee_model, basis_amount, fee_percent, amount, currency, accrued_at, due_at,
            split_version, share, reverses)
        VALUES (@Id, @RegistrationId, @PartnerId, @FeeTrigger, @FeeModel, @BasisAmount, @FeePercent, @Amount, @Currency, @AccruedAt, @DueAt,
            @SplitVersion, @Share, @Reverses)
        """;

    private const string ForPartnerSql = "SELECT " + Columns + """

        FROM fees
        WHERE partner_id = @PartnerId AND accrued_at >= @From AND accrued_at < @To
        ORDER BY accrued_at, id
        """;

    private const string GetSql = "SELECT " + Columns + " FROM fees WHERE id = @Id";

    private const string MarkPaidSql = """
        UPDATE fees SET paid_at = @PaidAt, paid_by_key_id = @PaidByKeyId, payment_reference = @Reference
        WHERE id = @Id AND paid_at IS NULL
        """;

    /// <summary>
    /// Accrues what a registration, as a transition left it (<paramref name="basis"/>), has earned, and tells the ledger's
    /// followers (the partner's webhooks): the fee accrued, or null if it earned nothing new.
    /// </summary>
    public async Task<Fee?> AccrueAsync(DbSession session, FeeBasis basis, DateTimeOffset now, CancellationToken ct)
    {
        if (Earned(basis) is not { } fee) return null;
        var row = new FeeRow
        {
            Id = Ids.New(now),
            RegistrationId = basis.RegistrationId,
            PartnerId = basis.PartnerId,
            FeeTrigger = Json.Name(fee.Trigger),
            FeeModel = Json.Name(fee.Model),
            BasisAmount = fee.BasisAmount,
            FeePercent = fee.FeePercent,
            Amount = fee.Amount,
            Currency = fee.Currency,
            AccruedAt = now,
            DueAt = now.AddDays(basis.Terms!.PaymentNetDays),
        };
        if (await session.ExecuteAsync(AccrueSql, row, ct) == 0) return null;
        var accrued = row.ToFee(now);
        foreach (var follower in _followers) await follower.AccruedAsync(session, accrued, now, ct);
        return accrued;
    }

    /// <summary>The fee this state of the registration earns under its terms, if any.</summary>
    public static (FeeTrigger Trigger, FeeModel Model, decimal? BasisAmount, decimal? FeePercent, decimal Amount, string Currency)? Earned(FeeBasis b)
    {
        if (b.Terms is not { } terms) return null;
        if (b.QualifiedApproval && terms is { FeeModel: FeeModel.FixedFee, FeeTrigger: FeeTrigger.QualifiedIntroduction })
        {
            return (FeeTrigger.QualifiedIntroduction, terms.FeeModel, null, null, terms.FeeAmount!.Value, terms.FeeCurrency!);
        }
        if (b is not { WonRevenue: { } revenue, WonCurrency: { } currency }) return null;
        if (terms.FeeModel == FeeModel.FixedFee)
        {
            return terms.FeeTrigger == FeeTrigger.ClosedWon
                ? (FeeTrigger.ClosedWon, terms.FeeModel, null, null, terms.FeeAmount!.Value, terms.FeeCurrency!)
                : null;
        }
        var percent = terms.FeePercent!.Value;
        return (FeeTrigger.ClosedWon, terms.FeeModel, revenue, percent, Math.Round(revenue * percent / 100m, 2, MidpointRounding.ToEven), currency);
    }

    /// <summary>
    /// A won deal split between its team: each partner's share of the revenue (<see cref="MoneySplit"/>: the parts add up to the
    /// whole in the currency's minor units) earns by that partner's own terms — a percentage of its part, or its fixed fee in
    /// proportion to its share. Once per partner and split version.
    /// </summary>
    public async Task AccrueSharesAsync(DbSession session, Guid registrationId, int splitVersion, decimal revenue, string currency,
        IReadOnlyList<(Guid PartnerId, decimal Share, TermsSnapshot? Terms)> shares, DateTimeOffset now, CancellationToken ct)
    {
        var parts = MoneySplit.Allocate(revenue, currency, shares.Select(s => s.Share).ToList());
        for (var i = 0; i < shares.Count; i++)
        {
            if (shares[i].Terms is not { } terms || parts[i] == 0 && terms.FeeModel != FeeModel.FixedFee) continue;
            var (model, basis, percent, amount, feeCurrency) = terms.FeeModel == FeeModel.FixedFee
                ? terms.FeeTrigger == FeeTrigger.ClosedWon
                    ? (terms.FeeModel, (decimal?)null, (decimal?)null, MoneySplit.ToMinorUnit(terms.FeeAmount!.Value * shares[i].Share / 100m, terms.FeeCurrency!),
                        terms.FeeCurrency!)
                    : default
                : (terms.FeeModel, parts[i], terms.FeePercent, MoneySplit.ToMinorUnit(parts[i] * terms.FeePercent!.Value / 100m, currency), currency);
            if (feeCurrency is null) continue;
            var row = new FeeRow
            {
                Id = Ids.New(now), RegistrationId = registrationId, PartnerId = shares[i].PartnerId, FeeTrigger = Json.Name(FeeTrigger.ClosedWon),
                FeeModel = Json.Name(model), BasisAmount = basis, FeePercent = percent, Amount = amount, Currency = feeCurrency, AccruedAt = now,
                DueAt = now.AddDays(terms.PaymentNetDays), SplitVersion = splitVersion, Share = Shares.Format(shares[i].Share),
            };
            if (await session.ExecuteAsync(AccrueShareSql, row, ct) == 0) continue;
            var accrued = row.ToFee(now);
            foreach (var follower in _followers) await follower.AccruedAsync(session, accrued, now, ct);
        }
    }

    /// <summary>
    /// A correction of a won deal's split: every win fee of the version it replaces is reversed by a fee of the opposite
    /// sign (the ledger keeps both), before the new version accrues.
    /// </summary>
    public async Task ReverseWinsAsync(DbSession session, Guid registrationId, int splitVersion, DateTimeOffset now, CancellationToken ct)
    {
        var wins = await session.QueryAsync<FeeRow>(UnreversedWinsSql, new { RegistrationId = registrationId, SplitVersion = splitVersion }, ct);
        foreach (var win in wins)
        {
            var reversal = win with
            {
                Id = Ids.New(now), Amount = -win.Amount, BasisAmount = -win.BasisAmount, AccruedAt = now, DueAt = now, PaidAt = null,
                PaymentReference = null, Reverses = win.Id.ToString(),
            };
            await session.ExecuteAsync(ReverseSql, reversal, ct);
            var reversed = reversal.ToFee(now);
            foreach (var follower in _followers) await follower.AccruedAsync(session, reversed, now, ct);
        }
    }

    /// <summary>A partner's fees accrued in [<paramref name="from"/>, <paramref name="to"/>), oldest first.</summary>
    public async Task<IReadOnlyList<Fee>> ForPartnerAsync(Guid partnerId, DateTimeOffset from, DateTimeOffset to, DateTimeOffset now, CancellationToken ct)
    {
        var rows = await database.ReadAsync(read => read.QueryAsync<FeeRow>(ForPartnerSql, new { PartnerId = partnerId, From = from, To = to }, ct), ct);
        return rows.Select(r => r.ToFee(now)).ToList();
    }

    public async Task<Fee?> GetAsync(DbSession session, Guid id, DateTimeOffset now, CancellationToken ct) =>
        (await session.QuerySingleOrDefaultAsync<FeeRow>(GetSql, new { Id = id }, ct))?.ToFee(now);

    /// <summary>False when it was already paid.</summary>
    public async Task<bool> MarkPaidAsync(DbSession session, Guid id, Guid? keyId, string? reference, DateTimeOffset now, CancellationToken ct) =>
        await session.ExecuteAsync(MarkPaidSql, new { Id = id, PaidAt = now, PaidByKeyId = keyId, Reference = reference }, ct) == 1;

    /// <summary>One row of <c>fees</c>, as Dapper writes it (its properties are the accrual's parameters) and reads it back.</summary>
    private sealed record FeeRow
    {
        public Guid Id { get; init; }
        public Guid RegistrationId { get; init; }
        public Guid PartnerId { get; init; }
        public string FeeTrigger { get; init; } = "";
        public string FeeModel { get; init; } = "";
        public decimal? BasisAmount { get; init; }
        public decimal? FeePercent { get; init; }
        public decimal Amount { get; init; }
        public string Currency { get; init; } = "";
        public DateTimeOffset AccruedAt { get; init; }
        public DateTimeOffset DueAt { get; init; }
        public DateTimeOffset? PaidAt { get; init; }
        public string? PaymentReference { get; init; }
        public int SplitVersion { get; init; }
        public string? Share { get; init; }
        public string Reverses { get; init; } = "";

        public Fee ToFee(DateTimeOffset now) => new()
        {
            Id = Id,
            RegistrationId = RegistrationId,
            PartnerId = PartnerId,
            Trigger = Json.Parse<FeeTrigger>(FeeTrigger),
            FeeModel = Json.Parse<FeeModel>(FeeModel),
            BasisAmount = BasisAmount,
            FeePercent = FeePercent,
            Amount = Amount,
            Currency = Currency,
            Status = PaidAt is not null ? FeeStatus.Paid : now >= DueAt ? FeeStatus.Due : FeeStatus.Accrued,
            AccruedAt = AccruedAt,
            DueAt = DueAt,
            PaidAt = PaidAt,
            PaymentReference = PaymentReference,
            Share = Share,
            Reverses = Reverses.Length == 0 ? null : Guid.Parse(Reverses),
        };
    }
}

/// <summary>Shares of a split as they are written: exact decimal strings, without trailing zeros.</summary>
public static class Shares
{
    public static string Format(decimal share) => share.ToString("0.####", System.Globalization.CultureInfo.InvariantCulture);
}

/// <summary>Hears, in the same transaction, of every fee accrued or paid (the partner's webhooks).</summary>
public interface IFeeFollower
{
    Task AccruedAsync(DbSession session, Fee fee, DateTimeOffset now, CancellationToken ct);

    Task PaidAsync(DbSession session, Fee fee, DateTimeOffset now, CancellationToken ct);
}
