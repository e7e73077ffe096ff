using System.Globalization;
using System.Net;
using System.Text.Json.Nodes;
using Microsoft.Extensions.Options;

namespace PartnerDeals.Api.Features.Sync;

/// <summary>
/// Dynamics 365 / Dataverse Web API: upserts an opportunity by the alternate key that holds the
/// registration id (<c>PATCH /api/data/v9.2/opportunities(key='id')</c>) with a client-credentials
/// token from Microsoft Entra. A won or lost registration is closed with the documented
/// <c>WinOpportunity</c> / <c>LoseOpportunity</c> actions; a closed opportunity is read-only, so a
/// repeated close finds it closed and is done. Service protection answers 429 with Retry-After.
/// <para>
/// An opportunity with products, quotes, orders or invoices keeps its currency: Dataverse refuses to change it ("The
/// currency cannot be changed…"). A deal won in another currency is then written without the currency and without the
/// amounts (which Dataverse would read in the opportunity's own currency), the close carries no actual revenue, and its
/// description says what was won, in which currency — so the close is never lost to the currency.
/// </para>
/// <para>A deal's team becomes connections of the opportunity with the partners' accounts (<see cref="SyncTeamAsync"/>).</para>
/// </summary>
public sealed class DynamicsAdapter : ICrmAdapter
{
    private const string ApiPath = "/api/data/v9.2";

    // opportunity statecode / statuscode (Dataverse opportunity entity reference).
    private const int OpenState = 0, WonState = 1, LostState = 2, WonStatus = 3, CanceledStatus = 4;

    private readonly DynamicsOptions _options;
    private readonly IHttpClientFactory _clients;
    private readonly TimeProvider _clock;
    private readonly FieldMapping _mapping;

    public DynamicsAdapter(IOptions<CrmOptions> options, IHttpClientFactory clients, TimeProvider clock)
    {
        _options = options.Value.Dynamics;
        _clients = clients;
        _clock = clock;
        _mapping = _options.Mapping();
        Token = new ClientCredentialsToken(() => clients.CreateClient(Crms.Dynamics), _options.TokenUrl!, new Dictionary<string, string>
        {
            ["grant_type"] = "client_credentials",
            ["client_id"] = _options.ClientId!,
            ["client_secret"] = _options.ClientSecret!,
            ["scope"] = _options.EffectiveScope,
        }, TimeSpan.FromMinutes(30), clock);
    }

    public string Crm => Crms.Dynamics;

    public ClientCredentialsToken Token { get; }

    public Task<IReadOnlyList<AttemptResult>> DeliverAsync(IReadOnlyList<CrmChange> changes, CancellationToken ct) =>
        CrmAnswers.EachAsync(changes, DeliverAsync, ct);

    private async Task<AttemptResult> DeliverAsync(CrmChange change, CancellationToken ct)
    {
        var result = await DeliverOpportunityAsync(change, ct);
        return result.Outcome == AttemptOutcome.Delivered && change.TeamIn(Crm).Count > 0 ? await SyncTeamAsync(change, ct) : result;
    }

    /// <summary>
    /// Connects the opportunity with the accounts of its team's partners (<c>connections</c>: record1 the opportunity, record2
    /// the account, record2's role the team role's connection role from <c>Crm:Dynamics:TeamRoles</c>, the registrant's the
    /// <c>primary</c> role when one is configured). A connection whose role changed, or whose partner left the team, is deleted
    /// (Dataverse deletes its reciprocal with it) and the right one created; connections to other accounts are left alone.
    /// </summary>
    private async Task<AttemptResult> SyncTeamAsync(CrmChange change, CancellationToken ct)
    {
        var record = $"opportunities({_options.AlternateKey}='{change.Registration.Id:D}')";
        var (read, opportunity) = await SendAsync(HttpMethod.Get, $"{record}?$select=opportunityid", null, ct);
        if (read.StatusCode != HttpStatusCode.OK) return Answer(read);
        if (opportunity?["opportunityid"] is not JsonValue idValue || !idValue.TryGetValue<string>(out var idText) || !Guid.TryParse(idText, out var opportunityId))
        {
            return new AttemptResult(AttemptOutcome.Failed, 200, "Dataverse did not answer the opportunity's id.");
        }
        var (listed, connections) = await SendAsync(HttpMethod.Get,
            "connections?$select=connectionid,_record2id_value,_record2roleid_value"
            + $"&$filter=_record1id_value eq {opportunityId} and record2objecttypecode eq 1", null, ct);
        if (listed.StatusCode != HttpStatusCode.OK) return Answer(listed);
        var existing = (connections?["value"] as JsonArray ?? []).OfType<JsonObject>()
            .Select(c => (Id: Text(c, "connectionid"), Account: Text(c, "_record2id_value"), Role: Text(c, "_record2roleid_value")))
            .Where(c => c.Id is not null && c.Account is not null)
            .ToList();

        var team = change.TeamIn(Crm);
        var ours = team.Select(m => m.Accounts.Dynamics!).ToHashSet(StringComparer.OrdinalIgnoreCase);
        var wanted = team.Where(m => m.Active).Select(m => (Account: m.Accounts.Dynamics!, Role: RoleOf(m))).ToList();
        bool Same((string? Account, string? Role) a, (string Account, string? Role) b) =>
            string.Equals(a.Account, b.Account, StringComparison.OrdinalIgnoreCase) && string.Equals(a.Role, b.Role, StringComparison.OrdinalIgnoreCase);
        foreach (var stale in existing.Where(e => ours.Contains(e.Account!) && !wanted.Any(w => Same((e.Account, e.Role), w))))
        {
            var (deleted, _) = await SendAsync(HttpMethod.Delete, $"connections({stale.Id})", null, ct);
            if (!CrmAnswers.IsSuccess(deleted.StatusCode) && deleted.StatusCode != HttpStatusCode.NotFound) return Answer(deleted);
        }
        foreach (var (account, role) in wanted.Where(w => !existing.Any(e => Same((e.Account, e.Role), w))))
        {
            var connection = new Dictionary<string, object>
            {
                ["record1id_opportunity@odata.bind"] = $"/opportunities({opportunityId})",
                ["record2id_account@odata.bind"] = $"/accounts({account})",
            };
            if (role is not null) connection["record2roleid@odata.bind"] = $"/connectionroles({role})";
            var (created, _) = await SendAsync(HttpMethod.Post, "connections", connection, ct, once: true);
            if (!CrmAnswers.IsSuccess(created.StatusCode)) return Answer(created);
        }
        return AttemptResult.Delivered;
    }

    private string? RoleOf(TeamMember member) =>
        ((member.Primary ? _options.TeamRole("primary") : null) ?? _options.TeamRole(member.Role)) is { } role ? Guid.Parse(role).ToString("D") : null;

    private static string? Text(JsonObject o, string name) => o[name] is JsonValue v && v.TryGetValue<string>(out var text) ? text : null;

    private async Task<AttemptResult> DeliverOpportunityAsync(CrmChange change, CancellationToken ct)
    {
        var registration = change.Registration;
        var closing = registration.IsClosed;
        var record = $"opportunities({_options.AlternateKey}='{registration.Id:D}')";

        if (closing)
        {
            var (read, state) = await SendAsync(HttpMethod.Get, $"{record}?$select=statecode", null, ct);
            if (read.StatusCode == HttpStatusCode.OK && state is JsonObject o && o["statecode"] is JsonValue v && v.TryGetValue<int>(out var current)
                && current != OpenState)
            {
                var target = registration.IsWon ? WonState : LostState;
                return current == target
                    ? AttemptResult.Delivered
                    : new AttemptResult(AttemptOutcome.Refused, 200, $"The opportunity is already closed with statecode {current}; reopen it in Dynamics first.");
            }
            if (read.StatusCode != HttpStatusCode.OK && read.StatusCode != HttpStatusCode.NotFound) return Answer(read);
        }

        // The amount is in the deal's currency: bound by its id, which Dataverse knows by the ISO code.
        var fields = _mapping.Map(change).ToDictionary(p => p.Key, p => (object?)p.Value);
        var currency = registration.Outcome is { Amount: not null, Currency: { } wonCurrency } ? wonCurrency : registration.Deal.Currency;
        var (found, currencyId) = await CurrencyAsync(currency, ct);
        if (found is not null) return Answer(found);
        if (currencyId is null)
        {
            return new AttemptResult(AttemptOutcome.Refused, 200, $"{currency} is not a currency of this Dataverse environment; add it in Dynamics first.");
        }
        fields["transactioncurrencyid@odata.bind"] = $"/transactioncurrencies({currencyId:D})";

        var (upsert, _) = await SendAsync(HttpMethod.Patch, record, fields, ct);
        var keptCurrency = false;
        if (upsert.StatusCode == HttpStatusCode.BadRequest && upsert.Error?.Contains("currency cannot be changed", StringComparison.OrdinalIgnoreCase) == true)
        {
            fields.Remove("transactioncurrencyid@odata.bind");
            foreach (var amountField in _mapping.FieldsFrom("amount")) fields.Remove(amountField);
            (upsert, _) = await SendAsync(HttpMethod.Patch, record, fields, ct);
            keptCurrency = true;
        }
        if (!CrmAnswers.IsSuccess(upsert.StatusCode) || !closing) return Answer(upsert);

        var won = registration.IsWon;
        var close = new Dictionary<string, object?>
        {
            ["subject"] = $"{(won ? "Won" : "Lost")}: {registration.Deal.Name}",
            ["opportunityid@odata.bind"] = $"/{record}",
            // Edm.DateTimeOffset in the Web API's metadata: an instant, not a bare day.
            ["actualend"] = (registration.Outcome?.ClosedAt ?? _clock.GetUtcNow()).ToUniversalTime().ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture),
        };
        if (won && registration.Outcome?.Amount is { } amount && !keptCurrency) close["actualrevenue"] = amount;
        if (won && keptCurrency && registration.Outcome?.Amount is { } wonAmount)
        {
            close["description"] = string.Create(CultureInfo.InvariantCulture,
                $"Won at {wonAmount:0.##} {currency} (PartnerDeals); the opportunity keeps its own currency, so no actual revenue is set.");
        }
        if (!won && registration.Outcome?.LostReason is { } lostReason) close["description"] = lostReason;
        var (closed, _) = await SendAsync(HttpMethod.Post, won ? "WinOpportunity" : "LoseOpportunity",
            // Action parameters are PascalCase, as Dataverse declares them.
            new Dictionary<string, object> { ["Status"] = won ? WonStatus : CanceledStatus, ["OpportunityClose"] = close }, ct, once: true);
        return Answer(closed);
    }

    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, Guid> _currencies = new(StringComparer.OrdinalIgnoreCase);

    /// <summary>
    /// The transactioncurrency of an ISO code, looked up once per code and kept (currencies are rarely added, never
    /// re-keyed). Answers the failed lookup's answer when Dataverse could not be asked, and a null id when it has no such currency.
    /// </summary>
    private async Task<(Answered? Failed, Guid? Id)> CurrencyAsync(string isoCode, CancellationToken ct)
    {
        if (_currencies.TryGetValue(isoCode, out var known)) return (null, known);
        var (answer, body) = await SendAsync(HttpMethod.Get,
            $"transactioncurrencies?$select=transactioncurrencyid&$filter=isocurrencycode eq '{isoCode.Replace("'", "''", StringComparison.Ordinal)}'", null, ct);
        if (answer.StatusCode != HttpStatusCode.OK) return (answer, null);
        var id = body?["value"] is JsonArray { Count: > 0 } rows && rows[0]?["transactioncurrencyid"] is JsonValue v && v.TryGetValue<string>(out var text)
            && Guid.TryParse(text, out var parsed) ? parsed : (Guid?)null;
        if (id is { } found) _currencies[isoCode] = found;
        return (null, id);
    }

    private AttemptResult Answer(Answered answered)
    {
        var code = (int)answered.StatusCode;
        var message = answered.Error ?? $"Dynamics answered {code}.";
        return answered.StatusCode switch
        {
            _ when CrmAnswers.IsSuccess(answered.StatusCode) => AttemptResult.Delivered,
            HttpStatusCode.TooManyRequests => new(AttemptOutcome.RateLimited, code, message, answered.RetryAt ?? _clock.GetUtcNow() + TimeSpan.FromSeconds(5)),
            HttpStatusCode.BadRequest or HttpStatusCode.NotFound or HttpStatusCode.PreconditionFailed or HttpStatusCode.Forbidden =>
                new(AttemptOutcome.Refused, code, message),
            _ => new(AttemptOutcome.Failed, code, message, answered.RetryAt),
        };
    }

    /// <summary>One Web API call with the OData headers; a 401 gets one fresh token, then the answer stands.</summary>
    private async Task<(Answered Answer, JsonNode? Body)> SendAsync(HttpMethod method, string path, object? body, CancellationToken ct, bool once = false)
    {
        var token = await Token.GetAsync(ct);
        var (answer, json) = await SendOnceAsync(method, path, body, token, once, ct);
        if (answer.StatusCode != HttpStatusCode.Unauthorized) return (answer, json);
        Token.Invalidate(token);
        return await SendOnceAsync(method, path, body, await Token.GetAsync(ct), once, ct);
    }

    private async Task<(Answered Answer, JsonNode? Body)> SendOnceAsync(HttpMethod method, string path, object? body, string token, bool once,
        CancellationToken ct)
    {
        using var request = new HttpRequestMessage(method, $"{_options.BaseUrl!.TrimEnd('/')}{ApiPath}/{path}");
        if (body is not null) request.Content = JsonContent.Create(body);
        if (once) request.Options.Set(CrmAnswers.NotRetriedInline, true);
        request.Headers.Authorization = CrmAnswers.Bearer(token);
        request.Headers.Add("OData-MaxVersion", "4.0");
        request.Headers.Add("OData-Version", "4.0");
        request.Headers.Accept.ParseAdd("application/json");
        using var http = _clients.CreateClient(Crms.Dynamics);
        using var response = await http.SendAsync(request, ct);
        var text = await response.Content.ReadAsStringAsync(ct);
        JsonNode? json = null;
        try
        {
            json = text.Length > 0 ? JsonNode.Parse(text) : null;
        }
        catch (System.Text.Json.JsonException)
        {
            // Not JSON (a proxy's error page): the status code says enough.
        }
        // Dataverse errors: {"error": {"code": "0x…", "message": "…"}}
        var error = json is JsonObject o && o["error"] is JsonObject e && e["message"] is JsonValue m && m.TryGetValue<string>(out var message)
            ? CrmAnswers.Truncate(e["code"] is JsonValue c && c.TryGetValue<string>(out var errorCode) && errorCode.Length > 0 ? $"{errorCode}: {message}" : message)
            : null;
        return (new Answered(response.StatusCode, error, CrmAnswers.RetryAfter(response, _clock.GetUtcNow())), json);
    }

    private sealed record Answered(HttpStatusCode StatusCode, string? Error, DateTimeOffset? RetryAt);
}
