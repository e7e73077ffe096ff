using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json.Nodes;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using PartnerDeals.IntegrationTests.Support;

namespace PartnerDeals.IntegrationTests.Reliability;

/// <summary>
/// Every operation of the OpenAPI document probed as an attacker would (OWASP API Top 10: broken
/// authentication, object-level and function-level authorisation): no key, a revoked key, another
/// partner's key on a partner's resources; and no key ever appears in a log line or a response.
/// </summary>
public sealed class SecurityTests
{
    private readonly CapturedLogs _logs = new();
    private ApiFactory _factory = null!;
    private HttpClient _admin = null!;
    private JsonNode _document = null!;
    private string _partnerA = "";
    private string _keyA = "";
    private string _keyB = "";
    private string _revokedKey = "";
    private string _registrationA = "";
    private string _companyA = "";

    [OneTimeSetUp]
    public async Task StartHost()
    {
        _factory = new ApiFactory
        {
            TestServices = services => services.AddLogging(b => b.AddProvider(_logs).AddFilter<CapturedLogs>(null, LogLevel.Trace)),
        };
        _admin = _factory.Client(ApiFactory.AdminKey);
        _document = JsonNode.Parse(await File.ReadAllTextAsync(Path.Combine(OpenApiDocumentTests.RepositoryRoot(), "api-spec", "openapi.json")))!;
        (_partnerA, _keyA) = await PartnerWithKeyAsync("Alpha Resellers");
        (_, _keyB) = await PartnerWithKeyAsync("Beta Resellers");
        (_, _revokedKey) = await PartnerWithKeyAsync("Gamma Resellers");
        var keys = await _admin.GetFromJsonAsync<JsonObject>("/v1/api-keys?limit=200");
        var revokedId = keys!["items"]!.AsArray().Single(k => _revokedKey.StartsWith(k!.Get<string>("prefix"), StringComparison.Ordinal))!["id"]!;
        (await _admin.DeleteAsync($"/v1/api-keys/{revokedId}")).StatusCode.ShouldBe(HttpStatusCode.NoContent);

        _companyA = "Zyxwvut Qponmlk Pharma GmbH";
        using var partnerA = _factory.Client(_keyA);
        var created = await partnerA.PostAsJsonAsync("/v1/registrations", new
        {
            customer = new { companyName = _companyA, domain = "zyxwvutqponmlk.example", country = "DE" },
            contact = new { name = "Maria Schmidt", email = "maria@zyxwvutqponmlk.example" },
            deal = new { name = "Rollout", products = new[] { "analytics" }, estimatedValue = 50_000m, currency = "EUR" },
            coSell = new { relationshipOwner = "partner", demo = "vendor", contract = "partner" },
        });
        created.StatusCode.ShouldBe(HttpStatusCode.Created, await created.Content.ReadAsStringAsync());
        _registrationA = (await created.Content.ReadFromJsonAsync<JsonObject>())!.Get<string>("id");
    }

    [OneTimeTearDown]
    public void StopHost()
    {
        _admin.Dispose();
        _factory.Dispose();
        _factory.DeleteDatabase();
    }

    [Test]
    public async Task EveryProtectedOperation_WithoutAKeyOrWithARevokedOrForgedOne_Is401()
    {
        var failures = new List<string>();
        var probed = 0;
        foreach (var (method, path, _) in Operations().Where(o => o.Operation["security"] is not null))
        {
            foreach (var key in new[] { null, _revokedKey, "pd_forged_0000000000000000000000000000000000000000", _keyA + "x" })
            {
                using var response = await SendAsync(method, Url(path), key);
                probed++;
                if (response.StatusCode != HttpStatusCode.Unauthorized) failures.Add($"{method} {path} with key {Describe(key)}: {(int)response.StatusCode}");
                else if (response.Content.Headers.ContentType?.MediaType != "application/problem+json") failures.Add($"{method} {path}: 401 without a problem document");
            }
        }

        probed.ShouldBeGreaterThan(100);
        failures.ShouldBeEmpty();
    }

    [Test]
    public async Task AnotherPartnersKey_OnEveryOperationOfAPartnersResources_NeverReachesThem()
    {
        var failures = new List<string>();
        var probed = 0;
        foreach (var (method, path, operation) in Operations().Where(o => o.Path.StartsWith("/v1/partners/{id}", StringComparison.Ordinal)
                     || o.Path.StartsWith("/v1/registrations/{id}", StringComparison.Ordinal)))
        {
            using var response = await SendAsync(method, Url(path), _keyB, ExampleBody(operation));
            probed++;
            var body = await response.Content.ReadAsStringAsync();
            if (response.IsSuccessStatusCode) failures.Add($"{method} {path}: {(int)response.StatusCode} for another partner's key");
            if (body.Contains(_companyA, StringComparison.OrdinalIgnoreCase) || body.Contains("Alpha Resellers", StringComparison.Ordinal))
            {
                failures.Add($"{method} {path}: the answer names partner A's data");
            }
        }

        probed.ShouldBeGreaterThan(15);
        failures.ShouldBeEmpty();
        using var own = _factory.Client(_keyA);
        (await own.GetAsync($"/v1/registrations/{_registrationA}")).StatusCode.ShouldBe(HttpStatusCode.OK, "the owner still reads it");
    }

    // Who may call what, written from the operations' documented descriptions rather than read from the code,
    // so a policy that drifts from its documentation fails here. A partner calls on its own partner and registration.
    private static readonly Dictionary<string, string> AllowedRoles = new()
    {
        ["CreateApiKey"] = "admin",
        ["ListApiKeys"] = "admin ops",
        ["RevokeApiKey"] = "admin ops",
        ["CreatePartnerApiKey"] = "admin ops",
        ["CheckConflict"] = "admin ops crm partner",
        ["ListConflicts"] = "admin ops crm",
        ["GetConflict"] = "admin ops crm",
        ["ResolveConflict"] = "admin ops",
        ["ListDeliveries"] = "admin ops",
        ["GetDelivery"] = "admin ops",
        ["RetryDelivery"] = "admin ops",
        ["RetryDeadDeliveries"] = "admin ops",
        ["GetSyncStatus"] = "admin ops",
        ["UpsertOpportunity"] = "admin ops crm",
        ["GetOpportunity"] = "admin ops crm",
        ["DeleteOpportunity"] = "admin ops crm",
        ["UpsertOpportunityBatch"] = "admin ops crm",
        ["ImportOpportunities"] = "admin ops crm",
        ["ListOpportunities"] = "admin ops crm",
        ["GetPartnerFees"] = "admin ops partner",
        ["MarkFeePaid"] = "admin ops",
        ["GetPartnerMetrics"] = "admin ops partner",
        ["GetPartnerLeaderboard"] = "admin ops",
        ["GetProgramHealth"] = "admin ops",
        ["CreatePartner"] = "admin ops",
        ["ListPartners"] = "admin ops crm",
        ["GetPartner"] = "admin ops crm partner",
        ["UpdatePartner"] = "admin ops",
        ["ListPartnerEvents"] = "admin ops",
        ["ListPartnerConflictChecks"] = "admin ops",
        ["CreateRegistration"] = "admin ops partner",
        ["ListRegistrations"] = "admin ops crm partner",
        ["GetRegistration"] = "admin ops crm partner",
        ["UpdateRegistration"] = "admin ops partner",
        ["ListRegistrationEvents"] = "admin ops crm",
        ["ApproveRegistration"] = "admin ops",
        ["RejectRegistration"] = "admin ops",
        ["RequestRegistrationInfo"] = "admin ops",
        ["WithdrawRegistration"] = "admin ops partner",
        ["RecordRegistrationOutcome"] = "admin ops crm",
        ["RequestProtectionExtension"] = "admin ops partner",
        ["ListProtectionExtensions"] = "admin ops crm partner",
        ["GrantProtectionExtension"] = "admin ops",
        ["RefuseProtectionExtension"] = "admin ops",
        ["AddRegistrationNote"] = "admin ops partner",
        ["ListRegistrationNotes"] = "admin ops crm partner",
        ["CreateWebhook"] = "admin ops partner",
        ["ListWebhooks"] = "admin ops partner",
        ["GetWebhook"] = "admin ops partner",
        ["UpdateWebhook"] = "admin ops partner",
        ["DeleteWebhook"] = "admin ops partner",
        ["RotateWebhookSecret"] = "admin ops partner",
        ["TestWebhook"] = "admin ops partner",
        ["ReplayWebhooks"] = "admin ops partner",
        ["ListWebhookDeliveries"] = "admin ops partner",
        ["GetWebhookDelivery"] = "admin ops partner",
        ["RetryWebhookDelivery"] = "admin ops partner",
        ["ListProductLines"] = "admin ops crm partner",
        ["GetPipelinePull"] = "admin ops",
        ["RunPipelinePull"] = "admin ops",
        ["ResyncPipelinePull"] = "admin ops",
        ["GetMe"] = "admin ops crm partner",
        ["ListPeople"] = "admin ops",
        ["GetPerson"] = "admin ops",
        ["UpdatePerson"] = "admin",
        ["CreatePartnerSignInLink"] = "admin ops",
        ["ListPartnerSignInLinks"] = "admin ops",
        ["DeletePartnerSignInLink"] = "admin ops",
        ["AddReseller"] = "admin ops",
        ["ListResellers"] = "admin ops crm partner",
        ["EndReseller"] = "admin ops",
        ["ListRegistrationMembers"] = "admin ops crm partner",
        ["AddRegistrationMember"] = "admin ops partner",
        ["AcceptRegistrationMembership"] = "admin ops partner",
        ["DeclineRegistrationMembership"] = "admin ops partner",
        ["RemoveRegistrationMember"] = "admin ops partner",
        ["SetRegistrationSplit"] = "admin ops partner",
        ["GetRegistrationSplit"] = "admin ops crm partner",
        ["CreateRegistrationBatch"] = "partner",
        ["GetRegistrationBatchTemplate"] = "admin ops crm partner",
        ["GetRegistrationBatch"] = "admin ops crm partner",
        ["ListRegistrationBatchRows"] = "admin ops crm partner",
        ["CommitRegistrationBatch"] = "partner",
        ["CancelRegistrationBatch"] = "admin ops partner",
    };

    [Test]
    public async Task EachRole_OnEveryOperation_IsAdmittedOrRefusedAsDocumented()
    {
        var keys = new Dictionary<string, string>
        {
            ["admin"] = ApiFactory.AdminKey,
            ["ops"] = await VendorKeyAsync("ops"),
            ["crm"] = await VendorKeyAsync("crm"),
            ["partner"] = _keyA,
        };
        var operations = Operations().Where(o => o.Operation["security"] is not null).ToList();
        operations.Select(o => o.Operation.Get<string>("operationId")).Order()
            .ShouldBe(AllowedRoles.Keys.Order(), "every protected operation has a row in the matrix, and every row an operation");

        var failures = new List<string>();
        var probed = 0;
        foreach (var (method, path, operation) in operations)
        {
            var allowed = AllowedRoles[operation.Get<string>("operationId")].Split(' ');
            foreach (var (role, key) in keys)
            {
                // The documented media type, so the answer is about the role and not the body (routing refuses a wrong one first).
                var mediaType = operation["requestBody"]?["content"]?.AsObject().First().Key ?? "application/json";
                using var response = await SendAsync(method, Url(path), key, ExampleBody(operation), mediaType);
                probed++;
                var status = response.StatusCode;
                if (allowed.Contains(role) && status is HttpStatusCode.Unauthorized or HttpStatusCode.Forbidden)
                {
                    failures.Add($"{role} on {method} {path}: {(int)status}, but the role may call it");
                }
                else if (!allowed.Contains(role) && status != HttpStatusCode.Forbidden)
                {
                    failures.Add($"{role} on {method} {path}: {(int)status}, expected 403");
                }
                else if (status == HttpStatusCode.Forbidden && response.Content.Headers.ContentType?.MediaType != "application/problem+json")
                {
                    failures.Add($"{role} on {method} {path}: 403 without a problem document");
                }
            }
        }

        probed.ShouldBe(operations.Count * 4);
        failures.ShouldBeEmpty();
    }

    [Test]
    public async Task Keys_NeverAppearInALogLineOrAnAnswer()
    {
        using var partnerB = _factory.Client(_keyB);
        var answers = new StringBuilder();
        foreach (var url in new[] { "/v1/api-keys", $"/v1/partners/{_partnerA}", "/v1/registrations", "/v1/partners/metrics" })
        {
            answers.Append(await (await _admin.GetAsync(url)).Content.ReadAsStringAsync());
            answers.Append(await (await partnerB.GetAsync(url)).Content.ReadAsStringAsync());
        }
        using var failing = _factory.Client(_keyB);
        answers.Append(await (await failing.GetAsync(FailingPath)).Content.ReadAsStringAsync());

        var logged = string.Join("\n", _logs.Lines);
        _logs.Lines.ShouldNotBeEmpty();
        foreach (var key in new[] { ApiFactory.AdminKey, _keyA, _keyB, _revokedKey })
        {
            logged.ShouldNotContain(key);
            answers.ToString().ShouldNotContain(key);
        }
        answers.ToString().ShouldNotContain("hunter2", Case.Sensitive, "an unexpected error's message stays in the log");
        answers.ToString().ShouldNotContain("   at ", Case.Sensitive, "no stack trace in an answer");
    }

    private const string FailingPath = "/test/unhandled";

    private IEnumerable<(string Method, string Path, JsonNode Operation)> Operations() =>
        _document["paths"]!.AsObject().SelectMany(p => p.Value!.AsObject().Select(o => (o.Key.ToUpperInvariant(), p.Key, o.Value!)));

    private string Url(string template) => OperationUrls.For(template, _partnerA, _registrationA);

    // Enough of a body that a handler would act on it: the owner's request, sent by someone else.
    private static string? ExampleBody(JsonNode operation) =>
        operation["requestBody"] is null ? null : operation["operationId"]?.GetValue<string>() switch
        {
            "RecordRegistrationOutcome" => """{"result":"won","amount":1000,"currency":"EUR"}""",
            "UpdateRegistration" => """{"deal":{"estimatedValue":1}}""",
            "RequestProtectionExtension" => """{"reason":"more time"}""",
            "AddRegistrationNote" => """{"body":"hello"}""",
            _ => "{}",
        };

    private async Task<HttpResponseMessage> SendAsync(string method, string url, string? key, string? json = null, string mediaType = "application/json")
    {
        using var client = _factory.Client(null);
        var request = new HttpRequestMessage(new HttpMethod(method), url);
        if (key is not null) request.Headers.TryAddWithoutValidation("X-Api-Key", key);
        request.Headers.TryAddWithoutValidation("If-Match", "*");
        if (json is not null) request.Content = new StringContent(json, Encoding.UTF8, mediaType);
        return await client.SendAsync(request);
    }

    private async Task<(string Id, string Key)> PartnerWithKeyAsync(string name)
    {
        var partner = await _admin.PostAsJsonAsync("/v1/partners", new { name, type = "reseller", tier = "silver", contactEmail = "a@partner.example" });
        partner.StatusCode.ShouldBe(HttpStatusCode.Created, await partner.Content.ReadAsStringAsync());
        var id = (await partner.Content.ReadFromJsonAsync<JsonObject>())!.Get<string>("id");
        var key = await _admin.PostAsJsonAsync($"/v1/partners/{id}/api-keys", new { name = "portal" });
        key.StatusCode.ShouldBe(HttpStatusCode.Created, await key.Content.ReadAsStringAsync());
        return (id, (await key.Content.ReadFromJsonAsync<JsonObject>())!.Get<string>("key"));
    }

    private async Task<string> VendorKeyAsync(string role)
    {
        var key = await _admin.PostAsJsonAsync("/v1/api-keys", new { name = $"{role} matrix", role });
        key.StatusCode.ShouldBe(HttpStatusCode.Created, await key.Content.ReadAsStringAsync());
        return (await key.Content.ReadFromJsonAsync<JsonObject>())!.Get<string>("key");
    }

    private string Describe(string? key) => key is null ? "none" : key == _revokedKey ? "revoked" : "forged";
}
