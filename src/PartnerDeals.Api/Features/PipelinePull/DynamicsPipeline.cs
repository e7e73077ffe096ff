using System.Net;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.Extensions.Options;
using PartnerDeals.Api.Features.Opportunities;
using PartnerDeals.Api.Features.Sync;

namespace PartnerDeals.Api.Features.PipelinePull;

/// <summary>
/// Dataverse's pipeline by change tracking: <c>GET opportunities</c> with <c>$select</c>, the account and currency
/// expanded, and <c>Prefer: odata.track-changes, odata.maxpagesize</c>. A run follows <c>@odata.nextLink</c> to the
/// last page, whose <c>@odata.deltaLink</c> is the next run's start: Dataverse's own token, which answers only what
/// changed since, deletions as <c>$deletedEntity</c> rows. <c>statecode</c> gives open, won or lost.
/// </summary>
public sealed class DynamicsPipeline(IOptions<CrmOptions> options, DynamicsAdapter adapter, IHttpClientFactory clients, TimeProvider clock)
    : IPipelineReader
{
    private const int PageSize = 5000;
    private const string ApiPath = "/api/data/v9.2";

    private readonly DynamicsOptions _options = options.Value.Dynamics;

    /// <summary>Opportunity field → opportunity column, or <c>parentaccountid.&lt;column&gt;</c> / <c>transactioncurrencyid.&lt;column&gt;</c>.</summary>
    public static readonly IReadOnlyDictionary<string, string> DefaultFields = new Dictionary<string, string>
    {
        ["accountName"] = "parentaccountid.name",
        ["accountDomain"] = "parentaccountid.websiteurl",
        ["country"] = "parentaccountid.address1_country",
        ["stage"] = "stepname",
        ["amount"] = "estimatedvalue",
        ["currency"] = "transactioncurrencyid.isocurrencycode",
        ["closeDate"] = "estimatedclosedate",
        ["openedDate"] = "createdon",
    };

    public string Crm => Crms.Dynamics;

    public PipelineOptions Options => _options.Pipeline;

    private Dictionary<string, string> Fields => PulledOpportunity.Fields(DefaultFields, _options.Pipeline.Fields);

    /// <summary>The link to read next: a page of this run (<c>nextLink</c>), or the delta link a finished run left.</summary>
    private sealed record Cursor(string Link);

    public async Task<PulledPage> ReadAsync(string? cursor, CancellationToken ct)
    {
        var fields = Fields;
        var link = cursor is null ? FirstQuery(fields) : JsonSerializer.Deserialize<Cursor>(cursor, JsonSerializerOptions.Web)!.Link;
        var answer = await GetAsync(link, ct);
        var records = (answer["value"] as JsonArray ?? []).OfType<JsonObject>().Select(row => Read(row, fields)).ToList();
        if (answer["@odata.nextLink"]?.ToString() is { } next) return new PulledPage(records, Serialize(next), More: true);
        // The last page: the delta link is where the next run starts; without one (tracking off), the next run reads all again.
        var delta = answer["@odata.deltaLink"]?.ToString();
        return new PulledPage(records, delta is null ? null : Serialize(delta), More: false);
    }

    private string FirstQuery(IReadOnlyDictionary<string, string> fields)
    {
        var own = fields.Values.Where(c => !c.Contains('.')).Concat(["opportunityid", "statecode"]).Distinct();
        var expand = fields.Values.Where(c => c.Contains('.')).GroupBy(c => c[..c.IndexOf('.')])
            .Select(g => $"{g.Key}($select={string.Join(",", g.Select(c => c[(c.IndexOf('.') + 1)..]).Distinct())})");
        var query = $"{ApiPath}/opportunities?$select={string.Join(",", own)}&$expand={string.Join(",", expand)}";
        if (!string.IsNullOrWhiteSpace(_options.Pipeline.Filter)) query += "&$filter=" + Uri.EscapeDataString(_options.Pipeline.Filter);
        return query;
    }

    private static PulledRecord Read(JsonObject row, IReadOnlyDictionary<string, string> fields)
    {
        if (row["@odata.context"]?.ToString() is { } context && context.EndsWith("$deletedEntity", StringComparison.Ordinal))
        {
            return new PulledRecord(row["id"]?.ToString() ?? "", null, Deleted: true);
        }
        var id = row["opportunityid"]?.ToString() ?? "";
        string? Field(string name)
        {
            if (!fields.TryGetValue(name, out var column)) return null;
            JsonNode? node = row;
            foreach (var part in column.Split('.')) node = node is JsonObject o ? o[part] : null;
            return node is JsonValue v ? v.ToString() : null;
        }
        var state = row["statecode"] is JsonValue s && s.TryGetValue<int>(out var code) ? code : 0;
        // opportunity statecode: 0 open, 1 won, 2 lost.
        var status = state switch { 1 => OpportunityStatus.Won, 2 => OpportunityStatus.Lost, _ => OpportunityStatus.Open };
        return PulledOpportunity.Read(Crms.Dynamics, id, Field, status, "no parent account with a name");
    }

    private async Task<JsonNode> GetAsync(string link, CancellationToken ct)
    {
        // Links Dataverse gave are absolute; only ones to this environment are followed.
        var url = link.StartsWith("http", StringComparison.OrdinalIgnoreCase) ? link : _options.BaseUrl!.TrimEnd('/') + link;
        if (!url.StartsWith(_options.BaseUrl!.TrimEnd('/') + "/", StringComparison.OrdinalIgnoreCase))
        {
            throw new InvalidOperationException("A stored link points outside the Dataverse environment; resync the pipeline.");
        }
        for (var attempt = 0; ; attempt++)
        {
            var token = await adapter.Token.GetAsync(ct);
            using var request = new HttpRequestMessage(HttpMethod.Get, url);
            request.Headers.Authorization = CrmAnswers.Bearer(token);
            request.Headers.Add("OData-MaxVersion", "4.0");
            request.Headers.Add("OData-Version", "4.0");
            request.Headers.Add("Prefer", $"odata.track-changes, odata.maxpagesize={PageSize}");
            request.Headers.Accept.ParseAdd("application/json");
            using var http = clients.CreateClient(Crms.Dynamics);
            using var response = await http.SendAsync(request, ct);
            var text = await response.Content.ReadAsStringAsync(ct);
            if (response.IsSuccessStatusCode) return PulledOpportunity.Parse(text);
            if (response.StatusCode == HttpStatusCode.Unauthorized && attempt == 0)
            {
                adapter.Token.Invalidate(token);
                continue;
            }
            var message = CrmAnswers.Truncate(text.Length > 0 ? text : $"Dynamics answered {(int)response.StatusCode}.");
            if (response.StatusCode == HttpStatusCode.TooManyRequests)
            {
                var now = clock.GetUtcNow();
                throw new PipelinePausedException(CrmAnswers.RetryAfter(response, now) ?? now + TimeSpan.FromSeconds(30), message);
            }
            throw new HttpRequestException(message, null, response.StatusCode);
        }
    }

    private static string Serialize(string link) => JsonSerializer.Serialize(new Cursor(link), JsonSerializerOptions.Web);
}
