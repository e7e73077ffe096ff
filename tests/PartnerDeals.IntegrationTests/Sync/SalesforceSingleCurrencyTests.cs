using System.Text.Json.Nodes;
using WireMock.RequestBuilders;
using WireMock.ResponseBuilders;
using PartnerDeals.IntegrationTests.Support;
using static PartnerDeals.IntegrationTests.Support.RegistrationCalls;

namespace PartnerDeals.IntegrationTests.Sync;

/// <summary>
/// A single-currency Salesforce org has no <c>CurrencyIsoCode</c> and refuses every query and write naming it: a describe of
/// Opportunity, once, tells, and neither the pull nor the push names it again.
/// </summary>
public sealed class SalesforceSingleCurrencyTests : SyncTest
{
    private const string TokenPath = "/services/oauth2/token";
    private const string QueryAllPath = "/services/data/v62.0/queryAll";
    private const string DescribePath = "/services/data/v62.0/sobjects/Opportunity/describe";

    protected override IDictionary<string, string?> CrmSettings => new Dictionary<string, string?>
    {
        ["Crm:Salesforce:InstanceUrl"] = Crm.Url,
        ["Crm:Salesforce:TokenUrl"] = Crm.Url + TokenPath,
        ["Crm:Salesforce:ClientId"] = "partnerdeals-connected-app",
        ["Crm:Salesforce:ClientSecret"] = "sf-client-secret-7f3a",
        ["Crm:Salesforce:CorporateCurrency"] = "CHF",
        ["Crm:Salesforce:Pipeline:Enabled"] = "true",
        ["Crm:Salesforce:Pipeline:Interval"] = "01:00:00",
    };

    /// <summary>The org is stubbed before the host starts: its first pull, at start-up, is the one that describes it.</summary>
    public SalesforceSingleCurrencyTests()
    {
        Crm.Given(Request.Create().WithPath(TokenPath).UsingPost()).RespondWith(Response.Create().WithStatusCode(200)
            .WithHeader("Content-Type", "application/json").WithBody("""{"access_token":"sf-token-1","token_type":"Bearer"}"""));
        Crm.Given(Request.Create().WithPath(DescribePath).UsingGet()).RespondWith(Response.Create().WithStatusCode(200)
            .WithHeader("Content-Type", "application/json")
            .WithBody("""{"name":"Opportunity","fields":[{"name":"Id"},{"name":"Name"},{"name":"Amount"},{"name":"StageName"},{"name":"CloseDate"}]}"""));
        Crm.Given(Request.Create().WithPath(QueryAllPath).UsingGet().WithParam("q", new WireMock.Matchers.WildcardMatcher("*CurrencyIsoCode*")))
            .AtPriority(1).RespondWith(Response.Create().WithStatusCode(400).WithHeader("Content-Type", "application/json")
                .WithBody("""[{"message":"No such column 'CurrencyIsoCode' on entity 'Opportunity'.","errorCode":"INVALID_FIELD"}]"""));
        Crm.Given(Request.Create().WithPath(new WireMock.Matchers.WildcardMatcher("/services/data/v62.0/sobjects/Opportunity/PartnerDeals_Registration_Id__c/*"))
                .UsingPatch().WithBody(new WireMock.Matchers.WildcardMatcher("*CurrencyIsoCode*")))
            .AtPriority(1).RespondWith(Response.Create().WithStatusCode(400).WithHeader("Content-Type", "application/json")
                .WithBody("""[{"message":"No such column 'CurrencyIsoCode' on entity 'Opportunity'.","errorCode":"INVALID_FIELD","fields":[]}]"""));
        Crm.Given(Request.Create().WithPath(new WireMock.Matchers.WildcardMatcher("/services/data/v62.0/sobjects/Opportunity/PartnerDeals_Registration_Id__c/*"))
                .UsingPatch()).AtPriority(5)
            .RespondWith(Response.Create().WithStatusCode(201).WithHeader("Content-Type", "application/json")
                .WithBody("""{"id":"0065g00000AbCdEAAV","success":true,"errors":[],"created":true}"""));
    }

    [OneTimeSetUp]
    public Task WaitForTheFirstRun() => WaitForFirstPullAsync("salesforce");

    [Test]
    public async Task PullAndPush_LeaveCurrencyIsoCodeOut_AndReadAmountsInTheCorporateCurrency()
    {
        var tag = Guid.NewGuid().ToString("N")[..6];
        Crm.Given(Request.Create().WithPath(QueryAllPath).UsingGet()).AtPriority(5).RespondWith(Response.Create().WithStatusCode(200)
            .WithHeader("Content-Type", "application/json").WithBody(new JsonObject
            {
                ["totalSize"] = 1, ["done"] = true,
                ["records"] = new JsonArray(new JsonObject
                {
                    ["Id"] = $"006S{tag}1", ["IsDeleted"] = false, ["IsClosed"] = false, ["IsWon"] = false, ["SystemModstamp"] = "2026-11-30T16:00:00.000+0000",
                    ["Account"] = new JsonObject { ["Name"] = $"Single {tag} AG", ["BillingCountry"] = "CH", ["SystemModstamp"] = "2026-11-30T16:00:00.000+0000" },
                    ["StageName"] = "Prospecting", ["Amount"] = 90000.0, ["CloseDate"] = "2027-01-31",
                }),
            }.ToJsonString()));

        var status = await PullAsync("salesforce");

        status["lastError"].ShouldBeNull();
        var pulled = await ReadJsonAsync(await Admin.GetAsync($"/v1/opportunities/salesforce/006S{tag}1"));
        pulled.Get<decimal>("amount").ShouldBe(90_000m);
        pulled.Get<string>("currency").ShouldBe("CHF");

        var (registration, _) = await RegisterNewAsync();
        var deliveries = await DispatchUntilSettledAsync(Id(registration));
        deliveries[0].Get<string>("status").ShouldBe("delivered", Outcomes(deliveries[0]));
        Requests(DescribePath).Count.ShouldBe(1, "described once, for the pull and the push alike");
    }
}
