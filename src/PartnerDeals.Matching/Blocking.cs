namespace PartnerDeals.Matching;

/// <summary>Bound from configuration (<c>Matching:Blocking:*</c>).</summary>
public sealed class BlockingSettings
{
    /// <summary>A token in more records than this ("global", "solutions") is too common to find candidates by; every record of a rarer one is read.</summary>
    public int MaxTokenFrequency { get; set; } = 200;

    /// <summary>How many of the query's rarest tokens (its own, and its neighbours glued) are looked up.</summary>
    public int MaxRareTokens { get; set; } = 4;

    /// <summary>
    /// Most records read through stored tokens the query could misspell, closest and rarest first: a
    /// misspelt word in a large pipeline has many neighbours one edit away, and each costs its records.
    /// </summary>
    public int MaxMisspeltRows { get; set; } = 150;

    /// <summary>Most candidates taken through one domain, name key or acronym (each is already a strong match).</summary>
    public int MaxCandidatesPerKey { get; set; } = 200;

    /// <summary>
    /// Most name keys looked up with one word of the query replaced by a stored word it could misspell: the path
    /// to a name made only of words too common to read by ("Nordik Bank Solutions").
    /// </summary>
    public int MaxMisspeltKeys { get; set; } = 8;
}

/// <summary>
/// Which records could be the same company, found through indexes, never by scanning: the same
/// registrable domain, the same name key, one name the acronym of the other, a shared rare token,
/// or a token the query misspells. The keys are computed once, when a record is written.
/// </summary>
public static class Blocking
{
    /// <summary>The shortest token the misspelling index holds; below it a name is matched exactly.</summary>
    public const int MisspeltFrom = 4;

    /// <summary>The tokens a record is indexed under: its name tokens of two or more characters.</summary>
    public static IReadOnlyList<string> TokensOf(CompanyName name) => TokensOf(name.Tokens);

    /// <summary>The tokens a record with alternate names is indexed under: those of every name (each reading of each).</summary>
    public static IReadOnlyList<string> TokensOf(CompanyName name, IEnumerable<string>? alternateNames) => TokensOf(name.Tokens, alternateNames);

    /// <summary>The same, from a record's stored name tokens and alternate names: what it was indexed under, to take it out again.</summary>
    public static IReadOnlyList<string> TokensOf(IEnumerable<string> nameTokens, IEnumerable<string>? alternateNames) =>
        TokensOf(nameTokens.Concat((alternateNames ?? []).SelectMany(a => CompanyName.Readings(a).SelectMany(r => r.Tokens))));

    /// <summary>The same, from a record's stored name tokens: what it was indexed under, to take it out again.</summary>
    public static IReadOnlyList<string> TokensOf(IEnumerable<string> nameTokens) =>
        nameTokens.Where(t => t.Length >= 2).Distinct(StringComparer.Ordinal).ToList();

    /// <summary>
    /// What a query looks up besides its own tokens: each pair of neighbours glued ("contoso pharma" finds
    /// "contosopharma"), and the tokens themselves, whose misspellings <see cref="MisspellingProbes"/> finds.
    /// </summary>
    public static IReadOnlyList<string> LookupTokens(CompanyName query)
    {
        var tokens = TokensOf(query).ToList();
        for (var i = 0; i + 1 < query.Tokens.Count; i++) tokens.Add(query.Tokens[i] + query.Tokens[i + 1]);
        return tokens.Distinct(StringComparer.Ordinal).ToList();
    }

    /// <summary>
    /// The misspelling index's entries for a token: its length with its first half, and with its second
    /// half after the middle letter ("9&lt;micr", "9&gt;soft" for "microsoft"). One edit — or two in one half —
    /// leaves one of them as it was, so a misspelling is found by looking up the halves it could have.
    /// </summary>
    public static IEnumerable<string> MisspellingSignatures(string token)
    {
        if (!Misspellable(token)) yield break;
        var middle = token.Length / 2;
        yield return $"{token.Length}<{token[..middle]}";
        yield return $"{token.Length}>{token[(middle + 1)..]}";
    }

    /// <summary>
    /// The signatures a misspelling of <paramref name="token"/> may have: for each length within one letter of
    /// it, its first half as the query starts and its second half as the query ends. That reaches every
    /// token one edit away, and two edits away when both fall in one half and at most one adds or drops a
    /// letter. Two letters added or dropped are left out: each length probed reads its share of the
    /// vocabulary's tokens with that half, and in a dense vocabulary the outer two lengths cost a check
    /// more than everything else it does.
    /// </summary>
    public static IEnumerable<string> MisspellingProbes(string token)
    {
        if (!Misspellable(token)) yield break;
        for (var length = Math.Max(MisspeltFrom, token.Length - 1); length <= token.Length + 1; length++)
        {
            var middle = length / 2;
            if (middle <= token.Length) yield return $"{length}<{token[..middle]}";
            var tail = length - middle - 1;
            if (tail <= token.Length) yield return $"{length}>{token[^tail..]}";
        }
    }

    /// <summary>The stored tokens among <paramref name="found"/> that could be a query token misspelt, with the fewest edits to one.</summary>
    public static IReadOnlyList<(string Token, int Edits)> Misspellings(IReadOnlyList<string> queryTokens, IEnumerable<string> found)
    {
        var misspellings = new List<(string, int)>();
        foreach (var stored in found.Distinct(StringComparer.Ordinal))
        {
            var fewest = int.MaxValue;
            foreach (var query in queryTokens)
            {
                if (query == stored) continue;
                var allowed = Similarity.AllowedEdits(query, stored, alone: false);
                if (allowed > 0 && Similarity.Edits(query, stored, allowed) is var edits && edits <= allowed) fewest = Math.Min(fewest, edits);
            }
            if (fewest != int.MaxValue) misspellings.Add((stored, fewest));
        }
        return misspellings;
    }

    /// <summary>
    /// The name keys the query could be a misspelling of: its key with one token replaced by a stored token it
    /// misspells, fewest edits first, up to <paramref name="max"/>. Each is one seek on the name-key index, however
    /// common the words are.
    /// </summary>
    public static IReadOnlyList<string> MisspeltKeys(CompanyName name, IReadOnlyList<(string Token, int Edits)> misspellings, int max)
    {
        var keys = new List<(string Key, int Edits)>();
        for (var i = 0; i < name.Tokens.Count; i++)
        {
            var token = name.Tokens[i];
            foreach (var (stored, _) in misspellings)
            {
                if (stored == token) continue;
                var allowed = Similarity.AllowedEdits(token, stored, alone: false);
                if (allowed == 0 || Similarity.Edits(token, stored, allowed) is var edits && edits > allowed) continue;
                keys.Add((string.Concat(name.Tokens.Take(i)) + stored + string.Concat(name.Tokens.Skip(i + 1)), edits));
            }
        }
        return keys.OrderBy(k => k.Edits).ThenBy(k => k.Key, StringComparer.Ordinal).Select(k => k.Key)
            .Where(k => k != name.Key).Distinct(StringComparer.Ordinal).Take(max).ToList();
    }

    /// <summary>
    /// The tokens worth reading: the query's own (and glued) that are present in the index but in at most
    /// the allowed number of records, rarest first, up to <see cref="BlockingSettings.MaxRareTokens"/>; then
    /// the stored tokens it could misspell, fewest edits and rarest first, while their records stay within
    /// <see cref="BlockingSettings.MaxMisspeltRows"/>.
    /// </summary>
    public static IReadOnlyList<string> TokensToRead(IEnumerable<string> own, IEnumerable<(string Token, int Edits)> misspellings,
        IReadOnlyDictionary<string, long> frequencies, BlockingSettings settings)
    {
        bool Rare(string t) => frequencies.TryGetValue(t, out var df) && df > 0 && df <= settings.MaxTokenFrequency;
        var read = own.Distinct(StringComparer.Ordinal).Where(Rare)
            .OrderBy(t => frequencies[t]).ThenBy(t => t, StringComparer.Ordinal)
            .Take(settings.MaxRareTokens)
            .ToList();
        long rows = 0;
        foreach (var (token, _) in misspellings.Where(m => Rare(m.Token) && !read.Contains(m.Token))
                     .OrderBy(m => m.Edits).ThenBy(m => frequencies[m.Token]).ThenBy(m => m.Token, StringComparer.Ordinal))
        {
            rows += frequencies[token];
            if (rows > settings.MaxMisspeltRows) break;
            read.Add(token);
        }
        return read;
    }

    private static bool Misspellable(string token) => token.Length >= MisspeltFrom && !token.All(char.IsAsciiDigit);
}
