namespace PartnerDeals.Api.Infrastructure.Auth;

/// <summary>What a key may do. Stored and sent as the lower-case name.</summary>
public enum ApiKeyRole
{
    Admin,
    Ops,
    Crm,
    Partner,
}

/// <summary>Authorization policies by who may call; an endpoint names exactly one.</summary>
public static class Policies
{
    /// <summary>Admin keys only: issuing ops and CRM keys.</summary>
    public const string Admin = "admin";

    /// <summary>The channel team: ops and admin.</summary>
    public const string Ops = "ops";

    /// <summary>Vendor-side machines and people: crm, ops and admin (never a partner).</summary>
    public const string Vendor = "vendor";

    /// <summary>Who registers deals: partners for themselves, ops and admin on a partner's behalf (never the CRM).</summary>
    public const string Registrant = "registrant";

    /// <summary>Any valid key or person with a role, partners included; the handler then limits a partner to its own data.</summary>
    public const string AnyKey = "any-key";

    public static void Add(Microsoft.AspNetCore.Authorization.AuthorizationOptions options)
    {
        options.AddPolicy(Admin, p => p.RequireRole(Name(ApiKeyRole.Admin)));
        options.AddPolicy(Ops, p => p.RequireRole(Name(ApiKeyRole.Admin), Name(ApiKeyRole.Ops)));
        options.AddPolicy(Vendor, p => p.RequireRole(Name(ApiKeyRole.Admin), Name(ApiKeyRole.Ops), Name(ApiKeyRole.Crm)));
        options.AddPolicy(Registrant, p => p.RequireRole(Name(ApiKeyRole.Admin), Name(ApiKeyRole.Ops), Name(ApiKeyRole.Partner)));
        // A signed-in person whose claims map to no role is authenticated, and refused here (403 saying what was read).
        options.AddPolicy(AnyKey, p => p.RequireRole(Enum.GetValues<ApiKeyRole>().Select(Name)));
    }

    private static string Name(ApiKeyRole role) => Http.Json.Name(role);
}
