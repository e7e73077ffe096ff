using System.Text;
using System.Text.RegularExpressions;

namespace PartnerDeals.Matching;

/// <summary>
/// A company name reduced to what identifies the company: folded to plain lower-case letters and
/// digits, legal-entity forms and noise words removed. <see cref="Key"/> is the tokens glued
/// together, so "ExxonMobil", "Exxon Mobil" and "EXXON-MOBIL CORP." share one key.
/// </summary>
public sealed partial record CompanyName(string Key, IReadOnlyList<string> Tokens)
{
    public static readonly CompanyName Empty = new("", []);

    private static readonly HashSet<string> NoiseWords =
    [
        "the", "and", "of", "und", "et", "y", "e", "de", "des", "du", "der", "den", "di", "da", "del", "la", "le", "les", "el",
        "group", "groupe", "grupo", "gruppe", "holding", "holdings",
    ];

    /// <summary>The first letters of the tokens ("international business machines" → "ibm"); empty for one token.</summary>
    public string Acronym => Tokens.Count >= 2 ? string.Concat(Tokens.Select(t => t[0])) : "";

    public bool IsEmpty => Key.Length == 0;

    /// <summary>Most tokens a name keeps; a longer name is cut, so one comparison's work is bounded.</summary>
    public const int MaxTokens = 32;

    /// <summary>The name was written with invisible or look-alike characters (see <see cref="Characters"/>).</summary>
    public bool Disguised { get; init; }

    public static CompanyName Normalise(string? name) => Readings(name)[0];

    /// <summary>
    /// Every way the name reads: the name itself and, for a word of another script made only of
    /// look-alikes of Latin letters ("Асме"), its Latin skeleton as a second reading.
    /// </summary>
    public static IReadOnlyList<CompanyName> Readings(string? name)
    {
        if (string.IsNullOrWhiteSpace(name)) return [Empty];
        var folded = Characters.Fold(name);
        var primary = FromFolded(folded.Text, folded.Disguised);
        if (folded.Skeleton is null) return [primary];
        var skeleton = FromFolded(folded.Skeleton, true);
        return skeleton.Key == primary.Key || skeleton.IsEmpty ? [primary] : [primary, skeleton];
    }

    private static CompanyName FromFolded(string folded, bool disguised)
    {
        var words = Words(folded);
        words = LegalForms.Strip(words);
        var tokens = words.Where(w => !NoiseWords.Contains(w)).ToList();
        if (tokens.Count == 0) tokens = words;
        if (tokens.Count > MaxTokens) tokens = tokens.Take(MaxTokens).ToList();
        return new CompanyName(string.Concat(tokens), tokens) { Disguised = disguised };
    }

    /// <summary>
    /// Splits folded text (<see cref="Characters.Fold"/>) into lower-case words: glued words split at a
    /// lower→upper change (ExxonMobil), &amp; as "and", apostrophes removed (McDonald's → mcdonalds), dotted
    /// abbreviations closed (S.p.A. → spa), every other punctuation a word break. Legal forms are folded with this too.
    /// </summary>
    internal static List<string> Words(string text)
    {
        var plain = new StringBuilder(text.Length + 8);
        char previous = ' ';
        foreach (var c in Characters.Fold(text).Text)
        {
            if (char.IsUpper(c) && char.IsLower(previous)) plain.Append(' ');
            plain.Append(c);
            previous = c;
        }

        var lower = plain.ToString().ToLowerInvariant();
        lower = lower.Replace("&", " and ").Replace("+", " and ");
        lower = Apostrophes().Replace(lower, "");
        lower = DottedAbbreviation().Replace(lower, m => m.Value.Replace(".", "") + " ");
        var words = new List<string>();
        var word = new StringBuilder();
        foreach (var c in lower)
        {
            if (char.IsAsciiLetterOrDigit(c))
            {
                word.Append(c);
            }
            else if (word.Length > 0)
            {
                words.Add(word.ToString());
                word.Clear();
            }
        }
        if (word.Length > 0) words.Add(word.ToString());
        return words;
    }

    [GeneratedRegex("['’‘`´]")]
    private static partial Regex Apostrophes();

    // Two or more single letters each followed by a dot: s.p.a. / u.s.a. / k.k.
    [GeneratedRegex(@"(?<![\p{L}\p{N}])(?:\p{L}\.){2,}(?:\p{L}(?![\p{L}\p{N}]))?")]
    private static partial Regex DottedAbbreviation();
}
