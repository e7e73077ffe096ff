using System.Security.Claims;
using FluentValidation;
using Microsoft.AspNetCore.Http.HttpResults;
using PartnerDeals.Api.Features.Partners;
using PartnerDeals.Api.Infrastructure.Auth;
using PartnerDeals.Api.Infrastructure.Data;
using PartnerDeals.Api.Infrastructure.Http;
using static PartnerDeals.Api.Features.Registrations.RegistrationsApi;

namespace PartnerDeals.Api.Features.Registrations;

/// <summary>
/// Ops approve a registration that waits: <c>POST /v1/registrations/{id}/approve</c>. Not past an open conflict (that is
/// decided through it, <see cref="ResolveConflict"/>), never beside another holder of the account. Protection starts now for
/// the partner's protection days and the partner's terms are snapshotted.
/// </summary>
public static class ApproveRegistration
{
    public static void Map(RouteGroupBuilder registrations) =>
        registrations.MapPost("/{id:guid}/approve", Handle)
            .WithName("ApproveRegistration")
            .WithSummary("Approve a registration")
            .WithDescription("Ops and admin, from pending_review or more_info_requested. Protection starts now for the partner's protection days and "
                + "the partner's terms are snapshotted. A registration with an open conflict is decided through the conflict "
                + "(POST /v1/conflicts/{id}/resolve); one whose account another approved registration holds cannot be approved. Above "
                + "Registrations:Policy:SecondApprovalAbove two different people approve: the first answers 200 still pending_review with "
                + "approvals, the same person again 409 second-approval-required, an API key 403." + Transitions)
            .RequireAuthorization(Policies.Ops)
            .WithValidation<DecisionNoteRequest>()
            .Documented();

    private static Task<Results<Ok<Registration>, ProblemHttpResult>> Handle(
        Guid id, ClaimsPrincipal user, HttpContext http, [AsParameters] RegistrationServices s, CancellationToken ct, DecisionNoteRequest? request = null) =>
        ChangeAsync(id, user, http, s, async (session, current, partner) =>
            (await DecideAsync(session, s, current, partner, user, Blank(request?.Note), ct)).SharingNote(request?.Note, request?.VisibleToPartner ?? false), ct);

    /// <summary>The guard and the change: only a registration that waits, with no open conflict; above the value, two people.</summary>
    private static async Task<Step> DecideAsync(DbSession session, RegistrationServices s, Registration current, Partner partner, ClaimsPrincipal user,
        string? note, CancellationToken ct)
    {
        if (current.Status is not (RegistrationStatus.PendingReview or RegistrationStatus.MoreInfoRequested))
        {
            return Step.NotFrom(current, "approve", RegistrationStatus.PendingReview, RegistrationStatus.MoreInfoRequested);
        }
        if (current.ConflictId is { } conflictId)
        {
            return Step.Refuse(Problems.InvalidTransition(
                $"The registration has an open conflict; decide it with POST /v1/conflicts/{conflictId}/resolve."));
        }
        var (waiting, approved) = SecondApproval(current, user, s.Options.Value.Policy, s.Clock.GetUtcNow(), note);
        if (waiting is not null) return waiting;
        var awarded = await AwardAsync(session, s, approved, partner, coSell: false, note, ct);
        return awarded.Problem is null ? awarded with { Action = "registration.approved", Data = new { note, approvals = approved.Approvals } } : awarded;
    }

    /// <summary>
    /// Above <c>Registrations:Policy:SecondApprovalAbove</c> (an approval, or a conflict's award) two different people approve: the
    /// first is recorded and the registration keeps waiting (<c>registration.first_approval</c>); the same person again is refused,
    /// and so is any API key. Otherwise no step, and the registration with its approvals to go ahead with.
    /// </summary>
    public static (Step? Waiting, Registration Approved) SecondApproval(Registration current, ClaimsPrincipal user, RegistrationPolicy policy,
        DateTimeOffset now, string? note)
    {
        if (policy.SecondApprovalOver(current.Deal) is not { } limit) return (null, current);
        var above = $"{current.Deal.EstimatedValue} {current.Deal.Currency} is above {limit} {current.Deal.Currency}";
        if (user.PersonId() is not { } person)
        {
            return (Step.Refuse(Problems.Forbidden($"{above}: two people signed in approve it; an API key cannot.")), current);
        }
        if (current.Approvals.Any(a => a.PersonId == person))
        {
            return (Step.Refuse(Problems.SecondApprovalRequired($"{above}: you approved it already; a second, different person must approve it.")), current);
        }
        var approved = current with
        {
            Approvals = [.. current.Approvals, new Approval(person, user.FindFirstValue(Caller.DisplayClaim) ?? "", now)],
        };
        return approved.Approvals.Count < 2
            ? (Step.To(approved, "registration.first_approval", new { note, approvals = approved.Approvals }), approved)
            : (null, approved);
    }

    /// <summary>The account given to this registration (by approval, or through its conflict): refused while another holds it.</summary>
    public static async Task<Step> AwardAsync(DbSession session, RegistrationServices s, Registration current, Partner partner, bool coSell, string? note,
        CancellationToken ct)
    {
        if (await s.Decisions.HolderAsync(session, current, ct) is { } holder)
        {
            return Step.Refuse(Problems.InvalidTransition(
                $"Registration {holder.Candidate.Id} holds this account; it must close, expire or be withdrawn first."));
        }
        var approved = Approved(current, partner, s.Clock.GetUtcNow(), coSell ? "co_sell" : "approved", note) with { CoSelling = coSell };
        return Step.To(approved, "conflict.resolved");
    }

    /// <summary>The registration approved now, protected for the partner's protection days, its terms snapshotted.</summary>
    public static Registration Approved(Registration registration, Partner partner, DateTimeOffset now, string reason, string? note) =>
        registration with
        {
            Status = RegistrationStatus.Approved,
            Reason = reason,
            DecisionNote = note ?? registration.DecisionNote,
            DecidedAt = now,
            ApprovedAt = now,
            ProtectionExpiresAt = now.AddDays(partner.Terms.ProtectionDays),
            Terms = SnapshotOf(partner),
        };

    /// <summary>A partner's terms as they are now, kept with what they will be paid for.</summary>
    public static TermsSnapshot SnapshotOf(Partner partner) =>
        new(partner.Tier, partner.Terms.FeeModel, partner.Terms.FeePercent, partner.Terms.FeeAmount, partner.Terms.FeeCurrency, partner.Terms.FeeTrigger,
            partner.Terms.PaymentNetDays, partner.Terms.ProtectionDays);
}

// The note of a decision without a reason code: an approval, a request for information, an extension granted or refused.
public sealed record DecisionNoteRequest
{
    /// <summary>Internal unless <c>visibleToPartner</c>; a request for information's note is for the partner unless it says false.</summary>
    /// <example>Please add the customer's website and employee count.</example>
    public string? Note { get; init; }

    /// <summary>Show the note to the partner (default false; true for a request for information).</summary>
    /// <example>true</example>
    public bool? VisibleToPartner { get; init; }
}

public sealed class DecisionNoteRequestValidator : AbstractValidator<DecisionNoteRequest>
{
    public DecisionNoteRequestValidator() => RuleFor(x => x.Note).FreeText(2000);
}
