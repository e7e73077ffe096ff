using Microsoft.Extensions.Options;
using PartnerDeals.Api.Infrastructure.Data;
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
        && Blocking.MaxTokenFrequency >= 1 && Blocking.MaxRareTokens >= 1 && Blocking.MaxCandidatesPerKey >= 1 && Blocking.MaxMisspeltRows >= 0 && Blocking.MaxMisspeltKeys >= 0;
}

public enum CandidateKind
{
    /// <summary>An open opportunity of the vendor's own pipeline.</summary>
    DirectOpportunity,

    /// <summary>A won opportunity or won registration: the account is a customer.</summary>
    ExistingCustomer,

    /// <summary>Another partner's active registration.</summary>
    PartnerRegistration,

    /// <summary>The same partner's own active registration.</summary>
    DuplicateRegistration,
}

/// <summary>A record a company could collide with: a direct opportunity or a registration.</summary>
/// <param name="Kind">What kind of claim it is, seen from the partner asking.</param>
/// <param name="Id">The opportunity's or registration's id.</param>
/// <param name="AccountName">The company name as the record has it.</param>
/// <param name="Company">What the matcher compares.</param>
/// <param name="Source">The CRM of an opportunity.</param>
/// <param name="ExternalId">The opportunity's id in that CRM.</param>
/// <param name="PartnerId">The partner of a registration.</param>
/// <param name="HoldsAccount">An approved registration: it holds the account until it closes, expires or is withdrawn.</param>
/// <param name="Products">The products of the opportunity's or registration's deal; empty when it names none.</param>
public sealed record Candidate(
    CandidateKind Kind, Guid Id, string AccountName, Company Company,
    string? Source = null, string? ExternalId = null, Guid? PartnerId = null, bool HoldsAccount = false, IReadOnlyList<string>? Products = null);

/// <summary>A scored candidate: what was matched and why.</summary>
public sealed record ScoredCandidate(Candidate Candidate, MatchResult Match);

public sealed record ConflictCheckResult(Verdict Verdict, IReadOnlyList<ScoredCandidate> Candidates);

/// <summary>
/// Finds everything a company could collide with — the direct pipeline, existing customers and
/// partners' registrations — and scores it: the one matcher behind conflict checks and registrations.
/// </summary>
public sealed class ConflictChecker(
    Database database, IOptions<MatchingOptions> options,
    IOptions<ProductLines.ProductCatalogue> catalogue, TimeProvider clock)
{
    /// <summary>The position of a registration not yet stored, or of a plain check: every claim is ahead of it.</summary>
    private const long Last = long.MaxValue;

    private readonly CompanyMatcher _matcher = new(options.Value.Scoring);

    /// <summary>A check on its own, for <c>POST /v1/conflict-checks</c>.</summary>
    public Task<ConflictCheckResult> CheckAsync(Company query, IReadOnlyList<string>? products, Guid? askingPartnerId, CancellationToken ct) =>
        database.ReadAsync(session => ScoreAsync(session, query, products, askingPartnerId, Guid.Empty, Last, ct), ct);

    /// <summary>
    /// The check of registration <paramref name="self"/> (at position <paramref name="selfSeq"/>, 0 when not yet
    /// stored), inside the transaction that decides it.
    /// </summary>
    public Task<ConflictCheckResult> CheckAsync(DbSession session, Company query, IReadOnlyList<string> products, Guid partnerId, Guid self, long selfSeq,
        CancellationToken ct) =>
        ScoreAsync(session, query, products, partnerId, self, selfSeq == 0 ? Last : selfSeq, ct);

    /// <summary>The alternate names of a partner's company that nothing ties to it, which its claim does not hold.</summary>
    public IReadOnlyList<string> UnrelatedAlternates(Company company) => _matcher.UnrelatedAlternates(company);

    private async Task<ConflictCheckResult> ScoreAsync(
        DbSession session, Company query, IReadOnlyList<string>? products, Guid? askingPartnerId, Guid self, long selfSeq, CancellationToken ct)
    {
        var blocking = options.Value.Blocking;
        // The misspelling index holds the tokens of both tables: asked once.
        var queryTokens = query.AllNames.SelectMany(n => Blocking.TokensOf(n.Name)).Distinct(StringComparer.Ordinal).ToList();
        var misspellings = await MisspellingIndex.MisspellingsAsync(session, queryTokens, ct);
        var candidates = new List<Candidate>();
        candidates.AddRange(await OpportunityCandidates.FindAsync(session, query, misspellings, blocking, ct));
        candidates.AddRange(await RegistrationCandidates.FindAsync(session, self, selfSeq, query, misspellings, askingPartnerId,
            clock.GetUtcNow(), blocking, ct));

        // Under the product-line scope a match on the company counts only where the two deals may share a line.
        var byLine = catalogue.Value.ScopesConflicts;
        IReadOnlyList<string> ours = byLine ? catalogue.Value.LinesOf(products) : [];
        var scored = candidates
            .Select(c =>
            {
                // A partner's claim holds only the alternate names tied to its company; the vendor's own records hold all theirs.
                var held = c.PartnerId is not null && c.Company.OtherNames.Count > 0 ? _matcher.Held(c.Company) : c.Company;
                var match = _matcher.Score(query, held);
                return new ScoredCandidate(c, byLine ? ProductLines.ProductScope.Apply(match, ours, catalogue.Value.LinesOf(c.Products)) : match);
            })
            .OrderByDescending(s => s.Match.Score).ThenBy(s => s.Candidate.Id)
            .ToList();
        var verdict = scored.Count == 0 ? Verdict.Clear : scored.Max(s => s.Match.Verdict);
        return new ConflictCheckResult(verdict, scored);
    }
}
