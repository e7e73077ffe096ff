using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Dapper;
using Microsoft.Data.Sqlite;
using PartnerDeals.IntegrationTests.Support;
using WireMock.Matchers;
using WireMock.RequestBuilders;
using WireMock.ResponseBuilders;
using static PartnerDeals.IntegrationTests.Support.RegistrationCalls;

namespace PartnerDeals.IntegrationTests.Sync;

/// <summary>
/// What the delivery engine suites (DeliveryEngineTests, DeliveryOpsTests) share: the host with Salesforce as its CRM, each
/// CRM's settings and stubs where a suite runs all three, and the waits for the sync status and a delivery's lease.
/// </summary>
public abstract class SalesforceDeliveryTest : SyncTest
{
    protected const string TokenPath = "/services/oauth2/token";
    protected const string UpsertPath = "/services/data/v62.0/sobjects/Opportunity/PartnerDeals_Registration_Id__c/";
    protected const string Secret = "engine-client-secret-5d2e";
    protected const string HubSpotToken = "pat-eu1-engine-secret-token";
    protected const string DynamicsTokenPath = "/engine-tenant/oauth2/v2.0/token";
    protected const string DynamicsSecret = "engine-dynamics-secret-8b1f";

    protected override IDictionary<string, string?> CrmSettings => new Dictionary<string, string?>
    {
        ["Crm:Salesforce:InstanceUrl"] = Crm.Url,
        ["Crm:Salesforce:TokenUrl"] = Crm.Url + TokenPath,
        ["Crm:Salesforce:ClientId"] = "engine-app",
        ["Crm:Salesforce:ClientSecret"] = Secret,
        // The engine's per-request behaviour (faults request by request, one upsert per change); several changes in one
        // sObject Collections call are SalesforceSyncTests'.
        ["Crm:Salesforce:Collections"] = "false",
    };

    [SetUp]
    public void ResetCrm()
    {
        Crm.ResetMappings();
        Crm.ResetLogEntries();
        Crm.Given(Request.Create().WithPath(TokenPath).UsingPost()).RespondWith(Token("sf-token-1"));
    }

    protected Dictionary<string, string?> SettingsOf(string crm) => crm switch
    {
        "salesforce" => new(CrmSettings),
        "hubspot" => new() { ["Crm:HubSpot:BaseUrl"] = Crm.Url, ["Crm:HubSpot:AccessToken"] = HubSpotToken },
        _ => new()
        {
            ["Crm:Dynamics:BaseUrl"] = Crm.Url,
            ["Crm:Dynamics:TokenUrl"] = Crm.Url + DynamicsTokenPath,
            ["Crm:Dynamics:ClientId"] = "engine-app",
            ["Crm:Dynamics:ClientSecret"] = DynamicsSecret,
        },
    };

    /// <summary>Every upsert of <paramref name="crm"/> answers 503 (down) or success (up); sign-in always works.</summary>
    protected void StubCrm(string crm, bool up)
    {
        var answer = Response.Create().WithStatusCode(up ? (crm == "hubspot" ? 200 : 204) : 503);
        if (up && crm == "hubspot") answer = answer.WithBody("""{"status":"COMPLETE","results":[]}""");
        Crm.Given(Request.Create().WithPath(TokenPath).UsingPost()).RespondWith(Token("sf-token-1"));
        Crm.Given(Request.Create().WithPath(DynamicsTokenPath).UsingPost()).RespondWith(Token("dyn-token-1"));
        var upsert = crm switch
        {
            "salesforce" => Request.Create().WithPath(new WildcardMatcher(UpsertPath + "*")).UsingPatch(),
            "hubspot" => Request.Create().WithPath("/crm/v3/objects/deals/batch/upsert").UsingPost(),
            _ => Request.Create().WithPath(new WildcardMatcher("/api/data/v9.2/opportunities(*")).UsingPatch(),
        };
        Crm.Given(upsert).RespondWith(answer);
        // Dataverse is down or up as a whole: its currency lookup with it.
        Crm.Given(Request.Create().WithPath("/api/data/v9.2/transactioncurrencies").UsingGet()).RespondWith(up
            ? Response.Create().WithStatusCode(200).WithHeader("Content-Type", "application/json")
                .WithBody("""{"value":[{"transactioncurrencyid":"6a4c1d2e-0f3b-4a5c-9d7e-8f1a2b3c4d5e"}]}""")
            : Response.Create().WithStatusCode(503));
    }

    /// <summary>Settings for an instance whose dispatcher runs on its own every 50 ms.</summary>
    protected Dictionary<string, string?> Running(Dictionary<string, string?>? overrides = null)
    {
        var settings = Timings("00:00:00.050");
        foreach (var (key, value) in CrmSettings) settings[key] = value;
        foreach (var (key, value) in overrides ?? []) settings[key] = value;
        return settings;
    }

    /// <summary>Registers <paramref name="count"/> new companies for one new silver partner, through ops on its behalf.</summary>
    protected static async Task<IReadOnlyList<string>> RegisterManyAsync(HttpClient admin, int count)
    {
        var created = await admin.PostAsJsonAsync("/v1/partners", new { name = Unique("Partner"), type = "reseller", tier = "silver", contactEmail = "a@partner.example" });
        var partnerId = Id((await ReadJsonAsync(created))!);
        var ids = new List<string>();
        for (var i = 0; i < count; i++)
        {
            var (company, domain) = NewCompany();
            ids.Add(Id(await RegisterAsync(admin, Body(company, domain, partnerId: partnerId))));
        }
        return ids;
    }

    protected static async Task<JsonObject> WaitForAsync(HttpClient admin, Func<JsonObject, bool> done, TimeSpan timeout, string crm = "salesforce")
    {
        return await Eventually.UntilAsync(
            async () => (await ReadJsonAsync(await admin.GetAsync("/v1/sync/status"))).AsArray().Select(s => s!.AsObject())
                .Single(s => s.Get<string>("crm") == crm),
            done, "sync to get there", timeout);
    }

    /// <summary>Waits until some instance has leased the registration's delivery; answers until when.</summary>
    protected static async Task<DateTimeOffset> LeasedUntilAsync(string connectionString, string registrationId)
    {
        var leased = await Eventually.UntilAsync(
            async () =>
            {
                await using var connection = new SqliteConnection(connectionString);
                return await connection.QuerySingleOrDefaultAsync<string>(
                    "SELECT locked_until FROM outbox_deliveries WHERE registration_id = @Id AND lease_id IS NOT NULL", new { Id = registrationId });
            },
            leased => leased is not null, "an instance to lease the delivery", TimeSpan.FromSeconds(10), TimeSpan.FromMilliseconds(20));
        return DateTimeOffset.Parse(leased!, System.Globalization.CultureInfo.InvariantCulture);
    }

    protected static IResponseBuilder Refusal() => Response.Create().WithStatusCode(400).WithHeader("Content-Type", "application/json")
        .WithBody("""[{"message":"Close Date: You must enter a value","errorCode":"REQUIRED_FIELD_MISSING","fields":["CloseDate"]}]""");

    protected static IResponseBuilder Token(string token) => Response.Create().WithStatusCode(200).WithHeader("Content-Type", "application/json")
        .WithBody(new JsonObject { ["access_token"] = token, ["instance_url"] = "https://acme.my.salesforce.com", ["token_type"] = "Bearer" }.ToJsonString());
}
