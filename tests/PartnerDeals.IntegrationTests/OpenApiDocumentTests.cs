using System.Text.Json.Nodes;
using PartnerDeals.IntegrationTests.Support;

namespace PartnerDeals.IntegrationTests;

public sealed class OpenApiDocumentTests : HostTest
{
    private JsonObject _document = null!;
    private string _served = "";

    [OneTimeSetUp]
    public async Task ReadDocument()
    {
        // Read as `dotnet run` serves it, the address scripts/export-openapi.sh reads it from.
        using var request = new HttpRequestMessage(HttpMethod.Get, "/swagger/v1/swagger.json") { Headers = { Host = "localhost:5080" } };
        using var response = await Admin.SendAsync(request);
        _served = await response.Content.ReadAsStringAsync();
        _document = JsonNode.Parse(_served)!.AsObject();
    }

    [Test]
    public void ServedDocument_MatchesCommittedSpec()
    {
        var path = Path.Combine(RepositoryRoot(), "api-spec", "openapi.json");
        File.Exists(path).ShouldBeTrue($"{path} is missing; run scripts/export-openapi.sh");
        var committed = File.ReadAllText(path).ReplaceLineEndings("\n").TrimEnd();
        var served = _served.ReplaceLineEndings("\n").TrimEnd();
        served.ShouldBe(committed, "The API changed but api-spec/openapi.json did not: run scripts/export-openapi.sh and commit the result.");
    }

    [Test]
    public void EveryOperation_HasSummaryAndDocumentsItsErrors()
    {
        var operations = Operations().ToList();
        operations.ShouldNotBeEmpty();
        foreach (var (name, operation) in operations)
        {
            operation["summary"]?.GetValue<string>().ShouldNotBeNullOrWhiteSpace($"{name} has no summary");
            var responses = operation["responses"]!.AsObject();
            responses.ContainsKey("500").ShouldBeTrue($"{name} does not document 500");
            if (operation["security"] is not null)
            {
                responses.ContainsKey("401").ShouldBeTrue($"{name} does not document 401");
                responses.ContainsKey("403").ShouldBeTrue($"{name} does not document 403");
                responses.ContainsKey("429").ShouldBeTrue($"{name} does not document 429");
            }
            if (operation["requestBody"] is not null)
            {
                responses.ContainsKey("400").ShouldBeTrue($"{name} does not document 400");
                responses.ContainsKey("413").ShouldBeTrue($"{name} does not document 413");
                responses.ContainsKey("415").ShouldBeTrue($"{name} does not document 415");
            }
            if (name.StartsWith("PATCH", StringComparison.Ordinal))
            {
                operation["parameters"]!.AsArray().Select(p => p!.Get<string>("name")).ShouldContain("If-Match", name);
                responses.ContainsKey("412").ShouldBeTrue($"{name} does not document 412");
                responses.ContainsKey("428").ShouldBeTrue($"{name} does not document 428");
            }
        }
    }

    [Test]
    public void Document_IsOpenApi31_WithAnAbsoluteServer_AndNoSchemaThatNothingSatisfies()
    {
        _document.Get<string>("openapi").ShouldStartWith("3.1.");
        var server = _document["servers"]![0]!.Get<string>("url");
        Uri.TryCreate(server, UriKind.Absolute, out _).ShouldBeTrue($"server {server} is not absolute: a generated client would have no base address");
        server.ShouldBe("http://localhost:5080", "the document names the address it was read from");
        // Swashbuckle's own shape for a nullable reference, type null beside allOf, admits no value at all.
        _served.ShouldNotContain("\"type\": \"null\",\n              \"allOf\"");
        foreach (var (name, schema) in _document["components"]!["schemas"]!.AsObject())
        {
            foreach (var (property, shape) in schema!["properties"]?.AsObject() ?? [])
            {
                (shape!["type"]?.ToJsonString() == "\"null\"" && shape["allOf"] is not null).ShouldBeFalse($"{name}.{property}");
            }
        }
    }

    [Test]
    public void AnswerSchemas_ListEveryFieldTheyAlwaysSend_AsRequired()
    {
        var schemas = _document["components"]!["schemas"]!.AsObject();
        foreach (var name in new[] { "Registration", "Conflict", "Partner", "FeeStatement", "RegistrationPage", "Outcome", "MatchSignal", "WebhookAttempt" })
        {
            var schema = schemas[name]!;
            var required = schema["required"]?.AsArray().Select(r => r!.GetValue<string>()).ToHashSet() ?? [];
            // Every property but those written only when set (a vendor's conflictId, a conflict's candidates outside lists).
            var missing = schema["properties"]!.AsObject().Select(p => p.Key).Where(p => !required.Contains(p)).ToList();
            missing.ShouldBeSubsetOf(["conflictId", "candidates"], $"{name} does not list these as required");
        }
        // A request body's optional fields stay optional.
        schemas["UpdatePartnerRequest"]!["required"].ShouldBeNull();
    }

    [Test]
    public void Document_DeclaresTheApiKeySchemeAndSnakeCaseEnums()
    {
        var scheme = _document["components"]!["securitySchemes"]!["ApiKey"]!;
        scheme.Get<string>("type").ShouldBe("apiKey");
        scheme.Get<string>("name").ShouldBe("X-Api-Key");
        scheme.Get<string>("in").ShouldBe("header");
        _served.ShouldContain("\"percent_of_revenue\"");
        _served.ShouldContain("\"qualified_introduction\"");
    }

    [Test]
    public void CreatesTakingAnIdempotencyKey_DeclareTheReplayHeaderAndTheETagOnTheirAnswer()
    {
        // A job taken to be done later (202, a batch) names no version yet: only creates answering 201 carry an ETag.
        var creates = Operations().Where(o => o.Operation["parameters"]?.AsArray().Any(p => p!.Get<string>("name") == "Idempotency-Key") == true
            && o.Operation["responses"]?["201"] is not null).ToList();
        creates.ShouldNotBeEmpty();
        foreach (var (name, operation) in creates)
        {
            var headers = operation["responses"]!["201"]!["headers"]!.AsObject();
            headers.ContainsKey("Idempotent-Replayed").ShouldBeTrue(name);
            headers.ContainsKey("ETag").ShouldBeTrue(name);
        }
    }

    [Test]
    public void EveryTag_IsDescribed_AndEveryProblemTypeIsListedWithItsStatus()
    {
        var described = _document["tags"]!.AsArray().ToDictionary(t => t!.Get<string>("name"), t => t!["description"]?.GetValue<string>());
        foreach (var tag in Operations().SelectMany(o => o.Operation["tags"]!.AsArray().Select(t => t!.GetValue<string>())).Distinct())
        {
            described.GetValueOrDefault(tag).ShouldNotBeNullOrWhiteSpace($"tag {tag} is not described");
        }
        var description = _document["info"]!.Get<string>("description");
        var types = typeof(PartnerDeals.Api.Infrastructure.Errors.ProblemTypes).GetFields()
            .Where(f => f.IsLiteral && f.FieldType == typeof(string)).Select(f => (string)f.GetRawConstantValue()!).ToList();
        types.Count.ShouldBeGreaterThan(15);
        foreach (var type in types) description.ShouldContain($"| `{type}` | ", Case.Sensitive, $"{type} is not listed");
    }

    [TestCase("/v1/registrations", "status", "pending_review")]
    [TestCase("/v1/conflicts", "kind", "direct_opportunity")]
    [TestCase("/v1/partners", "status", "suspended")]
    [TestCase("/v1/opportunities", "status", "won")]
    public void ListFilters_OfAnEnum_ListTheirValues_ForADropdown(string path, string parameter, string value)
    {
        var declared = _document["paths"]![path]!["get"]!["parameters"]!.AsArray().Single(p => p!.Get<string>("name") == parameter)!;
        declared["schema"]!["enum"]!.AsArray().Select(v => v!.GetValue<string>()).ShouldContain(value);
    }

    [Test]
    public async Task CsvImportExample_SentAsOffered_ImportsItsRows()
    {
        var example = _document["paths"]!["/v1/opportunities/import"]!["post"]!["requestBody"]!["content"]!["text/csv"]!.Get<string>("example");

        var response = await Admin.PostAsync("/v1/opportunities/import", new StringContent(example, System.Text.Encoding.UTF8, "text/csv"));

        response.StatusCode.ShouldBe(System.Net.HttpStatusCode.OK, await response.Content.ReadAsStringAsync());
        var answer = await ReadJsonAsync(response);
        (answer.Get<int>("created") + answer.Get<int>("updated")).ShouldBe(2);
        answer.Get<int>("rejected").ShouldBe(0);
    }

    private IEnumerable<(string Name, JsonObject Operation)> Operations()
    {
        foreach (var (path, item) in _document["paths"]!.AsObject())
        {
            foreach (var (method, operation) in item!.AsObject())
            {
                if (operation is JsonObject o && o.ContainsKey("responses")) yield return ($"{method.ToUpperInvariant()} {path}", o);
            }
        }
    }

    internal static string RepositoryRoot()
    {
        var directory = new DirectoryInfo(TestContext.CurrentContext.TestDirectory);
        while (directory is not null && !File.Exists(Path.Combine(directory.FullName, "PartnerDeals.sln"))) directory = directory.Parent;
        return directory?.FullName ?? throw new InvalidOperationException("PartnerDeals.sln not found above the test directory");
    }
}
