using Microsoft.AspNetCore.Http.HttpResults;
using PartnerDeals.Api.Features.Partners;
using PartnerDeals.Api.Infrastructure.Data;
using PartnerDeals.Api.Infrastructure.Http;

namespace PartnerDeals.Api.Features.Registrations;

/// <summary>
/// The lifecycle: every status change a person or a CRM asks for, with its guard, in one place. Each answers the
/// changed registration with its action, or why it is refused; <see cref="TransitionAsync"/> then writes it.
/// </summary>
public sealed partial class RegistrationDecisions
{
    /// <summary>An edit is allowed only while a person has not decided yet.</summary>
    public static Step? EditRefusal(Registration current) =>
        current.Status is RegistrationStatus.PendingReview or RegistrationStatus.MoreInfoRequested
            ? null
            : Step.Refuse(Problems.InvalidTransition(
                $"A registration can be edited only while pending_review or more_info_requested; this one is {Json.Name(current.Status)}."));

    /// <summary>Ops approve a registration that waits: not past an open conflict (that is decided through it), never beside a holder.</summary>
    public async Task<Step> ApproveAsync(DbSession session, Registration current, Partner partner, string? note, CancellationToken ct)
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
        var awarded = await AwardAsync(session, current, partner, coSell: false, note, ct);
        return awarded.Problem is null ? awarded with { Action = "registration.approved", Data = new { note } } : awarded;
    }

    /// <summary>The account given to this registration (through its conflict, or by approval): refused while another holds it.</summary>
    public async Task<Step> AwardAsync(DbSession session, Registration current, Partner partner, bool coSell, string? note, CancellationToken ct)
    {
        if (await HolderAsync(session, current, ct) is { } holder)
        {
            return Step.Refuse(Problems.InvalidTransition(
                $"Registration {holder.Candidate.Id} holds this account; it must close, expire or be withdrawn first."));
        }
        var approved = Approve(current, partner, clock.GetUtcNow(), coSell ? "co_sell" : "approved", note) with { CoSelling = coSell };
        return Step.To(approved, "conflict.resolved");
    }

    /// <summary>Ops reject a registration that waits, for a reason code.</summary>
    public Step Reject(Registration current, RejectionReason reason, string? note) =>
        current.Status is not (RegistrationStatus.PendingReview or RegistrationStatus.MoreInfoRequested)
            ? Step.NotFrom(current, "reject", RegistrationStatus.PendingReview, RegistrationStatus.MoreInfoRequested)
            : Step.To(Reject(current, reason, note, clock.GetUtcNow()), "registration.rejected", new { reason, note });

    /// <summary>Ops return a waiting registration to the partner; its next edit resubmits it.</summary>
    public static Step RequestInfo(Registration current, string? note) =>
        current.Status != RegistrationStatus.PendingReview
            ? Step.NotFrom(current, "request-info", RegistrationStatus.PendingReview)
            : Step.To(current with { Status = RegistrationStatus.MoreInfoRequested, Reason = "more_information_requested", DecisionNote = note },
                "registration.more_info_requested", new { note });

    /// <summary>The partner (or ops) withdraws a claim.</summary>
    public static Step Withdraw(Registration current) =>
        !IsClaim(current.Status)
            ? Step.NotFrom(current, "withdraw", RegistrationStatus.PendingReview, RegistrationStatus.MoreInfoRequested, RegistrationStatus.Approved)
            : Step.To(current with { Status = RegistrationStatus.Withdrawn, Reason = "withdrawn" }, "registration.withdrawn");

    /// <summary>
    /// The deal of an approved registration was won or lost, after it was registered and not later than now (a day's grace
    /// for an instant). A day is read as that UTC day: the submission's day up to today; it is recorded as its start, or as
    /// the submission on the submission's day.
    /// </summary>
    public Step RecordOutcome(Registration current, OutcomeRequest request)
    {
        if (current.Status != RegistrationStatus.Approved) return Step.NotFrom(current, "outcome", RegistrationStatus.Approved);
        var now = clock.GetUtcNow();
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

    /// <summary>An approved registration past its protection expires; null when it is not (extended, or already decided).</summary>
    public static Step? Expire(Registration? current, DateTimeOffset now) =>
        current is not { Status: RegistrationStatus.Approved } || current.ProtectionExpiresAt > now
            ? null
            : Step.To(current with { Status = RegistrationStatus.Expired, Reason = "protection_expired" }, "registration.expired",
                new { protectionExpiresAt = current.ProtectionExpiresAt });

    /// <summary>The registration approved now, protected for the partner's protection days, its terms snapshotted.</summary>
    public static Registration Approve(Registration registration, Partner partner, DateTimeOffset now, string reason, string? note) =>
        registration with
        {
            Status = RegistrationStatus.Approved,
            Reason = reason,
            DecisionNote = note ?? registration.DecisionNote,
            DecidedAt = now,
            ApprovedAt = now,
            ProtectionExpiresAt = now.AddDays(partner.Terms.ProtectionDays),
            Terms = new TermsSnapshot(partner.Tier, partner.Terms.FeeModel, partner.Terms.FeePercent, partner.Terms.FeeAmount,
                partner.Terms.FeeCurrency, partner.Terms.FeeTrigger, partner.Terms.PaymentNetDays, partner.Terms.ProtectionDays),
        };

    /// <summary>The registration rejected now for <paramref name="reason"/>; the partner reads the partner-safe reason.</summary>
    public static Registration Reject(Registration registration, RejectionReason reason, string? note, DateTimeOffset now) =>
        registration with
        {
            Status = RegistrationStatus.Rejected,
            Reason = RejectedReason(reason),
            RejectionReason = reason,
            DecisionNote = note,
            DecidedAt = now,
        };
}

/// <summary>What an action decided: the changed registration with the action's name and data, or the problem that refuses it.</summary>
public sealed record Step(Registration? Changed, string? Action, object? Data, ProblemHttpResult? Problem)
{
    public static Step To(Registration changed, string action, object? data = null) => new(changed, action, data, null);

    public static Step Refuse(ProblemHttpResult problem) => new(null, null, null, problem);

    /// <summary>The change with its new decision note shown to the partner, or kept internal.</summary>
    public Step SharingNote(bool visibleToPartner) =>
        Changed is null ? this : this with { Changed = Changed with { DecisionNoteVisibleToPartner = visibleToPartner } };

    public static Step NotFrom(Registration current, string action, params RegistrationStatus[] allowed) => Refuse(Problems.InvalidTransition(
        $"{action} is allowed only from {string.Join(" or ", allowed.Select(a => Json.Name(a)))}; this registration is {Json.Name(current.Status)}."));
}
