namespace PartnerDeals.Api.Features.Sync;

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

    /// <summary>
    /// A role on a deal's team (reseller, distributor, implementation, msp, referral, technology; <c>primary</c> for the
    /// registrant where the CRM marks it by a role) → the CRM's own value for it; merged over the defaults.
    /// </summary>
    public Dictionary<string, string> TeamRoles { get; set; } = [];

    public virtual IReadOnlyDictionary<string, string> DefaultTeamRoles { get; } = new Dictionary<string, string>();

    /// <summary>The CRM's value for a team role, if it has one.</summary>
    public string? TeamRole(string role) =>
        TeamRoles.TryGetValue(role, out var value) || DefaultTeamRoles.TryGetValue(role, out value) ? value : null;

    /// <summary>The roles a team member can have, and <c>primary</c>.</summary>
    public static readonly IReadOnlySet<string> TeamRoleNames = new HashSet<string>
    {
        "reseller", "distributor", "implementation", "msp", "referral", "technology", "primary",
    };

    /// <summary>Reading the CRM's own pipeline into the direct pipeline (<c>Crm:&lt;Crm&gt;:Pipeline</c>).</summary>
    public PipelineOptions Pipeline { get; set; } = new();

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
        foreach (var (role, value) in TeamRoles)
        {
            if (!TeamRoleNames.Contains(role)) yield return $"Crm:{section}:TeamRoles:{role} is not a team role; use one of: {string.Join(", ", TeamRoleNames)}.";
            else if (TeamRoleProblem(value) is { } problem) yield return $"Crm:{section}:TeamRoles:{role} {problem}.";
        }
    }

    /// <summary>What is wrong with a configured team role value for this CRM; null when it is good.</summary>
    protected virtual string? TeamRoleProblem(string value) => string.IsNullOrWhiteSpace(value) ? "is empty" : null;

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

    /// <summary>
    /// The org's currency when it is a single-currency org (no <c>CurrencyIsoCode</c> field, found by a describe of Opportunity):
    /// the pipeline pull reads amounts in it; without it, pulled opportunities keep no amount.
    /// </summary>
    public string? CorporateCurrency { get; set; }

    /// <summary>
    /// Several waiting pushes as one sObject Collections upsert (one API call of the org's daily allowance for up to 200),
    /// not one call each; false sends each on its own.
    /// </summary>
    public bool Collections { get; set; } = true;

    /// <summary>Salesforce says nothing about when its API limit frees up (403 REQUEST_LIMIT_EXCEEDED); wait this long.</summary>
    public TimeSpan RequestLimitWait { get; set; } = TimeSpan.FromMinutes(15);

    public override bool Enabled => !string.IsNullOrWhiteSpace(InstanceUrl);

    /// <summary>OpportunityPartner's Role is a picklist of the org's Partner Roles (Setup): these must be among them.</summary>
    public override IReadOnlyDictionary<string, string> DefaultTeamRoles { get; } = new Dictionary<string, string>
    {
        ["reseller"] = "Reseller",
        ["distributor"] = "Distributor",
        ["implementation"] = "System Integrator",
        ["msp"] = "Managed Service Provider",
        ["referral"] = "Referral",
        ["technology"] = "Technology Partner",
    };

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

    /// <summary>A team role's value is the type id of a deal-to-company association label (USER_DEFINED) made in the account.</summary>
    protected override string? TeamRoleProblem(string value) =>
        int.TryParse(value, out var id) && id > 0 ? null : "must be the type id of a deal-to-company association label (a positive number)";

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

    /// <summary>A team role's value is the id of a connection role that applies to accounts.</summary>
    protected override string? TeamRoleProblem(string value) => Guid.TryParse(value, out _) ? null : "must be a connection role id (a GUID)";

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
        if (Pipeline.Enabled && !string.IsNullOrWhiteSpace(Pipeline.Filter) && ODataFilter.Parse(Pipeline.Filter, out var error) is null)
        {
            yield return $"Crm:Dynamics:Pipeline:Filter cannot be read ({error}): the pull applies it itself, to comparisons joined by and, or, not.";
        }
        foreach (var (field, column) in Pipeline.Fields)
        {
            if (column.Contains('.') && column[..column.IndexOf('.')] is not ("parentaccountid" or "transactioncurrencyid") && column != "none")
            {
                yield return $"Crm:Dynamics:Pipeline:Fields:{field} may read through parentaccountid or transactioncurrencyid only.";
            }
        }
        foreach (var problem in MappingProblems("Dynamics")) yield return problem;
    }
}
