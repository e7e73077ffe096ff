using System.Net;
using Microsoft.Extensions.Options;

namespace PartnerDeals.Api.Infrastructure.Auth;

/// <summary>
/// People sign in with bearer tokens of the OpenID Connect issuers named here (<c>Auth:Oidc:Issuers:&lt;name&gt;</c>), beside
/// API keys. None by default: then only API keys are accepted.
/// </summary>
public sealed class OidcOptions
{
    public const string Section = "Auth:Oidc";

    public Dictionary<string, OidcIssuer> Issuers { get; set; } = new(StringComparer.OrdinalIgnoreCase);

    /// <summary>Every setting that stops start-up, each in one line.</summary>
    public IEnumerable<string> Problems()
    {
        foreach (var (name, issuer) in Issuers)
        {
            foreach (var problem in issuer.Problems()) yield return $"Auth:Oidc:Issuers:{name}: {problem}";
            if (name.Length > 64) yield return $"Auth:Oidc:Issuers:{name}: the name is over 64 characters.";
        }
    }

    /// <summary>Start-up stops on the first problem, in its own words.</summary>
    public sealed class Check : IValidateOptions<OidcOptions>
    {
        public ValidateOptionsResult Validate(string? name, OidcOptions options) =>
            options.Problems().ToList() is { Count: > 0 } problems ? ValidateOptionsResult.Fail(problems) : ValidateOptionsResult.Success;
    }
}

/// <summary>One issuer people sign in with: where its keys are, which tokens are for us, and how its claims map to our roles.</summary>
public sealed class OidcIssuer
{
    /// <summary>The issuer's URL: discovery (<c>/.well-known/openid-configuration</c>) and signing keys are read from it.</summary>
    public string Authority { get; set; } = "";

    /// <summary>The audience our tokens carry (<c>aud</c>): the API's identifier at the issuer.</summary>
    public string Audience { get; set; } = "";

    /// <summary>Metadata over https only (the default). Plain http is allowed for a loopback authority alone.</summary>
    public bool RequireHttpsMetadata { get; set; } = true;

    /// <summary>Where roles are: claim names or dotted paths (<c>roles</c>, <c>realm_access.roles</c>). <c>roles</c> when empty.</summary>
    public List<string> RoleClaimPaths { get; set; } = [];

    /// <summary>An issuer's role value → <c>admin</c>, <c>ops</c>, <c>crm</c> or <c>partner</c>. Values the map lacks give nothing.</summary>
    public Dictionary<string, string> RoleMap { get; set; } = new(StringComparer.OrdinalIgnoreCase);

    /// <summary>The claim naming a partner person's partner; its value counts only through a link ops made (<c>/v1/partners/{id}/sign-in-links</c>).</summary>
    public string? PartnerClaim { get; set; }

    /// <summary>For a multi-tenant authority (Entra's <c>common</c> or <c>organizations</c>): the tenant ids (<c>tid</c>) that may sign in.</summary>
    public List<string> AllowedTenants { get; set; } = [];

    /// <summary>How far a token's times may be off the clock.</summary>
    public int ClockSkewSeconds { get; set; } = 60;

    /// <summary>Swagger UI signs people in with this public client (authorization code with PKCE); none: no sign-in there.</summary>
    public string? SwaggerClientId { get; set; }

    /// <summary>The scopes Swagger UI asks for, e.g. <c>openid</c> and the API's scope.</summary>
    public List<string> SwaggerScopes { get; set; } = [];

    public IReadOnlyList<string> RolePaths => RoleClaimPaths.Count > 0 ? RoleClaimPaths : ["roles"];

    /// <summary>An authority any tenant signs in through: its tokens are accepted only from the tenants listed.</summary>
    public bool MultiTenant => Uri.TryCreate(Authority, UriKind.Absolute, out var uri)
        && uri.Segments.Select(s => s.Trim('/')).Any(s => s is "common" or "organizations" or "consumers" or "{tenantid}");

    public IEnumerable<string> Problems()
    {
        if (!Uri.TryCreate(Authority, UriKind.Absolute, out var authority) || authority.Scheme is not ("https" or "http"))
        {
            yield return "Authority must be an absolute https URL.";
            yield break;
        }
        if (authority.Scheme == "http" && (RequireHttpsMetadata || !IsLoopback(authority)))
        {
            yield return "Authority is plain http: allowed only for a loopback address with RequireHttpsMetadata false.";
        }
        if (string.IsNullOrWhiteSpace(Audience)) yield return "Audience is required.";
        if (RoleMap.Count == 0) yield return "RoleMap maps no value to a role; nobody could sign in.";
        foreach (var (value, role) in RoleMap.Where(m => m.Value is not ("admin" or "ops" or "crm" or "partner")))
        {
            yield return $"RoleMap maps {value} to {role}; the roles are admin, ops, crm and partner.";
        }
        if (MultiTenant && AllowedTenants.Count == 0)
        {
            yield return "the authority is multi-tenant: list the tenants that may sign in under AllowedTenants, or any tenant's users could.";
        }
        if (ClockSkewSeconds is < 0 or > 600) yield return "ClockSkewSeconds must be 0-600.";
    }

    private static bool IsLoopback(Uri uri) =>
        uri.IsLoopback || (IPAddress.TryParse(uri.Host.Trim('[', ']'), out var address) && IPAddress.IsLoopback(address));
}
