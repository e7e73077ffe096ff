using System.Security.Cryptography;
using System.Text;
using Microsoft.AspNetCore.DataProtection;

namespace PartnerDeals.Api.Features.Webhooks;

/// <summary>
/// Signing secrets and signatures, to the Standard Webhooks specification: a secret is <c>whsec_</c> and 32
/// random bytes in base64; a signature is <c>v1,</c> and the base64 HMAC-SHA256, under those bytes, of
/// <c>id.timestamp.body</c>. Secrets are kept protected by ASP.NET Core Data Protection, whose key ring
/// every instance reads from the database.
/// </summary>
public sealed class WebhookSigning(IDataProtectionProvider protection)
{
    private const string Prefix = "whsec_";

    private readonly IDataProtector _protector = protection.CreateProtector("PartnerDeals.Webhooks.SigningSecret");

    public static string NewSecret() => Prefix + Convert.ToBase64String(RandomNumberGenerator.GetBytes(32));

    public string Protect(string secret) => _protector.Protect(secret);

    public string Unprotect(string stored) => _protector.Unprotect(stored);

    /// <summary>The <c>webhook-signature</c> header: one signature per secret, separated by spaces.</summary>
    public static string Signature(string messageId, long timestamp, string body, IEnumerable<string> secrets)
    {
        var signed = Encoding.UTF8.GetBytes($"{messageId}.{timestamp}.{body}");
        return string.Join(' ', secrets.Select(secret =>
            "v1," + Convert.ToBase64String(HMACSHA256.HashData(Convert.FromBase64String(secret[Prefix.Length..]), signed))));
    }

    /// <summary>The <c>webhook-id</c> of an event: the same on every attempt and every replay.</summary>
    public static string MessageId(Guid eventId) => "msg_" + eventId.ToString("N");
}
