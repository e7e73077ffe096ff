using System.Net.Http.Headers;
using System.Text;
using System.Text.Json.Nodes;
using Microsoft.Data.Sqlite;
using PartnerDeals.IntegrationTests.Registrations;
using PartnerDeals.IntegrationTests.Support;
using static PartnerDeals.IntegrationTests.Support.RegistrationCalls;

namespace PartnerDeals.IntegrationTests.Reliability;

/// <summary>
/// Bad input generated from the OpenAPI document in <c>api-spec/</c>: for every operation, bodies with
/// wrong types, missing, null and unknown fields, huge strings and numbers, invalid UTF-8, impossible
/// dates, injection strings, wrong media types and oversize bodies; query parameters of the wrong
/// type or size; bad keys. Every answer must be below 500, every error a problem document, and a
/// rejected request must leave the database as it was (SQLite's <c>data_version</c> moves on any commit
/// by another connection).
/// </summary>
public sealed class BadInputTests : HostTest
{
    private static readonly string[] Hostile =
    [
        "' OR '1'='1' --", "\"; DROP TABLE registrations; --", "<script>alert(1)</script>", "../../../../etc/passwd", "${jndi:ldap://x/a}",
        "\u0000", "\ud83d\ude00\u202e\u200b", new string('x', 100_000), "2026-02-30", "-1", "1e400", "NaN",
        "9999-12-31", "0001-01-01", "9999-12-31T23:59:59Z", "Name\u001B\uFEFF\uFFFF", "999999999999999.99999",
    ];

    private readonly List<string> _failures = [];
    private readonly Dictionary<int, int> _statuses = [];
    private int _sent;
    private int _acceptedWrites;
    private string _partnerId = "";
    private string _registrationId = "";

    [Test]
    public async Task EveryOperation_BadInput_AnswersAProblemBelow500_AndChangesNothing()
    {
        var partner = await PartnerAsync();
        _partnerId = partner.Id;
        var (company, domain) = NewCompany();
        _registrationId = Id(await RegisterAsync(partner.Client, Body(company, domain)));
        var document = JsonNode.Parse(await File.ReadAllTextAsync(Path.Combine(OpenApiDocumentTests.RepositoryRoot(), "api-spec", "openapi.json")))!;
        await using var watcher = new SqliteConnection(Factory.ConnectionString);
        await watcher.OpenAsync();

        foreach (var (path, operations) in document["paths"]!.AsObject())
        {
            foreach (var (method, operation) in operations!.AsObject())
            {
                var url = Url(path);
                var parameters = operation!["parameters"]?.AsArray().Select(p => p!).Where(p => p.Get<string>("in") == "query").ToList() ?? [];
                foreach (var parameter in parameters)
                {
                    var name = parameter.Get<string>("name");
                    foreach (var value in Hostile.Concat(["abc", "99999999999999999999", "", "1.5", "true"]))
                    {
                        await SendAsync(watcher, new HttpMethod(method.ToUpperInvariant()), $"{url}?{name}={Uri.EscapeDataString(value)}", null, null);
                    }
                }
                if (operation["requestBody"]?["content"]?["application/json"]?["schema"] is { } schema)
                {
                    foreach (var (body, mediaType) in Bodies(document, schema))
                    {
                        await SendAsync(watcher, new HttpMethod(method.ToUpperInvariant()), url, body, mediaType);
                    }
                }
                await SendAsync(watcher, new HttpMethod(method.ToUpperInvariant()), url, null, null, apiKey: "pd_not_a_key_at_all");
            }
        }

        TestContext.Out.WriteLine($"{_sent} requests: " + string.Join(", ", _statuses.OrderBy(s => s.Key).Select(s => $"{s.Key} × {s.Value}")));
        _sent.ShouldBeGreaterThanOrEqualTo(500);
        _acceptedWrites.ShouldBeGreaterThan(0, "the watcher must see another connection's commits, or 'unchanged' proves nothing");
        _statuses.Keys.ShouldContain(400);
        _statuses.Keys.ShouldContain(413);
        _statuses.Keys.ShouldContain(415);
        _failures.ShouldBeEmpty($"{_failures.Count} of {_sent} requests broke a rule");
    }

    /// <summary>Bad bodies for a JSON schema: the example body with one property broken at a time, and whole-body faults.</summary>
    private static IEnumerable<(byte[] Body, string MediaType)> Bodies(JsonNode document, JsonNode schema)
    {
        static byte[] Utf8(string text) => Encoding.UTF8.GetBytes(text);
        const string json = "application/json";
        var example = Example(document, schema, 0) as JsonObject ?? [];
        yield return (Utf8("{"), json);
        yield return (Utf8("[]"), json);
        yield return (Utf8("null"), json);
        yield return (Utf8("\"text\""), json);
        yield return (Utf8("{}"), json);
        yield return ([.. Utf8("{\"x\":\""), 0xFF, 0xFE, 0xC3, .. Utf8("\"}")], json);
        yield return (Utf8(example.ToJsonString()), "text/plain");
        yield return (Utf8(example.ToJsonString()), "application/xml");
        yield return (Utf8("{\"pad\":\"" + new string('a', 1_100_000) + "\"}"), json);
        yield return (Utf8(Set(example, "unexpectedField", "x").ToJsonString()), json);
        if (example.FirstOrDefault() is { Key: { } first } property)
        {
            // The first field twice: refused, whatever its value.
            yield return (Utf8($"{{\"{first}\":{property.Value?.ToJsonString() ?? "null"}," + example.ToJsonString()[1..]), DuplicateKey);
        }
        foreach (var (name, value) in example)
        {
            JsonNode?[] replacements =
            [
                null, 12345, "text", true, new JsonArray(), new JsonObject { ["nested"] = 1 }, JsonValue.Create(new string('9', 400)),
                Hostile[0], Hostile[2], Hostile[6], Hostile[7], "2026-02-30", "-1",
                // Far dates, hidden characters and money past its precision.
                "9999-12-31", "0001-01-01", "9999-12-31T23:59:59Z", "0001-01-01T00:00:00Z", "Contoso\u0000\u001B\r\n\uFEFF\uFFFF\u202EPharma",
                // Noncharacters, which string normalisation refuses.
                "Contoso\uFFFE Pharma", "\uFDD0\uFFFF",
                JsonNode.Parse("999999999999999.99999"), JsonNode.Parse("1000000000000000"), JsonNode.Parse("0.00001"),
            ];
            foreach (var replacement in replacements) yield return (Utf8(Set(example, name, replacement?.DeepClone()).ToJsonString()), json);
            // Half a surrogate pair, as a JSON escape (no JSON writer writes one): high, low, and at the end of a name.
            foreach (var lone in new[] { "\\ud800", "\\udc00", "Contoso Pharma\\ud83d" })
            {
                yield return (Utf8(Set(example, name, "LONE@@").ToJsonString().Replace("\"LONE@@\"", $"\"{lone}\"", StringComparison.Ordinal)), json);
            }
            // Every string one level down (customer.companyName, a batch item's accountName …) with what is not text.
            var nested = value as JsonObject ?? (value as JsonArray)?.FirstOrDefault() as JsonObject;
            foreach (var inner in (nested ?? []).Where(p => p.Value is JsonValue v && v.GetValueKind() == System.Text.Json.JsonValueKind.String).Select(p => p.Key))
            {
                JsonNode changed = Set(nested!, inner, "NOTTEXT@@");
                if (value is JsonArray) changed = new JsonArray(changed);
                foreach (var notText in new[] { "Contoso\\uFFFE Pharma", "Contoso Pharma\\ud83d", "\\udc00Contoso" })
                {
                    var body = Set(example, name, changed.DeepClone()).ToJsonString();
                    yield return (Utf8(body.Replace("\"NOTTEXT@@\"", $"\"{notText}\"", StringComparison.Ordinal)), json);
                }
            }
            yield return (Utf8(example.ToJsonString().Replace($"\"{name}\":", $"\"{name}\":1e400,\"ignored{name}\":", StringComparison.Ordinal)), json);
            yield return (Utf8(Without(example, name).ToJsonString()), json);
            _ = value;
        }
    }

    /// <summary>A body from the schema's examples (or a value of the right type), nested schemas followed.</summary>
    private static JsonNode? Example(JsonNode document, JsonNode? schema, int depth)
    {
        if (schema is null || depth > 6) return null;
        if (schema["$ref"] is { } reference) return Example(document, Resolve(document, reference.GetValue<string>()), depth + 1);
        if (schema["allOf"] is JsonArray all) return Example(document, all[0], depth + 1);
        if (schema["anyOf"] is JsonArray any) return Example(document, any[0], depth + 1); // a nullable reference: [reference, null]
        if (schema["example"] is { } example) return example.DeepClone();
        if (schema["enum"] is JsonArray values && values.Count > 0) return values[0]!.DeepClone();
        // OpenAPI 3.1 writes a nullable type as ["null", "string"].
        var type = schema["type"] is JsonArray types ? types.Select(t => t!.GetValue<string>()).FirstOrDefault(t => t != "null") : schema["type"]?.GetValue<string>();
        return type switch
        {
            "object" => new JsonObject((schema["properties"]?.AsObject() ?? [])
                .Select(p => KeyValuePair.Create(p.Key, Example(document, p.Value, depth + 1)))),
            "array" => new JsonArray(Example(document, schema["items"], depth + 1)),
            "integer" => 1,
            "number" => 1.5,
            "boolean" => true,
            "string" => schema["format"]?.GetValue<string>() switch
            {
                "uuid" => Guid.NewGuid().ToString(),
                "date" => "2026-11-23",
                "date-time" => "2026-11-23T10:00:00Z",
                _ => "text",
            },
            _ => null,
        };
    }

    private static JsonNode Resolve(JsonNode document, string reference) =>
        reference.Split('/').Skip(1).Aggregate(document, (node, part) => node[part]!);

    private static JsonObject Set(JsonObject body, string name, JsonNode? value)
    {
        var copy = body.DeepClone().AsObject();
        copy[name] = value;
        return copy;
    }

    private static JsonObject Without(JsonObject body, string name)
    {
        var copy = body.DeepClone().AsObject();
        copy.Remove(name);
        return copy;
    }

    /// <summary>Sent as JSON; marks the body whose first field is repeated, which must answer 400 and no other status.</summary>
    private const string DuplicateKey = "application/json; duplicate-key=1";

    private string Url(string template) => OperationUrls.For(template, _partnerId, _registrationId);

    private async Task SendAsync(SqliteConnection watcher, HttpMethod method, string url, byte[]? body, string? mediaType, string? apiKey = null)
    {
        var before = await DataVersionAsync(watcher);
        using var request = new HttpRequestMessage(method, url);
        request.Headers.TryAddWithoutValidation("X-Api-Key", apiKey ?? Support.ApiFactory.AdminKey);
        request.Headers.TryAddWithoutValidation("If-Match", "\"999\"");
        if (body is not null)
        {
            request.Content = new ByteArrayContent(body);
            request.Content.Headers.ContentType = MediaTypeHeaderValue.Parse(mediaType!);
        }
        using var client = Factory.Client(null);
        using var response = await client.SendAsync(request);
        _sent++;
        var what = $"{method} {Shorten(url)} {mediaType} {Shorten(body is null ? "" : Encoding.UTF8.GetString(body))}";
        var status = (int)response.StatusCode;
        _statuses[status] = _statuses.GetValueOrDefault(status) + 1;
        if (mediaType == DuplicateKey && status != 400) _failures.Add($"{status}, not 400, for a repeated field in {what}");
        if (status >= 500) _failures.Add($"{status} for {what}: {Shorten(await response.Content.ReadAsStringAsync())}");
        if (status < 400)
        {
            if (await DataVersionAsync(watcher) != before) _acceptedWrites++;
            return;
        }
        if (response.Content.Headers.ContentType?.MediaType != "application/problem+json")
        {
            _failures.Add($"{status} without a problem document for {what}");
        }
        else if (JsonNode.Parse(await response.Content.ReadAsStringAsync()) is not JsonObject problem || problem["type"] is null || problem["title"] is null)
        {
            _failures.Add($"{status} with a problem document lacking type or title for {what}");
        }
        if (await DataVersionAsync(watcher) != before) _failures.Add($"{status} but the database changed for {what}");
    }

    private static async Task<long> DataVersionAsync(SqliteConnection connection)
    {
        await using var command = connection.CreateCommand();
        command.CommandText = "PRAGMA data_version";
        return (long)(await command.ExecuteScalarAsync())!;
    }

    private static string Shorten(string text) => text.Length <= 160 ? text : text[..160] + "…";
}
