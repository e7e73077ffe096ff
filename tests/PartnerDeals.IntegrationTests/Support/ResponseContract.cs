using System.Collections.Concurrent;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Json.Schema;

namespace PartnerDeals.IntegrationTests.Support;

/// <summary>
/// The answers the committed OpenAPI document promises: each answer's status must be documented for its operation,
/// and its JSON body must validate against that status's schema. The document is OpenAPI 3.1, so its schemas are
/// JSON Schema 2020-12 and a plain validator reads them; only the references move from components to <c>$defs</c>.
/// </summary>
public sealed class ResponseContract
{
    private readonly JsonObject _document;
    private readonly JsonObject _definitions;
    private readonly List<(Regex Pattern, string Template)> _paths;
    private readonly ConcurrentDictionary<string, JsonSchema> _schemas = new(StringComparer.Ordinal);

    private ResponseContract(JsonObject document)
    {
        _document = document;
        _definitions = JsonNode.Parse(document["components"]!["schemas"]!.ToJsonString().Replace("#/components/schemas/", "#/$defs/", StringComparison.Ordinal))!.AsObject();
        // Literal segments before parameters, so /v1/partners/metrics is not read as /v1/partners/{id}.
        _paths = document["paths"]!.AsObject().Select(p => p.Key)
            .OrderBy(t => t.Count(c => c == '{'))
            .Select(t => (new Regex("^" + Regex.Replace(Regex.Escape(t), @"\\\{[^/]+?\}", "[^/]+") + "$"), t)).ToList();
    }

    /// <summary>The committed document, api-spec/openapi.json (a test fails when it differs from the served one).</summary>
    public static ResponseContract Committed { get; } = new(JsonNode.Parse(File.ReadAllText(
        Path.Combine(OpenApiDocumentTests.RepositoryRoot(), "api-spec", "openapi.json")))!.AsObject());

    /// <summary>The operation's path template for a request path, or null when the document has none.</summary>
    public string? Template(string path) => _paths.FirstOrDefault(p => p.Pattern.IsMatch(path)).Template;

    /// <summary>What in this answer the document does not promise; empty when it keeps every promise.</summary>
    public IReadOnlyList<string> Violations(string method, string path, int status, string? mediaType, string body)
    {
        var template = Template(path);
        if (template is null) return [];
        var operation = _document["paths"]![template]![method.ToLowerInvariant()];
        if (operation is null) return status == 405 ? [] : [$"{method} {template} is not in the document, yet answered {status}"];
        var response = operation["responses"]![status.ToString(System.Globalization.CultureInfo.InvariantCulture)];
        if (response is null) return [$"{method} {template} answered {status}, which it does not document"];
        if (body.Length == 0 || mediaType is null || !mediaType.EndsWith("json", StringComparison.Ordinal)) return [];
        var key = $"{method} {template} {status} {mediaType}";
        var schemaNode = response["content"]?[mediaType]?["schema"];
        if (schemaNode is null) return [$"{key}: the document declares no schema for this body"];
        var schema = _schemas.GetOrAdd(key, _ =>
        {
            var root = JsonNode.Parse(schemaNode.ToJsonString().Replace("#/components/schemas/", "#/$defs/", StringComparison.Ordinal))!.AsObject();
            root["$schema"] = "https://json-schema.org/draft/2020-12/schema";
            root["$defs"] = _definitions.DeepClone();
            return JsonSchema.FromText(root.ToJsonString());
        });
        var result = schema.Evaluate(JsonNode.Parse(body), new EvaluationOptions { OutputFormat = OutputFormat.List });
        return result.IsValid
            ? []
            : result.Details.Where(d => d.HasErrors).SelectMany(d => d.Errors!.Select(e => $"{key} at '{d.InstanceLocation}': {e.Value}")).ToList();
    }
}

/// <summary>
/// Checks every answer a host test's client reads against <see cref="ResponseContract.Committed"/>, so the whole host
/// suite's flows — bad input included — hold the document to what the service really answers.
/// </summary>
public sealed class ContractCheck : DelegatingHandler
{
    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        var response = await base.SendAsync(request, cancellationToken);
        await response.Content.LoadIntoBufferAsync(cancellationToken);
        var body = await response.Content.ReadAsStringAsync(cancellationToken);
        var violations = ResponseContract.Committed.Violations(request.Method.Method, request.RequestUri!.AbsolutePath, (int)response.StatusCode,
            response.Content.Headers.ContentType?.MediaType, body);
        if (violations.Count > 0) throw new AssertionException("The answer breaks the OpenAPI document:\n" + string.Join("\n", violations) + "\n" + body);
        return response;
    }
}
