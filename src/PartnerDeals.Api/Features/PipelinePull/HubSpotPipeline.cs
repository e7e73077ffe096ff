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
/// HubSpot's pipeline, as its published OpenAPI documents (CRM Deals v3, Companies v3, Associations v4) shape each request:
/// the CRM search of deals (<c>POST /crm/v3/objects/deals/search</c>) filtered by <c>hs_lastmodifieddate</c> at or after
/// the cursor and sorted by it (<c>sorts</c> items are strings), 100 a page; <c>after</c> is only ever the previous
/// answer's <c>paging.next.after</c> ("0" to begin). A search returns at most 10,000 results: before it gets there, a new
/// search starts from the last modification time read, past the deals already taken at it; when more deals share one
/// modification time than a search can return, they are searched by that time alone and ordered by id, from the last id taken.
/// Each page's companies are read in two batches (v4 associations, then companies): the primary company (association type
/// 5, "Deal with Primary Company"), the first one only when none is marked primary; a batch answered with a status other
/// than <c>COMPLETE</c> or with errors (207) is read again for what it lacks. Archived deals, which search leaves out, are
/// listed after the search and deleted here. Searches are spaced to HubSpot's few a second (<c>Crm:HubSpot:SearchesPerSecond</c>).
/// </summary>
public sealed class HubSpotPipeline(IOptions<CrmOptions> options, IHttpClientFactory clients, TimeProvider clock) : IPipelineReader
{
    private const int PageSize = 100;

    /// <summary>HubSpot's search returns at most this many results, however it is paged.</summary>
    private const int SearchCap = 10_000;

    /// <summary>The association type of a deal's primary company (HubSpot-defined).</summary>
    private const int PrimaryCompany = 5;

    private const int BatchReadAttempts = 3;

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
    /// Where a run is. The search: deals modified at or after <c>From</c> (ms) — or, while the deals of one modification time
    /// are taken by id, modified at <c>From</c> with an id above <c>TieFrom</c> — its paging token <c>After</c> from its last
    /// answer and the results it returned so far (<c>Read</c>). What was taken: the last modification time read
    /// (<c>Stamp</c>), the deals taken at it (<c>Ids</c>) and, by id, the last one (<c>TieLast</c>). Or the archived list from
    /// <c>ArchivedAfter</c>. The companies: changed at or after <c>CompaniesFrom</c>, those taken at it (<c>CompaniesIds</c>), the
    /// search's own start, token and count while it pages. <c>FullRead</c>: the run reads everything (the first, or a resync).
    /// </summary>
    private sealed record Cursor(long? Stamp, IReadOnlyList<string> Ids, long? From = null, string? TieFrom = null, string? After = null, int Read = 0,
        string? TieLast = null, bool Archived = false, string? ArchivedAfter = null, bool FullRead = false, bool Companies = false,
        long? CompaniesFrom = null, IReadOnlyList<string>? CompaniesIds = null, long? CompaniesSearchFrom = null, string? CompaniesAfter = null,
        int CompaniesRead = 0);

    public async Task<PulledPage> ReadAsync(string? cursor, CancellationToken ct)
    {
        var at = cursor is null ? new Cursor(null, [], FullRead: true) : JsonSerializer.Deserialize<Cursor>(cursor, JsonSerializerOptions.Web)!;
        return at.Companies ? await CompanyChangesAsync(at, ct) : at.Archived ? await ArchivedAsync(at, ct) : await SearchAsync(at, ct);
    }

    private async Task<PulledPage> SearchAsync(Cursor at, CancellationToken ct)
    {
        var fields = Fields;
        var filters = new JsonArray();
        var tie = at.TieFrom is not null;
        // The next page of a search keeps its filter; a new search starts from the last modification time taken.
        var from = at.After is not null ? at.From : at.From ?? at.Stamp;
        if (from is { } stamp)
        {
            filters.Add(Filter("hs_lastmodifieddate", tie ? "EQ" : "GTE", stamp.ToString(CultureInfo.InvariantCulture)));
            if (tie) filters.Add(Filter("hs_object_id", "GT", at.TieFrom!));
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
        var body = new JsonObject
        {
            ["filterGroups"] = filters.Count == 0 ? new JsonArray() : new JsonArray(new JsonObject { ["filters"] = filters }),
            ["sorts"] = new JsonArray(tie ? "hs_object_id" : "hs_lastmodifieddate"),
            ["properties"] = DealProperties(fields),
            ["limit"] = PageSize,
            ["after"] = at.After ?? "0",
        };
        await SpaceSearchesAsync(ct);
        var answer = await SendAsync(HttpMethod.Post, "/crm/v3/objects/deals/search", body, ct);

        var found = (answer["results"] as JsonArray ?? []).OfType<JsonObject>()
            .Select(d => (Id: d["id"]?.ToString() ?? "", Properties: d["properties"] as JsonObject ?? [], Modified: Modified(d))).ToList();
        var deals = found.Where(d => !(d.Modified == at.Stamp && at.Ids.Contains(d.Id))).ToList();
        var (companies, latestCompany) = await CompaniesAsync(deals.Select(d => d.Id).ToList(), fields, ct);
        var records = deals.Select(d => PulledOpportunity.Safely(d.Id, () => Read(d.Id, d.Properties, companies.GetValueOrDefault(d.Id), fields))).ToList();
        // A full read starts the companies' cursor at the latest company change it saw.
        if (at.FullRead && latestCompany > (at.CompaniesFrom ?? long.MinValue)) at = at with { CompaniesFrom = latestCompany, CompaniesIds = [] };

        // What was taken: the last modification time read, and every deal taken at it (including those before, at the same time).
        var last = deals.Count > 0 ? deals[^1].Modified : at.Stamp;
        // Taken by id, the deals of one time are skipped by the search itself: the cursor keeps no list of them.
        var ids = tie ? [] : (last == at.Stamp ? at.Ids.Concat(deals.Where(d => d.Modified == last).Select(d => d.Id))
            : deals.Where(d => d.Modified == last).Select(d => d.Id)).Distinct().ToList();
        var taken = at with { Stamp = last, Ids = ids, TieLast = tie && found.Count > 0 ? found[^1].Id : at.TieLast };
        var next = answer["paging"]?["next"]?["after"]?.ToString();
        var read = at.Read + found.Count;
        Cursor after;
        if (next is not null && read + PageSize <= SearchCap) after = taken with { From = from, After = next, Read = read };
        // Near the cap: the deals of one time, by id, from the last id taken.
        else if (next is not null && tie) after = taken with { TieFrom = taken.TieLast, After = null, Read = 0 };
        // A search that read nothing but one time: a search from it would answer the same, so its deals are taken by id.
        // (those already taken are read again once, rather than listed in the cursor).
        else if (next is not null && found.All(d => d.Modified == from)) after = taken with { Ids = [], From = from, TieFrom = "0", After = null, Read = 0 };
        else if (next is not null) after = taken with { From = last, After = null, Read = 0 };
        // Every deal of that time taken by id: the search goes on strictly after it.
        else if (tie) after = taken with { From = from + 1, TieFrom = null, TieLast = null, After = null, Read = 0 };
        else after = taken with { From = null, TieFrom = null, TieLast = null, After = null, Read = 0, Archived = true };
        return new PulledPage(records, JsonSerializer.Serialize(after, JsonSerializerOptions.Web), More: true);
    }

    private static JsonObject Filter(string property, string op, string value) => new() { ["propertyName"] = property, ["operator"] = op, ["value"] = value };

    private async Task<PulledPage> ArchivedAsync(Cursor at, CancellationToken ct)
    {
        var path = $"/crm/v3/objects/deals?archived=true&limit={PageSize}&properties=hs_lastmodifieddate"
            + (at.ArchivedAfter is null ? "" : "&after=" + Uri.EscapeDataString(at.ArchivedAfter));
        var answer = await SendAsync(HttpMethod.Get, path, null, ct);
        var records = (answer["results"] as JsonArray ?? []).OfType<JsonObject>()
            .Select(d => new PulledRecord(d["id"]?.ToString() ?? "", null, Deleted: true)).ToList();
        var next = answer["paging"]?["next"]?["after"]?.ToString();
        if (next is not null) return new PulledPage(records, JsonSerializer.Serialize(at with { ArchivedAfter = next }, JsonSerializerOptions.Web), More: true);
        // Then the companies changed since the last run, unless this run read everything.
        var companies = !at.FullRead && at.CompaniesFrom is not null;
        var after = at with { Archived = false, ArchivedAfter = null, Companies = companies, FullRead = false };
        return new PulledPage(records, JsonSerializer.Serialize(after, JsonSerializerOptions.Web), More: companies);
    }

    /// <summary>
    /// A company edit (a rename, a new domain) does not move its deals' modification time: the companies changed since the last
    /// run are searched by their own <c>hs_lastmodifieddate</c>, and their deals read again (v4 associations, then a deals batch read).
    /// </summary>
    private async Task<PulledPage> CompanyChangesAsync(Cursor at, CancellationToken ct)
    {
        var fields = Fields;
        var from = at.CompaniesAfter is not null ? at.CompaniesSearchFrom : at.CompaniesFrom;
        var body = new JsonObject
        {
            ["filterGroups"] = new JsonArray(new JsonObject
            {
                ["filters"] = new JsonArray(Filter("hs_lastmodifieddate", "GTE", from!.Value.ToString(CultureInfo.InvariantCulture))),
            }),
            ["sorts"] = new JsonArray("hs_lastmodifieddate"),
            ["properties"] = new JsonArray("hs_lastmodifieddate"),
            ["limit"] = PageSize,
            ["after"] = at.CompaniesAfter ?? "0",
        };
        await SpaceSearchesAsync(ct);
        var answer = await SendAsync(HttpMethod.Post, "/crm/v3/objects/companies/search", body, ct);
        var found = (answer["results"] as JsonArray ?? []).OfType<JsonObject>().Select(c => (Id: c["id"]?.ToString() ?? "", Modified: Modified(c))).ToList();
        var takenIds = at.CompaniesIds ?? [];
        var changed = found.Where(c => !(c.Modified == at.CompaniesFrom && takenIds.Contains(c.Id))).ToList();

        var records = new List<PulledRecord>();
        if (changed.Count > 0)
        {
            var associations = await BatchReadAsync("/crm/v4/associations/companies/deals/batch/read", changed.Select(c => c.Id).ToList(),
                r => r["from"]?["id"]?.ToString(),
                ids => new JsonObject { ["inputs"] = new JsonArray(ids.Select(id => (JsonNode)new JsonObject { ["id"] = id }).ToArray()) }, ct);
            var dealIds = associations.Values.SelectMany(r => (r["to"] as JsonArray ?? []).OfType<JsonObject>())
                .Select(t => t["toObjectId"]?.ToString()).OfType<string>().Distinct().ToList();
            var pipelines = _options.Pipeline.Filter?.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries) ?? [];
            foreach (var chunk in dealIds.Chunk(PageSize))
            {
                var deals = await BatchReadAsync("/crm/v3/objects/deals/batch/read", chunk, d => d["id"]?.ToString(), ids => new JsonObject
                {
                    ["properties"] = DealProperties(fields),
                    ["propertiesWithHistory"] = new JsonArray(),
                    ["inputs"] = new JsonArray(ids.Select(id => (JsonNode)new JsonObject { ["id"] = id }).ToArray()),
                }, ct);
                // Only the deals of the configured pipelines, as the search takes them.
                var kept = deals.Where(d => pipelines.Length == 0 || pipelines.Contains(Text(d.Value["properties"] as JsonObject, "pipeline"))).ToList();
                var (companies, _) = await CompaniesAsync(kept.Select(d => d.Key).ToList(), fields, ct);
                records.AddRange(kept.Select(d => PulledOpportunity.Safely(d.Key,
                    () => Read(d.Key, d.Value["properties"] as JsonObject ?? [], companies.GetValueOrDefault(d.Key), fields))));
            }
        }

        var last = changed.Count > 0 ? changed[^1].Modified : at.CompaniesFrom;
        var atLast = changed.Where(c => c.Modified == last).Select(c => c.Id);
        var lastIds = (last == at.CompaniesFrom ? takenIds.Concat(atLast) : atLast).Distinct().ToList();
        var next = answer["paging"]?["next"]?["after"]?.ToString();
        var read = at.CompaniesRead + found.Count;
        var taken = at with { CompaniesFrom = last, CompaniesIds = lastIds };
        Cursor after;
        if (next is not null && read + PageSize <= SearchCap) after = taken with { CompaniesSearchFrom = from, CompaniesAfter = next, CompaniesRead = read };
        else if (next is not null) after = taken with { CompaniesSearchFrom = null, CompaniesAfter = null, CompaniesRead = 0 };
        else after = taken with { CompaniesSearchFrom = null, CompaniesAfter = null, CompaniesRead = 0, Companies = false };
        return new PulledPage(records, JsonSerializer.Serialize(after, JsonSerializerOptions.Web), More: after.Companies);
    }

    /// <summary>The deal properties a page reads: the mapped ones, and what status, order and the pipeline filter need.</summary>
    private JsonArray DealProperties(IReadOnlyDictionary<string, string> fields) => new(fields.Values
        .Where(p => !p.StartsWith("company.", StringComparison.Ordinal))
        .Concat(["hs_lastmodifieddate", "hs_is_closed", "hs_is_closed_won"])
        .Concat(string.IsNullOrWhiteSpace(_options.Pipeline.Filter) ? [] : ["pipeline"])
        .Distinct().Select(p => (JsonNode)p).ToArray());

    /// <summary>
    /// Each deal's primary company's properties (the first associated one when none is marked primary), and the latest
    /// modification time of those companies.
    /// </summary>
    private async Task<(Dictionary<string, JsonObject> Companies, long? Latest)> CompaniesAsync(IReadOnlyList<string> dealIds,
        IReadOnlyDictionary<string, string> fields, CancellationToken ct)
    {
        var wanted = fields.Values.Where(p => p.StartsWith("company.", StringComparison.Ordinal)).Select(p => p["company.".Length..])
            .Append("hs_lastmodifieddate").Distinct().ToList();
        if (dealIds.Count == 0) return ([], null);
        var associations = await BatchReadAsync("/crm/v4/associations/deals/companies/batch/read", dealIds, r => r["from"]?["id"]?.ToString(),
            ids => new JsonObject { ["inputs"] = new JsonArray(ids.Select(id => (JsonNode)new JsonObject { ["id"] = id }).ToArray()) }, ct);
        var companyOf = new Dictionary<string, string>();
        foreach (var (deal, result) in associations)
        {
            var to = (result["to"] as JsonArray ?? []).OfType<JsonObject>().ToList();
            var primary = to.FirstOrDefault(t => (t["associationTypes"] as JsonArray ?? []).OfType<JsonObject>()
                .Any(type => type["typeId"] is JsonValue v && v.TryGetValue<int>(out var typeId) && typeId == PrimaryCompany)) ?? to.FirstOrDefault();
            if (primary?["toObjectId"]?.ToString() is { } company) companyOf[deal] = company;
        }
        if (companyOf.Count == 0) return ([], null);
        var read = await BatchReadAsync("/crm/v3/objects/companies/batch/read", companyOf.Values.Distinct().ToList(), c => c["id"]?.ToString(),
            ids => new JsonObject
            {
                ["properties"] = new JsonArray(wanted.Select(p => (JsonNode)p).ToArray()),
                ["propertiesWithHistory"] = new JsonArray(),
                ["inputs"] = new JsonArray(ids.Select(id => (JsonNode)new JsonObject { ["id"] = id }).ToArray()),
            }, ct);
        var companies = companyOf.Where(p => read.ContainsKey(p.Value)).ToDictionary(p => p.Key, p => read[p.Value]["properties"] as JsonObject ?? []);
        return (companies, read.Values.Select(Modified).Max());
    }

    /// <summary>
    /// A batch read, by id: the results of each, whose ids a batch answered without (a status other than COMPLETE, or a 207
    /// with errors) asked again, a few times; what is still missing is left out (the deal is then rejected, with why).
    /// </summary>
    private async Task<Dictionary<string, JsonObject>> BatchReadAsync(string path, IReadOnlyList<string> ids, Func<JsonObject, string?> idOf,
        Func<IReadOnlyList<string>, JsonObject> request, CancellationToken ct)
    {
        var results = new Dictionary<string, JsonObject>();
        var missing = ids;
        for (var attempt = 0; attempt < BatchReadAttempts && missing.Count > 0; attempt++)
        {
            var answer = await SendAsync(HttpMethod.Post, path, request(missing), ct);
            foreach (var result in (answer["results"] as JsonArray ?? []).OfType<JsonObject>())
            {
                if (idOf(result) is { } id) results[id] = result;
            }
            var complete = answer["status"]?.ToString() == "COMPLETE" && answer["errors"] is not JsonArray { Count: > 0 };
            // A complete answer without an id means it has none (no company associated): asking again changes nothing.
            missing = complete ? [] : missing.Where(id => !results.ContainsKey(id)).ToList();
        }
        return results;
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
            : Infrastructure.Http.CrmDates.Instant(text)?.ToUnixTimeMilliseconds()
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
