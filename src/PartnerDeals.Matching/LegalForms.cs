using System.Reflection;

namespace PartnerDeals.Matching;

/// <summary>
/// Legal-entity forms of every jurisdiction (Data/legal_forms.txt, built from ISO 20275 and
/// others, see Data/NOTICE.md), folded like names. They are stripped from the end of a name,
/// repeatedly ("GmbH &amp; Co. KG"), and a few that are written first (PT, OOO, Kabushiki Kaisha …)
/// from its start; a name is never stripped to nothing.
/// </summary>
internal static class LegalForms
{
    private const int MaxStrips = 3;

    private static readonly string[] LeadingForms =
    [
        "pt", "cv", "ooo", "oao", "zao", "pao", "ao", "tov", "pat", "sia", "uab", "kk", "kabushiki kaisha", "yugen kaisha",
        "godo kaisha", "jsc", "pjsc", "ojsc", "cjsc", "llc", "ab", "as", "ad", "eood", "ood",
    ];

    private static readonly (HashSet<string> Forms, int Longest) Suffixes = Load();
    private static readonly HashSet<string> Prefixes = LeadingForms.ToHashSet();

    public static int Count => Suffixes.Forms.Count;

    public static bool IsLegalForm(string words) => Suffixes.Forms.Contains(words);

    public static List<string> Strip(List<string> words)
    {
        var result = words;
        for (var strip = 0; strip < MaxStrips && result.Count > 1; strip++)
        {
            var removed = false;
            for (var length = Math.Min(Suffixes.Longest, result.Count - 1); length >= 1; length--)
            {
                if (Suffixes.Forms.Contains(string.Join(' ', result.Skip(result.Count - length))))
                {
                    result = result.Take(result.Count - length).ToList();
                    removed = true;
                    break;
                }
            }
            if (!removed) break;
        }

        for (var length = Math.Min(2, result.Count - 1); length >= 1; length--)
        {
            if (Prefixes.Contains(string.Join(' ', result.Take(length))))
            {
                return result.Skip(length).ToList();
            }
        }
        return result;
    }

    private static (HashSet<string>, int) Load()
    {
        using var stream = Assembly.GetExecutingAssembly().GetManifestResourceStream("legal_forms.txt")
            ?? throw new InvalidOperationException("legal_forms.txt is not embedded");
        using var reader = new StreamReader(stream);
        var forms = new HashSet<string>(StringComparer.Ordinal);
        var longest = 1;
        while (reader.ReadLine() is { } line)
        {
            if (line.Length == 0 || line.StartsWith('#')) continue;
            var words = CompanyName.Words(line);
            if (words.Count == 0) continue;
            forms.Add(string.Join(' ', words));
            longest = Math.Max(longest, words.Count);
        }
        // "and" and noise words glued to a form ("& Co") are handled by stripping repeatedly.
        return (forms, longest);
    }
}
