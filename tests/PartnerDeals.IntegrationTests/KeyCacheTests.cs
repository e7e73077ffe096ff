using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using PartnerDeals.Api.Features.ApiKeys;
using PartnerDeals.IntegrationTests.Support;

namespace PartnerDeals.IntegrationTests;

/// <summary>Keys are cached for a second: a revocation holds at once where it was made, and within that second on every other instance.</summary>
public sealed class KeyCacheTests
{
    [Test]
    public async Task RevokedKey_IsRefusedAtOnceByTheRevokingInstance_AndByAnotherOnceItsCacheWindowHasPassed()
    {
        using var first = new ApiFactory();
        using var second = new ApiFactory(databasePath: first.DatabasePath);
        using var admin = first.Client(ApiFactory.AdminKey);
        var issued = JsonNode.Parse(await (await admin.PostAsJsonAsync("/v1/api-keys", new { name = "ops key", role = "ops" })).Content.ReadAsStringAsync())!;
        using var onFirst = first.Client(issued.Get<string>("key"));
        using var onSecond = second.Client(issued.Get<string>("key"));
        (await onFirst.GetAsync("/v1/partners")).StatusCode.ShouldBe(HttpStatusCode.OK);
        (await onSecond.GetAsync("/v1/partners")).StatusCode.ShouldBe(HttpStatusCode.OK, "now cached on the second instance too");

        (await admin.DeleteAsync($"/v1/api-keys/{issued["id"]}")).IsSuccessStatusCode.ShouldBeTrue();
        var revoked = Stopwatch.StartNew();

        (await onFirst.GetAsync("/v1/partners")).StatusCode.ShouldBe(HttpStatusCode.Unauthorized);
        // Judged by when each request was sent, not how long it took: a busy machine answers late, never wrongly.
        await Eventually.UntilAsync(
            async () =>
            {
                var sentAfter = revoked.Elapsed;
                var status = (await onSecond.GetAsync("/v1/partners")).StatusCode;
                if (status == HttpStatusCode.Unauthorized) return true;
                status.ShouldBe(HttpStatusCode.OK);
                sentAfter.ShouldBeLessThan(ApiKeyStore.CacheFor, "a request sent after the cache window was still let in");
                return false;
            },
            "the second instance to refuse the revoked key");
        first.DeleteDatabase();
    }
}
