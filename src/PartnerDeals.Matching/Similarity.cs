namespace PartnerDeals.Matching;

/// <summary>String and token similarities, each in [0, 1].</summary>
public static class Similarity
{
    /// <summary>Jaro-Winkler with the usual prefix scale 0.1 over at most 4 characters.</summary>
    public static double JaroWinkler(string a, string b)
    {
        if (a.Length == 0 || b.Length == 0) return 0;
        if (a == b) return 1;
        var window = Math.Max(0, Math.Max(a.Length, b.Length) / 2 - 1);
        Span<bool> aMatched = a.Length <= 256 ? stackalloc bool[a.Length] : new bool[a.Length];
        Span<bool> bMatched = b.Length <= 256 ? stackalloc bool[b.Length] : new bool[b.Length];
        var matches = 0;
        for (var i = 0; i < a.Length; i++)
        {
            var from = Math.Max(0, i - window);
            var to = Math.Min(b.Length - 1, i + window);
            for (var j = from; j <= to; j++)
            {
                if (bMatched[j] || a[i] != b[j]) continue;
                aMatched[i] = bMatched[j] = true;
                matches++;
                break;
            }
        }
        if (matches == 0) return 0;

        var transpositions = 0;
        for (int i = 0, j = 0; i < a.Length; i++)
        {
            if (!aMatched[i]) continue;
            while (!bMatched[j]) j++;
            if (a[i] != b[j]) transpositions++;
            j++;
        }
        double m = matches;
        var jaro = (m / a.Length + m / b.Length + (m - transpositions / 2.0) / m) / 3.0;
        var prefix = 0;
        while (prefix < Math.Min(4, Math.Min(a.Length, b.Length)) && a[prefix] == b[prefix]) prefix++;
        return jaro + prefix * 0.1 * (1 - jaro);
    }

    /// <summary>
    /// Dice overlap of two token sets, 2·|A∩B| / (|A|+|B|), where two tokens of 4 or more letters
    /// also count as shared when they start alike and their Jaro-Winkler is at least 0.90 (a typo:
    /// "Ericcson"; but not "Western" / "Eastern").
    /// </summary>
    public static double TokenSet(IReadOnlyList<string> a, IReadOnlyList<string> b)
    {
        if (a.Count == 0 || b.Count == 0) return 0;
        var used = new bool[b.Count];
        var shared = 0;
        foreach (var token in a)
        {
            var best = -1;
            for (var j = 0; j < b.Count; j++)
            {
                if (used[j]) continue;
                if (b[j] == token) { best = j; break; }
                if (best < 0 && token.Length >= 4 && b[j].Length >= 4 && token[0] == b[j][0] && JaroWinkler(token, b[j]) >= 0.90) best = j;
            }
            if (best < 0) continue;
            used[best] = true;
            shared++;
        }
        return 2.0 * shared / (a.Count + b.Count);
    }
}
