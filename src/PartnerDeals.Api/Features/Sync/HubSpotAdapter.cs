using System.Globalization;
using System.Net;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.Extensions.Options;

namespace PartnerDeals.Api.Features.Sync;

/// <summary>
/// HubSpot CRM v3: the claimed changes go as one batch upsert of deals by the unique property that
/// holds the registration id (<c>POST /crm/v3/objects/deals/batch/upsert</c>), with a private app's
/// token. A 207 answers per input; a 429 names its policy: <c>TEN_SECONDLY_ROLLING</c> waits for the
/// window to roll, <c>DAILY</c> waits for the account's next midnight, neither burns an attempt. A deal's team becomes
/// associations of the deal with the partners' companies (<see cref="SyncTeamsAsync"/>).
/// </summary>
public sealed class HubSpotAdapter(IOptions<CrmOptions> options, IHttpClientFactory clients, TimeProvider clock) : ICrmAdapter
{
    private readonly HubSpotOptions _options = options.Value.HubSpot;
    private readonly FieldMapping _mapping = options.Value.HubSpot.Mapping();

    public string Crm => Crms.HubSpot;

    // The HubSpot-defined unlabeled deal-to-company association type (associations v4).
    private const int DealToCompany = 341;

    // The most inputs sent in one batch call of the team's sync: HubSpot's smallest batch limit (the objects' 100).
    private const int MaxBatchInputs = 100;

    public async Task<IReadOnlyList<AttemptResult>> DeliverAsync(IReadOnlyList<CrmChange> changes, CancellationToken ct)
    {
        IReadOnlyList<AttemptResult> results;
        try
        {
            results = await UpsertAsync(changes, ct);
        }
        catch (Exception e) when (!ct.IsCancellationRequested)
        {
            var result = AttemptResult.From(e);
            return changes.Select(_ => result).ToList();
        }
        return await CrmAnswers.ThenTeamsAsync(Crm, changes, results, SyncTeamsAsync, ct);
    }

    /// <summary>
    /// Associates each deal with the companies of its team's partners (associations v4): the unlabeled deal-to-company type,
    /// with the team role's association label (a USER_DEFINED type made in the account, <c>Crm:HubSpot:TeamRoles</c>) and the
    /// <c>primary</c> label for the registrant when configured. A removed member's association comes off — only its labels when
    /// the company is on the deal for something else too (the deal's primary company, a label not ours). Four calls at most for
    /// the batch: the deals' ids, their companies, one create, one archive (labels archive and whole archive apart).
    /// </summary>
    private async Task<IReadOnlyList<AttemptResult>> SyncTeamsAsync(IReadOnlyList<CrmChange> changes, CancellationToken ct)
    {
        var (read, readFailed) = await PostAsync("/crm/v3/objects/deals/batch/read", new
        {
            idProperty = _options.IdProperty,
            inputs = changes.Select(c => new { id = c.Registration.Id.ToString("D") }),
            properties = new[] { _options.IdProperty },
            propertiesWithHistory = System.Array.Empty<string>(),
        }, ct);
        if (readFailed is not null) return changes.Select(_ => readFailed).ToList();
        var dealOf = Array(read, "results").OfType<JsonObject>()
            .Where(r => Str(r["properties"], _options.IdProperty) is not null && Str(r, "id") is not null)
            .ToDictionary(r => Str(r["properties"], _options.IdProperty)!, r => Str(r, "id")!, StringComparer.OrdinalIgnoreCase);
        var (associations, associationsFailed) = dealOf.Count == 0 ? (null, null)
            : await PostAsync("/crm/v4/associations/deals/companies/batch/read", new { inputs = dealOf.Values.Distinct().Select(id => new { id }) }, ct);
        if (associationsFailed is not null) return changes.Select(_ => associationsFailed).ToList();
        // deal id → company id → the association types (category, type id) between them
        var existing = Array(associations, "results").OfType<JsonObject>().Where(r => Str(r["from"], "id") is not null)
            .ToDictionary(r => Str(r["from"], "id")!, r => Array(r, "to").OfType<JsonObject>().ToDictionary(
                t => t["toObjectId"]?.ToString() ?? "",
                t => Array(t, "associationTypes").OfType<JsonObject>()
                    .Select(a => (Category: Str(a, "category") ?? "", TypeId: a["typeId"] is JsonValue v && v.TryGetValue<int>(out var id) ? id : 0))
                    .ToHashSet()));
        var ours = TeamRoleNames.Select(r => _options.TeamRole(r)).OfType<string>().Select(int.Parse).ToHashSet();

        var results = new AttemptResult?[changes.Count];
        var creates = new List<(int Change, object Input)>();
        var unlabel = new List<(int Change, object Input)>();
        var archives = new List<(int Change, object Input)>();
        for (var i = 0; i < changes.Count; i++)
        {
            if (!dealOf.TryGetValue(changes[i].Registration.Id.ToString("D"), out var deal))
            {
                results[i] = new AttemptResult(AttemptOutcome.Failed, 200, "The deal was not found by its id property after its upsert.");
                continue;
            }
            var companies = existing.GetValueOrDefault(deal) ?? [];
            foreach (var member in changes[i].TeamIn(Crm))
            {
                var company = member.Accounts.HubSpot!;
                var has = companies.GetValueOrDefault(company) ?? new HashSet<(string Category, int TypeId)>();
                var labels = member.Active ? LabelsOf(member) : [];
                var stale = has.Where(t => t.Category == "USER_DEFINED" && ours.Contains(t.TypeId) && !labels.Contains(t.TypeId))
                    .Select(t => t.TypeId).ToList();
                if (!member.Active && has.Count > 0 && has.All(t => t == ("HUBSPOT_DEFINED", DealToCompany) || stale.Contains(t.TypeId)))
                {
                    archives.Add((i, new { from = new { id = deal }, to = new[] { new { id = company } } }));
                    continue;
                }
                if (stale.Count > 0) unlabel.Add((i, Labelled(deal, company, stale.Select(id => ("USER_DEFINED", id)))));
                var wanted = labels.Select(id => ("USER_DEFINED", id)).Prepend(("HUBSPOT_DEFINED", DealToCompany)).ToList();
                if (member.Active && !wanted.All(has.Contains)) creates.Add((i, Labelled(deal, company, wanted)));
            }
        }
        foreach (var (path, inputs) in new[]
        {
            ("/crm/v4/associations/deals/companies/batch/labels/archive", unlabel),
            ("/crm/v4/associations/deals/companies/batch/archive", archives),
            ("/crm/v4/associations/deals/companies/batch/create", creates),
        })
        {
            // A deal of a batch may carry several partners: the inputs are sent a batch's worth at a time.
            foreach (var chunk in inputs.Chunk(MaxBatchInputs))
            {
                var (_, failed) = await PostAsync(path, new { inputs = chunk.Select(x => x.Input) }, ct);
                if (failed is null) continue;
                foreach (var change in chunk.Select(x => x.Change).Distinct()) results[change] ??= failed;
            }
        }
        return results.Select(r => r ?? AttemptResult.Delivered).ToList();
    }

    private static readonly string[] TeamRoleNames = [.. CrmSettings.TeamRoleNames];

    /// <summary>The association labels (type ids) a member's company carries on the deal: its role's, and the primary's for the registrant.</summary>
    private List<int> LabelsOf(TeamMember member) =>
        new[] { _options.TeamRole(member.Role), member.Primary ? _options.TeamRole("primary") : null }.OfType<string>().Select(int.Parse).ToList();

    private static object Labelled(string deal, string company, IEnumerable<(string Category, int TypeId)> types) => new
    {
        types = types.Select(t => new { associationCategory = t.Category, associationTypeId = t.TypeId }),
        from = new { id = deal },
        to = new { id = company },
    };

    /// <summary>
    /// One batch call of the team's sync; its answer, or the result every change it carried takes when HubSpot did not do it
    /// all (a 207's errors, a rate limit, a refusal, an outage).
    /// </summary>
    private async Task<(JsonNode? Answer, AttemptResult? Failed)> PostAsync(string path, object body, CancellationToken ct)
    {
        var answered = await SendAsync(path, body, ct);
        var (answer, code) = (answered.Json, (int)answered.Status);
        var message = CrmAnswers.Truncate($"{path}: {answered.Message}");
        return answered.Status switch
        {
            HttpStatusCode.OK or HttpStatusCode.Created or HttpStatusCode.NoContent => (answer, null),
            HttpStatusCode.MultiStatus => (answer, new AttemptResult(AttemptOutcome.Failed, code, CrmAnswers.Truncate(
                $"{path}: " + string.Join("; ", Array(answer, "errors").OfType<JsonObject>().Select(e => $"{Str(e, "category")}: {Str(e, "message")}"))))),
            HttpStatusCode.TooManyRequests => (answer, new AttemptResult(AttemptOutcome.RateLimited, code, message, answered.LimitedUntil)),
            HttpStatusCode.BadRequest or HttpStatusCode.NotFound or HttpStatusCode.Conflict =>
                (answer, new AttemptResult(AttemptOutcome.Refused, code, message)),
            _ => (answer, new AttemptResult(AttemptOutcome.Failed, code, message, answered.RetryAt)),
        };
    }

    /// <summary>One POST with the private app's token: the status, the body read as JSON, its message, and the waits it asks for.</summary>
    private async Task<Answered> SendAsync(string path, object body, CancellationToken ct)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, $"{_options.BaseUrl.TrimEnd('/')}{path}") { Content = JsonContent.Create(body) };
        request.Headers.Authorization = CrmAnswers.Bearer(_options.AccessToken!);
        using var http = clients.CreateClient(Crms.HubSpot);
        using var response = await http.SendAsync(request, ct);
        var text = await response.Content.ReadAsStringAsync(ct);
        var answer = Parse(text);
        var message = Str(answer, "message") ?? (text.Length > 0 ? text : $"HubSpot answered {(int)response.StatusCode}.");
        return new Answered(response.StatusCode, answer, message, WaitFor(answer, response), CrmAnswers.RetryAfter(response, clock.GetUtcNow()));
    }

    /// <param name="Status">HubSpot's status code.</param>
    /// <param name="Json">The body, when it is JSON.</param>
    /// <param name="Message">The body's message, the body, or the status.</param>
    /// <param name="LimitedUntil">How long a rate limit lasts (its policy, or Retry-After).</param>
    /// <param name="RetryAt">The Retry-After of any other answer.</param>
    private sealed record Answered(HttpStatusCode Status, JsonNode? Json, string Message, DateTimeOffset LimitedUntil, DateTimeOffset? RetryAt);

    private async Task<IReadOnlyList<AttemptResult>> UpsertAsync(IReadOnlyList<CrmChange> changes, CancellationToken ct)
    {
        var body = new
        {
            inputs = changes.Select(c => new
            {
                id = c.Registration.Id.ToString("D"),
                idProperty = _options.IdProperty,
                objectWriteTraceId = c.DeliveryId.ToString("D"),
                // HubSpot property values are strings.
                properties = _mapping.Map(c).ToDictionary(p => p.Key, p => Text(p.Value)),
            }),
        };
        var answered = await SendAsync("/crm/v3/objects/deals/batch/upsert", body, ct);
        var (answer, code) = (answered.Json, (int)answered.Status);
        var message = CrmAnswers.Truncate(answered.Message);

        switch (answered.Status)
        {
            // A 200 holds every input's result, once the batch is COMPLETE; PENDING, PROCESSING or CANCELED wrote nothing yet
            // that can be counted on, and the upsert is idempotent: it is sent again.
            case HttpStatusCode.OK or HttpStatusCode.Created when Str(answer, "status") is null or "COMPLETE":
                return changes.Select(_ => AttemptResult.Delivered).ToList();
            case HttpStatusCode.OK or HttpStatusCode.Created:
                var unfinished = new AttemptResult(AttemptOutcome.Failed, code, $"HubSpot answered the batch {Str(answer, "status")}, not COMPLETE.");
                return changes.Select(_ => unfinished).ToList();
            case HttpStatusCode.MultiStatus:
                return PerInput(changes, answer, code);
            case HttpStatusCode.TooManyRequests:
                var limited = new AttemptResult(AttemptOutcome.RateLimited, code, message, answered.LimitedUntil);
                return changes.Select(_ => limited).ToList();
            case HttpStatusCode.BadRequest when changes.Count > 1:
                // One bad input refuses the whole batch; alone, each input gets its own answer.
                var results = new List<AttemptResult>();
                foreach (var change in changes) results.AddRange(await UpsertAsync([change], ct));
                return results;
            case HttpStatusCode.BadRequest or HttpStatusCode.Conflict:
                return [new AttemptResult(AttemptOutcome.Refused, code, message)];
            default:
                var failed = new AttemptResult(AttemptOutcome.Failed, code, message, answered.RetryAt);
                return changes.Select(_ => failed).ToList();
        }
    }

    /// <summary>
    /// A 207 lists what was written in <c>results</c> and what was not in <c>errors</c>. A result is matched to its
    /// input by the <c>objectWriteTraceId</c> the input carried (the contract echoes it), or else by the id property
    /// among its properties; an error by its context naming the input. An input found in neither is tried again:
    /// another input's error is never its refusal.
    /// </summary>
    private List<AttemptResult> PerInput(IReadOnlyList<CrmChange> changes, JsonNode? answer, int code)
    {
        var results = Array(answer, "results").OfType<JsonObject>().ToList();
        var traces = results.Select(r => Str(r, "objectWriteTraceId")).OfType<string>().ToHashSet(StringComparer.OrdinalIgnoreCase);
        var ids = results.Select(r => Str(r["properties"], _options.IdProperty)).OfType<string>().ToHashSet(StringComparer.OrdinalIgnoreCase);
        var errors = Array(answer, "errors").OfType<JsonObject>().ToList();
        return changes.Select(change =>
        {
            var (id, trace) = (change.Registration.Id.ToString("D"), change.DeliveryId.ToString("D"));
            if (traces.Contains(trace) || ids.Contains(id)) return AttemptResult.Delivered;
            var error = errors.FirstOrDefault(e => Mentions(e, id, trace));
            if (error is null) return new AttemptResult(AttemptOutcome.Failed, code, "HubSpot's answer named this input neither written nor refused.");
            var message = CrmAnswers.Truncate(Str(error, "message") ?? "HubSpot did not write this input.");
            var category = Str(error, "category");
            return category is "VALIDATION_ERROR" or "INVALID_EMAIL" or "PROPERTY_DOESNT_EXIST" or "OBJECT_ALREADY_EXISTS"
                ? new AttemptResult(AttemptOutcome.Refused, code, $"{category}: {message}")
                : new AttemptResult(AttemptOutcome.Failed, code, category is null ? message : $"{category}: {message}");
        }).ToList();
    }

    private static bool Mentions(JsonObject error, string registrationId, string traceId) =>
        error["context"]?.ToJsonString() is { } context && (context.Contains(registrationId, StringComparison.OrdinalIgnoreCase)
            || context.Contains(traceId, StringComparison.OrdinalIgnoreCase));

    /// <summary>HubSpot's policy name says how long to wait; a Retry-After, when sent, wins.</summary>
    private DateTimeOffset WaitFor(JsonNode? answer, HttpResponseMessage response)
    {
        var now = clock.GetUtcNow();
        if (CrmAnswers.RetryAfter(response, now) is { } hinted) return hinted;
        return Str(answer, "policyName") switch
        {
            "DAILY" => NextMidnight(now),
            "SECONDLY" => now + TimeSpan.FromSeconds(1),
            _ => now + _options.RollingWindowWait,
        };
    }

    private DateTimeOffset NextMidnight(DateTimeOffset now)
    {
        var zone = TimeZoneInfo.FindSystemTimeZoneById(_options.TimeZone);
        var local = TimeZoneInfo.ConvertTime(now, zone);
        var midnight = local.Date.AddDays(1);
        return new DateTimeOffset(midnight, zone.GetUtcOffset(midnight)).ToUniversalTime();
    }

    private static JsonNode? Parse(string text)
    {
        try
        {
            return text.Length == 0 ? null : JsonNode.Parse(text);
        }
        catch (JsonException)
        {
            return null;
        }
    }

    // HubSpot promises no shape for errors; a field of another type reads as absent rather than failing the delivery.
    private static string? Str(JsonNode? node, string name) =>
        node is JsonObject o && o[name] is JsonValue v && v.TryGetValue<string>(out var text) ? text : null;

    private static IEnumerable<JsonNode?> Array(JsonNode? node, string name) => node is JsonObject o && o[name] is JsonArray a ? a : [];

    private static string Text(object value) => value switch
    {
        decimal d => d.ToString(CultureInfo.InvariantCulture),
        // A date property is an instant to HubSpot (its examples send ISO 8601 with a time): midnight UTC of the day.
        DateOnly day => day.ToDateTime(TimeOnly.MinValue, DateTimeKind.Utc).ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture),
        bool b => b ? "true" : "false",
        _ => Convert.ToString(value, CultureInfo.InvariantCulture) ?? "",
    };
}
