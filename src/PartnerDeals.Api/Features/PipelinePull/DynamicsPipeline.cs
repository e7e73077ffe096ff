using System.Net;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.Extensions.Options;
using PartnerDeals.Api.Features.Opportunities;
using PartnerDeals.Api.Features.Sync;

namespace PartnerDeals.Api.Features.PipelinePull;

/// <summary>
/// Dataverse's pipeline by change tracking, as Microsoft documents it ("Use change tracking to synchronize data with
/// external systems"): <c>GET opportunities</c> with <c>$select</c> only — <c>$filter</c>, <c>$orderby</c>, <c>$expand</c>
/// and <c>$top</c> are refused with <c>Prefer: odata.track-changes</c> — paged through <c>@odata.nextLink</c>; the last
/// page's <c>@odata.deltaLink</c> is the next run's start, and answers only what changed since, deletions as
/// <c>$deletedEntity</c> rows. <c>statecode</c> gives open, won or lost.
/// <list type="bullet">
/// <item>Each page's accounts and currencies are read in a second step (by their lookup ids, 50 a request; currencies once
/// a run) and kept for the run.</item>
/// <item>The configured filter is applied here (<see cref="ODataFilter"/>); a changed row that no longer passes it leaves
/// the pipeline.</item>
/// <item>A delta token past the environment's retention (7 days by default) is refused: the pull starts a full read on its
/// own, and the full read's last page deletes the opportunities it no longer saw.</item>
/// <item>An account edit is not an opportunity change: accounts are change-tracked too, and each changed account's
/// opportunities are read again. The first full read only takes the accounts' delta link.</item>
/// </list>
/// </summary>
public sealed partial class DynamicsPipeline(IOptions<CrmOptions> options, DynamicsAdapter adapter, IHttpClientFactory clients, TimeProvider clock,
    ILogger<DynamicsPipeline> logger) : IPipelineReader
{
    private const int PageSize = 5000;
    private const int IdsPerRequest = 50;

    /// <summary>Accounts and currencies kept at most: a full read of a large pipeline must not hold all its accounts.</summary>
    private const int MaxKept = 10_000;
    private const string ApiPath = "/api/data/v9.2";

    /// <summary>The lookups a mapping may read through: navigation property → its lookup column, entity set and key.</summary>
    private static readonly Dictionary<string, (string Lookup, string Set, string Key)> Lookups = new()
    {
        ["parentaccountid"] = ("_parentaccountid_value", "accounts", "accountid"),
        ["transactioncurrencyid"] = ("_transactioncurrencyid_value", "transactioncurrencies", "transactioncurrencyid"),
    };

    private readonly DynamicsOptions _options = options.Value.Dynamics;

    // What a run has read of accounts and currencies, by id (up to MaxKept): a run reads one environment's pages one after another.
    private readonly Dictionary<string, JsonObject> _related = new(StringComparer.OrdinalIgnoreCase);
    private bool _currenciesRead;

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

    /// <summary>
    /// Where a run is. <c>Link</c>: the opportunities' page to read next, or the delta link a finished run left (null: a full
    /// read). <c>FullReadSince</c>: the instant a full read began. <c>AccountsLink</c>: the accounts' page or delta link;
    /// <c>Accounts</c>: the run is reading the accounts' changes.
    /// </summary>
    private sealed record Cursor(string? Link, DateTimeOffset? FullReadSince = null, string? AccountsLink = null, bool Accounts = false);

    public async Task<PulledPage> ReadAsync(string? cursor, CancellationToken ct)
    {
        var at = cursor is null ? new Cursor(null) : JsonSerializer.Deserialize<Cursor>(cursor, JsonSerializerOptions.Web)!;
        if (at.Link is null || at.Link.Contains("$deltatoken", StringComparison.OrdinalIgnoreCase))
        {
            // A run starts: what the last one read of accounts and currencies may have changed.
            _related.Clear();
            _currenciesRead = false;
        }
        return at.Accounts ? await AccountsAsync(at, ct) : await OpportunitiesAsync(at, ct);
    }

    private async Task<PulledPage> OpportunitiesAsync(Cursor at, CancellationToken ct)
    {
        var fields = Fields;
        if (at.Link is null) at = at with { Link = FirstQuery(fields), FullReadSince = clock.GetUtcNow() };
        var answer = await GetTrackedAsync(at.Link!, ct);
        if (answer is null)
        {
            LogExpired("opportunities");
            at = new Cursor(FirstQuery(fields), clock.GetUtcNow(), at.AccountsLink);
            answer = (await GetTrackedAsync(at.Link!, ct))!;
        }
        var records = await ReadRowsAsync((answer["value"] as JsonArray ?? []).OfType<JsonObject>().ToList(), fields, ct);
        if (answer["@odata.nextLink"]?.ToString() is { } next) return new PulledPage(records, Serialize(at with { Link = next }), More: true);

        // The last page: the delta link is where the next run starts; without one (tracking off), the next run reads all again.
        var delta = answer["@odata.deltaLink"]?.ToString();
        var after = new Cursor(delta, null, at.AccountsLink, Accounts: true);
        return new PulledPage(records, Serialize(after), More: true, UnseenSince: at.FullReadSince);
    }

    /// <summary>The accounts' changes since the last run: each changed account's opportunities are read again.</summary>
    private async Task<PulledPage> AccountsAsync(Cursor at, CancellationToken ct)
    {
        var firstRead = at.AccountsLink is null;
        var link = at.AccountsLink ?? $"{ApiPath}/accounts?$select=accountid,{string.Join(",", Columns("parentaccountid", Fields))}";
        var answer = await GetTrackedAsync(link, ct);
        if (answer is null)
        {
            // The accounts' token expired: what changed meanwhile is unknown, so everything is read again.
            LogExpired("accounts");
            return new PulledPage([], Serialize(new Cursor(null)), More: true);
        }
        var records = new List<PulledRecord>();
        var changed = (answer["value"] as JsonArray ?? []).OfType<JsonObject>()
            .Where(row => row["@odata.context"]?.ToString() is not { } context || !context.EndsWith("$deletedEntity", StringComparison.Ordinal))
            .Where(row => row["accountid"] is not null).ToList();
        // The first read of the accounts only takes their delta link: the full read of the opportunities read them all.
        if (!firstRead && changed.Count > 0)
        {
            foreach (var account in changed) _related[account["accountid"]!.ToString()] = account;
            var fields = Fields;
            foreach (var chunk in changed.Select(a => a["accountid"]!.ToString()).Chunk(IdsPerRequest))
            {
                string? query = $"{ApiPath}/opportunities?$select={string.Join(",", OwnColumns(fields))}&$filter={In("parentaccountid", chunk)}";
                while (query is not null)
                {
                    var page = await GetAsync(query, tracked: false, ct);
                    records.AddRange(await ReadRowsAsync((page["value"] as JsonArray ?? []).OfType<JsonObject>().ToList(), fields, ct));
                    query = page["@odata.nextLink"]?.ToString();
                }
            }
        }
        if (answer["@odata.nextLink"]?.ToString() is { } next) return new PulledPage(records, Serialize(at with { AccountsLink = next }), More: true);
        return new PulledPage(records, Serialize(at with { AccountsLink = answer["@odata.deltaLink"]?.ToString(), Accounts = false }), More: false);
    }

    private string FirstQuery(IReadOnlyDictionary<string, string> fields) => $"{ApiPath}/opportunities?$select={string.Join(",", OwnColumns(fields))}";

    /// <summary>The opportunity's own columns a page needs: the mapped ones, the lookups to read through, and the filter's.</summary>
    private IEnumerable<string> OwnColumns(IReadOnlyDictionary<string, string> fields)
    {
        var own = fields.Values.Select(c => c.Contains('.') ? Lookups[c[..c.IndexOf('.')]].Lookup : c);
        var filtered = Filter()?.Columns ?? [];
        return new[] { "opportunityid", "statecode" }.Concat(own).Concat(filtered).Distinct(StringComparer.OrdinalIgnoreCase);
    }

    private static IEnumerable<string> Columns(string navigation, IReadOnlyDictionary<string, string> fields) =>
        fields.Values.Where(c => c.StartsWith(navigation + ".", StringComparison.Ordinal)).Select(c => c[(navigation.Length + 1)..]).Distinct();

    private ODataFilter? Filter() =>
        string.IsNullOrWhiteSpace(_options.Pipeline.Filter) ? null : ODataFilter.Parse(_options.Pipeline.Filter, out _);

    /// <summary>A page's rows as records: their accounts and currencies read first, the filter applied.</summary>
    private async Task<List<PulledRecord>> ReadRowsAsync(List<JsonObject> rows, IReadOnlyDictionary<string, string> fields, CancellationToken ct)
    {
        if (_related.Count > MaxKept)
        {
            _related.Clear();
            _currenciesRead = false;
        }
        foreach (var (navigation, (lookup, set, key)) in Lookups)
        {
            var columns = Columns(navigation, fields).ToList();
            if (columns.Count == 0) continue;
            if (set == "transactioncurrencies")
            {
                if (_currenciesRead) continue;
                await ReadRelatedAsync($"{ApiPath}/{set}?$select={key},{string.Join(",", columns)}", key, ct);
                _currenciesRead = true;
                continue;
            }
            var missing = rows.Select(r => r[lookup]?.ToString()).OfType<string>().Where(id => !_related.ContainsKey(id)).Distinct().ToList();
            foreach (var chunk in missing.Chunk(IdsPerRequest))
            {
                await ReadRelatedAsync($"{ApiPath}/{set}?$select={key},{string.Join(",", columns)}&$filter={In(key, chunk)}", key, ct);
            }
        }
        var filter = Filter();
        return rows.Select(row => PulledOpportunity.Safely(row["opportunityid"]?.ToString() ?? row["id"]?.ToString() ?? "", () => Read(row, fields, filter)))
            .ToList();
    }

    private async Task ReadRelatedAsync(string query, string key, CancellationToken ct)
    {
        for (string? link = query; link is not null;)
        {
            var page = await GetAsync(link, tracked: false, ct);
            foreach (var row in (page["value"] as JsonArray ?? []).OfType<JsonObject>())
            {
                if (row[key]?.ToString() is { } id) _related[id] = row;
            }
            link = page["@odata.nextLink"]?.ToString();
        }
    }

    private PulledRecord Read(JsonObject row, IReadOnlyDictionary<string, string> fields, ODataFilter? filter)
    {
        if (row["@odata.context"]?.ToString() is { } context && context.EndsWith("$deletedEntity", StringComparison.Ordinal))
        {
            return new PulledRecord(row["id"]?.ToString() ?? "", null, Deleted: true);
        }
        var id = row["opportunityid"]?.ToString() ?? "";
        // A change that takes it out of the configured filter takes it out of the pipeline.
        if (filter is not null && !filter.Passes(row)) return new PulledRecord(id, null, Deleted: true);
        string? Field(string name)
        {
            if (!fields.TryGetValue(name, out var column)) return null;
            if (!column.Contains('.')) return row[column] is JsonValue own ? own.ToString() : null;
            var navigation = column[..column.IndexOf('.')];
            var related = row[Lookups[navigation].Lookup]?.ToString() is { } relatedId ? _related.GetValueOrDefault(relatedId) : null;
            return related?[column[(navigation.Length + 1)..]] is JsonValue v ? v.ToString() : null;
        }
        var state = row["statecode"] is JsonValue s && s.TryGetValue<int>(out var code) ? code : 0;
        // opportunity statecode: 0 open, 1 won, 2 lost.
        var status = state switch { 1 => OpportunityStatus.Won, 2 => OpportunityStatus.Lost, _ => OpportunityStatus.Open };
        return PulledOpportunity.Read(Crms.Dynamics, id, Field, status, "no parent account with a name");
    }

    /// <summary>Dataverse's <c>In</c> query function over a key: one request for many ids.</summary>
    private static string In(string key, IEnumerable<string> ids) =>
        Uri.EscapeDataString($"Microsoft.Dynamics.CRM.In(PropertyName='{key}',PropertyValues=[{string.Join(",", ids.Select(i => $"'{i.Replace("'", "''", StringComparison.Ordinal)}'"))}])");

    /// <summary>A change-tracking read; null when Dataverse refuses a delta link (its token is past the retention).</summary>
    private async Task<JsonNode?> GetTrackedAsync(string link, CancellationToken ct)
    {
        try
        {
            return await GetAsync(link, tracked: true, ct);
        }
        catch (HttpRequestException e) when (link.Contains("$deltatoken", StringComparison.OrdinalIgnoreCase)
            && e.StatusCode is HttpStatusCode.BadRequest or HttpStatusCode.Gone or HttpStatusCode.NotFound or HttpStatusCode.PreconditionFailed)
        {
            return null;
        }
    }

    private async Task<JsonNode> GetAsync(string link, bool tracked, CancellationToken ct)
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
            request.Headers.Add("Prefer", tracked ? $"odata.track-changes, odata.maxpagesize={PageSize}" : $"odata.maxpagesize={PageSize}");
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

    private static string Serialize(Cursor cursor) => JsonSerializer.Serialize(cursor, JsonSerializerOptions.Web);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Dataverse refused the {Table} delta link (past its change-tracking retention); reading them all again")]
    private partial void LogExpired(string table);
}
