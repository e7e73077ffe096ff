using System.ComponentModel.DataAnnotations;
using System.Security.Claims;
using System.Text.Json.Serialization;
using FluentValidation;
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
            .WithDescription("Any key. Answers clear, review or conflict. Vendor keys (crm, ops, admin) also get every candidate "
                + $"(up to {MaxListedCandidates}, best first) with its score and the signals that fired; a partner key gets the verdict alone, never whose account it is.")
            .RequireAuthorization(Policies.AnyKey)
            .WithValidation<ConflictCheckRequest>();
    }

    private static async Task<Microsoft.AspNetCore.Http.HttpResults.Ok<ConflictCheckResponse>> Check(
        ConflictCheckRequest request, ClaimsPrincipal user, ConflictChecker checker, CancellationToken ct)
    {
        var result = await checker.CheckAsync(Company.From(request.CompanyName, request.Domain, request.Country), user.PartnerId(), ct);
        return TypedResults.Ok(new ConflictCheckResponse
        {
            Verdict = result.Verdict,
            Reason = ConflictCheckResponse.ReasonFor(result.Verdict),
            Candidates = user.IsPartner() ? null : result.Candidates.Take(MaxListedCandidates).Select(CandidateView.From).ToList(),
        });
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
}

public sealed class ConflictCheckRequestValidator : AbstractValidator<ConflictCheckRequest>
{
    public ConflictCheckRequestValidator()
    {
        RuleFor(x => x.CompanyName).CompanyName();
        RuleFor(x => x.Domain).CompanyDomain();
        RuleFor(x => x.Country).Country();
    }
}

public sealed record ConflictCheckResponse
{
    /// <summary><c>clear</c>: no match; <c>review</c>: a person should look; <c>conflict</c>: the account is taken.</summary>
    /// <example>conflict</example>
    public required Verdict Verdict { get; init; }

    /// <summary>Safe to show a partner: <c>account_available</c>, <c>account_under_review</c> or <c>account_unavailable</c>.</summary>
    /// <example>account_unavailable</example>
    public required string Reason { get; init; }

    /// <summary>Every candidate, best first (vendor keys only; absent for partners).</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public IReadOnlyList<CandidateView>? Candidates { get; init; }

    public static string ReasonFor(Verdict verdict) => verdict switch
    {
        Verdict.Conflict => "account_unavailable",
        Verdict.Review => "account_under_review",
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
