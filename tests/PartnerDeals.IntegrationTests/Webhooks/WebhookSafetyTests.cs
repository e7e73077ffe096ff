using System.Collections.Concurrent;
using System.Net;
using System.Net.Http.Json;
using Microsoft.Extensions.DependencyInjection;
using PartnerDeals.Api.Features.Webhooks;
using PartnerDeals.IntegrationTests.Registrations;
using PartnerDeals.IntegrationTests.Support;

namespace PartnerDeals.IntegrationTests.Webhooks;

/// <summary>
/// Where webhooks may not go, as the service is deployed (no development setting): the refused-address table
/// through the API, and a name whose DNS answer changes to a private address after the endpoint was saved.
/// The test answers DNS for names of its own; everything else goes to the real resolver.
/// </summary>
public sealed class WebhookSafetyTests : HostTest
{
    private static readonly ConcurrentDictionary<string, IPAddress[]> Dns = new(StringComparer.OrdinalIgnoreCase);

    protected override IDictionary<string, string?> Settings => new Dictionary<string, string?>
    {
        ["Webhooks:PollInterval"] = "00:00:00.05",
        ["Webhooks:Timeout"] = "00:00:01",
    };

    static WebhookSafetyTests()
    {
        Dns["portal.partner.test"] = [IPAddress.Parse("93.184.216.34")];
        Dns["inside.partner.test"] = [IPAddress.Parse("10.20.30.40")];
        Dns["metadata.partner.test"] = [IPAddress.Parse("169.254.169.254")];
        Dns["mapped.partner.test"] = [IPAddress.Parse("::ffff:172.16.5.4")];
        Dns["loopback.partner.test"] = [IPAddress.Loopback];
        Dns["turncoat.partner.test"] = [IPAddress.Parse("93.184.216.35")];
    }

    protected override void ConfigureServices(IServiceCollection services) =>
        services.AddSingleton<HostResolver>(_ => (host, ct) =>
            Dns.TryGetValue(host, out var answer) ? Task.FromResult(answer) : System.Net.Dns.GetHostAddressesAsync(host, ct));

    [TestCase("https://10.0.0.1/hooks")]
    [TestCase("https://10.255.0.9/hooks")]
    [TestCase("https://172.16.0.1/hooks")]
    [TestCase("https://172.31.255.1/hooks")]
    [TestCase("https://192.168.1.1/hooks")]
    [TestCase("https://127.0.0.1/hooks")]
    [TestCase("https://127.0.0.1:8443/hooks")]
    [TestCase("http://127.0.0.1:8080/hooks")]
    [TestCase("https://localhost/hooks")]
    [TestCase("https://169.254.169.254/latest/meta-data/")]
    [TestCase("https://[::1]/hooks")]
    [TestCase("https://[::ffff:10.0.0.1]/hooks")]
    [TestCase("https://[::ffff:127.0.0.1]/hooks")]
    [TestCase("https://[fd00:ec2::254]/hooks")]
    [TestCase("https://[fe80::1]/hooks")]
    [TestCase("https://inside.partner.test/hooks")]
    [TestCase("https://metadata.partner.test/hooks")]
    [TestCase("https://mapped.partner.test/hooks")]
    [TestCase("https://loopback.partner.test/hooks")]
    [TestCase("http://portal.partner.test/hooks")]
    public async Task Create_EndpointAtAnAddressWebhooksMayNotReach_IsRefused_AndNothingIsSaved(string url)
    {
        var partner = await PartnerAsync("silver");
        var response = await partner.Client.PostAsJsonAsync($"/v1/partners/{partner.Id}/webhooks", new { url, events = new[] { "*" } });
        var problem = await ReadProblemAsync(response, HttpStatusCode.BadRequest, "validation");
        ErrorFields(problem).ShouldBe(["url"]);
        var all = await ReadJsonAsync(await partner.Client.GetAsync($"/v1/partners/{partner.Id}/webhooks"));
        all["items"]!.AsArray().ShouldBeEmpty();
    }

    [Test]
    public async Task Delivery_NameThatNowResolvesToAPrivateAddress_IsRefusedAtConnectTime()
    {
        var partner = await PartnerAsync("silver");
        var created = await partner.Client.PostAsJsonAsync($"/v1/partners/{partner.Id}/webhooks",
            new { url = "https://turncoat.partner.test/hooks", events = new[] { "*" } });
        created.StatusCode.ShouldBe(HttpStatusCode.Created, await created.Content.ReadAsStringAsync());
        var id = (await ReadJsonAsync(created))["webhook"]!.Get<string>("id");

        // Saved while it pointed at a public address; then its DNS answer changes.
        Dns["turncoat.partner.test"] = [IPAddress.Parse("192.168.7.7")];
        (await partner.Client.PostAsync($"/v1/partners/{partner.Id}/webhooks/{id}/test", null)).StatusCode.ShouldBe(HttpStatusCode.Accepted);

        var attempts = await Eventually.UntilAsync(
            async () => (await ReadJsonAsync(await partner.Client.GetAsync($"/v1/partners/{partner.Id}/webhooks/{id}/deliveries")))["items"]!.AsArray()
                .SelectMany(d => d!["attemptLog"]!.AsArray()).ToList(),
            made => made.Count > 0, "an attempt to be made");
        attempts[0]!.Get<string>("outcome").ShouldBe("refused_address");
        attempts[0]!["statusCode"].ShouldBeNull();
        attempts[0]!.Get<string>("error").ShouldContain("192.168.7.7");
    }

    [Test]
    public async Task PartnerTerminated_ItsEndpointsAreDisabled()
    {
        var partner = await PartnerAsync("silver");
        var created = await Admin.PostAsJsonAsync($"/v1/partners/{partner.Id}/webhooks",
            new { url = "https://portal.partner.test/hooks", events = new[] { "*" } });
        created.StatusCode.ShouldBe(HttpStatusCode.Created, await created.Content.ReadAsStringAsync());
        var id = (await ReadJsonAsync(created))["webhook"]!.Get<string>("id");

        var current = await Admin.GetAsync($"/v1/partners/{partner.Id}");
        var terminate = new HttpRequestMessage(HttpMethod.Patch, $"/v1/partners/{partner.Id}") { Content = JsonContent.Create(new { status = "terminated" }) };
        terminate.Headers.TryAddWithoutValidation("If-Match", current.Headers.ETag!.ToString());
        (await Admin.SendAsync(terminate)).StatusCode.ShouldBe(HttpStatusCode.OK);

        var webhook = await ReadJsonAsync(await Admin.GetAsync($"/v1/partners/{partner.Id}/webhooks/{id}"));
        webhook.Get<bool>("enabled").ShouldBeFalse();
        webhook.Get<string>("disabledReason").ShouldBe("partner_terminated");
        var enable = new HttpRequestMessage(HttpMethod.Patch, $"/v1/partners/{partner.Id}/webhooks/{id}") { Content = JsonContent.Create(new { enabled = true }) };
        enable.Headers.TryAddWithoutValidation("If-Match", "*");
        await ReadProblemAsync(await Admin.SendAsync(enable), HttpStatusCode.Conflict, "invalid-transition");
    }
}
