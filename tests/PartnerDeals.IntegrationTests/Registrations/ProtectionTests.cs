using System.Net;
using System.Net.Http.Json;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;
using PartnerDeals.Api.Features.Registrations;
using PartnerDeals.IntegrationTests.Support;
using static PartnerDeals.IntegrationTests.Support.RegistrationCalls;

namespace PartnerDeals.IntegrationTests.Registrations;

/// <summary>Protection runs out on the service's clock; extensions move it out, as many times as the tier allows.</summary>
public sealed class ProtectionTests : HostTest
{
    private readonly FakeTimeProvider _clock = new(new DateTimeOffset(2026, 11, 23, 9, 0, 0, TimeSpan.Zero));
    private HttpClient _ops = null!;

    protected override TimeProvider Clock => _clock;

    protected override IDictionary<string, string?> Settings => new Dictionary<string, string?>
    {
        ["Registrations:Extensions:silver:MaxCount"] = "1",
        ["Registrations:Extensions:silver:Days"] = "45",
    };

    [OneTimeSetUp]
    public async Task IssueOpsKey() => _ops = Factory.Client((await IssueKeyAsync("ops")).Key);

    [OneTimeTearDown]
    public void DisposeOps() => _ops.Dispose();

    private Task<int> SweepAsync() => Factory.Services.GetRequiredService<ProtectionSweeper>().SweepAsync(CancellationToken.None);

    [Test]
    public async Task Sweep_PastProtection_ExpiresAndPromotesTheWaitingRegistration()
    {
        var (name, domain) = NewCompany();
        var holder = await PartnerAsync("silver", terms: new { protectionDays = 30 });
        var waiting = await PartnerAsync("gold");
        var held = await RegisterAsync(holder.Client, Body(name, domain));
        var queued = await RegisterAsync(waiting.Client, Body(name, domain));
        Status(queued).ShouldBe("pending_review");

        _clock.Advance(TimeSpan.FromDays(29));
        await SweepAsync();
        Status(await ReadAsync(Id(held))).ShouldBe("approved");

        _clock.Advance(TimeSpan.FromDays(1));
        await SweepAsync();
        var expired = await ReadAsync(Id(held));
        Status(expired).ShouldBe("expired");
        expired.Get<string>("reason").ShouldBe("protection_expired");
        var promoted = await ReadAsync(Id(queued));
        Status(promoted).ShouldBe("approved");
        promoted.Get<DateTimeOffset>("protectionExpiresAt").ShouldBe(_clock.GetUtcNow().AddDays(90));
        (await SweepAsync()).ShouldBe(0);
    }

    [Test]
    public async Task Check_PastProtectionBeforeTheSweep_NoLongerHoldsTheAccount()
    {
        var (name, domain) = NewCompany();
        var holder = await PartnerAsync("silver", terms: new { protectionDays = 10 });
        await RegisterAsync(holder.Client, Body(name, domain));
        _clock.Advance(TimeSpan.FromDays(11));
        var check = await ReadJsonAsync(await _ops.PostAsJsonAsync("/v1/conflict-checks", new { companyName = name, domain }));
        check.Get<string>("verdict").ShouldBe("clear");
    }

    [Test]
    public async Task Extension_Granted_MovesProtectionByTheTiersDays_AndTheTiersLimitHolds()
    {
        var partner = await PartnerAsync("silver", terms: new { protectionDays = 60 });
        var (name, domain) = NewCompany();
        var registration = await RegisterAsync(partner.Client, Body(name, domain));
        var id = Id(registration);
        var expiresAt = registration.Get<DateTimeOffset>("protectionExpiresAt");

        var asked = await partner.Client.PostAsJsonAsync($"/v1/registrations/{id}/extensions", new { reason = "Procurement slipped" });
        asked.StatusCode.ShouldBe(HttpStatusCode.Created, await asked.Content.ReadAsStringAsync());
        var extension = await ReadJsonAsync(asked);
        extension.Get<int>("days").ShouldBe(45);
        await ReadProblemAsync(await partner.Client.PostAsJsonAsync($"/v1/registrations/{id}/extensions", new { }), HttpStatusCode.Conflict, "invalid-transition");

        var granted = await ActAsync(_ops, id, $"extensions/{Id(extension)}/grant", new { note = "OK" });
        granted.Get<DateTimeOffset>("protectionExpiresAt").ShouldBe(expiresAt.AddDays(45));
        granted.Get<int>("extensionsGranted").ShouldBe(1);

        // silver is configured for one extension here
        await ReadProblemAsync(await partner.Client.PostAsJsonAsync($"/v1/registrations/{id}/extensions", new { }), HttpStatusCode.Conflict, "invalid-transition");
        await ReadProblemAsync(await _ops.PostAsync($"/v1/registrations/{id}/extensions/{Id(extension)}/grant", null), HttpStatusCode.Conflict, "invalid-transition");

        // the extension is what keeps it alive past the original date
        _clock.Advance(TimeSpan.FromDays(61));
        await SweepAsync();
        Status(await ReadAsync(id)).ShouldBe("approved");
        _clock.Advance(TimeSpan.FromDays(45));
        await SweepAsync();
        Status(await ReadAsync(id)).ShouldBe("expired");
    }

    [Test]
    public async Task Extension_Refused_LeavesProtectionAsItWas()
    {
        var partner = await PartnerAsync("gold");
        var (name, domain) = NewCompany();
        var registration = await RegisterAsync(partner.Client, Body(name, domain));
        var id = Id(registration);
        var extension = await ReadJsonAsync(await partner.Client.PostAsJsonAsync($"/v1/registrations/{id}/extensions", new { reason = "More time" }));
        var refused = await ActAsync(_ops, id, $"extensions/{Id(extension)}/refuse", new { note = "Deal has stalled" });
        refused.Get<DateTimeOffset>("protectionExpiresAt").ShouldBe(registration.Get<DateTimeOffset>("protectionExpiresAt"));
        var list = await ReadJsonAsync(await partner.Client.GetAsync($"/v1/registrations/{id}/extensions"));
        list[0]!.Get<string>("status").ShouldBe("refused");
        list[0]!.Get<string>("decisionNote").ShouldBe("Deal has stalled");
    }

    [Test]
    public async Task Extension_PendingRegistration_IsRefused()
    {
        var partner = await PartnerAsync("registered");
        var (name, domain) = NewCompany();
        var id = Id(await RegisterAsync(partner.Client, Body(name, domain)));
        await ReadProblemAsync(await partner.Client.PostAsJsonAsync($"/v1/registrations/{id}/extensions", new { }), HttpStatusCode.Conflict, "invalid-transition");
    }
}
