using System.Globalization;

namespace PartnerDeals.Api.Features.Sync;

/// <summary>One change a CRM must learn: the registration as it was after the change, who registered it, and its team now.</summary>
/// <param name="DeliveryId">The delivery (one per change and CRM).</param>
/// <param name="EventType">What happened, e.g. <c>registration.approved</c>.</param>
/// <param name="Registration">The registration after the change.</param>
/// <param name="PartnerName">The partner's name, for the CRM record.</param>
/// <param name="Team">The primary first, then every member that is or was active on the deal.</param>
public sealed record CrmChange(Guid DeliveryId, string EventType, RegistrationSnapshot Registration, string PartnerName,
    IReadOnlyList<TeamMember>? Team = null)
{
    /// <summary>The team as the CRM <paramref name="crm"/> can hold it: the partners with a record there. Empty: nothing to send.</summary>
    public IReadOnlyList<TeamMember> TeamIn(string crm) => Team?.Where(m => m.Accounts.In(crm) is not null).ToList() ?? [];
}

/// <summary>A partner on a deal as a CRM is told of it.</summary>
/// <param name="PartnerId">The partner.</param>
/// <param name="Role">reseller, distributor, implementation, msp, referral or technology (the primary's: its kind of partner).</param>
/// <param name="Primary">The registrant.</param>
/// <param name="Active">On the team now; false for a member that was removed, whose record comes off the deal.</param>
/// <param name="Accounts">Its records in the CRMs.</param>
public sealed record TeamMember(Guid PartnerId, string Role, bool Primary, bool Active, Partners.CrmAccounts Accounts);

/// <summary>
/// Turns a registration into a CRM's fields: configuration maps each CRM field to one of the source
/// values below, and each registration status to the CRM's stage.
/// </summary>
public sealed class FieldMapping(IReadOnlyDictionary<string, string> fields, IReadOnlyDictionary<string, string> stages)
{
    /// <summary>The values a CRM field may take.</summary>
    public static readonly IReadOnlySet<string> Sources = new HashSet<string>
    {
        "registration_id", "deal_name", "company_name", "company_domain", "country", "amount", "currency", "close_date",
        "stage", "status", "reason", "partner_id", "partner_name", "protection_expires_at", "co_selling",
    };

    public static readonly IReadOnlySet<string> Statuses = RegistrationSnapshot.Statuses.ToHashSet();

    /// <summary>The CRM's fields for this change; absent values (no domain, no close date) are left out rather than cleared.</summary>
    public Dictionary<string, object> Map(CrmChange change)
    {
        var result = new Dictionary<string, object>();
        foreach (var (field, source) in fields)
        {
            if (Value(change, source) is { } value) result[field] = value;
        }
        return result;
    }

    /// <summary>The CRM fields filled from <paramref name="source"/> (e.g. the fields that carry the amount).</summary>
    public IEnumerable<string> FieldsFrom(string source) => fields.Where(f => f.Value == source).Select(f => f.Key);

    public string StageOf(string status) => stages.TryGetValue(status, out var stage) ? stage : status;

    private object? Value(CrmChange change, string source)
    {
        var r = change.Registration;
        return source switch
        {
            "registration_id" => r.Id.ToString("D"),
            "deal_name" => r.Deal.Name,
            "company_name" => r.Customer.CompanyName,
            "company_domain" => r.Customer.Domain,
            "country" => r.Customer.Country,
            // What the deal closed at once won; the estimate before.
            "amount" => r.Outcome is { Amount: { } won } ? won : r.Deal.EstimatedValue,
            "currency" => r.Outcome is { Amount: not null, Currency: { } wonCurrency } ? wonCurrency : r.Deal.Currency,
            // A day: each adapter writes it as its CRM types it (a date for Salesforce and Dataverse, an instant for HubSpot).
            "close_date" => CloseDate(r),
            "stage" => StageOf(r.Status),
            "status" => r.Status,
            "reason" => r.Reason,
            "partner_id" => r.PartnerId.ToString("D"),
            "partner_name" => change.PartnerName,
            "protection_expires_at" => r.ProtectionExpiresAt?.ToString("O", CultureInfo.InvariantCulture),
            "co_selling" => r.CoSelling,
            _ => null,
        };
    }

    /// <summary>
    /// The day it closed once closed; else the expected day; else the end of protection or the day it
    /// was submitted, because Salesforce and Dynamics need a close date to create an opportunity.
    /// </summary>
    private static DateOnly CloseDate(RegistrationSnapshot r) =>
        r.Outcome is { } outcome ? DateOnly.FromDateTime(outcome.ClosedAt.UtcDateTime)
        : r.Deal.ExpectedCloseDate ?? DateOnly.FromDateTime((r.ProtectionExpiresAt ?? r.SubmittedAt).UtcDateTime);
}
