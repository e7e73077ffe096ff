using System.Diagnostics;
using Microsoft.Extensions.Options;
using PartnerDeals.Api.Features.Outbox;
using PartnerDeals.Api.Features.Partners;
using PartnerDeals.Api.Features.Registrations;
using PartnerDeals.Api.Infrastructure.Data;
using PartnerDeals.Api.Infrastructure.Http;

namespace PartnerDeals.Api.Features.Sync;

/// <summary>
/// The CRM sync's sender: each enabled CRM is a destination, sent one batch at a time through its adapter. Failures back off
/// exponentially with full jitter, or as long as the CRM asked; a rate limit or an open circuit pauses the CRM without
/// spending attempts; after <see cref="DeliveryOptions.MaxAttempts"/> failures, or a refusal, a delivery is dead and waits for ops.
/// </summary>
public sealed class CrmSender(IReadOnlyList<ICrmAdapter> adapters, Database database, IOptions<CrmOptions> options, TimeProvider clock) : IDeliverySender
{
    public const string ChannelName = "crm";

    // The partners' names and CRM records and the deals' teams are what the CRM shows; read with the batch, as they are now, so a
    // later change of either reaches the CRM with the next delivery.
    private const string PartnersSql = """
        SELECT id, name, type, salesforce_account_id, hubspot_company_id, dynamics_account_id FROM partners WHERE id IN @Ids
        """;

    private readonly DeliveryOptions _delivery = options.Value.Delivery;
    private readonly ResilienceOptions _resilience = options.Value.Resilience;

    public DeliveryChannel Channel { get; } = new(
        ChannelName, InFlight: options.Value.Delivery.BatchSize * Math.Max(1, adapters.Count), InFlightPerDestination: options.Value.Delivery.BatchSize,
        InFlightPerPartner: int.MaxValue, OneBatchAtATime: true, options.Value.Delivery.Lease, options.Value.Delivery.PollInterval,
        Backoff(options.Value.Delivery), Jitter: (0, 1), LatestWins: true, NamesDestinations: true);

    public Task<IReadOnlyList<Destination>> DestinationsAsync(DbSession session, CancellationToken ct) =>
        Task.FromResult<IReadOnlyList<Destination>>(adapters.Select(a => new Destination(ChannelName, a.Crm)).ToList());

    /// <summary>The batch in one adapter call: every result at once.</summary>
    public IReadOnlyList<Task<Sent>> Send(Destination to, IReadOnlyList<LeasedDelivery> deliveries, CancellationToken ct)
    {
        var batch = SendAsync(to, deliveries, ct);
        return deliveries.Select(async (_, i) => (await batch)[i]).ToList();
    }

    private async Task<IReadOnlyList<Sent>> SendAsync(Destination to, IReadOnlyList<LeasedDelivery> deliveries, CancellationToken ct)
    {
        var adapter = adapters.Single(a => a.Crm == to.Name);
        var started = clock.GetUtcNow();
        var timer = Stopwatch.GetTimestamp();
        var snapshots = deliveries.Select(d => RegistrationSnapshot.FromPayload(d.Payload)).ToList();
        var (partners, teams) = await PartnersAndTeamsAsync(snapshots.OfType<RegistrationSnapshot>().ToList(), ct);

        var results = new AttemptResult?[deliveries.Count];
        var changes = new List<(int Index, CrmChange Change)>();
        for (var i = 0; i < deliveries.Count; i++)
        {
            if (snapshots[i] is { } registration && partners.TryGetValue(registration.PartnerId, out var partner))
            {
                var team = new List<TeamMember> { new(partner.Id, partner.PrimaryRole, Primary: true, Active: true, partner.Accounts) };
                // A partner removed and added again is on the team once, as it is now.
                team.AddRange(teams[registration.Id].Where(m => partners.ContainsKey(m.PartnerId) && m.PartnerId != partner.Id)
                    .GroupBy(m => m.PartnerId).Select(g => g.FirstOrDefault(m => m.Active, g.Last()))
                    .Select(m => new TeamMember(m.PartnerId, Json.Name(m.Role), Primary: false, m.Active, partners[m.PartnerId].Accounts)));
                changes.Add((i, new CrmChange(deliveries[i].Id, deliveries[i].EventType, registration, partner.Name, team)));
            }
            else results[i] = new AttemptResult(AttemptOutcome.Refused, Error: "The outbox row cannot be read as a registration.");
        }
        if (changes.Count > 0)
        {
            var delivered = await adapter.DeliverAsync(changes.Select(c => c.Change).ToList(), ct);
            for (var i = 0; i < changes.Count; i++) results[changes[i].Index] = delivered[i];
        }

        var now = clock.GetUtcNow();
        var duration = (int)Math.Min(int.MaxValue, Stopwatch.GetElapsedTime(timer).TotalMilliseconds);
        return results.Select(r => Sent(r!, started, duration, now)).ToList();
    }

    private async Task<(Dictionary<Guid, PartnerRow> Partners, ILookup<Guid, (Guid PartnerId, MemberRole Role, bool Active)> Teams)>
        PartnersAndTeamsAsync(IReadOnlyList<RegistrationSnapshot> registrations, CancellationToken ct)
    {
        if (registrations.Count == 0) return ([], Array.Empty<Guid>().ToLookup(id => id, _ => (Guid.Empty, MemberRole.Reseller, false)));
        return await database.ReadAsync(async read =>
        {
            var teams = await RegistrationTeam.TeamsAsync(read, registrations.Select(r => r.Id).ToList(), ct);
            var ids = registrations.Select(r => r.PartnerId).Concat(teams.SelectMany(t => t).Select(m => m.PartnerId)).Distinct().ToList();
            var partners = await read.QueryAsync<PartnerRow>(PartnersSql, new { Ids = Database.IdList(ids) }, ct);
            return (partners.ToDictionary(p => p.Id), teams);
        }, ct);
    }

    private Sent Sent(AttemptResult result, DateTimeOffset started, int durationMs, DateTimeOffset now)
    {
        var (verdict, retryAt) = result.Outcome switch
        {
            AttemptOutcome.Delivered => (AttemptVerdict.Delivered, null),
            AttemptOutcome.Refused => (AttemptVerdict.Dead, null),
            AttemptOutcome.RateLimited => (AttemptVerdict.Wait, result.RetryAt ?? now + _delivery.BackoffBase),
            AttemptOutcome.Postponed => (AttemptVerdict.Wait, result.RetryAt ?? now + _resilience.BreakDuration),
            _ => (AttemptVerdict.Failed, result.RetryAt),
        };
        return new Sent(Json.Name(result.Outcome), verdict, started, durationMs, result.StatusCode,
            result.Error is null ? null : CrmAnswers.Truncate(result.Error), RetryAt: retryAt);
    }

    /// <summary>Exponential: the n-th failure waits up to base × 2^(n-1), capped; dead after <see cref="DeliveryOptions.MaxAttempts"/>.</summary>
    private static List<TimeSpan> Backoff(DeliveryOptions delivery) => Enumerable.Range(1, delivery.MaxAttempts - 1)
        .Select(n => TimeSpan.FromMilliseconds(Math.Min(delivery.BackoffMax.TotalMilliseconds,
            delivery.BackoffBase.TotalMilliseconds * Math.Pow(2, Math.Min(n - 1, 30)))))
        .ToList();

    private sealed class PartnerRow
    {
        public Guid Id { get; set; }
        public string Name { get; set; } = "";
        public string Type { get; set; } = "";
        public string? SalesforceAccountId { get; set; }
        public string? HubspotCompanyId { get; set; }
        public string? DynamicsAccountId { get; set; }

        public CrmAccounts Accounts => new() { Salesforce = SalesforceAccountId, HubSpot = HubspotCompanyId, Dynamics = DynamicsAccountId };

        /// <summary>The registrant's role on its own deal: its kind of partner (an affiliate refers).</summary>
        public string PrimaryRole => Type == "affiliate" ? "referral" : Type;
    }

}
