namespace PartnerDeals.Api.Features.Sync;

/// <summary>Bound from <c>Crm:&lt;Crm&gt;:Pipeline</c>: whether and how often the CRM's pipeline is pulled, and which of it.</summary>
public sealed class PipelineOptions
{
    public bool Enabled { get; set; }

    /// <summary>How long after a run finished the next one starts.</summary>
    public TimeSpan Interval { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>Which opportunities: a SOQL <c>WHERE</c> fragment (Salesforce), pipeline ids (HubSpot), an OData <c>$filter</c> (Dataverse).</summary>
    public string? Filter { get; set; }

    /// <summary>Opportunity field → the CRM's field; merged over the CRM's defaults.</summary>
    public Dictionary<string, string> Fields { get; set; } = [];

    /// <summary>The wait after a run failed outside its records (sign-in, network, the CRM's error); doubled with each failure in a row, up to the interval.</summary>
    public TimeSpan FailureBackoff { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>How long one instance holds a CRM's pull before another may take it over.</summary>
    public TimeSpan Lease { get; set; } = TimeSpan.FromMinutes(2);

    public IEnumerable<string> Problems(string crm)
    {
        if (!Enabled) yield break;
        if (Interval < TimeSpan.FromSeconds(1)) yield return $"Crm:{crm}:Pipeline:Interval must be at least 1 second.";
        if (FailureBackoff <= TimeSpan.Zero) yield return $"Crm:{crm}:Pipeline:FailureBackoff must be positive.";
        if (Lease < TimeSpan.FromSeconds(10)) yield return $"Crm:{crm}:Pipeline:Lease must be at least 10 seconds.";
        if (Filter is { Length: > 2000 }) yield return $"Crm:{crm}:Pipeline:Filter must be at most 2000 characters.";
    }
}
