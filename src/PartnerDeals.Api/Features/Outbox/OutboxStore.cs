using PartnerDeals.Api.Infrastructure.Data;
using PartnerDeals.Api.Infrastructure.Http;

namespace PartnerDeals.Api.Features.Outbox;

/// <summary>
/// The outbox's tables: <c>outbox_events</c> (what happened, as its destinations read it), <c>outbox_deliveries</c> (one per
/// event and destination: its lease, state and retries) and <c>outbox_attempts</c>. Events and deliveries are written in the
/// transaction of the change that caused them; the <see cref="OutboxDispatcher"/> leases, sends and records them.
/// </summary>
public sealed class OutboxStore(Database database)
{
    private const string DeliveryColumns = """
        d.id, d.event_id, d.destination, d.registration_id, d.event_type, d.status, d.attempts, d.next_attempt_at,
        d.last_status_code, d.last_error, d.created_at, d.updated_at, d.delivered_at
        """;

    private const string InsertEventSql = """
        INSERT INTO outbox_events (id, partner_id, registration_id, event_type, payload, occurred_at, notice_key)
        VALUES (@Id, @PartnerId, @RegistrationId, @EventType, @Payload, @OccurredAt, @NoticeKey)
        """;

    private const string InsertDeliverySql = """
        INSERT INTO outbox_deliveries (id, event_id, channel, destination, partner_id, registration_id, registration_version, event_type, status,
            attempts, next_attempt_at, created_at, updated_at)
        VALUES (@Id, @EventId, @Channel, @Destination, @PartnerId, @RegistrationId, @RegistrationVersion, @EventType, 'pending', 0, @Now, @Now, @Now)
        """;

    // Which of the destinations asked about have a delivery due and not leased by a live instance, the longest waiting first:
    // one seek each on ix_outbox_deliveries_due, however many another destination has queued.
    private const string DueDestinationsSql = """
        SELECT d.destination, MIN(d.next_attempt_at) AS waiting_since
        FROM outbox_deliveries d
        WHERE d.destination IN @Destinations AND d.status = 'pending' AND d.next_attempt_at <= @Now
        GROUP BY d.destination
        HAVING MAX(CASE WHEN d.locked_until IS NULL OR d.locked_until <= @Now THEN 1 ELSE 0 END) = 1
        ORDER BY waiting_since, d.destination
        """;

    // Due, not leased by a live instance, and the earliest pending delivery of its registration to this destination: a later
    // change waits until the earlier one is delivered or dead, so a CRM or a receiver never sees them out of order.
    private const string DueSql = """
        SELECT d.id FROM outbox_deliveries d
        WHERE d.destination = @Destination AND d.status = 'pending' AND d.next_attempt_at <= @Now
          AND (d.locked_until IS NULL OR d.locked_until <= @Now)
          AND (d.registration_id IS NULL OR NOT EXISTS (
              SELECT 1 FROM outbox_deliveries e
              WHERE e.destination = d.destination AND e.registration_id = d.registration_id AND e.status = 'pending'
                AND (e.registration_version < d.registration_version OR (e.registration_version = d.registration_version AND e.id < d.id))))
        ORDER BY d.next_attempt_at, d.id
        """;

    // The lease conditions again: of two instances that read the same due rows, the second updates none of them.
    private const string LeaseSql = """
        UPDATE outbox_deliveries SET locked_until = @LockedUntil, lease_id = @LeaseId
        WHERE id IN @Ids AND status = 'pending' AND (locked_until IS NULL OR locked_until <= @Now)
        """;

    private const string LeasedSql = """
        SELECT d.id, d.lease_id, d.attempts, d.event_id, d.event_type, d.registration_id, e.payload
        FROM outbox_deliveries d
        JOIN outbox_events e ON e.id = d.event_id
        WHERE d.id IN @Ids AND d.lease_id = @LeaseId
        """;

    // Only the holder of the lease records: an instance whose lease ran out must not overwrite the new holder's result.
    private const string RecordSql = """
        UPDATE outbox_deliveries
        SET status = @Status, attempts = @Attempts, next_attempt_at = @NextAttemptAt, locked_until = NULL, lease_id = NULL,
            last_status_code = @StatusCode, last_error = @LastError, updated_at = @Now, delivered_at = @DeliveredAt
        WHERE id = @Id AND lease_id = @LeaseId
        """;

    private const string InsertAttemptSql = """
        INSERT INTO outbox_attempts (id, delivery_id, outcome, status_code, error, response, started_at, duration_ms)
        VALUES (@Id, @DeliveryId, @Outcome, @StatusCode, @Error, @Response, @StartedAt, @DurationMs)
        """;

    private const string ListSql = "SELECT " + DeliveryColumns + """

        FROM outbox_deliveries d
        WHERE d.channel = @Channel
          AND (@Destination IS NULL OR d.destination = @Destination)
          AND (@Status IS NULL OR d.status = @Status)
          AND (@RegistrationId IS NULL OR d.registration_id = @RegistrationId)
          AND (@After IS NULL OR d.id > @After)
        ORDER BY d.id
        """;

    private const string GetSql = "SELECT " + DeliveryColumns + """

        FROM outbox_deliveries d WHERE d.id = @Id AND d.channel = @Channel AND (@Destination IS NULL OR d.destination = @Destination)
        """;

    private const string AttemptsSql = """
        SELECT delivery_id, outcome, status_code, error, response, started_at, duration_ms FROM outbox_attempts
        WHERE delivery_id IN @Ids ORDER BY id
        """;

    // Dead and not overtaken: once a later change of the registration reached the destination, sending this older one again
    // would put stale values back (for a channel whose latest delivery wins).
    private const string OvertakenSql = """
        SELECT d.id FROM outbox_deliveries d
        WHERE d.channel = @Channel AND d.status = 'dead' AND (@Id IS NULL OR d.id = @Id) AND (@Destination IS NULL OR d.destination = @Destination)
          AND NOT EXISTS (
              SELECT 1 FROM outbox_deliveries e
              WHERE e.destination = d.destination AND e.registration_id = d.registration_id AND e.status = 'delivered'
                AND (e.registration_version > d.registration_version OR (e.registration_version = d.registration_version AND e.id > d.id)))
        ORDER BY d.id
        """;

    // A dead delivery gets a fresh set of attempts; a pending one is tried now (its lease, if any, stands).
    private const string RetrySql = """
        UPDATE outbox_deliveries
        SET status = 'pending', attempts = CASE WHEN status = 'dead' THEN 0 ELSE attempts END, next_attempt_at = @Now, updated_at = @Now
        WHERE id = @Id AND channel = @Channel AND (@Destination IS NULL OR destination = @Destination) AND status IN ('dead', 'pending')
        """;

    private const string BacklogSql = """
        SELECT destination,
            SUM(CASE WHEN status = 'pending' THEN 1 ELSE 0 END) AS pending,
            SUM(CASE WHEN status = 'delivered' THEN 1 ELSE 0 END) AS delivered,
            SUM(CASE WHEN status = 'dead' THEN 1 ELSE 0 END) AS dead,
            MIN(CASE WHEN status = 'pending' THEN created_at END) AS oldest_pending_at
        FROM outbox_deliveries WHERE channel = @Channel GROUP BY destination
        """;

    private const string OldestPendingSql = """
        SELECT channel, destination, MIN(created_at) AS oldest FROM outbox_deliveries WHERE status = 'pending' GROUP BY channel, destination
        """;

    private const string EventsSinceSql = """
        SELECT e.id, e.registration_id, e.event_type FROM outbox_events e
        WHERE e.partner_id = @PartnerId AND e.occurred_at >= @Since AND e.event_type <> @Excluded
          AND NOT EXISTS (SELECT 1 FROM outbox_deliveries x WHERE x.event_id = e.id AND x.destination = @Destination AND x.status = 'pending')
        ORDER BY e.occurred_at, e.id
        """;

    private const string CountSinceSql = """
        SELECT COUNT(*) FROM outbox_deliveries WHERE destination = @Destination AND event_type = @EventType AND created_at >= @Since
        """;

    private const string NoticedSql = "SELECT COUNT(*) FROM outbox_events WHERE notice_key = @NoticeKey";

    private const string ForgetAttemptsSql = """
        DELETE FROM outbox_attempts WHERE delivery_id IN (SELECT id FROM outbox_deliveries WHERE destination = @Destination)
        """;

    private const string ForgetDeliveriesSql = "DELETE FROM outbox_deliveries WHERE destination = @Destination";

    /// <summary>Writes an event in the transaction of the change that caused it; answers its id.</summary>
    public static async Task<Guid> AddEventAsync(DbSession session, OutboxEvent e, CancellationToken ct)
    {
        var id = Ids.New(e.OccurredAt);
        await session.ExecuteAsync(InsertEventSql, new
        {
            Id = id,
            e.PartnerId,
            e.RegistrationId,
            e.EventType,
            e.Payload,
            e.OccurredAt,
            e.NoticeKey,
        }, ct);
        return id;
    }

    /// <summary>Queues an event for one destination, due at once.</summary>
    public static Task QueueAsync(DbSession session, Guid eventId, Destination to, Guid? registrationId, int registrationVersion, string eventType,
        DateTimeOffset now, CancellationToken ct) =>
        session.ExecuteAsync(InsertDeliverySql, new
        {
            Id = Ids.New(now),
            EventId = eventId,
            to.Channel,
            Destination = to.Name,
            to.PartnerId,
            RegistrationId = registrationId,
            RegistrationVersion = registrationVersion,
            EventType = eventType,
            Now = now,
        }, ct);

    /// <summary>
    /// Of <paramref name="destinations"/>, those with a delivery due and free to lease, the longest waiting first. A look that
    /// finds nothing takes no write lock, and most looks find nothing.
    /// </summary>
    public static async Task<IReadOnlyList<Destination>> DueAsync(DbSession session, IReadOnlyList<Destination> destinations, DateTimeOffset now,
        CancellationToken ct)
    {
        var byName = destinations.ToDictionary(d => d.Name);
        var due = new List<(string Name, DateTimeOffset Since)>();
        // Chunked: SQL Server takes at most 2,100 parameters.
        foreach (var chunk in destinations.Chunk(500))
        {
            var rows = await session.QueryAsync<DueRow>(DueDestinationsSql, new { Destinations = chunk.Select(d => d.Name).ToList(), Now = now }, ct);
            due.AddRange(rows.Select(r => (r.Destination, r.WaitingSince)));
        }
        return due.OrderBy(d => d.Since).ThenBy(d => d.Name, StringComparer.Ordinal).Select(d => byName[d.Name]).ToList();
    }

    /// <summary>Leases up to <paramref name="limit"/> due deliveries to <paramref name="to"/> until <paramref name="now"/> + <paramref name="lease"/>, in the order they are due.</summary>
    public async Task<IReadOnlyList<LeasedDelivery>> LeaseAsync(DbSession session, Destination to, int limit, DateTimeOffset now, TimeSpan lease,
        CancellationToken ct)
    {
        var due = await session.QueryAsync<Guid>(database.Dialect.Page(DueSql), new { Destination = to.Name, Now = now, Limit = limit }, ct);
        if (due.Count == 0) return [];
        var leaseId = Ids.New(now);
        var ids = Database.IdList(due);
        await session.ExecuteAsync(LeaseSql, new { Ids = ids, LeaseId = leaseId, LockedUntil = now + lease, Now = now }, ct);
        var leased = (await session.QueryAsync<LeasedDelivery>(LeasedSql, new { Ids = ids, LeaseId = leaseId }, ct)).ToDictionary(r => r.Id);
        return due.Where(leased.ContainsKey).Select(id => leased[id] with { To = to }).ToList();
    }

    /// <summary>Writes an attempt and the delivery's new state; false when the lease was lost to another instance.</summary>
    public static async Task<bool> RecordAsync(DbSession session, LeasedDelivery delivery, Sent sent, string status, int attempts,
        DateTimeOffset nextAttemptAt, DateTimeOffset now, CancellationToken ct)
    {
        var changed = await session.ExecuteAsync(RecordSql, new
        {
            delivery.Id,
            delivery.LeaseId,
            Status = status,
            Attempts = attempts,
            NextAttemptAt = nextAttemptAt,
            sent.StatusCode,
            LastError = sent.Verdict == AttemptVerdict.Delivered ? null : Truncate(sent.Error ?? sent.Response),
            Now = now,
            DeliveredAt = status == DeliveryStates.Delivered ? now : (DateTimeOffset?)null,
        }, ct);
        if (changed == 0) return false;
        await session.ExecuteAsync(InsertAttemptSql, new
        {
            Id = Ids.New(now),
            DeliveryId = delivery.Id,
            sent.Outcome,
            sent.StatusCode,
            Error = Truncate(sent.Error),
            sent.Response,
            sent.StartedAt,
            sent.DurationMs,
        }, ct);
        return true;
    }

    /// <summary>A page of a channel's deliveries (of one destination, status or registration), oldest first, with their attempts when asked.</summary>
    public Task<Page<StoredDelivery>> ListAsync(string channel, string? destination, string? status, Guid? registrationId,
        int pageSize, Guid? after, bool withAttempts, CancellationToken ct) =>
        database.ReadAsync(async read =>
        {
            var rows = await read.QueryAsync<StoredDelivery>(database.Dialect.Page(ListSql), new
            {
                Channel = channel,
                Destination = destination,
                Status = status,
                RegistrationId = registrationId,
                After = after,
                Limit = pageSize + 1,
            }, ct);
            var attempts = withAttempts ? await AttemptsAsync(read, rows.Take(pageSize).Select(r => r.Id), ct) : null;
            return Paging.ToPage(rows, pageSize, r => r.Id, r => r with { Attempted = attempts?[r.Id].ToList() });
        }, ct);

    public Task<StoredDelivery?> GetAsync(string channel, string? destination, Guid id, CancellationToken ct) =>
        database.ReadAsync(async read =>
        {
            var row = await read.QuerySingleOrDefaultAsync<StoredDelivery>(GetSql, new { Id = id, Channel = channel, Destination = destination }, ct);
            return row is null ? null : row with { Attempted = (await AttemptsAsync(read, [id], ct))[id].ToList() };
        }, ct);

    /// <summary>
    /// Sends deliveries again: a dead one with a fresh set of attempts, a pending one now. With <paramref name="latestWins"/>, only
    /// dead ones that no later delivered change of their registration has overtaken — one (<paramref name="id"/>) or every one of a
    /// destination or channel. Answers the ids retried.
    /// </summary>
    public static async Task<IReadOnlyList<Guid>> RetryAsync(DbSession session, string channel, string? destination, Guid? id, bool latestWins,
        DateTimeOffset now, CancellationToken ct)
    {
        var ids = latestWins
            ? await session.QueryAsync<Guid>(OvertakenSql, new { Channel = channel, Destination = destination, Id = id }, ct)
            : id is { } one ? [one] : [];
        var retried = new List<Guid>();
        foreach (var each in ids)
        {
            if (await session.ExecuteAsync(RetrySql, new { Id = each, Channel = channel, Destination = destination, Now = now }, ct) == 1) retried.Add(each);
        }
        return retried;
    }

    /// <summary>Per destination of a channel: how many deliveries wait, are done or dead, and when the oldest waiting was queued.</summary>
    public Task<IReadOnlyList<Backlog>> BacklogAsync(string channel, CancellationToken ct) =>
        database.ReadAsync<IReadOnlyList<Backlog>>(async read => await read.QueryAsync<Backlog>(BacklogSql, new { Channel = channel }, ct), ct);

    /// <summary>When the oldest pending delivery of each channel and destination was queued: the lag.</summary>
    public Task<IReadOnlyList<(string Channel, string Destination, DateTimeOffset Oldest)>> OldestPendingAsync(CancellationToken ct) =>
        database.ReadAsync<IReadOnlyList<(string, string, DateTimeOffset)>>(async read =>
            (await read.QueryAsync<OldestRow>(OldestPendingSql, null, ct)).Select(r => (r.Channel, r.Destination, r.Oldest)).ToList(), ct);

    /// <summary>A partner's events since <paramref name="since"/> (but <paramref name="excluded"/>) not already waiting for <paramref name="to"/>, in order.</summary>
    public static async Task<IReadOnlyList<(Guid Id, Guid? RegistrationId, string EventType)>> EventsSinceAsync(DbSession session, Guid partnerId,
        Destination to, DateTimeOffset since, string excluded, CancellationToken ct) =>
        (await session.QueryAsync<EventRow>(EventsSinceSql,
            new { PartnerId = partnerId, Since = since, Destination = to.Name, Excluded = excluded }, ct))
        .Select(e => (e.Id, e.RegistrationId, e.EventType)).ToList();

    /// <summary>How many deliveries of <paramref name="eventType"/> were queued for a destination since <paramref name="since"/>.</summary>
    public static async Task<long> CountSinceAsync(DbSession session, string destination, string eventType, DateTimeOffset since, CancellationToken ct) =>
        await session.ExecuteScalarAsync<long>(CountSinceSql, new { Destination = destination, EventType = eventType, Since = since }, ct);

    /// <summary>Whether an event with this notice key was written (events sent once per state).</summary>
    public static async Task<bool> NoticedAsync(DbSession session, string noticeKey, CancellationToken ct) =>
        await session.ExecuteScalarAsync<long>(NoticedSql, new { NoticeKey = noticeKey }, ct) > 0;

    /// <summary>A destination's deliveries and their attempts, when the destination itself goes.</summary>
    public static async Task ForgetAsync(DbSession session, string destination, CancellationToken ct)
    {
        await session.ExecuteAsync(ForgetAttemptsSql, new { Destination = destination }, ct);
        await session.ExecuteAsync(ForgetDeliveriesSql, new { Destination = destination }, ct);
    }

    private static async Task<ILookup<Guid, StoredAttempt>> AttemptsAsync(DbSession session, IEnumerable<Guid> ids, CancellationToken ct)
    {
        var list = ids.ToList();
        if (list.Count == 0) return Array.Empty<StoredAttempt>().ToLookup(_ => Guid.Empty);
        return (await session.QueryAsync<StoredAttempt>(AttemptsSql, new { Ids = Database.IdList(list) }, ct)).ToLookup(r => r.DeliveryId);
    }

    private static string? Truncate(string? text) => text is { Length: > 2000 } ? text[..2000] : text;

    private sealed class DueRow
    {
        public string Destination { get; set; } = "";
        public DateTimeOffset WaitingSince { get; set; }
    }

    private sealed class OldestRow
    {
        public string Channel { get; set; } = "";
        public string Destination { get; set; } = "";
        public DateTimeOffset Oldest { get; set; }
    }

    private sealed class EventRow
    {
        public Guid Id { get; set; }
        public Guid? RegistrationId { get; set; }
        public string EventType { get; set; } = "";
    }
}
