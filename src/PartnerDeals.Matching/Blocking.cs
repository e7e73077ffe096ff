namespace PartnerDeals.Matching;

/// <summary>Bound from configuration (<c>Matching:Blocking:*</c>).</summary>
public sealed class BlockingSettings
{
    /// <summary>A token in more records than this ("global", "solutions") is too common to find candidates by.</summary>
    public int MaxTokenFrequency { get; set; } = 500;

    /// <summary>How many of the query's rarest tokens are looked up.</summary>
    public int MaxRareTokens { get; set; } = 2;

    /// <summary>Most candidates taken through one token.</summary>
    public int MaxCandidatesPerToken { get; set; } = 100;
}

/// <summary>
/// Which records could be the same company, found through indexes, never by scanning: the same
/// registrable domain, the same name key, one name the acronym of the other, or a shared rare token.
/// The keys are computed once, when a record is written.
/// </summary>
public static class Blocking
{
    /// <summary>The tokens a record is indexed under: its name tokens of two or more characters.</summary>
    public static IReadOnlyList<string> TokensOf(CompanyName name) => TokensOf(name.Tokens);

    /// <summary>The same, from a record's stored name tokens: what it was indexed under, to take it out again.</summary>
    public static IReadOnlyList<string> TokensOf(IEnumerable<string> nameTokens) =>
        nameTokens.Where(t => t.Length >= 2).Distinct(StringComparer.Ordinal).ToList();

    /// <summary>The query tokens worth looking up, rarest first: present in the index, but in at most the allowed number of records.</summary>
    public static IReadOnlyList<string> RareTokens(CompanyName query, IReadOnlyDictionary<string, long> frequencies, BlockingSettings settings) =>
        TokensOf(query)
            .Where(t => frequencies.TryGetValue(t, out var df) && df > 0 && df <= settings.MaxTokenFrequency)
            .OrderBy(t => frequencies[t]).ThenBy(t => t, StringComparer.Ordinal)
            .Take(settings.MaxRareTokens)
            .ToList();
}
