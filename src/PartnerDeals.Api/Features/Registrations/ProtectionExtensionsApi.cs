using System.Security.Claims;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Options;
using PartnerDeals.Api.Features.Audit;
using PartnerDeals.Api.Infrastructure.Auth;
using PartnerDeals.Api.Infrastructure.Data;
using PartnerDeals.Api.Infrastructure.Http;
using static PartnerDeals.Api.Features.Registrations.RegistrationsApi;

namespace PartnerDeals.Api.Features.Registrations;

/// <summary>
/// A partner asks for longer protection; ops grant or refuse. How many extensions a registration
/// may get and how long each is depends on the tier it was approved under (<c>Registrations:Extensions</c>).
/// </summary>
public static class ProtectionExtensionsApi
{
    private const string InsertSql = """
        INSERT INTO extension_requests (id, registration_id, status, days, reason, requested_at)
        VALUES (@Id, @RegistrationId, 'requested', @Days, @Reason, @RequestedAt)
        """;

    private const string DecideSql = """
        UPDATE extension_requests SET status = @Status, decision_note = @Note, decided_at = @DecidedAt
        WHERE id = @Id AND status = 'requested'
        """;

    private const string ListSql = """
        SELECT id, registration_id, status, days, reason, decision_note, requested_at, decided_at
        FROM extension_requests WHERE registration_id = @RegistrationId ORDER BY id
        """;

    public static void MapProtectionExtensions(this RouteGroupBuilder registrations)
    {
        registrations.MapPost("/{id:guid}/extensions", Request)
            .WithName("RequestProtectionExtension")
            .WithSummary("Ask to extend the protection")
            .WithDescription("The partner (or ops, admin), on an approved registration still protected, with no other request open and "
                + "fewer extensions granted than its tier allows. The length is the tier's extension length.")
            .RequireAuthorization(Policies.Registrant)
            .WithValidation<ExtensionRequestBody>()
            .ProducesProblem(StatusCodes.Status404NotFound)
            .ProducesProblem(StatusCodes.Status409Conflict);

        registrations.MapGet("/{id:guid}/extensions", List)
            .WithName("ListProtectionExtensions")
            .WithSummary("The registration's extension requests")
            .WithDescription("Any key; a partner only on its own registrations.")
            .RequireAuthorization(Policies.AnyKey)
            .ProducesProblem(StatusCodes.Status404NotFound);

        registrations.MapPost("/{id:guid}/extensions/{extensionId:guid}/grant", Grant)
            .WithName("GrantProtectionExtension")
            .WithSummary("Grant an extension")
            .WithDescription("Ops and admin. The protection moves out by the requested days; the registration must still be approved and protected.")
            .RequireAuthorization(Policies.Ops)
            .WithValidation<DecisionNoteRequest>()
            .Documented();

        registrations.MapPost("/{id:guid}/extensions/{extensionId:guid}/refuse", Refuse)
            .WithName("RefuseProtectionExtension")
            .WithSummary("Refuse an extension")
            .WithDescription("Ops and admin. The protection stays as it is.")
            .RequireAuthorization(Policies.Ops)
            .WithValidation<DecisionNoteRequest>()
            .Documented();
    }

    private static async Task<Results<Created<ExtensionRequest>, ProblemHttpResult>> Request(
        Guid id, ExtensionRequestBody request, ClaimsPrincipal user, [AsParameters] RegistrationServices s, AuditTrail audit,
        IOptions<RegistrationOptions> options, CancellationToken ct)
    {
        var (problem, created) = await s.Writer.DecideAsync(async session =>
        {
            var registration = await s.Registrations.GetAsync(session, id, ct);
            if (registration is null || !user.CanSeePartner(registration.PartnerId)) return Asked.Refused(NotFound());

            var now = s.Clock.GetUtcNow();
            if (registration.Status != RegistrationStatus.Approved || registration.ProtectionExpiresAt <= now)
            {
                return Asked.Refused(Problems.InvalidTransition("Only an approved registration that is still protected can be extended."));
            }
            var earlier = await ListAsync(session, id, ct);
            if (earlier.Any(e => e.Status == ExtensionStatus.Requested))
            {
                return Asked.Refused(Problems.InvalidTransition("An extension request is already open for this registration."));
            }
            var rule = options.Value.ExtensionsFor(registration.Terms!.Tier);
            if (registration.ExtensionsGranted >= rule.MaxCount)
            {
                return Asked.Refused(Problems.InvalidTransition($"The {registration.Terms.Tier} tier allows {rule.MaxCount} extension(s); all have been granted."));
            }

            var asked = new ExtensionRequest(Ids.New(now), id, ExtensionStatus.Requested, rule.Days, Blank(request.Reason), null, now, null);
            await session.ExecuteAsync(InsertSql, new
            {
                asked.Id,
                asked.RegistrationId,
                asked.Days,
                asked.Reason,
                asked.RequestedAt,
            }, ct);
            await audit.RecordAsync(session, "registration", id, "registration.extension_requested", Actor.From(user), new { extension = asked }, ct);
            return Decided<Asked>.Kept(new(null, asked));
        }, ct);
        if (problem is not null) return problem;
        return TypedResults.Created($"/v1/registrations/{id}/extensions", created);
    }

    private sealed record Asked(ProblemHttpResult? Problem, ExtensionRequest? Request)
    {
        public static Decided<Asked> Refused(ProblemHttpResult problem) => Decided<Asked>.Discarded(new(problem, null));
    }

    private static async Task<Results<Ok<IReadOnlyList<ExtensionRequest>>, ProblemHttpResult>> List(
        Guid id, ClaimsPrincipal user, [AsParameters] RegistrationServices s, CancellationToken ct)
    {
        var registration = await s.Registrations.GetAsync(id, ct);
        if (registration is null || !user.CanSeePartner(registration.PartnerId)) return NotFound();
        return TypedResults.Ok(await s.Database.ReadAsync(session => ListAsync(session, id, ct), ct));
    }

    private static Task<Results<Ok<Registration>, ProblemHttpResult>> Grant(
        Guid id, Guid extensionId, ClaimsPrincipal user, HttpContext http, [AsParameters] RegistrationServices s, CancellationToken ct,
        DecisionNoteRequest? request = null) =>
        DecideAsync(id, extensionId, user, http, s, granted: true, request?.Note, ct);

    private static Task<Results<Ok<Registration>, ProblemHttpResult>> Refuse(
        Guid id, Guid extensionId, ClaimsPrincipal user, HttpContext http, [AsParameters] RegistrationServices s, CancellationToken ct,
        DecisionNoteRequest? request = null) =>
        DecideAsync(id, extensionId, user, http, s, granted: false, request?.Note, ct);

    private static Task<Results<Ok<Registration>, ProblemHttpResult>> DecideAsync(
        Guid id, Guid extensionId, ClaimsPrincipal user, HttpContext http, RegistrationServices s, bool granted, string? note, CancellationToken ct) =>
        ChangeAsync(id, user, http, s, async (session, current, _) =>
        {
            var extension = (await ListAsync(session, id, ct)).FirstOrDefault(e => e.Id == extensionId);
            if (extension is null) return Step.Refuse(Problems.NotFound("The extension request"));
            if (extension.Status != ExtensionStatus.Requested)
            {
                return Step.Refuse(Problems.InvalidTransition($"The extension request is already {Infrastructure.Http.Json.Name(extension.Status)}."));
            }
            var now = s.Clock.GetUtcNow();
            if (granted && (current.Status != RegistrationStatus.Approved || current.ProtectionExpiresAt <= now))
            {
                return Step.Refuse(Problems.InvalidTransition("The registration is no longer approved and protected; the extension cannot be granted."));
            }

            await session.ExecuteAsync(DecideSql, new
            {
                Id = extensionId,
                Status = Infrastructure.Http.Json.Name(granted ? ExtensionStatus.Granted : ExtensionStatus.Refused),
                Note = Blank(note),
                DecidedAt = now,
            }, ct);
            var changed = granted
                ? current with { ProtectionExpiresAt = current.ProtectionExpiresAt!.Value.AddDays(extension.Days), ExtensionsGranted = current.ExtensionsGranted + 1 }
                : current;
            return Step.To(changed, granted ? "registration.extended" : "registration.extension_refused",
                new { extensionId, days = extension.Days, note });
        }, ct);

    private static async Task<IReadOnlyList<ExtensionRequest>> ListAsync(DbSession session, Guid id, CancellationToken ct)
    {
        var rows = await session.QueryAsync<Row>(ListSql, new { RegistrationId = id }, ct);
        return rows.Select(r => new ExtensionRequest(r.Id, r.RegistrationId, Infrastructure.Http.Json.Parse<ExtensionStatus>(r.Status), r.Days, r.Reason,
            r.DecisionNote, r.RequestedAt, r.DecidedAt)).ToList();
    }


    private sealed class Row
    {
        public Guid Id { get; set; }
        public Guid RegistrationId { get; set; }
        public string Status { get; set; } = "";
        public int Days { get; set; }
        public string? Reason { get; set; }
        public string? DecisionNote { get; set; }
        public DateTimeOffset RequestedAt { get; set; }
        public DateTimeOffset? DecidedAt { get; set; }
    }
}
