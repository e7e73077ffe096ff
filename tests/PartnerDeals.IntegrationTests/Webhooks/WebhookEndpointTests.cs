using System.Net;
using System.Net.Http.Json;
using Dapper;
using Microsoft.Data.Sqlite;
using PartnerDeals.IntegrationTests.Support;

namespace PartnerDeals.IntegrationTests.Webhooks;

/// <summary>A partner's webhook endpoints: secrets shown once and rotated, bad bodies refused, versioned updates, the limit per partner. See <see cref="WebhookTest"/>.</summary>
public sealed class WebhookEndpointTests : WebhookTest
{
    [Test]
    public async Task RotateSecret_SignsWithBothSecretsForItsWindow_ThenOnlyTheNew()
    {
        var partner = await PartnerAsync("silver");
        var path = NewPath();
        var (id, first) = await SubscribeAsync(partner, path, "registration.created");
        var rotated = await ReadJsonAsync(await partner.Client.PostAsync($"/v1/partners/{partner.Id}/webhooks/{id}/rotate-secret", null));
        var second = rotated.Get<string>("secret");
        second.ShouldNotBe(first);
        rotated["webhook"]!["previousSecretValidUntil"].ShouldNotBeNull();

        (await partner.Client.PostAsync($"/v1/partners/{partner.Id}/webhooks/{id}/test", null)).StatusCode.ShouldBe(HttpStatusCode.Accepted);
        await Receiver.WaitForAsync(r => r.DeliveredTo(path).Count >= 1, Patience, "the test event");
        var during = Receiver.DeliveredTo(path)[0];
        during.Type.ShouldBe("webhook.test");
        during.Signature.Split(' ').Length.ShouldBe(2);
        // The previous secret's signature first (the package's verifier tries only the first), the new one beside it.
        during.VerifiesWith(first).ShouldBeTrue();
        during.SignedWith(second).ShouldBeTrue();

        // The fixture's overlap is 3 s: the previous secret signs until the instant the rotation named.
        var overlapEnds = DateTimeOffset.Parse(rotated["webhook"]!.Get<string>("previousSecretValidUntil"), System.Globalization.CultureInfo.InvariantCulture);
        await Eventually.UntilAsync(() => DateTimeOffset.UtcNow > overlapEnds, "the overlap to end", Patience, TimeSpan.FromMilliseconds(100));
        (await partner.Client.PostAsync($"/v1/partners/{partner.Id}/webhooks/{id}/test", null)).StatusCode.ShouldBe(HttpStatusCode.Accepted);
        await Receiver.WaitForAsync(r => r.DeliveredTo(path).Count >= 2, Patience, "the second test event");
        var after = Receiver.DeliveredTo(path)[1];
        after.Signature.Split(' ').Length.ShouldBe(1);
        after.VerifiesWith(second).ShouldBeTrue();
        after.VerifiesWith(first).ShouldBeFalse();
    }

    [Test]
    public async Task Secret_ShownOnceOnly_NeverStoredInTheClear_NorInTheAuditTrail()
    {
        var partner = await PartnerAsync("silver");
        var (id, secret) = await SubscribeAsync(partner, NewPath());
        await partner.Client.PostAsync($"/v1/partners/{partner.Id}/webhooks/{id}/rotate-secret", null);

        var read = await (await partner.Client.GetAsync($"/v1/partners/{partner.Id}/webhooks/{id}")).Content.ReadAsStringAsync();
        read.ShouldNotContain("whsec_");
        var list = await (await Admin.GetAsync($"/v1/partners/{partner.Id}/webhooks")).Content.ReadAsStringAsync();
        list.ShouldNotContain("whsec_");

        await using var db = new SqliteConnection(Factory.ConnectionString);
        var stored = await db.QuerySingleAsync<(string Secret, string Previous)>(
            "SELECT secret, previous_secret FROM webhook_subscriptions WHERE id = @Id", new { Id = id });
        stored.Secret.ShouldNotContain("whsec_");
        stored.Previous.ShouldNotContain(secret[6..]);
        var audit = (await db.QueryAsync<string>("SELECT data FROM audit_events WHERE entity_type = 'webhook' AND entity_id = @Id", new { Id = id })).ToList();
        audit.Count.ShouldBe(2);
        audit.ShouldAllBe(a => !a.Contains("whsec_"));
        (await db.ExecuteScalarAsync<long>("SELECT COUNT(*) FROM data_protection_keys")).ShouldBeGreaterThan(0);
    }

    [Test]
    public async Task BadSubscriptionBodies_AnswerProblemDocuments_AndChangeNothing()
    {
        var partner = await PartnerAsync("silver");
        object[] bodies =
        [
            new { events = new[] { "*" } },
            new { url = Receiver.Url(), events = Array.Empty<string>() },
            new { url = Receiver.Url(), events = new[] { "registration.approvedd" } },
            new { url = Receiver.Url() },
            new { url = "ftp://portal.example/hooks", events = new[] { "*" } },
            new { url = "http://93.184.216.34/hooks", events = new[] { "*" } },
            new { url = "https://10.0.0.8/hooks", events = new[] { "*" } },
            new { url = "https://169.254.169.254/latest/meta-data", events = new[] { "*" } },
            new { url = "https://[::ffff:192.168.0.1]/hooks", events = new[] { "*" } },
            new { url = Receiver.Url(), events = new[] { "*" }, description = new string('x', 501) },
            new { url = Receiver.Url(), events = new[] { "*" }, description = "bell\u0007" },
            new { url = new string('a', 2001), events = new[] { "*" } },
        ];
        foreach (var body in bodies)
        {
            var response = await partner.Client.PostAsJsonAsync($"/v1/partners/{partner.Id}/webhooks", body);
            await ReadProblemAsync(response, HttpStatusCode.BadRequest, "validation");
        }
        foreach (var raw in new[] { "{", "[]", """{"url": 5, "events": ["*"]}""", """{"url":"x","url":"y","events":["*"]}""" })
        {
            var response = await partner.Client.PostAsync($"/v1/partners/{partner.Id}/webhooks", JsonBody(raw));
            response.StatusCode.ShouldBe(HttpStatusCode.BadRequest, raw);
            response.Content.Headers.ContentType?.MediaType.ShouldBe("application/problem+json");
        }
        var (id, _) = await SubscribeAsync(partner, NewPath());
        var patch = new HttpRequestMessage(HttpMethod.Patch, $"/v1/partners/{partner.Id}/webhooks/{id}")
        {
            Content = JsonContent.Create(new { url = "https://192.168.1.1/x" }),
        };
        patch.Headers.TryAddWithoutValidation("If-Match", "*");
        await ReadProblemAsync(await partner.Client.SendAsync(patch), HttpStatusCode.BadRequest, "validation");

        var all = (await ReadJsonAsync(await partner.Client.GetAsync($"/v1/partners/{partner.Id}/webhooks")))["items"]!.AsArray();
        all.Count.ShouldBe(1);
        all[0]!.Get<string>("url").ShouldStartWith("http://127.0.0.1");
        await ReadProblemAsync(await partner.Client.GetAsync($"/v1/partners/{partner.Id}/webhooks/{Guid.NewGuid()}"), HttpStatusCode.NotFound, "not-found");
        await ReadProblemAsync(await partner.Client.GetAsync($"/v1/partners/{partner.Id}/webhooks/{id}/deliveries?status=lost"),
            HttpStatusCode.BadRequest, "validation");
    }

    [Test]
    public async Task Update_NeedsTheVersionLastRead_AndChangesOnlyWhatIsGiven()
    {
        var partner = await PartnerAsync("silver");
        var (id, _) = await SubscribeAsync(partner, NewPath(), "registration.approved");
        var url = $"/v1/partners/{partner.Id}/webhooks/{id}";
        HttpRequestMessage Patch(object body, string? ifMatch)
        {
            var request = new HttpRequestMessage(HttpMethod.Patch, url) { Content = JsonContent.Create(body) };
            if (ifMatch is not null) request.Headers.TryAddWithoutValidation("If-Match", ifMatch);
            return request;
        }

        await ReadProblemAsync(await partner.Client.SendAsync(Patch(new { description = "new" }, null)), HttpStatusCode.PreconditionRequired,
            "precondition-required");
        var read = await partner.Client.GetAsync(url);
        var etag = read.Headers.ETag!.ToString();
        var changed = await partner.Client.SendAsync(Patch(new { events = new[] { "fee.paid" }, enabled = false }, etag));
        changed.StatusCode.ShouldBe(HttpStatusCode.OK, await changed.Content.ReadAsStringAsync());
        var body = await ReadJsonAsync(changed);
        body["events"]!.AsArray().Select(e => e!.GetValue<string>()).ShouldBe(["fee.paid"]);
        body.Get<bool>("enabled").ShouldBeFalse();
        body.Get<string>("disabledReason").ShouldBe("disabled");
        body.Get<string>("description").ShouldBe("portal");
        await ReadProblemAsync(await partner.Client.SendAsync(Patch(new { description = "stale" }, etag)), HttpStatusCode.PreconditionFailed,
            "precondition-failed");
        await ReadProblemAsync(await partner.Client.PostAsync($"{url}/test", null), HttpStatusCode.Conflict, "invalid-transition");
    }

    [Test]
    public async Task Endpoints_PerPartnerAreLimited_AndDeleteRemovesOne()
    {
        var partner = await PartnerAsync("silver");
        var ids = new List<string>();
        for (var i = 0; i < 10; i++) ids.Add((await SubscribeAsync(partner, NewPath())).Id);
        var eleventh = await partner.Client.PostAsJsonAsync($"/v1/partners/{partner.Id}/webhooks", new { url = Receiver.Url(), events = new[] { "*" } });
        await ReadProblemAsync(eleventh, HttpStatusCode.Conflict, "conflict");

        (await partner.Client.DeleteAsync($"/v1/partners/{partner.Id}/webhooks/{ids[0]}")).StatusCode.ShouldBe(HttpStatusCode.NoContent);
        await ReadProblemAsync(await partner.Client.GetAsync($"/v1/partners/{partner.Id}/webhooks/{ids[0]}"), HttpStatusCode.NotFound, "not-found");
        await SubscribeAsync(partner, NewPath());
    }
}
