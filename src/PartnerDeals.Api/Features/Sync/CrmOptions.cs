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

/// <summary>What every CRM section has: how a registration becomes the CRM's record.</summary>
public abstract class CrmSettings
{
    public abstract bool Enabled { get; }

    /// <summary>CRM field → source value (see <see cref="FieldMapping.Sources"/>); replaces the defaults when given.</summary>
    public Dictionary<string, string> Fields { get; set; } = [];

    /// <summary>Registration status → the CRM's stage value; merged over the defaults.</summary>
    public Dictionary<string, string> Stages { get; set; } = [];

    public abstract IReadOnlyDictionary<string, string> DefaultFields { get; }
    public abstract IReadOnlyDictionary<string, string> DefaultStages { get; }

    /// <summary>Reading the CRM's own pipeline into the direct pipeline (<c>Crm:&lt;Crm&gt;:Pipeline</c>).</summary>
    public PipelinePull.PipelineOptions Pipeline { get; set; } = new();

    public FieldMapping Mapping()
    {
        var stages = new Dictionary<string, string>(DefaultStages);
        foreach (var (status, stage) in Stages) stages[status] = stage;
        return new FieldMapping(Fields.Count > 0 ? Fields : DefaultFields, stages);
    }

    public abstract IEnumerable<string> Problems();

    protected IEnumerable<string> MappingProblems(string section)
    {
        foreach (var (field, source) in Fields)
        {
            if (!FieldMapping.Sources.Contains(source)) yield return $"Crm:{section}:Fields:{field} names an unknown source '{source}'; use one of: {string.Join(", ", FieldMapping.Sources)}.";
        }
        foreach (var status in Stages.Keys)
        {
            if (!FieldMapping.Statuses.Contains(status)) yield return $"Crm:{section}:Stages:{status} is not a registration status; use one of: {string.Join(", ", FieldMapping.Statuses)}.";
        }
    }

    protected static bool IsAbsoluteUrl(string? value) =>
        Uri.TryCreate(value, UriKind.Absolute, out var uri) && (uri.Scheme == Uri.UriSchemeHttps || uri.Scheme == Uri.UriSchemeHttp);
}

public sealed class SalesforceOptions : CrmSettings
{
    /// <summary>The org's My Domain URL, e.g. <c>https://acme.my.salesforce.com</c>.</summary>
    public string? InstanceUrl { get; set; }

    /// <summary>The OAuth 2 token endpoint, e.g. <c>https://acme.my.salesforce.com/services/oauth2/token</c>.</summary>
    public string? TokenUrl { get; set; }

    public string? ClientId { get; set; }
    public string? ClientSecret { get; set; }
    public string ApiVersion { get; set; } = "62.0";

    /// <summary>The Opportunity field flagged External ID that holds the registration id.</summary>
    public string ExternalIdField { get; set; } = "PartnerDeals_Registration_Id__c";

    /// <summary>Salesforce sends no expiry with a client-credentials token; it is reused this long or until a 401.</summary>
    public TimeSpan TokenLifetime { get; set; } = TimeSpan.FromMinutes(30);

    /// <summary>Salesforce says nothing about when its API limit frees up (403 REQUEST_LIMIT_EXCEEDED); wait this long.</summary>
    public TimeSpan RequestLimitWait { get; set; } = TimeSpan.FromMinutes(15);

    public override bool Enabled => !string.IsNullOrWhiteSpace(InstanceUrl);

    public override IReadOnlyDictionary<string, string> DefaultFields { get; } = new Dictionary<string, string>
    {
        ["Name"] = "deal_name",
        ["Amount"] = "amount",
        // In a multi-currency org the amount is in this currency, not the org's default; a single-currency org has no such
        // field and maps it away (Crm:Salesforce:Fields replaces these defaults).
        ["CurrencyIsoCode"] = "currency",
        ["CloseDate"] = "close_date",
        ["StageName"] = "stage",
        ["PartnerDeals_Partner__c"] = "partner_name",
        ["PartnerDeals_Status__c"] = "status",
        ["PartnerDeals_Reason__c"] = "reason",
    };

    public override IReadOnlyDictionary<string, string> DefaultStages { get; } = new Dictionary<string, string>
    {
        ["pending_review"] = "Prospecting",
        ["more_info_requested"] = "Prospecting",
        ["approved"] = "Qualification",
        ["won"] = "Closed Won",
        ["lost"] = "Closed Lost",
        ["rejected"] = "Closed Lost",
        ["withdrawn"] = "Closed Lost",
        ["expired"] = "Closed Lost",
    };

    public override IEnumerable<string> Problems()
    {
        if (!Enabled) yield break;
        if (!IsAbsoluteUrl(InstanceUrl) || !IsAbsoluteUrl(TokenUrl)) yield return "Crm:Salesforce:InstanceUrl and TokenUrl must be absolute http(s) URLs.";
        if (string.IsNullOrWhiteSpace(ClientId) || string.IsNullOrWhiteSpace(ClientSecret)) yield return "Crm:Salesforce:ClientId and ClientSecret are required.";
        if (!System.Text.RegularExpressions.Regex.IsMatch(ApiVersion, @"^\d{2,3}\.\d$")) yield return "Crm:Salesforce:ApiVersion looks like 62.0.";
        if (string.IsNullOrWhiteSpace(ExternalIdField)) yield return "Crm:Salesforce:ExternalIdField is required.";
        foreach (var problem in MappingProblems("Salesforce")) yield return problem;
    }
}

public sealed class HubSpotOptions : CrmSettings
{
    public string BaseUrl { get; set; } = "https://api.hubapi.com";

    /// <summary>A private app's access token.</summary>
    public string? AccessToken { get; set; }

    /// <summary>The deal property (unique value) that holds the registration id.</summary>
    public string IdProperty { get; set; } = "partnerdeals_registration_id";

    /// <summary>What a <c>TEN_SECONDLY_ROLLING</c> limit means: wait for the window to roll.</summary>
    public TimeSpan RollingWindowWait { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>How many CRM searches the pipeline pull sends a second: HubSpot's search API allows a few.</summary>
    public double SearchesPerSecond { get; set; } = 4;

    /// <summary>The time zone of the HubSpot account, whose midnight resets the <c>DAILY</c> limit (IANA id).</summary>
    public string TimeZone { get; set; } = "UTC";

    public override bool Enabled => !string.IsNullOrWhiteSpace(AccessToken);

    public override IReadOnlyDictionary<string, string> DefaultFields { get; } = new Dictionary<string, string>
    {
        ["dealname"] = "deal_name",
        ["amount"] = "amount",
        ["deal_currency_code"] = "currency",
        ["closedate"] = "close_date",
        ["dealstage"] = "stage",
        ["partnerdeals_partner"] = "partner_name",
        ["partnerdeals_status"] = "status",
        ["partnerdeals_reason"] = "reason",
    };

    public override IReadOnlyDictionary<string, string> DefaultStages { get; } = new Dictionary<string, string>
    {
        ["pending_review"] = "appointmentscheduled",
        ["more_info_requested"] = "appointmentscheduled",
        ["approved"] = "qualifiedtobuy",
        ["won"] = "closedwon",
        ["lost"] = "closedlost",
        ["rejected"] = "closedlost",
        ["withdrawn"] = "closedlost",
        ["expired"] = "closedlost",
    };

    public override IEnumerable<string> Problems()
    {
        if (SearchesPerSecond is <= 0 or > 1000) yield return "Crm:HubSpot:SearchesPerSecond must be above 0 and at most 1000.";
        if (!Enabled) yield break;
        if (!IsAbsoluteUrl(BaseUrl)) yield return "Crm:HubSpot:BaseUrl must be an absolute http(s) URL.";
        if (string.IsNullOrWhiteSpace(IdProperty)) yield return "Crm:HubSpot:IdProperty is required.";
        if (!TimeZoneInfo.TryFindSystemTimeZoneById(TimeZone, out _)) yield return $"Crm:HubSpot:TimeZone '{TimeZone}' is not a known time zone.";
        foreach (var problem in MappingProblems("HubSpot")) yield return problem;
    }
}

public sealed class DynamicsOptions : CrmSettings
{
    /// <summary>The environment URL, e.g. <c>https://acme.crm.dynamics.com</c>.</summary>
    public string? BaseUrl { get; set; }

    /// <summary>The Microsoft Entra token endpoint, <c>https://login.microsoftonline.com/{tenant}/oauth2/v2.0/token</c>.</summary>
    public string? TokenUrl { get; set; }

    public string? ClientId { get; set; }
    public string? ClientSecret { get; set; }

    /// <summary>By default the environment URL with <c>/.default</c>.</summary>
    public string? Scope { get; set; }

    /// <summary>The opportunity alternate key that holds the registration id.</summary>
    public string AlternateKey { get; set; } = "pd_registrationid";

    public override bool Enabled => !string.IsNullOrWhiteSpace(BaseUrl);

    public string EffectiveScope => string.IsNullOrWhiteSpace(Scope) ? $"{BaseUrl?.TrimEnd('/')}/.default" : Scope;

    public override IReadOnlyDictionary<string, string> DefaultFields { get; } = new Dictionary<string, string>
    {
        ["name"] = "deal_name",
        ["estimatedvalue"] = "amount",
        ["estimatedclosedate"] = "close_date",
        ["stepname"] = "stage",
        ["pd_partnername"] = "partner_name",
        ["pd_status"] = "status",
        ["pd_reason"] = "reason",
    };

    public override IReadOnlyDictionary<string, string> DefaultStages { get; } = new Dictionary<string, string>
    {
        ["pending_review"] = "1-Qualify",
        ["more_info_requested"] = "1-Qualify",
        ["approved"] = "2-Develop",
        ["won"] = "Won",
        ["lost"] = "Lost",
        ["rejected"] = "Lost",
        ["withdrawn"] = "Lost",
        ["expired"] = "Lost",
    };

    public override IEnumerable<string> Problems()
    {
        if (!Enabled) yield break;
        if (!IsAbsoluteUrl(BaseUrl) || !IsAbsoluteUrl(TokenUrl)) yield return "Crm:Dynamics:BaseUrl and TokenUrl must be absolute http(s) URLs.";
        if (string.IsNullOrWhiteSpace(ClientId) || string.IsNullOrWhiteSpace(ClientSecret)) yield return "Crm:Dynamics:ClientId and ClientSecret are required.";
        if (string.IsNullOrWhiteSpace(AlternateKey)) yield return "Crm:Dynamics:AlternateKey is required.";
        foreach (var problem in MappingProblems("Dynamics")) yield return problem;
    }
}
