using System.Collections.Concurrent;
using System.Security.Claims;
using System.Text.Encodings.Web;
using System.Text.Json;
using Microsoft.AspNetCore.Authentication;
using Microsoft.Extensions.Options;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Protocols;
using Microsoft.IdentityModel.Protocols.OpenIdConnect;
using Microsoft.IdentityModel.Tokens;
using PartnerDeals.Api.Features.People;
using PartnerDeals.Api.Infrastructure.Errors;

namespace PartnerDeals.Api.Infrastructure.Auth;

/// <summary>
/// Authenticates <c>Authorization: Bearer</c> tokens of the configured OpenID Connect issuers (<see cref="OidcOptions"/>): the
/// token's issuer picks the settings, its signature is checked against the issuer's published keys, and its audience and
/// lifetime against ours. The person is found (or created) in <see cref="PersonStore"/>; a disabled person, or one whose
/// claims map to no role (or a partner role without a linked partner), is authenticated without a role and so refused
/// with 403 naming what was read. Claims are read as the token has them: nothing is renamed.
/// </summary>
public sealed class BearerAuthentication(
    IOptionsMonitor<AuthenticationSchemeOptions> options,
    ILoggerFactory logger,
    UrlEncoder encoder,
    OidcIssuers issuers,
    PersonStore people,
    IProblemDetailsService problems)
    : AuthenticationHandler<AuthenticationSchemeOptions>(options, logger, encoder)
{
    public const string SchemeName = "Bearer";

    /// <summary>The scheme that picks one of the two by what the request carries.</summary>
    public const string EitherScheme = "ApiKeyOrBearer";

    public static bool Presented(HttpRequest request) =>
        request.Headers.Authorization.ToString().StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase);

    protected override async Task<AuthenticateResult> HandleAuthenticateAsync()
    {
        if (!Presented(Request)) return AuthenticateResult.NoResult();
        var checkedToken = await issuers.CheckAsync(Request.Headers.Authorization.ToString()["Bearer ".Length..].Trim(), Context.RequestAborted);
        if (checkedToken.Failure is { } failure) return AuthenticateResult.Fail(failure);
        var token = checkedToken.Token!;

        var person = await people.SignInAsync(token.Issuer, token.Subject, token.Email, token.Display, token.Roles, token.PartnerValue,
            Context.RequestAborted);
        var claims = new List<Claim>
        {
            new(Caller.PersonIdClaim, person.Id.ToString()),
            new(Caller.DisplayClaim, person.Display),
        };
        var refusal = person.DisabledAt is not null ? "This person has been disabled by an admin."
            : token.Roles.Count == 0 ? $"The token's claims map to no role of this API. Read: {string.Join(", ", token.ClaimsRead)} (see RoleMap)."
            : token.Roles.Contains("partner") && token.Roles.Count > 1 ? "The token maps to a partner role and a vendor role; a person is one or the other."
            : token.Roles.Contains("partner") && person.PartnerId is null
                ? $"No partner is linked to this person's partner claim ({token.PartnerClaim ?? "none configured"}); "
                    + "ops link it under /v1/partners/{id}/sign-in-links."
            // As a terminated partner's keys are revoked, its people are refused.
            : person.PartnerStatus == "terminated" ? "The person's partner has left the program."
            : null;
        if (refusal is not null)
        {
            claims.Add(new Claim(Caller.RefusedClaim, refusal));
        }
        else
        {
            claims.AddRange(token.Roles.Select(role => new Claim(ClaimTypes.Role, role)));
            if (person.PartnerId is { } partnerId) claims.Add(new Claim(Caller.PartnerIdClaim, partnerId.ToString()));
            if (person.PartnerStatus is { } status) claims.Add(new Claim(Caller.PartnerStatusClaim, status));
        }
        var principal = new ClaimsPrincipal(new ClaimsIdentity(claims, SchemeName, ClaimTypes.Name, ClaimTypes.Role));
        return AuthenticateResult.Success(new AuthenticationTicket(principal, SchemeName));
    }

    protected override async Task HandleChallengeAsync(AuthenticationProperties properties)
    {
        var result = await HandleAuthenticateOnceSafeAsync();
        Response.StatusCode = StatusCodes.Status401Unauthorized;
        Response.Headers.WWWAuthenticate = "Bearer error=\"invalid_token\"";
        await problems.WriteAsync(new ProblemDetailsContext
        {
            HttpContext = Context,
            ProblemDetails =
            {
                Status = 401,
                Type = ProblemTypes.Unauthenticated,
                Title = "A valid bearer token is required.",
                Detail = result.Failure?.Message ?? "The token is not valid.",
            },
        });
    }

    protected override async Task HandleForbiddenAsync(AuthenticationProperties properties)
    {
        Response.StatusCode = StatusCodes.Status403Forbidden;
        var refusal = Context.User.FindFirstValue(Caller.RefusedClaim);
        await problems.WriteAsync(new ProblemDetailsContext
        {
            HttpContext = Context,
            ProblemDetails =
            {
                Status = 403,
                Type = ProblemTypes.Forbidden,
                Title = refusal is null ? "This person may not call this endpoint." : "This person may not use the API.",
                Detail = refusal ?? $"The person's role ({Http.Json.Name(Context.User.Role())}) is not allowed here.",
            },
        });
    }

    /// <summary>
    /// An API key and a bearer token in one request is ambiguous, so neither speaks; <c>X-Acting-User</c> is one line of
    /// at most 200 characters. Both are the caller's mistakes, answered before anyone is authenticated.
    /// </summary>
    public static async Task CheckCredentialHeaders(HttpContext context, RequestDelegate next)
    {
        var acting = context.Request.Headers[ApiKeyAuthentication.ActingUserHeader].ToString();
        var problem = Presented(context.Request) && context.Request.Headers.ContainsKey(ApiKeyAuthentication.Header)
                ? ("Send an API key or a bearer token, not both.", $"The request carries both {ApiKeyAuthentication.Header} and Authorization: Bearer.")
            : acting.Length > 200 || acting.Any(char.IsControl)
                ? ($"{ApiKeyAuthentication.ActingUserHeader} is not usable.", "It is one line of at most 200 characters.")
            : default((string Title, string Detail)?);
        if (problem is { } refused)
        {
            context.Response.StatusCode = StatusCodes.Status400BadRequest;
            await context.RequestServices.GetRequiredService<IProblemDetailsService>().WriteAsync(new ProblemDetailsContext
            {
                HttpContext = context,
                ProblemDetails = { Status = 400, Type = ProblemTypes.MalformedRequest, Title = refused.Title, Detail = refused.Detail },
            });
            return;
        }
        await next(context);
    }
}

/// <summary>
/// What a valid token says of its person, read by the settings of its issuer (<paramref name="Issuer"/>, the configured name):
/// the roles its map gave, the partner claim's name and value, and <paramref name="ClaimsRead"/>, the claim names (never
/// values) looked at for the role and the partner.
/// </summary>
public sealed record CheckedToken(string Issuer, string Subject, string? Email, string Display, IReadOnlyList<string> Roles, string? PartnerClaim,
    string? PartnerValue, IReadOnlyList<string> ClaimsRead);

/// <summary>
/// The configured issuers: each one's discovery document and signing keys (read on first use and refreshed as
/// <see cref="ConfigurationManager{T}"/> does, once more at once when a token names a key not yet seen), and the check of a token.
/// </summary>
public sealed class OidcIssuers(IOptions<OidcOptions> options, IHttpClientFactory http)
{
    public const string ClientName = "oidc";

    private readonly ConcurrentDictionary<string, ConfigurationManager<OpenIdConnectConfiguration>> _metadata = new(StringComparer.OrdinalIgnoreCase);
    private readonly JsonWebTokenHandler _handler = new();

    /// <summary>The token checked, or why not, in words that never say more than why.</summary>
    public async Task<(CheckedToken? Token, string? Failure)> CheckAsync(string token, CancellationToken ct)
    {
        JsonWebToken jwt;
        try
        {
            jwt = new JsonWebToken(token);
        }
        catch (ArgumentException)
        {
            return (null, "The bearer token is not a JSON Web Token.");
        }
        var tenant = jwt.TryGetPayloadValue<string>("tid", out var tid) ? tid : null;
        if (Find(jwt.Issuer, tenant) is not { } found) return (null, "The token's issuer is not trusted here.");
        var (name, issuer) = found;

        OpenIdConnectConfiguration metadata;
        try
        {
            metadata = await Metadata(name, issuer).GetConfigurationAsync(ct);
        }
        catch (InvalidOperationException)
        {
            return (null, "The token's issuer could not be reached to check it; try again.");
        }
        var parameters = new TokenValidationParameters
        {
            ValidAudience = issuer.Audience,
            IssuerSigningKeys = metadata.SigningKeys,
            ClockSkew = TimeSpan.FromSeconds(issuer.ClockSkewSeconds),
            RequireExpirationTime = true,
            RequireSignedTokens = true,
            ValidIssuer = metadata.Issuer,
            IssuerValidator = issuer.MultiTenant ? (iss, _, _) => TenantIssuer(iss, tenant, metadata.Issuer, issuer) : null,
        };
        var result = await _handler.ValidateTokenAsync(jwt, parameters);
        if (result.Exception is SecurityTokenSignatureKeyNotFoundException)
        {
            // Keys rotate: a token signed by a key published since the last read asks for the keys again (rate-limited by the manager).
            Metadata(name, issuer).RequestRefresh();
            metadata = await Metadata(name, issuer).GetConfigurationAsync(ct);
            parameters.IssuerSigningKeys = metadata.SigningKeys;
            result = await _handler.ValidateTokenAsync(jwt, parameters);
        }
        if (!result.IsValid) return (null, Why(result.Exception));
        if (string.IsNullOrEmpty(jwt.Subject)) return (null, "The token names no subject.");
        return (Read(name, issuer, jwt), null);
    }

    private (string Name, OidcIssuer Issuer)? Find(string tokenIssuer, string? tenant)
    {
        foreach (var (name, issuer) in options.Value.Issuers)
        {
            var authority = issuer.Authority.TrimEnd('/');
            if (issuer.MultiTenant && tenant is not null)
            {
                authority = string.Join('/', authority.Split('/').Select(s => s is "common" or "organizations" or "consumers" or "{tenantid}" ? tenant : s));
            }
            if (string.Equals(authority, tokenIssuer.TrimEnd('/'), StringComparison.Ordinal)) return (name, issuer);
        }
        return null;
    }

    private static string TenantIssuer(string iss, string? tenant, string template, OidcIssuer issuer)
    {
        if (tenant is null || !issuer.AllowedTenants.Contains(tenant, StringComparer.OrdinalIgnoreCase)
            || !string.Equals(template.Replace("{tenantid}", tenant, StringComparison.Ordinal), iss, StringComparison.Ordinal))
        {
            throw new SecurityTokenInvalidIssuerException("The token's tenant may not sign in here.");
        }
        return iss;
    }

    private ConfigurationManager<OpenIdConnectConfiguration> Metadata(string name, OidcIssuer issuer) =>
        _metadata.GetOrAdd(name, _ => new ConfigurationManager<OpenIdConnectConfiguration>(
            issuer.Authority.TrimEnd('/') + "/.well-known/openid-configuration",
            new OpenIdConnectConfigurationRetriever(),
            new HttpDocumentRetriever(http.CreateClient(ClientName)) { RequireHttps = issuer.RequireHttpsMetadata }));

    private static string Why(Exception? failure) => failure switch
    {
        SecurityTokenExpiredException => "The token has expired.",
        SecurityTokenNotYetValidException => "The token is not valid yet.",
        SecurityTokenInvalidAudienceException => "The token was issued for another audience.",
        SecurityTokenInvalidIssuerException => "The token's issuer is not trusted here.",
        SecurityTokenNoExpirationException => "The token has no expiry.",
        SecurityTokenSignatureKeyNotFoundException or SecurityTokenInvalidSignatureException => "The token's signature is not valid.",
        _ => "The token is not valid.",
    };

    /// <summary>The person's claims, and the roles the issuer's map gives the values found at its role paths.</summary>
    private static CheckedToken Read(string name, OidcIssuer issuer, JsonWebToken jwt)
    {
        using var payload = JsonDocument.Parse(Base64UrlEncoder.Decode(jwt.EncodedPayload));
        var values = issuer.RolePaths.SelectMany(path => Strings(At(payload.RootElement, path))).ToList();
        var roles = values.Select(v => issuer.RoleMap.GetValueOrDefault(v)).OfType<string>().Distinct().Order(StringComparer.Ordinal).ToList();
        var partnerValue = issuer.PartnerClaim is { } claim ? Strings(At(payload.RootElement, claim)).FirstOrDefault() : null;
        var email = Strings(At(payload.RootElement, "email")).FirstOrDefault();
        var display = Strings(At(payload.RootElement, "name")).Concat(Strings(At(payload.RootElement, "preferred_username"))).FirstOrDefault()
            ?? email ?? jwt.Subject;
        List<string> read = [.. issuer.RolePaths];
        if (issuer.PartnerClaim is { } partnerClaim) read.Add(partnerClaim);
        return new CheckedToken(name, jwt.Subject, Cut(email, 320), Cut(display, 200)!, roles, issuer.PartnerClaim, Cut(partnerValue, 256), read);
    }

    private static JsonElement? At(JsonElement root, string path)
    {
        // A claim named with dots (as some issuers write URIs) is taken whole before it is read as a path.
        if (root.TryGetProperty(path, out var whole)) return whole;
        var at = root;
        foreach (var part in path.Split('.'))
        {
            if (at.ValueKind != JsonValueKind.Object || !at.TryGetProperty(part, out at)) return null;
        }
        return at;
    }

    private static IEnumerable<string> Strings(JsonElement? value) => value switch
    {
        { ValueKind: JsonValueKind.String } v => [v.GetString()!],
        { ValueKind: JsonValueKind.Array } v => v.EnumerateArray().Where(e => e.ValueKind == JsonValueKind.String).Select(e => e.GetString()!),
        _ => [],
    };

    private static string? Cut(string? value, int max) => value is null ? null : value.Length <= max ? value : value[..max];
}
