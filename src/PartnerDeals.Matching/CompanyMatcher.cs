namespace PartnerDeals.Matching;

/// <summary>What is known about a company on either side of a comparison.</summary>
/// <param name="Name">The normalised name.</param>
/// <param name="Domain">The registrable company domain (never free mail), or null.</param>
/// <param name="Country">ISO 3166-1 alpha-2, upper case, or null.</param>
public sealed record Company(CompanyName Name, string? Domain, string? Country)
{
    public static Company From(string? name, string? domainOrUrlOrEmail, string? country) =>
        new(CompanyName.Normalise(name), Domains.CompanyDomain(domainOrUrlOrEmail),
            string.IsNullOrWhiteSpace(country) ? null : country.Trim().ToUpperInvariant());
}

public enum Verdict
{
    Clear,
    Review,
    Conflict,
}

/// <summary>One piece of evidence: its name and its value (1 for a yes/no signal, the similarity otherwise).</summary>
public sealed record MatchSignal(string Name, double Value);

public sealed record MatchResult(double Score, Verdict Verdict, IReadOnlyList<MatchSignal> Signals);

/// <summary>Thresholds and weights of the score; bound from configuration (<c>Matching:*</c>).</summary>
public sealed class MatchSettings
{
    /// <summary>At or above: the accounts are the same (conflict).</summary>
    public double ConflictThreshold { get; set; } = 0.90;

    /// <summary>At or above, below conflict: a person should look (review).</summary>
    public double ReviewThreshold { get; set; } = 0.75;

    /// <summary>Score when both sides name the same registrable domain.</summary>
    public double DomainEqualScore { get; set; } = 0.99;

    /// <summary>Score when one name is the acronym of the other (IBM / International Business Machines).</summary>
    public double AcronymScore { get; set; } = 0.91;

    /// <summary>Weight of token-set similarity against Jaro-Winkler of the keys in the fuzzy name score.</summary>
    public double TokenSetWeight { get; set; } = 0.6;

    /// <summary>The fuzzy name score is at least the keys' Jaro-Winkler less this.</summary>
    public double KeySimilarityDiscount { get; set; } = 0.07;

    /// <summary>Added when both countries are known and equal.</summary>
    public double CountryEqualBonus { get; set; } = 0.03;

    /// <summary>Subtracted when both countries are known and differ: the same name abroad is often another company.</summary>
    public double CountryDiffersPenalty { get; set; } = 0.20;

    /// <summary>Subtracted when both domains are known and differ: the same name on another website wants a person's look.</summary>
    public double DomainDiffersPenalty { get; set; } = 0.15;

    public Verdict VerdictFor(double score) =>
        score >= ConflictThreshold ? Verdict.Conflict : score >= ReviewThreshold ? Verdict.Review : Verdict.Clear;
}

/// <summary>Scores how likely two company records are the same account, with the signals that decided it.</summary>
public sealed class CompanyMatcher(MatchSettings settings)
{
    public MatchSettings Settings => settings;

    public MatchResult Score(Company query, Company candidate)
    {
        var signals = new List<MatchSignal>();
        double score = 0;

        var a = query.Name;
        var b = candidate.Name;
        if (!a.IsEmpty && !b.IsEmpty)
        {
            if (a.Key == b.Key)
            {
                score = 1.0;
                signals.Add(new("key_equal", 1));
            }
            else
            {
                var tokens = Similarity.TokenSet(a.Tokens, b.Tokens);
                var jaroWinkler = Similarity.JaroWinkler(a.Key, b.Key);
                score = settings.TokenSetWeight * tokens + (1 - settings.TokenSetWeight) * jaroWinkler;
                // Typos that split or glue words ("co mier st nton") defeat tokens but not the glued keys;
                // a typo rarely hits the first letter, and "Western"/"Eastern" are different words.
                if (a.Key[0] == b.Key[0]) score = Math.Max(score, jaroWinkler - settings.KeySimilarityDiscount);
                if (tokens > 0) signals.Add(new("token_set_similarity", Math.Round(tokens, 3)));
                signals.Add(new("jaro_winkler", Math.Round(jaroWinkler, 3)));
                if (IsAcronym(a, b) || IsAcronym(b, a))
                {
                    // Two letters stand for too many names to decide on their own.
                    var shortest = Math.Min(a.Key.Length, b.Key.Length);
                    score = Math.Max(score, shortest >= 3 ? settings.AcronymScore : settings.AcronymScore - 0.1);
                    signals.Add(new("acronym", 1));
                }
            }
        }

        if (query.Domain is not null && candidate.Domain is not null)
        {
            if (query.Domain == candidate.Domain)
            {
                score = Math.Max(score, settings.DomainEqualScore);
                signals.Insert(0, new("domain_equal", 1));
            }
            else
            {
                score -= settings.DomainDiffersPenalty;
                signals.Add(new("domain_differs", 1));
            }
        }

        if (query.Country is not null && candidate.Country is not null)
        {
            if (query.Country == candidate.Country)
            {
                score += settings.CountryEqualBonus;
                signals.Add(new("country_equal", 1));
            }
            else
            {
                score -= settings.CountryDiffersPenalty;
                signals.Add(new("country_differs", 1));
            }
        }

        score = Math.Round(Math.Clamp(score, 0, 1), 4);
        return new MatchResult(score, settings.VerdictFor(score), signals);
    }

    /// <summary>True when <paramref name="shortName"/> is the initials of a name of two or more tokens.</summary>
    private static bool IsAcronym(CompanyName shortName, CompanyName longName) =>
        shortName.Tokens.Count == 1 && shortName.Key.Length >= 2 && shortName.Key == longName.Acronym;
}
