using System.Globalization;
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

    public static CompanyName Normalise(string? name)
    {
        if (string.IsNullOrWhiteSpace(name)) return Empty;
        var words = Words(name);
        words = LegalForms.Strip(words);
        var tokens = words.Where(w => !NoiseWords.Contains(w)).ToList();
        if (tokens.Count == 0) tokens = words;
        return new CompanyName(string.Concat(tokens), tokens);
    }

    /// <summary>
    /// Folds text to lower-case words: letters other alphabets spell with two (ß, æ, ø …) first,
    /// then NFKD with the marks dropped, glued words split at a lower→upper change (ExxonMobil),
    /// &amp; as "and", apostrophes removed (McDonald's → mcdonalds), dotted abbreviations closed
    /// (S.p.A. → spa), every other punctuation a word break. Legal forms are folded with this too.
    /// </summary>
    internal static List<string> Words(string text)
    {
        var folded = new StringBuilder(text.Length + 8);
        foreach (var c in text)
        {
            folded.Append(c switch
            {
                'ß' => "ss", 'ẞ' => "SS", 'æ' => "ae", 'Æ' => "AE", 'œ' => "oe", 'Œ' => "OE", 'ø' => "o", 'Ø' => "O",
                'đ' => "d", 'Đ' => "D", 'ð' => "d", 'Ð' => "D", 'ł' => "l", 'Ł' => "L", 'þ' => "th", 'Þ' => "TH", 'ı' => "i", 'ħ' => "h",
                _ => c.ToString(),
            });
        }

        var decomposed = folded.ToString().Normalize(NormalizationForm.FormKD);
        var plain = new StringBuilder(decomposed.Length + 8);
        char previous = ' ';
        foreach (var c in decomposed)
        {
            var category = CharUnicodeInfo.GetUnicodeCategory(c);
            if (category is UnicodeCategory.NonSpacingMark or UnicodeCategory.SpacingCombiningMark or UnicodeCategory.EnclosingMark) continue;
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
            if (char.IsLetterOrDigit(c))
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
