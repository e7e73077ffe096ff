using System.Net;
using System.Text.Json.Nodes;
using WireMock.RequestBuilders;
using WireMock.ResponseBuilders;
using PartnerDeals.IntegrationTests.Support;

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
    }

    private static JsonObject Record(string id, string account, string stamp, bool deleted = false, bool won = false, string? website = null) => new()
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
        Soql(0).ShouldBe("SELECT Id, IsDeleted, IsClosed, IsWon, SystemModstamp, Account.Name, Account.Website, Account.BillingCountry, Owner.Name, "
            + "StageName, Amount, CurrencyIsoCode, CloseDate, CreatedDate FROM Opportunity WHERE (IsPrivate = false) ORDER BY SystemModstamp, Id");

        // A registration made after the pull conflicts with a pulled opportunity.
        var partner = await PartnerAsync("gold");
        var registration = await RegisterAsync(partner.Client, Body(held, heldDomain));
        Status(registration).ShouldBe("pending_review");

        // The next run starts strictly after the last record read, at Salesforce's own clock.
        Crm.ResetMappings();
        ResetCrm();
        Crm.Given(Request.Create().WithPath(QueryAllPath).UsingGet()).RespondWith(Page(true));
        await PullAsync("salesforce");
        Soql(0).ShouldContain($"WHERE (SystemModstamp > 2026-11-30T10:07:00.000Z OR (SystemModstamp = 2026-11-30T10:07:00.000Z AND Id > '006A{tag}2')) AND (IsPrivate = false)");
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
        await Task.Delay(400); // the configured wait

        var resumed = await PullAsync("salesforce");

        resumed["lastError"].ShouldBeNull();
        resumed["lastRun"]!.Get<long>("created").ShouldBe(1, "only what was left");
        Requests(NextPath).Count.ShouldBe(2, "resumed from the page that was limited");
        (await Admin.GetAsync($"/v1/opportunities/salesforce/006B{tag}1")).StatusCode.ShouldBe(HttpStatusCode.OK);
        (await Admin.GetAsync($"/v1/opportunities/salesforce/006B{tag}2")).StatusCode.ShouldBe(HttpStatusCode.OK);
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
