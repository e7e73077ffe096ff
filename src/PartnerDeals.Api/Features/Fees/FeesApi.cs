using System.Security.Claims;
using FluentValidation;
using Microsoft.AspNetCore.Http.HttpResults;
using PartnerDeals.Api.Features.Audit;
using PartnerDeals.Api.Features.Partners;
using PartnerDeals.Api.Infrastructure.Auth;
using PartnerDeals.Api.Infrastructure.Data;
using PartnerDeals.Api.Infrastructure.Http;

namespace PartnerDeals.Api.Features.Fees;

/// <summary>Per currency: never summed across currencies.</summary>
/// <param name="Currency">ISO 4217.</param>
/// <param name="Accrued">Earned, not yet payable.</param>
/// <param name="Due">Payable and unpaid.</param>
/// <param name="Paid">Paid.</param>
public sealed record FeeTotal(string Currency, decimal Accrued, decimal Due, decimal Paid);

/// <summary>A partner's fees accrued in a period, with totals per currency.</summary>
/// <param name="PartnerId">The partner.</param>
/// <param name="From">First day (UTC), inclusive.</param>
/// <param name="To">Last day (UTC), inclusive.</param>
/// <param name="Totals">Sums by status, per currency.</param>
/// <param name="Items">Every fee, oldest first.</param>
public sealed record FeeStatement(Guid PartnerId, DateOnly From, DateOnly To, IReadOnlyList<FeeTotal> Totals, IReadOnlyList<Fee> Items);

public sealed record MarkFeePaidRequest
{
    /// <summary>The payment's reference (remittance number, invoice).</summary>
    /// <example>REM-2026-11-0042</example>
    public string? Reference { get; init; }
}

public sealed class MarkFeePaidRequestValidator : AbstractValidator<MarkFeePaidRequest>
{
    public MarkFeePaidRequestValidator() => RuleFor(x => x.Reference).MaximumLength(200).Name();
}

public static class FeesApi
{
    public static void MapFees(this IEndpointRouteBuilder v1)
    {
        v1.MapGet("/partners/{id:guid}/fees", Statement)
            .WithTags("Fees")
            .WithName("GetPartnerFees")
            .WithSummary("A partner's fees in a period")
            .WithDescription("Ops and admin; a partner key for its own partner (404 for any other). Fees accrued from `from` to `to` (ISO dates, "
                + "UTC, inclusive; the current quarter by default), each with its status (accrued, due after the payment net days, paid), "
                + "and totals per currency. `Accept: text/csv` answers the fees as a spreadsheet.")
            .RequireAuthorization(Policies.AnyKey)
            .ProducesProblem(StatusCodes.Status404NotFound);

        v1.MapPost("/fees/{id:guid}/paid", MarkPaid)
            .WithTags("Fees")
            .WithName("MarkFeePaid")
            .WithSummary("Mark a fee paid")
            .WithDescription("Ops and admin. Refused (409) when it is already paid.")
            .RequireAuthorization(Policies.Ops)
            .WithValidation<MarkFeePaidRequest>()
            .ProducesProblem(StatusCodes.Status404NotFound)
            .ProducesProblem(StatusCodes.Status409Conflict);
    }

    /// <param name="id">The partner.</param>
    /// <param name="http">The request.</param>
    /// <param name="user">The caller.</param>
    /// <param name="partners">The partner store.</param>
    /// <param name="fees">The fee ledger.</param>
    /// <param name="clock">The clock.</param>
    /// <param name="ct">Cancellation.</param>
    /// <param name="from">First day, ISO 8601 (default: the first day of the current quarter).</param>
    /// <param name="to">Last day, ISO 8601 (default: the last day of the current quarter).</param>
    private static async Task<Results<Ok<FeeStatement>, CsvResult, ValidationProblem, ProblemHttpResult>> Statement(
        Guid id, HttpRequest http, ClaimsPrincipal user, PartnerStore partners, FeeLedger fees, TimeProvider clock, CancellationToken ct,
        DateOnly? from = null, DateOnly? to = null)
    {
        if (user.Role() == ApiKeyRole.Crm) return Problems.Forbidden("Fees are for the channel team and the partner itself.");
        if (!user.CanSeePartner(id) || await partners.GetAsync(id, ct) is null) return Problems.NotFound("The partner");
        var now = clock.GetUtcNow();
        if (!Period.TryRead(from, to, now, out var period, out var errors)) return Problems.Validation(errors);

        var items = await fees.ForPartnerAsync(id, period.Start, period.End, now, ct);
        if (CsvResult.IsPreferred(http)) return StatementCsv(id, period, items);
        var totals = items.GroupBy(f => f.Currency).OrderBy(g => g.Key, StringComparer.Ordinal).Select(g => new FeeTotal(g.Key,
            g.Where(f => f.Status == FeeStatus.Accrued).Sum(f => f.Amount),
            g.Where(f => f.Status == FeeStatus.Due).Sum(f => f.Amount),
            g.Where(f => f.Status == FeeStatus.Paid).Sum(f => f.Amount))).ToList();
        return TypedResults.Ok(new FeeStatement(id, period.From, period.To, totals, items));
    }

    private static CsvResult StatementCsv(Guid partnerId, Period period, IReadOnlyList<Fee> items) => new(
        $"fees-{partnerId:D}-{period.From:yyyy-MM-dd}-{period.To:yyyy-MM-dd}.csv",
        ["id", "registrationId", "trigger", "feeModel", "basisAmount", "feePercent", "amount", "currency", "status", "accruedAt", "dueAt", "paidAt",
            "paymentReference"],
        items.Select(f => (IReadOnlyList<string?>)
        [
            f.Id.ToString("D"), f.RegistrationId.ToString("D"), Json.Name(f.Trigger), Json.Name(f.FeeModel), CsvResult.Cell(f.BasisAmount),
            CsvResult.Cell(f.FeePercent), CsvResult.Cell(f.Amount), f.Currency, Json.Name(f.Status), CsvResult.Cell(f.AccruedAt),
            CsvResult.Cell(f.DueAt), CsvResult.Cell(f.PaidAt), f.PaymentReference,
        ]));

    private static async Task<Results<Ok<Fee>, ProblemHttpResult>> MarkPaid(
        Guid id, ClaimsPrincipal user, Database database, FeeLedger fees, AuditTrail audit, IEnumerable<IFeeFollower> followers, TimeProvider clock,
        CancellationToken ct, MarkFeePaidRequest? request = null)
    {
        var now = clock.GetUtcNow();
        await using var connection = await database.OpenAsync(ct);
        await using var session = await database.BeginWriteAsync(connection, ct);
        var fee = await fees.GetAsync(session, id, now, ct);
        if (fee is null) return Problems.NotFound("The fee");
        var reference = string.IsNullOrWhiteSpace(request?.Reference) ? null : request.Reference.Trim();
        if (!await fees.MarkPaidAsync(session, id, user.KeyId(), reference, now, ct))
        {
            return Problems.InvalidTransition($"The fee was already paid on {fee.PaidAt:yyyy-MM-dd}.");
        }
        await audit.RecordAsync(session, "fee", id, "fee.paid", Actor.From(user), new { fee.Amount, fee.Currency, reference }, ct);
        var paid = (await fees.GetAsync(session, id, now, ct))!;
        foreach (var follower in followers) await follower.PaidAsync(session, paid, now, ct);
        await session.CommitAsync(ct);
        return TypedResults.Ok(paid);
    }
}
