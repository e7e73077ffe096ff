using System.Security.Claims;

namespace PartnerDeals.Api.Infrastructure.Auth;

/// <summary>Who is calling, read from the claims the API-key and bearer handlers set.</summary>
public static class Caller
{
    public const string KeyIdClaim = "pd:key_id";
    public const string PersonIdClaim = "pd:person_id";
    public const string DisplayClaim = "pd:display";
    public const string PartnerIdClaim = "pd:partner_id";
    public const string PartnerStatusClaim = "pd:partner_status";

    /// <summary>Why a signed-in person may do nothing (disabled, no role, no partner): they have no role, and 403 says this.</summary>
    public const string RefusedClaim = "pd:refused";

    /// <summary>Who a portal key says is acting (<c>X-Acting-User</c>): recorded as asserted, never used for a decision.</summary>
    public const string ActingUserClaim = "pd:acting_user";

    public static Guid? KeyId(this ClaimsPrincipal user) =>
        Guid.TryParse(user.FindFirstValue(KeyIdClaim), out var id) ? id : null;

    /// <summary>The key or the signed-in person calling: who a partner's check log and idempotency keys are kept for.</summary>
    public static Guid CallerId(this ClaimsPrincipal user) =>
        user.KeyId() ?? user.PersonId() ?? throw new InvalidOperationException("An authenticated caller is a key or a person.");

    /// <summary>The signed-in person; null for an API key.</summary>
    public static Guid? PersonId(this ClaimsPrincipal user) =>
        Guid.TryParse(user.FindFirstValue(PersonIdClaim), out var id) ? id : null;

    /// <summary>The strongest role the caller has (a person may have several): admin, ops, crm, then partner.</summary>
    public static ApiKeyRole Role(this ClaimsPrincipal user)
    {
        var roles = user.FindAll(ClaimTypes.Role).Select(c => Http.Json.Parse<ApiKeyRole>(c.Value)).ToList();
        return roles.Count == 0 ? ApiKeyRole.Partner : roles.Min();
    }

    /// <summary>The strongest of roles named as stored (<c>admin</c> … <c>partner</c>).</summary>
    public static ApiKeyRole RoleOf(IEnumerable<string> roles) =>
        roles.Select(Http.Json.Parse<ApiKeyRole>).DefaultIfEmpty(ApiKeyRole.Partner).Min();

    public static IReadOnlyList<ApiKeyRole> Roles(this ClaimsPrincipal user) =>
        user.FindAll(ClaimTypes.Role).Select(c => Http.Json.Parse<ApiKeyRole>(c.Value)).Order().ToList();

    public static bool IsPartner(this ClaimsPrincipal user) => user.IsInRole("partner");

    /// <summary>The partner a partner key or person is bound to; null for the vendor's side.</summary>
    public static Guid? PartnerId(this ClaimsPrincipal user) =>
        Guid.TryParse(user.FindFirstValue(PartnerIdClaim), out var id) ? id : null;

    /// <summary>A partner key of a suspended partner: it may read, never change anything.</summary>
    public static bool IsSuspendedPartner(this ClaimsPrincipal user) =>
        user.IsPartner() && user.FindFirstValue(PartnerStatusClaim) == "suspended";

    /// <summary>A partner key sees only its own partner; vendor keys see every partner.</summary>
    public static bool CanSeePartner(this ClaimsPrincipal user, Guid partnerId) =>
        !user.IsPartner() || user.PartnerId() == partnerId;
}
