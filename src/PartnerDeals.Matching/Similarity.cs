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
    /// The edits (substitution, insertion, deletion, transposition of neighbours) a misspelling of a
    /// token of this length may have and still be that token: two from 9 letters, one from 6, none
    /// below when the token is the whole name (<paramref name="alone"/>: Sony/Sonos, Ciena/Cigna are
    /// other companies), one from 4 beside other tokens (Schmidt Haley / Schmidt Raley). A number is
    /// never misspelt (52 / 54): numbers within words are compared by the matcher.
    /// </summary>
    public static int AllowedEdits(string a, string b, bool alone)
    {
        if (IsNumber(a) || IsNumber(b)) return 0;
        var shorter = Math.Min(a.Length, b.Length);
        return shorter >= 9 ? 2 : shorter >= 6 ? 1 : shorter >= 4 && !alone ? 1 : 0;
    }

    private static bool IsNumber(string token)
    {
        foreach (var c in token)
        {
            if (!char.IsAsciiDigit(c)) return false;
        }
        return true;
    }

    /// <summary>True when <paramref name="a"/> is <paramref name="b"/> misspelt within <see cref="AllowedEdits"/>.</summary>
    public static bool IsMisspelling(string a, string b, bool alone)
    {
        if (Math.Abs(a.Length - b.Length) > 2) return false;
        var allowed = AllowedEdits(a, b, alone);
        return allowed > 0 && a != b && Edits(a, b, allowed) <= allowed;
    }

    /// <summary>
    /// Optimal-string-alignment distance (Damerau-Levenshtein without re-editing a substring), or
    /// <paramref name="max"/> + 1 as soon as it must exceed <paramref name="max"/>.
    /// </summary>
    public static int Edits(string a, string b, int max) => Edits(a.AsSpan(), b.AsSpan(), max);

    private static int Edits(ReadOnlySpan<char> a, ReadOnlySpan<char> b, int max)
    {
        if (Math.Abs(a.Length - b.Length) > max) return max + 1;
        // What the two share at either end costs nothing and cannot take part in a transposition (one of equal
        // letters changes nothing): a misspelling is mostly that, and what is left is a few letters to align.
        var start = 0;
        while (start < a.Length && start < b.Length && a[start] == b[start]) start++;
        a = a[start..];
        b = b[start..];
        var end = 0;
        while (end < a.Length && end < b.Length && a[^(end + 1)] == b[^(end + 1)]) end++;
        a = a[..^end];
        b = b[..^end];
        if (a.Length == 0 || b.Length == 0) return Math.Min(Math.Max(a.Length, b.Length), max + 1);
        var width = b.Length + 1;
        Span<int> rows = a.Length <= 64 && b.Length <= 64 ? stackalloc int[3 * width] : new int[3 * width];
        var before = rows[..width];
        var previous = rows.Slice(width, width);
        var current = rows.Slice(2 * width, width);
        for (var j = 0; j <= b.Length; j++) previous[j] = j;
        for (var i = 1; i <= a.Length; i++)
        {
            current[0] = i;
            var rowMin = current[0];
            for (var j = 1; j <= b.Length; j++)
            {
                var cost = a[i - 1] == b[j - 1] ? 0 : 1;
                var value = Math.Min(Math.Min(previous[j] + 1, current[j - 1] + 1), previous[j - 1] + cost);
                if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1]) value = Math.Min(value, before[j - 2] + 1);
                current[j] = value;
                rowMin = Math.Min(rowMin, value);
            }
            if (rowMin > max) return max + 1;
            var spare = before;
            before = previous;
            previous = current;
            current = spare;
        }
        return Math.Min(previous[b.Length], max + 1);
    }

    /// <summary>
    /// Dice overlap of two token sets, 2·|A∩B| / (|A|+|B|), where a misspelt token counts as shared at
    /// <paramref name="misspeltWeight"/> (see <see cref="IsMisspelling"/>: Ericcson, Kontoso; but not
    /// Western/Eastern, and never two numbers).
    /// </summary>
    public static double TokenSet(IReadOnlyList<string> a, IReadOnlyList<string> b, double misspeltWeight = 0.9, bool alone = true)
    {
        if (a.Count == 0 || b.Count == 0) return 0;
        var used = new bool[b.Count];
        var shared = 0.0;
        foreach (var token in a)
        {
            var best = -1;
            var exact = false;
            for (var j = 0; j < b.Count; j++)
            {
                if (used[j]) continue;
                if (b[j] == token) { best = j; exact = true; break; }
                if (best < 0 && IsMisspelling(token, b[j], alone)) best = j;
            }
            if (best < 0) continue;
            used[best] = true;
            shared += exact ? 1 : misspeltWeight;
        }
        return 2.0 * shared / (a.Count + b.Count);
    }
}
