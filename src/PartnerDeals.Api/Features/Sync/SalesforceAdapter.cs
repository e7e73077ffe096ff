using System.Net;
using System.Text.Json;
using Microsoft.Extensions.Options;

namespace PartnerDeals.Api.Features.Sync;

/// <summary>
/// Salesforce REST: upserts an Opportunity by the external-ID field that holds the registration id
/// (<c>PATCH /services/data/vXX.X/sobjects/Opportunity/{field}/{id}</c>), signed in with an OAuth 2
/// client-credentials token. Salesforce signals its API limit with 403 <c>REQUEST_LIMIT_EXCEEDED</c>
/// and no wait hint (a 429 comes only from a gateway in front of it); its errors are a JSON array of
/// <c>{message, errorCode, fields}</c>.
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

    public Task<IReadOnlyList<AttemptResult>> DeliverAsync(IReadOnlyList<CrmChange> changes, CancellationToken ct) =>
        CrmAnswers.EachAsync(changes, DeliverAsync, ct);

    private async Task<AttemptResult> DeliverAsync(CrmChange change, CancellationToken ct)
    {
        var token = await Token.GetAsync(ct);
        var (status, errors, retryAt) = await UpsertAsync(change, token, ct);
        if (status == HttpStatusCode.Unauthorized && errors.Any(e => e.ErrorCode == "INVALID_SESSION_ID"))
        {
            // The session ended early (revoked, timed out); one fresh token, then the answer stands.
            Token.Invalidate(token);
            (status, errors, retryAt) = await UpsertAsync(change, await Token.GetAsync(ct), ct);
        }

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

    private async Task<(HttpStatusCode Status, IReadOnlyList<SalesforceError> Errors, DateTimeOffset? RetryAt)> UpsertAsync(
        CrmChange change, string token, CancellationToken ct)
    {
        var url = $"{_options.InstanceUrl!.TrimEnd('/')}/services/data/v{_options.ApiVersion}/sobjects/Opportunity/"
            + $"{Uri.EscapeDataString(_options.ExternalIdField)}/{change.Registration.Id:D}";
        using var request = new HttpRequestMessage(HttpMethod.Patch, url) { Content = JsonContent.Create(_mapping.Map(change)) };
        request.Headers.Authorization = CrmAnswers.Bearer(token);
        using var http = _clients.CreateClient(Crms.Salesforce);
        using var response = await http.SendAsync(request, ct);
        var body = await response.Content.ReadAsStringAsync(ct);
        return (response.StatusCode, CrmAnswers.IsSuccess(response.StatusCode) ? [] : Errors(body), CrmAnswers.RetryAfter(response, _clock.GetUtcNow()));
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
}
