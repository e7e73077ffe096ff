using System.Security.Claims;
using Microsoft.AspNetCore.Http.HttpResults;
using PartnerDeals.Api.Infrastructure.Auth;
using PartnerDeals.Api.Infrastructure.Http;
using static PartnerDeals.Api.Features.Registrations.RegistrationsApi;

namespace PartnerDeals.Api.Features.Registrations;

/// <summary>The channel team's decisions and the partner's withdrawal, each a transition of the lifecycle.</summary>
public static class RegistrationDecisionsApi
{
    private const string Transitions = " Illegal from the current status: 409. If-Match is optional; a stale one answers 412.";

    public static void MapRegistrationDecisions(this RouteGroupBuilder registrations)
    {
        registrations.MapPost("/{id:guid}/approve", Approve)
            .WithName("ApproveRegistration")
            .WithSummary("Approve a registration")
            .WithDescription("Ops and admin, from pending_review or more_info_requested. Protection starts now for the partner's protection days and "
                + "the partner's terms are snapshotted. A registration with an open conflict is decided through the conflict "
                + "(POST /v1/conflicts/{id}/resolve); one whose account another approved registration holds cannot be approved." + Transitions)
            .RequireAuthorization(Policies.Ops)
            .WithValidation<DecisionNoteRequest>()
            .Documented();

        registrations.MapPost("/{id:guid}/reject", Reject)
            .WithName("RejectRegistration")
            .WithSummary("Reject a registration")
            .WithDescription("Ops and admin, from pending_review or more_info_requested, with a reason code (duplicate, direct_conflict, "
                + "existing_customer, not_icp, incomplete, other) and a note. Registrations waiting behind it are re-evaluated." + Transitions)
            .RequireAuthorization(Policies.Ops)
            .WithValidation<RejectRequest>()
            .Documented();

        registrations.MapPost("/{id:guid}/request-info", RequestInfo)
            .WithName("RequestRegistrationInfo")
            .WithSummary("Ask the partner for more information")
            .WithDescription("Ops and admin, from pending_review; moves to more_info_requested. The partner's next edit resubmits it." + Transitions)
            .RequireAuthorization(Policies.Ops)
            .WithValidation<DecisionNoteRequest>()
            .Documented();

        registrations.MapPost("/{id:guid}/withdraw", Withdraw)
            .WithName("WithdrawRegistration")
            .WithSummary("Withdraw a registration")
            .WithDescription("The partner (or ops, admin), from pending_review, more_info_requested or approved. An approved one releases the "
                + "account: registrations waiting behind it are re-evaluated in order." + Transitions)
            .RequireAuthorization(Policies.Registrant)
            .Documented();

        registrations.MapPost("/{id:guid}/outcome", RecordOutcome)
            .WithName("RecordRegistrationOutcome")
            .WithSummary("Record that the deal was won or lost")
            .WithDescription("crm, ops and admin, on an approved registration. Won needs amount and currency, lost a lostReason; closedAt (default now) "
                + "is a day (read in UTC: from the submission's day to today) or an instant between the submission and now; a win may name the products "
                + "it sold, and under the product-line scope the fee follows their lines. A won "
                + "registration makes the account an existing customer; either way waiting registrations are re-evaluated." + Transitions)
            .RequireAuthorization(Policies.Vendor)
            .WithValidation<OutcomeRequest>()
            .Documented();
    }

    /// <summary>The responses every transition may answer.</summary>
    internal static RouteHandlerBuilder Documented(this RouteHandlerBuilder builder) =>
        builder.WithETag()
            .ProducesProblem(StatusCodes.Status404NotFound)
            .ProducesProblem(StatusCodes.Status409Conflict)
            .ProducesProblem(StatusCodes.Status412PreconditionFailed);

    // Each action is a rule of RegistrationDecisions, run on the registration in the decision writer.

    private static Task<Results<Ok<Registration>, ProblemHttpResult>> Approve(
        Guid id, ClaimsPrincipal user, HttpContext http, [AsParameters] RegistrationServices s, CancellationToken ct, DecisionNoteRequest? request = null) =>
        ChangeAsync(id, user, http, s, async (session, current, partner) =>
            Shared(await s.Decisions.ApproveAsync(session, current, partner, Blank(request?.Note), ct), request?.Note, request?.VisibleToPartner ?? false), ct);

    private static Task<Results<Ok<Registration>, ProblemHttpResult>> Reject(
        Guid id, RejectRequest request, ClaimsPrincipal user, HttpContext http, [AsParameters] RegistrationServices s, CancellationToken ct) =>
        ChangeAsync(id, user, http, s, (_, current, _) => Task.FromResult(
            Shared(s.Decisions.Reject(current, request.Reason!.Value, Blank(request.Note)), request.Note, request.VisibleToPartner ?? false)), ct);

    private static Task<Results<Ok<Registration>, ProblemHttpResult>> RequestInfo(
        Guid id, ClaimsPrincipal user, HttpContext http, [AsParameters] RegistrationServices s, CancellationToken ct, DecisionNoteRequest? request = null) =>
        ChangeAsync(id, user, http, s, (_, current, _) => Task.FromResult(
            Shared(RegistrationDecisions.RequestInfo(current, Blank(request?.Note)), request?.Note, request?.VisibleToPartner ?? true)), ct);

    private static Task<Results<Ok<Registration>, ProblemHttpResult>> Withdraw(
        Guid id, ClaimsPrincipal user, HttpContext http, [AsParameters] RegistrationServices s, CancellationToken ct) =>
        ChangeAsync(id, user, http, s, (_, current, _) => Task.FromResult(RegistrationDecisions.Withdraw(current)), ct);

    private static Task<Results<Ok<Registration>, ProblemHttpResult>> RecordOutcome(
        Guid id, OutcomeRequest request, ClaimsPrincipal user, HttpContext http, [AsParameters] RegistrationServices s, CancellationToken ct) =>
        ChangeAsync(id, user, http, s, (_, current, _) => Task.FromResult(
            s.Decisions.RecordOutcome(current, request)), ct);

    /// <summary>A decision's new note is the vendor's alone unless ops show it to the partner.</summary>
    private static Step Shared(Step step, string? note, bool visibleToPartner) => Blank(note) is null ? step : step.SharingNote(visibleToPartner);
}
