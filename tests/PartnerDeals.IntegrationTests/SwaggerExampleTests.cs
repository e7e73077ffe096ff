using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using PartnerDeals.Api.Features.Webhooks;
using PartnerDeals.Api.Infrastructure.Auth;
using PartnerDeals.IntegrationTests.Support;
using static PartnerDeals.IntegrationTests.Support.RegistrationCalls;

namespace PartnerDeals.IntegrationTests;

/// <summary>
/// Every operation of the document, sent as Swagger UI offers it: the request body's example as it stands, the query
/// parameters it fills in (required ones and those with an example), the path's ids of things that exist in the state
/// the operation needs, and a key of a role the endpoint admits. None may answer 400 or 500, an operation with a body
/// must succeed, and every answer must be one the document promises, body and all.
/// </summary>
public sealed partial class SwaggerExampleTests : HostTest
{
    private static readonly IPAddress ExampleDotCom = IPAddress.Parse("93.184.215.14");

    // A CRM that is configured but never reached: its deliveries wait, so they can be read and retried.
    protected override IDictionary<string, string?> Settings => new Dictionary<string, string?>
    {
        ["Crm:HubSpot:BaseUrl"] = "http://127.0.0.1:9",
        ["Crm:HubSpot:AccessToken"] = "pat-na1-examples",
        ["Crm:Delivery:PollInterval"] = "01:00:00",
        // An issuer the sign-in links' example names; never asked anything, as no token is sent.
        ["Auth:Oidc:Issuers:entra:Authority"] = "https://login.microsoftonline.com/9188040d-6c67-4c5b-b112-36a304b66dad/v2.0",
        ["Auth:Oidc:Issuers:entra:Audience"] = "api://partnerdeals",
        ["Auth:Oidc:Issuers:entra:RoleMap:Deals.Ops"] = "ops",
    };

    // The examples name example.com, which resolves to a public address; the build machine may have no DNS.
    protected override void ConfigureServices(IServiceCollection services) =>
        services.AddSingleton<HostResolver>(_ => (host, ct) =>
            host == "example.com" ? Task.FromResult(new[] { ExampleDotCom }) : Dns.GetHostAddressesAsync(host, ct));

    private readonly Dictionary<string, HttpClient> _keys = [];
    private string _partner = "";

    [Test]
    public async Task EveryOperation_SentAsSwaggerUiOffersIt_AnswersWithoutA400AndAsTheDocumentSays()
    {
        var document = JsonNode.Parse(await File.ReadAllTextAsync(Path.Combine(RepositoryRoot(), "api-spec", "openapi.json")))!.AsObject();
        var partner = await CreatePartnerAsync(tier: "registered"); // whose registrations wait for review
        _partner = partner.Get<string>("id");
        _keys[Policies.Admin] = Admin;
        _keys[Policies.Ops] = Factory.Client((await IssueKeyAsync("ops")).Key);
        _keys[Policies.Vendor] = Factory.Client((await IssueKeyAsync("crm")).Key);
        _keys[Policies.Registrant] = _keys[Policies.AnyKey] = Factory.Client(await IssuePartnerKeyAsync(_partner));

        var failures = new List<string>();
        var sent = 0;
        foreach (var (template, item) in document["paths"]!.AsObject())
        {
            foreach (var (method, operation) in item!.AsObject())
            {
                var name = $"{method.ToUpperInvariant()} {template}";
                var client = _keys[Policy(method, template)];
                var route = await PrepareAsync(name);
                var request = await RequestAsync(client, method, template, operation!.AsObject(), route);
                using var response = await client.SendAsync(request);
                sent++;
                var body = await response.Content.ReadAsStringAsync();
                var status = (int)response.StatusCode;
                if (status == 400 || status >= 500) failures.Add($"{name}: {status} {body}");
                else if (operation["requestBody"] is not null && status >= 300) failures.Add($"{name}: its example answered {status} {body}");
                failures.AddRange(ResponseContract.Committed.Violations(method, request.RequestUri!.AbsolutePath, status,
                    response.Content.Headers.ContentType?.MediaType, body));
            }
        }
        sent.ShouldBeGreaterThan(50);
        failures.ShouldBeEmpty(string.Join("\n", failures));
    }

    [Test]
    public async Task AnAnswerOffTheDocument_IsReportedWithWhereItDiffers()
    {
        var partner = await CreatePartnerAsync();
        var path = $"/v1/partners/{partner.Get<string>("id")}";
        ResponseContract.Committed.Violations("GET", path, 200, "application/json", partner.ToJsonString()).ShouldBeEmpty();

        var broken = partner.DeepClone().AsObject();
        broken["status"] = "dormant";
        broken.Remove("createdAt");
        broken["surprise"] = 1;
        var violations = string.Join("\n", ResponseContract.Committed.Violations("GET", path, 200, "application/json", broken.ToJsonString()));
        violations.ShouldContain("/status");
        violations.ShouldContain("createdAt");
        violations.ShouldContain("surprise");
        ResponseContract.Committed.Violations("GET", path, 418, "application/json", "{}").ShouldHaveSingleItem().ShouldContain("does not document");
    }

    /// <summary>The request Swagger UI sends: the example body, the parameters it fills in, and the ETag a PATCH needs.</summary>
    private static async Task<HttpRequestMessage> RequestAsync(HttpClient client, string method, string template, JsonObject operation,
        Dictionary<string, string> route)
    {
        var path = RouteParameter().Replace(template, m => route.TryGetValue(m.Groups[1].Value, out var value)
            ? value : throw new AssertionException($"{method} {template}: no value for {{{m.Groups[1].Value}}}"));
        var query = (operation["parameters"]?.AsArray() ?? []).Select(p => p!.AsObject())
            .Where(p => p.Get<string>("in") == "query" && (p["required"]?.GetValue<bool>() == true || p["example"] is not null))
            .Select(p => $"{p.Get<string>("name")}={Uri.EscapeDataString(p["example"]?.ToString() ?? throw new AssertionException($"{template}: {p["name"]} is required and has no example"))}");
        var uri = path + (query.Any() ? "?" + string.Join('&', query) : "");
        var request = new HttpRequestMessage(new HttpMethod(method.ToUpperInvariant()), uri);
        if (operation["requestBody"]?["content"]?.AsObject().First() is var (mediaType, content))
        {
            var example = content!["example"] ?? throw new AssertionException($"{method} {template}: the body has no example, so Swagger UI makes one of placeholders");
            if (example is JsonObject fields && route.Any(r => r.Key.StartsWith(BodyField, StringComparison.Ordinal)))
            {
                example = fields.DeepClone();
                foreach (var (key, value) in route.Where(r => r.Key.StartsWith(BodyField, StringComparison.Ordinal)))
                {
                    example[key[BodyField.Length..]] = value.StartsWith('[') ? JsonNode.Parse(value) : value;
                }
            }
            request.Content = new StringContent(example is JsonValue text && text.TryGetValue<string>(out var raw) ? raw : example.ToJsonString(),
                Encoding.UTF8, mediaType);
        }
        if (operation["parameters"]?.AsArray().Any(p => p!.Get<string>("name") == "If-Match") == true)
        {
            using var current = await client.GetAsync(path);
            request.Headers.IfMatch.Add(current.Headers.ETag ?? throw new AssertionException($"GET {path} sent no ETag"));
        }
        return request;
    }

    /// <summary>The key for the endpoint's policy: the least a caller needs (a partner's key where a partner may call).</summary>
    private string Policy(string method, string template)
    {
        var endpoint = Factory.Services.GetRequiredService<EndpointDataSource>().Endpoints.OfType<RouteEndpoint>().Single(e =>
            RouteConstraint().Replace(e.RoutePattern.RawText!, "{$1}").TrimEnd('/') == template
            && e.Metadata.GetMetadata<HttpMethodMetadata>()!.HttpMethods.Contains(method.ToUpperInvariant()));
        return endpoint.Metadata.GetOrderedMetadata<IAuthorizeData>().Select(a => a.Policy).Last()!;
    }

    /// <summary>The path's values for an operation, in the state the operation acts on.</summary>
    private async Task<Dictionary<string, string>> PrepareAsync(string operation)
    {
        var partner = new Dictionary<string, string> { ["id"] = _partner };
        return operation switch
        {
            // Its example makes the partner gold, whose registrations no longer wait: another partner's, then.
            "PATCH /v1/partners/{id}" => new() { ["id"] = (await CreatePartnerAsync(tier: "registered")).Get<string>("id") },
            "DELETE /v1/api-keys/{id}" => new() { ["id"] = (await PostAsync(Admin, $"/v1/partners/{_partner}/api-keys", new { name = "spare" })).Get<string>("id") },
            _ when operation.Contains("/v1/opportunities/{source}", StringComparison.Ordinal) => await OpportunityAsync(),
            "GET /v1/conflicts/{id}" or "POST /v1/conflicts/{id}/resolve" => new() { ["id"] = await ConflictAsync() },
            "POST /v1/registrations/{id}/outcome" or "POST /v1/registrations/{id}/extensions" => new() { ["id"] = await ApprovedAsync() },
            _ when operation.Contains("/extensions/{extensionId}", StringComparison.Ordinal) => await ExtensionAsync(),
            "POST /v1/registration-batches/{id}/commit" => new() { ["id"] = await BatchAsync(validated: true) },
            _ when operation.Contains("/v1/registration-batches/{id}", StringComparison.Ordinal) => new() { ["id"] = await BatchAsync(validated: false) },
            // The examples name partners by made-up ids: what a user pastes in is a real one.
            "POST /v1/partners/{id}/resellers" => new() { ["id"] = await DistributorAsync(), [BodyField + "resellerId"] = await SparePartnerAsync() },
            "GET /v1/partners/{id}/resellers" => partner,
            "DELETE /v1/partners/{id}/resellers/{resellerId}" => await ResellerAsync(),
            "POST /v1/registrations/{id}/members" => new() { ["id"] = await PendingAsync(), [BodyField + "partnerId"] = await SparePartnerAsync() },
            "PUT /v1/registrations/{id}/splits" => await PendingAsync() is var pending
                ? new() { ["id"] = pending, [BodyField + "shares"] = $$"""[{"memberId":"{{pending}}","share":"100"}]""" }
                : [],
            _ when operation.Contains("/members/{memberId}/", StringComparison.Ordinal) => await MemberAsync(operation),
            _ when operation.Contains("/v1/registrations/{id}", StringComparison.Ordinal) => new() { ["id"] = await PendingAsync() },
            "POST /v1/fees/{id}/paid" => new() { ["id"] = await FeeAsync() },
            _ when operation.Contains("/v1/sync/deliveries/{id}", StringComparison.Ordinal) => new() { ["id"] = await CrmDeliveryAsync() },
            _ when operation.Contains("/v1/sync/pipeline/{crm}", StringComparison.Ordinal) => new() { ["crm"] = "hubspot" },
            _ when operation.Contains("{deliveryId}", StringComparison.Ordinal) => await WebhookDeliveryAsync(),
            _ when operation.Contains("{webhookId}", StringComparison.Ordinal) => new(partner) { ["webhookId"] = await WebhookAsync() },
            _ when operation.Contains("/v1/people/{id}", StringComparison.Ordinal) => new() { ["id"] = await PersonAsync() },
            _ when operation.Contains("{linkId}", StringComparison.Ordinal) => new(partner)
            {
                ["linkId"] = (await PostAsync(Admin, $"/v1/partners/{_partner}/sign-in-links", new { issuer = "entra", claimValue = $"portal-{Guid.NewGuid():N}" }))
                    .Get<string>("id"),
            },
            _ => partner,
        };
    }

    /// <summary>A batch of this fixture's partner, uploaded from the template; validated when asked.</summary>
    private async Task<string> BatchAsync(bool validated)
    {
        var template = await (await Admin.GetAsync("/v1/registration-batches/template.csv")).Content.ReadAsStringAsync();
        var upload = await _keys[Policies.Registrant].PostAsync("/v1/registration-batches?mode=validate",
            new StringContent(template.Replace("CRM-2026-0001", $"CRM-{Guid.NewGuid():N}"), Encoding.UTF8, "text/csv"));
        upload.StatusCode.ShouldBe(HttpStatusCode.Accepted, await upload.Content.ReadAsStringAsync());
        var id = (await ReadJsonAsync(upload)).Get<string>("id");
        if (validated)
        {
            await Eventually.UntilAsync(async () => (await ReadJsonAsync(await Admin.GetAsync($"/v1/registration-batches/{id}"))).Get<string>("state") == "validated",
                "the batch to be validated");
        }
        return id;
    }

    /// <summary>A route value under this prefix replaces the body example's field of that name.</summary>
    private const string BodyField = "body:";

    private async Task<string> DistributorAsync() => (await CreatePartnerAsync(type: "distributor")).Get<string>("id");

    private async Task<string> SparePartnerAsync() => (await CreatePartnerAsync()).Get<string>("id");

    private async Task<Dictionary<string, string>> ResellerAsync()
    {
        var (distributor, reseller) = (await DistributorAsync(), await SparePartnerAsync());
        await PostAsync(Admin, $"/v1/partners/{distributor}/resellers", new { resellerId = reseller });
        return new() { ["id"] = distributor, ["resellerId"] = reseller };
    }

    /// <summary>An invitation of this fixture's partner onto another partner's deal: its own to answer, the primary's to remove.</summary>
    private async Task<Dictionary<string, string>> MemberAsync(string operation)
    {
        var (company, domain) = NewCompany();
        var other = await Factory.PartnerAsync();
        var registration = (await PostAsync(other.Client, "/v1/registrations", new
        {
            customer = new { companyName = company, domain, country = "DE" },
            contact = new { name = "Maria Schmidt", email = $"maria@{domain}" },
            deal = new { name = "Rollout", estimatedValue = 50_000, currency = "EUR" },
        })).Get<string>("id");
        var member = await PostAsync(Admin, $"/v1/registrations/{registration}/members", new { partnerId = _partner, role = "implementation" });
        // Removing is the primary's (or ops'): the registrant's policy is answered with this fixture's partner key, so remove its own deal's member.
        if (operation.EndsWith("/remove", StringComparison.Ordinal))
        {
            var own = await PendingAsync();
            var spare = await SparePartnerAsync();
            member = await PostAsync(Admin, $"/v1/registrations/{own}/members", new { partnerId = spare, role = "implementation" });
            return new() { ["id"] = own, ["memberId"] = member.Get<string>("id") };
        }
        return new() { ["id"] = registration, ["memberId"] = member.Get<string>("id") };
    }

    /// <summary>A person as their first token would have made them: there is no issuer to sign in with here.</summary>
    private async Task<string> PersonAsync()
    {
        var id = Guid.NewGuid().ToString();
        await using var database = new Microsoft.Data.Sqlite.SqliteConnection(Factory.ConnectionString);
        await database.OpenAsync();
        await using var insert = database.CreateCommand();
        insert.CommandText = """
            INSERT INTO people (id, issuer, subject, email, display_name, roles, partner_id, created_at, last_seen_at, disabled_at, version)
            VALUES ($id, 'entra', $id, 'jane.doe@vendor.example', 'Jane Doe', 'ops', NULL, $now, $now, NULL, 1)
            """;
        insert.Parameters.AddWithValue("$id", id);
        insert.Parameters.AddWithValue("$now", DateTimeOffset.UtcNow.ToString("O"));
        await insert.ExecuteNonQueryAsync();
        return id;
    }

    private async Task<Dictionary<string, string>> OpportunityAsync()
    {
        await PutAsync("/v1/opportunities/salesforce/0065g00000AbCdEAAV", new
        {
            accountName = "Contoso Pharmaceuticals GmbH", accountDomain = "contoso-pharma.de", country = "DE", status = "open",
        });
        return new() { ["source"] = "salesforce", ["externalId"] = "0065g00000AbCdEAAV" };
    }

    /// <summary>A registration of the vendor's own account: pending review, with an open conflict.</summary>
    private async Task<string> ConflictAsync()
    {
        var (company, domain) = NewCompany();
        await PutAsync($"/v1/opportunities/salesforce/{Guid.NewGuid():N}", new { accountName = company, accountDomain = domain, country = "DE", status = "open" });
        var registration = await RegisterAsync(company, domain);
        return (await ReadJsonAsync(await Admin.GetAsync($"/v1/registrations/{registration.Get<string>("id")}"))).Get<string>("conflictId");
    }

    /// <summary>A registration of a company nobody claims, waiting for review as the partner's tier says.</summary>
    private async Task<string> PendingAsync()
    {
        var (company, domain) = NewCompany();
        var registration = await RegisterAsync(company, domain);
        registration.Get<string>("status").ShouldBe("pending_review");
        return registration.Get<string>("id");
    }

    private async Task<string> ApprovedAsync()
    {
        var id = await PendingAsync();
        await PostAsync(Admin, $"/v1/registrations/{id}/approve", new { }, HttpStatusCode.OK);
        return id;
    }

    private async Task<Dictionary<string, string>> ExtensionAsync()
    {
        var id = await ApprovedAsync();
        var extension = await PostAsync(_keys[Policies.Registrant], $"/v1/registrations/{id}/extensions", new { reason = "Signature moved." });
        return new() { ["id"] = id, ["extensionId"] = extension.Get<string>("id") };
    }

    private async Task<string> FeeAsync()
    {
        var id = await ApprovedAsync();
        await PostAsync(Admin, $"/v1/registrations/{id}/outcome", new { result = "won", amount = 50_000, currency = "EUR" }, HttpStatusCode.OK);
        var fees = await ReadJsonAsync(await Admin.GetAsync($"/v1/partners/{_partner}/fees"));
        return fees["items"]!.AsArray().Single(f => f!.Get<string>("registrationId") == id)!.Get<string>("id");
    }

    private async Task<string> CrmDeliveryAsync()
    {
        var id = await ApprovedAsync();
        var deliveries = await ReadJsonAsync(await Admin.GetAsync($"/v1/sync/deliveries?registrationId={id}"));
        return deliveries["items"]![0]!.Get<string>("id");
    }

    private async Task<string> WebhookAsync() =>
        (await PostAsync(_keys[Policies.Registrant], $"/v1/partners/{_partner}/webhooks", new { url = "https://example.com/hooks", events = new[] { "*" } }))
            ["webhook"]!.Get<string>("id");

    private async Task<Dictionary<string, string>> WebhookDeliveryAsync()
    {
        var webhook = await WebhookAsync();
        await PostAsync(Admin, $"/v1/partners/{_partner}/webhooks/{webhook}/test", null, HttpStatusCode.Accepted);
        var deliveries = await ReadJsonAsync(await Admin.GetAsync($"/v1/partners/{_partner}/webhooks/{webhook}/deliveries"));
        return new() { ["id"] = _partner, ["webhookId"] = webhook, ["deliveryId"] = deliveries["items"]![0]!.Get<string>("id") };
    }

    private Task<JsonNode> RegisterAsync(string company, string domain) => PostAsync(_keys[Policies.Registrant], "/v1/registrations", new
    {
        customer = new { companyName = company, domain, country = "DE" },
        contact = new { name = "Maria Schmidt", email = $"maria@{domain}" },
        deal = new { name = "Rollout", estimatedValue = 50_000, currency = "EUR" },
    });

    private async Task PutAsync(string path, object body)
    {
        using var response = await Admin.PutAsJsonAsync(path, body);
        response.IsSuccessStatusCode.ShouldBeTrue(await response.Content.ReadAsStringAsync());
    }

    private static async Task<JsonNode> PostAsync(HttpClient client, string path, object? body, HttpStatusCode expected = HttpStatusCode.Created)
    {
        using var response = await client.PostAsync(path, body is null ? null : JsonContent.Create(body));
        var text = await response.Content.ReadAsStringAsync();
        response.StatusCode.ShouldBe(expected, text);
        return JsonNode.Parse(text.Length == 0 ? "{}" : text)!;
    }

    private static string RepositoryRoot() => OpenApiDocumentTests.RepositoryRoot();

    [GeneratedRegex(@"\{([^}/]+)\}")]
    private static partial Regex RouteParameter();

    [GeneratedRegex(@"\{(\w+)(?::[^}]*)?\}")]
    private static partial Regex RouteConstraint();
}
