using System.Text.RegularExpressions;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using PartnerDeals.IntegrationTests.Support;
using static PartnerDeals.IntegrationTests.Support.RegistrationCalls;

namespace PartnerDeals.IntegrationTests.Webhooks;

/// <summary>Partner webhooks delivered: every event once, signed, in order, to its own partner only; replays, 410 Gone, metrics, two instances. See <see cref="WebhookTest"/>.</summary>
public sealed class WebhookDeliveryTests : WebhookTest
{
    [Test]
    public async Task PartnerEvents_EachTypeArrivesOnce_SignedAndWithWhatThePartnerReads()
    {
        var partner = await PartnerAsync("silver", terms: FixedFee);
        var path = NewPath();
        var (webhook, secret) = await SubscribeAsync(partner, path);

        // Won: created, approved (at once), extension granted, a note, won, its fee accrued and paid.
        var (name, domain) = NewCompany();
        var won = Id(await RegisterAsync(partner.Client, Body(name, domain)));
        var extension = await ReadJsonAsync(await partner.Client.PostAsJsonAsync($"/v1/registrations/{won}/extensions", new { reason = "Procurement" }));
        await ActAsync(Ops, won, $"extensions/{Id(extension)}/grant", new { note = "OK" });
        (await partner.Client.PostAsJsonAsync($"/v1/registrations/{won}/notes", new { body = "Kick-off on Monday" })).StatusCode.ShouldBe(HttpStatusCode.Created);
        (await Ops.PostAsJsonAsync($"/v1/registrations/{won}/notes", new { body = "Direct team knows them", @internal = true }))
            .StatusCode.ShouldBe(HttpStatusCode.Created);
        await ActAsync(Crm, won, "outcome", new { result = "won", amount = 40_000m, currency = "EUR" });
        var fees = await ReadJsonAsync(await partner.Client.GetAsync($"/v1/partners/{partner.Id}/fees"));
        var feeId = fees["items"]![0]!.Get<string>("id");
        (await Admin.PostAsJsonAsync($"/v1/fees/{feeId}/paid", new { reference = "REM-1" })).StatusCode.ShouldBe(HttpStatusCode.OK);

        // Lost, after a refused extension.
        var (lostName, lostDomain) = NewCompany();
        var lost = Id(await RegisterAsync(partner.Client, Body(lostName, lostDomain)));
        var refusedExtension = await ReadJsonAsync(await partner.Client.PostAsJsonAsync($"/v1/registrations/{lost}/extensions", new { reason = "More time" }));
        await ActAsync(Ops, lost, $"extensions/{Id(refusedExtension)}/refuse", new { note = "Stalled" });
        await ActAsync(Crm, lost, "outcome", new { result = "lost", lostReason = "budget" });

        // Returned for information, then rejected; and one withdrawn. Both wait behind another partner's claim.
        var holder = await PartnerAsync("silver");
        var (heldName, heldDomain) = NewCompany();
        await RegisterAsync(holder.Client, Body(heldName, heldDomain));
        var rejected = Id(await RegisterAsync(partner.Client, Body(heldName, heldDomain)));
        await ActAsync(Ops, rejected, "request-info", new { note = "Which site?" });
        await ActAsync(Ops, rejected, "reject", new { reason = "direct_conflict", note = "Ours" });
        var (otherName, otherDomain) = NewCompany();
        await RegisterAsync(holder.Client, Body(otherName, otherDomain));
        var withdrawn = Id(await RegisterAsync(partner.Client, Body(otherName, otherDomain)));
        await ActAsync(partner.Client, withdrawn, "withdraw");

        string[] expected =
        [
            "registration.created", "registration.approved", "registration.extension_granted", "registration.note_added", "registration.won",
            "fee.accrued", "fee.paid", "registration.created", "registration.approved", "registration.extension_refused", "registration.lost",
            "registration.created", "registration.more_info_requested", "registration.rejected", "registration.created", "registration.withdrawn",
        ];
        await Receiver.WaitForAsync(r => r.DeliveredTo(path).Count >= expected.Length, Patience, "every event");
        await SettledAsync(partner.Client, partner.Id, webhook, () => Receiver.Received.Count(r => r.Path == path));
        var got = Receiver.DeliveredTo(path);
        got.Select(r => r.Type).Order().ShouldBe(expected.Order());
        got.Select(r => r.Id).Distinct().Count().ShouldBe(got.Count, "each event once, each with its own webhook-id");
        got.ShouldAllBe(r => r.VerifiesWith(secret));

        foreach (var registrationId in new[] { won, lost, rejected, withdrawn })
        {
            var own = got.Where(r => r.Json["data"]!["registrationId"]?.GetValue<string>() == registrationId
                || r.Json["data"]!["id"]?.GetValue<string>() == registrationId).ToList();
            own.ShouldNotBeEmpty();
        }
        // Exactly what the partner's own key reads: no conflict, no raw rejection reason, no candidates.
        var rejection = got.Single(r => r.Type == "registration.rejected").Json["data"]!.AsObject();
        rejection.ContainsKey("conflictId").ShouldBeFalse();
        rejection["rejectionReason"].ShouldBeNull();
        rejection.Get<string>("reason").ShouldBe("rejected_account_unavailable");
        var partnerView = await ReadJsonAsync(await partner.Client.GetAsync($"/v1/registrations/{rejected}"));
        JsonNode.DeepEquals(rejection, partnerView).ShouldBeTrue($"{rejection.ToJsonString()}\n{partnerView.ToJsonString()}");
        got.Single(r => r.Type == "registration.note_added").Json["data"]!.Get<string>("body").ShouldBe("Kick-off on Monday");
        got.ShouldAllBe(r => !r.Body.Contains("Direct team knows them"), "an internal note never leaves");
        var paid = got.Single(r => r.Type == "fee.paid").Json;
        paid["data"]!.Get<string>("status").ShouldBe("paid");
        paid["timestamp"].ShouldNotBeNull();
    }

    [Test]
    public async Task OtherPartnersEndpoint_NeverReceivesThisPartnersEvents()
    {
        var (a, b) = (await PartnerAsync("silver"), await PartnerAsync("silver"));
        var (pathA, pathB) = (NewPath(), NewPath());
        var (webhookA, _) = await SubscribeAsync(a, pathA);
        var (webhookB, _) = await SubscribeAsync(b, pathB);

        var (name, domain) = NewCompany();
        var id = Id(await RegisterAsync(a.Client, Body(name, domain)));
        await ActAsync(a.Client, id, "withdraw");
        await Receiver.WaitForAsync(r => r.DeliveredTo(pathA).Count >= 3, Patience, "partner A's events");
        await SettledAsync(a.Client, a.Id, webhookA, () => Receiver.Received.Count(r => r.Path == pathA));

        // B's endpoint would have been queued with A's events, in their transactions: its log is empty, and so is its receiver.
        (await ReadJsonAsync(await b.Client.GetAsync($"/v1/partners/{b.Id}/webhooks/{webhookB}/deliveries")))["items"]!.AsArray().ShouldBeEmpty();
        Receiver.Received.Where(r => r.Path == pathB).ShouldBeEmpty();
        // Nor may partner B read or change partner A's endpoints.
        await ReadProblemAsync(await b.Client.GetAsync($"/v1/partners/{a.Id}/webhooks"), HttpStatusCode.NotFound, "not-found");
        await ReadProblemAsync(await b.Client.PostAsJsonAsync($"/v1/partners/{a.Id}/webhooks", new { url = Receiver.Url(pathB), events = new[] { "*" } }),
            HttpStatusCode.NotFound, "not-found");
    }

    [Test]
    public async Task ReceiverDownThenUp_EveryEventDeliveredOnce_InOrderPerRegistration()
    {
        await using var flaky = await WebhookReceiver.StartAsync();
        var partner = await PartnerAsync("silver");
        var response = await partner.Client.PostAsJsonAsync($"/v1/partners/{partner.Id}/webhooks", new { url = flaky.Url(), events = new[] { "*" } });
        response.StatusCode.ShouldBe(HttpStatusCode.Created);
        var subscribed = await ReadJsonAsync(response);
        var (webhook, secret) = (subscribed["webhook"]!.Get<string>("id"), subscribed.Get<string>("secret"));

        // Down three ways in turn: 503s, then answers slower than the service's timeout, then nobody listening.
        flaky.Answer = (_, _) => 503;
        var registrations = new List<string>();
        for (var i = 0; i < 2; i++)
        {
            var (name, domain) = NewCompany();
            registrations.Add(Id(await RegisterAsync(partner.Client, Body(name, domain))));
        }
        foreach (var id in registrations)
        {
            for (var n = 1; n <= 4; n++)
            {
                (await partner.Client.PostAsJsonAsync($"/v1/registrations/{id}/notes", new { body = $"note {n}" })).StatusCode.ShouldBe(HttpStatusCode.Created);
            }
        }
        await flaky.WaitForAsync(r => r.Received.Count(x => x.AnsweredWith == 503) >= 4, Patience, "503s");
        flaky.Delay = TimeSpan.FromSeconds(1.5);
        flaky.Answer = (_, _) => 200;
        await flaky.WaitForAsync(r => r.Received.Any(x => x.AnsweredWith == 499), Patience, "a timeout");
        await flaky.StopAsync();
        await Eventually.UntilAsync(async () => (await ReadJsonAsync(await partner.Client.GetAsync($"/v1/partners/{partner.Id}/webhooks/{webhook}/deliveries?limit=200")))
            ["items"]!.AsArray().Any(d => d!["attemptLog"]!.AsArray().Any(a => a!.Get<string>("outcome") == "unreachable")), "a refused connection", Patience);
        flaky.Delay = TimeSpan.Zero;
        await flaky.StartAgainAsync();

        var expected = registrations.Count * 6; // created, approved and four notes each
        await flaky.WaitForAsync(r => r.Delivered.Count >= expected, Patience, "every event once the receiver is up");
        await SettledAsync(partner.Client, partner.Id, webhook, () => flaky.Received.Count);
        var delivered = flaky.Delivered;
        delivered.Count.ShouldBe(expected, "each event once: " + string.Join(", ", delivered.Select(d => d.Type)));
        delivered.Select(d => d.Id).Distinct().Count().ShouldBe(expected);
        delivered.ShouldAllBe(d => d.VerifiesWith(secret));
        foreach (var id in registrations)
        {
            var own = delivered.Where(d => (d.Json["data"]!["registrationId"] ?? d.Json["data"]!["id"])!.GetValue<string>() == id).ToList();
            own.Select(d => d.Type == "registration.note_added" ? d.Json["data"]!.Get<string>("body") : d.Type)
                .ShouldBe(["registration.created", "registration.approved", "note 1", "note 2", "note 3", "note 4"]);
        }

        // The log shows the failed attempts before the delivered one.
        var webhookId = (await ReadJsonAsync(await partner.Client.GetAsync($"/v1/partners/{partner.Id}/webhooks")))["items"]![0]!.Get<string>("id");
        var log = (await ReadJsonAsync(await partner.Client.GetAsync($"/v1/partners/{partner.Id}/webhooks/{webhookId}/deliveries?limit=200")))["items"]!.AsArray();
        log.Count.ShouldBe(expected);
        log.ShouldAllBe(d => d!.Get<string>("status") == "delivered");
        var attempts = log.SelectMany(d => d!["attemptLog"]!.AsArray()).ToList();
        attempts.ShouldContain(a => a!.Get<string>("outcome") == "failed" && a.Get<int>("statusCode") == 503);
        attempts.ShouldContain(a => a!.Get<string>("outcome") == "timeout");
        attempts.ShouldContain(a => a!.Get<string>("outcome") == "delivered" && a.Get<string>("response").Contains("received"));
    }

    [Test]
    public async Task Gone_DisablesTheEndpoint_AndProgramHealthListsIt()
    {
        var partner = await PartnerAsync("silver");
        var path = NewPath();
        var (id, _) = await SubscribeAsync(partner, path);
        var answered = Receiver.Answer;
        Receiver.Answer = (n, p) => p == path ? 410 : answered(n, p);
        try
        {
            var (name, domain) = NewCompany();
            await RegisterAsync(partner.Client, Body(name, domain));
            await Receiver.WaitForAsync(r => r.Received.Any(x => x.Path == path && x.AnsweredWith == 410), Patience, "the 410");
            var webhook = await PollAsync(async () => await ReadJsonAsync(await partner.Client.GetAsync($"/v1/partners/{partner.Id}/webhooks/{id}")),
                w => w.Get<bool>("enabled") == false);
            webhook.Get<string>("disabledReason").ShouldBe("gone");
            await SettledAsync(partner.Client, partner.Id, id, () => Receiver.Received.Count(x => x.Path == path));
            Receiver.Received.Count(x => x.Path == path).ShouldBe(1, "nothing more goes to an endpoint that is gone");

            var health = await ReadJsonAsync(await Ops.GetAsync("/v1/program/health"));
            health["disabledWebhooks"]!.AsArray().ShouldContain(w => w!.Get<string>("webhookId") == id && w.Get<string>("reason") == "gone");
            var log = await ReadJsonAsync(await partner.Client.GetAsync($"/v1/partners/{partner.Id}/webhooks/{id}/deliveries?status=dead"));
            log["items"]!.AsArray().Count.ShouldBe(1);

            // Turned on again, and retried: what was dead goes out.
            Receiver.Answer = answered;
            var enable = new HttpRequestMessage(HttpMethod.Patch, $"/v1/partners/{partner.Id}/webhooks/{id}") { Content = JsonContent.Create(new { enabled = true }) };
            enable.Headers.TryAddWithoutValidation("If-Match", "*");
            (await partner.Client.SendAsync(enable)).StatusCode.ShouldBe(HttpStatusCode.OK);
            var dead = log["items"]![0]!.Get<string>("id");
            (await partner.Client.PostAsync($"/v1/partners/{partner.Id}/webhooks/{id}/deliveries/{dead}/retry", null)).StatusCode.ShouldBe(HttpStatusCode.Accepted);
            await Receiver.WaitForAsync(r => r.DeliveredTo(path).Count >= 1, Patience, "the retried delivery");
        }
        finally
        {
            Receiver.Answer = answered;
        }
    }

    [Test]
    public async Task Replay_SinceAnInstant_SendsThoseEventsAgainWithTheirIds()
    {
        var partner = await PartnerAsync("silver");
        var path = NewPath();
        var (id, _) = await SubscribeAsync(partner, path, "registration.created");
        var (name, domain) = NewCompany();
        await RegisterAsync(partner.Client, Body(name, domain));
        await Receiver.WaitForAsync(r => r.DeliveredTo(path).Count >= 1, Patience, "the first delivery");
        var first = Receiver.DeliveredTo(path)[0];

        var since = DateTimeOffset.UtcNow.AddMinutes(-5).ToString("O");
        var replay = await partner.Client.PostAsync($"/v1/partners/{partner.Id}/webhooks/{id}/replay?since={Uri.EscapeDataString(since)}", null);
        replay.StatusCode.ShouldBe(HttpStatusCode.Accepted, await replay.Content.ReadAsStringAsync());
        (await ReadJsonAsync(replay)).Get<int>("queued").ShouldBe(1, "only the subscribed event type");
        await Receiver.WaitForAsync(r => r.DeliveredTo(path).Count >= 2, Patience, "the replayed delivery");
        var again = Receiver.DeliveredTo(path)[1];
        again.Id.ShouldBe(first.Id);
        again.Body.ShouldBe(first.Body);

        await ReadProblemAsync(await partner.Client.PostAsync($"/v1/partners/{partner.Id}/webhooks/{id}/replay", null), HttpStatusCode.BadRequest, "validation");
        await ReadProblemAsync(await partner.Client.PostAsync($"/v1/partners/{partner.Id}/webhooks/{id}/replay?since=2999-01-01T00:00:00Z", null),
            HttpStatusCode.BadRequest, "validation");
    }

    [Test]
    public async Task Metrics_CountAttemptsAndDeliveries()
    {
        var partner = await PartnerAsync("silver");
        var path = NewPath();
        var (id, _) = await SubscribeAsync(partner, path);
        await partner.Client.PostAsync($"/v1/partners/{partner.Id}/webhooks/{id}/test", null);
        await Receiver.WaitForAsync(r => r.DeliveredTo(path).Count >= 1, Patience, "the test event");
        var metrics = await Eventually.UntilAsync(async () => await (await Admin.GetAsync("/metrics")).Content.ReadAsStringAsync(),
            text => Regex.IsMatch(text, "partnerdeals_outbox_deliveries_total\\{[^}]*channel=\"webhook\""), "the delivery to be counted", Patience);
        metrics.ShouldMatch("partnerdeals_outbox_attempts_total\\{[^}]*channel=\"webhook\"[^}]*outcome=\"delivered\"");
        metrics.ShouldMatch("partnerdeals_outbox_deliveries_total\\{[^}]*channel=\"webhook\"[^}]*outcome=\"delivered\"");
        metrics.ShouldMatch("partnerdeals_outbox_lag_seconds\\{[^}]*channel=\"webhook\"");
    }

    [Test]
    public async Task TwoInstances_ShareTheWork_AndDeliverEachEventOnce()
    {
        using var second = new ApiFactory(Settings, Factory.DatabasePath);
        using var other = second.Client(ApiFactory.AdminKey);
        var partner = await PartnerAsync("silver");
        var path = NewPath();
        var (webhook, _) = await SubscribeAsync(partner, path, "registration.created");
        var bodies = Enumerable.Range(0, 20).Select(_ => NewCompany()).ToList();
        // Half the registrations through each instance; both instances' dispatchers poll the same outbox.
        await Task.WhenAll(bodies.Select(async (company, i) =>
        {
            var response = await (i % 2 == 0 ? Admin : other).PostAsJsonAsync("/v1/registrations", Body(company.Name, company.Domain, partnerId: partner.Id));
            response.StatusCode.ShouldBe(HttpStatusCode.Created, await response.Content.ReadAsStringAsync());
        }));
        await Receiver.WaitForAsync(r => r.DeliveredTo(path).Count >= 20, Patience, "every event");
        await SettledAsync(Admin, partner.Id, webhook, () => Receiver.Received.Count(r => r.Path == path));
        var got = Receiver.DeliveredTo(path);
        got.Count.ShouldBe(20);
        got.Select(r => r.Id).Distinct().Count().ShouldBe(20);
    }
}
