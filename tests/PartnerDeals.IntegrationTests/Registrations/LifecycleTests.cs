using System.Net;
using System.Net.Http.Json;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;
using PartnerDeals.Api.Features.Registrations;
using PartnerDeals.IntegrationTests.Support;
using static PartnerDeals.IntegrationTests.Support.RegistrationCalls;

namespace PartnerDeals.IntegrationTests.Registrations;

/// <summary>Every action from every status: the legal ones move the registration, the others answer 409 and change nothing.</summary>
public sealed class LifecycleTests : HostTest
{
    private readonly FakeTimeProvider _clock = new(new DateTimeOffset(2026, 11, 23, 9, 0, 0, TimeSpan.Zero));
    private HttpClient _ops = null!;
    private HttpClient _crm = null!;
    private PartnerClient _registered = null!;
    private PartnerClient _silver = null!;

    protected override TimeProvider Clock => _clock;

    [OneTimeSetUp]
    public async Task CreatePartners()
    {
        _ops = Factory.Client((await IssueKeyAsync("ops")).Key);
        _crm = Factory.Client((await IssueKeyAsync("crm")).Key);
        _registered = await PartnerAsync("registered");
        _silver = await PartnerAsync("silver");
    }

    [OneTimeTearDown]
    public void DisposeVendorClients()
    {
        _ops.Dispose();
        _crm.Dispose();
    }

    private static readonly string[] States = ["pending_review", "more_info_requested", "approved", "rejected", "withdrawn", "expired", "won", "lost"];

    // action → the statuses it is legal from, and where it leads
    private static readonly Dictionary<string, (string[] From, string To)> Actions = new()
    {
        ["approve"] = (["pending_review", "more_info_requested"], "approved"),
        ["reject"] = (["pending_review", "more_info_requested"], "rejected"),
        ["request-info"] = (["pending_review"], "more_info_requested"),
        ["withdraw"] = (["pending_review", "more_info_requested", "approved"], "withdrawn"),
        ["outcome"] = (["approved"], "won"),
        ["edit"] = (["pending_review", "more_info_requested"], "pending_review"),
    };

    private static IEnumerable<TestCaseData> Transitions() =>
        from action in Actions.Keys
        from state in States
        let legal = Actions[action].From.Contains(state)
        select new TestCaseData(state, action, legal ? Actions[action].To : null)
            .SetName($"Transition_{action}_From_{state}_{(legal ? "Moves" : "IsRefused")}");

    [TestCaseSource(nameof(Transitions))]
    public async Task Transition(string state, string action, string? expected)
    {
        var id = await RegistrationInAsync(state);
        var before = await ReadAsync(id);

        var response = action switch
        {
            "approve" => await _ops.PostAsync($"/v1/registrations/{id}/approve", null),
            "reject" => await _ops.PostAsJsonAsync($"/v1/registrations/{id}/reject", new { reason = "not_icp", note = "Outside our segments" }),
            "request-info" => await _ops.PostAsJsonAsync($"/v1/registrations/{id}/request-info", new { note = "Add the website" }),
            "withdraw" => await OwnerOf(before).PostAsync($"/v1/registrations/{id}/withdraw", null),
            "outcome" => await _crm.PostAsJsonAsync($"/v1/registrations/{id}/outcome", new { result = "won", amount = 48_000m, currency = "EUR" }),
            "edit" => await EditAsync(OwnerOf(before), id, before),
            _ => throw new ArgumentOutOfRangeException(nameof(action)),
        };

        if (expected is null)
        {
            await ReadProblemAsync(response, HttpStatusCode.Conflict, "invalid-transition");
            var after = await ReadAsync(id);
            after.ToJsonString().ShouldBe(before.ToJsonString(), "a refused transition changes nothing");
            return;
        }
        response.StatusCode.ShouldBe(HttpStatusCode.OK, await response.Content.ReadAsStringAsync());
        var moved = await ReadJsonAsync(response);
        Status(moved).ShouldBe(expected);
        response.Headers.ETag.ShouldNotBeNull();

        // every transition leaves an audit event and an outbox row
        var events = await ReadJsonAsync(await Admin.GetAsync($"/v1/registrations/{id}/events?limit=200"));
        events["items"]!.AsArray().Count.ShouldBeGreaterThan(1);
        (await OutboxRowsAsync(id)).ShouldBe(events["items"]!.AsArray().Count(e => e!.Get<string>("action") != "registration.extension_requested"));
    }

    [Test]
    public async Task Approve_AutoApprovedSilverRegistration_SnapshotsTermsAndProtectsForTheTermsDays()
    {
        var partner = await PartnerAsync("gold", terms: new { protectionDays = 120, feeModel = "fixed_fee", feeAmount = 500m, feeCurrency = "EUR" });
        var (name, domain) = NewCompany();
        var created = await RegisterAsync(partner.Client, Body(name, domain));
        Status(created).ShouldBe("approved");
        created.Get<string>("reason").ShouldBe("auto_approved");
        created.Get<string>("verdict").ShouldBe("clear");
        created.Get<DateTimeOffset>("protectionExpiresAt").ShouldBe(_clock.GetUtcNow().AddDays(120));
        created["terms"]!.Get<string>("tier").ShouldBe("gold");
        created["terms"]!.Get<decimal>("feeAmount").ShouldBe(500m);

        // a later change of terms never rewrites the snapshot
        var read = await Admin.GetAsync($"/v1/partners/{partner.Id}");
        var patch = new HttpRequestMessage(HttpMethod.Patch, $"/v1/partners/{partner.Id}") { Content = JsonContent.Create(new { terms = new { feeAmount = 900m } }) };
        patch.Headers.IfMatch.Add(read.Headers.ETag!);
        (await Admin.SendAsync(patch)).StatusCode.ShouldBe(HttpStatusCode.OK);
        (await ReadAsync(Id(created)))["terms"]!.Get<decimal>("feeAmount").ShouldBe(500m);
    }

    [Test]
    public async Task Register_RegisteredTier_WaitsForReviewEvenWhenClear()
    {
        var (name, domain) = NewCompany();
        var created = await RegisterAsync(_registered.Client, Body(name, domain));
        Status(created).ShouldBe("pending_review");
        created.Get<string>("verdict").ShouldBe("clear");
        created.Get<string>("reason").ShouldBe("awaiting_review");
        created.Get<string>("policyVersion").ShouldStartWith("1-");
    }

    [Test]
    public async Task Edit_MoreInfoRequested_ResubmitsAndReRunsThePolicy()
    {
        var (name, _) = NewCompany();
        var id = Id(await RegisterAsync(_registered.Client, Body(name, null)));
        var asked = await ActAsync(_ops, id, "request-info", new { note = "Which website?" });
        asked.Get<string>("reason").ShouldBe("more_information_requested");
        asked.Get<string>("decisionNote").ShouldBe("Which website?");

        var response = await EditAsync(_registered.Client, id, await ReadAsync(id));
        var edited = await ReadJsonAsync(response);
        Status(edited).ShouldBe("pending_review");
        edited["customer"]!.Get<int>("employeeCount").ShouldBe(250);
        var events = await ReadJsonAsync(await Admin.GetAsync($"/v1/registrations/{id}/events"));
        events["items"]!.AsArray().Select(e => e!.Get<string>("action"))
            .ShouldBe(["registration.created", "registration.more_info_requested", "registration.resubmitted"]);
    }

    [Test]
    public async Task Edit_WithoutIfMatch_Answers428AndWithStaleETag412()
    {
        var (name, domain) = NewCompany();
        var id = Id(await RegisterAsync(_registered.Client, Body(name, domain)));
        var noIfMatch = await _registered.Client.PatchAsJsonAsync($"/v1/registrations/{id}", new { deal = new { notes = "x" } });
        await ReadProblemAsync(noIfMatch, HttpStatusCode.PreconditionRequired, "precondition-required");

        var stale = new HttpRequestMessage(HttpMethod.Patch, $"/v1/registrations/{id}") { Content = JsonContent.Create(new { deal = new { notes = "x" } }) };
        stale.Headers.TryAddWithoutValidation("If-Match", "\"99\"");
        await ReadProblemAsync(await _registered.Client.SendAsync(stale), HttpStatusCode.PreconditionFailed, "precondition-failed");
    }

    [Test]
    public async Task Outcome_WonWithoutAmount_IsRefusedWithTheFieldsNamed()
    {
        var (name, domain) = NewCompany();
        var id = Id(await RegisterAsync(_silver.Client, Body(name, domain)));
        var response = await _crm.PostAsJsonAsync($"/v1/registrations/{id}/outcome", new { result = "won" });
        ErrorFields(await ReadProblemAsync(response, HttpStatusCode.BadRequest, "validation")).ShouldBe(["amount", "currency"]);
        Status(await ReadAsync(id)).ShouldBe("approved");
    }

    /// <summary>A fresh registration of a company nobody else claims, brought to <paramref name="state"/> through the API.</summary>
    private async Task<string> RegistrationInAsync(string state)
    {
        var (name, domain) = NewCompany();
        var startsApproved = state is "approved" or "expired" or "won" or "lost";
        var id = Id(await RegisterAsync(startsApproved ? _silver.Client : _registered.Client, Body(name, domain)));
        switch (state)
        {
            case "more_info_requested": await ActAsync(_ops, id, "request-info"); break;
            case "rejected": await ActAsync(_ops, id, "reject", new { reason = "incomplete" }); break;
            case "withdrawn": await ActAsync(_registered.Client, id, "withdraw"); break;
            case "won": await ActAsync(_crm, id, "outcome", new { result = "won", amount = 10m, currency = "EUR" }); break;
            case "lost": await ActAsync(_crm, id, "outcome", new { result = "lost", lostReason = "Budget" }); break;
            case "expired":
                _clock.Advance(TimeSpan.FromDays(91));
                await Factory.Services.GetRequiredService<ProtectionSweeper>().SweepAsync(CancellationToken.None);
                break;
        }
        Status(await ReadAsync(id)).ShouldBe(state);
        return id;
    }

    private HttpClient OwnerOf(System.Text.Json.Nodes.JsonObject registration) =>
        registration.Get<string>("partnerId") == _silver.Id ? _silver.Client : _registered.Client;

    private async Task<HttpResponseMessage> EditAsync(HttpClient client, string id, System.Text.Json.Nodes.JsonObject current)
    {
        var etag = (await client.GetAsync($"/v1/registrations/{id}")).Headers.ETag!;
        var request = new HttpRequestMessage(HttpMethod.Patch, $"/v1/registrations/{id}")
        {
            Content = JsonContent.Create(new { customer = new { employeeCount = 250 }, deal = new { notes = "Website added" } }),
        };
        request.Headers.IfMatch.Add(etag);
        return await client.SendAsync(request);
    }

    private async Task<int> OutboxRowsAsync(string id)
    {
        await using var connection = new Microsoft.Data.Sqlite.SqliteConnection(Factory.ConnectionString);
        await connection.OpenAsync();
        var command = connection.CreateCommand();
        command.CommandText = "SELECT COUNT(*) FROM outbox_events WHERE registration_id = $id AND partner_id IS NULL";
        command.Parameters.AddWithValue("$id", id);
        return Convert.ToInt32(await command.ExecuteScalarAsync());
    }
}
