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
/// <c>nextRecordsUrl</c>. The cursor is the last record's (SystemModstamp, Id): the next query starts strictly
/// after it, so records sharing a timestamp across a page boundary are neither lost nor read twice. A query
/// locator that expired between runs is replaced by a fresh query from the cursor.
/// </summary>
public sealed class SalesforcePipeline(IOptions<CrmOptions> options, SalesforceAdapter adapter, IHttpClientFactory clients, TimeProvider clock)
    : IPipelineReader
{
    private readonly SalesforceOptions _options = options.Value.Salesforce;

    /// <summary>Opportunity field → SOQL field path; a mapping to <c>none</c> is not read (e.g. CurrencyIsoCode in a single-currency org).</summary>
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

    private Dictionary<string, string> Fields => PulledOpportunity.Fields(DefaultFields, _options.Pipeline.Fields);

    private sealed record Cursor(string? Stamp, string? Id, string? Next);

    public async Task<PulledPage> ReadAsync(string? cursor, CancellationToken ct)
    {
        var at = cursor is null ? new Cursor(null, null, null) : JsonSerializer.Deserialize<Cursor>(cursor, JsonSerializerOptions.Web)!;
        var fields = Fields;
        JsonNode answer;
        if (at.Next is not null && await GetAsync(at.Next, ct) is { } continued) answer = continued;
        else answer = (await GetAsync($"/services/data/v{_options.ApiVersion}/queryAll?q={Uri.EscapeDataString(Soql(at, fields))}", ct, queryLocator: false))!;

        var records = answer["records"] as JsonArray ?? [];
        var pulled = new List<PulledRecord>(records.Count);
        var last = at;
        foreach (var record in records.OfType<JsonObject>())
        {
            var id = Text(record, "Id") ?? "";
            last = new Cursor(Text(record, "SystemModstamp"), id, null);
            pulled.Add(PulledOpportunity.Safely(id, () => Read(record, id, fields)));
        }
        var done = answer["done"]?.GetValue<bool>() ?? true;
        var next = done ? null : Text(answer, "nextRecordsUrl");
        return new PulledPage(pulled, JsonSerializer.Serialize(last with { Next = next }, JsonSerializerOptions.Web), !done);
    }

    private string Soql(Cursor at, IReadOnlyDictionary<string, string> fields)
    {
        var select = new[] { "Id", "IsDeleted", "IsClosed", "IsWon", "SystemModstamp" }.Concat(fields.Values).Distinct(StringComparer.OrdinalIgnoreCase);
        var where = new List<string>();
        if (at.Stamp is not null && at.Id is not null)
        {
            var stamp = Literal(at.Stamp);
            where.Add($"(SystemModstamp > {stamp} OR (SystemModstamp = {stamp} AND Id > '{at.Id.Replace("'", "", StringComparison.Ordinal)}'))");
        }
        if (!string.IsNullOrWhiteSpace(_options.Pipeline.Filter)) where.Add($"({_options.Pipeline.Filter})");
        return $"SELECT {string.Join(", ", select)} FROM Opportunity{(where.Count > 0 ? " WHERE " + string.Join(" AND ", where) : "")} ORDER BY SystemModstamp, Id";
    }

    private static PulledRecord Read(JsonObject record, string id, IReadOnlyDictionary<string, string> fields)
    {
        if (record["IsDeleted"]?.GetValue<bool>() == true) return new PulledRecord(id, null, Deleted: true);
        var status = record["IsWon"]?.GetValue<bool>() == true ? OpportunityStatus.Won
            : record["IsClosed"]?.GetValue<bool>() == true ? OpportunityStatus.Lost : OpportunityStatus.Open;
        return PulledOpportunity.Read(Crms.Salesforce, id, name => fields.TryGetValue(name, out var path) ? Path(record, path) : null, status,
            "no account name (Account.Name is empty)");
    }

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
            if (response.IsSuccessStatusCode) return JsonNode.Parse(body)!;
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

    /// <summary>A SOQL datetime literal of a timestamp as Salesforce writes it (<c>2026-11-30T10:00:00.000+0000</c>).</summary>
    internal static string Literal(string stamp) =>
        PulledOpportunity.Instant(stamp)!.Value.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture);

    private static string? Path(JsonObject record, string path)
    {
        JsonNode? node = record;
        foreach (var part in path.Split('.')) node = node is JsonObject o ? o[part] : null;
        return node is JsonValue v ? v.ToString() : null;
    }

    private static string? Text(JsonNode node, string name) => node[name] is JsonValue v && v.TryGetValue<string>(out var s) ? s : null;
}
