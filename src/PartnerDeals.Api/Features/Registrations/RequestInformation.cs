using System.Security.Claims;
using Microsoft.AspNetCore.Http.HttpResults;
using PartnerDeals.Api.Infrastructure.Auth;
using PartnerDeals.Api.Infrastructure.Http;
using static PartnerDeals.Api.Features.Registrations.RegistrationsApi;

namespace PartnerDeals.Api.Features.Registrations;

/// <summary>
/// Ops return a waiting registration to the partner: <c>POST /v1/registrations/{id}/request-info</c>. Its note is for the
/// partner unless ops say otherwise; the partner's next edit resubmits it (<see cref="EditRegistration"/>).
/// </summary>
public static class RequestInformation
{
    public static void Map(RouteGroupBuilder registrations) =>
        registrations.MapPost("/{id:guid}/request-info", Handle)
            .WithName("RequestRegistrationInfo")
            .WithSummary("Ask the partner for more information")
            .WithDescription("Ops and admin, from pending_review; moves to more_info_requested. The partner's next edit resubmits it." + Transitions)
            .RequireAuthorization(Policies.Ops)
            .WithValidation<DecisionNoteRequest>()
            .Documented();

    private static Task<Results<Ok<Registration>, ProblemHttpResult>> Handle(
        Guid id, ClaimsPrincipal user, HttpContext http, [AsParameters] RegistrationServices s, CancellationToken ct, DecisionNoteRequest? request = null) =>
        ChangeAsync(id, user, http, s, (_, current, _) => Task.FromResult(
            Decide(current, Blank(request?.Note)).SharingNote(request?.Note, request?.VisibleToPartner ?? true)), ct);

    /// <summary>The guard and the change: only from pending_review.</summary>
    private static Step Decide(Registration current, string? note) =>
        current.Status != RegistrationStatus.PendingReview
            ? Step.NotFrom(current, "request-info", RegistrationStatus.PendingReview)
            : Step.To(current with { Status = RegistrationStatus.MoreInfoRequested, Reason = "more_information_requested", DecisionNote = note },
                "registration.more_info_requested", new { note });
}
