using System.ComponentModel.DataAnnotations;
using System.Security.Claims;
using FluentValidation;
using Microsoft.AspNetCore.Http.HttpResults;
using PartnerDeals.Api.Infrastructure.Auth;
using PartnerDeals.Api.Infrastructure.Http;
using static PartnerDeals.Api.Features.Registrations.RegistrationsApi;

namespace PartnerDeals.Api.Features.Registrations;

/// <summary>
/// The deal of an approved registration was won or lost: <c>POST /v1/registrations/{id}/outcome</c>, from the CRM or ops. A win
/// earns the partner its fee by the terms snapshotted at approval and makes the account an existing customer; either way the
/// account is released and the registrations waiting behind it are decided again.
/// </summary>
public static class RecordOutcome
{
    public static void Map(RouteGroupBuilder registrations) =>
        registrations.MapPost("/{id:guid}/outcome", Handle)
            .WithName("RecordRegistrationOutcome")
            .WithSummary("Record that the deal was won or lost")
            .WithDescription("crm, ops and admin, on an approved registration. Won needs amount and currency, lost a lostReason; closedAt (default now) "
                + "is a day (read in UTC: from the submission's day to today) or an instant between the submission and now; a win may name the products "
                + "it sold, and under the product-line scope the fee follows their lines. A won "
                + "registration makes the account an existing customer; either way waiting registrations are re-evaluated." + Transitions)
            .RequireAuthorization(Policies.Vendor)
            .WithValidation<OutcomeRequest>()
            .Documented();

    private static Task<Results<Ok<Registration>, ProblemHttpResult>> Handle(
        Guid id, OutcomeRequest request, ClaimsPrincipal user, HttpContext http, [AsParameters] RegistrationServices s, CancellationToken ct) =>
        ChangeAsync(id, user, http, s, (_, current, _) => Task.FromResult(Decide(current, request, s.Clock.GetUtcNow())), ct);

    /// <summary>
    /// The deal of an approved registration was won or lost, after it was registered and not later than now (a day's grace
    /// for an instant). A day is read as that UTC day: the submission's day up to today; it is recorded as its start, or as
    /// the submission on the submission's day.
    /// </summary>
    private static Step Decide(Registration current, OutcomeRequest request, DateTimeOffset now)
    {
        if (current.Status != RegistrationStatus.Approved) return Step.NotFrom(current, "outcome", RegistrationStatus.Approved);
        CrmDates.TryDayOrInstant(request.ClosedAt, out var day, out var instant);
        DateTimeOffset closed;
        if (day is { } closedDay)
        {
            var submittedDay = DateOnly.FromDateTime(current.SubmittedAt.UtcDateTime);
            if (closedDay < submittedDay || closedDay > DateOnly.FromDateTime(now.UtcDateTime))
            {
                return Step.Refuse(Problems.InvalidField("closedAt", $"closedAt must be a day from the submission's ({submittedDay:yyyy-MM-dd}, UTC) to today."));
            }
            var start = new DateTimeOffset(closedDay.ToDateTime(TimeOnly.MinValue), TimeSpan.Zero);
            closed = start < current.SubmittedAt ? current.SubmittedAt : start;
        }
        else
        {
            closed = (instant ?? now).ToUniversalTime();
            if (closed < current.SubmittedAt || closed > now.AddDays(1))
            {
                return Step.Refuse(Problems.InvalidField("closedAt", $"closedAt must be between the submission ({current.SubmittedAt:O}) and now."));
            }
        }
        var won = request.Result == OutcomeResult.Won;
        var outcome = new Outcome(request.Result!.Value, won ? Amounts.Normalised(request.Amount) : null, won ? request.Currency!.Trim().ToUpperInvariant() : null,
            closed, won ? null : request.LostReason!.Trim())
        {
            Products = won ? (request.Products ?? []).Select(p => p.Trim()).Distinct().ToList() : [],
        };
        return Step.To(current with
        {
            Status = won ? RegistrationStatus.Won : RegistrationStatus.Lost,
            Reason = won ? "closed_won" : "closed_lost",
            Outcome = outcome,
        }, won ? "registration.won" : "registration.lost", new { outcome });
    }
}

public sealed record OutcomeRequest
{
    /// <example>won</example>
    [Required]
    public OutcomeResult? Result { get; init; }

    /// <summary>Closed-won amount; required when won.</summary>
    /// <example>118000</example>
    public decimal? Amount { get; init; }

    /// <summary>ISO 4217; required when won.</summary>
    /// <example>EUR</example>
    public string? Currency { get; init; }

    /// <summary>
    /// When the deal closed (default now): a day (<c>2026-12-05</c>, read as that UTC day: from the submission's day to today) or an
    /// ISO 8601 instant with any offset (<c>2026-12-05T12:00:00.000+0000</c> too), from the submission to now.
    /// </summary>
    public string? ClosedAt { get; init; }

    /// <summary>
    /// The products the won deal sold (up to 50). Under the product-line scope the fee follows them: a win that sold none of the
    /// registration's lines earns no fee.
    /// </summary>
    /// <example>["Analytics Suite"]</example>
    public IReadOnlyList<string>? Products { get; init; }

    /// <summary>Required when lost (<c>Budget frozen</c>, say); refused when won.</summary>
    public string? LostReason { get; init; }
}

public sealed class OutcomeRequestValidator : AbstractValidator<OutcomeRequest>
{
    public OutcomeRequestValidator()
    {
        RuleFor(x => x.Result).NotNull();
        When(x => x.Result == OutcomeResult.Won, () =>
        {
            RuleFor(x => x.Amount).NotNull().WithMessage("amount is required when won.");
            RuleFor(x => x.Currency).NotEmpty().WithMessage("currency is required when won.");
            RuleFor(x => x.LostReason).Null().WithMessage("lostReason applies only when lost.");
        });
        When(x => x.Result == OutcomeResult.Lost, () =>
        {
            RuleFor(x => x.LostReason).NotEmpty().WithMessage("lostReason is required when lost.");
            RuleFor(x => x.Amount).Null().WithMessage("amount applies only when won.");
        });
        RuleFor(x => x.Amount).GreaterThanOrEqualTo(0).LessThan(1_000_000_000_000_000m).PrecisionScale(19, 4, true);
        RuleFor(x => x.Currency).Must(c => c is null || IsoCodes.IsCurrency(c)).WithMessage("currency must be an ISO 4217 code such as EUR.");
        RuleFor(x => x.LostReason).FreeText(500);
        RuleFor(x => x.ClosedAt).Must(c => c is null || (CrmDates.TryDayOrInstant(c, out var day, out var at)
                && (day ?? DateOnly.FromDateTime(at!.Value.UtcDateTime)).Year is >= 2000 and <= 2999))
            .WithMessage("closedAt must be a day (2026-12-05) or an ISO 8601 instant (2026-12-05T12:00:00Z, +01:00 or +0000).");
        RuleFor(x => x.Products).Null().When(x => x.Result != OutcomeResult.Won).WithMessage("products apply only when won.");
        RuleFor(x => x.Products).Must(p => p is null || p.Count <= RegistrationRules.MaxProducts)
            .WithMessage($"products may list at most {RegistrationRules.MaxProducts} products.");
        RuleForEach(x => x.Products).NotEmpty().Line(200);
    }
}
