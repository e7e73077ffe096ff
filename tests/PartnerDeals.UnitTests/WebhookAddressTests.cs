using System.Net;
using Microsoft.Extensions.Options;
using PartnerDeals.Api.Features.Webhooks;

namespace PartnerDeals.UnitTests;

/// <summary>Where a partner's webhook may point: public addresses only, however the address is written or resolved.</summary>
public sealed class WebhookAddressTests
{
    private static readonly Dictionary<string, IPAddress[]> Names = new(StringComparer.OrdinalIgnoreCase)
    {
        ["portal.partner.example"] = [IPAddress.Parse("93.184.216.34")],
        ["inside.partner.example"] = [IPAddress.Parse("10.20.30.40")],
        ["metadata.partner.example"] = [IPAddress.Parse("169.254.169.254")],
        ["mixed.partner.example"] = [IPAddress.Parse("93.184.216.34"), IPAddress.Parse("192.168.1.10")],
        ["localhost"] = [IPAddress.Loopback, IPAddress.IPv6Loopback],
    };

    private static EndpointAddresses Addresses(bool allowLoopback = false) => new(
        (host, _) => Task.FromResult(Names.TryGetValue(host, out var found) ? found : throw new System.Net.Sockets.SocketException(11001)),
        Options.Create(new WebhookOptions { AllowLoopbackHttp = allowLoopback }));

    [TestCase("10.0.0.1")]
    [TestCase("10.255.255.255")]
    [TestCase("172.16.0.1")]
    [TestCase("172.31.255.254")]
    [TestCase("192.168.0.10")]
    [TestCase("127.0.0.1")]
    [TestCase("127.10.0.1")]
    [TestCase("169.254.169.254")]
    [TestCase("169.254.1.1")]
    [TestCase("0.0.0.0")]
    [TestCase("100.64.0.1")]
    [TestCase("224.0.0.1")]
    [TestCase("255.255.255.255")]
    [TestCase("::1")]
    [TestCase("::")]
    [TestCase("fe80::1")]
    [TestCase("fc00::1")]
    [TestCase("fd00:ec2::254")]
    [TestCase("ff02::1")]
    [TestCase("::ffff:10.0.0.1")]
    [TestCase("::ffff:127.0.0.1")]
    [TestCase("::ffff:169.254.169.254")]
    [TestCase("64:ff9b::a00:1")]
    [TestCase("64:ff9b:1::5db8:d822")]
    [TestCase("::ffff:0:5db8:d822")]
    [TestCase("100::1")]
    public void Refused_PrivateLoopbackLinkLocalOrReservedAddress_IsRefused(string address) =>
        Addresses().Refused(IPAddress.Parse(address)).ShouldBeTrue(address);

    [TestCase("93.184.216.34")]
    [TestCase("8.8.8.8")]
    [TestCase("172.15.255.255")]
    [TestCase("172.32.0.1")]
    [TestCase("100.63.255.255")]
    [TestCase("2606:4700:4700::1111")]
    [TestCase("::ffff:93.184.216.34")]
    [TestCase("64:ff9b::5db8:d822")]
    public void Refused_PublicAddress_IsAllowed(string address) =>
        Addresses().Refused(IPAddress.Parse(address)).ShouldBeFalse(address);

    [TestCase("127.0.0.1")]
    [TestCase("::1")]
    [TestCase("::ffff:127.0.0.1")]
    public void Refused_LoopbackWithTheDevelopmentSetting_IsAllowed(string address) =>
        Addresses(allowLoopback: true).Refused(IPAddress.Parse(address)).ShouldBeFalse(address);

    [TestCase("https://10.1.2.3/hooks")]
    [TestCase("https://[::1]/hooks")]
    [TestCase("https://[::ffff:192.168.0.1]/hooks")]
    [TestCase("https://169.254.169.254/latest/meta-data")]
    [TestCase("https://inside.partner.example/hooks")]
    [TestCase("https://metadata.partner.example/hooks")]
    [TestCase("https://mixed.partner.example/hooks")]
    [TestCase("https://localhost/hooks")]
    [TestCase("https://127.0.0.1:8443/hooks")]
    [TestCase("http://portal.partner.example/hooks")]
    [TestCase("http://127.0.0.1/hooks")]
    [TestCase("ftp://portal.partner.example/hooks")]
    [TestCase("https://user:secret@portal.partner.example/hooks")]
    [TestCase("https://portal.partner.example/hooks#frag")]
    [TestCase("https://unknown.partner.example/hooks")]
    [TestCase("/hooks")]
    [TestCase("not a url")]
    public async Task Refusal_UrlThatMayNotReceiveWebhooks_SaysWhy(string url) =>
        (await Addresses().RefusalAsync(url, CancellationToken.None)).ShouldNotBeNull(url);

    [TestCase("https://portal.partner.example/hooks")]
    [TestCase("https://93.184.216.34/hooks?token=abc")]
    [TestCase("https://PORTAL.partner.example:8443/hooks")]
    public async Task Refusal_PublicHttpsUrl_IsNone(string url) =>
        (await Addresses().RefusalAsync(url, CancellationToken.None)).ShouldBeNull(url);

    [TestCase("http://127.0.0.1:5000/hooks")]
    [TestCase("http://localhost:5000/hooks")]
    [TestCase("http://[::1]:5000/hooks")]
    public async Task Refusal_PlainHttpToLoopbackWithTheDevelopmentSetting_IsNone(string url) =>
        (await Addresses(allowLoopback: true).RefusalAsync(url, CancellationToken.None)).ShouldBeNull(url);

    [Test]
    public async Task Refusal_PlainHttpToPublicHostEvenWithTheDevelopmentSetting_IsRefused() =>
        (await Addresses(allowLoopback: true).RefusalAsync("http://portal.partner.example/hooks", CancellationToken.None)).ShouldNotBeNull();

    [Test]
    public async Task Connect_NameThatNowResolvesToPrivateAddress_IsRefusedAtConnectTime() =>
        await Should.ThrowAsync<RefusedAddressException>(async () =>
            await Addresses().ConnectAsync("inside.partner.example", 443, CancellationToken.None));

    [Test]
    public void Signature_IsTheStandardWebhooksLibrarysSignature()
    {
        var secret = WebhookSigning.NewSecret();
        secret.ShouldStartWith("whsec_");
        Convert.FromBase64String(secret["whsec_".Length..]).Length.ShouldBe(32);
        var timestamp = DateTimeOffset.FromUnixTimeSeconds(1_764_590_400);
        const string body = """{"type":"registration.approved","timestamp":"2026-12-01T12:00:00Z","data":{"id":"x","note":"ünïcödé"}}""";

        var ours = WebhookSigning.Signature("msg_1", timestamp.ToUnixTimeSeconds(), body, [secret]);

        ours.ShouldBe(new StandardWebhooks.StandardWebhook(secret).Sign("msg_1", timestamp, body));
    }

    [Test]
    public void Signature_WithTwoSecrets_CarriesOneSignatureEach()
    {
        var (first, second) = (WebhookSigning.NewSecret(), WebhookSigning.NewSecret());
        var signatures = WebhookSigning.Signature("msg_2", 1_764_590_400, "{}", [first, second]).Split(' ');
        signatures.Length.ShouldBe(2);
        signatures.ShouldAllBe(s => s.StartsWith("v1,"));
        signatures[0].ShouldNotBe(signatures[1]);
        var headers = new Microsoft.AspNetCore.Http.HeaderDictionary
        {
            ["webhook-id"] = "msg_2",
            ["webhook-timestamp"] = DateTimeOffset.UtcNow.ToUnixTimeSeconds().ToString(System.Globalization.CultureInfo.InvariantCulture),
        };
        headers["webhook-signature"] = WebhookSigning.Signature("msg_2", long.Parse(headers["webhook-timestamp"]!, System.Globalization.CultureInfo.InvariantCulture), "{}", [first, second]);
        // The package's verifier tries only the first signature; each is the package's own signature under its secret.
        Should.NotThrow(() => new StandardWebhooks.StandardWebhook(first).Verify("{}", headers));
        var at = DateTimeOffset.FromUnixTimeSeconds(long.Parse(headers["webhook-timestamp"]!, System.Globalization.CultureInfo.InvariantCulture));
        signatures = headers["webhook-signature"].ToString().Split(' ');
        signatures[1].ShouldBe(new StandardWebhooks.StandardWebhook(second).Sign("msg_2", at, "{}"));
    }
}
