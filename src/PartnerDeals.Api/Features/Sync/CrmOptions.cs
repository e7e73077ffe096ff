namespace PartnerDeals.Api.Features.Sync;

/// <summary>
/// Bound from <c>Crm</c>: the delivery engine, HTTP resilience, and one section per CRM. A CRM is
/// enabled when its section names where it lives and how to sign in; with none enabled, changes are
/// still journalled in the outbox but nothing is delivered.
/// </summary>
public sealed class CrmOptions
{
    public const string Section = "Crm";

    public DeliveryOptions Delivery { get; set; } = new();
    public ResilienceOptions Resilience { get; set; } = new();
    public SalesforceOptions Salesforce { get; set; } = new();
    public HubSpotOptions HubSpot { get; set; } = new();
    public DynamicsOptions Dynamics { get; set; } = new();

    /// <summary>The CRMs that receive deliveries, by their wire name.</summary>
    public IReadOnlyList<string> Enabled =>
        new[] { (Salesforce.Enabled, Crms.Salesforce), (HubSpot.Enabled, Crms.HubSpot), (Dynamics.Enabled, Crms.Dynamics) }
            .Where(c => c.Enabled).Select(c => c.Item2).ToList();

    /// <summary>Every problem with the settings, for the start-up error; empty when they are good.</summary>
    public IEnumerable<string> Problems()
    {
        if (Delivery.MaxAttempts is < 1 or > 100) yield return "Crm:Delivery:MaxAttempts must be 1-100.";
        if (Delivery.BatchSize is < 1 or > 100) yield return "Crm:Delivery:BatchSize must be 1-100.";
        if (Delivery.PollInterval <= TimeSpan.Zero) yield return "Crm:Delivery:PollInterval must be positive.";
        if (Delivery.BackoffBase <= TimeSpan.Zero || Delivery.BackoffMax < Delivery.BackoffBase)
            yield return "Crm:Delivery:BackoffBase must be positive and at most BackoffMax.";
        if (Delivery.Lease < Resilience.AttemptTimeout * (Resilience.RetryAttempts + 1))
            yield return "Crm:Delivery:Lease must be at least the longest delivery attempt (AttemptTimeout x (RetryAttempts + 1)).";
        if (Resilience.AttemptTimeout <= TimeSpan.Zero || Resilience.BreakDuration < TimeSpan.FromMilliseconds(500))
            yield return "Crm:Resilience:AttemptTimeout must be positive and BreakDuration at least 0.5 s.";
        if (Resilience.RetryAttempts is < 0 or > 10) yield return "Crm:Resilience:RetryAttempts must be 0-10.";
        if (Resilience.FailureRatio is <= 0 or > 1 || Resilience.MinimumThroughput < 2)
            yield return "Crm:Resilience:FailureRatio must be in (0, 1] and MinimumThroughput at least 2.";
        foreach (var crm in new CrmSettings[] { Salesforce, HubSpot, Dynamics })
        {
            foreach (var problem in crm.Problems()) yield return problem;
        }
        foreach (var (name, crm) in new (string, CrmSettings)[] { ("Salesforce", Salesforce), ("HubSpot", HubSpot), ("Dynamics", Dynamics) })
        {
            foreach (var problem in crm.Pipeline.Problems(name)) yield return problem;
            if (crm.Pipeline.Enabled && !crm.Enabled) yield return $"Crm:{name}:Pipeline:Enabled needs {name} configured (its URL and sign-in).";
        }
    }
}

/// <summary>The CRMs, by the name deliveries carry.</summary>
public static class Crms
{
    public const string Salesforce = "salesforce";
    public const string HubSpot = "hubspot";
    public const string Dynamics = "dynamics";

    public static readonly IReadOnlyList<string> All = [Salesforce, HubSpot, Dynamics];
}

public sealed class DeliveryOptions
{
    /// <summary>How often each instance looks for due deliveries when the last look found none.</summary>
    public TimeSpan PollInterval { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>
    /// How long a claimed delivery is reserved for the instance that claimed it; when an instance dies
    /// mid-delivery, another takes the row over after this.
    /// </summary>
    public TimeSpan Lease { get; set; } = TimeSpan.FromMinutes(2);

    /// <summary>Failed attempts (not rate limits or an open circuit) before a delivery is dead.</summary>
    public int MaxAttempts { get; set; } = 10;

    /// <summary>The first retry waits up to this (full jitter); each further one up to twice as long.</summary>
    public TimeSpan BackoffBase { get; set; } = TimeSpan.FromSeconds(5);

    public TimeSpan BackoffMax { get; set; } = TimeSpan.FromHours(1);

    /// <summary>How many deliveries of one CRM an instance claims at a time (HubSpot sends them as one batch).</summary>
    public int BatchSize { get; set; } = 8;
}

/// <summary>Polly around every CRM call (Microsoft.Extensions.Http.Resilience), one pipeline per CRM.</summary>
public sealed class ResilienceOptions
{
    public TimeSpan AttemptTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>Quick retries inside one delivery attempt, for 5xx, 408, timeouts and broken connections.</summary>
    public int RetryAttempts { get; set; } = 2;

    public TimeSpan RetryBaseDelay { get; set; } = TimeSpan.FromMilliseconds(500);

    /// <summary>A 429 or 503 whose Retry-After is at most this is retried inline; a longer wait goes back to the dispatcher.</summary>
    public TimeSpan MaxInlineRetryAfter { get; set; } = TimeSpan.FromSeconds(5);

    public double FailureRatio { get; set; } = 0.5;
    public int MinimumThroughput { get; set; } = 5;
    public TimeSpan SamplingDuration { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>How long an open circuit postpones a CRM's deliveries before one probe is let through.</summary>
    public TimeSpan BreakDuration { get; set; } = TimeSpan.FromSeconds(30);
}
