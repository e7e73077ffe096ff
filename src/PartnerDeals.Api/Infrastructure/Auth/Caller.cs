using System.Security.Claims;

namespace PartnerDeals.Api.Infrastructure.Auth;

/// <summary>Who is calling, read from the claims the API-key handler set.</summary>
public static class Caller
{
    public const string KeyIdClaim = "pd:key_id";
    public const string PartnerIdClaim = "pd:partner_id";
    public const string PartnerStatusClaim = "pd:partner_status";

    public static Guid? KeyId(this ClaimsPrincipal user) =>
        Guid.TryParse(user.FindFirstValue(KeyIdClaim), out var id) ? id : null;

    public static ApiKeyRole Role(this ClaimsPrincipal user) =>
        Http.Json.Parse<ApiKeyRole>(user.FindFirstValue(ClaimTypes.Role) ?? "partner");

    public static bool IsPartner(this ClaimsPrincipal user) => user.IsInRole("partner");

    /// <summary>The partner a partner key is bound to; null for vendor-side keys.</summary>
    public static Guid? PartnerId(this ClaimsPrincipal user) =>
        Guid.TryParse(user.FindFirstValue(PartnerIdClaim), out var id) ? id : null;

    /// <summary>A partner key of a suspended partner: it may read, never change anything.</summary>
    public static bool IsSuspendedPartner(this ClaimsPrincipal user) =>
        user.IsPartner() && user.FindFirstValue(PartnerStatusClaim) == "suspended";

    /// <summary>A partner key sees only its own partner; vendor keys see every partner.</summary>
    public static bool CanSeePartner(this ClaimsPrincipal user, Guid partnerId) =>
        !user.IsPartner() || user.PartnerId() == partnerId;
}
