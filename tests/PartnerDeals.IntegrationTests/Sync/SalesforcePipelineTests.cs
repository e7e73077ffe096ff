using Microsoft.Extensions.DependencyInjection;
using System.Net;
using System.Text.Json.Nodes;
using WireMock.RequestBuilders;
using WireMock.ResponseBuilders;
using PartnerDeals.IntegrationTests.Support;
using static PartnerDeals.IntegrationTests.Support.RegistrationCalls;

namespace PartnerDeals.IntegrationTests.Sync;

/// <summary>
/// Pulling Salesforce's pipeline through the real puller, against stubs that answer as Salesforce's REST query
/// resource does: <c>queryAll</c> with <c>done</c>, <c>nextRecordsUrl</c> and records with their relationships.
/// </summary>
public sealed class SalesforcePipelineTests : SyncTest
{
    private const string TokenPath = "/services/oauth2/token";
    private const string QueryAllPath = "/services/data/v62.0/queryAll";
    private const string NextPath = "/services/data/v62.0/query/01gRO0000016PIAYA2-2000";
    private const string QueryPath = "/services/data/v62.0/query";

    protected override IDictionary<string, string?> CrmSettings => new Dictionary<string, string?>
    {
        ["Crm:Salesforce:InstanceUrl"] = Crm.Url,
        ["Crm:Salesforce:TokenUrl"] = Crm.Url + TokenPath,
        ["Crm:Salesforce:ClientId"] = "partnerdeals-connected-app",
        ["Crm:Salesforce:ClientSecret"] = "sf-client-secret-7f3a",
        ["Crm:Salesforce:RequestLimitWait"] = "00:00:00.300",
        ["Crm:Salesforce:Pipeline:Enabled"] = "true",
        ["Crm:Salesforce:Pipeline:Interval"] = "01:00:00",
        ["Crm:Salesforce:Pipeline:Filter"] = "IsPrivate = false",
        ["Crm:Salesforce:Pipeline:FailureBackoff"] = "00:00:00.500",
    };

    [OneTimeSetUp]
    public Task WaitForTheFirstRun() => WaitForFirstPullAsync("salesforce");

    [SetUp]
    public void ResetCrm()
    {
        Crm.ResetMappings();
        Crm.ResetLogEntries();
        Crm.Given(Request.Create().WithPath(TokenPath).UsingPost()).RespondWith(Response.Create().WithStatusCode(200)
            .WithHeader("Content-Type", "application/json")
            .WithBody("""{"access_token":"sf-token-1","instance_url":"https://acme.my.salesforce.com","token_type":"Bearer","issued_at":"1763892000000"}"""));
        // SOQL dateTime literals have no fractional seconds ("Date Formats and Date Literals"): Salesforce refuses the query.
        Crm.Given(Request.Create().WithPath(new WireMock.Matchers.RegexMatcher("/services/data/v62.0/query(All)?$")).UsingGet()
                .WithParam("q", new WireMock.Matchers.RegexMatcher(@"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d")))
            .AtPriority(0)
            .RespondWith(Response.Create().WithStatusCode(400).WithHeader("Content-Type", "application/json")
                .WithBody("""[{"message":"line 1:120 no viable alternative at character '.'","errorCode":"MALFORMED_QUERY"}]"""));
    }

    private static JsonObject Record(string id, string account, string stamp, bool deleted = false, bool won = false, string? website = null,
        string accountStamp = "2026-11-01T09:00:00.000+0000") => new()
    {
        ["attributes"] = new JsonObject { ["type"] = "Opportunity", ["url"] = $"/services/data/v62.0/sobjects/Opportunity/{id}" },
        ["Id"] = id,
        ["IsDeleted"] = deleted,
        ["IsClosed"] = won,
        ["IsWon"] = won,
        ["SystemModstamp"] = stamp,
        ["Account"] = account.Length == 0 ? null : new JsonObject
        {
            ["attributes"] = new JsonObject { ["type"] = "Account" },
            ["Name"] = account,
            ["Website"] = website,
            ["BillingCountry"] = "DE",
            ["SystemModstamp"] = accountStamp,
        },
        ["Owner"] = new JsonObject { ["Name"] = "Dana Direct" },
        ["StageName"] = won ? "Closed Won" : "Prospecting",
        ["Amount"] = 120000.0,
        ["CurrencyIsoCode"] = "EUR",
        ["CloseDate"] = "2027-01-31",
        ["CreatedDate"] = "2026-10-01T08:00:00.000+0000",
    };

    private static IResponseBuilder Page(bool done, params JsonObject[] records)
    {
        var body = new JsonObject { ["totalSize"] = records.Length, ["done"] = done, ["records"] = new JsonArray(records) };
        if (!done) body["nextRecordsUrl"] = NextPath;
        return Response.Create().WithStatusCode(200).WithHeader("Content-Type", "application/json").WithBody(body.ToJsonString());
    }

    /// <summary>
    /// Each test reads the stubs it sets from the start, whatever cursor the fixture's earlier tests left: the cursor is
    /// cleared and the run that asks for (against no query stub yet, so it reads nothing) is waited out.
    /// </summary>
    private async Task FromTheBeginningAsync()
    {
        (await Admin.PostAsync("/v1/sync/pipeline/salesforce/resync", null)).StatusCode.ShouldBe(HttpStatusCode.Accepted);
        await PullAsync("salesforce");
        Crm.ResetLogEntries();
    }

    private string Soql(int request) =>
        Uri.UnescapeDataString(Requests(QueryAllPath).ElementAt(request).RequestMessage.Query!["q"].ToString());

    [Test]
    public async Task Pull_PagesDeletionsAndABadRecord_TheNextRunStartsStrictlyAfterTheCursor()
    {
        await FromTheBeginningAsync();
        var tag = Guid.NewGuid().ToString("N")[..6];
        var (held, heldDomain) = NewCompany();
        // Two records share a timestamp across the page boundary; one has no account; the last is deleted.
        Crm.Given(Request.Create().WithPath(QueryAllPath).UsingGet()).RespondWith(Page(false,
            Record($"006A{tag}1", held, "2026-11-30T10:00:00.000+0000", website: $"https://www.{heldDomain}"),
            Record($"006A{tag}2", $"Second {tag} AG", "2026-11-30T10:05:00.000+0000")));
        Crm.Given(Request.Create().WithPath(NextPath).UsingGet()).RespondWith(Page(true,
            Record($"006A{tag}3", $"Third {tag} SE", "2026-11-30T10:05:00.000+0000", won: true),
            Record($"006A{tag}4", "", "2026-11-30T10:06:00.000+0000"),
            Record($"006A{tag}2", $"Second {tag} AG", "2026-11-30T10:07:00.000+0000", deleted: true)));

        var status = await PullAsync("salesforce");

        status["lastError"].ShouldBeNull();
        status["lastRun"]!.Get<long>("created").ShouldBe(3);
        status["lastRun"]!.Get<long>("deleted").ShouldBe(1);
        status["lastRun"]!.Get<long>("rejected").ShouldBe(1);
        status["rejections"]!.AsArray().ShouldContain(r => r!.Get<string>("externalId") == $"006A{tag}4"
            && r.Get<string>("reason").Contains("no account name"));
        var first = await ReadJsonAsync(await Admin.GetAsync($"/v1/opportunities/salesforce/006A{tag}1"));
        first.Get<string>("accountName").ShouldBe(held);
        first.Get<string>("companyDomain").ShouldBe(heldDomain);
        first.Get<string>("owner").ShouldBe("Dana Direct");
        first.Get<decimal>("amount").ShouldBe(120_000m);
        first.Get<string>("openedDate").ShouldBe("2026-10-01");
        (await ReadJsonAsync(await Admin.GetAsync($"/v1/opportunities/salesforce/006A{tag}3"))).Get<string>("status").ShouldBe("won");
        (await Admin.GetAsync($"/v1/opportunities/salesforce/006A{tag}2")).StatusCode.ShouldBe(HttpStatusCode.NotFound, "deleted in Salesforce");
        Soql(0).ShouldBe("SELECT Id, IsDeleted, IsClosed, IsWon, SystemModstamp, Account.SystemModstamp, Account.Name, Account.Website, "
            + "Account.BillingCountry, Owner.Name, StageName, Amount, CurrencyIsoCode, CloseDate, CreatedDate FROM Opportunity WHERE (IsPrivate = false) "
            + "ORDER BY SystemModstamp, Id");

        // A registration made after the pull conflicts with a pulled opportunity.
        var partner = await PartnerAsync("gold");
        var registration = await RegisterAsync(partner.Client, Body(held, heldDomain));
        Status(registration).ShouldBe("pending_review");

        // The next run starts at the last record's second, at Salesforce's own clock, in a documented literal; what the
        // cursor passed in that second is not taken again.
        Crm.ResetMappings();
        ResetCrm();
        Crm.Given(Request.Create().WithPath(QueryAllPath).UsingGet()).RespondWith(Page(true,
            Record($"006A{tag}1", held, "2026-11-30T10:06:59.000+0000"),
            Record($"006A{tag}2", $"Second {tag} AG", "2026-11-30T10:07:00.000+0000"),
            Record($"006A{tag}5", $"Fifth {tag} AG", "2026-11-30T10:07:00.400+0000")));
        Crm.Given(Request.Create().WithPath(QueryPath).UsingGet()).RespondWith(Page(true));
        var next = await PullAsync("salesforce");
        next["lastError"].ShouldBeNull();
        next["lastRun"]!.Get<long>("created").ShouldBe(1, "only the record past the cursor; the one at it and the one before were taken");
        next["lastRun"]!.Get<long>("updated").ShouldBe(0);
        (await Admin.GetAsync($"/v1/opportunities/salesforce/006A{tag}2")).StatusCode.ShouldBe(HttpStatusCode.NotFound, "still deleted");
        Soql(0).ShouldContain("WHERE SystemModstamp >= 2026-11-30T10:07:00Z AND (IsPrivate = false)");
    }

    [Test]
    public async Task PoisonPage_TheRunCompletes_GoodAndCleanedRecordsAreIn_TheCursorMoves_TheRestAreListed()
    {
        await FromTheBeginningAsync();
        var tag = Guid.NewGuid().ToString("N")[..6];
        var records = new JsonArray();
        var clean = new List<(string Id, string Name)>();
        foreach (var (what, dirty) in VendorDebris.Names)
        {
            var (name, _) = NewCompany();
            var id = $"006P{tag}{clean.Count:D2}";
            records.Add(Record(id, dirty(name), $"2026-11-30T13:00:{clean.Count:D2}.000+0000"));
            clean.Add((id, name));
        }
        var (optionalName, _) = NewCompany();
        var optional = Record($"006P{tag}90", optionalName, "2026-11-30T13:01:00.000+0000", website: "n/a");
        optional["Owner"] = new JsonObject { ["Name"] = "Dana\tDirect" };
        optional["StageName"] = new string('s', 60) + " " + new string('t', 59);
        records.Add(optional);
        records.Add(Record($"006P{tag}91", "", "2026-11-30T13:02:00.000+0000"));
        Crm.Given(Request.Create().WithPath(QueryAllPath).UsingGet()).RespondWith(Response.Create().WithStatusCode(200)
            .WithHeader("Content-Type", "application/json")
            .WithBody(VendorDebris.Json(new JsonObject { ["totalSize"] = records.Count, ["done"] = true, ["records"] = records })));

        var status = await PullAsync("salesforce");

        status["lastError"].ShouldBeNull();
        status["lastRun"]!.Get<long>("created").ShouldBe(VendorDebris.Names.Count + 1);
        status["lastRun"]!.Get<long>("rejected").ShouldBe(1);
        // The lone surrogate's escape is dropped as the answer is read; the other debris and the optional fields are cleaned.
        status["lastRun"]!.Get<long>("cleaned").ShouldBe(VendorDebris.Names.Count);
        status.Get<string>("cursor").ShouldContain("13:02:00");
        status["rejections"]!.AsArray().ShouldContain(r => r!.Get<string>("externalId") == $"006P{tag}91");
        var cleanedOptional = status["cleanings"]!.AsArray().Single(c => c!.Get<string>("externalId") == $"006P{tag}90")!["changes"]!.AsArray();
        cleanedOptional.Select(c => c!.Get<string>("field")).ShouldBe(["accountDomain", "owner", "stage"], ignoreOrder: true);
        var kept = await ReadJsonAsync(await Admin.GetAsync($"/v1/opportunities/salesforce/006P{tag}90"));
        kept["accountDomain"].ShouldBeNull();
        kept.Get<string>("owner").ShouldBe("Dana Direct");
        kept.Get<string>("stage").ShouldBe(new string('s', 60));
        var partner = await PartnerAsync("gold");
        foreach (var (id, name) in clean)
        {
            (await ReadJsonAsync(await Admin.GetAsync($"/v1/opportunities/salesforce/{id}"))).Get<string>("accountName").ShouldBe(name);
            Status(await RegisterAsync(partner.Client, Body(name, null))).ShouldNotBe("approved", name);
        }
    }

    [Test]
    public async Task RenamedAccount_IsReadAgainByItsAccountStamp_AndTheConflictCheckSeesTheNewName()
    {
        await FromTheBeginningAsync();
        var tag = Guid.NewGuid().ToString("N")[..6];
        var (before, _) = NewCompany();
        var (after, _) = NewCompany();
        Crm.Given(Request.Create().WithPath(QueryAllPath).UsingGet()).RespondWith(Page(true,
            Record($"006R{tag}1", before, "2026-11-30T14:00:00.000+0000", accountStamp: "2026-11-30T14:00:00.000+0000")));
        (await PullAsync("salesforce"))["lastError"].ShouldBeNull();

        // The account is renamed: its own stamp moves, the opportunity's does not.
        Crm.ResetMappings();
        ResetCrm();
        Crm.Given(Request.Create().WithPath(QueryAllPath).UsingGet()).RespondWith(Page(true));
        Crm.Given(Request.Create().WithPath(QueryPath).UsingGet()).RespondWith(Page(true,
            Record($"006R{tag}1", after, "2026-11-30T14:00:00.000+0000", accountStamp: "2026-11-30T15:30:00.000+0000")));
        var renamed = await PullAsync("salesforce");

        renamed["lastError"].ShouldBeNull();
        renamed["lastRun"]!.Get<long>("updated").ShouldBe(1);
        Soql(0).ShouldContain("WHERE SystemModstamp >= 2026-11-30T14:00:00Z");
        var accounts = Uri.UnescapeDataString(Requests(QueryPath).Single(r => r.RequestMessage.Path == QueryPath).RequestMessage.Query!["q"].ToString());
        accounts.ShouldContain("WHERE Account.SystemModstamp >= 2026-11-30T14:00:00Z AND (IsPrivate = false) ORDER BY Account.SystemModstamp, Id");
        (await ReadJsonAsync(await Admin.GetAsync($"/v1/opportunities/salesforce/006R{tag}1"))).Get<string>("accountName").ShouldBe(after);
        var partner = await PartnerAsync("gold");
        Status(await RegisterAsync(partner.Client, Body(after, null))).ShouldNotBe("approved");
    }

    [Test]
    public async Task RateLimitMidway_PausesAndResumesFromTheLastPage_NothingMissedOrDoubled()
    {
        await FromTheBeginningAsync();
        var tag = Guid.NewGuid().ToString("N")[..6];
        Crm.Given(Request.Create().WithPath(QueryAllPath).UsingGet()).RespondWith(Page(false,
            Record($"006B{tag}1", $"Limit One {tag} GmbH", "2026-11-30T11:00:00.000+0000")));
        Crm.Given(Request.Create().WithPath(NextPath).UsingGet()).InScenario("limit").WillSetStateTo("freed")
            .RespondWith(Response.Create().WithStatusCode(403).WithHeader("Content-Type", "application/json")
                .WithBody("""[{"message":"TotalRequests Limit exceeded.","errorCode":"REQUEST_LIMIT_EXCEEDED"}]"""));
        Crm.Given(Request.Create().WithPath(NextPath).UsingGet()).InScenario("limit").WhenStateIs("freed")
            .RespondWith(Page(true, Record($"006B{tag}2", $"Limit Two {tag} GmbH", "2026-11-30T11:01:00.000+0000")));

        var paused = await PullAsync("salesforce");
        paused.Get<string>("lastError").ShouldContain("REQUEST_LIMIT_EXCEEDED");
        paused["lastRun"]!.Get<long>("created").ShouldBe(1);
        var pausedUntil = paused["pausedUntil"]!.GetValue<DateTimeOffset>();
        await Eventually.UntilAsync(() => DateTimeOffset.UtcNow >= pausedUntil, "the configured wait to pass");

        var resumed = await PullAsync("salesforce");

        resumed["lastError"].ShouldBeNull();
        resumed["lastRun"]!.Get<long>("created").ShouldBe(1, "only what was left");
        Requests(NextPath).Count.ShouldBe(2, "resumed from the page that was limited");
        (await Admin.GetAsync($"/v1/opportunities/salesforce/006B{tag}1")).StatusCode.ShouldBe(HttpStatusCode.OK);
        (await Admin.GetAsync($"/v1/opportunities/salesforce/006B{tag}2")).StatusCode.ShouldBe(HttpStatusCode.OK);
    }

    [Test]
    public async Task FailedRun_IsTriedAgainByItselfAfterABackoff_AndTheStatusShowsIt()
    {
        await FromTheBeginningAsync();
        var tag = Guid.NewGuid().ToString("N")[..6];
        Crm.Given(Request.Create().WithPath(QueryAllPath).UsingGet()).InScenario("sign-in").WillSetStateTo("fixed")
            .RespondWith(Response.Create().WithStatusCode(403).WithHeader("Content-Type", "application/json")
                .WithBody("""[{"message":"The integration user cannot read Opportunity.","errorCode":"INSUFFICIENT_ACCESS_OR_READONLY"}]"""));
        Crm.Given(Request.Create().WithPath(QueryAllPath).UsingGet()).InScenario("sign-in").WhenStateIs("fixed")
            .RespondWith(Page(true, Record($"006F{tag}1", $"Backoff {tag} GmbH", "2026-11-30T15:00:00.000+0000")));

        var failed = await PullAsync("salesforce");

        failed.Get<string>("lastError").ShouldContain("INSUFFICIENT_ACCESS_OR_READONLY");
        failed.Get<int>("failedRuns").ShouldBeGreaterThan(0, "failures in a row, each waiting longer");
        failed["pausedUntil"].ShouldNotBeNull("the next try waits for the backoff");
        // Nobody asks for a run: the puller's own rounds try again once the backoff has passed.
        var puller = Factory.Services.GetRequiredService<PartnerDeals.Api.Features.PipelinePull.PipelinePuller>();
        var status = await Eventually.UntilAsync(
            async () =>
            {
                await puller.PullOnceAsync(CancellationToken.None);
                return await PipelineStatusAsync("salesforce");
            },
            current => current["lastError"] is null, "the puller to try again by itself", TimeSpan.FromSeconds(20));

        status.Get<int>("failedRuns").ShouldBe(0);
        status["lastRun"]!.Get<long>("created").ShouldBe(1);
        (await Admin.GetAsync($"/v1/opportunities/salesforce/006F{tag}1")).StatusCode.ShouldBe(HttpStatusCode.OK);
    }

    [Test]
    public async Task OutageMidway_FailsTheRun_AndTheNextResumesFromTheLastPage()
    {
        await FromTheBeginningAsync();
        var tag = Guid.NewGuid().ToString("N")[..6];
        Crm.Given(Request.Create().WithPath(QueryAllPath).UsingGet()).RespondWith(Page(false,
            Record($"006C{tag}1", $"Outage One {tag} GmbH", "2026-11-30T12:00:00.000+0000")));
        Crm.Given(Request.Create().WithPath(NextPath).UsingGet()).RespondWith(Response.Create().WithStatusCode(503));

        var failed = await PullAsync("salesforce");
        failed.Get<string>("lastError").ShouldContain("503");
        failed["lastRun"]!.Get<long>("created").ShouldBe(1);

        Crm.ResetMappings();
        ResetCrm();
        Crm.Given(Request.Create().WithPath(NextPath).UsingGet()).RespondWith(Page(true,
            Record($"006C{tag}2", $"Outage Two {tag} GmbH", "2026-11-30T12:01:00.000+0000")));
        var resumed = await PullAsync("salesforce");

        resumed["lastError"].ShouldBeNull();
        resumed["lastRun"]!.Get<long>("created").ShouldBe(1, "only the page the outage stopped");
        Requests(QueryAllPath).ShouldBeEmpty("resumed from the query locator, not from the start");
        (await Admin.GetAsync($"/v1/opportunities/salesforce/006C{tag}2")).StatusCode.ShouldBe(HttpStatusCode.OK);
    }

    [Test]
    public async Task Resync_StartsFromTheBeginning_AndUnknownCrmIs404()
    {
        Crm.Given(Request.Create().WithPath(QueryAllPath).UsingGet()).RespondWith(Page(true));
        (await Admin.PostAsync("/v1/sync/pipeline/salesforce/resync", null)).StatusCode.ShouldBe(HttpStatusCode.Accepted);
        (await PipelineStatusAsync("salesforce"))["cursor"].ShouldBeNull();
        await PullAsync("salesforce");
        Soql(Requests(QueryAllPath).Count - 1).ShouldNotContain("SystemModstamp >");
        await ReadProblemAsync(await Admin.PostAsync("/v1/sync/pipeline/hubspot/run", null), HttpStatusCode.NotFound, "not-found");
    }
}
