using System.Net;
using System.Net.Http.Json;
using PartnerDeals.IntegrationTests.Support;

namespace PartnerDeals.IntegrationTests;

public sealed class AuthTests : HostTest
{
    [Test]
    public async Task NoKey_AnswersUnauthenticatedProblemWithChallenge()
    {
        using var anonymous = Factory.Client(null);
        var response = await anonymous.GetAsync("/v1/partners");
        await ReadProblemAsync(response, HttpStatusCode.Unauthorized, "unauthenticated");
        response.Headers.WwwAuthenticate.ToString().ShouldContain("X-Api-Key");
    }

    [TestCase("pd_00000000_0000000000000000000000000000000000000000000000000000000000000000")]
    [TestCase("short")]
    [TestCase("pd_testboot_0123456789abcdef0123456789abcdef0123456789abcdeX")]
    public async Task BadKey_AnswersUnauthenticated(string key)
    {
        using var client = Factory.Client(key);
        await ReadProblemAsync(await client.GetAsync("/v1/partners"), HttpStatusCode.Unauthorized, "unauthenticated");
    }

    [Test]
    public async Task HugeKey_AnswersUnauthenticated()
    {
        using var client = Factory.Client("pd_" + new string('a', 5000));
        await ReadProblemAsync(await client.GetAsync("/v1/partners"), HttpStatusCode.Unauthorized, "unauthenticated");
    }

    [Test]
    public async Task BootstrapAdminKey_IsInstalledAtStartUp()
    {
        var response = await Admin.GetAsync("/v1/api-keys?role=admin");
        response.StatusCode.ShouldBe(HttpStatusCode.OK);
        var keys = (await ReadJsonAsync(response))["items"]!.AsArray();
        var prefix = ApiFactory.AdminKey.Substring(0, 11);
        keys.Select(k => k!.Get<string>("prefix")).ShouldContain(prefix);
    }

    [Test]
    public async Task IssuedKey_IsShownOnceAndListedWithoutSecret()
    {
        var (id, key) = await IssueKeyAsync("crm");
        key.ShouldStartWith("pd_");
        key.Length.ShouldBeGreaterThanOrEqualTo(3 + 8 + 1 + 32); // at least 128 bits of secret in hex

        var list = await Admin.GetStringAsync("/v1/api-keys?role=crm&limit=200");
        list.ShouldContain(id);
        list.ShouldNotContain(key);
        list.ShouldNotContain(key[12..]);
    }

    [Test]
    public async Task RevokedKey_StopsWorkingAtOnce()
    {
        var (id, key) = await IssueKeyAsync("ops");
        using var client = Factory.Client(key);
        (await client.GetAsync("/v1/partners")).StatusCode.ShouldBe(HttpStatusCode.OK);

        (await Admin.DeleteAsync($"/v1/api-keys/{id}")).StatusCode.ShouldBe(HttpStatusCode.NoContent);

        await ReadProblemAsync(await client.GetAsync("/v1/partners"), HttpStatusCode.Unauthorized, "unauthenticated");
        (await Admin.DeleteAsync($"/v1/api-keys/{id}")).StatusCode.ShouldBe(HttpStatusCode.NoContent);
    }

    [Test]
    public async Task RevokingUnknownKey_AnswersNotFound()
    {
        await ReadProblemAsync(await Admin.DeleteAsync($"/v1/api-keys/{Guid.NewGuid()}"), HttpStatusCode.NotFound, "not-found");
    }

    [Test]
    public async Task OpsKey_CannotIssueVendorKeysNorRevokeThem()
    {
        var (_, opsKey) = await IssueKeyAsync("ops");
        var (crmId, _) = await IssueKeyAsync("crm");
        using var ops = Factory.Client(opsKey);

        await ReadProblemAsync(await ops.PostAsJsonAsync("/v1/api-keys", new { name = "x", role = "crm" }), HttpStatusCode.Forbidden, "forbidden");
        await ReadProblemAsync(await ops.DeleteAsync($"/v1/api-keys/{crmId}"), HttpStatusCode.Forbidden, "forbidden");
    }

    [Test]
    public async Task OpsKey_CanIssueAndRevokePartnerKeys()
    {
        var (_, opsKey) = await IssueKeyAsync("ops");
        using var ops = Factory.Client(opsKey);
        var partner = await CreatePartnerAsync();
        var response = await ops.PostAsJsonAsync($"/v1/partners/{partner["id"]}/api-keys", new { name = "portal" });
        response.StatusCode.ShouldBe(HttpStatusCode.Created);
        var keyId = (await ReadJsonAsync(response)).Get<string>("id");
        (await ops.DeleteAsync($"/v1/api-keys/{keyId}")).StatusCode.ShouldBe(HttpStatusCode.NoContent);
    }

    [TestCase("admin")]
    [TestCase("partner")]
    public async Task CreateApiKey_OnlyOpsOrCrmRoles(string role)
    {
        var response = await Admin.PostAsJsonAsync("/v1/api-keys", new { name = "x", role });
        var problem = await ReadProblemAsync(response, HttpStatusCode.BadRequest, "validation");
        ErrorFields(problem).ShouldBe(["role"]);
    }

    [Test]
    public async Task CrmKey_CannotManagePartners()
    {
        var (_, crmKey) = await IssueKeyAsync("crm");
        using var crm = Factory.Client(crmKey);
        (await crm.GetAsync("/v1/partners")).StatusCode.ShouldBe(HttpStatusCode.OK);
        await ReadProblemAsync(
            await crm.PostAsJsonAsync("/v1/partners", new { name = "Crm Made", type = "reseller", tier = "silver", contactEmail = "a@b.example" }),
            HttpStatusCode.Forbidden, "forbidden");
        await ReadProblemAsync(await crm.GetAsync("/v1/api-keys"), HttpStatusCode.Forbidden, "forbidden");
    }

    [Test]
    public async Task PartnerKey_ReadsOnlyItsOwnPartner()
    {
        var mine = await CreatePartnerAsync();
        var theirs = await CreatePartnerAsync();
        using var partner = Factory.Client(await IssuePartnerKeyAsync(mine.Get<string>("id")));

        (await partner.GetAsync($"/v1/partners/{mine["id"]}")).StatusCode.ShouldBe(HttpStatusCode.OK);
        // Another partner's record does not exist as far as this key can tell.
        await ReadProblemAsync(await partner.GetAsync($"/v1/partners/{theirs["id"]}"), HttpStatusCode.NotFound, "not-found");
        await ReadProblemAsync(await partner.GetAsync("/v1/partners"), HttpStatusCode.Forbidden, "forbidden");
        await ReadProblemAsync(await partner.GetAsync($"/v1/partners/{mine["id"]}/events"), HttpStatusCode.Forbidden, "forbidden");
        await ReadProblemAsync(
            await partner.PatchAsync($"/v1/partners/{mine["id"]}", JsonBody("""{"tier":"gold"}""")), HttpStatusCode.Forbidden, "forbidden");
        await ReadProblemAsync(
            await partner.PostAsJsonAsync($"/v1/partners/{mine["id"]}/api-keys", new { name = "more" }), HttpStatusCode.Forbidden, "forbidden");
        await ReadProblemAsync(await partner.GetAsync("/v1/api-keys"), HttpStatusCode.Forbidden, "forbidden");
    }

    [Test]
    public async Task PartnerKeyForUnknownPartner_AnswersNotFound()
    {
        var response = await Admin.PostAsJsonAsync($"/v1/partners/{Guid.NewGuid()}/api-keys", new { name = "portal" });
        await ReadProblemAsync(response, HttpStatusCode.NotFound, "not-found");
    }
}

public sealed class RateLimitTests : HostTest
{
    protected override IDictionary<string, string?> Settings => new Dictionary<string, string?>
    {
        ["RateLimiting:Enabled"] = "true",
        ["RateLimiting:PermitsPerSecond"] = "1",
        ["RateLimiting:Burst"] = "3",
    };

    [Test]
    public async Task KeyAboveItsLimit_AnswersTooManyRequestsWithRetryAfter()
    {
        var statuses = new List<HttpStatusCode>();
        HttpResponseMessage? limited = null;
        for (var i = 0; i < 10 && limited is null; i++)
        {
            var response = await Admin.GetAsync("/v1/partners");
            statuses.Add(response.StatusCode);
            if (response.StatusCode == HttpStatusCode.TooManyRequests) limited = response;
        }

        limited.ShouldNotBeNull($"never limited: {string.Join(",", statuses)}");
        await ReadProblemAsync(limited, HttpStatusCode.TooManyRequests, "rate-limited");
        limited.Headers.RetryAfter.ShouldNotBeNull();
        limited.Headers.RetryAfter!.Delta!.Value.TotalSeconds.ShouldBeGreaterThanOrEqualTo(1);
    }

    [Test]
    public async Task HealthEndpoints_AreNotLimited()
    {
        using var anonymous = Factory.Client(null);
        for (var i = 0; i < 10; i++)
        {
            (await anonymous.GetAsync("/health/live")).StatusCode.ShouldBe(HttpStatusCode.OK);
        }
    }
}
