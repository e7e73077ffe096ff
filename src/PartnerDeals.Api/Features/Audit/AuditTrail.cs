using System.Security.Claims;
using System.Text.Json;
using Dapper;
using PartnerDeals.Api.Infrastructure.Auth;
using PartnerDeals.Api.Infrastructure.Data;
using PartnerDeals.Api.Infrastructure.Http;

namespace PartnerDeals.Api.Features.Audit;

/// <summary>One immutable record of a change: who, when, what happened and the data (for an update, each field's from → to).</summary>
/// <param name="Id">The event's id.</param>
/// <param name="EntityType">What changed: <c>partner</c>, <c>api_key</c>, later <c>registration</c> and <c>conflict</c>.</param>
/// <param name="EntityId">The id of what changed.</param>
/// <param name="Action">What happened, e.g. <c>partner.updated</c>.</param>
/// <param name="ActorKeyId">The API key that made the change; null for a person or the service itself.</param>
/// <param name="ActorRole">The role it acted in, or <c>system</c>.</param>
/// <param name="Actor">Who made the change: a person, an API key or the service itself.</param>
/// <param name="OccurredAt">When, in UTC.</param>
/// <param name="Data">The change: a snapshot on creation, <c>{ "changes": { field: { "from", "to" } } }</c> on update.</param>
public sealed record AuditEvent(
    Guid Id, string EntityType, Guid EntityId, string Action, Guid? ActorKeyId, string ActorRole, AuditActor Actor, DateTimeOffset OccurredAt,
    JsonElement Data);

/// <summary>Who made a change, as the trail shows it.</summary>
/// <param name="Kind"><c>person</c> (signed in through an issuer), <c>api_key</c> or <c>system</c>.</param>
/// <param name="PersonId">The person; null unless kind is person.</param>
/// <param name="Display">The person's name, or the key's name; null for the service.</param>
/// <param name="KeyId">The API key; null unless kind is api_key.</param>
/// <param name="Role">The role it acted in, or <c>system</c>.</param>
/// <param name="Asserted">Who a partner portal said was acting behind its key (<c>X-Acting-User</c>): asserted, never verified.</param>
public sealed record AuditActor(string Kind, Guid? PersonId, string? Display, Guid? KeyId, string Role, string? Asserted);

/// <summary>The kinds of actor.</summary>
public static class ActorKinds
{
    public const string Person = "person";
    public const string ApiKey = "api_key";
    public const string System = "system";
}

/// <summary>Who made a change, for the trail: a person, an API key (with what its portal asserted) or the service.</summary>
public sealed record Actor(Guid? KeyId, string Role, string Kind, Guid? PersonId, string? Display, string? Asserted)
{
    public static readonly Actor System = new(null, "system", ActorKinds.System, null, null, null);

    public static Actor From(ClaimsPrincipal user) => user.PersonId() is { } person
        ? new(null, Json.Name(user.Role()), ActorKinds.Person, person, user.FindFirstValue(Caller.DisplayClaim), null)
        : new(user.KeyId(), Json.Name(user.Role()), ActorKinds.ApiKey, null, user.FindFirstValue(Caller.DisplayClaim),
            user.FindFirstValue(Caller.ActingUserClaim));
}

/// <summary>
/// Writes audit events inside the caller's transaction, so a change and its record commit or fail
/// together, and reads them back per entity. The tables refuse UPDATE and DELETE (triggers).
/// </summary>
public sealed class AuditTrail(Database database, TimeProvider clock)
{
    private const string InsertSql = """
        INSERT INTO audit_events (id, entity_type, entity_id, action, actor_key_id, actor_role, actor_kind, actor_person_id, actor_display,
            actor_asserted, occurred_at, data)
        VALUES (@Id, @EntityType, @EntityId, @Action, @ActorKeyId, @ActorRole, @ActorKind, @ActorPersonId, @ActorDisplay, @ActorAsserted,
            @OccurredAt, @Data)
        """;

    private const string ListForEntitySql = """
        SELECT id, entity_type, entity_id, action, actor_key_id, actor_role, actor_kind, actor_person_id, actor_display, actor_asserted,
            occurred_at, data
        FROM audit_events
        WHERE entity_type = @EntityType AND entity_id = @EntityId AND (@After IS NULL OR id > @After)
        ORDER BY id
        """;

    public Task RecordAsync(DbSession session, string entityType, Guid entityId, string action, Actor actor, object data, CancellationToken ct) =>
        session.ExecuteAsync(InsertSql, new AuditRow
        {
            Id = Ids.New(clock.GetUtcNow()),
            EntityType = entityType,
            EntityId = entityId,
            Action = action,
            ActorKeyId = actor.KeyId,
            ActorRole = actor.Role,
            ActorKind = actor.Kind,
            ActorPersonId = actor.PersonId,
            ActorDisplay = actor.Display,
            ActorAsserted = actor.Asserted,
            OccurredAt = clock.GetUtcNow(),
            Data = JsonSerializer.Serialize(data, Json.Options),
        }, ct);

    public async Task<Page<AuditEvent>> ListAsync(string entityType, Guid entityId, int pageSize, Guid? after, CancellationToken ct)
    {
        var rows = (await database.ReadAsync(read => read.QueryAsync<AuditRow>(database.Dialect.Page(ListForEntitySql),
            new { EntityType = entityType, EntityId = entityId, After = after, Limit = pageSize + 1 }, ct), ct)).AsList();
        return Paging.ToPage(rows, pageSize, r => r.Id, r => r.ToEvent());
    }

    /// <summary>For an update: every field whose value differs, as <c>{ field: { from, to } }</c>.</summary>
    public static Dictionary<string, object?> Changes(IReadOnlyDictionary<string, object?> before, IReadOnlyDictionary<string, object?> after)
    {
        var changes = new Dictionary<string, object?>();
        foreach (var (field, to) in after)
        {
            var from = before.GetValueOrDefault(field);
            if (!Equals(from, to)) changes[field] = new { from, to };
        }
        return changes;
    }

    /// <summary>One row of <c>audit_events</c>, as Dapper writes it (its properties are the statement's parameters) and reads it back.</summary>
    private sealed record AuditRow
    {
        public Guid Id { get; init; }
        public string EntityType { get; init; } = "";
        public Guid EntityId { get; init; }
        public string Action { get; init; } = "";
        public Guid? ActorKeyId { get; init; }
        public string ActorRole { get; init; } = "";

        /// <summary>Null on events written before people signed in: a key's, or the service's.</summary>
        public string? ActorKind { get; init; }

        public Guid? ActorPersonId { get; init; }
        public string? ActorDisplay { get; init; }
        public string? ActorAsserted { get; init; }
        public DateTimeOffset OccurredAt { get; init; }
        public string Data { get; init; } = "";

        public AuditEvent ToEvent()
        {
            var kind = ActorKind ?? (ActorKeyId is null ? ActorKinds.System : ActorKinds.ApiKey);
            var actor = new AuditActor(kind, ActorPersonId, ActorDisplay, ActorKeyId, ActorRole, ActorAsserted);
            return new(Id, EntityType, EntityId, Action, ActorKeyId, ActorRole, actor, OccurredAt, JsonDocument.Parse(Data).RootElement.Clone());
        }
    }
}
