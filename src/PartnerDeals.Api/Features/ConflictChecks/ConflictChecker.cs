using Microsoft.Extensions.Options;
using PartnerDeals.Api.Features.Opportunities;
using PartnerDeals.Matching;

namespace PartnerDeals.Api.Features.ConflictChecks;

/// <summary>Bound from <c>Matching</c>: the score's thresholds and weights, and <c>Matching:Blocking</c>.</summary>
public sealed class MatchingOptions
{
    public const string Section = "Matching";

    public MatchSettings Scoring { get; set; } = new();

    public BlockingSettings Blocking { get; set; } = new();

    public bool IsValid =>
        Scoring.ReviewThreshold is > 0 and <= 1 && Scoring.ConflictThreshold is > 0 and <= 1 && Scoring.ReviewThreshold < Scoring.ConflictThreshold
        && Blocking.MaxTokenFrequency >= 1 && Blocking.MaxRareTokens >= 1 && Blocking.MaxCandidatesPerToken >= 1;
}

/// <summary>A scored candidate: what was matched and why.</summary>
public sealed record ScoredCandidate(OpportunityCandidate Candidate, MatchResult Match);

public sealed record ConflictCheckResult(Verdict Verdict, IReadOnlyList<ScoredCandidate> Candidates);

/// <summary>
/// Finds everything a company could collide with and scores it: the one matcher behind conflict
/// checks and, later, registrations.
/// </summary>
public sealed class ConflictChecker(OpportunityStore opportunities, IOptions<MatchingOptions> options)
{
    private readonly CompanyMatcher _matcher = new(options.Value.Scoring);

    public async Task<ConflictCheckResult> CheckAsync(Company query, CancellationToken ct)
    {
        var candidates = await opportunities.CandidatesAsync(query, options.Value.Blocking, ct);
        var scored = candidates
            .Select(c => new ScoredCandidate(c, _matcher.Score(query, c.Company)))
            .OrderByDescending(s => s.Match.Score).ThenBy(s => s.Candidate.Id)
            .ToList();
        var verdict = scored.Count == 0 ? Verdict.Clear : scored.Max(s => s.Match.Verdict);
        return new ConflictCheckResult(verdict, scored);
    }
}
