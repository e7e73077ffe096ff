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
/// <param name="ActorKeyId">The API key that made the change; null for the service itself.</param>
/// <param name="ActorRole">The role of that key, or <c>system</c>.</param>
/// <param name="OccurredAt">When, in UTC.</param>
/// <param name="Data">The change: a snapshot on creation, <c>{ "changes": { field: { "from", "to" } } }</c> on update.</param>
public sealed record AuditEvent(
    Guid Id, string EntityType, Guid EntityId, string Action, Guid? ActorKeyId, string ActorRole, DateTimeOffset OccurredAt, JsonElement Data);

/// <summary>Who made a change, for the trail.</summary>
public sealed record Actor(Guid? KeyId, string Role)
{
    public static readonly Actor System = new(null, "system");

    public static Actor From(ClaimsPrincipal user) => new(user.KeyId(), Json.Name(user.Role()));
}

/// <summary>
/// Writes audit events inside the caller's transaction, so a change and its record commit or fail
/// together, and reads them back per entity. The tables refuse UPDATE and DELETE (triggers).
/// </summary>
public sealed class AuditTrail(Database database, TimeProvider clock)
{
    private const string InsertSql = """
        INSERT INTO audit_events (id, entity_type, entity_id, action, actor_key_id, actor_role, occurred_at, data)
        VALUES (@Id, @EntityType, @EntityId, @Action, @ActorKeyId, @ActorRole, @OccurredAt, @Data)
        """;

    private const string ListForEntitySql = """
        SELECT id, entity_type, entity_id, action, actor_key_id, actor_role, occurred_at, data
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
        public DateTimeOffset OccurredAt { get; init; }
        public string Data { get; init; } = "";

        public AuditEvent ToEvent() =>
            new(Id, EntityType, EntityId, Action, ActorKeyId, ActorRole, OccurredAt, JsonDocument.Parse(Data).RootElement.Clone());
    }
}
