using System.Security.Claims;
using System.Text.Encodings.Web;
using Microsoft.AspNetCore.Authentication;
using Microsoft.Extensions.Options;
using PartnerDeals.Api.Features.ApiKeys;
using PartnerDeals.Api.Infrastructure.Errors;

namespace PartnerDeals.Api.Infrastructure.Auth;

/// <summary>
/// Authenticates the <c>X-Api-Key</c> header against the stored hashes on every request, so a
/// revoked key stops working at once on every instance. Never logs the key.
/// </summary>
public sealed class ApiKeyAuthentication(
    IOptionsMonitor<AuthenticationSchemeOptions> options,
    ILoggerFactory logger,
    UrlEncoder encoder,
    ApiKeyStore keys,
    IProblemDetailsService problems)
    : AuthenticationHandler<AuthenticationSchemeOptions>(options, logger, encoder)
{
    public const string SchemeName = "ApiKey";
    public const string Header = "X-Api-Key";

    /// <summary>Who a portal says is acting behind its key: recorded as asserted, unverified.</summary>
    public const string ActingUserHeader = "X-Acting-User";

    protected override async Task<AuthenticateResult> HandleAuthenticateAsync()
    {
        var presented = Request.Headers[Header].ToString();
        if (presented.Length == 0) return AuthenticateResult.NoResult();

        var key = await keys.FindActiveAsync(presented, Context.RequestAborted);
        if (key is null) return AuthenticateResult.Fail("The API key is not valid or has been revoked.");

        var claims = new List<Claim>
        {
            new(Caller.KeyIdClaim, key.Id.ToString()),
            new(ClaimTypes.Role, key.Role),
            new(Caller.DisplayClaim, key.Name),
        };
        var acting = Request.Headers[ActingUserHeader].ToString().Trim();
        if (acting.Length > 0) claims.Add(new Claim(Caller.ActingUserClaim, acting));
        if (key.PartnerId is { } partnerId) claims.Add(new Claim(Caller.PartnerIdClaim, partnerId.ToString()));
        if (key.PartnerStatus is { } status) claims.Add(new Claim(Caller.PartnerStatusClaim, status));
        var principal = new ClaimsPrincipal(new ClaimsIdentity(claims, SchemeName));
        return AuthenticateResult.Success(new AuthenticationTicket(principal, SchemeName));
    }

    protected override async Task HandleChallengeAsync(AuthenticationProperties properties)
    {
        var result = await HandleAuthenticateOnceSafeAsync();
        Response.StatusCode = StatusCodes.Status401Unauthorized;
        Response.Headers.WWWAuthenticate = $"{SchemeName} header=\"{Header}\"";
        await problems.WriteAsync(new ProblemDetailsContext
        {
            HttpContext = Context,
            ProblemDetails =
            {
                Status = 401,
                Type = ProblemTypes.Unauthenticated,
                Title = "A valid API key is required.",
                Detail = result.Failure?.Message ?? $"Send your key in the {Header} header.",
            },
        });
    }

    protected override async Task HandleForbiddenAsync(AuthenticationProperties properties)
    {
        Response.StatusCode = StatusCodes.Status403Forbidden;
        await problems.WriteAsync(new ProblemDetailsContext
        {
            HttpContext = Context,
            ProblemDetails =
            {
                Status = 403,
                Type = ProblemTypes.Forbidden,
                Title = "This key may not call this endpoint.",
                Detail = $"The key's role ({Context.User.FindFirstValue(ClaimTypes.Role)}) is not allowed here.",
            },
        });
    }
}
