using System.Security.Claims;
using FluentValidation;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Options;
using PartnerDeals.Api.Features.Audit;
using PartnerDeals.Api.Features.Partners;
using PartnerDeals.Api.Infrastructure.Auth;
using PartnerDeals.Api.Infrastructure.Data;
using PartnerDeals.Api.Infrastructure.Http;

namespace PartnerDeals.Api.Features.People;

/// <summary>
/// Who is calling (<c>GET /v1/me</c>), the people who signed in (<c>GET /v1/people</c>, <c>PATCH /v1/people/{id}</c> to disable
/// or enable), and the links that make a partner claim's value a partner (<c>/v1/partners/{id}/sign-in-links</c>).
/// </summary>
public static class PeopleApi
{
    public static void MapPeople(this IEndpointRouteBuilder v1)
    {
        v1.MapGet("/me", Me)
            .WithTags("People")
            .WithName("GetMe")
            .WithSummary("Who is calling")
            .WithDescription("Any key or signed-in person: the kind of caller (person or api_key), the person or key, the roles and the partner.")
            .RequireAuthorization(Policies.AnyKey);

        var people = v1.MapGroup("/people").WithTags("People");

        people.MapGet("/", List)
            .WithName("ListPeople")
            .WithSummary("List the people who signed in")
            .WithDescription("Ops and admin. A person is created by their first valid token; roles and partner are as their latest token gave them. "
                + "Oldest first, keyset-paginated.")
            .RequireAuthorization(Policies.Ops);

        people.MapGet("/{id:guid}", Get)
            .WithName("GetPerson")
            .WithSummary("Read a person")
            .WithDescription("Ops and admin. The ETag header is the version for If-Match.")
            .RequireAuthorization(Policies.Ops)
            .WithETag()
            .ProducesProblem(StatusCodes.Status404NotFound);

        people.MapPatch("/{id:guid}", Update)
            .WithName("UpdatePerson")
            .WithSummary("Disable or enable a person")
            .WithDescription("Admin only, with the ETag of your last read in If-Match. A disabled person is refused (403) whatever their issuer "
                + "says, on every instance within a second.")
            .RequireAuthorization(Policies.Admin)
            .WithValidation<UpdatePersonRequest>()
            .Accepts<UpdatePersonRequest>("application/json", "application/merge-patch+json")
            .WithETag(requiresIfMatch: true)
            .ProducesProblem(StatusCodes.Status404NotFound);

        var links = v1.MapGroup("/partners/{id:guid}/sign-in-links").WithTags("People");

        links.MapPost("/", Link)
            .WithName("CreatePartnerSignInLink")
            .WithSummary("Make a partner claim's value this partner")
            .WithDescription("Ops and admin. People of the issuer whose partner claim (the issuer's PartnerClaim setting) has this value, and whose "
                + "role maps to partner, act as this partner. A claim's value is never read as a partner's id: only a link makes it one. "
                + "409 when another partner holds the value.")
            .RequireAuthorization(Policies.Ops)
            .WithValidation<SignInLinkRequest>()
            .ProducesProblem(StatusCodes.Status404NotFound)
            .ProducesProblem(StatusCodes.Status409Conflict);

        links.MapGet("/", Links)
            .WithName("ListPartnerSignInLinks")
            .WithSummary("The partner's sign-in links")
            .WithDescription("Ops and admin.")
            .RequireAuthorization(Policies.Ops)
            .ProducesProblem(StatusCodes.Status404NotFound);

        links.MapDelete("/{linkId:guid}", Unlink)
            .WithName("DeletePartnerSignInLink")
            .WithSummary("Remove a sign-in link")
            .WithDescription("Ops and admin. The people it made this partner's act as no partner from their next request (within a second on every instance).")
            .RequireAuthorization(Policies.Ops)
            .ProducesProblem(StatusCodes.Status404NotFound);
    }

    private static async Task<Ok<Me>> Me(ClaimsPrincipal user, PersonStore people, CancellationToken ct)
    {
        var person = user.PersonId() is { } id ? (await people.GetAsync(id, ct))?.Person : null;
        return TypedResults.Ok(new Me
        {
            Kind = person is null ? ActorKinds.ApiKey : ActorKinds.Person,
            Person = person,
            KeyId = user.KeyId(),
            Display = user.FindFirstValue(Caller.DisplayClaim) ?? "",
            Roles = user.Roles(),
            PartnerId = user.PartnerId(),
        });
    }

    /// <param name="people">The people.</param>
    /// <param name="ct">Cancellation.</param>
    /// <param name="page">The page asked for.</param>
    private static async Task<Results<Ok<Page<Person>>, ValidationProblem>> List(PersonStore people, CancellationToken ct,
        [AsParameters] PageRequest page = default)
    {
        if (!page.TryRead(out var pageSize, out var after, out var errors)) return Problems.Validation(errors);
        return TypedResults.Ok(await people.ListAsync(pageSize, after, ct));
    }

    private static async Task<Results<Ok<Person>, ProblemHttpResult>> Get(Guid id, HttpContext http, PersonStore people, CancellationToken ct)
    {
        if (await people.GetAsync(id, ct) is not var (person, version)) return Problems.NotFound("The person");
        http.Response.Headers.ETag = ETags.For(version);
        return TypedResults.Ok(person);
    }

    private static async Task<Results<Ok<Person>, ProblemHttpResult>> Update(Guid id, UpdatePersonRequest request, ClaimsPrincipal user,
        HttpContext http, PersonStore people, CancellationToken ct)
    {
        var match = ETags.ReadIfMatch(http.Request, out var expected);
        if (match == ETags.Match.Missing) return Problems.PreconditionRequired();
        if (match == ETags.Match.Unusable) return Problems.PreconditionFailed();
        var changed = await people.SetDisabledAsync(id, request.Disabled!.Value, match == ETags.Match.Version ? expected : null, Actor.From(user), ct);
        if (changed is not var (person, version)) return Problems.NotFound("The person");
        if (version < 0) return Problems.PreconditionFailed();
        http.Response.Headers.ETag = ETags.For(version);
        return TypedResults.Ok(person);
    }

    private static async Task<Results<Created<SignInLink>, Ok<SignInLink>, ProblemHttpResult, ValidationProblem>> Link(Guid id, SignInLinkRequest request,
        ClaimsPrincipal user, Database database, PartnerStore partners, PersonStore people, IOptions<OidcOptions> oidc, CancellationToken ct)
    {
        var issuer = oidc.Value.Issuers.Keys.FirstOrDefault(k => string.Equals(k, request.Issuer, StringComparison.OrdinalIgnoreCase));
        if (issuer is null)
        {
            return Problems.Validation("issuer", $"issuer must be one of the configured issuers ({string.Join(", ", oidc.Value.Issuers.Keys)}).");
        }
        await using var connection = await database.OpenAsync(ct);
        await using var session = await database.BeginWriteAsync(connection, ct);
        var partner = await partners.GetAsync(session, id, ct);
        if (partner is null) return Problems.NotFound("The partner");
        if (partner.Status == PartnerStatus.Terminated) return Problems.InvalidTransition("A terminated partner cannot be given sign-in links.");
        if (await people.LinkAsync(session, id, issuer, request.ClaimValue!, Actor.From(user), ct) is not var (link, created))
        {
            return Problems.Conflict("Another partner holds this claim value.", "Remove its link first.");
        }
        await session.CommitAsync(ct);
        return created ? TypedResults.Created($"/v1/partners/{id}/sign-in-links/{link.Id}", link) : TypedResults.Ok(link);
    }

    private static async Task<Results<Ok<IReadOnlyList<SignInLink>>, ProblemHttpResult>> Links(Guid id, PartnerStore partners, PersonStore people,
        CancellationToken ct)
    {
        if (await partners.GetAsync(id, ct) is null) return Problems.NotFound("The partner");
        return TypedResults.Ok(await people.LinksAsync(id, ct));
    }

    private static async Task<Results<NoContent, ProblemHttpResult>> Unlink(Guid id, Guid linkId, ClaimsPrincipal user, PersonStore people,
        CancellationToken ct) =>
        await people.UnlinkAsync(id, linkId, Actor.From(user), ct) ? TypedResults.NoContent() : Problems.NotFound("The sign-in link");
}

/// <summary>Who is calling.</summary>
public sealed record Me
{
    /// <summary><c>person</c> (signed in with a bearer token) or <c>api_key</c>.</summary>
    /// <example>person</example>
    public required string Kind { get; init; }

    /// <summary>The person; null for an API key.</summary>
    public Person? Person { get; init; }

    /// <summary>The API key; null for a person.</summary>
    public Guid? KeyId { get; init; }

    /// <summary>The person's name, or the key's name.</summary>
    /// <example>Jane Doe</example>
    public required string Display { get; init; }

    /// <summary>The roles the caller acts in.</summary>
    public required IReadOnlyList<ApiKeyRole> Roles { get; init; }

    /// <summary>The partner a partner person or key acts as; null on the vendor's side.</summary>
    public Guid? PartnerId { get; init; }
}

/// <summary>A person who signed in through an issuer.</summary>
public sealed record Person
{
    /// <example>0193a6f2-7c1e-7d3a-9f00-5b2c8e4d1a10</example>
    public required Guid Id { get; init; }

    /// <summary>The configured issuer (<c>Auth:Oidc:Issuers:&lt;name&gt;</c>) they signed in with.</summary>
    /// <example>entra</example>
    public required string Issuer { get; init; }

    /// <summary>Their subject (<c>sub</c>) at the issuer.</summary>
    /// <example>00u1a2b3c4d5e6f7g8h9</example>
    public required string Subject { get; init; }

    /// <example>jane.doe@vendor.example</example>
    public string? Email { get; init; }

    /// <example>Jane Doe</example>
    public required string DisplayName { get; init; }

    /// <summary>The roles their latest token mapped to.</summary>
    public required IReadOnlyList<ApiKeyRole> Roles { get; init; }

    /// <summary>The partner they act as; null on the vendor's side.</summary>
    public Guid? PartnerId { get; init; }

    /// <summary>Refused whatever the issuer says.</summary>
    /// <example>false</example>
    public required bool Disabled { get; init; }

    public DateTimeOffset? DisabledAt { get; init; }

    public required DateTimeOffset CreatedAt { get; init; }

    /// <summary>Their latest request, to the minute.</summary>
    public required DateTimeOffset LastSeenAt { get; init; }
}

/// <summary>Disable or enable a person.</summary>
public sealed record UpdatePersonRequest
{
    /// <summary>True refuses the person from their next request on; false lets them in again.</summary>
    /// <example>true</example>
    public bool? Disabled { get; init; }
}

public sealed class UpdatePersonRequestValidator : AbstractValidator<UpdatePersonRequest>
{
    public UpdatePersonRequestValidator() => RuleFor(x => x.Disabled).NotNull();
}

/// <summary>A value of an issuer's partner claim that makes its people this partner.</summary>
public sealed record SignInLink
{
    /// <example>0193a6f2-7c1e-7d3a-9f00-5b2c8e4d1a10</example>
    public required Guid Id { get; init; }

    public required Guid PartnerId { get; init; }

    /// <example>entra</example>
    public required string Issuer { get; init; }

    /// <example>contoso-reseller</example>
    public required string ClaimValue { get; init; }

    public required DateTimeOffset CreatedAt { get; init; }
}

public sealed record SignInLinkRequest
{
    /// <summary>The configured issuer's name.</summary>
    /// <example>entra</example>
    public string? Issuer { get; init; }

    /// <summary>The value of that issuer's partner claim, exactly as its tokens carry it.</summary>
    /// <example>contoso-reseller</example>
    public string? ClaimValue { get; init; }
}

public sealed class SignInLinkRequestValidator : AbstractValidator<SignInLinkRequest>
{
    public SignInLinkRequestValidator()
    {
        RuleFor(x => x.Issuer).NotEmpty().MaximumLength(64);
        RuleFor(x => x.ClaimValue).NotEmpty().MaximumLength(256).Name();
    }
}
