using System.Globalization;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using PartnerDeals.Api.Features.Opportunities;

namespace PartnerDeals.Api.Features.PipelinePull;

/// <summary>What every CRM's reader does alike: its field mapping over the defaults, and a record read into an opportunity.</summary>
public static partial class PulledOpportunity
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
    /// without an account name. The values are taken as the CRM holds them: the puller cleans them like every vendor record
    /// (a billing country written out, a website of "n/a", an amount without its currency: dropped or read, never a reason to
    /// lose the opportunity).
    /// </summary>
    public static PulledRecord Read(string crm, string id, Func<string, string?> field, OpportunityStatus status, string noAccount)
    {
        if (string.IsNullOrWhiteSpace(field("accountName"))) return new PulledRecord(id, null, Rejected: noAccount);
        return new PulledRecord(id, new OpportunityBatchItem
        {
            Source = crm,
            ExternalId = id,
            AccountName = field("accountName"),
            AccountDomain = field("accountDomain"),
            Country = field("country"),
            Owner = field("owner"),
            Stage = field("stage"),
            Status = status,
            Amount = decimal.TryParse(field("amount"), NumberStyles.Number | NumberStyles.AllowExponent, CultureInfo.InvariantCulture, out var a) ? a : null,
            Currency = field("currency"),
            CloseDate = Infrastructure.Http.CrmDates.Day(field("closeDate")),
            OpenedDate = Infrastructure.Http.CrmDates.Day(field("openedDate")),
        });
    }

    /// <summary>
    /// A CRM's answer as JSON, its lone surrogate escapes (half an emoji, cut by a CRM's truncation) dropped first: JSON
    /// allows them, but no reader hands back such a string, and the record holding one would be lost for a character the
    /// cleaning drops anyway.
    /// </summary>
    public static JsonNode Parse(string answer) =>
        JsonNode.Parse(answer.Contains("\\u", StringComparison.OrdinalIgnoreCase) ? LoneSurrogate().Replace(answer, "") : answer)!;

    [GeneratedRegex(@"\\u[dD][89abAB][0-9a-fA-F]{2}(?!\\u[dD][c-fC-F][0-9a-fA-F]{2})|(?<!\\u[dD][89abAB][0-9a-fA-F]{2})\\u[dD][c-fC-F][0-9a-fA-F]{2}")]
    private static partial Regex LoneSurrogate();

    /// <summary>One record read on its own: whatever goes wrong reading it rejects that record, with the reason, and nothing else.</summary>
    public static PulledRecord Safely(string id, Func<PulledRecord> read)
    {
        try
        {
            return read();
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            return new PulledRecord(id, null, Rejected: $"the record could not be read: {e.Message}");
        }
    }

}
