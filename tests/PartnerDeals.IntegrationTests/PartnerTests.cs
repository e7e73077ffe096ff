using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using PartnerDeals.IntegrationTests.Support;

namespace PartnerDeals.IntegrationTests;

public sealed class PartnerTests : HostTest
{
    [Test]
    public async Task Create_ValidPartner_AnswersCreatedWithLocationETagAndDefaultTerms()
    {
        var name = Unique("Northwind Consulting");
        var response = await Admin.PostAsJsonAsync("/v1/partners", new { name, type = "implementation", tier = "gold", contactEmail = "a@northwind.example" });

        response.StatusCode.ShouldBe(HttpStatusCode.Created);
        response.Headers.ETag!.Tag.ShouldBe("\"1\"");
        var partner = await ReadJsonAsync(response);
        response.Headers.Location!.ToString().ShouldBe($"/v1/partners/{partner["id"]}");
        partner.Get<string>("name").ShouldBe(name);
        partner.Get<string>("type").ShouldBe("implementation");
        partner.Get<string>("status").ShouldBe("active");
        partner["terms"]!.Get<string>("feeModel").ShouldBe("percent_of_revenue");
        partner["terms"]!.Get<decimal>("feePercent").ShouldBe(10m);
        partner["terms"]!.Get<string>("feeTrigger").ShouldBe("closed_won");
        partner["terms"]!.Get<int>("protectionDays").ShouldBe(90);

        var read = await Admin.GetAsync(response.Headers.Location);
        read.StatusCode.ShouldBe(HttpStatusCode.OK);
        read.Headers.ETag!.Tag.ShouldBe("\"1\"");
        (await ReadJsonAsync(read)).ToJsonString().ShouldBe(partner.ToJsonString());
    }

    [Test]
    public async Task Create_FixedFeeTerms_AreStoredAsGiven()
    {
        var partner = await CreatePartnerAsync(type: "referral", tier: "registered", terms: new
        {
            feeModel = "fixed_fee", feeAmount = 2500.50m, feeCurrency = "eur", feeTrigger = "qualified_introduction",
            paymentNetDays = 45, protectionDays = 120, exclusive = true,
        });
        var terms = partner["terms"]!;
        terms.Get<string>("feeModel").ShouldBe("fixed_fee");
        terms["feePercent"].ShouldBeNull();
        terms.Get<decimal>("feeAmount").ShouldBe(2500.50m);
        terms.Get<string>("feeCurrency").ShouldBe("EUR");
        terms.Get<string>("feeTrigger").ShouldBe("qualified_introduction");
        terms.Get<bool>("exclusive").ShouldBeTrue();
    }

    [Test]
    public async Task Create_SameNameDifferentCase_AnswersConflict()
    {
        var name = Unique("Contoso Partners");
        await CreatePartnerAsync(name);
        var response = await Admin.PostAsJsonAsync("/v1/partners", new { name = "  " + name.ToUpperInvariant() + " ", type = "msp", tier = "silver", contactEmail = "a@b.example" });
        await ReadProblemAsync(response, HttpStatusCode.Conflict, "conflict");
    }

    [Test]
    public async Task Get_UnknownPartner_AnswersNotFound()
    {
        await ReadProblemAsync(await Admin.GetAsync($"/v1/partners/{Guid.NewGuid()}"), HttpStatusCode.NotFound, "not-found");
        await ReadProblemAsync(await Admin.GetAsync("/v1/partners/not-a-guid"), HttpStatusCode.NotFound, "not-found");
    }

    [Test]
    public async Task List_WalksEveryPageOnceInCreationOrderWithFilters()
    {
        var tier = "gold";
        var type = "affiliate";
        var created = new List<string>();
        for (var i = 0; i < 5; i++) created.Add((await CreatePartnerAsync(type: type, tier: tier)).Get<string>("id"));
        await CreatePartnerAsync(type: "technology", tier: tier);

        var seen = new List<string>();
        string? cursor = null;
        var pages = 0;
        do
        {
            var url = $"/v1/partners?type={type}&tier={tier}&status=active&limit=2" + (cursor is null ? "" : $"&cursor={cursor}");
            var page = (await ReadJsonAsync(await Admin.GetAsync(url))).AsObject();
            seen.AddRange(page["items"]!.AsArray().Select(p => p!.Get<string>("id")));
            cursor = page["nextCursor"]?.GetValue<string>();
            pages++;
        } while (cursor is not null && pages < 10);

        seen.ShouldBe(created);
        pages.ShouldBe(3);
    }

    [Test]
    public async Task List_BadCursorOrLimit_AnswersValidationProblem()
    {
        var problem = await ReadProblemAsync(await Admin.GetAsync("/v1/partners?limit=500&cursor=abc"), HttpStatusCode.BadRequest, "validation");
        ErrorFields(problem).ShouldBe(["cursor", "limit"]);
    }

    [Test]
    public async Task Update_WithCurrentETag_ChangesFieldsBumpsETagAndRecordsEvent()
    {
        var partner = await CreatePartnerAsync();
        var id = partner.Get<string>("id");

        var response = await PatchAsync(id, """{"tier":"gold","terms":{"feePercent":12.5,"protectionDays":120}}""", "\"1\"");

        response.StatusCode.ShouldBe(HttpStatusCode.OK, await response.Content.ReadAsStringAsync());
        response.Headers.ETag!.Tag.ShouldBe("\"2\"");
        var updated = await ReadJsonAsync(response);
        updated.Get<string>("tier").ShouldBe("gold");
        updated["terms"]!.Get<decimal>("feePercent").ShouldBe(12.5m);
        updated["terms"]!.Get<int>("protectionDays").ShouldBe(120);
        updated["terms"]!.Get<int>("paymentNetDays").ShouldBe(30);
        updated.Get<string>("name").ShouldBe(partner.Get<string>("name"));

        var events = (await ReadJsonAsync(await Admin.GetAsync($"/v1/partners/{id}/events")))["items"]!.AsArray();
        events.Select(e => e!.Get<string>("action")).ShouldBe(["partner.created", "partner.updated"]);
        var changes = events[1]!["data"]!["changes"]!.AsObject();
        changes.Select(c => c.Key).Order().ShouldBe(["terms.feePercent", "terms.protectionDays", "tier"]);
        changes["tier"]!.Get<string>("from").ShouldBe("silver");
        changes["tier"]!.Get<string>("to").ShouldBe("gold");
        events[1]!.Get<string>("actorRole").ShouldBe("admin");
    }

    [Test]
    public async Task Update_WithoutIfMatch_AnswersPreconditionRequired()
    {
        var id = (await CreatePartnerAsync()).Get<string>("id");
        await ReadProblemAsync(await PatchAsync(id, """{"tier":"gold"}""", null), HttpStatusCode.PreconditionRequired, "precondition-required");
    }

    [Test]
    public async Task Update_WithStaleETag_AnswersPreconditionFailedAndChangesNothing()
    {
        var id = (await CreatePartnerAsync()).Get<string>("id");
        (await PatchAsync(id, """{"tier":"gold"}""", "\"1\"")).StatusCode.ShouldBe(HttpStatusCode.OK);

        await ReadProblemAsync(await PatchAsync(id, """{"tier":"registered"}""", "\"1\""), HttpStatusCode.PreconditionFailed, "precondition-failed");
        await ReadProblemAsync(await PatchAsync(id, """{"tier":"registered"}""", "W/\"2\""), HttpStatusCode.PreconditionFailed, "precondition-failed");

        var current = await Admin.GetAsync($"/v1/partners/{id}");
        (await ReadJsonAsync(current)).Get<string>("tier").ShouldBe("gold");
        current.Headers.ETag!.Tag.ShouldBe("\"2\"");
    }

    [Test]
    public async Task Update_ConcurrentWritersWithSameETag_ExactlyOneWins()
    {
        var id = (await CreatePartnerAsync()).Get<string>("id");
        var responses = await Task.WhenAll(Enumerable.Range(0, 8).Select(i =>
            PatchAsync(id, $$"""{"contactEmail":"writer{{i}}@partner.example"}""", "\"1\"")));

        responses.Count(r => r.StatusCode == HttpStatusCode.OK).ShouldBe(1);
        responses.Count(r => r.StatusCode == HttpStatusCode.PreconditionFailed).ShouldBe(7);
    }

    [Test]
    public async Task Update_SwitchToFixedFeeWithoutAmount_ListsMissingTermFields()
    {
        var id = (await CreatePartnerAsync()).Get<string>("id");
        var problem = await ReadProblemAsync(await PatchAsync(id, """{"terms":{"feeModel":"fixed_fee"}}""", "*"), HttpStatusCode.BadRequest, "validation");
        ErrorFields(problem).ShouldBe(["terms.feeAmount", "terms.feeCurrency"]);

        var ok = await PatchAsync(id, """{"terms":{"feeModel":"fixed_fee","feeAmount":500,"feeCurrency":"USD"}}""", "*");
        ok.StatusCode.ShouldBe(HttpStatusCode.OK);
        (await ReadJsonAsync(ok))["terms"]!["feePercent"].ShouldBeNull();
    }

    [Test]
    public async Task Update_NoRealChange_KeepsVersionAndRecordsNothing()
    {
        var partner = await CreatePartnerAsync(tier: "silver");
        var id = partner.Get<string>("id");
        var response = await PatchAsync(id, """{"tier":"silver"}""", "\"1\"");
        response.StatusCode.ShouldBe(HttpStatusCode.OK);
        response.Headers.ETag!.Tag.ShouldBe("\"1\"");
        var events = (await ReadJsonAsync(await Admin.GetAsync($"/v1/partners/{id}/events")))["items"]!.AsArray();
        events.Count.ShouldBe(1);
    }

    [Test]
    public async Task Update_MergePatchMediaType_IsAccepted()
    {
        var id = (await CreatePartnerAsync()).Get<string>("id");
        var response = await PatchAsync(id, """{"status":"suspended"}""", "*", "application/merge-patch+json");
        response.StatusCode.ShouldBe(HttpStatusCode.OK, await response.Content.ReadAsStringAsync());
    }

    [Test]
    public async Task Terminate_RevokesPartnerKeysAndCannotBeUndone()
    {
        var id = (await CreatePartnerAsync()).Get<string>("id");
        using var partner = Factory.Client(await IssuePartnerKeyAsync(id));
        (await partner.GetAsync($"/v1/partners/{id}")).StatusCode.ShouldBe(HttpStatusCode.OK);

        (await PatchAsync(id, """{"status":"terminated"}""", "*")).StatusCode.ShouldBe(HttpStatusCode.OK);

        await ReadProblemAsync(await partner.GetAsync($"/v1/partners/{id}"), HttpStatusCode.Unauthorized, "unauthenticated");
        await ReadProblemAsync(await PatchAsync(id, """{"status":"active"}""", "*"), HttpStatusCode.Conflict, "invalid-transition");
        await ReadProblemAsync(await Admin.PostAsJsonAsync($"/v1/partners/{id}/api-keys", new { name = "again" }),
            HttpStatusCode.Conflict, "invalid-transition");
        var events = (await ReadJsonAsync(await Admin.GetAsync($"/v1/partners/{id}/events")))["items"]!.AsArray();
        events.Last()!["data"]!.Get<int>("revokedApiKeys").ShouldBe(1);
    }

    [Test]
    public async Task Update_RenameToTakenName_AnswersConflict()
    {
        var taken = Unique("Taken Name");
        await CreatePartnerAsync(taken);
        var id = (await CreatePartnerAsync()).Get<string>("id");
        await ReadProblemAsync(await PatchAsync(id, JsonObject.Create(System.Text.Json.JsonSerializer.SerializeToElement(new { name = taken }))!.ToJsonString(), "*"),
            HttpStatusCode.Conflict, "conflict");
    }

    [Test]
    public async Task Update_UnknownPartner_AnswersNotFound()
    {
        await ReadProblemAsync(await PatchAsync(Guid.NewGuid().ToString(), """{"tier":"gold"}""", "*"), HttpStatusCode.NotFound, "not-found");
    }

    [Test]
    public async Task CrmAccounts_SetOnCreate_ChangedOneByOne_RemovedByNull_AndMalformedIdsAreProblems()
    {
        var created = await Admin.PostAsJsonAsync("/v1/partners", new
        {
            name = Unique("Contoso Distribution"), type = "distributor", tier = "gold", contactEmail = "a@contoso.example",
            crmAccounts = new { salesforce = "001Dn00000ABCdeIAF", hubspot = "18239457" },
        });
        created.StatusCode.ShouldBe(HttpStatusCode.Created);
        var id = (await ReadJsonAsync(created)).Get<string>("id");

        var changed = await ReadJsonAsync(await PatchAsync(id, """{"crmAccounts":{"dynamics":"5B7A3C1E-2D4F-4E8A-9B0C-1D2E3F4A5B6C","hubspot":null}}""", "*"));
        changed["crmAccounts"]!.Get<string>("salesforce").ShouldBe("001Dn00000ABCdeIAF");
        changed["crmAccounts"]!["hubspot"].ShouldBeNull();
        changed["crmAccounts"]!.Get<string>("dynamics").ShouldBe("5b7a3c1e-2d4f-4e8a-9b0c-1d2e3f4a5b6c");

        foreach (var (field, value) in new[] { ("salesforce", "006Dn00000ABCdeIAF"), ("salesforce", "001Dn0"), ("hubspot", "acme"), ("dynamics", "not-a-guid") })
        {
            var problem = await ReadProblemAsync(await PatchAsync(id, $$$"""{"crmAccounts":{"{{{field}}}":"{{{value}}}"}}""", "*"), HttpStatusCode.BadRequest, "validation");
            problem["errors"]!.AsObject().Select(e => e.Key).ShouldBe([$"crmAccounts.{field}"]);
        }
        var read = await ReadJsonAsync(await Admin.GetAsync($"/v1/partners/{id}"));
        read["crmAccounts"]!.ToJsonString().ShouldBe(changed["crmAccounts"]!.ToJsonString());
    }

    private Task<HttpResponseMessage> PatchAsync(string id, string json, string? ifMatch, string mediaType = "application/json")
    {
        var request = new HttpRequestMessage(HttpMethod.Patch, $"/v1/partners/{id}") { Content = JsonBody(json, mediaType) };
        if (ifMatch is not null) request.Headers.TryAddWithoutValidation("If-Match", ifMatch);
        return Admin.SendAsync(request);
    }
}
