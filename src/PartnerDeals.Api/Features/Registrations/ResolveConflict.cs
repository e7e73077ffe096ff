using System.ComponentModel.DataAnnotations;
using System.Security.Claims;
using FluentValidation;
using Microsoft.AspNetCore.Http.HttpResults;
using PartnerDeals.Api.Features.Audit;
using PartnerDeals.Api.Features.ConflictChecks;
using PartnerDeals.Api.Infrastructure.Auth;
using PartnerDeals.Api.Infrastructure.Data;
using PartnerDeals.Api.Infrastructure.Http;
using static PartnerDeals.Api.Features.Registrations.RegistrationsApi;
using Conflict = PartnerDeals.Api.Features.Registrations.Conflict;

namespace PartnerDeals.Api.Features.Registrations;

/// <summary>
/// Ops decide a registration's open conflict: <c>POST /v1/conflicts/{id}/resolve</c>. award_partner and co_sell approve it
/// (<see cref="ApproveRegistration.AwardAsync"/>: never beside another holder); keep_direct and reject reject it
/// (<see cref="RejectRegistration.Decide"/>), and the registrations waiting behind it are decided again.
/// </summary>
public static class ResolveConflict
{
    public static void Map(RouteGroupBuilder conflicts) =>
        conflicts.MapPost("/{id:guid}/resolve", Resolve)
            .WithName("ResolveConflict")
            .WithSummary("Decide a conflict")
            .WithDescription("Ops and admin, on an open conflict. award_partner and co_sell approve the registration (refused while another approved "
                + "registration holds the account); keep_direct (only with a direct opportunity or an existing customer among the candidates) and reject reject it, and the registrations waiting behind it "
                + "are re-evaluated. The note is internal unless visibleToPartner. Above Registrations:Policy:SecondApprovalAbove an award needs "
                + "two different people, as an approval does: after the first the conflict stays open.")
            .RequireAuthorization(Policies.Ops)
            .WithValidation<ResolveConflictRequest>()
            .ProducesProblem(StatusCodes.Status404NotFound)
            .ProducesProblem(StatusCodes.Status409Conflict);

    private static async Task<Results<Ok<ConflictResolved>, ProblemHttpResult>> Resolve(
        Guid id, ResolveConflictRequest request, ClaimsPrincipal user, [AsParameters] RegistrationServices s, ConflictStore conflicts,
        AuditTrail audit, CancellationToken ct)
    {
        var (problem, decided) = await s.Writer.DecideAsync(async session =>
        {
            var conflict = await conflicts.GetAsync(session, id, ct);
            if (conflict is null) return Step.Refused(Problems.NotFound("The conflict"));
            if (conflict.Status != ConflictStatus.Open)
            {
                return Step.Refused(Problems.InvalidTransition($"The conflict is already resolved ({Json.Name(conflict.Resolution!.Value)})."));
            }
            var registration = (await s.Registrations.GetAsync(session, conflict.RegistrationId, ct))!;
            var partner = (await s.Partners.GetAsync(session, registration.PartnerId, ct))!;

            var now = s.Clock.GetUtcNow();
            var resolution = request.Resolution!.Value;
            var note = Blank(request.Note);
            // The direct team keeps only what is its own: an open opportunity, or a customer.
            var direct = (conflict.Candidates ?? []).Select(c => c.Kind).Where(k => k is CandidateKind.DirectOpportunity or CandidateKind.ExistingCustomer).ToList();
            if (resolution == ConflictResolution.KeepDirect && direct.Count == 0)
            {
                return Step.Refused(Problems.InvalidTransition(
                    "keep_direct needs a direct opportunity or an existing customer among the conflict's candidates; this conflict has neither: use reject."));
            }
            var awards = resolution is ConflictResolution.AwardPartner or ConflictResolution.CoSell;
            var toAward = registration;
            if (awards && ApproveRegistration.SecondApproval(registration, user, s.Options.Value.Policy, now, note) is var (waiting, approved))
            {
                if (waiting?.Problem is { } refused) return Step.Refused(refused);
                if (waiting is not null)
                {
                    // The first of two approvals: recorded on the registration; the conflict stays open for the second person.
                    var first = await s.Decisions.ApplyAsync(session, registration, waiting.Changed!, Actor.From(user), "conflict.first_approval",
                        new { conflictId = id, resolution, note, approvals = waiting.Changed!.Approvals }, ct);
                    return first is null ? Step.Refused(Problems.PreconditionFailed()) : Step.Written(first);
                }
                toAward = approved;
            }
            var step = awards
                ? await ApproveRegistration.AwardAsync(session, s, toAward, partner, coSell: resolution == ConflictResolution.CoSell, note, ct)
                : RejectRegistration.Decide(registration, request.RejectionReason ?? (resolution == ConflictResolution.KeepDirect
                    ? direct.Contains(CandidateKind.DirectOpportunity) ? RejectionReason.DirectConflict : RejectionReason.ExistingCustomer
                    : ReasonFor(conflict.Kind)), note, now);
            if (step.Problem is not null) return Step.Refused(step.Problem);
            step = step.SharingNote(note, request.VisibleToPartner ?? false);
            var changed = step.Changed!;

            await conflicts.ResolveAsync(session, id, resolution, note, Actor.From(user), now, ct);
            await audit.RecordAsync(session, "conflict", id, "conflict.resolved", Actor.From(user), new { resolution, note, registrationStatus = changed.Status }, ct);
            var transitioned = await s.Decisions.ApplyAsync(session, registration, changed with { ConflictId = null }, Actor.From(user), "conflict.resolved",
                new { conflictId = id, resolution, note }, ct);
            return transitioned is null
                ? Step.Refused(Problems.PreconditionFailed())
                : Step.Written(transitioned);
        }, ct);

        if (problem is not null) return problem;
        return TypedResults.Ok(new ConflictResolved((await conflicts.GetAsync(id, ct))!, decided!));
    }

    private static RejectionReason ReasonFor(CandidateKind kind) => kind switch
    {
        CandidateKind.DuplicateRegistration => RejectionReason.Duplicate,
        CandidateKind.DirectOpportunity => RejectionReason.DirectConflict,
        CandidateKind.ExistingCustomer => RejectionReason.ExistingCustomer,
        _ => RejectionReason.Other,
    };
}

public sealed record ResolveConflictRequest
{
    /// <summary>award_partner (approve), keep_direct (reject: the direct team keeps it), co_sell (approve as co-sell) or reject.</summary>
    /// <example>reject</example>
    [Required]
    public ConflictResolution? Resolution { get; init; }

    /// <summary>For <c>reject</c>: the reason code; by default derived from the strongest match.</summary>
    public RejectionReason? RejectionReason { get; init; }

    /// <summary>The decision's note: internal unless <c>visibleToPartner</c>.</summary>
    /// <example>This account is not open for registration this quarter.</example>
    public string? Note { get; init; }

    /// <summary>Show the note to the partner (default false: the vendor's alone).</summary>
    /// <example>true</example>
    public bool? VisibleToPartner { get; init; }
}

public sealed class ResolveConflictRequestValidator : AbstractValidator<ResolveConflictRequest>
{
    public ResolveConflictRequestValidator()
    {
        RuleFor(x => x.Resolution).NotNull()
            .Must(r => r is null or ConflictResolution.AwardPartner or ConflictResolution.KeepDirect or ConflictResolution.CoSell or ConflictResolution.Reject)
            .WithMessage("resolution must be one of: award_partner, keep_direct, co_sell, reject.");
        RuleFor(x => x.RejectionReason).Null().When(x => x.Resolution != ConflictResolution.Reject)
            .WithMessage("rejectionReason applies only to reject.");
        RuleFor(x => x.Note).FreeText(2000);
    }
}

/// <summary>The resolved conflict and the registration as the resolution left it.</summary>
public sealed record ConflictResolved(Conflict Conflict, Registration Registration);
