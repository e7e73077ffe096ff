using System.Globalization;
using System.Net;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.Extensions.Options;
using PartnerDeals.Api.Features.Opportunities;
using PartnerDeals.Api.Features.Sync;

namespace PartnerDeals.Api.Features.PipelinePull;

/// <summary>
/// Salesforce's pipeline: SOQL over <c>Opportunity</c> through <c>queryAll</c> (so deleted records come too, with
/// <c>IsDeleted</c>), ordered by <c>SystemModstamp, Id</c> — Salesforce's own clock — and paged through
/// <c>nextRecordsUrl</c>. The cursor is the last record's (SystemModstamp, Id). SOQL's dateTime literals have no
/// fractional seconds, so the next query starts at the cursor's whole second and the records up to the cursor are
/// skipped here: records sharing a timestamp across a page boundary are neither lost nor read twice. A query locator
/// that expired between runs is replaced by a fresh query from the cursor.
/// <para>
/// An account edit (a rename, a new website) moves the account's <c>SystemModstamp</c>, not its opportunities'. So each
/// run ends with a second query, over the opportunities whose <c>Account.SystemModstamp</c> is past a second cursor, and
/// reads them again. The first run (or a resync) reads everything and starts that cursor at the latest account stamp it saw.
/// </para>
/// A single-currency org has no <c>CurrencyIsoCode</c>: the adapter's describe tells, once, and its amounts are read in
/// <c>Crm:Salesforce:CorporateCurrency</c> (or, without it, kept without an amount).
/// </summary>
public sealed class SalesforcePipeline(IOptions<CrmOptions> options, SalesforceAdapter adapter, IHttpClientFactory clients, TimeProvider clock)
    : IPipelineReader
{
    private const string AccountStampField = "Account.SystemModstamp";

    private readonly SalesforceOptions _options = options.Value.Salesforce;

    /// <summary>Opportunity field → SOQL field path; a mapping to <c>none</c> is not read.</summary>
    public static readonly IReadOnlyDictionary<string, string> DefaultFields = new Dictionary<string, string>
    {
        ["accountName"] = "Account.Name",
        ["accountDomain"] = "Account.Website",
        ["country"] = "Account.BillingCountry",
        ["owner"] = "Owner.Name",
        ["stage"] = "StageName",
        ["amount"] = "Amount",
        ["currency"] = "CurrencyIsoCode",
        ["closeDate"] = "CloseDate",
        ["openedDate"] = "CreatedDate",
    };

    public string Crm => Crms.Salesforce;

    public PipelineOptions Options => _options.Pipeline;

    /// <summary>
    /// Where a run is. <c>Stamp</c>/<c>Id</c>: the last opportunity read by its own stamp. <c>AccountStamp</c>/<c>AccountId</c>:
    /// the last opportunity read again for its account's stamp. <c>Accounts</c>: the run is in its second query. <c>Next</c>:
    /// the query locator of the page to read next.
    /// </summary>
    private sealed record Cursor(
        string? Stamp, string? Id, string? Next, string? AccountStamp = null, string? AccountId = null, bool Accounts = false, bool FullRead = false);

    public async Task<PulledPage> ReadAsync(string? cursor, CancellationToken ct)
    {
        var at = cursor is null ? new Cursor(null, null, null, FullRead: true) : JsonSerializer.Deserialize<Cursor>(cursor, JsonSerializerOptions.Web)!;
        var fields = PulledOpportunity.Fields(DefaultFields, _options.Pipeline.Fields);
        var multiCurrency = await adapter.IsMultiCurrencyAsync(ct) != false;
        if (!multiCurrency && fields.TryGetValue("currency", out var currencyField) && currencyField == "CurrencyIsoCode") fields.Remove("currency");

        var (stamp, id) = at.Accounts ? (at.AccountStamp, at.AccountId) : (at.Stamp, at.Id);
        JsonNode answer;
        var fresh = false;
        if (at.Next is not null && await GetAsync(at.Next, ct) is { } continued) answer = continued;
        else
        {
            var query = $"/services/data/v{_options.ApiVersion}/{(at.Accounts ? "query" : "queryAll")}?q={Uri.EscapeDataString(Soql(at.Accounts, stamp, fields))}";
            (answer, fresh) = ((await GetAsync(query, ct, queryLocator: false))!, true);
        }

        var records = answer["records"] as JsonArray ?? [];
        var pulled = new List<PulledRecord>(records.Count);
        var last = at;
        foreach (var record in records.OfType<JsonObject>())
        {
            var recordId = Text(record, "Id") ?? "";
            var recordStamp = at.Accounts ? Path(record, AccountStampField) : Text(record, "SystemModstamp");
            // A new query starts at the cursor's whole second: what the cursor already passed is skipped here.
            if (fresh && !After(recordStamp, recordId, stamp, id)) continue;
            if (recordStamp is not null)
            {
                last = at.Accounts ? last with { AccountStamp = recordStamp, AccountId = recordId } : last with { Stamp = recordStamp, Id = recordId };
            }
            // The first read of everything starts the account cursor at the latest account stamp it saw.
            if (at.FullRead && Path(record, AccountStampField) is { } accountStamp && After(accountStamp, "", last.AccountStamp, ""))
            {
                last = last with { AccountStamp = accountStamp, AccountId = "" };
            }
            pulled.Add(PulledOpportunity.Safely(recordId, () => Read(record, recordId, fields, multiCurrency)));
        }
        var done = answer["done"]?.GetValue<bool>() ?? true;
        var next = done ? null : Text(answer, "nextRecordsUrl");
        if (!done) return new PulledPage(pulled, Serialize(last with { Next = next }), More: true);
        // The opportunities' own changes are read: then those of their accounts, unless this run read everything.
        if (!at.Accounts && !at.FullRead && last.AccountStamp is not null)
        {
            return new PulledPage(pulled, Serialize(last with { Next = null, Accounts = true }), More: true);
        }
        return new PulledPage(pulled, Serialize(last with { Next = null, Accounts = false, FullRead = false }), More: false);
    }

    private string Soql(bool accounts, string? stamp, IReadOnlyDictionary<string, string> fields)
    {
        var order = accounts ? AccountStampField : "SystemModstamp";
        var select = new[] { "Id", "IsDeleted", "IsClosed", "IsWon", "SystemModstamp", AccountStampField }.Concat(fields.Values)
            .Distinct(StringComparer.OrdinalIgnoreCase);
        var where = new List<string>();
        if (stamp is not null) where.Add($"{order} >= {Literal(stamp)}");
        if (!string.IsNullOrWhiteSpace(_options.Pipeline.Filter)) where.Add($"({_options.Pipeline.Filter})");
        return $"SELECT {string.Join(", ", select)} FROM Opportunity{(where.Count > 0 ? " WHERE " + string.Join(" AND ", where) : "")} ORDER BY {order}, Id";
    }

    private PulledRecord Read(JsonObject record, string id, IReadOnlyDictionary<string, string> fields, bool multiCurrency)
    {
        if (record["IsDeleted"]?.GetValue<bool>() == true) return new PulledRecord(id, null, Deleted: true);
        var status = record["IsWon"]?.GetValue<bool>() == true ? OpportunityStatus.Won
            : record["IsClosed"]?.GetValue<bool>() == true ? OpportunityStatus.Lost : OpportunityStatus.Open;
        string? Field(string name) =>
            name == "currency" && !multiCurrency ? _options.CorporateCurrency
            : fields.TryGetValue(name, out var path) ? Path(record, path) : null;
        return PulledOpportunity.Read(Crms.Salesforce, id, Field, status, "no account name (Account.Name is empty)");
    }

    /// <summary>Whether a record at (stamp, id) comes after the cursor (cursorStamp, cursorId): by instant, then by id.</summary>
    private static bool After(string? stamp, string id, string? cursorStamp, string? cursorId)
    {
        if (cursorStamp is null) return true;
        if (stamp is null || Infrastructure.Http.CrmDates.Instant(stamp) is not { } at || Infrastructure.Http.CrmDates.Instant(cursorStamp) is not { } cursor) return true;
        return at > cursor || (at == cursor && string.CompareOrdinal(id, cursorId ?? "") > 0);
    }

    private static string Serialize(Cursor cursor) => JsonSerializer.Serialize(cursor, JsonSerializerOptions.Web);

    /// <summary>One GET with the org's token (a fresh one once on INVALID_SESSION_ID); null when a query locator expired.</summary>
    private async Task<JsonNode?> GetAsync(string path, CancellationToken ct, bool queryLocator = true)
    {
        for (var attempt = 0; ; attempt++)
        {
            var token = await adapter.Token.GetAsync(ct);
            using var request = new HttpRequestMessage(HttpMethod.Get, _options.InstanceUrl!.TrimEnd('/') + path);
            request.Headers.Authorization = CrmAnswers.Bearer(token);
            using var http = clients.CreateClient(Crms.Salesforce);
            using var response = await http.SendAsync(request, ct);
            var body = await response.Content.ReadAsStringAsync(ct);
            if (response.IsSuccessStatusCode) return PulledOpportunity.Parse(body);
            var error = body.Contains("errorCode", StringComparison.Ordinal) ? CrmAnswers.Truncate(body) : $"Salesforce answered {(int)response.StatusCode}.";
            if (response.StatusCode == HttpStatusCode.Unauthorized && attempt == 0 && body.Contains("INVALID_SESSION_ID", StringComparison.Ordinal))
            {
                adapter.Token.Invalidate(token);
                continue;
            }
            if (queryLocator && body.Contains("INVALID_QUERY_LOCATOR", StringComparison.Ordinal)) return null;
            var now = clock.GetUtcNow();
            if (response.StatusCode == HttpStatusCode.Forbidden && body.Contains("REQUEST_LIMIT_EXCEEDED", StringComparison.Ordinal))
            {
                throw new PipelinePausedException(now + _options.RequestLimitWait, error);
            }
            if (response.StatusCode == HttpStatusCode.TooManyRequests)
            {
                throw new PipelinePausedException(CrmAnswers.RetryAfter(response, now) ?? now + TimeSpan.FromMinutes(1), error);
            }
            throw new HttpRequestException(error, null, response.StatusCode);
        }
    }

    /// <summary>
    /// A SOQL dateTime literal in a documented form (<c>YYYY-MM-DDThh:mm:ssZ</c>: no fractional seconds) of the whole second a
    /// timestamp as Salesforce writes it (<c>2026-11-30T10:00:00.250+0000</c>) falls in.
    /// </summary>
    internal static string Literal(string stamp) =>
        Infrastructure.Http.CrmDates.Instant(stamp)!.Value.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture);

    private static string? Path(JsonObject record, string path)
    {
        JsonNode? node = record;
        foreach (var part in path.Split('.')) node = node is JsonObject o ? o[part] : null;
        return node is JsonValue v ? v.ToString() : null;
    }

    private static string? Text(JsonNode node, string name) => node[name] is JsonValue v && v.TryGetValue<string>(out var s) ? s : null;
}
