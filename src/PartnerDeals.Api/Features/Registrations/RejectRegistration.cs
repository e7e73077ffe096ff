using System.ComponentModel.DataAnnotations;
using System.Security.Claims;
using FluentValidation;
using Microsoft.AspNetCore.Http.HttpResults;
using PartnerDeals.Api.Infrastructure.Auth;
using PartnerDeals.Api.Infrastructure.Http;
using static PartnerDeals.Api.Features.Registrations.RegistrationsApi;

namespace PartnerDeals.Api.Features.Registrations;

/// <summary>
/// Ops reject a registration that waits, for a reason code: <c>POST /v1/registrations/{id}/reject</c>. The partner reads a
/// partner-safe reason, never whose claim or pipeline won; the registrations waiting behind it are decided again.
/// </summary>
public static class RejectRegistration
{
    public static void Map(RouteGroupBuilder registrations) =>
        registrations.MapPost("/{id:guid}/reject", Handle)
            .WithName("RejectRegistration")
            .WithSummary("Reject a registration")
            .WithDescription("Ops and admin, from pending_review or more_info_requested, with a reason code (duplicate, direct_conflict, "
                + "existing_customer, not_icp, incomplete, other) and a note. Registrations waiting behind it are re-evaluated." + Transitions)
            .RequireAuthorization(Policies.Ops)
            .WithValidation<RejectRequest>()
            .Documented();

    private static Task<Results<Ok<Registration>, ProblemHttpResult>> Handle(
        Guid id, RejectRequest request, ClaimsPrincipal user, HttpContext http, [AsParameters] RegistrationServices s, CancellationToken ct) =>
        ChangeAsync(id, user, http, s, (_, current, _) => Task.FromResult(
            Decide(current, request.Reason!.Value, Blank(request.Note), s.Clock.GetUtcNow()).SharingNote(request.Note, request.VisibleToPartner ?? false)), ct);

    /// <summary>The guard and the change: only a registration that waits.</summary>
    public static Step Decide(Registration current, RejectionReason reason, string? note, DateTimeOffset now) =>
        current.Status is not (RegistrationStatus.PendingReview or RegistrationStatus.MoreInfoRequested)
            ? Step.NotFrom(current, "reject", RegistrationStatus.PendingReview, RegistrationStatus.MoreInfoRequested)
            : Step.To(current with
            {
                Status = RegistrationStatus.Rejected,
                Reason = ShownReason(reason),
                RejectionReason = reason,
                DecisionNote = note,
                DecidedAt = now,
            }, "registration.rejected", new { reason, note });

    /// <summary>What a partner may read about a rejection: never whose claim it lost to.</summary>
    public static string ShownReason(RejectionReason reason) => reason switch
    {
        RejectionReason.Duplicate => "rejected_duplicate",
        RejectionReason.DirectConflict or RejectionReason.ExistingCustomer => "rejected_account_unavailable",
        RejectionReason.NotIcp => "rejected_not_icp",
        RejectionReason.Incomplete => "rejected_incomplete",
        _ => "rejected_other",
    };
}

public sealed record RejectRequest
{
    /// <example>direct_conflict</example>
    [Required]
    public RejectionReason? Reason { get; init; }

    /// <summary>Internal unless <c>visibleToPartner</c>.</summary>
    /// <example>This account is not open for registration this quarter.</example>
    public string? Note { get; init; }

    /// <summary>Show the note to the partner (default false: the vendor's alone).</summary>
    /// <example>true</example>
    public bool? VisibleToPartner { get; init; }
}

public sealed class RejectRequestValidator : AbstractValidator<RejectRequest>
{
    public RejectRequestValidator()
    {
        RuleFor(x => x.Reason).NotNull();
        RuleFor(x => x.Note).FreeText(2000);
    }
}
