using System.Net;
using System.Net.Sockets;

namespace PartnerDeals.Api.Features.Webhooks;

/// <summary>How a host name becomes addresses: DNS in the product; a test may answer for names of its own.</summary>
public delegate Task<IPAddress[]> HostResolver(string host, CancellationToken ct);

/// <summary>
/// Where a webhook may go. A partner names the URL, so the service must never be made to call into its
/// own network: private, loopback, link-local (cloud metadata at 169.254.169.254 among them), shared,
/// multicast and reserved addresses are refused, in IPv4, IPv6 and IPv4 inside IPv6. The check runs when
/// the endpoint is saved and again on every connection, against the addresses the name resolves to then
/// (a DNS answer can change between the two), and the connection goes to the address that was checked.
/// </summary>
public sealed class EndpointAddresses(HostResolver resolve, Microsoft.Extensions.Options.IOptions<WebhookOptions> options)
{
    private bool AllowLoopback => options.Value.AllowLoopbackHttp;

    /// <summary>Why <paramref name="url"/> may not receive webhooks; null when it may.</summary>
    public async Task<string?> RefusalAsync(string url, CancellationToken ct)
    {
        if (!Uri.TryCreate(url, UriKind.Absolute, out var uri)) return "url must be an absolute https URL.";
        if (uri.Scheme != Uri.UriSchemeHttps && uri.Scheme != Uri.UriSchemeHttp) return "url must be an https URL.";
        if (!string.IsNullOrEmpty(uri.UserInfo)) return "url must not carry a user name or password.";
        if (!string.IsNullOrEmpty(uri.Fragment)) return "url must not carry a fragment.";
        IPAddress[] addresses;
        try
        {
            addresses = await AddressesAsync(uri.IdnHost, ct);
        }
        catch (SocketException)
        {
            return $"url's host '{uri.Host}' does not resolve.";
        }
        if (addresses.Length == 0) return $"url's host '{uri.Host}' does not resolve.";
        if (addresses.FirstOrDefault(a => Refused(a)) is { } refused)
        {
            return $"url resolves to {refused}, a private, loopback, link-local or reserved address; webhooks go to public addresses only.";
        }
        if (uri.Scheme == Uri.UriSchemeHttp && !addresses.All(IPAddress.IsLoopback))
        {
            return "url must be an https URL.";
        }
        return null;
    }

    /// <summary>Whether no webhook may connect to <paramref name="address"/>.</summary>
    public bool Refused(IPAddress address)
    {
        if (address.IsIPv4MappedToIPv6) address = address.MapToIPv4();
        if (IPAddress.IsLoopback(address)) return !AllowLoopback;
        return IsNonPublic(address);
    }

    /// <summary>
    /// Connects to the first address of <paramref name="host"/> that is allowed, checking each as the
    /// connection is made: the <c>SocketsHttpHandler.ConnectCallback</c> of the webhook client.
    /// </summary>
    public async ValueTask<Stream> ConnectAsync(string host, int port, CancellationToken ct)
    {
        var addresses = await AddressesAsync(host, ct);
        var refused = addresses.FirstOrDefault(Refused);
        if (refused is not null) throw new RefusedAddressException($"{host} resolves to {refused}, which webhooks may not reach.");
        var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        try
        {
            await socket.ConnectAsync(addresses, port, ct);
            return new NetworkStream(socket, ownsSocket: true);
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    private async Task<IPAddress[]> AddressesAsync(string host, CancellationToken ct) =>
        IPAddress.TryParse(host.Trim('[', ']'), out var literal) ? [literal] : await resolve(host, ct);

    private static bool IsNonPublic(IPAddress address)
    {
        if (address.AddressFamily == AddressFamily.InterNetwork)
        {
            var b = address.GetAddressBytes();
            return b[0] switch
            {
                0 or 10 or 127 => true,                       // "this network", private, loopback
                100 => b[1] is >= 64 and <= 127,             // shared address space (carrier-grade NAT)
                169 => b[1] == 254,                          // link-local, cloud metadata
                172 => b[1] is >= 16 and <= 31,              // private
                192 => (b[1] == 168) || (b[1] == 0 && b[2] is 0 or 2) || (b[1] == 88 && b[2] == 99), // private, IETF, TEST-NET-1, 6to4 relay
                198 => b[1] is 18 or 19 || (b[1] == 51 && b[2] == 100), // benchmarking, TEST-NET-2
                203 => b[1] == 0 && b[2] == 113,             // TEST-NET-3
                >= 224 => true,                              // multicast, reserved, broadcast
                _ => false,
            };
        }
        if (address.AddressFamily != AddressFamily.InterNetworkV6) return true;
        if (address.Equals(IPAddress.IPv6Any) || address.Equals(IPAddress.IPv6Loopback)) return true;
        if (address.IsIPv6LinkLocal || address.IsIPv6SiteLocal || address.IsIPv6Multicast || address.IsIPv6UniqueLocal) return true;
        var bytes = address.GetAddressBytes();
        // IPv4-compatible (::a.b.c.d) and NAT64 (64:ff9b::a.b.c.d) carry an IPv4 address that must pass too.
        var embedsIPv4 = bytes.Take(12).All(x => x == 0)
            || (bytes[0] == 0x00 && bytes[1] == 0x64 && bytes[2] == 0xff && bytes[3] == 0x9b && bytes.Skip(4).Take(8).All(x => x == 0));
        if (embedsIPv4) return IsNonPublic(new IPAddress(bytes[12..]));
        // Documentation (2001:db8::/32), and 6to4 or Teredo wrappers that would tunnel anywhere; local-use NAT64
        // (64:ff9b:1::/48), IPv4-translated (::ffff:0:0:0/96) and discard-only (100::/64) addresses, which translate into
        // or drop within a network of the operator's own.
        return (bytes[0] == 0x20 && bytes[1] == 0x01 && bytes[2] == 0x0d && bytes[3] == 0xb8)
            || (bytes[0] == 0x20 && bytes[1] == 0x02)
            || (bytes[0] == 0x20 && bytes[1] == 0x01 && bytes[2] == 0x00 && bytes[3] == 0x00)
            || bytes.AsSpan(0, 6).SequenceEqual(new byte[] { 0x00, 0x64, 0xff, 0x9b, 0x00, 0x01 })
            || (bytes.Take(8).All(x => x == 0) && bytes[8] == 0xff && bytes[9] == 0xff && bytes[10] == 0 && bytes[11] == 0)
            || (bytes[0] == 0x01 && bytes[1] == 0x00 && bytes.Skip(2).Take(6).All(x => x == 0));
    }
}

/// <summary>A webhook's host resolved, at connect time, to an address webhooks may not reach.</summary>
public sealed class RefusedAddressException(string message) : Exception(message);
