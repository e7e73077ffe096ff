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
/// window to roll, <c>DAILY</c> waits for the account's next midnight, neither burns an attempt.
/// </summary>
public sealed class HubSpotAdapter(IOptions<CrmOptions> options, IHttpClientFactory clients, TimeProvider clock) : ICrmAdapter
{
    private readonly HubSpotOptions _options = options.Value.HubSpot;
    private readonly FieldMapping _mapping = options.Value.HubSpot.Mapping();

    public string Crm => Crms.HubSpot;

    public async Task<IReadOnlyList<AttemptResult>> DeliverAsync(IReadOnlyList<CrmChange> changes, CancellationToken ct)
    {
        try
        {
            return await UpsertAsync(changes, ct);
        }
        catch (Exception e) when (!ct.IsCancellationRequested)
        {
            var result = AttemptResult.From(e);
            return changes.Select(_ => result).ToList();
        }
    }

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
        using var request = new HttpRequestMessage(HttpMethod.Post, $"{_options.BaseUrl.TrimEnd('/')}/crm/v3/objects/deals/batch/upsert")
        {
            Content = JsonContent.Create(body),
        };
        request.Headers.Authorization = CrmAnswers.Bearer(_options.AccessToken!);
        using var http = clients.CreateClient(Crms.HubSpot);
        using var response = await http.SendAsync(request, ct);
        var text = await response.Content.ReadAsStringAsync(ct);
        var answer = Parse(text);
        var code = (int)response.StatusCode;
        var message = CrmAnswers.Truncate(Str(answer, "message") ?? (text.Length > 0 ? text : $"HubSpot answered {code}."));

        switch (response.StatusCode)
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
                var limited = new AttemptResult(AttemptOutcome.RateLimited, code, message, WaitFor(answer, response));
                return changes.Select(_ => limited).ToList();
            case HttpStatusCode.BadRequest when changes.Count > 1:
                // One bad input refuses the whole batch; alone, each input gets its own answer.
                var results = new List<AttemptResult>();
                foreach (var change in changes) results.AddRange(await UpsertAsync([change], ct));
                return results;
            case HttpStatusCode.BadRequest or HttpStatusCode.Conflict:
                return [new AttemptResult(AttemptOutcome.Refused, code, message)];
            default:
                var failed = new AttemptResult(AttemptOutcome.Failed, code, message, CrmAnswers.RetryAfter(response, clock.GetUtcNow()));
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
