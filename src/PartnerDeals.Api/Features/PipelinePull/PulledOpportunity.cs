using System.Globalization;
using PartnerDeals.Api.Features.Opportunities;

namespace PartnerDeals.Api.Features.PipelinePull;

/// <summary>What every CRM's reader does alike: its field mapping over the defaults, and a record read into an opportunity.</summary>
public static class PulledOpportunity
{
    /// <summary>The configured mapping over the CRM's defaults; a field mapped to <c>none</c> is not read.</summary>
    public static Dictionary<string, string> Fields(IReadOnlyDictionary<string, string> defaults, IReadOnlyDictionary<string, string> configured)
    {
        var fields = new Dictionary<string, string>(defaults);
        foreach (var (name, source) in configured) fields[name] = source;
        return fields.Where(f => !string.Equals(f.Value, "none", StringComparison.OrdinalIgnoreCase)).ToDictionary();
    }

    /// <summary>
    /// A record as an opportunity of <paramref name="crm"/>, its fields read through <paramref name="field"/>; rejected
    /// without an account name. A country is taken only as a two-letter code (billing countries are often free text),
    /// and an amount only with its currency: better an opportunity without them than none for the conflict check.
    /// </summary>
    public static PulledRecord Read(string crm, string id, Func<string, string?> field, OpportunityStatus status, string noAccount)
    {
        if (string.IsNullOrWhiteSpace(field("accountName"))) return new PulledRecord(id, null, Rejected: noAccount);
        decimal? amount = decimal.TryParse(field("amount"), NumberStyles.Number, CultureInfo.InvariantCulture, out var a) ? a : null;
        var currency = field("currency");
        var country = field("country")?.Trim();
        return new PulledRecord(id, new OpportunityBatchItem
        {
            Source = crm,
            ExternalId = id,
            AccountName = field("accountName")!.Trim(),
            AccountDomain = field("accountDomain"),
            Country = country is { Length: 2 } ? country.ToUpperInvariant() : null,
            Owner = field("owner"),
            Stage = field("stage"),
            Status = status,
            Amount = currency is null ? null : amount,
            Currency = amount is null ? null : currency,
            CloseDate = Day(field("closeDate")),
            OpenedDate = Day(field("openedDate")),
        });
    }

    /// <summary>A day from a date, an instant (ISO 8601, Salesforce's <c>+0000</c> offsets too) or Unix milliseconds.</summary>
    public static DateOnly? Day(string? value) =>
        value is null ? null
        : DateOnly.TryParseExact(value, "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out var day) ? day
        : long.TryParse(value, out var ms) ? DateOnly.FromDateTime(DateTimeOffset.FromUnixTimeMilliseconds(ms).UtcDateTime)
        : Instant(value) is { } at ? DateOnly.FromDateTime(at.UtcDateTime)
        : null;

    public static DateTimeOffset? Instant(string value)
    {
        // Salesforce writes the offset without a colon (+0000), which .NET's parser reads only with one.
        var text = value.Length > 5 && value[^5] is '+' or '-' && value[^3] != ':' ? value.Insert(value.Length - 2, ":") : value;
        return DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var at) ? at : null;
    }
}
