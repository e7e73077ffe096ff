using System.Diagnostics.CodeAnalysis;
using System.Security.Claims;
using Microsoft.AspNetCore.Http.HttpResults;
using PartnerDeals.Api.Features.Audit;
using PartnerDeals.Api.Features.Partners;
using PartnerDeals.Api.Features.ConflictChecks;
using PartnerDeals.Api.Infrastructure.Auth;
using PartnerDeals.Api.Infrastructure.Data;
using PartnerDeals.Api.Infrastructure.Http;

namespace PartnerDeals.Api.Features.Registrations;

/// <summary>What the registration handlers need, gathered once.</summary>
public sealed record RegistrationServices(
    Database Database, DecisionWriter Writer, RegistrationStore Registrations, PartnerStore Partners, RegistrationDecisions Decisions,
    ConflictChecks.PartnerPreChecks Checks, Microsoft.Extensions.Options.IOptions<RegistrationOptions> Options, TimeProvider Clock);

public static class RegistrationsApi
{
    public static void MapRegistrations(this IEndpointRouteBuilder v1)
    {
        var registrations = v1.MapGroup("/registrations").WithTags("Registrations");

        RegisterDeal.Map(registrations);

        registrations.MapGet("/", List)
            .WithName("ListRegistrations")
            .WithFilterValues<RegistrationStatus>("status")
            .WithSummary("List registrations")
            .WithDescription("Any key; a partner key lists only its own partner's. Oldest first, keyset-paginated; filters status, partnerId, "
                + "submittedFrom/submittedTo (ISO 8601, from inclusive, to exclusive) and company (a name, matched by its normalised key, or a domain).")
            .RequireAuthorization(Policies.AnyKey);

        registrations.MapGet("/{id:guid}", Get)
            .WithName("GetRegistration")
            .WithSummary("Read a registration")
            .WithDescription("Any key; a partner gets 404 for any registration not its own. The ETag header is the version for If-Match.")
            .RequireAuthorization(Policies.AnyKey)
            .WithETag()
            .ProducesProblem(StatusCodes.Status404NotFound);

        EditRegistration.Map(registrations);

        registrations.MapGet("/{id:guid}/events", Events)
            .WithName("ListRegistrationEvents")
            .WithSummary("The registration's audit trail")
            .WithDescription("Vendor keys (crm, ops, admin). Every change, oldest first: who, when, from → to, and each check with its matches and policy version.")
            .RequireAuthorization(Policies.Vendor)
            .ProducesProblem(StatusCodes.Status404NotFound);

        ApproveRegistration.Map(registrations);
        RejectRegistration.Map(registrations);
        RequestInformation.Map(registrations);
        WithdrawRegistration.Map(registrations);
        RecordOutcome.Map(registrations);
        registrations.MapProtectionExtensions();
        registrations.MapRegistrationNotes();
        registrations.MapRegistrationTeam();
        registrations.MapRegistrationSplits();
    }

    internal const string Transitions = " Illegal from the current status: 409. If-Match is optional; a stale one answers 412.";

    /// <summary>The responses every decision may answer.</summary>
    internal static RouteHandlerBuilder Documented(this RouteHandlerBuilder builder) =>
        builder.WithETag()
            .ProducesProblem(StatusCodes.Status404NotFound)
            .ProducesProblem(StatusCodes.Status409Conflict)
            .ProducesProblem(StatusCodes.Status412PreconditionFailed);

    /// <param name="user">The caller.</param>
    /// <param name="store">The registration store.</param>
    /// <param name="ct">Cancellation.</param>
    /// <param name="status">Only registrations in this status.</param>
    /// <param name="partnerId">Only this partner's registrations (vendor keys; a partner key always sees only its own).</param>
    /// <param name="submittedFrom">Submitted at or after this instant (ISO 8601).</param>
    /// <param name="submittedTo">Submitted before this instant (ISO 8601).</param>
    /// <param name="company">A company name (matched by its normalised key) or domain.</param>
    /// <param name="page">The page asked for.</param>
    private static async Task<Results<Ok<Page<Registration>>, ValidationProblem>> List(
        ClaimsPrincipal user, RegistrationStore store, CancellationToken ct, string? status = null, Guid? partnerId = null,
        DateTimeOffset? submittedFrom = null, DateTimeOffset? submittedTo = null, string? company = null, [AsParameters] PageRequest page = default)
    {
        page.TryRead(out var pageSize, out var after, out var errors);
        var statusFilter = Paging.ReadFilter<RegistrationStatus>(status, "status", errors);
        if (company is { Length: > 300 }) errors["company"] = ["company must be at most 300 characters."];
        if (errors.Count > 0) return Problems.Validation(errors);

        var filter = new RegistrationFilter(statusFilter, user.IsPartner() ? user.PartnerId() : partnerId, submittedFrom, submittedTo,
            string.IsNullOrWhiteSpace(company) ? null : company.Trim());
        var found = await store.ListAsync(filter, pageSize, after, ct);
        return TypedResults.Ok(found with { Items = found.Items.Select(r => View(r, user)).ToList() });
    }

    private static async Task<Results<Ok<Registration>, ProblemHttpResult>> Get(
        Guid id, ClaimsPrincipal user, HttpResponse response, RegistrationStore store, Database database, CancellationToken ct)
    {
        var registration = await store.GetAsync(id, ct);
        if (registration is null) return NotFound();
        // Another partner reads it only as an active member of its team, or as a distributor that may view its reseller's deals.
        if (!user.CanSeePartner(registration.PartnerId) && !await database.ReadAsync(s => RegistrationTeam.MayReadAsync(s, registration, user, ct), ct))
        {
            return NotFound();
        }
        response.Headers.ETag = ETagFor(registration, user);
        return TypedResults.Ok(View(registration, user));
    }

    /// <param name="id">The registration's id.</param>
    /// <param name="store">The registration store.</param>
    /// <param name="audit">The audit trail.</param>
    /// <param name="ct">Cancellation.</param>
    /// <param name="page">The page asked for.</param>
    private static async Task<Results<Ok<Page<AuditEvent>>, ValidationProblem, ProblemHttpResult>> Events(
        Guid id, RegistrationStore store, AuditTrail audit, CancellationToken ct, [AsParameters] PageRequest page)
    {
        if (!page.TryRead(out var pageSize, out var after, out var errors)) return Problems.Validation(errors);
        if (await store.GetAsync(id, ct) is null) return NotFound();
        return TypedResults.Ok(await audit.ListAsync("registration", id, pageSize, after, ct));
    }

    /// <summary>What a registration asks the check about, as the partner's check log records it.</summary>
    internal static CheckAsked Asked(string askedBy, Registration r) => new(askedBy, r.Customer.CompanyName, r.Customer.Domain, r.Customer.Country);

    /// <summary>
    /// The registration as this caller may see it: a partner never sees the conflict behind its status, and a partner that is
    /// not its own (a member of its team, a distributor) not the primary's terms or notes either.
    /// </summary>
    public static Registration View(Registration registration, ClaimsPrincipal user) =>
        !user.IsPartner() ? registration
        : user.PartnerId() == registration.PartnerId ? registration.ForPartner()
        : RegistrationTeam.ForMember(registration);

    public static ProblemHttpResult NotFound() => Problems.NotFound("The registration");

    /// <summary>A partner's ETag is the version of what it sees, so another claim's activity never invalidates its If-Match.</summary>
    public static int VersionSeenBy(Registration registration, ClaimsPrincipal user) =>
        user.IsPartner() ? registration.PartnerVersion : registration.Version;

    public static string ETagFor(Registration registration, ClaimsPrincipal user) => ETags.For(VersionSeenBy(registration, user));

    /// <summary>
    /// Opens a decision transaction on the registration, checks that this caller may see it and that
    /// If-Match (optional on actions) still holds, and lets <paramref name="decide"/> say what changes.
    /// </summary>
    public static async Task<Results<Ok<Registration>, ProblemHttpResult>> ChangeAsync(
        Guid id, ClaimsPrincipal user, HttpContext http, RegistrationServices s, Func<DbSession, Registration, Partner, Task<Step>> decide,
        CancellationToken ct)
    {
        var ifMatch = ETags.ReadIfMatch(http.Request, out var expected);
        var (problem, changed) = await s.Writer.DecideAsync(async session =>
        {
            var current = await s.Registrations.GetAsync(session, id, ct);
            if (!Reachable(current, user, ifMatch, expected, out var unreachable)) return Step.Refused(unreachable);

            var partner = (await s.Partners.GetAsync(session, current.PartnerId, ct))!;
            if (partner.Status == PartnerStatus.Terminated)
            {
                return Step.Refused(Problems.InvalidTransition("The partner is terminated: its registrations are closed and earn nothing more."));
            }
            var step = await decide(session, current, partner);
            if (step.Problem is not null) return Step.Refused(step.Problem);
            var transitioned = await s.Decisions.ApplyAsync(session, current, step.Changed!, Actor.From(user), step.Action!, step.Data ?? new { }, ct);
            return transitioned is null ? Step.Refused(Problems.PreconditionFailed()) : Step.Written(transitioned);
        }, ct);

        if (problem is not null) return problem;
        http.Response.Headers.ETag = ETagFor(changed!, user);
        return TypedResults.Ok(View(changed!, user));
    }

    /// <summary>Whether this caller may change the registration it read: there and its own, and If-Match still holds.</summary>
    internal static bool Reachable([NotNullWhen(true)] Registration? current, ClaimsPrincipal user, ETags.Match ifMatch, int expected,
        [NotNullWhen(false)] out ProblemHttpResult? refusal)
    {
        refusal = current is null || !user.CanSeePartner(current.PartnerId) ? NotFound()
            : ifMatch == ETags.Match.Unusable || (ifMatch == ETags.Match.Version && expected != VersionSeenBy(current, user)) ? Problems.PreconditionFailed()
            : null;
        return refusal is null;
    }

    internal static IReadOnlyList<string> Alternates(IReadOnlyList<string>? names) =>
        names?.Select(n => n.Trim()).Distinct().ToList() ?? [];

    /// <summary>Optional text as stored: trimmed, and null when blank.</summary>
    internal static string? Blank(string? value) => string.IsNullOrWhiteSpace(value) ? null : value.Trim();
}
