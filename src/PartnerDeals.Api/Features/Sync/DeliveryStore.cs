using Dapper;
using PartnerDeals.Api.Features.Audit;
using PartnerDeals.Api.Infrastructure.Data;
using PartnerDeals.Api.Infrastructure.Http;

namespace PartnerDeals.Api.Features.Sync;

/// <summary>The <c>deliveries</c> table: leases, results, and what ops see and retry.</summary>
public sealed class DeliveryStore(Database database, AuditTrail audit)
{
    private const string Columns = """
        id, registration_id, crm, event_type, status, attempts, next_attempt_at, last_status_code, last_error, created_at, updated_at, delivered_at
        """;

    private const string InsertSql = """
        INSERT INTO deliveries (id, outbox_id, registration_id, registration_version, crm, event_type, status, attempts, next_attempt_at,
            created_at, updated_at)
        VALUES (@Id, @OutboxId, @RegistrationId, @RegistrationVersion, @Crm, @EventType, @Status, @Attempts, @NextAttemptAt, @CreatedAt, @UpdatedAt)
        """;

    // Due, not leased by a live instance, and the earliest pending change of its registration for this CRM:
    // a later change waits until the earlier one is delivered or dead, so a CRM never sees them out of order.
    private const string DueSql = """
        SELECT d.id FROM deliveries d
        WHERE d.crm = @Crm AND d.status = 'pending' AND d.next_attempt_at <= @Now
          AND (d.locked_until IS NULL OR d.locked_until <= @Now)
          AND NOT EXISTS (
              SELECT 1 FROM deliveries e
              WHERE e.registration_id = d.registration_id AND e.crm = d.crm AND e.status = 'pending'
                AND (e.registration_version < d.registration_version OR (e.registration_version = d.registration_version AND e.id < d.id)))
        ORDER BY d.next_attempt_at, d.id
        """;

    // The lease conditions again: of two instances that read the same due rows, the second updates none of them.
    private const string LeaseSql = """
        UPDATE deliveries SET locked_until = @LockedUntil, lease_id = @LeaseId
        WHERE id IN @Ids AND status = 'pending' AND (locked_until IS NULL OR locked_until <= @Now)
        """;

    private const string LeasedSql = """
        SELECT d.id, d.lease_id, d.attempts, d.event_type, o.payload, p.name AS partner_name
        FROM deliveries d
        JOIN outbox o ON o.id = d.outbox_id
        JOIN registrations r ON r.id = d.registration_id
        JOIN partners p ON p.id = r.partner_id
        WHERE d.id IN @Ids AND d.lease_id = @LeaseId
        """;

    // Only the holder of the lease records: an instance whose lease ran out must not overwrite the new holder's result.
    private const string RecordSql = """
        UPDATE deliveries
        SET status = @Status, attempts = @Attempts, next_attempt_at = @NextAttemptAt, locked_until = NULL, lease_id = NULL,
            last_status_code = @LastStatusCode, last_error = @LastError, updated_at = @UpdatedAt, delivered_at = @DeliveredAt
        WHERE id = @Id AND lease_id = @LeaseId
        """;

    private const string InsertAttemptSql = """
        INSERT INTO delivery_attempts (id, delivery_id, outcome, status_code, error, started_at, duration_ms)
        VALUES (@Id, @DeliveryId, @Outcome, @StatusCode, @Error, @StartedAt, @DurationMs)
        """;

    private const string ListSql = "SELECT " + Columns + """

        FROM deliveries
        WHERE (@Status IS NULL OR status = @Status)
          AND (@Crm IS NULL OR crm = @Crm)
          AND (@RegistrationId IS NULL OR registration_id = @RegistrationId)
          AND (@After IS NULL OR id > @After)
        ORDER BY id
        """;

    private const string GetSql = "SELECT " + Columns + " FROM deliveries WHERE id = @Id";

    private const string AttemptsSql = """
        SELECT outcome, status_code, error, started_at, duration_ms FROM delivery_attempts WHERE delivery_id = @Id ORDER BY id
        """;

    // Dead and not overtaken: once a later change of the registration reached the CRM, sending this
    // older one again would put stale values back.
    private const string RetryableSql = """
        SELECT d.id FROM deliveries d
        WHERE d.status = 'dead' AND (@Id IS NULL OR d.id = @Id) AND (@Crm IS NULL OR d.crm = @Crm)
          AND NOT EXISTS (
              SELECT 1 FROM deliveries e
              WHERE e.registration_id = d.registration_id AND e.crm = d.crm AND e.status = 'delivered'
                AND (e.registration_version > d.registration_version OR (e.registration_version = d.registration_version AND e.id > d.id)))
        ORDER BY d.id
        """;

    private const string RetrySql = """
        UPDATE deliveries SET status = 'pending', attempts = 0, next_attempt_at = @Now, locked_until = NULL, lease_id = NULL, updated_at = @Now
        WHERE id = @Id AND status = 'dead'
        """;

    private const string BacklogSql = """
        SELECT crm, status, COUNT(*) AS count, MIN(created_at) AS oldest FROM deliveries GROUP BY crm, status
        """;

    private const string OldestPendingSql = """
        SELECT crm, MIN(created_at) AS oldest FROM deliveries WHERE status = 'pending' GROUP BY crm
        """;

    private const string InsertOutboxSql = """
        INSERT INTO outbox (id, registration_id, event_type, payload, occurred_at)
        VALUES (@Id, @RegistrationId, @EventType, @Payload, @OccurredAt)
        """;

    /// <summary>
    /// Queues a change of a registration for every enabled CRM, in the change's own transaction: one outbox row with the
    /// payload each CRM is sent, and a delivery per CRM.
    /// </summary>
    public static async Task QueueChangeAsync(DbSession session, Guid registrationId, int registrationVersion, string eventType, string payload,
        IReadOnlyList<string> crms, DateTimeOffset now, CancellationToken ct)
    {
        var outboxId = Ids.New(now);
        await session.ExecuteAsync(InsertOutboxSql,
            new { Id = outboxId, RegistrationId = registrationId, EventType = eventType, Payload = payload, OccurredAt = now }, ct);
        foreach (var crm in crms) await QueueAsync(session, outboxId, registrationId, registrationVersion, eventType, crm, now, ct);
    }

    /// <summary>Queues a change of a registration (its outbox row) for one CRM, in the change's own transaction.</summary>
    private static Task QueueAsync(DbSession session, Guid outboxId, Guid registrationId, int registrationVersion, string eventType, string crm,
        DateTimeOffset now, CancellationToken ct) =>
        session.ExecuteAsync(InsertSql, new DeliveryRow
        {
            Id = Ids.New(now),
            OutboxId = outboxId,
            RegistrationId = registrationId,
            RegistrationVersion = registrationVersion,
            Crm = crm,
            EventType = eventType,
            Status = Json.Name(DeliveryStatus.Pending),
            Attempts = 0,
            NextAttemptAt = now,
            CreatedAt = now,
            UpdatedAt = now,
        }, ct);

    /// <summary>Leases up to <paramref name="limit"/> due deliveries of <paramref name="crm"/> until <paramref name="now"/> + <paramref name="lease"/>.</summary>
    public async Task<IReadOnlyList<ClaimedDelivery>> ClaimAsync(string crm, int limit, DateTimeOffset now, TimeSpan lease, CancellationToken ct)
    {
        await using var connection = await database.OpenAsync(ct);
        await using var session = await database.BeginWriteAsync(connection, ct);
        var due = (await session.QueryAsync<Guid>(database.Dialect.Page(DueSql), new { Crm = crm, Now = now, Limit = limit }, ct))
            .ToList();
        if (due.Count == 0) return [];
        var leaseId = Ids.New(now);
        var ids = Database.IdList(due);
        await session.ExecuteAsync(LeaseSql, new { Ids = ids, LeaseId = leaseId, LockedUntil = now + lease, Now = now }, ct);
        var leased = (await session.QueryAsync<ClaimedRow>(LeasedSql, new { Ids = ids, LeaseId = leaseId }, ct)).ToList();
        await session.CommitAsync(ct);
        return leased.Select(r => new ClaimedDelivery(r.Id, r.LeaseId, r.Attempts, r.EventType, r.Payload, r.PartnerName)).ToList();
    }

    /// <summary>Writes an attempt and the delivery's new state; false when the lease was lost to another instance.</summary>
    public async Task<bool> RecordAsync(
        ClaimedDelivery claimed, AttemptResult result, DeliveryStatus status, int attempts, DateTimeOffset nextAttemptAt,
        DateTimeOffset startedAt, DateTimeOffset now, CancellationToken ct)
    {
        await using var connection = await database.OpenAsync(ct);
        await using var session = await database.BeginWriteAsync(connection, ct);
        var changed = await session.ExecuteAsync(RecordSql, new DeliveryRow
        {
            Id = claimed.Id,
            LeaseId = claimed.LeaseId,
            Status = Json.Name(status),
            Attempts = attempts,
            NextAttemptAt = nextAttemptAt,
            LastStatusCode = result.StatusCode,
            LastError = result.Outcome == AttemptOutcome.Delivered || result.Error is null ? null : CrmAnswers.Truncate(result.Error),
            UpdatedAt = now,
            DeliveredAt = status == DeliveryStatus.Delivered ? now : null,
        }, ct);
        if (changed == 0) return false;
        await session.ExecuteAsync(InsertAttemptSql, new DeliveryAttemptRow
        {
            Id = Ids.New(now),
            DeliveryId = claimed.Id,
            Outcome = Json.Name(result.Outcome),
            StatusCode = result.StatusCode,
            Error = result.Error is null ? null : CrmAnswers.Truncate(result.Error),
            StartedAt = startedAt,
            DurationMs = (int)Math.Min(int.MaxValue, (now - startedAt).TotalMilliseconds),
        }, ct);
        await session.CommitAsync(ct);
        return true;
    }

    public async Task<Page<Delivery>> ListAsync(DeliveryStatus? status, string? crm, Guid? registrationId, int pageSize, Guid? after, CancellationToken ct)
    {
        var rows = (await database.ReadAsync(read => read.QueryAsync<DeliveryRow>(database.Dialect.Page(ListSql), new
        {
            Status = status is { } s ? Json.Name(s) : null,
            Crm = crm,
            RegistrationId = registrationId,
            After = after,
            Limit = pageSize + 1,
        }, ct), ct)).ToList();
        return Paging.ToPage(rows, pageSize, r => r.Id, r => r.ToDelivery(null));
    }

    public async Task<Delivery?> GetAsync(Guid id, CancellationToken ct)
    {
        var row = await database.ReadAsync(read => read.QuerySingleOrDefaultAsync<DeliveryRow>(GetSql, new { Id = id }, ct), ct);
        if (row is null) return null;
        var attempts = await database.ReadAsync(read => read.QueryAsync<DeliveryAttemptRow>(AttemptsSql, new { Id = id }, ct), ct);
        return row.ToDelivery(attempts.Select(a => new DeliveryAttempt(Json.Parse<AttemptOutcome>(a.Outcome), a.StatusCode, a.Error, a.StartedAt, a.DurationMs))
            .ToList());
    }

    /// <summary>
    /// Makes dead deliveries pending again with a fresh set of attempts — one (<paramref name="id"/>) or
    /// every one of a CRM or of all — except those a later delivered change has overtaken. Answers the ids retried.
    /// </summary>
    public async Task<IReadOnlyList<Guid>> RetryAsync(Guid? id, string? crm, Actor actor, DateTimeOffset now, CancellationToken ct)
    {
        await using var connection = await database.OpenAsync(ct);
        await using var session = await database.BeginWriteAsync(connection, ct);
        var ids = (await session.QueryAsync<Guid>(RetryableSql, new { Id = id, Crm = crm }, ct)).ToList();
        foreach (var retried in ids)
        {
            await session.ExecuteAsync(RetrySql, new { Id = retried, Now = now }, ct);
            await audit.RecordAsync(session, "delivery", retried, "delivery.retried", actor, new { }, ct);
        }
        await session.CommitAsync(ct);
        return ids;
    }

    public async Task<IReadOnlyList<CrmBacklog>> BacklogAsync(IEnumerable<string> crms, CancellationToken ct)
    {
        var rows = (await database.ReadAsync(read => read.QueryAsync<BacklogRow>(BacklogSql, null, ct), ct)).ToList();
        return crms.Union(rows.Select(r => r.Crm)).Order().Select(crm =>
        {
            int Count(string status) => rows.Where(r => r.Crm == crm && r.Status == status).Sum(r => r.Count);
            var oldest = rows.FirstOrDefault(r => r.Crm == crm && r.Status == "pending")?.Oldest;
            return new CrmBacklog(crm, Count("pending"), Count("delivered"), Count("dead"), oldest);
        }).ToList();
    }

    /// <summary>When the oldest pending delivery of each CRM was created: the sync lag.</summary>
    public async Task<IReadOnlyDictionary<string, DateTimeOffset>> OldestPendingAsync(CancellationToken ct)
    {
        var rows = await database.ReadAsync(read => read.QueryAsync<BacklogRow>(OldestPendingSql, null, ct), ct);
        return rows.Where(r => r.Oldest is not null).ToDictionary(r => r.Crm, r => r.Oldest!.Value);
    }

    private sealed class ClaimedRow
    {
        public Guid Id { get; set; }
        public Guid LeaseId { get; set; }
        public int Attempts { get; set; }
        public string EventType { get; set; } = "";
        public string Payload { get; set; } = "";
        public string PartnerName { get; set; } = "";
    }

    private sealed class BacklogRow
    {
        public string Crm { get; set; } = "";
        public string Status { get; set; } = "";
        public int Count { get; set; }
        public DateTimeOffset? Oldest { get; set; }
    }
}
