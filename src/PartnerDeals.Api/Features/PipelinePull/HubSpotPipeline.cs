using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.Extensions.Options;
using PartnerDeals.Api.Features.Opportunities;
using PartnerDeals.Api.Features.Sync;

namespace PartnerDeals.Api.Features.PipelinePull;

/// <summary>
/// HubSpot's pipeline: the CRM search of deals (<c>POST /crm/v3/objects/deals/search</c>) filtered by
/// <c>hs_lastmodifieddate</c> at or after the cursor and sorted by it, 100 a page through <c>paging.next.after</c>;
/// each page's companies read in two batches (v4 associations, then companies). Every page is a new search from
/// the last modification time read, past the deals already taken at that time: a deal changed while the pull runs
/// moves later and is read there, and no search comes near HubSpot's cap of 10,000 results. Archived deals, which search leaves out, are listed after the search and deleted
/// here. Searches are spaced to HubSpot's few a second (<c>Crm:HubSpot:SearchesPerSecond</c>).
/// </summary>
public sealed class HubSpotPipeline(IOptions<CrmOptions> options, IHttpClientFactory clients, TimeProvider clock) : IPipelineReader
{
    private const int PageSize = 100;

    private readonly HubSpotOptions _options = options.Value.HubSpot;
    private long _lastSearch;

    /// <summary>Opportunity field → deal property, or <c>company.&lt;property&gt;</c> of its associated company.</summary>
    public static readonly IReadOnlyDictionary<string, string> DefaultFields = new Dictionary<string, string>
    {
        ["accountName"] = "company.name",
        ["accountDomain"] = "company.domain",
        ["country"] = "company.country",
        ["owner"] = "hubspot_owner_id",
        ["stage"] = "dealstage",
        ["amount"] = "amount",
        ["currency"] = "deal_currency_code",
        ["closeDate"] = "closedate",
        ["openedDate"] = "createdate",
    };

    public string Crm => Crms.HubSpot;

    public PipelineOptions Options => _options.Pipeline;

    private Dictionary<string, string> Fields => PulledOpportunity.Fields(DefaultFields, _options.Pipeline.Fields);

    /// <summary>
    /// Where a run is: the search from <c>Stamp</c> (ms), past the <c>Ids</c> taken at it (the first <c>Skip</c> results); or
    /// the archived list from <c>ArchivedAfter</c>.
    /// </summary>
    private sealed record Cursor(long? Stamp, IReadOnlyList<string> Ids, int Skip = 0, bool Archived = false, string? ArchivedAfter = null);

    public async Task<PulledPage> ReadAsync(string? cursor, CancellationToken ct)
    {
        var at = cursor is null ? new Cursor(null, []) : JsonSerializer.Deserialize<Cursor>(cursor, JsonSerializerOptions.Web)!;
        return at.Archived ? await ArchivedAsync(at, ct) : await SearchAsync(at, ct);
    }

    private async Task<PulledPage> SearchAsync(Cursor at, CancellationToken ct)
    {
        var fields = Fields;
        var filters = new JsonArray();
        if (at.Stamp is { } stamp)
        {
            filters.Add(new JsonObject { ["propertyName"] = "hs_lastmodifieddate", ["operator"] = "GTE", ["value"] = stamp.ToString(CultureInfo.InvariantCulture) });
        }
        if (!string.IsNullOrWhiteSpace(_options.Pipeline.Filter))
        {
            filters.Add(new JsonObject
            {
                ["propertyName"] = "pipeline", ["operator"] = "IN",
                ["values"] = new JsonArray(_options.Pipeline.Filter.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries)
                    .Select(p => (JsonNode)p).ToArray()),
            });
        }
        var properties = fields.Values.Where(p => !p.StartsWith("company.", StringComparison.Ordinal))
            .Concat(["hs_lastmodifieddate", "hs_is_closed", "hs_is_closed_won"]).Distinct();
        var body = new JsonObject
        {
            ["filterGroups"] = filters.Count == 0 ? new JsonArray() : new JsonArray(new JsonObject { ["filters"] = filters }),
            ["sorts"] = new JsonArray(new JsonObject { ["propertyName"] = "hs_lastmodifieddate", ["direction"] = "ASCENDING" }),
            ["properties"] = new JsonArray(properties.Select(p => (JsonNode)p).ToArray()),
            ["limit"] = PageSize,
        };
        if (at.Skip > 0) body["after"] = at.Skip.ToString(CultureInfo.InvariantCulture);
        await SpaceSearchesAsync(ct);
        var answer = await SendAsync(HttpMethod.Post, "/crm/v3/objects/deals/search", body, ct);

        var deals = (answer["results"] as JsonArray ?? []).OfType<JsonObject>()
            .Select(d => (Id: d["id"]?.ToString() ?? "", Properties: d["properties"] as JsonObject ?? [], Modified: Modified(d)))
            .Where(d => !(d.Modified == at.Stamp && at.Ids.Contains(d.Id)))
            .ToList();
        var companies = await CompaniesAsync(deals.Select(d => d.Id).ToList(), fields, ct);
        var records = deals.Select(d => Read(d.Id, d.Properties, companies.GetValueOrDefault(d.Id), fields)).ToList();

        // The cursor: the last modification time read, and every deal taken at it (including those before, at the same time).
        var last = deals.Count > 0 ? deals[^1].Modified : at.Stamp;
        var atLast = deals.Where(d => d.Modified == last).Select(d => d.Id);
        var ids = (last == at.Stamp ? at.Ids.Concat(atLast) : atLast).Distinct().ToList();
        var more = answer["paging"]?["next"] is not null;
        // A page of nothing new (ties at the cursor's time answered in another order) steps past it rather than asking again.
        var skip = deals.Count == 0 && more ? at.Skip + PageSize : ids.Count;
        var after = new Cursor(last, ids, skip, Archived: !more);
        return new PulledPage(records, JsonSerializer.Serialize(after, JsonSerializerOptions.Web), More: true);
    }

    private async Task<PulledPage> ArchivedAsync(Cursor at, CancellationToken ct)
    {
        var path = $"/crm/v3/objects/deals?archived=true&limit={PageSize}&properties=hs_lastmodifieddate"
            + (at.ArchivedAfter is null ? "" : "&after=" + Uri.EscapeDataString(at.ArchivedAfter));
        var answer = await SendAsync(HttpMethod.Get, path, null, ct);
        var records = (answer["results"] as JsonArray ?? []).OfType<JsonObject>()
            .Select(d => new PulledRecord(d["id"]?.ToString() ?? "", null, Deleted: true)).ToList();
        var next = answer["paging"]?["next"]?["after"]?.ToString();
        var after = next is null ? at with { Archived = false, ArchivedAfter = null } : at with { ArchivedAfter = next };
        return new PulledPage(records, JsonSerializer.Serialize(after, JsonSerializerOptions.Web), More: next is not null);
    }

    /// <summary>Each deal's first associated company's properties.</summary>
    private async Task<Dictionary<string, JsonObject>> CompaniesAsync(IReadOnlyList<string> dealIds, IReadOnlyDictionary<string, string> fields,
        CancellationToken ct)
    {
        var wanted = fields.Values.Where(p => p.StartsWith("company.", StringComparison.Ordinal)).Select(p => p["company.".Length..]).Distinct().ToList();
        if (dealIds.Count == 0 || wanted.Count == 0) return [];
        var associations = await SendAsync(HttpMethod.Post, "/crm/v4/associations/deals/companies/batch/read",
            new JsonObject { ["inputs"] = new JsonArray(dealIds.Select(id => (JsonNode)new JsonObject { ["id"] = id }).ToArray()) }, ct);
        var companyOf = (associations["results"] as JsonArray ?? []).OfType<JsonObject>()
            .Select(r => (Deal: r["from"]?["id"]?.ToString(), Company: (r["to"] as JsonArray)?.FirstOrDefault()?["toObjectId"]?.ToString()))
            .Where(r => r.Deal is not null && r.Company is not null)
            .GroupBy(r => r.Deal!).ToDictionary(g => g.Key, g => g.First().Company!);
        if (companyOf.Count == 0) return [];
        var read = await SendAsync(HttpMethod.Post, "/crm/v3/objects/companies/batch/read", new JsonObject
        {
            ["properties"] = new JsonArray(wanted.Select(p => (JsonNode)p).ToArray()),
            ["inputs"] = new JsonArray(companyOf.Values.Distinct().Select(id => (JsonNode)new JsonObject { ["id"] = id }).ToArray()),
        }, ct);
        var byId = (read["results"] as JsonArray ?? []).OfType<JsonObject>()
            .Where(c => c["id"] is not null).ToDictionary(c => c["id"]!.ToString(), c => c["properties"] as JsonObject ?? []);
        return companyOf.Where(p => byId.ContainsKey(p.Value)).ToDictionary(p => p.Key, p => byId[p.Value]);
    }

    private static PulledRecord Read(string id, JsonObject deal, JsonObject? company, IReadOnlyDictionary<string, string> fields)
    {
        string? Field(string name) => fields.TryGetValue(name, out var property)
            ? property.StartsWith("company.", StringComparison.Ordinal) ? Text(company, property["company.".Length..]) : Text(deal, property)
            : null;
        var status = Text(deal, "hs_is_closed_won") == "true" ? OpportunityStatus.Won
            : Text(deal, "hs_is_closed") == "true" ? OpportunityStatus.Lost : OpportunityStatus.Open;
        return PulledOpportunity.Read(Crms.HubSpot, id, Field, status, "no associated company with a name");
    }

    private static long? Modified(JsonObject deal) =>
        Text(deal["properties"] as JsonObject, "hs_lastmodifieddate") is { } text
            ? long.TryParse(text, out var ms) ? ms
            : PulledOpportunity.Instant(text)?.ToUnixTimeMilliseconds()
            : null;

    private async Task SpaceSearchesAsync(CancellationToken ct)
    {
        var spacing = TimeSpan.FromSeconds(1 / _options.SearchesPerSecond);
        var since = Stopwatch.GetElapsedTime(Interlocked.Read(ref _lastSearch));
        if (_lastSearch != 0 && since < spacing) await Task.Delay(spacing - since, ct);
        Interlocked.Exchange(ref _lastSearch, Stopwatch.GetTimestamp());
    }

    private async Task<JsonNode> SendAsync(HttpMethod method, string path, JsonNode? body, CancellationToken ct)
    {
        using var request = new HttpRequestMessage(method, _options.BaseUrl.TrimEnd('/') + path);
        if (body is not null) request.Content = JsonContent.Create(body);
        request.Headers.Authorization = CrmAnswers.Bearer(_options.AccessToken!);
        using var http = clients.CreateClient(Crms.HubSpot);
        using var response = await http.SendAsync(request, ct);
        var text = await response.Content.ReadAsStringAsync(ct);
        if (response.IsSuccessStatusCode) return PulledOpportunity.Parse(text);
        var message = CrmAnswers.Truncate(text.Length > 0 ? text : $"HubSpot answered {(int)response.StatusCode}.");
        if (response.StatusCode == HttpStatusCode.TooManyRequests)
        {
            var now = clock.GetUtcNow();
            var daily = text.Contains("\"DAILY\"", StringComparison.Ordinal);
            throw new PipelinePausedException(CrmAnswers.RetryAfter(response, now) ?? now + (daily ? TimeSpan.FromHours(1) : _options.RollingWindowWait), message);
        }
        throw new HttpRequestException(message, null, response.StatusCode);
    }

    private static string? Text(JsonObject? node, string name) => node?[name] is JsonValue v ? v.ToString() : null;
}
