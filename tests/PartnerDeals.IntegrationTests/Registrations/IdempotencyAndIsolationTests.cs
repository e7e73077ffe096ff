using System.Net;
using System.Net.Http.Json;
using PartnerDeals.IntegrationTests.Support;
using static PartnerDeals.IntegrationTests.Support.RegistrationCalls;

namespace PartnerDeals.IntegrationTests.Registrations;

public sealed class IdempotencyAndIsolationTests : HostTest
{
    [Test]
    public async Task Register_RetryWithSameKeyAndBody_ReturnsTheOriginalResponse()
    {
        var partner = await PartnerAsync();
        var (name, domain) = NewCompany();
        var key = Guid.NewGuid().ToString();
        var first = await PostRegistrationAsync(partner.Client, Body(name, domain), key);
        var firstBody = await first.Content.ReadAsStringAsync();
        first.StatusCode.ShouldBe(HttpStatusCode.Created, firstBody);

        var retry = await PostRegistrationAsync(partner.Client, Body(name, domain), key);
        retry.StatusCode.ShouldBe(HttpStatusCode.Created);
        (await retry.Content.ReadAsStringAsync()).ShouldBe(firstBody);
        retry.Headers.GetValues("Idempotent-Replayed").ShouldBe(["true"]);
        retry.Headers.Location.ShouldBe(first.Headers.Location);
        retry.Headers.ETag.ShouldBe(first.Headers.ETag, "the replay is the first answer, its ETag included");
        (await CountRegistrationsAsync(partner)).ShouldBe(1);
    }

    [Test]
    public async Task Register_SameKeyWithAnotherBody_Answers422AndCreatesNothing()
    {
        var partner = await PartnerAsync();
        var (name, domain) = NewCompany();
        var key = Guid.NewGuid().ToString();
        (await PostRegistrationAsync(partner.Client, Body(name, domain), key)).StatusCode.ShouldBe(HttpStatusCode.Created);
        var other = await PostRegistrationAsync(partner.Client, Body(name, domain, value: 1m), key);
        await ReadProblemAsync(other, HttpStatusCode.UnprocessableEntity, "idempotency-key-reused");
        (await CountRegistrationsAsync(partner)).ShouldBe(1);
    }

    [Test]
    public async Task Register_ConcurrentRetriesWithOneKey_CreateOneRegistration()
    {
        var partner = await PartnerAsync();
        var (name, domain) = NewCompany();
        var key = Guid.NewGuid().ToString();
        var responses = await Task.WhenAll(Enumerable.Range(0, 12).Select(_ => PostRegistrationAsync(partner.Client, Body(name, domain), key)));
        responses.Select(r => r.StatusCode).ShouldAllBe(s => s == HttpStatusCode.Created);
        var ids = await Task.WhenAll(responses.Select(async r => Id(await ReadJsonAsync(r))));
        ids.Distinct().Count().ShouldBe(1);
        (await CountRegistrationsAsync(partner)).ShouldBe(1);
    }

    [Test]
    public async Task Register_KeysArePerPartner_TheSameKeyFromAnotherPartnerIsItsOwn()
    {
        var a = await PartnerAsync();
        var b = await PartnerAsync();
        var key = Guid.NewGuid().ToString();
        var (nameA, domainA) = NewCompany();
        var (nameB, domainB) = NewCompany();
        var first = await RegisterAsync(a.Client, Body(nameA, domainA), key);
        var second = await RegisterAsync(b.Client, Body(nameB, domainB), key);
        Id(second).ShouldNotBe(Id(first));
    }

    [TestCase("")]
    [TestCase("has space")]
    public async Task Register_BadIdempotencyKey_IsRefused(string key)
    {
        var partner = await PartnerAsync();
        var (name, domain) = NewCompany();
        var request = new HttpRequestMessage(HttpMethod.Post, "/v1/registrations") { Content = JsonContent.Create(Body(name, domain)) };
        request.Headers.TryAddWithoutValidation("Idempotency-Key", key);
        var response = await partner.Client.SendAsync(request);
        if (key.Length == 0)
        {
            response.StatusCode.ShouldBe(HttpStatusCode.Created); // an empty header is no key at all
            return;
        }
        ErrorFields(await ReadProblemAsync(response, HttpStatusCode.BadRequest, "validation")).ShouldBe(["Idempotency-Key"]);
    }

    [Test]
    public async Task Register_MissingAndBadFields_ListsEveryOneAndCreatesNothing()
    {
        var partner = await PartnerAsync();
        var response = await partner.Client.PostAsync("/v1/registrations", JsonBody(
            """{"customer":{"companyName":"","country":"XX","domain":"not a domain","employeeCount":0},"contact":{"email":"nope"},"deal":{"estimatedValue":-1,"currency":"EURO"}}"""));
        ErrorFields(await ReadProblemAsync(response, HttpStatusCode.BadRequest, "validation")).ShouldBe([
            "contact.email", "contact.name", "customer.companyName", "customer.country", "customer.domain", "customer.employeeCount",
            "deal.currency", "deal.estimatedValue", "deal.name"]);
        (await CountRegistrationsAsync(partner)).ShouldBe(0);
    }

    [Test]
    public async Task Register_PartnerNamingAnotherPartner_IsRefused_AndOpsMustNameOne()
    {
        var a = await PartnerAsync();
        var b = await PartnerAsync();
        var (name, domain) = NewCompany();
        ErrorFields(await ReadProblemAsync(await PostRegistrationAsync(a.Client, Body(name, domain, partnerId: b.Id)), HttpStatusCode.BadRequest, "validation"))
            .ShouldBe(["partnerId"]);
        ErrorFields(await ReadProblemAsync(await PostRegistrationAsync(Admin, Body(name, domain)), HttpStatusCode.BadRequest, "validation"))
            .ShouldBe(["partnerId"]);
        var onBehalf = await RegisterAsync(Admin, Body(name, domain, partnerId: b.Id));
        onBehalf.Get<string>("partnerId").ShouldBe(b.Id);
    }

    [Test]
    public async Task Register_CrmKey_IsForbidden()
    {
        var (_, crmKey) = await IssueKeyAsync("crm");
        var crm = ClientFor(crmKey);
        var partner = await PartnerAsync();
        var (name, domain) = NewCompany();
        await ReadProblemAsync(await PostRegistrationAsync(crm, Body(name, domain, partnerId: partner.Id)), HttpStatusCode.Forbidden, "forbidden");
    }

    [Test]
    public async Task EveryRegistrationEndpoint_AnotherPartnersRegistration_Answers404AndChangesNothing()
    {
        var owner = await PartnerAsync();
        var intruder = await PartnerAsync();
        var (name, domain) = NewCompany();
        var registration = await RegisterAsync(owner.Client, Body(name, domain));
        var id = Id(registration);
        var before = (await ReadAsync(id)).ToJsonString();

        var patch = new HttpRequestMessage(HttpMethod.Patch, $"/v1/registrations/{id}") { Content = JsonContent.Create(new { deal = new { notes = "mine" } }) };
        patch.Headers.TryAddWithoutValidation("If-Match", "\"1\"");
        var attempts = new[]
        {
            await intruder.Client.GetAsync($"/v1/registrations/{id}"),
            await intruder.Client.SendAsync(patch),
            await intruder.Client.PostAsync($"/v1/registrations/{id}/withdraw", null),
            await intruder.Client.PostAsJsonAsync($"/v1/registrations/{id}/extensions", new { reason = "mine" }),
            await intruder.Client.GetAsync($"/v1/registrations/{id}/extensions"),
            await intruder.Client.PostAsJsonAsync($"/v1/registrations/{id}/notes", new { body = "hello" }),
            await intruder.Client.GetAsync($"/v1/registrations/{id}/notes"),
        };
        foreach (var response in attempts) await ReadProblemAsync(response, HttpStatusCode.NotFound, "not-found");

        // ops-only and vendor-only actions are refused to any partner key, its own registration included
        await ReadProblemAsync(await owner.Client.PostAsync($"/v1/registrations/{id}/approve", null), HttpStatusCode.Forbidden, "forbidden");
        await ReadProblemAsync(await owner.Client.PostAsJsonAsync($"/v1/registrations/{id}/reject", new { reason = "other" }), HttpStatusCode.Forbidden, "forbidden");
        await ReadProblemAsync(await owner.Client.PostAsJsonAsync($"/v1/registrations/{id}/outcome", new { result = "lost", lostReason = "x" }),
            HttpStatusCode.Forbidden, "forbidden");
        await ReadProblemAsync(await owner.Client.GetAsync("/v1/conflicts"), HttpStatusCode.Forbidden, "forbidden");

        var list = await ReadJsonAsync(await intruder.Client.GetAsync($"/v1/registrations?partnerId={owner.Id}"));
        list["items"]!.AsArray().ShouldBeEmpty();
        (await ReadAsync(id)).ToJsonString().ShouldBe(before);
    }

    [Test]
    public async Task List_FiltersByStatusAndCompany_AndPagesInOrder()
    {
        var partner = await PartnerAsync("registered");
        var (name, domain) = NewCompany();
        var ids = new List<string>();
        for (var i = 0; i < 3; i++) ids.Add(Id(await RegisterAsync(partner.Client, Body(name, domain))));

        var firstPage = await ReadJsonAsync(await partner.Client.GetAsync($"/v1/registrations?status=pending_review&company={Uri.EscapeDataString(name)}&limit=2"));
        firstPage["items"]!.AsArray().Select(r => Id(r!)).ShouldBe(ids.Take(2));
        var next = firstPage.Get<string>("nextCursor");
        var secondPage = await ReadJsonAsync(await partner.Client.GetAsync($"/v1/registrations?status=pending_review&company={domain}&limit=2&cursor={next}"));
        secondPage["items"]!.AsArray().Select(r => Id(r!)).ShouldBe(ids.Skip(2));

        var bad = await partner.Client.GetAsync("/v1/registrations?status=open&limit=0");
        ErrorFields(await ReadProblemAsync(bad, HttpStatusCode.BadRequest, "validation")).ShouldBe(["limit", "status"]);
    }

    private async Task<int> CountRegistrationsAsync(PartnerClient partner)
    {
        var page = await ReadJsonAsync(await Admin.GetAsync($"/v1/registrations?partnerId={partner.Id}&limit=200"));
        return page["items"]!.AsArray().Count;
    }
}
