using PartnerDeals.Api.Features.Audit;
using PartnerDeals.Api.Infrastructure.Data;
using PartnerDeals.Api.Infrastructure.Http;

namespace PartnerDeals.Api.Features.Webhooks;

/// <summary>The <c>webhook_deliveries</c> and <c>webhook_attempts</c> tables: leases, results, the log a partner reads, retries and replays.</summary>
public sealed class WebhookDeliveries(Database database, AuditTrail audit)
{
    private const string Columns = """
        d.id, d.subscription_id, d.event_id, d.event_type, d.status, d.attempts, d.next_attempt_at, d.created_at, d.delivered_at
        """;

    // The enabled endpoints with a delivery due and not leased by a live instance, the longest waiting first: one seek each
    // on ix_webhook_deliveries_endpoint_due, however many deliveries a flood has queued.
    private const string EndpointsDueSql = """
        SELECT s.id AS subscription_id, s.partner_id,
            (SELECT MIN(w.next_attempt_at) FROM webhook_deliveries w
             WHERE w.subscription_id = s.id AND w.status = 'pending' AND w.next_attempt_at <= @Now) AS waiting_since
        FROM webhook_subscriptions s
        WHERE s.enabled = 1 AND EXISTS (
            SELECT 1 FROM webhook_deliveries d
            WHERE d.subscription_id = s.id AND d.status = 'pending' AND d.next_attempt_at <= @Now AND (d.locked_until IS NULL OR d.locked_until <= @Now))
        ORDER BY waiting_since, s.id
        """;

    // One endpoint's due deliveries, oldest first, each the earliest pending delivery of its registration to that endpoint:
    // a later change waits until the earlier one is delivered or dead, so a receiver sees them in order.
    private const string DueSql = """
        SELECT d.id FROM webhook_deliveries d
        WHERE d.subscription_id = @SubscriptionId AND d.status = 'pending' AND d.next_attempt_at <= @Now
          AND (d.locked_until IS NULL OR d.locked_until <= @Now)
          AND (d.registration_id IS NULL OR NOT EXISTS (
              SELECT 1 FROM webhook_deliveries e
              WHERE e.subscription_id = d.subscription_id AND e.registration_id = d.registration_id AND e.status = 'pending' AND e.id < d.id))
        ORDER BY d.next_attempt_at, d.id
        """;

    // The lease conditions again: of two instances that read the same due rows, the second updates none of them.
    private const string LeaseSql = """
        UPDATE webhook_deliveries SET locked_until = @LockedUntil, lease_id = @LeaseId
        WHERE id IN @Ids AND status = 'pending' AND (locked_until IS NULL OR locked_until <= @Now)
        """;

    private const string LeasedSql = """
        SELECT d.id, d.lease_id, d.attempts, d.event_id, d.event_type, d.subscription_id, s.partner_id, e.payload, s.url,
            s.secret AS protected_secret, s.previous_secret AS protected_previous_secret, s.previous_secret_until
        FROM webhook_deliveries d
        JOIN webhook_events e ON e.id = d.event_id
        JOIN webhook_subscriptions s ON s.id = d.subscription_id
        WHERE d.id IN @Ids AND d.lease_id = @LeaseId
        ORDER BY d.id
        """;

    // Only the holder of the lease records: an instance whose lease ran out must not overwrite the new holder's result.
    private const string RecordSql = """
        UPDATE webhook_deliveries
        SET status = @Status, attempts = @Attempts, next_attempt_at = @NextAttemptAt, locked_until = NULL, lease_id = NULL,
            last_status_code = @StatusCode, last_error = @Error, updated_at = @Now, delivered_at = @DeliveredAt
        WHERE id = @Id AND lease_id = @LeaseId
        """;

    private const string InsertAttemptSql = """
        INSERT INTO webhook_attempts (id, delivery_id, outcome, status_code, error, response, started_at, latency_ms)
        VALUES (@Id, @DeliveryId, @Outcome, @StatusCode, @Error, @Response, @StartedAt, @LatencyMs)
        """;

    private const string DeliveredToSql = "UPDATE webhook_subscriptions SET failing_since = NULL WHERE id = @Id AND failing_since IS NOT NULL";

    private const string FailedToSql = "UPDATE webhook_subscriptions SET failing_since = @Now WHERE id = @Id AND failing_since IS NULL";

    private const string DisableSql = """
        UPDATE webhook_subscriptions SET enabled = 0, disabled_reason = @Reason, disabled_at = @Now, version = version + 1, updated_at = @Now
        WHERE id = @Id AND enabled = 1 AND (@FailingBefore IS NULL OR failing_since <= @FailingBefore)
        """;

    private const string ListSql = "SELECT " + Columns + """

        FROM webhook_deliveries d
        WHERE d.subscription_id = @SubscriptionId AND (@Status IS NULL OR d.status = @Status) AND (@After IS NULL OR d.id > @After)
        ORDER BY d.id
        """;

    private const string GetSql = "SELECT " + Columns + " FROM webhook_deliveries d WHERE d.id = @Id AND d.subscription_id = @SubscriptionId";

    private const string AttemptsSql = """
        SELECT delivery_id, outcome, status_code, latency_ms, response, error, started_at FROM webhook_attempts
        WHERE delivery_id IN @Ids ORDER BY id
        """;

    private const string RetrySql = """
        UPDATE webhook_deliveries
        SET status = 'pending', attempts = CASE WHEN status = 'dead' THEN 0 ELSE attempts END, next_attempt_at = @Now, updated_at = @Now
        WHERE id = @Id AND subscription_id = @SubscriptionId AND status IN ('dead', 'pending')
        """;

    private const string EventsSinceSql = """
        SELECT e.id, e.registration_id, e.event_type FROM webhook_events e
        WHERE e.partner_id = @PartnerId AND e.occurred_at >= @Since AND e.event_type <> 'webhook.test'
          AND NOT EXISTS (SELECT 1 FROM webhook_deliveries x WHERE x.event_id = e.id AND x.subscription_id = @SubscriptionId AND x.status = 'pending')
        ORDER BY e.occurred_at, e.id
        """;

    private const string TestsSinceSql = """
        SELECT COUNT(*) FROM webhook_deliveries d JOIN webhook_events e ON e.id = d.event_id
        WHERE d.subscription_id = @SubscriptionId AND e.event_type = 'webhook.test' AND d.created_at >= @Since
        """;

    private const string OldestPendingSql = "SELECT MIN(created_at) AS oldest FROM webhook_deliveries WHERE status = 'pending'";

    /// <summary>
    /// The endpoints (and their partners) with a delivery due: a look that finds nothing it could send takes no write lock, and
    /// most looks find nothing, or only endpoints with no room left.
    /// </summary>
    public Task<IReadOnlyList<(Guid Endpoint, Guid Partner)>> DueEndpointsAsync(DateTimeOffset now, CancellationToken ct) =>
        database.ReadAsync<IReadOnlyList<(Guid, Guid)>>(async session =>
            (await session.QueryAsync<EndpointDue>(EndpointsDueSql, new { Now = now }, ct)).Select(e => (e.SubscriptionId, e.PartnerId)).ToList(), ct);

    /// <summary>
    /// Leases due deliveries until <paramref name="now"/> + <paramref name="lease"/> in <paramref name="session"/>, up to
    /// <paramref name="limit"/>: the endpoint waiting longest first, each as many as <paramref name="reserve"/> grants it (for
    /// itself and its partner, counted as granted, so one claim cannot give a partner's endpoints more than their share between
    /// them) — one endpoint's flood takes only its own room and the next endpoint still gets its turn. What was granted and not
    /// leased (nothing due, or another instance leased it first) is handed back through <paramref name="release"/>.
    /// </summary>
    public async Task<IReadOnlyList<LeasedWebhook>> LeaseDueAsync(DbSession session, int limit, Func<Guid, Guid, int, int> reserve,
        Action<Guid, Guid, int> release, DateTimeOffset now, TimeSpan lease, CancellationToken ct)
    {
        var chosen = new List<(Guid Id, EndpointDue Endpoint)>();
        List<LeasedRow> leased;
        try
        {
            foreach (var endpoint in await session.QueryAsync<EndpointDue>(EndpointsDueSql, new { Now = now }, ct))
            {
                if (chosen.Count >= limit) break;
                var granted = reserve(endpoint.SubscriptionId, endpoint.PartnerId, limit - chosen.Count);
                if (granted <= 0) continue;
                // Held in the list until the query answers, so that a failure hands them back with the rest.
                chosen.AddRange(Enumerable.Repeat((Guid.Empty, endpoint), granted));
                var due = await session.QueryAsync<Guid>(database.Dialect.Page(DueSql), new { endpoint.SubscriptionId, Now = now, Limit = granted }, ct);
                chosen.RemoveRange(chosen.Count - granted, granted);
                chosen.AddRange(due.Select(id => (id, endpoint)));
                if (due.Count < granted) release(endpoint.SubscriptionId, endpoint.PartnerId, granted - due.Count);
            }
            if (chosen.Count == 0) return [];
            var leaseId = Ids.New(now);
            var ids = Database.IdList(chosen.Select(c => c.Id));
            await session.ExecuteAsync(LeaseSql, new { Ids = ids, LeaseId = leaseId, LockedUntil = now + lease, Now = now }, ct);
            leased = await session.QueryAsync<LeasedRow>(LeasedSql, new { Ids = ids, LeaseId = leaseId }, ct);
        }
        catch
        {
            // Every slot granted so far goes back: nothing of this claim was leased.
            foreach (var (_, endpoint) in chosen) release(endpoint.SubscriptionId, endpoint.PartnerId, 1);
            throw;
        }
        foreach (var (id, endpoint) in chosen)
        {
            if (!leased.Exists(l => l.Id == id)) release(endpoint.SubscriptionId, endpoint.PartnerId, 1);
        }
        return leased.Select(r => new LeasedWebhook(r.Id, r.LeaseId, r.Attempts, r.EventId, r.EventType, r.SubscriptionId, r.PartnerId, r.Payload, r.Url,
            r.ProtectedSecret, r.ProtectedPreviousSecret, r.PreviousSecretUntil)).ToList();
    }

    private sealed class EndpointDue
    {
        public Guid SubscriptionId { get; set; }
        public Guid PartnerId { get; set; }
        public DateTimeOffset? WaitingSince { get; set; }
    }

    /// <summary>
    /// Writes attempts and what they leave each delivery and endpoint as, in <paramref name="session"/>. An endpoint that
    /// answered 410 is disabled; one failing since before <paramref name="failingBefore"/> is disabled too. Answers the
    /// deliveries whose lease had run out (another instance's result stands) and the endpoints disabled.
    /// </summary>
    public async Task<(IReadOnlyList<Guid> LeaseLost, IReadOnlyList<(Guid Id, string Reason)> Disabled)> RecordAsync(
        DbSession session, IReadOnlyList<WebhookAttemptResult> results, DateTimeOffset now, DateTimeOffset failingBefore, CancellationToken ct)
    {
        var lost = new List<Guid>();
        var disabled = new List<(Guid, string)>();
        foreach (var result in results)
        {
            var delivery = result.Delivery;
            var changed = await session.ExecuteAsync(RecordSql, new
            {
                delivery.Id,
                delivery.LeaseId,
                result.Status,
                result.Attempts,
                result.NextAttemptAt,
                result.StatusCode,
                Error = Truncate(result.Error ?? (result.Outcome == "delivered" ? null : result.Response)),
                Now = now,
                DeliveredAt = result.Status == "delivered" ? now : (DateTimeOffset?)null,
            }, ct);
            if (changed == 0)
            {
                lost.Add(delivery.Id);
                continue;
            }
            await session.ExecuteAsync(InsertAttemptSql, new
            {
                Id = Ids.New(now),
                DeliveryId = delivery.Id,
                result.Outcome,
                result.StatusCode,
                Error = Truncate(result.Error),
                result.Response,
                result.StartedAt,
                result.LatencyMs,
            }, ct);

            if (result.Outcome == "delivered")
            {
                await session.ExecuteAsync(DeliveredToSql, new { Id = delivery.SubscriptionId }, ct);
                continue;
            }
            await session.ExecuteAsync(FailedToSql, new { Id = delivery.SubscriptionId, Now = now }, ct);
            var (reason, before) = result.Outcome == "gone" ? ("gone", (DateTimeOffset?)null) : ("failing", failingBefore);
            if (await session.ExecuteAsync(DisableSql, new { Id = delivery.SubscriptionId, Reason = reason, Now = now, FailingBefore = before }, ct) == 1)
            {
                disabled.Add((delivery.SubscriptionId, reason));
                await audit.RecordAsync(session, "webhook", delivery.SubscriptionId, "webhook.disabled", Actor.System,
                    new { reason, partnerId = delivery.PartnerId, lastStatusCode = result.StatusCode }, ct);
            }
        }
        return (lost, disabled);
    }

    public Task<Page<WebhookDelivery>> ListAsync(Guid subscriptionId, string? status, int pageSize, Guid? after, CancellationToken ct) =>
        database.ReadAsync(async session =>
        {
            var rows = await session.QueryAsync<Row>(database.Dialect.Page(ListSql),
                new { SubscriptionId = subscriptionId, Status = status, After = after, Limit = pageSize + 1 }, ct);
            var attempts = await AttemptsAsync(session, rows.Take(pageSize).Select(r => r.Id), ct);
            return Paging.ToPage(rows, pageSize, r => r.Id, r => r.ToDelivery(attempts));
        }, ct);

    public Task<WebhookDelivery?> GetAsync(Guid subscriptionId, Guid id, CancellationToken ct) =>
        database.ReadAsync(async session =>
        {
            var row = await session.QuerySingleOrDefaultAsync<Row>(GetSql, new { Id = id, SubscriptionId = subscriptionId }, ct);
            return row?.ToDelivery(await AttemptsAsync(session, [id], ct));
        }, ct);

    /// <summary>How many test events were queued for an endpoint since <paramref name="since"/>.</summary>
    public async Task<long> TestsSinceAsync(DbSession session, Guid subscriptionId, DateTimeOffset since, CancellationToken ct) =>
        await session.ExecuteScalarAsync<long>(TestsSinceSql, new { SubscriptionId = subscriptionId, Since = since }, ct);

    /// <summary>Sends a dead delivery again with a fresh set of attempts, or a pending one now; false for a delivered one.</summary>
    public async Task<bool> RetryAsync(DbSession session, Guid subscriptionId, Guid id, DateTimeOffset now, CancellationToken ct) =>
        await session.ExecuteAsync(RetrySql, new { Id = id, SubscriptionId = subscriptionId, Now = now }, ct) == 1;

    /// <summary>Queues every event of the partner since <paramref name="since"/> that the endpoint wants again, in order; answers how many.</summary>
    public async Task<int> ReplayAsync(DbSession session, StoredWebhook webhook, DateTimeOffset since, DateTimeOffset now, CancellationToken ct)
    {
        var events = (await session.QueryAsync<EventRow>(EventsSinceSql,
                new { PartnerId = webhook.PartnerId, Since = since, SubscriptionId = webhook.Id }, ct))
            .Where(e => WebhookEventTypes.Matches(webhook.Events, e.EventType)).ToList();
        foreach (var e in events)
        {
            await session.ExecuteAsync(WebhookEvents.InsertDeliverySql, new
            {
                Id = Ids.New(now),
                EventId = e.Id,
                SubscriptionId = webhook.Id,
                e.RegistrationId,
                e.EventType,
                Now = now,
            }, ct);
        }
        return events.Count;
    }

    /// <summary>When the oldest pending delivery was queued; null when none waits.</summary>
    public Task<DateTimeOffset?> OldestPendingAsync(CancellationToken ct) =>
        database.ReadAsync(async session => (await session.QuerySingleOrDefaultAsync<OldestRow>(OldestPendingSql, null, ct))?.Oldest, ct);

    private static async Task<ILookup<Guid, WebhookAttempt>> AttemptsAsync(DbSession session, IEnumerable<Guid> ids, CancellationToken ct)
    {
        var list = ids.ToList();
        if (list.Count == 0) return Array.Empty<WebhookAttempt>().ToLookup(_ => Guid.Empty);
        var rows = await session.QueryAsync<AttemptRow>(AttemptsSql, new { Ids = Database.IdList(list) }, ct);
        return rows.ToLookup(r => r.DeliveryId, r => new WebhookAttempt(r.Outcome, r.StatusCode, r.LatencyMs, r.Response, r.Error, r.StartedAt));
    }

    private static string? Truncate(string? text) => text is { Length: > 2000 } ? text[..2000] : text;

    private sealed class LeasedRow
    {
        public Guid Id { get; set; }
        public Guid LeaseId { get; set; }
        public int Attempts { get; set; }
        public Guid EventId { get; set; }
        public string EventType { get; set; } = "";
        public Guid SubscriptionId { get; set; }
        public Guid PartnerId { get; set; }
        public string Payload { get; set; } = "";
        public string Url { get; set; } = "";
        public string ProtectedSecret { get; set; } = "";
        public string? ProtectedPreviousSecret { get; set; }
        public DateTimeOffset? PreviousSecretUntil { get; set; }
    }

    private sealed class Row
    {
        public Guid Id { get; set; }
        public Guid SubscriptionId { get; set; }
        public Guid EventId { get; set; }
        public string EventType { get; set; } = "";
        public string Status { get; set; } = "";
        public int Attempts { get; set; }
        public DateTimeOffset NextAttemptAt { get; set; }
        public DateTimeOffset CreatedAt { get; set; }
        public DateTimeOffset? DeliveredAt { get; set; }

        public WebhookDelivery ToDelivery(ILookup<Guid, WebhookAttempt> attempts) => new()
        {
            Id = Id,
            WebhookId = SubscriptionId,
            MessageId = WebhookSigning.MessageId(EventId),
            EventType = EventType,
            Status = Status,
            Attempts = Attempts,
            NextAttemptAt = Status == "pending" ? NextAttemptAt : null,
            CreatedAt = CreatedAt,
            DeliveredAt = DeliveredAt,
            AttemptLog = attempts[Id].ToList(),
        };
    }

    private sealed class AttemptRow
    {
        public Guid DeliveryId { get; set; }
        public string Outcome { get; set; } = "";
        public int? StatusCode { get; set; }
        public int LatencyMs { get; set; }
        public string? Response { get; set; }
        public string? Error { get; set; }
        public DateTimeOffset StartedAt { get; set; }
    }

    private sealed class OldestRow
    {
        public DateTimeOffset? Oldest { get; set; }
    }

    private sealed class EventRow
    {
        public Guid Id { get; set; }
        public Guid? RegistrationId { get; set; }
        public string EventType { get; set; } = "";
    }
}
