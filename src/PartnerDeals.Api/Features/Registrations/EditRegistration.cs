using System.Security.Claims;
using FluentValidation;
using Microsoft.AspNetCore.Http.HttpResults;
using PartnerDeals.Api.Features.Audit;
using PartnerDeals.Api.Features.ConflictChecks;
using PartnerDeals.Api.Infrastructure.Auth;
using PartnerDeals.Api.Infrastructure.Data;
using PartnerDeals.Api.Infrastructure.Http;
using static PartnerDeals.Api.Features.Registrations.RegistrationsApi;

namespace PartnerDeals.Api.Features.Registrations;

/// <summary>
/// The partner (or ops) edits a registration a person has not decided yet: <c>PATCH /v1/registrations/{id}</c>, a JSON merge
/// patch with If-Match. The edit is submitted again (<see cref="RegistrationDecisions.SubmitAsync"/>): checked and decided by
/// the policy; one that names another company asks the check again and draws on the partner's check quota.
/// </summary>
public static class EditRegistration
{
    public static void Map(RouteGroupBuilder registrations) =>
        registrations.MapPatch("/{id:guid}", Update)
            .WithName("UpdateRegistration")
            .WithSummary("Edit a registration under review")
            .WithDescription("The partner (or ops, admin), only while pending_review or more_info_requested; send only what changes, with If-Match. "
                + "The edit re-runs the conflict check and the policy; an edit of a more_info_requested registration resubmits it.")
            .RequireAuthorization(Policies.Registrant)
            .WithValidation<UpdateRegistrationRequest>()
            .Accepts<UpdateRegistrationRequest>("application/json", "application/merge-patch+json")
            .WithETag(requiresIfMatch: true)
            .ProducesProblem(StatusCodes.Status404NotFound)
            .ProducesProblem(StatusCodes.Status409Conflict);

    /// <summary>An edit is allowed only while a person has not decided yet.</summary>
    private static ProblemHttpResult? Refusal(Registration current) =>
        current.Status is RegistrationStatus.PendingReview or RegistrationStatus.MoreInfoRequested
            ? null
            : Problems.InvalidTransition(
                $"A registration can be edited only while pending_review or more_info_requested; this one is {Json.Name(current.Status)}.");

    private static async Task<Results<Ok<Registration>, ValidationProblem, ProblemHttpResult>> Update(
        Guid id, UpdateRegistrationRequest request, HttpRequest http, ClaimsPrincipal user, [AsParameters] RegistrationServices s, CancellationToken ct)
    {
        var ifMatch = ETags.ReadIfMatch(http, out var expected);
        if (ifMatch == ETags.Match.Missing) return Problems.PreconditionRequired();

        QuotaAnswer? quota = null;
        Registration? refusedFrom = null;
        var (problem, decided) = await s.Writer.DecideAsync(async session =>
        {
            var current = await s.Registrations.GetAsync(session, id, ct);
            if (!Reachable(current, user, ifMatch, expected, out var unreachable)) return Step.Refused(unreachable);
            if (Refusal(current) is { } refusal) return Step.Refused(refusal);
            refusedFrom = current;

            var edited = Merge(current, request);
            if (!RegistrationRules.WithinWords(edited.Customer.CompanyName, edited.Customer.AlternateNames, edited.Deal.Products))
            {
                return Step.Refused(Problems.InvalidField("customer", RegistrationRules.TooManyWordsMessage));
            }
            if (current.Status == RegistrationStatus.PendingReview && Same(current, edited)) return Step.Unchanged(current);
            var partner = (await s.Partners.GetAsync(session, current.PartnerId, ct))!;
            // A partner's edit that names another company asks the check again: it draws on the partner's one check quota.
            var asks = user.IsPartner() && RegistrationDecisions.NamesAnotherCompany(current, edited);
            if (asks)
            {
                quota = await s.Checks.QuotaAsync(session, partner.Id, partner.CheckQuota, ct);
                if (!quota.Allowed) return Step.Refused(PartnerPreChecks.Refused(quota, http.HttpContext.Response));
            }
            var action = current.Status == RegistrationStatus.MoreInfoRequested ? "registration.resubmitted" : "registration.updated";
            var submitted = await s.Decisions.SubmitAsync(session, current, edited, partner, Actor.From(user), action, ct);
            if (submitted is null) return Step.Refused(Problems.PreconditionFailed());
            if (asks) await s.Checks.LogAsync(session, partner.Id, user.CallerId(), Asked(PartnerPreChecks.Edit, submitted), quota!, submitted.Verdict, submitted.Id, ct);
            return Step.Written(submitted);
        }, ct);

        if (quota is { Allowed: false })
        {
            await s.Checks.LogRefusalAsync(user.PartnerId()!.Value, user.CallerId(), Asked(PartnerPreChecks.Edit, Merge(refusedFrom!, request)), quota, ct);
        }
        if (problem is not null) return problem;
        http.HttpContext.Response.Headers.ETag = ETagFor(decided!, user);
        return TypedResults.Ok(View(decided!, user));
    }

    /// <summary>The edit applied: what it sent replaces, what it sent as null is removed, what it left out stays.</summary>
    private static Registration Merge(Registration current, UpdateRegistrationRequest r) => current with
    {
        Customer = r.Customer is not { } c ? current.Customer : new Customer(
            c.CompanyName?.Trim() ?? current.Customer.CompanyName,
            Optional(c, nameof(c.Domain), c.Domain, current.Customer.Domain),
            c.Country?.Trim().ToUpperInvariant() ?? current.Customer.Country,
            Optional(c, nameof(c.Industry), c.Industry, current.Customer.Industry),
            c.EmployeeCount ?? (c.SentAsNull(nameof(c.EmployeeCount)) ? null : current.Customer.EmployeeCount))
        {
            AlternateNames = c.AlternateNames is not null ? Alternates(c.AlternateNames)
                : c.SentAsNull(nameof(c.AlternateNames)) ? [] : current.Customer.AlternateNames,
        },
        Contact = r.Contact is not { } k ? current.Contact : new Contact(
            k.Name?.Trim() ?? current.Contact.Name, k.Email?.Trim() ?? current.Contact.Email, Optional(k, nameof(k.Title), k.Title, current.Contact.Title)),
        Deal = r.Deal is not { } d ? current.Deal : new Deal(
            d.Name?.Trim() ?? current.Deal.Name,
            d.Products?.Select(p => p.Trim()).ToList() ?? (d.SentAsNull(nameof(d.Products)) ? [] : current.Deal.Products),
            Amounts.Normalised(d.EstimatedValue) ?? current.Deal.EstimatedValue,
            d.Currency?.Trim().ToUpperInvariant() ?? current.Deal.Currency,
            d.ExpectedCloseDate ?? (d.SentAsNull(nameof(d.ExpectedCloseDate)) ? null : current.Deal.ExpectedCloseDate),
            Optional(d, nameof(d.Notes), d.Notes, current.Deal.Notes)),
        CoSell = r.CoSell is not { } cs ? current.CoSell : new CoSell(
            cs.RelationshipOwner ?? current.CoSell.RelationshipOwner, cs.Demo ?? current.CoSell.Demo, cs.Contract ?? current.CoSell.Contract),
    };

    private static string? Optional(PatchableInput input, string field, string? sent, string? current) =>
        sent is not null ? Blank(sent) : input.SentAsNull(field) ? null : current;

    private static bool Same(Registration a, Registration b) => AuditTrail.Changes(a.AuditFields(), b.AuditFields()).Count == 0;
}

/// <summary>Change a registration: send only what changes (JSON merge patch: a field sent as null is removed; a required one cannot be).</summary>
public sealed record UpdateRegistrationRequest
{
    public CustomerInput? Customer { get; init; }
    public ContactInput? Contact { get; init; }
    /// <example>{"name": "Contoso analytics rollout", "estimatedValue": 150000, "currency": "EUR", "expectedCloseDate": "2027-04-30"}</example>
    public DealInput? Deal { get; init; }
    public CoSellInput? CoSell { get; init; }
}

public sealed class UpdateRegistrationRequestValidator : AbstractValidator<UpdateRegistrationRequest>
{
    public UpdateRegistrationRequestValidator()
    {
        RuleFor(x => x.Customer).SetValidator(new CustomerInputValidator(partial: true)!);
        RuleFor(x => x.Contact).SetValidator(new ContactInputValidator(partial: true)!);
        RuleFor(x => x.Deal).SetValidator(new DealInputValidator(partial: true)!);
    }
}
