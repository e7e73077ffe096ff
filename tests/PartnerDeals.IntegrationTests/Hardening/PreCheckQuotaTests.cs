using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Microsoft.Extensions.Time.Testing;
using PartnerDeals.IntegrationTests.Registrations;
using PartnerDeals.IntegrationTests.Support;

namespace PartnerDeals.IntegrationTests.Hardening;

/// <summary>
/// Part of the security suite: a partner's pre-checks cannot enumerate the pipeline. They have their
/// own quota per partner, are logged for ops and counted on /metrics, and answer only available or not.
/// </summary>
public sealed class PreCheckQuotaTests : RegistrationTest
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
}
