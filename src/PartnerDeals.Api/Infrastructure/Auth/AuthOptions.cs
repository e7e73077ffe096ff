namespace PartnerDeals.Api.Infrastructure.Auth;

/// <summary>Bound from the <c>Auth</c> section.</summary>
public sealed class AuthOptions
{
    public const string Section = "Auth";

    /// <summary>
    /// An admin key installed at start-up (env <c>Auth__BootstrapAdminKey</c>), for a first deploy and
    /// for automation. At least 32 characters; treat it like a password.
    /// </summary>
    public string? BootstrapAdminKey { get; set; }

    public bool IsValid => string.IsNullOrEmpty(BootstrapAdminKey) || BootstrapAdminKey.Length is >= 32 and <= 256;
}
