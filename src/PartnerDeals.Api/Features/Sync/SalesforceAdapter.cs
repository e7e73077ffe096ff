using System.Net;
using System.Text.Json;
using Microsoft.Extensions.Options;

namespace PartnerDeals.Api.Features.Sync;

/// <summary>
/// Salesforce REST: upserts an Opportunity by the external-ID field that holds the registration id
/// (<c>PATCH /services/data/vXX.X/sobjects/Opportunity/{field}/{id}</c>), signed in with an OAuth 2
/// client-credentials token; several waiting changes go as one sObject Collections upsert
/// (<c>PATCH …/composite/sobjects/Opportunity/{field}</c>, up to 200 records, <c>allOrNone: false</c>), one API call
/// of the org's daily allowance instead of one each, with each record's result read on its own. Salesforce signals
/// its API limit with 403 <c>REQUEST_LIMIT_EXCEEDED</c> and no wait hint (a 429 comes only from a gateway in front
/// of it); its errors are a JSON array of <c>{message, errorCode, fields}</c>. A single-currency org has no
/// <c>CurrencyIsoCode</c>: a describe of Opportunity, once, tells, and the field is then left out. A deal's team goes on the
/// Opportunity as OpportunityPartner records for the partners with a Salesforce Account (<see cref="SyncTeamsAsync"/>).
/// </summary>
public sealed class SalesforceAdapter : ICrmAdapter
{
    private readonly SalesforceOptions _options;
    private readonly IHttpClientFactory _clients;
    private readonly TimeProvider _clock;
    private readonly FieldMapping _mapping;

    public SalesforceAdapter(IOptions<CrmOptions> options, IHttpClientFactory clients, TimeProvider clock)
    {
        _options = options.Value.Salesforce;
        _clients = clients;
        _clock = clock;
        _mapping = _options.Mapping();
        Token = new ClientCredentialsToken(() => clients.CreateClient(Crms.Salesforce), _options.TokenUrl!, new Dictionary<string, string>
        {
            ["grant_type"] = "client_credentials",
            ["client_id"] = _options.ClientId!,
            ["client_secret"] = _options.ClientSecret!,
        }, _options.TokenLifetime, clock);
    }

    public string Crm => Crms.Salesforce;

    public ClientCredentialsToken Token { get; }

    /// <summary>The most records one sObject Collections request carries.</summary>
    public const int MaxCollection = 200;

    private const string CurrencyField = "CurrencyIsoCode";

    private bool? _multiCurrency;
    private DateTimeOffset _askAgainAt;

    public async Task<IReadOnlyList<AttemptResult>> DeliverAsync(IReadOnlyList<CrmChange> changes, CancellationToken ct)
    {
        return await CrmAnswers.ThenTeamsAsync(Crm, changes, await DeliverOpportunitiesAsync(changes, ct), SyncTeamsAsync, ct);
    }

    private async Task<IReadOnlyList<AttemptResult>> DeliverOpportunitiesAsync(IReadOnlyList<CrmChange> changes, CancellationToken ct)
    {
        if (changes.Count == 1 || !_options.Collections) return await CrmAnswers.EachAsync(changes, DeliverAsync, ct);
        var results = new List<AttemptResult>(changes.Count);
        foreach (var chunk in changes.Chunk(MaxCollection))
        {
            try
            {
                results.AddRange(await DeliverCollectionAsync(chunk, ct));
            }
            catch (Exception e) when (!ct.IsCancellationRequested)
            {
                results.AddRange(chunk.Select(_ => AttemptResult.From(e)));
            }
        }
        return results;
    }

    /// <summary>
    /// Whether the org has more than one currency (Opportunity has <c>CurrencyIsoCode</c>): read once by a describe and
    /// kept; null while Salesforce could not be asked (then the field is sent, as configured, and it is asked again after the
    /// token's lifetime).
    /// </summary>
    public async Task<bool?> IsMultiCurrencyAsync(CancellationToken ct)
    {
        if (_multiCurrency is { } known) return known;
        if (_clock.GetUtcNow() < _askAgainAt) return null;
        _askAgainAt = _clock.GetUtcNow() + _options.TokenLifetime;
        var (status, body) = await SendAsync(HttpMethod.Get, "sobjects/Opportunity/describe", null, ct);
        if (status != HttpStatusCode.OK) return null;
        try
        {
            var fields = JsonDocument.Parse(body.Text).RootElement.GetProperty("fields").EnumerateArray();
            _multiCurrency = fields.Any(f => f.TryGetProperty("name", out var name) && name.GetString() == CurrencyField);
        }
        catch (Exception e) when (e is JsonException or KeyNotFoundException or InvalidOperationException)
        {
            return null;
        }
        return _multiCurrency;
    }

    private async Task<AttemptResult> DeliverAsync(CrmChange change, CancellationToken ct)
    {
        var fields = await FieldsAsync(change, ct);
        var (status, body) = await SendAsync(HttpMethod.Patch,
            $"sobjects/Opportunity/{Uri.EscapeDataString(_options.ExternalIdField)}/{change.Registration.Id:D}", fields, ct);
        return Result(status, CrmAnswers.IsSuccess(status) ? [] : Errors(body.Text), body.RetryAt);
    }

    /// <summary>One sObject Collections upsert of several changes; each record's result is its change's.</summary>
    private async Task<IReadOnlyList<AttemptResult>> DeliverCollectionAsync(IReadOnlyList<CrmChange> changes, CancellationToken ct)
    {
        var records = new List<Dictionary<string, object>>(changes.Count);
        foreach (var change in changes)
        {
            var record = new Dictionary<string, object> { ["attributes"] = new Dictionary<string, string> { ["type"] = "Opportunity" } };
            foreach (var (field, value) in await FieldsAsync(change, ct)) record[field] = value;
            record[_options.ExternalIdField] = change.Registration.Id.ToString("D");
            records.Add(record);
        }
        var (status, body) = await SendAsync(HttpMethod.Patch, $"composite/sobjects/Opportunity/{Uri.EscapeDataString(_options.ExternalIdField)}",
            new Dictionary<string, object> { ["allOrNone"] = false, ["records"] = records }, ct);
        if (status != HttpStatusCode.OK)
        {
            var whole = Result(status, Errors(body.Text), body.RetryAt);
            return changes.Select(_ => whole).ToList();
        }
        List<CollectionResult>? results;
        try
        {
            results = JsonSerializer.Deserialize<List<CollectionResult>>(body.Text, JsonSerializerOptions.Web);
        }
        catch (JsonException)
        {
            results = null;
        }
        if (results is null || results.Count != changes.Count)
        {
            var unreadable = new AttemptResult(AttemptOutcome.Failed, 200, "Salesforce's answer did not hold one result per record.");
            return changes.Select(_ => unreadable).ToList();
        }
        return results.Select(r => RecordResult(r, "")).ToList();
    }

    /// <summary>One record's result in a Collections answer.</summary>
    private static AttemptResult RecordResult(CollectionResult record, string doing) => record.Success ? AttemptResult.Delivered
        : new AttemptResult(
            // A record locked by another transaction may be written on the next try; any other record error is the record's own.
            record.Errors?.Any(e => e.StatusCode == "UNABLE_TO_LOCK_ROW") == true ? AttemptOutcome.Failed : AttemptOutcome.Refused, 200,
            CrmAnswers.Truncate(doing + string.Join("; ", (record.Errors ?? []).Select(e => $"{e.StatusCode}: {e.Message}"))));

    /// <summary>
    /// Puts each deal's team on its Opportunity as OpportunityPartner records (AccountToId: the partner's Account; Role: the
    /// team role's Partner Role; IsPrimary: the registrant). OpportunityPartner has no update: a record whose role or primary
    /// changed, or whose partner left the team, is deleted and the right one created. Records of Accounts that are not the
    /// deal's partners (someone's own edits) are left alone. Four calls at most for the whole batch: the Opportunities' ids,
    /// their OpportunityPartners, one Collections delete, one Collections create.
    /// </summary>
    private async Task<IReadOnlyList<AttemptResult>> SyncTeamsAsync(IReadOnlyList<CrmChange> changes, CancellationToken ct)
    {
        var results = new AttemptResult?[changes.Count];
        var externalIds = string.Join(",", changes.Select(c => $"'{c.Registration.Id:D}'"));
        var (opportunities, failed) = await QueryAsync(
            $"SELECT Id, {_options.ExternalIdField} FROM Opportunity WHERE {_options.ExternalIdField} IN ({externalIds})", ct);
        if (failed is not null) return changes.Select(_ => failed).ToList();
        var opportunityOf = opportunities.ToDictionary(o => o.GetProperty(_options.ExternalIdField).GetString()!, o => o.GetProperty("Id").GetString()!,
            StringComparer.OrdinalIgnoreCase);
        var opportunityIds = string.Join(",", opportunityOf.Values.Select(id => $"'{id}'"));
        var (partners, unread) = opportunityOf.Count == 0 ? ([], null)
            : await QueryAsync($"SELECT Id, OpportunityId, AccountToId, Role, IsPrimary FROM OpportunityPartner WHERE OpportunityId IN ({opportunityIds})",
                ct);
        if (unread is not null) return changes.Select(_ => unread).ToList();

        var deletes = new List<(int Change, string Id)>();
        var creates = new List<(int Change, Dictionary<string, object> Record)>();
        for (var i = 0; i < changes.Count; i++)
        {
            if (!opportunityOf.TryGetValue(changes[i].Registration.Id.ToString("D"), out var opportunity))
            {
                results[i] = new AttemptResult(AttemptOutcome.Failed, 200, "The Opportunity was not found by its external id after its upsert.");
                continue;
            }
            var team = changes[i].TeamIn(Crm);
            var wanted = team.Where(m => m.Active).Select(m => (Account: AccountKey(m.Accounts.Salesforce!), Role: RoleOf(m), m.Primary)).ToList();
            var ours = team.Select(m => AccountKey(m.Accounts.Salesforce!)).ToHashSet();
            var existing = partners.Where(p => p.GetProperty("OpportunityId").GetString() == opportunity)
                .Select(p => (Id: p.GetProperty("Id").GetString()!, Account: AccountKey(p.GetProperty("AccountToId").GetString() ?? ""),
                    Role: p.TryGetProperty("Role", out var role) && role.ValueKind == JsonValueKind.String ? role.GetString() : null,
                    Primary: p.TryGetProperty("IsPrimary", out var primary) && primary.ValueKind == JsonValueKind.True))
                .ToList();
            deletes.AddRange(existing.Where(e => ours.Contains(e.Account) && !wanted.Contains((e.Account, e.Role, e.Primary))).Select(e => (i, e.Id)));
            foreach (var member in team.Where(m => m.Active))
            {
                var want = (AccountKey(member.Accounts.Salesforce!), RoleOf(member), member.Primary);
                if (existing.Any(e => (e.Account, e.Role, e.Primary) == want)) continue;
                var record = new Dictionary<string, object>
                {
                    ["attributes"] = new Dictionary<string, string> { ["type"] = "OpportunityPartner" },
                    ["OpportunityId"] = opportunity, ["AccountToId"] = member.Accounts.Salesforce!, ["IsPrimary"] = member.Primary,
                };
                if (RoleOf(member) is { } roleValue) record["Role"] = roleValue;
                creates.Add((i, record));
            }
        }

        // Deleted first: a primary created after them is the only one, and a changed role is never there twice.
        foreach (var chunk in deletes.Chunk(MaxCollection))
        {
            var (status, body) = await SendAsync(HttpMethod.Delete,
                $"composite/sobjects?allOrNone=false&ids={string.Join(",", chunk.Select(d => d.Id))}", null, ct);
            Record(results, chunk.Select(d => d.Change).ToList(), status, body, "deleting an OpportunityPartner");
        }
        foreach (var chunk in creates.Chunk(MaxCollection))
        {
            var (status, body) = await SendAsync(HttpMethod.Post, "composite/sobjects",
                new Dictionary<string, object> { ["allOrNone"] = false, ["records"] = chunk.Select(c => c.Record).ToList() }, ct);
            Record(results, chunk.Select(c => c.Change).ToList(), status, body, "creating an OpportunityPartner");
        }
        return results.Select(r => r ?? AttemptResult.Delivered).ToList();
    }

    private string? RoleOf(TeamMember member) => _options.TeamRole(member.Role);

    // Salesforce answers 18-character ids; a partner's Account may be set with the 15-character form, the same record.
    private static string AccountKey(string id) => id.Length >= 15 ? id[..15] : id;

    /// <summary>A Collections answer's records, one per change in <paramref name="changes"/>: the first failure of a change is its result.</summary>
    private void Record(AttemptResult?[] results, IReadOnlyList<int> changes, HttpStatusCode status, (string Text, DateTimeOffset? RetryAt) body,
        string doing)
    {
        if (status != HttpStatusCode.OK)
        {
            var whole = Result(status, Errors(body.Text), body.RetryAt);
            foreach (var change in changes) results[change] ??= whole with { Error = $"While {doing}: {whole.Error}" };
            return;
        }
        List<CollectionResult>? answers;
        try
        {
            answers = JsonSerializer.Deserialize<List<CollectionResult>>(body.Text, JsonSerializerOptions.Web);
        }
        catch (JsonException)
        {
            answers = null;
        }
        for (var i = 0; i < changes.Count; i++)
        {
            var answer = answers is not null && answers.Count == changes.Count ? answers[i] : null;
            if (answer is { Success: true }) continue;
            results[changes[i]] ??= answer is null
                ? new AttemptResult(AttemptOutcome.Failed, 200, $"Salesforce's answer to {doing} did not hold one result per record.")
                : RecordResult(answer, $"While {doing}: ");
        }
    }

    /// <summary>Every record a SOQL query answers, following <c>nextRecordsUrl</c>; or the failed answer's result.</summary>
    private async Task<(IReadOnlyList<JsonElement> Records, AttemptResult? Failed)> QueryAsync(string soql, CancellationToken ct)
    {
        var records = new List<JsonElement>();
        var path = "query?q=" + Uri.EscapeDataString(soql);
        while (true)
        {
            var (status, body) = await SendAsync(HttpMethod.Get, path, null, ct);
            if (status != HttpStatusCode.OK) return ([], Result(status, Errors(body.Text), body.RetryAt));
            using var document = JsonDocument.Parse(body.Text);
            var root = document.RootElement;
            records.AddRange(root.GetProperty("records").EnumerateArray().Select(r => r.Clone()));
            if (!root.TryGetProperty("nextRecordsUrl", out var next) || next.ValueKind != JsonValueKind.String) return (records, null);
            // nextRecordsUrl is absolute from the host: /services/data/vXX.X/query/01g…-2000
            path = next.GetString()![(next.GetString()!.IndexOf("/query/", StringComparison.Ordinal) + 1)..];
        }
    }

    /// <summary>The change's fields, without <c>CurrencyIsoCode</c> in a single-currency org.</summary>
    private async Task<Dictionary<string, object>> FieldsAsync(CrmChange change, CancellationToken ct)
    {
        var fields = _mapping.Map(change);
        if (fields.ContainsKey(CurrencyField) && await IsMultiCurrencyAsync(ct) == false) fields.Remove(CurrencyField);
        return fields;
    }

    /// <summary>One REST call with the org's token; an ended session (401 INVALID_SESSION_ID) gets one fresh token, then the answer stands.</summary>
    private async Task<(HttpStatusCode Status, (string Text, DateTimeOffset? RetryAt) Body)> SendAsync(
        HttpMethod method, string path, object? body, CancellationToken ct)
    {
        var token = await Token.GetAsync(ct);
        var answer = await SendOnceAsync(method, path, body, token, ct);
        if (answer.Status != HttpStatusCode.Unauthorized || !answer.Body.Text.Contains("INVALID_SESSION_ID", StringComparison.Ordinal)) return answer;
        Token.Invalidate(token);
        return await SendOnceAsync(method, path, body, await Token.GetAsync(ct), ct);
    }

    private async Task<(HttpStatusCode Status, (string Text, DateTimeOffset? RetryAt) Body)> SendOnceAsync(
        HttpMethod method, string path, object? body, string token, CancellationToken ct)
    {
        using var request = new HttpRequestMessage(method, $"{_options.InstanceUrl!.TrimEnd('/')}/services/data/v{_options.ApiVersion}/{path}");
        if (body is not null) request.Content = JsonContent.Create(body);
        request.Headers.Authorization = CrmAnswers.Bearer(token);
        using var http = _clients.CreateClient(Crms.Salesforce);
        using var response = await http.SendAsync(request, ct);
        return (response.StatusCode, (await response.Content.ReadAsStringAsync(ct), CrmAnswers.RetryAfter(response, _clock.GetUtcNow())));
    }

    private AttemptResult Result(HttpStatusCode status, IReadOnlyList<SalesforceError> errors, DateTimeOffset? retryAt)
    {
        var message = errors.Count > 0
            ? CrmAnswers.Truncate(string.Join("; ", errors.Select(e => $"{e.ErrorCode}: {e.Message}")))
            : null;
        var code = (int)status;
        return status switch
        {
            HttpStatusCode.OK or HttpStatusCode.Created or HttpStatusCode.NoContent => AttemptResult.Delivered,
            HttpStatusCode.Forbidden when errors.Any(e => e.ErrorCode == "REQUEST_LIMIT_EXCEEDED") =>
                new(AttemptOutcome.RateLimited, code, message, _clock.GetUtcNow() + _options.RequestLimitWait),
            // Not Salesforce's own signal, but a gateway in front of the org (an API proxy, the edge) may send it:
            // it asks us to slow down, so it must never use up the delivery's attempts. No hint: the dispatcher's backoff.
            HttpStatusCode.TooManyRequests => new(AttemptOutcome.RateLimited, code, message ?? "Salesforce answered 429.", retryAt),
            // The change itself is wrong for this org: a field, a validation rule, two records with one external id; or the
            // integration user may not write it (403 INSUFFICIENT_ACCESS and the like): trying again changes nothing.
            HttpStatusCode.BadRequest or HttpStatusCode.NotFound or HttpStatusCode.MultipleChoices or HttpStatusCode.Forbidden =>
                new(AttemptOutcome.Refused, code, message ?? $"Salesforce answered {code}."),
            _ => new(AttemptOutcome.Failed, code, message ?? $"Salesforce answered {code}."),
        };
    }

    private static IReadOnlyList<SalesforceError> Errors(string body)
    {
        try
        {
            return JsonSerializer.Deserialize<List<SalesforceError>>(body, JsonSerializerOptions.Web) ?? [];
        }
        catch (JsonException)
        {
            return [new SalesforceError(body.Length == 0 ? "no body" : CrmAnswers.Truncate(body), "UNKNOWN")];
        }
    }

    private sealed record SalesforceError(string? Message, string? ErrorCode);

    private sealed record CollectionResult(string? Id, bool Success, IReadOnlyList<CollectionError>? Errors);

    private sealed record CollectionError(string? StatusCode, string? Message);
}
