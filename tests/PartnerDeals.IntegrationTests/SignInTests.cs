using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;
using PartnerDeals.IntegrationTests.Support;
using static PartnerDeals.IntegrationTests.Support.RegistrationCalls;

namespace PartnerDeals.IntegrationTests;

/// <summary>
/// People sign in with bearer tokens of real OpenID Connect providers (oidc-provider on loopback): one writing roles at the top
/// level with a partner claim, one writing them under <c>realm_access</c> as Keycloak does. Deals above EUR 1,000,000 need two people.
/// </summary>
public sealed class SignInTests
{
    private static readonly Dictionary<string, IdentityProvider.Person> CorpPeople = new()
    {
        ["olivia"] = new("Olivia Ops", "olivia@vendor.example", ["ChannelManager"]),
        ["oscar"] = new("Oscar Ops", "oscar@vendor.example", ["ChannelManager"]),
        ["ada"] = new("Ada Admin", "ada@vendor.example", ["PartnerDealsAdmin"]),
        ["carl"] = new("Carl Crm", "carl@vendor.example", ["Integration"]),
        ["paula"] = new("Paula Partner", "paula@reseller.example", ["PartnerRep"], Partner: "reseller-one"),
        ["nobody"] = new("No Role", "nobody@vendor.example", ["Unrelated"], Partner: "reseller-one"),
        ["mixed"] = new("Mixed Roles", "mixed@vendor.example", ["PartnerRep", "ChannelManager"], Partner: "reseller-one"),
        ["dora"] = new("Dora Disabled", "dora@vendor.example", ["ChannelManager"]),
    };

    private IdentityProvider _corp = null!;
    private IdentityProvider _keycloak = null!;
    private Dictionary<string, string?> _settings = null!;
    private ApiFactory _api = null!;

    [OneTimeSetUp]
    public async Task StartProvidersAndHost()
    {
        _corp = await IdentityProvider.StartAsync(CorpPeople);
        _keycloak = await IdentityProvider.StartAsync(new Dictionary<string, IdentityProvider.Person>
        {
            ["kim"] = new("Kim Keycloak", "kim@vendor.example", ["deals-ops", "offline_access"]),
        }, nestedRoles: true);
        _settings = new Dictionary<string, string?>
        {
            ["Auth:Oidc:Issuers:corp:Authority"] = _corp.Issuer,
            ["Auth:Oidc:Issuers:corp:Audience"] = IdentityProvider.Audience,
            ["Auth:Oidc:Issuers:corp:RequireHttpsMetadata"] = "false",
            ["Auth:Oidc:Issuers:corp:ClockSkewSeconds"] = "0",
            ["Auth:Oidc:Issuers:corp:RoleMap:ChannelManager"] = "ops",
            ["Auth:Oidc:Issuers:corp:RoleMap:PartnerDealsAdmin"] = "admin",
            ["Auth:Oidc:Issuers:corp:RoleMap:Integration"] = "crm",
            ["Auth:Oidc:Issuers:corp:RoleMap:PartnerRep"] = "partner",
            ["Auth:Oidc:Issuers:corp:PartnerClaim"] = "partner",
            ["Auth:Oidc:Issuers:keycloak:Authority"] = _keycloak.Issuer,
            ["Auth:Oidc:Issuers:keycloak:Audience"] = IdentityProvider.Audience,
            ["Auth:Oidc:Issuers:keycloak:RequireHttpsMetadata"] = "false",
            ["Auth:Oidc:Issuers:keycloak:RoleClaimPaths:0"] = "realm_access.roles",
            ["Auth:Oidc:Issuers:keycloak:RoleMap:deals-ops"] = "ops",
            ["Registrations:Policy:SecondApprovalAbove:EUR"] = "1000000",
        };
        _api = new ApiFactory(_settings);
    }

    [OneTimeTearDown]
    public async Task Stop()
    {
        _api.Dispose();
        _api.DeleteDatabase();
        await _corp.DisposeAsync();
        await _keycloak.DisposeAsync();
    }

    private async Task<HttpClient> PersonAsync(IdentityProvider idp, string login) => WithToken(await idp.SignInAsync(login));

    private HttpClient WithToken(string token)
    {
        var client = _api.Client(null);
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
        return client;
    }

    private static async Task<JsonNode> ReadAsync(HttpResponseMessage response, HttpStatusCode expected)
    {
        var text = await response.Content.ReadAsStringAsync();
        response.StatusCode.ShouldBe(expected, text);
        return JsonNode.Parse(text)!;
    }

    [Test]
    public async Task EachRole_ThroughAToken_DoesWhatItsRoleMay_AndMeSaysWhoItIs()
    {
        using var ops = await PersonAsync(_corp, "olivia");
        var me = await ReadAsync(await ops.GetAsync("/v1/me"), HttpStatusCode.OK);
        me.Get<string>("kind").ShouldBe("person");
        me["roles"]!.AsArray().Select(r => r!.GetValue<string>()).ShouldBe(["ops"]);
        me["person"]!.Get<string>("displayName").ShouldBe("Olivia Ops");
        me["person"]!.Get<string>("issuer").ShouldBe("corp");
        me["person"]!.Get<string>("subject").ShouldBe("olivia");
        (await ops.GetAsync("/v1/partners")).StatusCode.ShouldBe(HttpStatusCode.OK);
        (await ops.PostAsJsonAsync("/v1/api-keys", new { name = "x", role = "crm" })).StatusCode.ShouldBe(HttpStatusCode.Forbidden);

        using var admin = await PersonAsync(_corp, "ada");
        (await admin.PostAsJsonAsync("/v1/api-keys", new { name = "issued by a person", role = "crm" })).StatusCode.ShouldBe(HttpStatusCode.Created);

        using var crm = await PersonAsync(_corp, "carl");
        (await crm.GetAsync("/v1/partners")).StatusCode.ShouldBe(HttpStatusCode.OK);
        var (company, domain) = NewCompany();
        (await PostRegistrationAsync(crm, Body(company, domain))).StatusCode.ShouldBe(HttpStatusCode.Forbidden);

        var keyMe = await ReadAsync(await _api.Admin.GetAsync("/v1/me"), HttpStatusCode.OK);
        keyMe.Get<string>("kind").ShouldBe("api_key");
        keyMe["person"].ShouldBeNull();

        var people = await ReadAsync(await _api.Admin.GetAsync("/v1/people?limit=200"), HttpStatusCode.OK);
        people["items"]!.AsArray().Select(p => p!.Get<string>("subject")).ShouldContain("olivia");
    }

    [Test]
    public async Task NestedRoles_AreReadThroughRoleClaimPaths()
    {
        using var kim = await PersonAsync(_keycloak, "kim");
        var me = await ReadAsync(await kim.GetAsync("/v1/me"), HttpStatusCode.OK);
        me["roles"]!.AsArray().Select(r => r!.GetValue<string>()).ShouldBe(["ops"]);
        me["person"]!.Get<string>("issuer").ShouldBe("keycloak");
        (await kim.GetAsync("/v1/partners")).StatusCode.ShouldBe(HttpStatusCode.OK);
    }

    [Test]
    public async Task PartnerPerson_ActsOnlyThroughALinkOpsMade_AndSeesOnlyItsPartner()
    {
        var reseller = await _api.CreatePartnerAsync();
        var other = await _api.CreatePartnerAsync();
        using var paula = await PersonAsync(_corp, "paula");

        // Before ops link the claim's value, the value means nothing: 403 naming the claim, never its value.
        var unlinked = await ReadAsync(await paula.GetAsync("/v1/me"), HttpStatusCode.Forbidden);
        unlinked.Get<string>("detail").ShouldContain("partner");
        unlinked.Get<string>("detail").ShouldNotContain("reseller-one");

        var link = await _api.Admin.PostAsJsonAsync($"/v1/partners/{reseller.Get<string>("id")}/sign-in-links", new { issuer = "corp", claimValue = "reseller-one" });
        link.StatusCode.ShouldBe(HttpStatusCode.Created, await link.Content.ReadAsStringAsync());
        (await _api.Admin.PostAsJsonAsync($"/v1/partners/{other.Get<string>("id")}/sign-in-links", new { issuer = "corp", claimValue = "reseller-one" }))
            .StatusCode.ShouldBe(HttpStatusCode.Conflict);

        var me = await ReadAsync(await paula.GetAsync("/v1/me"), HttpStatusCode.OK);
        me.Get<string>("partnerId").ShouldBe(reseller.Get<string>("id"));
        (await paula.GetAsync($"/v1/partners/{reseller.Get<string>("id")}")).StatusCode.ShouldBe(HttpStatusCode.OK);
        (await paula.GetAsync($"/v1/partners/{other.Get<string>("id")}")).StatusCode.ShouldBe(HttpStatusCode.NotFound);
        var (company, domain) = NewCompany();
        var registration = await RegisterAsync(paula, Body(company, domain));
        registration.Get<string>("partnerId").ShouldBe(reseller.Get<string>("id"));

        // A person whose roles are a partner's and the vendor's at once is neither.
        using var mixed = await PersonAsync(_corp, "mixed");
        (await mixed.GetAsync("/v1/me")).StatusCode.ShouldBe(HttpStatusCode.Forbidden);
    }

    [Test]
    public async Task PersonWithNoMappedRole_Is403_NamingTheClaimsRead_NotTheirValues()
    {
        using var nobody = await PersonAsync(_corp, "nobody");
        var problem = await ReadAsync(await nobody.GetAsync("/v1/me"), HttpStatusCode.Forbidden);
        problem.Get<string>("type").ShouldBe("urn:partnerdeals:problem:forbidden");
        problem.Get<string>("detail").ShouldContain("roles");
        problem.Get<string>("detail").ShouldNotContain("Unrelated");
    }

    [Test]
    public async Task BadTokens_Answer401_SayingOnlyWhy()
    {
        async Task<string> Refused(string token)
        {
            using var client = WithToken(token);
            var problem = await ReadAsync(await client.GetAsync("/v1/me"), HttpStatusCode.Unauthorized);
            problem.Get<string>("type").ShouldBe("urn:partnerdeals:problem:unauthenticated");
            return problem.Get<string>("detail");
        }

        (await Refused(await _corp.SignInAsync("olivia", resource: "api://another-api"))).ShouldBe("The token was issued for another audience.");
        (await Refused("not-a-token")).ShouldBe("The bearer token is not a JSON Web Token.");

        // Signed by a key the issuer never published, with the right issuer and audience.
        var forged = Forge(_corp.Issuer, new RsaSecurityKey(RSA.Create(2048)) { KeyId = "forged" });
        (await Refused(forged)).ShouldBe("The token's signature is not valid.");
        (await Refused(Forge("https://issuer.example", new RsaSecurityKey(RSA.Create(2048))))).ShouldBe("The token's issuer is not trusted here.");

        // alg none: the same claims with no signature at all.
        var unsigned = Base64UrlEncoder.Encode("""{"alg":"none","typ":"JWT"}""") + "."
            + Base64UrlEncoder.Encode($$"""{"iss":"{{_corp.Issuer}}","aud":"{{IdentityProvider.Audience}}","sub":"olivia","roles":["PartnerDealsAdmin"],"exp":{{DateTimeOffset.UtcNow.AddMinutes(5).ToUnixTimeSeconds()}}}""") + ".";
        (await Refused(unsigned)).ShouldBe("The token's signature is not valid.");

        // A token of the provider's that lives one second: refused once it has expired (no clock skew in this fixture).
        var shortLived = await _corp.SignInAsync("olivia", client: "tests-short");
        using var expiring = WithToken(shortLived);
        await Eventually.UntilAsync(async () => (await expiring.GetAsync("/v1/me")).StatusCode == HttpStatusCode.Unauthorized, "the token to expire");
        (await Refused(shortLived)).ShouldBe("The token has expired.");
    }

    private static string Forge(string issuer, SecurityKey key) => new JsonWebTokenHandler().CreateToken(new SecurityTokenDescriptor
    {
        Issuer = issuer,
        Audience = IdentityProvider.Audience,
        Claims = new Dictionary<string, object> { ["sub"] = "olivia", ["roles"] = new[] { "PartnerDealsAdmin" } },
        Expires = DateTime.UtcNow.AddMinutes(5),
        SigningCredentials = new SigningCredentials(key, SecurityAlgorithms.RsaSha256),
    });

    [Test]
    public async Task AnApiKeyAndABearerToken_Together_Are400()
    {
        using var both = await PersonAsync(_corp, "olivia");
        both.DefaultRequestHeaders.Add("X-Api-Key", ApiFactory.AdminKey);
        var problem = await ReadAsync(await both.GetAsync("/v1/me"), HttpStatusCode.BadRequest);
        problem.Get<string>("title").ShouldContain("not both");
    }

    [Test]
    public async Task DisabledPerson_Is403_WhateverTheIssuerSays_OnEveryInstanceWithinTheCacheWindow_AndComesBackWhenEnabled()
    {
        // A second instance on the same database, which has just seen the person (and cached them).
        using var second = new ApiFactory(_settings, databasePath: _api.DatabasePath);
        var token = await _corp.SignInAsync("dora");
        using var dora = WithToken(token);
        using var doraElsewhere = second.Client(null);
        doraElsewhere.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
        var person = (await ReadAsync(await dora.GetAsync("/v1/me"), HttpStatusCode.OK))["person"]!.Get<string>("id");
        (await doraElsewhere.GetAsync("/v1/partners")).StatusCode.ShouldBe(HttpStatusCode.OK);
        using var ops = await PersonAsync(_corp, "olivia");
        (await SetDisabledAsync(ops, person, true)).StatusCode.ShouldBe(HttpStatusCode.Forbidden);

        (await ReadAsync(await SetDisabledAsync(_api.Admin, person, true), HttpStatusCode.OK)).Get<bool>("disabled").ShouldBeTrue();
        var refused = await ReadAsync(await dora.GetAsync("/v1/partners"), HttpStatusCode.Forbidden);
        refused.Get<string>("detail").ShouldContain("disabled");
        // The other instance: a request sent a cache window after the change is refused, however slowly it is answered.
        var disabledAt = DateTimeOffset.UtcNow;
        await Eventually.UntilAsync(async () =>
        {
            var sent = DateTimeOffset.UtcNow;
            var status = (await doraElsewhere.GetAsync("/v1/partners")).StatusCode;
            (sent - disabledAt > PartnerDeals.Api.Features.People.PersonStore.CacheFor + TimeSpan.FromMilliseconds(100) && status != HttpStatusCode.Forbidden)
                .ShouldBeFalse("a request sent after the cache window was let in");
            return status == HttpStatusCode.Forbidden;
        }, "the other instance to refuse the disabled person");
        // A new token changes nothing.
        using var again = await PersonAsync(_corp, "dora");
        (await again.GetAsync("/v1/partners")).StatusCode.ShouldBe(HttpStatusCode.Forbidden);

        (await SetDisabledAsync(_api.Admin, person, false)).StatusCode.ShouldBe(HttpStatusCode.OK);
        (await dora.GetAsync("/v1/partners")).StatusCode.ShouldBe(HttpStatusCode.OK);
        (await _api.Admin.GetAsync($"/v1/people/{Guid.NewGuid()}")).StatusCode.ShouldBe(HttpStatusCode.NotFound);
        (await _api.Admin.PatchAsJsonAsync($"/v1/people/{person}", new { disabled = true })).StatusCode.ShouldBe(HttpStatusCode.PreconditionRequired);
    }

    /// <summary>A PATCH as a client makes it: the person read for their ETag, then patched with it in If-Match.</summary>
    private static async Task<HttpResponseMessage> SetDisabledAsync(HttpClient client, string person, bool disabled)
    {
        var read = await client.GetAsync($"/v1/people/{person}");
        var request = new HttpRequestMessage(HttpMethod.Patch, $"/v1/people/{person}") { Content = JsonContent.Create(new { disabled }) };
        if (read.Headers.ETag is { } etag) request.Headers.IfMatch.Add(etag);
        return await client.SendAsync(request);
    }

    [Test]
    public async Task AuditEvents_NameThePerson_OrTheKey_WithWhatAPortalAsserted()
    {
        using var ops = await PersonAsync(_corp, "olivia");
        var me = await ReadAsync(await ops.GetAsync("/v1/me"), HttpStatusCode.OK);
        var created = await ops.PostAsJsonAsync("/v1/partners", new
        {
            name = $"Partner {Guid.NewGuid():N}"[..20], type = "reseller", tier = "silver", contactEmail = "alliances@partner.example",
        });
        var partner = await ReadAsync(created, HttpStatusCode.Created);
        var events = await ReadAsync(await ops.GetAsync($"/v1/partners/{partner.Get<string>("id")}/events"), HttpStatusCode.OK);
        var actor = events["items"]!.AsArray()[0]!["actor"]!;
        actor.Get<string>("kind").ShouldBe("person");
        actor.Get<string>("personId").ShouldBe(me["person"]!.Get<string>("id"));
        actor.Get<string>("display").ShouldBe("Olivia Ops");

        var portal = _api.ClientFor(await _api.IssuePartnerKeyAsync(partner.Get<string>("id")));
        portal.DefaultRequestHeaders.Add("X-Acting-User", "j.smith@reseller.example");
        var (company, domain) = NewCompany();
        var registration = await RegisterAsync(portal, Body(company, domain));
        var trail = await ReadAsync(await _api.Admin.GetAsync($"/v1/registrations/{Id(registration)}/events"), HttpStatusCode.OK);
        var submitted = trail["items"]!.AsArray()[0]!["actor"]!;
        submitted.Get<string>("kind").ShouldBe("api_key");
        submitted.Get<string>("asserted").ShouldBe("j.smith@reseller.example");
        submitted.Get<string>("display").ShouldBe("portal");

        portal.DefaultRequestHeaders.Remove("X-Acting-User");
        portal.DefaultRequestHeaders.Add("X-Acting-User", new string('x', 201));
        (await portal.GetAsync("/v1/me")).StatusCode.ShouldBe(HttpStatusCode.BadRequest);
    }

    [Test]
    public async Task AboveTheValue_TwoDifferentPeopleApprove_NeverAKey_NeverOneTwice()
    {
        var partner = await _api.PartnerAsync(tier: "gold");
        var (company, domain) = NewCompany();
        var registration = await RegisterAsync(partner.Client, Body(company, domain, value: 2_000_000m));
        Status(registration).ShouldBe("pending_review"); // a gold partner's clear deal, but above the value: no one approves it alone
        var id = Id(registration);

        var byKey = await _api.Admin.PostAsync($"/v1/registrations/{id}/approve", null);
        (await ReadAsync(byKey, HttpStatusCode.Forbidden)).Get<string>("detail").ShouldContain("two people");

        using var olivia = await PersonAsync(_corp, "olivia");
        var first = await ActAsync(olivia, id, "approve");
        Status(first).ShouldBe("pending_review");
        first["approvals"]!.AsArray().Select(a => a!.Get<string>("display")).ShouldBe(["Olivia Ops"]);
        (await partner.Client.GetAsync($"/v1/registrations/{id}")).Content.ReadAsStringAsync().Result.ShouldNotContain("Olivia");

        var again = await olivia.PostAsync($"/v1/registrations/{id}/approve", null);
        (await ReadAsync(again, HttpStatusCode.Conflict)).Get<string>("type").ShouldBe("urn:partnerdeals:problem:second-approval-required");

        using var oscar = await PersonAsync(_corp, "oscar");
        var second = await ActAsync(oscar, id, "approve");
        Status(second).ShouldBe("approved");
        second["approvals"]!.AsArray().Select(a => a!.Get<string>("display")).ShouldBe(["Olivia Ops", "Oscar Ops"]);

        // Below the value, one person (or a key) approves as before.
        var (small, smallDomain) = NewCompany();
        var alone = await RegisterAsync(partner.Client, Body(small, smallDomain, value: 900_000m));
        Status(alone).ShouldBe("approved");
    }

    [Test]
    public async Task AboveTheValue_AConflictsAward_NeedsTwoPeopleToo()
    {
        var partner = await _api.PartnerAsync();
        var (company, domain) = NewCompany();
        var opportunity = Guid.NewGuid().ToString("N")[..12];
        (await _api.Admin.PutAsJsonAsync($"/v1/opportunities/salesforce/{opportunity}", OpportunityCalls.Opportunity(company, domain)))
            .IsSuccessStatusCode.ShouldBeTrue();
        var registration = await RegisterAsync(partner.Client, Body(company, domain, value: 3_000_000m));
        var conflict = (await _api.Admin.GetAsync($"/v1/registrations/{Id(registration)}")).Content.ReadFromJsonAsync<JsonObject>().Result!.Get<string>("conflictId");

        using var olivia = await PersonAsync(_corp, "olivia");
        var first = await ReadAsync(await olivia.PostAsJsonAsync($"/v1/conflicts/{conflict}/resolve", new { resolution = "award_partner" }), HttpStatusCode.OK);
        first["conflict"]!.Get<string>("status").ShouldBe("open");
        Status(first["registration"]!).ShouldBe("pending_review");
        (await olivia.PostAsJsonAsync($"/v1/conflicts/{conflict}/resolve", new { resolution = "award_partner" })).StatusCode.ShouldBe(HttpStatusCode.Conflict);

        using var kim = await PersonAsync(_keycloak, "kim");
        var second = await ReadAsync(await kim.PostAsJsonAsync($"/v1/conflicts/{conflict}/resolve", new { resolution = "award_partner" }), HttpStatusCode.OK);
        second["conflict"]!.Get<string>("status").ShouldBe("resolved");
        Status(second["registration"]!).ShouldBe("approved");
    }

    [Test]
    public async Task MultiTenantAuthority_WithoutAllowedTenants_StopsStartUp()
    {
        var folder = Directory.CreateTempSubdirectory("partnerdeals-oidc-");
        try
        {
            var (exitCode, _, errors) = await ApiProcess.RunUntilExitAsync(Path.Combine(folder.FullName, "p.db"), ApiProcess.FreePort(),
                TimeSpan.FromSeconds(60), new Dictionary<string, string>
                {
                    ["Auth:Oidc:Issuers:entra:Authority"] = "https://login.microsoftonline.com/common/v2.0",
                    ["Auth:Oidc:Issuers:entra:Audience"] = "api://partnerdeals",
                    ["Auth:Oidc:Issuers:entra:RoleMap:Deals.Ops"] = "ops",
                });
            exitCode.ShouldNotBe(0);
            errors.ShouldContain("AllowedTenants");
        }
        finally
        {
            folder.Delete(recursive: true);
        }
    }
}
