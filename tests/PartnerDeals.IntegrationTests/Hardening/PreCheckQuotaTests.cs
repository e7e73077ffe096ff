using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Microsoft.Extensions.Time.Testing;
using PartnerDeals.IntegrationTests.Registrations;
using PartnerDeals.IntegrationTests.Support;
using static PartnerDeals.IntegrationTests.Support.RegistrationCalls;

namespace PartnerDeals.IntegrationTests.Hardening;

/// <summary>
/// Part of the security suite: a partner's pre-checks cannot enumerate the pipeline. They have their
/// own quota per partner, are logged for ops and counted on /metrics, and answer only available or not.
/// </summary>
public sealed class PreCheckQuotaTests : HostTest
{
    private readonly FakeTimeProvider _clock = new(DateTimeOffset.Parse("2026-11-02T09:00:00Z", System.Globalization.CultureInfo.InvariantCulture));
    private HttpClient _crm = null!;

    protected override TimeProvider Clock => _clock;

    protected override IDictionary<string, string?> Settings => new Dictionary<string, string?>
    {
        ["ConflictChecks:PartnerQuota:PerMinute"] = "3",
        ["ConflictChecks:PartnerQuota:PerDay"] = "5",
    };

    [OneTimeSetUp]
    public async Task IssueKeys() => _crm = Factory.Client((await IssueKeyAsync("crm")).Key);

    [OneTimeTearDown]
    public void DisposeCrm() => _crm.Dispose();

    [Test]
    public async Task PreChecks_BeyondThePartnersQuota_Are429_AndEveryOneIsLoggedForOps()
    {
        var partner = await PartnerAsync();
        var secondKey = ClientFor(await IssuePartnerKeyAsync(partner.Id));
        async Task<HttpResponseMessage> CheckAsync(HttpClient client) =>
            await client.PostAsJsonAsync("/v1/conflict-checks", new { companyName = NewCompany().Name, country = "DE" });

        for (var i = 0; i < 3; i++) (await CheckAsync(i % 2 == 0 ? partner.Client : secondKey)).StatusCode.ShouldBe(HttpStatusCode.OK);
        var perMinute = await CheckAsync(secondKey);
        await ReadProblemAsync(perMinute, HttpStatusCode.TooManyRequests, "quota-exceeded");
        perMinute.Headers.RetryAfter!.Delta.ShouldBe(TimeSpan.FromSeconds(60));

        _clock.Advance(TimeSpan.FromSeconds(61));
        for (var i = 0; i < 2; i++) (await CheckAsync(partner.Client)).StatusCode.ShouldBe(HttpStatusCode.OK);
        var perDay = await CheckAsync(partner.Client);
        await ReadProblemAsync(perDay, HttpStatusCode.TooManyRequests, "quota-exceeded");
        perDay.Headers.RetryAfter!.Delta!.Value.ShouldBeGreaterThan(TimeSpan.FromHours(23));
        (await CheckAsync(Admin)).StatusCode.ShouldBe(HttpStatusCode.OK, "vendor keys have no pre-check quota");

        var log = await ReadJsonAsync(await Admin.GetAsync($"/v1/partners/{partner.Id}/conflict-checks"));
        log["items"]!.AsArray().Select(c => c!.Get<string>("outcome"))
            .ShouldBe(["answered", "answered", "answered", "refused_per_minute", "answered", "answered", "refused_per_day"]);
        log["items"]![0]!.Get<string>("verdict").ShouldBe("clear");
        await ReadProblemAsync(await partner.Client.GetAsync($"/v1/partners/{partner.Id}/conflict-checks"), HttpStatusCode.Forbidden, "forbidden");

        using var anonymous = Factory.Client(null);
        var metrics = (await anonymous.GetStringAsync("/metrics")).Split('\n');
        metrics.ShouldContain(l => l.StartsWith("partnerdeals_conflict_checks_total{", StringComparison.Ordinal)
            && l.Contains("caller=\"partner\"", StringComparison.Ordinal) && l.Contains("outcome=\"refused\"", StringComparison.Ordinal));
    }

    [Test]
    public async Task PreCheck_ForPartner_AnswersAvailableOrNot_TheSameForEveryCountry()
    {
        var name = NewCompany().Name;
        (await _crm.PutAsJsonAsync($"/v1/opportunities/salesforce/{Guid.NewGuid():N}", new { accountName = name, status = "open", country = "DE" }))
            .IsSuccessStatusCode.ShouldBeTrue();
        var partner = await PartnerAsync();

        var answers = new List<string>();
        foreach (var country in new[] { "DE", "FR", "US" })
        {
            var response = await partner.Client.PostAsJsonAsync("/v1/conflict-checks", new { companyName = name, country });
            answers.Add(await response.Content.ReadAsStringAsync());
        }
        var vendor = await ReadJsonAsync(await Admin.PostAsJsonAsync("/v1/conflict-checks", new { companyName = name, country = "FR" }));

        answers.Distinct().ShouldHaveSingleItem();
        var answer = JsonNode.Parse(answers[0])!.AsObject();
        answer.Select(p => p.Key).Order().ShouldBe(["available", "reason"]);
        answer.Get<bool>("available").ShouldBeFalse();
        answer.Get<string>("reason").ShouldBe("account_unavailable");
        vendor.Get<string>("verdict").ShouldNotBe("clear");
    }

    [Test]
    public async Task RegisterWithdrawRounds_DrawOnTheOneQuota_BeyondIt429StoresNothing_AndEveryOneIsLogged()
    {
        var partner = await PartnerAsync("gold");
        var (created, refused) = (0, 0);
        for (var i = 0; i < 200; i++)
        {
            var (name, domain) = NewCompany();
            var response = await PostRegistrationAsync(partner.Client, Body(name, domain));
            if (response.StatusCode == HttpStatusCode.Created)
            {
                created++;
                await ActAsync(partner.Client, Id(await ReadJsonAsync(response)), "withdraw");
                continue;
            }
            var problem = await ReadProblemAsync(response, HttpStatusCode.TooManyRequests, "quota-exceeded");
            problem.Get<string>("detail").ShouldContain("share one quota");
            response.Headers.RetryAfter!.Delta.ShouldBe(TimeSpan.FromSeconds(60));
            refused++;
        }

        (created, refused).ShouldBe((3, 197), "three checks a minute, whatever asks them");
        (await ReadJsonAsync(await Admin.GetAsync($"/v1/registrations?partnerId={partner.Id}&limit=100")))["items"]!.AsArray().Count.ShouldBe(3);
        await ReadProblemAsync(await partner.Client.PostAsJsonAsync("/v1/conflict-checks", new { companyName = NewCompany().Name }),
            HttpStatusCode.TooManyRequests, "quota-exceeded");
        var log = await AllChecksAsync(partner.Id);
        log.Count.ShouldBe(201);
        log.Take(200).ShouldAllBe(c => c.AskedBy == "registration");
        log.Count(c => c.Outcome == "answered").ShouldBe(3);
        log.Where(c => c.Outcome == "answered").ShouldAllBe(c => c.RegistrationId != null && c.Verdict == "clear");
    }

    [Test]
    public async Task EditsNamingAnotherCompany_DrawOnTheOneQuota_OtherEditsDoNot()
    {
        var partner = await PartnerAsync("registered");
        var id = Id(await RegisterAsync(partner.Client, Body(NewCompany().Name, null)));
        var (edited, refused) = (0, 0);
        for (var i = 0; i < 200; i++)
        {
            var response = await EditAsync(partner.Client, id, new { customer = new { companyName = NewCompany().Name } });
            if (response.StatusCode == HttpStatusCode.OK) edited++;
            else
            {
                await ReadProblemAsync(response, HttpStatusCode.TooManyRequests, "quota-exceeded");
                refused++;
            }
        }

        (edited, refused).ShouldBe((2, 198), "the registration took the first of three");
        (await EditAsync(partner.Client, id, new { deal = new { estimatedValue = 60_000m } })).StatusCode.ShouldBe(HttpStatusCode.OK,
            "an edit that keeps the company asks nothing");
        var log = await AllChecksAsync(partner.Id);
        log.Select(c => c.AskedBy).Distinct().Order().ShouldBe(["edit", "registration"]);
        log.Count(c => c.AskedBy == "edit").ShouldBe(200);
    }

    [Test]
    public async Task PartnersOwnQuota_SetByOps_ReplacesTheProgramsUntilRemoved()
    {
        var partner = await PartnerAsync("gold");
        var before = await Admin.GetAsync($"/v1/partners/{partner.Id}");
        var patch = new HttpRequestMessage(HttpMethod.Patch, $"/v1/partners/{partner.Id}")
        {
            Content = JsonContent.Create(new { checkQuota = new { perMinute = 8, perDay = 8 } }),
        };
        patch.Headers.IfMatch.Add(before.Headers.ETag!);
        var patched = await Admin.SendAsync(patch);
        patched.StatusCode.ShouldBe(HttpStatusCode.OK, await patched.Content.ReadAsStringAsync());
        (await ReadJsonAsync(patched))["checkQuota"]!.Get<int>("perMinute").ShouldBe(8);

        var answered = 0;
        for (var i = 0; i < 10; i++)
        {
            var response = await partner.Client.PostAsJsonAsync("/v1/conflict-checks", new { companyName = NewCompany().Name });
            if (response.StatusCode == HttpStatusCode.OK) answered++;
        }
        answered.ShouldBe(8);

        var removal = new HttpRequestMessage(HttpMethod.Patch, $"/v1/partners/{partner.Id}") { Content = JsonBody("""{"checkQuota":null}""") };
        removal.Headers.IfMatch.Add(patched.Headers.ETag!);
        var removed = await Admin.SendAsync(removal);
        removed.StatusCode.ShouldBe(HttpStatusCode.OK, await removed.Content.ReadAsStringAsync());
        (await ReadJsonAsync(removed))["checkQuota"].ShouldBeNull();
        var badQuota = new HttpRequestMessage(HttpMethod.Patch, $"/v1/partners/{partner.Id}")
        {
            Content = JsonContent.Create(new { checkQuota = new { perMinute = 0, perDay = 5 } }),
        };
        badQuota.Headers.IfMatch.Add(removed.Headers.ETag!);
        await ReadProblemAsync(await Admin.SendAsync(badQuota), HttpStatusCode.BadRequest, "validation");
    }

    [Test]
    public async Task Registration_ForPartner_ReadsReviewAndConflictAlike_TheVendorTellsThemApart()
    {
        var (name, domain) = NewCompany();
        (await _crm.PutAsJsonAsync($"/v1/opportunities/salesforce/{Guid.NewGuid():N}", new { accountName = name, accountDomain = domain, status = "open", country = "DE" }))
            .IsSuccessStatusCode.ShouldBeTrue();
        var partner = await PartnerAsync("gold");

        var conflict = await RegisterAsync(partner.Client, Body(name, domain));
        var review = await RegisterAsync(partner.Client, Body(name, null, country: "FR"));

        (await ReadAsync(Id(conflict))).Get<string>("verdict").ShouldBe("conflict");
        (await ReadAsync(Id(review))).Get<string>("verdict").ShouldBe("review", "the same name in another country is a review");
        foreach (var seen in new[] { conflict, review, await ReadJsonAsync(await partner.Client.GetAsync($"/v1/registrations/{Id(review)}")) })
        {
            seen.Get<string>("verdict").ShouldBe("conflict");
            seen.Get<string>("reason").ShouldBe("account_unavailable");
        }
    }

    private sealed record LoggedCheck(string AskedBy, string Outcome, string? Verdict, string? RegistrationId);

    private async Task<List<LoggedCheck>> AllChecksAsync(string partnerId)
    {
        var checks = new List<LoggedCheck>();
        string? cursor = null;
        do
        {
            var page = await ReadJsonAsync(await Admin.GetAsync($"/v1/partners/{partnerId}/conflict-checks?limit=100{(cursor is null ? "" : $"&cursor={cursor}")}"));
            checks.AddRange(page["items"]!.AsArray().Select(c => new LoggedCheck(c!.Get<string>("askedBy"), c.Get<string>("outcome"),
                c["verdict"]?.GetValue<string>(), c["registrationId"]?.GetValue<string>())));
            cursor = page["nextCursor"]?.GetValue<string>();
        }
        while (cursor is not null);
        return checks;
    }

    private static Task<HttpResponseMessage> EditAsync(HttpClient client, string id, object changes) =>
        PatchRegistrationAsync(client, id, JsonContent.Create(changes));
}
