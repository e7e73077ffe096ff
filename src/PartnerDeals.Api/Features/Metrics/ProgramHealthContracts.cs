namespace PartnerDeals.Api.Features.Metrics;

/// <summary>Closed-won revenue of one currency in the period, partner-sourced beside direct.</summary>
/// <param name="Currency">ISO 4217.</param>
/// <param name="PartnerSourced">Won registrations' amounts.</param>
/// <param name="Direct">Won direct-pipeline opportunities' amounts.</param>
/// <param name="PartnerShare"><c>partnerSourced / (partnerSourced + direct)</c>; null when both are 0.</param>
public sealed record RevenueShare(string Currency, decimal PartnerSourced, decimal Direct, double? PartnerShare);

/// <summary>How many partners the program has, and how many brought registrations in the period.</summary>
public sealed record PartnerCounts(int Active, int Suspended, int Terminated, int SubmittedInPeriod);

/// <summary>A partner past two full quarters since joining with no partner-sourced revenue: due a conversation.</summary>
public sealed record PartnerWithoutRevenue
{
    public required Guid PartnerId { get; init; }
    public required string PartnerName { get; init; }
    public required string Tier { get; init; }
    public required DateTimeOffset JoinedAt { get; init; }

    /// <summary>The day its second full quarter ended.</summary>
    public required DateOnly ReviewDueOn { get; init; }

    /// <summary>Registrations submitted since joining.</summary>
    public required int Submitted { get; init; }
    public required int Approved { get; init; }
    public required int Lost { get; init; }

    /// <summary>Registrations under protection now.</summary>
    public required int OpenProtected { get; init; }
    public DateTimeOffset? LastSubmittedAt { get; init; }
}

/// <summary>A registration waiting for review longer than the SLA.</summary>
public sealed record ReviewBreach(Guid RegistrationId, Guid PartnerId, string CompanyName, DateTimeOffset SubmittedAt, double AgeHours);

/// <summary>The channel team's review queue now.</summary>
/// <param name="Pending">Registrations in pending_review.</param>
/// <param name="OldestSubmittedAt">The oldest one's submission.</param>
/// <param name="OldestAgeHours">Its age.</param>
/// <param name="SlaHours">The configured SLA.</param>
/// <param name="Breaches">How many are older than the SLA.</param>
/// <param name="Breached">The oldest of them, oldest first.</param>
public sealed record ReviewQueue(
    int Pending, DateTimeOffset? OldestSubmittedAt, double? OldestAgeHours, int SlaHours, int Breaches, IReadOnlyList<ReviewBreach> Breached);

/// <summary>A protected registration whose protection ends soon.</summary>
public sealed record ExpiringRegistration(Guid RegistrationId, Guid PartnerId, string CompanyName, DateTimeOffset ProtectionExpiresAt);

/// <summary>Deals with a team of partners (a distributor registering for its reseller, members invited onto a deal).</summary>
/// <param name="Submitted">Such deals submitted in the period.</param>
/// <param name="Won">Their wins closed in the period, per currency.</param>
public sealed record TwoTierDeals(int Submitted, IReadOnlyList<CurrencyAmount> Won);

/// <summary>Protection ending within the configured window, soonest first.</summary>
public sealed record ExpiringSoon(int WithinDays, int Count, IReadOnlyList<ExpiringRegistration> Items);

/// <summary>CRM deliveries that gave up, per CRM.</summary>
public sealed record DeadDeliveries(string Crm, int Count, DateTimeOffset OldestCreatedAt);

/// <summary>A partner's webhook endpoint turned off because it answered <c>410 Gone</c> or failed for days.</summary>
/// <param name="WebhookId">The endpoint.</param>
/// <param name="PartnerId">Its partner.</param>
/// <param name="Url">Where it pointed.</param>
/// <param name="Reason"><c>gone</c> or <c>failing</c>.</param>
/// <param name="DisabledAt">When it was turned off.</param>
/// <param name="FailingSince">Its first failed attempt since it last delivered.</param>
public sealed record DisabledWebhook(Guid WebhookId, Guid PartnerId, string Url, string Reason, DateTimeOffset DisabledAt, DateTimeOffset? FailingSince);

/// <summary>The program at a glance: revenue share in the period, partners, and what needs attention now.</summary>
public sealed record ProgramHealth
{
    public required DateOnly From { get; init; }
    public required DateOnly To { get; init; }

    /// <summary>Where the two-quarter review is judged: the end of the period, or now when that is earlier.</summary>
    public required DateTimeOffset AsOf { get; init; }

    /// <summary>Closed-won revenue in the period per currency.</summary>
    public required IReadOnlyList<RevenueShare> Revenue { get; init; }

    public required PartnerCounts Partners { get; init; }

    /// <summary>Active partners with no partner-sourced revenue two full quarters after joining, with their activity.</summary>
    public required IReadOnlyList<PartnerWithoutRevenue> PartnersWithoutRevenue { get; init; }

    public required ReviewQueue ReviewQueue { get; init; }
    public required ExpiringSoon ExpiringSoon { get; init; }
    public required IReadOnlyList<DeadDeliveries> DeadDeliveries { get; init; }

    /// <summary>Partners' webhook endpoints turned off by a 410 or by failing for days, oldest first.</summary>
    public required IReadOnlyList<DisabledWebhook> DisabledWebhooks { get; init; }

    /// <summary>Deals with a team of partners: submitted in the period, and won in it.</summary>
    public required TwoTierDeals TwoTierDeals { get; init; }
}
