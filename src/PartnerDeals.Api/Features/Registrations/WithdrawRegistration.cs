using System.Security.Claims;
using Microsoft.AspNetCore.Http.HttpResults;
using PartnerDeals.Api.Infrastructure.Auth;
using static PartnerDeals.Api.Features.Registrations.RegistrationsApi;

namespace PartnerDeals.Api.Features.Registrations;

/// <summary>
/// The partner (or ops) withdraws a claim: <c>POST /v1/registrations/{id}/withdraw</c>. An approved one releases the account,
/// and the registrations waiting behind it are decided again in order.
/// </summary>
public static class WithdrawRegistration
{
    public static void Map(RouteGroupBuilder registrations) =>
        registrations.MapPost("/{id:guid}/withdraw", Handle)
            .WithName("WithdrawRegistration")
            .WithSummary("Withdraw a registration")
            .WithDescription("The partner (or ops, admin), from pending_review, more_info_requested or approved. An approved one releases the "
                + "account: registrations waiting behind it are re-evaluated in order." + Transitions)
            .RequireAuthorization(Policies.Registrant)
            .Documented();

    private static Task<Results<Ok<Registration>, ProblemHttpResult>> Handle(
        Guid id, ClaimsPrincipal user, HttpContext http, [AsParameters] RegistrationServices s, CancellationToken ct) =>
        ChangeAsync(id, user, http, s, (_, current, _) => Task.FromResult(Decide(current)), ct);

    /// <summary>The guard and the change: only a claim can be withdrawn.</summary>
    private static Step Decide(Registration current) =>
        !Claims.IsClaim(current.Status)
            ? Step.NotFrom(current, "withdraw", RegistrationStatus.PendingReview, RegistrationStatus.MoreInfoRequested, RegistrationStatus.Approved)
            : Step.To(current with { Status = RegistrationStatus.Withdrawn, Reason = "withdrawn" }, "registration.withdrawn");
}
