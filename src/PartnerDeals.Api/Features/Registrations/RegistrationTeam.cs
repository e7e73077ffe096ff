using System.Security.Claims;
using System.Text.Json.Serialization;
using FluentValidation;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Options;
using PartnerDeals.Api.Features.Audit;
using PartnerDeals.Api.Features.Partners;
using PartnerDeals.Api.Infrastructure.Auth;
using PartnerDeals.Api.Infrastructure.Data;
using PartnerDeals.Api.Infrastructure.Http;
using static PartnerDeals.Api.Features.Registrations.RegistrationsApi;

namespace PartnerDeals.Api.Features.Registrations;

/// <summary>
/// The partners on one deal (<c>/v1/registrations/{id}/members</c>): the registrant is the primary; the primary or ops invite
/// others (a reseller's implementation partner, an MSP …), who accept or decline within <c>Registrations:MemberInvitationDays</c>;
/// ops may add one directly with a reason; the primary or ops remove one. Members never conflict with each other: the
/// conflict check leaves out a registration the asking partner is an active member of. A member reads the registration
/// (without the primary's terms or notes) and hears its webhooks. Precedence, protection and expiry stay the registration's.
/// A change of the active team (added, accepted, removed) goes through the <see cref="RegistrationJournal"/>: the CRM sync
/// sends the deal again with its team as it then is; an invitation or a refusal changes nothing there and is only audited.
/// </summary>
public static class RegistrationTeam
{
    private const string Columns = """
        m.id, m.registration_id, m.partner_id, p.name AS partner_name, m.role, m.status, m.reason, m.invited_at, m.expires_at, m.decided_at
        """;

    internal const string MembersSql = "SELECT " + Columns + """
         FROM registration_members m JOIN partners p ON p.id = m.partner_id
        WHERE m.registration_id = @RegistrationId ORDER BY m.id
        """;

    private const string MemberSql = "SELECT " + Columns + """
         FROM registration_members m JOIN partners p ON p.id = m.partner_id
        WHERE m.id = @Id AND m.registration_id = @RegistrationId
        """;

    private const string CurrentMemberSql = """
        SELECT COUNT(*) FROM registration_members WHERE registration_id = @RegistrationId AND partner_id = @PartnerId AND status IN ('invited', 'active')
        """;

    private const string ActiveMemberSql = """
        SELECT COUNT(*) FROM registration_members WHERE registration_id = @RegistrationId AND partner_id = @PartnerId AND status = 'active'
        """;

    internal const string ActiveMembersSql = """
        SELECT partner_id FROM registration_members WHERE registration_id = @RegistrationId AND status = 'active' ORDER BY partner_id
        """;

    // A removed member is read too: whoever keeps the team elsewhere (the CRM sync) takes it off the deal.
    internal const string TeamsSql = """
        SELECT registration_id, partner_id, role, status FROM registration_members WHERE registration_id IN @Ids AND status IN ('active', 'removed')
        ORDER BY id
        """;

    private const string InsertMemberSql = """
        INSERT INTO registration_members (id, registration_id, partner_id, role, status, reason, invited_at, expires_at, decided_at, terms)
        VALUES (@Id, @RegistrationId, @PartnerId, @Role, @Status, @Reason, @InvitedAt, @ExpiresAt, @DecidedAt, @Terms)
        """;

    private const string DecideMemberSql = """
        UPDATE registration_members SET status = @Status, decided_at = @DecidedAt WHERE id = @Id AND status = @From
        """;

    // Accepted, the member's terms are kept: what its share of a win earns by.
    private const string ActivateMemberSql = """
        UPDATE registration_members SET status = 'active', decided_at = @DecidedAt, terms = @Terms WHERE id = @Id AND status = 'invited'
        """;

    private const string MemberTermsSql = """
        SELECT id, partner_id, terms FROM registration_members WHERE registration_id = @RegistrationId AND status = 'active' ORDER BY id
        """;

    public static void MapRegistrationTeam(this RouteGroupBuilder registrations)
    {
        registrations.MapGet("/{id:guid}/members", List)
            .WithName("ListRegistrationMembers")
            .WithSummary("The partners on a deal")
            .WithDescription("Whoever may read the registration: the primary (the registrant) first, then every invited, active, declined, expired "
                + "or removed member with its role. Never another member's terms or fee.")
            .RequireAuthorization(Policies.AnyKey)
            .ProducesProblem(StatusCodes.Status404NotFound);

        registrations.MapPost("/{id:guid}/members", Invite)
            .WithName("AddRegistrationMember")
            .WithSummary("Invite a partner onto a deal")
            .WithDescription("The primary partner or ops, while the registration is a claim. The partner is invited and accepts or declines within "
                + "Registrations:MemberInvitationDays (7 by default; later it is declined as expired). Ops may add it at once by giving a reason. "
                + "A partner already on the team: 409.")
            .RequireAuthorization(Policies.Registrant)
            .WithValidation<MemberRequest>()
            .ProducesProblem(StatusCodes.Status404NotFound)
            .ProducesProblem(StatusCodes.Status409Conflict);

        registrations.MapPost("/{id:guid}/members/{memberId:guid}/accept", (Guid id, Guid memberId, ClaimsPrincipal user,
                [AsParameters] RegistrationServices s, AuditTrail audit, RegistrationJournal journal, CancellationToken ct) =>
                AnswerAsync(id, memberId, accept: true, user, s, audit, journal, ct))
            .WithName("AcceptRegistrationMembership")
            .WithSummary("Accept an invitation onto a deal")
            .WithDescription("The invited partner, within the invitation's window: from now on it reads the deal, hears its webhooks, and never "
                + "conflicts with it. 409 once the invitation was answered or expired.")
            .RequireAuthorization(Policies.Registrant)
            .ProducesProblem(StatusCodes.Status404NotFound)
            .ProducesProblem(StatusCodes.Status409Conflict);

        registrations.MapPost("/{id:guid}/members/{memberId:guid}/decline", (Guid id, Guid memberId, ClaimsPrincipal user,
                [AsParameters] RegistrationServices s, AuditTrail audit, RegistrationJournal journal, CancellationToken ct) =>
                AnswerAsync(id, memberId, accept: false, user, s, audit, journal, ct))
            .WithName("DeclineRegistrationMembership")
            .WithSummary("Decline an invitation onto a deal")
            .WithDescription("The invited partner. 409 once the invitation was answered or expired.")
            .RequireAuthorization(Policies.Registrant)
            .ProducesProblem(StatusCodes.Status404NotFound)
            .ProducesProblem(StatusCodes.Status409Conflict);

        registrations.MapPost("/{id:guid}/members/{memberId:guid}/remove", Remove)
            .WithName("RemoveRegistrationMember")
            .WithSummary("Take a partner off a deal")
            .WithDescription("The primary partner or ops; an invitation not yet answered is withdrawn the same way. The primary cannot be removed.")
            .RequireAuthorization(Policies.Registrant)
            .ProducesProblem(StatusCodes.Status404NotFound)
            .ProducesProblem(StatusCodes.Status409Conflict);
    }

    /// <summary>Adds <paramref name="partner"/> as an active member at once (a distributor registering for its reseller).</summary>
    public static Task AddActiveAsync(DbSession session, Guid registrationId, Partner partner, MemberRole role, string reason, DateTimeOffset now,
        CancellationToken ct) =>
        session.ExecuteAsync(InsertMemberSql, new MemberRow
        {
            Id = Ids.New(now), RegistrationId = registrationId, PartnerId = partner.Id, Role = Json.Name(role), Status = Json.Name(MemberStatus.Active),
            Reason = reason, InvitedAt = now, DecidedAt = now, Terms = Terms(partner),
        }, ct);

    /// <summary>Each active member's id, partner and the terms it joined under, read in the caller's transaction.</summary>
    public static async Task<IReadOnlyList<(Guid MemberId, Guid PartnerId, TermsSnapshot? Terms)>> ActiveTermsAsync(DbSession session,
        Guid registrationId, CancellationToken ct) =>
        (await session.QueryAsync<MemberRow>(MemberTermsSql, new { RegistrationId = registrationId }, ct))
            .Select(r => (r.Id, r.PartnerId, r.Terms is null ? null : System.Text.Json.JsonSerializer.Deserialize<TermsSnapshot>(r.Terms, Json.Options)))
            .ToList();

    private static string Terms(Partner partner) => System.Text.Json.JsonSerializer.Serialize(ApproveRegistration.SnapshotOf(partner), Json.Options);

    /// <summary>Each registration's members that are or were active (not its primary), in the order they were invited.</summary>
    public static async Task<ILookup<Guid, (Guid PartnerId, MemberRole Role, bool Active)>> TeamsAsync(DbSession session,
        IReadOnlyCollection<Guid> registrationIds, CancellationToken ct) =>
        (await session.QueryAsync<MemberRow>(TeamsSql, new { Ids = Database.IdList(registrationIds.Distinct().ToList()) }, ct))
            .ToLookup(m => m.RegistrationId, m => (m.PartnerId, Json.Parse<MemberRole>(m.Role), m.Status == Json.Name(MemberStatus.Active)));

    /// <summary>The partners actively on a registration's team besides its own, read in the caller's transaction.</summary>
    public static async Task<IReadOnlyList<Guid>> ActiveMembersAsync(DbSession session, Guid registrationId, CancellationToken ct) =>
        await session.QueryAsync<Guid>(ActiveMembersSql, new { RegistrationId = registrationId }, ct);

    /// <summary>
    /// Whether a partner's caller may read this registration: its own, one whose team it is active on, or (a distributor) a
    /// reseller's whose deals it may view. The vendor reads every one.
    /// </summary>
    public static async Task<bool> MayReadAsync(DbSession session, Registration registration, ClaimsPrincipal user, CancellationToken ct)
    {
        if (user.CanSeePartner(registration.PartnerId)) return true;
        var partner = user.PartnerId()!.Value;
        if (await session.ExecuteScalarAsync<long>(ActiveMemberSql, new { RegistrationId = registration.Id, PartnerId = partner }, ct) > 0) return true;
        return await PartnerResellers.ActiveAsync(session, partner, registration.PartnerId, ct) is { MayViewDeals: true };
    }

    /// <summary>A registration as a member that is not its own reads it: the partner's view without the primary's terms or notes.</summary>
    public static Registration ForMember(Registration registration) =>
        registration.ForPartner() with { Terms = null, DecisionNote = null, RegisteredBy = registration.RegisteredBy };

    private static async Task<Results<Ok<IReadOnlyList<Member>>, ProblemHttpResult>> List(Guid id, ClaimsPrincipal user,
        [AsParameters] RegistrationServices s, CancellationToken ct) =>
        await s.Database.ReadAsync<Results<Ok<IReadOnlyList<Member>>, ProblemHttpResult>>(async session =>
        {
            var registration = await s.Registrations.GetAsync(session, id, ct);
            if (registration is null || !await MayReadAsync(session, registration, user, ct)) return NotFound();
            var primary = (await s.Partners.GetAsync(session, registration.PartnerId, ct))!;
            return TypedResults.Ok(await TeamAsync(session, registration, primary.Name, s.Clock.GetUtcNow(), ct));
        }, ct);

    /// <summary>The primary first, then every member row as it stands now (an invitation past its window reads as expired).</summary>
    private static async Task<IReadOnlyList<Member>> TeamAsync(DbSession session, Registration registration, string primary, DateTimeOffset now,
        CancellationToken ct)
    {
        var rows = await session.QueryAsync<MemberRow>(MembersSql, new { RegistrationId = registration.Id }, ct);
        return [new Member
        {
            Id = registration.Id, PartnerId = registration.PartnerId, PartnerName = primary, Role = null, Primary = true,
            Status = MemberStatus.Active, InvitedAt = registration.CreatedAt,
        }, .. rows.Select(r => r.ToMember(now))];
    }

    private static async Task<Results<Created<Member>, ProblemHttpResult>> Invite(Guid id, MemberRequest request, ClaimsPrincipal user,
        [AsParameters] RegistrationServices s, AuditTrail audit, RegistrationJournal journal, CancellationToken ct)
    {
        var (problem, member) = await s.Writer.DecideAsync(async session =>
        {
            var registration = await s.Registrations.GetAsync(session, id, ct);
            if (registration is null || !user.CanSeePartner(registration.PartnerId)) return Decided<Answer>.Discarded(new Answer(NotFound(), null));
            if (!Claims.IsClaim(registration.Status))
            {
                var closed = Problems.InvalidTransition($"The registration is {Json.Name(registration.Status)}: its team is closed.");
                return Decided<Answer>.Discarded(new Answer(closed, null));
            }
            var partner = await s.Partners.GetAsync(session, request.PartnerId!.Value, ct);
            if (partner is null || partner.Status != PartnerStatus.Active)
            {
                return Decided<Answer>.Discarded(new Answer(Problems.InvalidField("partnerId", "No active partner has this id."), null));
            }
            if (partner.Id == registration.PartnerId
                || await session.ExecuteScalarAsync<long>(CurrentMemberSql, new { RegistrationId = id, PartnerId = partner.Id }, ct) > 0)
            {
                return Decided<Answer>.Discarded(new Answer(Problems.Conflict("The partner is on this deal's team already."), null));
            }
            var now = s.Clock.GetUtcNow();
            var direct = !user.IsPartner() && request.Reason is not null;
            var row = new MemberRow
            {
                Id = Ids.New(now), RegistrationId = id, PartnerId = partner.Id, PartnerName = partner.Name, Role = Json.Name(request.Role!.Value),
                Status = Json.Name(direct ? MemberStatus.Active : MemberStatus.Invited), Reason = Blank(request.Reason), InvitedAt = now,
                ExpiresAt = direct ? null : now.AddDays(s.Options.Value.MemberInvitationDays), DecidedAt = direct ? now : null,
                Terms = direct ? Terms(partner) : null,
            };
            await session.ExecuteAsync(InsertMemberSql, row, ct);
            var recorded = new { memberId = row.Id, partnerId = partner.Id, role = request.Role, reason = row.Reason };
            if (direct) await journal.AuditAndTellFollowersAsync(session, registration, registration, "registration.member_added", Actor.From(user), recorded, ct);
            else await audit.RecordAsync(session, "registration", id, "registration.member_invited", Actor.From(user), recorded, ct);
            return Decided<Answer>.Kept(new Answer(null, row.ToMember(now)));
        }, ct);
        if (problem is not null) return problem;
        return TypedResults.Created($"/v1/registrations/{id}/members/{member!.Id}", member);
    }

    private static async Task<Results<Ok<Member>, ProblemHttpResult>> AnswerAsync(Guid id, Guid memberId, bool accept, ClaimsPrincipal user,
        RegistrationServices s, AuditTrail audit, RegistrationJournal journal, CancellationToken ct)
    {
        var (problem, member) = await s.Writer.DecideAsync(async session =>
        {
            var row = await session.QuerySingleOrDefaultAsync<MemberRow>(MemberSql, new { Id = memberId, RegistrationId = id }, ct);
            // Only the invited partner answers; to anyone else the invitation does not exist.
            if (row is null || user.PartnerId() != row.PartnerId) return Decided<Answer>.Discarded(new Answer(Problems.NotFound("The invitation"), null));
            var now = s.Clock.GetUtcNow();
            var current = row.ToMember(now);
            if (current.Status == MemberStatus.Expired)
            {
                await session.ExecuteAsync(DecideMemberSql,
                    new { row.Id, Status = Json.Name(MemberStatus.Expired), DecidedAt = row.ExpiresAt, From = row.Status }, ct);
                return Decided<Answer>.Kept(new Answer(Problems.InvalidTransition("The invitation expired; ask to be invited again."), null));
            }
            if (current.Status != MemberStatus.Invited)
            {
                var refusal = Problems.InvalidTransition($"The invitation was answered already ({Json.Name(current.Status)}).");
                return Decided<Answer>.Discarded(new Answer(refusal, null));
            }
            var status = accept ? MemberStatus.Active : MemberStatus.Declined;
            var partner = (await s.Partners.GetAsync(session, row.PartnerId, ct))!;
            var answered = accept
                ? await session.ExecuteAsync(ActivateMemberSql, new { row.Id, DecidedAt = now, Terms = Terms(partner) }, ct)
                : await session.ExecuteAsync(DecideMemberSql, new { row.Id, Status = Json.Name(status), DecidedAt = now, From = row.Status }, ct);
            if (answered == 0)
            {
                return Decided<Answer>.Discarded(new Answer(Problems.InvalidTransition("The invitation was answered already."), null));
            }
            var recorded = new { memberId, partnerId = row.PartnerId };
            if (accept)
            {
                var registration = (await s.Registrations.GetAsync(session, id, ct))!;
                await journal.AuditAndTellFollowersAsync(session, registration, registration, "registration.member_accepted", Actor.From(user), recorded, ct);
            }
            else await audit.RecordAsync(session, "registration", id, "registration.member_declined", Actor.From(user), recorded, ct);
            return Decided<Answer>.Kept(new Answer(null, (row with { Status = Json.Name(status), DecidedAt = now }).ToMember(now)));
        }, ct);
        if (problem is not null) return problem;
        return TypedResults.Ok(member!);
    }

    private static async Task<Results<Ok<Member>, ProblemHttpResult>> Remove(Guid id, Guid memberId, ClaimsPrincipal user,
        [AsParameters] RegistrationServices s, AuditTrail audit, RegistrationJournal journal, CancellationToken ct)
    {
        var (problem, member) = await s.Writer.DecideAsync(async session =>
        {
            var registration = await s.Registrations.GetAsync(session, id, ct);
            if (registration is null || !user.CanSeePartner(registration.PartnerId)) return Decided<Answer>.Discarded(new Answer(NotFound(), null));
            if (memberId == id) return Decided<Answer>.Discarded(new Answer(Problems.InvalidTransition("The primary partner cannot be removed."), null));
            var row = await session.QuerySingleOrDefaultAsync<MemberRow>(MemberSql, new { Id = memberId, RegistrationId = id }, ct);
            if (row is null) return Decided<Answer>.Discarded(new Answer(Problems.NotFound("The member"), null));
            var now = s.Clock.GetUtcNow();
            if (row.ToMember(now).Status is not (MemberStatus.Active or MemberStatus.Invited))
            {
                return Decided<Answer>.Discarded(new Answer(Problems.InvalidTransition($"The member is {row.Status} already."), null));
            }
            await session.ExecuteAsync(DecideMemberSql, new { row.Id, Status = Json.Name(MemberStatus.Removed), DecidedAt = now, From = row.Status }, ct);
            var recorded = new { memberId, partnerId = row.PartnerId };
            if (row.Status == Json.Name(MemberStatus.Active))
            {
                await journal.AuditAndTellFollowersAsync(session, registration, registration, "registration.member_removed", Actor.From(user), recorded, ct);
            }
            else await audit.RecordAsync(session, "registration", id, "registration.member_removed", Actor.From(user), recorded, ct);
            return Decided<Answer>.Kept(new Answer(null, (row with { Status = Json.Name(MemberStatus.Removed), DecidedAt = now }).ToMember(now)));
        }, ct);
        if (problem is not null) return problem;
        return TypedResults.Ok(member!);
    }

    /// <summary>What a team change answers: the problem that refused it, or the member as it left it.</summary>
    private sealed record Answer(ProblemHttpResult? Problem, Member? Member);

    /// <summary>One row of <c>registration_members</c> (with its partner's name), as Dapper writes and reads it.</summary>
    private sealed record MemberRow
    {
        public Guid Id { get; init; }
        public Guid RegistrationId { get; init; }
        public Guid PartnerId { get; init; }
        public string PartnerName { get; init; } = "";
        public string Role { get; init; } = "";
        public string Status { get; init; } = "";
        public string? Reason { get; init; }
        public DateTimeOffset InvitedAt { get; init; }
        public DateTimeOffset? ExpiresAt { get; init; }
        public DateTimeOffset? DecidedAt { get; init; }

        /// <summary>The member's terms when it became active (JSON); not part of what a member is shown.</summary>
        public string? Terms { get; init; }

        public Member ToMember(DateTimeOffset now)
        {
            var status = Json.Parse<MemberStatus>(Status);
            return new Member
            {
                Id = Id, PartnerId = PartnerId, PartnerName = PartnerName, Role = Json.Parse<MemberRole>(Role), Primary = false,
                Status = status == MemberStatus.Invited && ExpiresAt <= now ? MemberStatus.Expired : status,
                InvitedAt = InvitedAt, ExpiresAt = ExpiresAt, DecidedAt = status == MemberStatus.Invited && ExpiresAt <= now ? ExpiresAt : DecidedAt,
            };
        }
    }
}

public enum MemberRole
{
    Reseller,
    Distributor,
    Implementation,
    Msp,
    Referral,
    Technology,
}

public enum MemberStatus
{
    Invited,
    Active,
    Declined,
    Expired,
    Removed,
}

/// <summary>A partner on a deal: the primary (the registrant, whose id is the registration's), or a member invited onto it.</summary>
public sealed record Member
{
    /// <summary>The member's id (the registration's own for the primary).</summary>
    /// <example>0193a6f2-7c1e-7d3a-9f00-5b2c8e4d1a10</example>
    public required Guid Id { get; init; }

    public required Guid PartnerId { get; init; }

    /// <example>Northwind Consulting</example>
    public required string PartnerName { get; init; }

    /// <summary>Its role on the deal; null for the primary.</summary>
    /// <example>implementation</example>
    public MemberRole? Role { get; init; }

    /// <summary>The registrant: exactly one.</summary>
    public required bool Primary { get; init; }

    /// <example>invited</example>
    public required MemberStatus Status { get; init; }

    public required DateTimeOffset InvitedAt { get; init; }

    /// <summary>Until when an invitation may be answered.</summary>
    public DateTimeOffset? ExpiresAt { get; init; }

    /// <summary>When it was accepted, declined, expired or removed.</summary>
    public DateTimeOffset? DecidedAt { get; init; }
}

public sealed record MemberRequest
{
    /// <summary>The partner to invite.</summary>
    /// <example>0193a6f2-7c1e-7d3a-9f00-5b2c8e4d1a11</example>
    public Guid? PartnerId { get; init; }

    /// <summary>reseller, distributor, implementation, msp, referral or technology.</summary>
    /// <example>implementation</example>
    public MemberRole? Role { get; init; }

    /// <summary>Ops only: with a reason the partner is added at once instead of invited.</summary>
    public string? Reason { get; init; }
}

public sealed class MemberRequestValidator : AbstractValidator<MemberRequest>
{
    public MemberRequestValidator()
    {
        RuleFor(x => x.PartnerId).NotNull();
        RuleFor(x => x.Role).NotNull();
        RuleFor(x => x.Reason).FreeText(2000);
    }
}
