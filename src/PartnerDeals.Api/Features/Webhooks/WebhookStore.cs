using System.Text.Json;
using PartnerDeals.Api.Infrastructure.Data;

namespace PartnerDeals.Api.Features.Webhooks;

/// <summary>The <c>webhook_subscriptions</c> table: a partner's endpoints and their protected secrets.</summary>
public sealed class WebhookStore(Database database) : Partners.ITerminationStep
{
    private const string Columns = """
        id, partner_id, url, events, description, enabled, disabled_reason, disabled_at, secret, previous_secret, previous_secret_until,
        failing_since, version, created_at, updated_at
        """;

    private const string InsertSql = """
        INSERT INTO webhook_subscriptions (id, partner_id, url, events, description, enabled, secret, version, created_at, updated_at)
        VALUES (@Id, @PartnerId, @Url, @Events, @Description, 1, @Secret, 1, @Now, @Now)
        """;

    private const string GetSql = "SELECT " + Columns + " FROM webhook_subscriptions WHERE id = @Id AND partner_id = @PartnerId";

    private const string ListSql = "SELECT " + Columns + " FROM webhook_subscriptions WHERE partner_id = @PartnerId ORDER BY id";

    private const string CountSql = "SELECT COUNT(*) FROM webhook_subscriptions WHERE partner_id = @PartnerId";

    private const string UpdateSql = """
        UPDATE webhook_subscriptions
        SET url = @Url, events = @Events, description = @Description, enabled = @Enabled, disabled_reason = @DisabledReason,
            disabled_at = @DisabledAt, failing_since = @FailingSince, version = version + 1, updated_at = @Now
        WHERE id = @Id AND version = @ExpectedVersion
        """;

    private const string RotateSql = """
        UPDATE webhook_subscriptions
        SET secret = @Secret, previous_secret = @PreviousSecret, previous_secret_until = @PreviousUntil, version = version + 1, updated_at = @Now
        WHERE id = @Id
        """;

    private const string EnabledSql = "SELECT " + Columns + " FROM webhook_subscriptions WHERE enabled = 1 ORDER BY id";

    private const string DeliveredToSql = "UPDATE webhook_subscriptions SET failing_since = NULL WHERE id = @Id AND failing_since IS NOT NULL";

    private const string FailedToSql = "UPDATE webhook_subscriptions SET failing_since = @Now WHERE id = @Id AND failing_since IS NULL";

    private const string DisableSql = """
        UPDATE webhook_subscriptions SET enabled = 0, disabled_reason = @Reason, disabled_at = @Now, version = version + 1, updated_at = @Now
        WHERE id = @Id AND enabled = 1 AND (@FailingBefore IS NULL OR failing_since <= @FailingBefore)
        """;

    private const string DeleteSql = "DELETE FROM webhook_subscriptions WHERE id = @Id";

    private const string DisableAllOfPartnerSql = """
        UPDATE webhook_subscriptions SET enabled = 0, disabled_reason = 'partner_terminated', disabled_at = @Now, version = version + 1, updated_at = @Now
        WHERE partner_id = @PartnerId AND enabled = 1
        """;

    public async Task InsertAsync(DbSession session, StoredWebhook webhook, CancellationToken ct) =>
        await session.ExecuteAsync(InsertSql, new
        {
            webhook.Id,
            webhook.PartnerId,
            webhook.Url,
            Events = JsonSerializer.Serialize(webhook.Events),
            webhook.Description,
            Secret = webhook.ProtectedSecret,
            Now = webhook.CreatedAt,
        }, ct);

    public async Task<int> CountAsync(DbSession session, Guid partnerId, CancellationToken ct) =>
        await session.ExecuteScalarAsync<int>(CountSql, new { PartnerId = partnerId }, ct);

    public async Task<StoredWebhook?> GetAsync(DbSession session, Guid partnerId, Guid id, CancellationToken ct) =>
        (await session.QuerySingleOrDefaultAsync<Row>(GetSql, new { Id = id, PartnerId = partnerId }, ct))?.ToStored();

    public Task<StoredWebhook?> GetAsync(Guid partnerId, Guid id, CancellationToken ct) =>
        database.ReadAsync(session => GetAsync(session, partnerId, id, ct), ct);

    public Task<IReadOnlyList<StoredWebhook>> ListAsync(Guid partnerId, CancellationToken ct) =>
        database.ReadAsync<IReadOnlyList<StoredWebhook>>(async session =>
            (await session.QueryAsync<Row>(ListSql, new { PartnerId = partnerId }, ct)).Select(r => r.ToStored()).ToList(), ct);

    /// <summary>Writes <paramref name="changed"/> if the stored endpoint is still at <paramref name="expectedVersion"/>.</summary>
    public async Task<bool> UpdateAsync(DbSession session, StoredWebhook changed, int expectedVersion, CancellationToken ct) =>
        await session.ExecuteAsync(UpdateSql, new
        {
            ExpectedVersion = expectedVersion,
            changed.Id,
            changed.Url,
            Events = JsonSerializer.Serialize(changed.Events),
            changed.Description,
            changed.Enabled,
            changed.DisabledReason,
            changed.DisabledAt,
            changed.FailingSince,
            Now = changed.UpdatedAt,
        }, ct) == 1;

    public async Task RotateAsync(DbSession session, Guid id, string protectedSecret, string previousProtected, DateTimeOffset previousUntil,
        DateTimeOffset now, CancellationToken ct) =>
        await session.ExecuteAsync(RotateSql,
            new { Id = id, Secret = protectedSecret, PreviousSecret = previousProtected, PreviousUntil = previousUntil, Now = now }, ct);

    /// <summary>The endpoint, its deliveries and their attempts.</summary>
    public async Task DeleteAsync(DbSession session, Guid id, CancellationToken ct)
    {
        await Outbox.OutboxStore.ForgetAsync(session, id.ToString("D"), ct);
        await session.ExecuteAsync(DeleteSql, new { Id = id }, ct);
    }

    /// <summary>Every enabled endpoint: where the outbox delivers.</summary>
    public async Task<IReadOnlyList<StoredWebhook>> EnabledAsync(DbSession session, CancellationToken ct) =>
        (await session.QueryAsync<Row>(EnabledSql, null, ct)).Select(r => r.ToStored()).ToList();

    /// <summary>The endpoint delivers: it is failing no more.</summary>
    public Task DeliveredToAsync(DbSession session, Guid id, CancellationToken ct) => session.ExecuteAsync(DeliveredToSql, new { Id = id }, ct);

    /// <summary>The endpoint failed: failing since now, unless it already was.</summary>
    public Task FailedToAsync(DbSession session, Guid id, DateTimeOffset now, CancellationToken ct) =>
        session.ExecuteAsync(FailedToSql, new { Id = id, Now = now }, ct);

    /// <summary>Disables the endpoint for <paramref name="reason"/> — when failing since before <paramref name="failingBefore"/>, or at once for null; true when it was enabled.</summary>
    public async Task<bool> DisableFailingAsync(DbSession session, Guid id, string reason, DateTimeOffset now, DateTimeOffset? failingBefore,
        CancellationToken ct) =>
        await session.ExecuteAsync(DisableSql, new { Id = id, Reason = reason, Now = now, FailingBefore = failingBefore }, ct) == 1;

    /// <summary>A terminated partner's endpoints stop receiving anything.</summary>
    public async Task<int> DisableAllOfPartnerAsync(DbSession session, Guid partnerId, DateTimeOffset now, CancellationToken ct) =>
        await session.ExecuteAsync(DisableAllOfPartnerSql, new { PartnerId = partnerId, Now = now }, ct);

    int Partners.ITerminationStep.Order => 2;

    string Partners.ITerminationStep.Recorded => "disabledWebhooks";

    Task<int> Partners.ITerminationStep.TerminateAsync(DbSession session, Guid partnerId, Audit.Actor actor, DateTimeOffset now, CancellationToken ct) =>
        DisableAllOfPartnerAsync(session, partnerId, now, ct);

    private sealed class Row
    {
        public Guid Id { get; set; }
        public Guid PartnerId { get; set; }
        public string Url { get; set; } = "";
        public string Events { get; set; } = "[]";
        public string? Description { get; set; }
        public bool Enabled { get; set; }
        public string? DisabledReason { get; set; }
        public DateTimeOffset? DisabledAt { get; set; }
        public string Secret { get; set; } = "";
        public string? PreviousSecret { get; set; }
        public DateTimeOffset? PreviousSecretUntil { get; set; }
        public DateTimeOffset? FailingSince { get; set; }
        public int Version { get; set; }
        public DateTimeOffset CreatedAt { get; set; }
        public DateTimeOffset UpdatedAt { get; set; }

        public StoredWebhook ToStored() => new()
        {
            Id = Id,
            PartnerId = PartnerId,
            Url = Url,
            Events = JsonSerializer.Deserialize<List<string>>(Events) ?? [],
            Description = Description,
            Enabled = Enabled,
            DisabledReason = DisabledReason,
            DisabledAt = DisabledAt,
            ProtectedSecret = Secret,
            ProtectedPreviousSecret = PreviousSecret,
            PreviousSecretUntil = PreviousSecretUntil,
            FailingSince = FailingSince,
            Version = Version,
            CreatedAt = CreatedAt,
            UpdatedAt = UpdatedAt,
        };
    }
}

/// <summary>An endpoint as stored: its secrets still protected.</summary>
public sealed record StoredWebhook
{
    public required Guid Id { get; init; }
    public required Guid PartnerId { get; init; }
    public required string Url { get; init; }
    public required IReadOnlyList<string> Events { get; init; }
    public string? Description { get; init; }
    public bool Enabled { get; init; } = true;
    public string? DisabledReason { get; init; }
    public DateTimeOffset? DisabledAt { get; init; }
    public required string ProtectedSecret { get; init; }
    public string? ProtectedPreviousSecret { get; init; }
    public DateTimeOffset? PreviousSecretUntil { get; init; }
    public DateTimeOffset? FailingSince { get; init; }

    /// <summary>Moves with every change: the ETag.</summary>
    public int Version { get; init; } = 1;

    public required DateTimeOffset CreatedAt { get; init; }
    public required DateTimeOffset UpdatedAt { get; init; }

    /// <summary>What a caller reads: never a secret.</summary>
    public WebhookSubscription ToSubscription(DateTimeOffset now) => new()
    {
        Id = Id,
        PartnerId = PartnerId,
        Url = Url,
        Events = Events,
        Description = Description,
        Enabled = Enabled,
        DisabledReason = DisabledReason,
        DisabledAt = DisabledAt,
        PreviousSecretValidUntil = PreviousSecretUntil > now ? PreviousSecretUntil : null,
        FailingSince = FailingSince,
        CreatedAt = CreatedAt,
        UpdatedAt = UpdatedAt,
    };

    /// <summary>What the audit trail records of it: never a secret.</summary>
    public object AuditFields() => new { Url, Events, Description, Enabled, DisabledReason };
}
