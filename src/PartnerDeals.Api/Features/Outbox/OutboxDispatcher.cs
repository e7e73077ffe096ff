using System.Collections.Concurrent;
using System.Diagnostics;
using System.Diagnostics.Metrics;
using PartnerDeals.Api.Infrastructure.Data;

namespace PartnerDeals.Api.Features.Outbox;

/// <summary>
/// Delivers the outbox, every channel alike. Every instance runs one: it leases due deliveries (another instance skips them
/// until the lease runs out, so a crashed instance's work is taken over), hands each destination its batch through the
/// channel's sender, and records each attempt. Room is shared fairly — so many in flight per channel, per destination and
/// per partner — so a slow destination holds up only its own. A failed attempt waits the channel's next retry step; a
/// refusal, or the last step passed, leaves it dead for ops; a destination that asks to wait is paused without spending
/// an attempt.
/// </summary>
public sealed partial class OutboxDispatcher : BackgroundService
{
    public const string MeterName = "PartnerDeals.Outbox";

    private readonly IReadOnlyList<IDeliverySender> _senders;
    private readonly Database _database;
    private readonly OutboxStore _store;
    private readonly TimeProvider _clock;
    private readonly ILogger<OutboxDispatcher> _logger;

    // In flight on this instance, by channel, destination and partner; under its own lock.
    private readonly Dictionary<string, int> _inFlight = [];

    // Per destination, per instance: a rate limit or an open circuit stops leasing until then.
    private readonly ConcurrentDictionary<string, DateTimeOffset> _pausedUntil = new();

    // Finished attempts waiting for the next write; recorded together by whoever takes the gate.
    private readonly ConcurrentQueue<(IDeliverySender Sender, LeasedDelivery Delivery, Sent Sent)> _finishedUnrecorded = new();
    private readonly SemaphoreSlim _recording = new(1, 1);

    private readonly Counter<long> _attempts;
    private readonly Counter<long> _finished;
    private IReadOnlyList<(string Channel, string Destination, DateTimeOffset Oldest)> _oldestPending = [];

    // The destinations each channel had at its last look: the lag of a channel that names them lists each, 0 when none waits.
    private readonly ConcurrentDictionary<string, IReadOnlyList<string>> _destinations = new();

    public OutboxDispatcher(IEnumerable<IDeliverySender> senders, Database database, OutboxStore store, IMeterFactory meters, TimeProvider clock,
        ILogger<OutboxDispatcher> logger)
    {
        (_senders, _database, _store, _clock, _logger) = (senders.ToList(), database, store, clock, logger);
        var meter = meters.Create(MeterName);
        _attempts = meter.CreateCounter<long>("partnerdeals.outbox.attempts",
            description: "Delivery attempts by channel (crm, webhook), destination (a CRM) and outcome (delivered, failed, refused, rate_limited, timeout, gone …).");
        _finished = meter.CreateCounter<long>("partnerdeals.outbox.deliveries",
            description: "Deliveries finished by channel, destination (a CRM) and outcome (delivered, dead).");
        meter.CreateObservableGauge("partnerdeals.outbox.lag", Lag, unit: "s",
            description: "Age of the oldest pending delivery, by channel and destination (a CRM; 0 for a channel when none waits).");
    }

    /// <summary>
    /// One round, for tests and tools: leases what there is room for (of one channel, or every), sends each, records each as it
    /// finishes, and waits for all of them. Answers how many were attempted. The service never waits for a round.
    /// </summary>
    public async Task<int> DispatchOnceAsync(string? channel, CancellationToken ct)
    {
        var senders = _senders.Where(s => channel is null || s.Channel.Name == channel).ToList();
        var started = await StartDueAsync(senders, keepGoing: false, ct);
        await Task.WhenAll(started.Select(s => s.Task));
        return started.Sum(s => s.Count);
    }

    /// <summary>Leases due deliveries for the room left and starts each destination's batch.</summary>
    private async Task<IReadOnlyList<(Task Task, int Count)>> StartDueAsync(IReadOnlyList<IDeliverySender> senders, bool keepGoing, CancellationToken ct)
    {
        // A look that finds nothing it could send takes no write lock, and most looks find nothing.
        var anyDue = await _database.ReadAsync(async read =>
            await OpenAsync(read, senders, ct) is { Count: > 0 } open
            && (await OutboxStore.DueAsync(read, [.. open.SelectMany(o => o.Destinations)], _clock.GetUtcNow(), ct)).Count > 0, ct);
        if (!anyDue) return [];
        await using var connection = await _database.OpenAsync(ct);
        await using var session = await _database.BeginWriteAsync(connection, ct);
        var batches = await LeaseAsync(session, senders, ct);
        try
        {
            await session.CommitAsync(ct);
        }
        catch
        {
            foreach (var batch in batches) GiveBack(batch.Sender, batch.Deliveries);
            throw;
        }
        return batches.Select(b => (DeliverAsync(b.Sender, b.To, b.Deliveries, keepGoing, ct), b.Deliveries.Count)).ToList();
    }

    /// <summary>Each sender with room, and its open destinations that are not paused and have room, as <paramref name="session"/> sees them.</summary>
    private async Task<IReadOnlyList<(IDeliverySender Sender, IReadOnlyList<Destination> Destinations)>> OpenAsync(
        DbSession session, IReadOnlyList<IDeliverySender> senders, CancellationToken ct)
    {
        var now = _clock.GetUtcNow();
        var open = new List<(IDeliverySender, IReadOnlyList<Destination>)>();
        foreach (var sender in senders)
        {
            if (Room(sender.Channel, null) <= 0) continue;
            var all = await sender.DestinationsAsync(session, ct);
            if (sender.Channel.NamesDestinations) _destinations[sender.Channel.Name] = all.Select(d => d.Name).ToList();
            var destinations = all.Where(d => !(_pausedUntil.TryGetValue(d.Name, out var until) && until > now) && Room(sender.Channel, d) > 0)
                .ToList();
            if (destinations.Count > 0) open.Add((sender, destinations));
        }
        return open;
    }

    /// <summary>
    /// Leases in <paramref name="session"/> what there is room for: the destination waiting longest first, each as much as its
    /// room grants (counted in flight as it is granted). When the transaction does not commit, the caller hands them back.
    /// </summary>
    private async Task<IReadOnlyList<(IDeliverySender Sender, Destination To, IReadOnlyList<LeasedDelivery> Deliveries)>> LeaseAsync(
        DbSession session, IReadOnlyList<IDeliverySender> senders, CancellationToken ct)
    {
        var batches = new List<(IDeliverySender, Destination, IReadOnlyList<LeasedDelivery>)>();
        (IDeliverySender Sender, Destination To, int Count)? granted = null;
        try
        {
            foreach (var (sender, destinations) in await OpenAsync(session, senders, ct))
            {
                var now = _clock.GetUtcNow();
                foreach (var to in await OutboxStore.DueAsync(session, destinations, now, ct))
                {
                    var room = Reserve(sender.Channel, to);
                    if (room <= 0) continue;
                    granted = (sender, to, room);
                    var leased = await _store.LeaseAsync(session, to, room, now, sender.Channel.Lease, ct);
                    granted = null;
                    if (leased.Count < room) Release(sender.Channel, to, room - leased.Count);
                    if (leased.Count > 0) batches.Add((sender, to, leased));
                }
            }
            return batches;
        }
        catch
        {
            // Every slot granted so far goes back: nothing of this lease stands.
            if (granted is { } g) Release(g.Sender.Channel, g.To, g.Count);
            foreach (var (sender, _, deliveries) in batches) GiveBack(sender, deliveries);
            throw;
        }
    }

    /// <summary>Sends one destination's batch; each attempt is recorded as soon as it finishes, whatever the others do.</summary>
    private async Task DeliverAsync(IDeliverySender sender, Destination to, IReadOnlyList<LeasedDelivery> deliveries, bool keepGoing, CancellationToken ct)
    {
        IReadOnlyList<Task<Sent>> sending;
        try
        {
            sending = sender.Send(to, deliveries, ct);
        }
        catch (Exception e) when (!ct.IsCancellationRequested)
        {
            // Unsent and unrecorded: the leases run out and they are tried again.
            LogRoundFailed(e);
            GiveBack(sender, deliveries);
            return;
        }
        await Task.WhenAll(deliveries.Select((delivery, i) => FinishAsync(sender, delivery, sending[i], keepGoing, ct)));
    }

    private async Task FinishAsync(IDeliverySender sender, LeasedDelivery delivery, Task<Sent> sending, bool keepGoing, CancellationToken ct)
    {
        Sent sent;
        try
        {
            sent = await sending;
        }
        catch (Exception e) when (!ct.IsCancellationRequested)
        {
            LogRoundFailed(e);
            GiveBack(sender, [delivery]);
            return;
        }
        if (sent is { Verdict: AttemptVerdict.Wait })
        {
            var until = sent.RetryAt ?? _clock.GetUtcNow() + sender.Channel.Retries.FirstOrDefault(TimeSpan.FromSeconds(1));
            _pausedUntil.AddOrUpdate(delivery.To.Name, until, (_, current) => current > until ? current : until);
            LogPaused(delivery.To.Channel, delivery.To.Name, sent.Outcome, until, sent.Error);
        }
        _finishedUnrecorded.Enqueue((sender, delivery, sent));
        await RecordFinishedAsync(keepGoing, ct);
    }

    /// <summary>
    /// Records every attempt finished and not yet recorded in one write transaction — those that finish while a write is under
    /// way share the next, so a busy dispatcher's writes do not queue for the database's one write lock — and, in the same
    /// transaction, leases what the freed room takes next, which starts at once.
    /// </summary>
    private async Task RecordFinishedAsync(bool keepGoing, CancellationToken ct)
    {
        await _recording.WaitAsync(ct);
        var batch = new List<(IDeliverySender Sender, LeasedDelivery Delivery, Sent Sent)>();
        var freed = false;
        IReadOnlyList<(IDeliverySender Sender, Destination To, IReadOnlyList<LeasedDelivery> Deliveries)> next = [];
        try
        {
            while (_finishedUnrecorded.TryDequeue(out var finished)) batch.Add(finished);
            if (batch.Count == 0) return;
            var now = _clock.GetUtcNow();
            await using var connection = await _database.OpenAsync(ct);
            await using var session = await _database.BeginWriteAsync(connection, ct);
            var recorded = new List<(IDeliverySender Sender, LeasedDelivery Delivery, Sent Sent, string Status, int Attempts)>();
            foreach (var (sender, delivery, sent) in batch)
            {
                var (status, attempts, nextAttemptAt) = Next(sender.Channel, delivery, sent, now);
                if (await OutboxStore.RecordAsync(session, delivery, sent, status, attempts, nextAttemptAt, now, ct))
                {
                    recorded.Add((sender, delivery, sent, status, attempts));
                }
                else LogLeaseLost(delivery.Id, delivery.To.Name);
            }
            foreach (var group in recorded.GroupBy(r => r.Sender))
            {
                await group.Key.RecordedAsync(session, group.Select(r => (r.Delivery, r.Sent)).ToList(), now, ct);
            }
            foreach (var (sender, delivery, _) in batch) GiveBack(sender, [delivery]);
            freed = true;
            if (keepGoing) next = await LeaseAsync(session, _senders, ct);
            await session.CommitAsync(ct);
            foreach (var (sender, delivery, sent, status, attempts) in recorded) Count(sender.Channel, delivery, sent, status, attempts);
        }
        catch (Exception e) when (!ct.IsCancellationRequested)
        {
            // Nothing is lost: an unrecorded delivery keeps its lease until it runs out and is tried again.
            LogRoundFailed(e);
            foreach (var (sender, _, deliveries) in next) GiveBack(sender, deliveries);
            next = [];
        }
        finally
        {
            if (!freed) foreach (var (sender, delivery, _) in batch) GiveBack(sender, [delivery]);
            _recording.Release();
        }
        foreach (var (sender, to, deliveries) in next) _ = DeliverAsync(sender, to, deliveries, keepGoing, ct);
    }

    /// <summary>What an attempt leaves a delivery as: its state, the attempts that counted, and when it is next tried.</summary>
    private static (string Status, int Attempts, DateTimeOffset Next) Next(DeliveryChannel channel, LeasedDelivery delivery, Sent sent, DateTimeOffset now)
    {
        var attempts = delivery.Attempts + (sent.Verdict == AttemptVerdict.Wait ? 0 : 1);
        return sent.Verdict switch
        {
            AttemptVerdict.Delivered => (DeliveryStates.Delivered, attempts, now),
            AttemptVerdict.Dead => (DeliveryStates.Dead, attempts, now),
            AttemptVerdict.Wait => (DeliveryStates.Pending, attempts, sent.RetryAt ?? now + channel.Retries.FirstOrDefault(TimeSpan.FromSeconds(1))),
            _ => channel.RetryAt(attempts, now) is { } retry
                ? (DeliveryStates.Pending, attempts, sent.RetryAt is { } asked && asked > retry ? asked : retry)
                : (DeliveryStates.Dead, attempts, now),
        };
    }

    private void Count(DeliveryChannel channel, LeasedDelivery delivery, Sent sent, string status, int attempts)
    {
        _attempts.Add(1, Tags(channel, delivery.To.Name, ("outcome", sent.Outcome)));
        if (status != DeliveryStates.Pending) _finished.Add(1, Tags(channel, delivery.To.Name, ("outcome", status)));
        if (status == DeliveryStates.Dead) LogDead(delivery.Id, channel.Name, delivery.To.Name, delivery.EventType, attempts, sent.Outcome, sent.StatusCode, sent.Error);
    }

    private IEnumerable<Measurement<double>> Lag()
    {
        var now = _clock.GetUtcNow();
        foreach (var channel in _senders.Select(s => s.Channel))
        {
            var pending = _oldestPending.Where(p => p.Channel == channel.Name).ToList();
            if (!channel.NamesDestinations)
            {
                yield return new(pending.Count == 0 ? 0 : Math.Max(0, (now - pending.Min(p => p.Oldest)).TotalSeconds), Tags(channel, null));
                continue;
            }
            var names = _destinations.GetValueOrDefault(channel.Name, []).Union(pending.Select(p => p.Destination));
            foreach (var name in names)
            {
                var oldest = pending.Where(p => p.Destination == name).Select(p => (DateTimeOffset?)p.Oldest).FirstOrDefault();
                yield return new(oldest is { } at ? Math.Max(0, (now - at).TotalSeconds) : 0, Tags(channel, name));
            }
        }
    }

    /// <summary>The channel, the destination where the channel names them (a few CRMs, not many endpoints), and <paramref name="more"/>.</summary>
    private static TagList Tags(DeliveryChannel channel, string? destination, params (string Key, object? Value)[] more)
    {
        var tags = new TagList { { "channel", channel.Name } };
        if (channel.NamesDestinations && destination is not null) tags.Add("destination", destination);
        foreach (var (key, value) in more) tags.Add(key, value);
        return tags;
    }

    /// <summary>The room left for a destination of a channel (or the channel, for null): on this instance, for it, for its partner. Under the lock.</summary>
    private int Room(DeliveryChannel channel, Destination? to)
    {
        lock (_inFlight)
        {
            var room = channel.InFlight - _inFlight.GetValueOrDefault(channel.Name);
            if (to is null) return room;
            var toDestination = _inFlight.GetValueOrDefault("to:" + to.Name);
            if (channel.OneBatchAtATime && toDestination > 0) return 0;
            room = Math.Min(room, channel.InFlightPerDestination - toDestination);
            return to.PartnerId is { } partner ? Math.Min(room, channel.InFlightPerPartner - _inFlight.GetValueOrDefault("partner:" + partner)) : room;
        }
    }

    /// <summary>Reserves the room left for a destination; answers how much.</summary>
    private int Reserve(DeliveryChannel channel, Destination to)
    {
        lock (_inFlight)
        {
            var granted = Room(channel, to);
            if (granted > 0) Add(channel, to, granted);
            return granted;
        }
    }

    private void Release(DeliveryChannel channel, Destination to, int count)
    {
        lock (_inFlight) Add(channel, to, -count);
    }

    private void GiveBack(IDeliverySender sender, IEnumerable<LeasedDelivery> deliveries)
    {
        foreach (var delivery in deliveries) Release(sender.Channel, delivery.To, 1);
    }

    private void Add(DeliveryChannel channel, Destination to, int count)
    {
        string[] keys = to.PartnerId is { } partner ? [channel.Name, "to:" + to.Name, "partner:" + partner] : [channel.Name, "to:" + to.Name];
        foreach (var key in keys)
        {
            if ((_inFlight[key] = _inFlight.GetValueOrDefault(key) + count) == 0) _inFlight.Remove(key);
        }
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (_senders.Count == 0) return;
        LogStarted(string.Join(", ", _senders.Select(s => s.Channel.Name)));
        // Looking is a cadence of the machine, not a time of the domain: a test clock moved by months must not fire it once per
        // interval skipped, and a stopped one must not stop deliveries. When a delivery is due stays on the clock.
        var running = new List<Task>();
        var nextLook = _senders.ToDictionary(s => s, _ => 0L);
        long lastLag = 0;
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                var looking = _senders.Where(s => Stopwatch.GetTimestamp() >= nextLook[s]).ToList();
                var started = looking.Count > 0 ? await StartDueAsync(looking, keepGoing: true, stoppingToken) : [];
                running.AddRange(started.Select(s => s.Task));
                running.RemoveAll(t => t.IsCompleted);
                // A channel that started something looks again at once; one that found nothing (or no room) rests for its poll
                // interval, or until a delivery finishes and frees a slot.
                foreach (var sender in looking)
                {
                    nextLook[sender] = started.Count > 0 ? 0 : Stopwatch.GetTimestamp() + (long)(sender.Channel.PollInterval.TotalSeconds * Stopwatch.Frequency);
                }
                if (started.Count == 0)
                {
                    var rest = TimeSpan.FromSeconds(Math.Max(0, (nextLook.Values.Min() - Stopwatch.GetTimestamp()) / (double)Stopwatch.Frequency));
                    var finished = await Task.WhenAny([.. running, Task.Delay(rest, stoppingToken)]);
                    if (running.Contains(finished)) foreach (var sender in _senders) nextLook[sender] = 0;
                }
                // The backlog's age for /metrics, every 5 s: a query, not worth one per look.
                if (Stopwatch.GetElapsedTime(lastLag) > TimeSpan.FromSeconds(5))
                {
                    _oldestPending = await _store.OldestPendingAsync(stoppingToken);
                    lastLag = Stopwatch.GetTimestamp();
                }
            }
            catch (Exception e) when (!stoppingToken.IsCancellationRequested)
            {
                LogRoundFailed(e);
                await Task.Delay(_senders.Min(s => s.Channel.PollInterval), stoppingToken);
            }
        }
        // Deliveries still in flight are not waited for: their leases run out and another instance, or the next start, sends them.
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Outbox delivering: {Channels}")]
    private partial void LogStarted(string channels);

    [LoggerMessage(Level = LogLevel.Information, Message = "Outbox {Channel} {Destination} {Outcome}: no deliveries until {Until:O} ({Reason})")]
    private partial void LogPaused(string channel, string destination, string outcome, DateTimeOffset until, string? reason);

    [LoggerMessage(Level = LogLevel.Warning,
        Message = "Delivery {DeliveryId} of {EventType} to {Channel} {Destination} is dead after {Attempts} attempt(s), last {Outcome}: {StatusCode} {Error}")]
    private partial void LogDead(Guid deliveryId, string channel, string destination, string eventType, int attempts, string outcome, int? statusCode, string? error);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Delivery {DeliveryId} to {Destination}: the lease ran out before the result was recorded; the new holder's result stands")]
    private partial void LogLeaseLost(Guid deliveryId, string destination);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Outbox round failed; trying again on the next look")]
    private partial void LogRoundFailed(Exception exception);
}

/// <summary>Wires the outbox: its store and the one dispatcher, which delivers every channel a feature adds (an <see cref="IDeliverySender"/>).</summary>
public static class OutboxSetup
{
    public static IServiceCollection AddOutbox(this IServiceCollection services)
    {
        services.AddSingleton<OutboxStore>();
        services.AddSingleton<OutboxDispatcher>();
        services.AddHostedService(sp => sp.GetRequiredService<OutboxDispatcher>());
        return services;
    }
}
