using System.Collections.Concurrent;
using System.Data.Common;
using PartnerDeals.Api.Features.Audit;
using PartnerDeals.Api.Infrastructure.Auth;
using PartnerDeals.Api.Infrastructure.Data;
using PartnerDeals.Api.Infrastructure.Http;

namespace PartnerDeals.Api.Features.People;

/// <summary>
/// The <c>people</c> and <c>partner_sign_in_links</c> tables: a person is created by their first valid token and kept up to
/// date by the next ones (roles seen, e-mail, name, last seen); admins disable and enable them; ops link a value of an
/// issuer's partner claim to a partner.
/// </summary>
public sealed class PersonStore(Database database, AuditTrail audit, TimeProvider clock)
{
    private const string Columns = "id, issuer, subject, email, display_name, roles, partner_id, created_at, last_seen_at, disabled_at, version";

    private const string FindSql = "SELECT " + Columns + " FROM people WHERE issuer = @Issuer AND subject = @Subject";

    private const string GetPersonSql = "SELECT " + Columns + " FROM people WHERE id = @Id";

    private const string ListPeopleSql = "SELECT " + Columns + """
         FROM people
        WHERE (@After IS NULL OR id > @After)
        ORDER BY id
        """;

    private const string InsertPersonSql = """
        INSERT INTO people (id, issuer, subject, email, display_name, roles, partner_id, created_at, last_seen_at, disabled_at, version)
        VALUES (@Id, @Issuer, @Subject, @Email, @DisplayName, @Roles, @PartnerId, @CreatedAt, @LastSeenAt, NULL, 1)
        """;

    private const string SeenSql = """
        UPDATE people SET email = @Email, display_name = @DisplayName, roles = @Roles, partner_id = @PartnerId, last_seen_at = @LastSeenAt
        WHERE id = @Id
        """;

    private const string DisableSql = "UPDATE people SET disabled_at = @DisabledAt, version = version + 1 WHERE id = @Id AND version = @Version";

    // The link's partner comes with its status, so a suspended partner's people are read-only from the next request on.
    private const string LinkedPartnerSql = """
        SELECT l.partner_id, p.status AS partner_status
        FROM partner_sign_in_links l JOIN partners p ON p.id = l.partner_id
        WHERE l.issuer = @Issuer AND l.claim_value = @ClaimValue
        """;

    private const string InsertLinkSql = """
        INSERT INTO partner_sign_in_links (id, partner_id, issuer, claim_value, created_at, created_by_key_id, created_by_person_id)
        VALUES (@Id, @PartnerId, @Issuer, @ClaimValue, @CreatedAt, @CreatedByKeyId, @CreatedByPersonId)
        """;

    private const string LinkTakenSql = """
        SELECT id, partner_id, issuer, claim_value, created_at FROM partner_sign_in_links WHERE issuer = @Issuer AND claim_value = @ClaimValue
        """;

    private const string LinksOfPartnerSql = """
        SELECT id, partner_id, issuer, claim_value, created_at FROM partner_sign_in_links WHERE partner_id = @PartnerId ORDER BY id
        """;

    private const string DeleteLinkSql = "DELETE FROM partner_sign_in_links WHERE id = @Id AND partner_id = @PartnerId";

    /// <summary>How long a person looked up stays cached: disabling empties this instance's cache, other instances see it within this.</summary>
    public static readonly TimeSpan CacheFor = ApiKeys.ApiKeyStore.CacheFor;

    /// <summary>Last seen is written again only after this long, so a busy person costs one write a minute, not one a request.</summary>
    private static readonly TimeSpan SeenEvery = TimeSpan.FromMinutes(1);

    private readonly ConcurrentDictionary<string, (SignedInPerson Person, string Token, long At)> _recent = new(StringComparer.Ordinal);
    private long _forgotten;

    /// <summary>The person a valid token names, created on their first token and updated as the issuer's claims change.</summary>
    public async Task<SignedInPerson> SignInAsync(string issuer, string subject, string? email, string display, IReadOnlyList<string> roles,
        string? partnerValue, CancellationToken ct)
    {
        var key = issuer + "\n" + subject;
        var seen = string.Join(",", roles) + "\n" + partnerValue + "\n" + email + "\n" + display;
        if (_recent.TryGetValue(key, out var recent) && recent.Token == seen && clock.GetElapsedTime(recent.At) < CacheFor) return recent.Person;

        var at = clock.GetTimestamp();
        SignedInPerson person;
        try
        {
            person = await WriteSignInAsync(issuer, subject, email, display, roles, partnerValue, ct);
        }
        catch (DbException) when (!ct.IsCancellationRequested)
        {
            // Two first requests of one person at once: the second insert met the first's row; read it now.
            person = await WriteSignInAsync(issuer, subject, email, display, roles, partnerValue, ct);
        }
        if (_recent.Count > 100_000) _recent.Clear();
        if (Volatile.Read(ref _forgotten) <= at) _recent[key] = (person, seen, at);
        return person;
    }

    private async Task<SignedInPerson> WriteSignInAsync(string issuer, string subject, string? email, string display, IReadOnlyList<string> roles,
        string? partnerValue, CancellationToken ct)
    {
        var now = clock.GetUtcNow();
        var linked = partnerValue is null || !roles.Contains("partner") ? null
            : await database.ReadAsync(s => s.QuerySingleOrDefaultAsync<LinkedPartner>(LinkedPartnerSql,
                new { Issuer = issuer, ClaimValue = partnerValue }, ct), ct);
        var wanted = new PersonRow
        {
            Issuer = issuer, Subject = subject, Email = email, DisplayName = display, Roles = string.Join(",", roles),
            PartnerId = linked?.PartnerId, LastSeenAt = now,
        };
        var stored = await database.ReadAsync(s => s.QuerySingleOrDefaultAsync<PersonRow>(FindSql, new { Issuer = issuer, Subject = subject }, ct), ct);
        var unchanged = stored is not null
            && stored with { LastSeenAt = now } == wanted with { Id = stored.Id, CreatedAt = stored.CreatedAt, DisabledAt = stored.DisabledAt, Version = stored.Version };
        if (unchanged && now - stored!.LastSeenAt < SeenEvery)
        {
            return stored.ToSignedIn(linked?.PartnerStatus);
        }

        await using var connection = await database.OpenAsync(ct);
        await using var session = await database.BeginWriteAsync(connection, ct);
        stored = await session.QuerySingleOrDefaultAsync<PersonRow>(FindSql, new { Issuer = issuer, Subject = subject }, ct);
        PersonRow written;
        if (stored is null)
        {
            written = wanted with { Id = Ids.New(now), CreatedAt = now, Version = 1 };
            await session.ExecuteAsync(InsertPersonSql, written, ct);
            var actor = new Actor(null, roles.Count == 0 ? "none" : Json.Name(Caller.RoleOf(roles)), ActorKinds.Person, written.Id, display, null);
            await audit.RecordAsync(session, "person", written.Id, "person.created", actor,
                new { issuer, subject, email, displayName = display, roles, partnerId = written.PartnerId }, ct);
        }
        else
        {
            written = wanted with { Id = stored.Id, CreatedAt = stored.CreatedAt, DisabledAt = stored.DisabledAt, Version = stored.Version };
            await session.ExecuteAsync(SeenSql, written, ct);
        }
        await session.CommitAsync(ct);
        return written.ToSignedIn(linked?.PartnerStatus);
    }

    public async Task<(Person Person, int Version)?> GetAsync(Guid id, CancellationToken ct) =>
        await database.ReadAsync(s => s.QuerySingleOrDefaultAsync<PersonRow>(GetPersonSql, new { Id = id }, ct), ct) is { } row
            ? (row.ToPerson(), row.Version) : null;

    public async Task<Page<Person>> ListAsync(int pageSize, Guid? after, CancellationToken ct)
    {
        var rows = await database.ReadAsync(s => s.QueryAsync<PersonRow>(database.Dialect.Page(ListPeopleSql),
            new { After = after, Limit = pageSize + 1 }, ct), ct);
        return Paging.ToPage(rows, pageSize, r => r.Id, r => r.ToPerson());
    }

    /// <summary>
    /// Disables or enables a person read at <paramref name="version"/> (null: whatever the version). The person and their
    /// version after it; null when there is no such person, or a version of -1 when it is not the one read. Recorded only
    /// when it changes something.
    /// </summary>
    public async Task<(Person Person, int Version)?> SetDisabledAsync(Guid id, bool disabled, int? version, Actor actor, CancellationToken ct)
    {
        await using var connection = await database.OpenAsync(ct);
        await using var session = await database.BeginWriteAsync(connection, ct);
        var stored = await session.QuerySingleOrDefaultAsync<PersonRow>(GetPersonSql, new { Id = id }, ct);
        if (stored is null) return null;
        if (version is not null && version != stored.Version) return (stored.ToPerson(), -1);
        if (stored.DisabledAt is not null == disabled) return (stored.ToPerson(), stored.Version);
        var written = stored with { DisabledAt = disabled ? clock.GetUtcNow() : null };
        await session.ExecuteAsync(DisableSql, written, ct);
        var changed = written with { Version = stored.Version + 1 };
        await audit.RecordAsync(session, "person", id, disabled ? "person.disabled" : "person.enabled", actor, new { }, ct);
        await session.CommitAsync(ct);
        Forget();
        return (changed.ToPerson(), changed.Version);
    }

    /// <summary>
    /// Links a value of an issuer's partner claim to a partner: the link, and whether it is new (linking it again changes nothing);
    /// null when another partner holds the value.
    /// </summary>
    public async Task<(SignInLink Link, bool Created)?> LinkAsync(DbSession session, Guid partnerId, string issuer, string claimValue, Actor actor,
        CancellationToken ct)
    {
        var taken = await session.QuerySingleOrDefaultAsync<LinkRow>(LinkTakenSql, new { Issuer = issuer, ClaimValue = claimValue }, ct);
        if (taken is not null) return taken.PartnerId == partnerId ? (taken.ToLink(), false) : null;
        var now = clock.GetUtcNow();
        var row = new LinkRow
        {
            Id = Ids.New(now), PartnerId = partnerId, Issuer = issuer, ClaimValue = claimValue, CreatedAt = now,
            CreatedByKeyId = actor.KeyId, CreatedByPersonId = actor.PersonId,
        };
        await session.ExecuteAsync(InsertLinkSql, row, ct);
        await audit.RecordAsync(session, "partner", partnerId, "partner.sign_in_linked", actor, new { linkId = row.Id, issuer, claimValue }, ct);
        Forget();
        return (row.ToLink(), true);
    }

    public async Task<IReadOnlyList<SignInLink>> LinksAsync(Guid partnerId, CancellationToken ct) =>
        (await database.ReadAsync(s => s.QueryAsync<LinkRow>(LinksOfPartnerSql, new { PartnerId = partnerId }, ct), ct)).Select(r => r.ToLink()).ToList();

    /// <summary>Removes a link: the people it made this partner's are no one's from their next token on.</summary>
    public async Task<bool> UnlinkAsync(Guid partnerId, Guid linkId, Actor actor, CancellationToken ct)
    {
        await using var connection = await database.OpenAsync(ct);
        await using var session = await database.BeginWriteAsync(connection, ct);
        if (await session.ExecuteAsync(DeleteLinkSql, new { Id = linkId, PartnerId = partnerId }, ct) == 0) return false;
        await audit.RecordAsync(session, "partner", partnerId, "partner.sign_in_unlinked", actor, new { linkId }, ct);
        await session.CommitAsync(ct);
        Forget();
        return true;
    }

    /// <summary>Empties this instance's cache: a person was disabled or enabled, or a link changed.</summary>
    public void Forget()
    {
        Volatile.Write(ref _forgotten, clock.GetTimestamp());
        _recent.Clear();
    }

    private sealed record LinkedPartner
    {
        public Guid PartnerId { get; init; }
        public string PartnerStatus { get; init; } = "";
    }

    /// <summary>One row of <c>people</c>, as Dapper writes and reads it.</summary>
    private sealed record PersonRow
    {
        public Guid Id { get; init; }
        public string Issuer { get; init; } = "";
        public string Subject { get; init; } = "";
        public string? Email { get; init; }
        public string? DisplayName { get; init; }
        public string Roles { get; init; } = "";
        public Guid? PartnerId { get; init; }
        public DateTimeOffset CreatedAt { get; init; }
        public DateTimeOffset LastSeenAt { get; init; }
        public DateTimeOffset? DisabledAt { get; init; }
        public int Version { get; init; }

        private IReadOnlyList<ApiKeyRole> RoleList => Roles.Split(',', StringSplitOptions.RemoveEmptyEntries).Select(Json.Parse<ApiKeyRole>).ToList();

        public SignedInPerson ToSignedIn(string? partnerStatus) =>
            new(Id, DisplayName ?? Email ?? Subject, DisabledAt, PartnerId, PartnerId is null ? null : partnerStatus);

        public Person ToPerson() => new()
        {
            Id = Id, Issuer = Issuer, Subject = Subject, Email = Email, DisplayName = DisplayName ?? Email ?? Subject, Roles = RoleList,
            PartnerId = PartnerId, Disabled = DisabledAt is not null, DisabledAt = DisabledAt, CreatedAt = CreatedAt, LastSeenAt = LastSeenAt,
        };
    }

    /// <summary>One row of <c>partner_sign_in_links</c>.</summary>
    private sealed record LinkRow
    {
        public Guid Id { get; init; }
        public Guid PartnerId { get; init; }
        public string Issuer { get; init; } = "";
        public string ClaimValue { get; init; } = "";
        public DateTimeOffset CreatedAt { get; init; }
        public Guid? CreatedByKeyId { get; init; }
        public Guid? CreatedByPersonId { get; init; }

        public SignInLink ToLink() => new() { Id = Id, PartnerId = PartnerId, Issuer = Issuer, ClaimValue = ClaimValue, CreatedAt = CreatedAt };
    }
}

/// <summary>What the bearer handler needs of a signed-in person.</summary>
public sealed record SignedInPerson(Guid Id, string Display, DateTimeOffset? DisabledAt, Guid? PartnerId, string? PartnerStatus);
