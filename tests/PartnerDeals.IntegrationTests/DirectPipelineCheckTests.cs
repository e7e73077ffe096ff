using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using PartnerDeals.IntegrationTests.Support;
using static PartnerDeals.IntegrationTests.Support.OpportunityCalls;

namespace PartnerDeals.IntegrationTests;

/// <summary>The conflict check against the direct pipeline: a same-domain open deal conflicts, a won account is a customer, a lost deal does not block, a partner learns only availability.</summary>
public sealed class DirectPipelineCheckTests : HostTest
{
    // The direct pipeline over HTTP, through a CRM key.
    private HttpClient Crm { get; set; } = null!;

    [OneTimeSetUp]
    public async Task IssueCrmKey() => Crm = await Factory.ClientOfRoleAsync("crm");

    [Test]
    public async Task ConflictCheck_SameDomainAsOpenDirectDeal_FlagsConflictWithExplanation()
    {
        var id = Guid.NewGuid().ToString("N");
        await Crm.PutAsJsonAsync($"/v1/opportunities/salesforce/{id}", Opportunity("Tailspin Toys GmbH", $"https://www.tailspin-{id[..6]}.de"));

        var check = await CheckAsync(Crm, "Tailspin Spielwaren", $"anna@tailspin-{id[..6]}.de", "DE");

        check.Get<string>("verdict").ShouldBe("conflict");
        check.Get<string>("reason").ShouldBe("account_unavailable");
        var top = check["candidates"]!.AsArray()[0]!;
        top.Get<string>("kind").ShouldBe("direct_opportunity");
        top.Get<string>("externalId").ShouldBe(id);
        top["signals"]!.AsArray().Select(s => s!.Get<string>("name")).ShouldContain("domain_equal");
    }

    [Test]
    public async Task ConflictCheck_WonAccount_IsAnExistingCustomer()
    {
        var id = Guid.NewGuid().ToString("N");
        var name = "Wingtip Kestrel " + id[..6];
        await Crm.PutAsJsonAsync($"/v1/opportunities/salesforce/{id}", Opportunity(name + " AG", status: "won"));
        var check = await CheckAsync(Crm, name, null, "DE");
        check.Get<string>("verdict").ShouldBe("conflict");
        check["candidates"]!.AsArray()[0]!.Get<string>("kind").ShouldBe("existing_customer");
    }

    [Test]
    public async Task ConflictCheck_LostOpportunity_DoesNotBlock()
    {
        var id = Guid.NewGuid().ToString("N");
        var name = "Lost Cause Widgets " + id[..6];
        await Crm.PutAsJsonAsync($"/v1/opportunities/salesforce/{id}", Opportunity(name, status: "lost"));
        (await CheckAsync(Crm, name, null, "DE")).Get<string>("verdict").ShouldBe("clear");
    }

    [Test]
    public async Task ConflictCheck_ForPartner_AnswersWhetherAvailableNeverWhoseAccount()
    {
        var id = Guid.NewGuid().ToString("N");
        var name = "Secretive Accounts " + id[..6];
        await Crm.PutAsJsonAsync($"/v1/opportunities/salesforce/{id}", Opportunity(name, $"secret-{id[..6]}.com"));
        var partner = await CreatePartnerAsync();
        using var client = Factory.Client(await IssuePartnerKeyAsync(partner.Get<string>("id")));

        var response = await client.PostAsJsonAsync("/v1/conflict-checks", new { companyName = name, domain = $"secret-{id[..6]}.com", country = "DE" });
        var text = await response.Content.ReadAsStringAsync();

        response.StatusCode.ShouldBe(HttpStatusCode.OK);
        var body = JsonNode.Parse(text)!.AsObject();
        body.Select(p => p.Key).Order().ShouldBe(["available", "reason"]);
        body.Get<bool>("available").ShouldBeFalse();
        text.ShouldNotContain(id);
        text.ShouldNotContain("salesforce");
        text.ShouldNotContain("Secretive");
    }

    [Test]
    public async Task ConflictCheck_FreeMailDomain_IsNotEvidence()
    {
        var id = Guid.NewGuid().ToString("N");
        await Crm.PutAsJsonAsync($"/v1/opportunities/salesforce/{id}", Opportunity("Gmail User Shop " + id[..6], "owner@gmail.com"));
        var check = await CheckAsync(Crm, "Entirely Different Bakery " + id[..6], "baker@gmail.com", "DE");
        check["candidates"]!.AsArray().ShouldAllBe(c => !c!["signals"]!.ToJsonString().Contains("domain_equal"));
    }

    [Test]
    public async Task ConflictCheck_BadInput_ListsEveryBadField()
    {
        var response = await Crm.PostAsync("/v1/conflict-checks", JsonBody("""{"companyName":"  ","domain":"http://","country":"Germany"}"""));
        ErrorFields(await ReadProblemAsync(response, HttpStatusCode.BadRequest, "validation")).ShouldBe(["companyName", "country", "domain"]);
    }
}
