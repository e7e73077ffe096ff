using System.ComponentModel.DataAnnotations;
using System.Globalization;
using System.Security.Claims;
using System.Text.Json.Serialization;
using FluentValidation;
using Microsoft.AspNetCore.Http.HttpResults;
using PartnerDeals.Api.Features.Partners;
using PartnerDeals.Api.Infrastructure.Errors;
using PartnerDeals.Api.Infrastructure.Auth;
using PartnerDeals.Api.Infrastructure.Http;
using PartnerDeals.Matching;

namespace PartnerDeals.Api.Features.ConflictChecks;

public static class ConflictChecksApi
{
    /// <summary>The most candidates a response lists, best first.</summary>
    public const int MaxListedCandidates = 50;

    public static void MapConflictChecks(this IEndpointRouteBuilder v1)
    {
        v1.MapPost("/conflict-checks", Check)
            .WithTags("Conflict checks")
            .WithName("CheckConflict")
            .WithSummary("Would this company collide with the pipeline?")
            .WithDescription("Any key. Vendor keys (crm, ops, admin) get the verdict (clear, review or conflict) and every candidate "
                + $"(up to {MaxListedCandidates}, best first) with its score and the signals that fired. A partner key learns only whether the account "
                + "is available now (clear) or not (review or conflict), never whose it is; its checks count against the partner's one check quota "
                + "(ConflictChecks:PartnerQuota or the partner's own checkQuota, per minute and per day, shared with its registrations and edits that "
                + "name another company; 429 with Retry-After beyond it) and are logged for ops.")
            .RequireAuthorization(Policies.AnyKey)
            .WithValidation<ConflictCheckRequest>()
            .ProducesProblem(StatusCodes.Status429TooManyRequests);

        v1.MapGet("/partners/{id:guid}/conflict-checks", Log)
            .WithTags("Conflict checks")
            .WithName("ListPartnerConflictChecks")
            .WithSummary("The checks a partner asked for")
            .WithDescription("Ops and admin. Every check the partner's keys asked for — pre-checks, registrations and edits that name another "
                + "company (askedBy) — answered or refused by the quota, oldest first, keyset-paginated; each with what was asked and the verdict the matcher reached.")
            .RequireAuthorization(Policies.Ops)
            .ProducesProblem(StatusCodes.Status404NotFound);
    }

    private static async Task<Results<Ok<ConflictCheckResponse>, ProblemHttpResult>> Check(
        ConflictCheckRequest request, ClaimsPrincipal user, ConflictChecker checker, PartnerPreChecks preChecks, PartnerStore partners,
        HttpResponse response, CancellationToken ct)
    {
        var result = await checker.CheckAsync(Company.From(request.CompanyName, request.Domain, request.Country), request.Products, user.PartnerId(), ct);
        var available = result.Verdict == Verdict.Clear;
        if (user.PartnerId() is not { } partnerId)
        {
            preChecks.CountVendorCheck(result.Verdict);
            return TypedResults.Ok(new ConflictCheckResponse
            {
                Verdict = result.Verdict,
                Available = available,
                Reason = ConflictCheckResponse.ReasonFor(result.Verdict),
                Candidates = result.Candidates.Take(MaxListedCandidates).Select(CandidateView.From).ToList(),
            });
        }

        var partner = await partners.GetAsync(partnerId, ct);
        var answer = await preChecks.RecordAsync(partnerId, partner?.CheckQuota, user.CallerId(),
            new CheckAsked(PartnerPreChecks.PreCheck, request.CompanyName!, request.Domain, request.Country), result.Verdict, ct);
        if (!answer.Allowed) return PartnerPreChecks.Refused(answer, response);
        return TypedResults.Ok(new ConflictCheckResponse
        {
            Available = available,
            Reason = available ? "account_available" : "account_unavailable",
        });
    }

    /// <param name="id">The partner's id.</param>
    /// <param name="partners">The partner store.</param>
    /// <param name="preChecks">The pre-check log.</param>
    /// <param name="ct">Cancellation.</param>
    /// <param name="page">The page asked for.</param>
    private static async Task<Results<Ok<Page<PartnerPreCheck>>, ValidationProblem, ProblemHttpResult>> Log(
        Guid id, PartnerStore partners, PartnerPreChecks preChecks, CancellationToken ct, [AsParameters] PageRequest page = default)
    {
        if (!page.TryRead(out var pageSize, out var after, out var errors)) return Problems.Validation(errors);
        if (await partners.GetAsync(id, ct) is null) return Problems.NotFound("The partner");
        return TypedResults.Ok(await preChecks.ListAsync(id, pageSize, after, ct));
    }
}

/// <summary>The company to check.</summary>
public sealed record ConflictCheckRequest
{
    /// <example>Contoso Pharma</example>
    [Required]
    public string? CompanyName { get; init; }

    /// <summary>A website URL, e-mail address or host of the company.</summary>
    /// <example>contoso-pharma.de</example>
    public string? Domain { get; init; }

    /// <summary>ISO 3166-1 alpha-2.</summary>
    /// <example>DE</example>
    public string? Country { get; init; }

    /// <summary>The products of the deal in mind (up to 50): under the product-line scope only deals sharing a line collide.</summary>
    /// <example>["analytics-suite"]</example>
    public IReadOnlyList<string>? Products { get; init; }
}

public sealed class ConflictCheckRequestValidator : AbstractValidator<ConflictCheckRequest>
{
    public ConflictCheckRequestValidator()
    {
        RuleFor(x => x.CompanyName).CompanyName();
        RuleFor(x => x.Domain).CompanyDomain();
        RuleFor(x => x.Country).Country();
        RuleFor(x => x.Products).Must(p => p is null || p.Count <= ProductLines.ProductCatalogue.MaxProducts)
            .WithMessage($"products may list at most {ProductLines.ProductCatalogue.MaxProducts} products.");
        RuleForEach(x => x.Products).NotEmpty().MaximumLength(200).Name();
    }
}

public sealed record ConflictCheckResponse
{
    /// <summary>
    /// <c>clear</c>: no match; <c>review</c>: a person should look; <c>conflict</c>: the account is taken. Vendor keys only: a
    /// partner is told <c>available</c> alone, so that trying one name with every country, or near spellings, cannot tell
    /// a partner how close it came.
    /// </summary>
    /// <example>conflict</example>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public Verdict? Verdict { get; init; }

    /// <summary>True when the verdict is clear: a registration would not collide with anything now.</summary>
    /// <example>false</example>
    public required bool Available { get; init; }

    /// <summary>
    /// Safe to show a partner: <c>account_available</c> or <c>account_unavailable</c> (for a vendor key also
    /// <c>account_under_review</c>).
    /// </summary>
    /// <example>account_unavailable</example>
    public required string Reason { get; init; }

    /// <summary>Every candidate, best first (vendor keys only; absent for partners).</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public IReadOnlyList<CandidateView>? Candidates { get; init; }

    public static string ReasonFor(Verdict verdict) => verdict switch
    {
        Matching.Verdict.Conflict => "account_unavailable",
        Matching.Verdict.Review => "account_under_review",
        _ => "account_available",
    };
}

/// <summary>One record the company was compared with.</summary>
public sealed record CandidateView
{
    /// <summary>
    /// <c>direct_opportunity</c> (open in the pipeline), <c>existing_customer</c> (a won opportunity or registration),
    /// <c>partner_registration</c> (another partner's active registration) or <c>duplicate_registration</c> (the same partner's).
    /// </summary>
    public required CandidateKind Kind { get; init; }

    /// <summary>The opportunity's or registration's id.</summary>
    public required Guid Id { get; init; }

    /// <summary>The CRM of a direct opportunity.</summary>
    /// <example>salesforce</example>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? Source { get; init; }

    /// <summary>The opportunity's id in its CRM.</summary>
    /// <example>0065g00000AbCdEAAV</example>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? ExternalId { get; init; }

    /// <summary>The partner of a registration.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public Guid? PartnerId { get; init; }

    /// <summary>An approved registration holding the account.</summary>
    public required bool HoldsAccount { get; init; }

    /// <example>Contoso Pharmaceuticals GmbH</example>
    public required string AccountName { get; init; }

    /// <summary>0 to 1.</summary>
    /// <example>0.99</example>
    public required double Score { get; init; }

    public required Verdict Verdict { get; init; }

    /// <summary>The evidence: e.g. domain_equal, key_equal, token_set_similarity 0.8, jaro_winkler 0.94, acronym, country_equal, country_differs.</summary>
    public required IReadOnlyList<MatchSignal> Signals { get; init; }

    public static CandidateView From(ScoredCandidate s) => new()
    {
        Kind = s.Candidate.Kind,
        Id = s.Candidate.Id,
        Source = s.Candidate.Source,
        ExternalId = s.Candidate.ExternalId,
        PartnerId = s.Candidate.PartnerId,
        HoldsAccount = s.Candidate.HoldsAccount,
        AccountName = s.Candidate.AccountName,
        Score = s.Match.Score,
        Verdict = s.Match.Verdict,
        Signals = s.Match.Signals,
    };
}
