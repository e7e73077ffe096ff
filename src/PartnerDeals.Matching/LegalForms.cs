using System.Reflection;
using System.Text;

namespace PartnerDeals.Matching;

/// <summary>
/// Legal-entity forms of every jurisdiction (Data/legal_forms.txt, built from ISO 20275 and
/// others, see Data/NOTICE.md), folded like names. They are stripped from the end of a name,
/// repeatedly ("GmbH &amp; Co. KG"), and a few that are written first (PT, OOO, Kabushiki Kaisha …)
/// from its start; a name is never stripped to nothing. Forms of scripts written without spaces
/// (株式会社, 股份有限公司, 주식회사, ㈱) are stripped before the name is transliterated, glued or not.
/// </summary>
internal static class LegalForms
{
    private const int MaxStrips = 3;

    private static readonly string[] LeadingForms =
    [
        "pt", "cv", "ooo", "oao", "zao", "pao", "ao", "nao", "too", "tov", "prat", "pat", "sia", "uab", "kk", "kabushiki kaisha", "yugen kaisha",
        "godo kaisha", "jsc", "pjsc", "ojsc", "cjsc", "llc", "ab", "as", "ad", "eood", "ood",
    ];

    // Written glued like the forms, "group" and "holdings" are the noise words they are in Latin script.
    private static readonly string[] GluedNoise = ["グループ", "ホールディングス", "集团", "集團", "控股", "그룹", "홀딩스"];

    private static readonly (HashSet<string> Forms, int Longest, string[] Glued) Suffixes = Load();
    private static readonly HashSet<string> Prefixes = LeadingForms.ToHashSet();

    public static int Count => Suffixes.Forms.Count;

    public static bool IsLegalForm(string words) => Suffixes.Forms.Contains(words);

    /// <summary>
    /// Strips forms from the end, then one from the start. A last word split from the one before it at a
    /// case change (<paramref name="glued"/>: "MegaFon") is part of the name, never a form.
    /// </summary>
    public static List<string> Strip(List<string> words, IReadOnlyList<bool>? glued = null)
    {
        var result = words;
        for (var strip = 0; strip < MaxStrips && result.Count > 1; strip++)
        {
            var removed = false;
            for (var length = Math.Min(Suffixes.Longest, result.Count - 1); length >= 1; length--)
            {
                var start = result.Count - length;
                if (glued is not null && start < glued.Count && glued[start]) continue;
                // One letter after others is an initial ("P&G", "Johnson & Johnson K"), never a form.
                if (length == 1 && result[start].Length == 1) continue;
                if (Suffixes.Forms.Contains(string.Join(' ', result.Skip(start))))
                {
                    result = result.Take(start).ToList();
                    removed = true;
                    break;
                }
            }
            if (!removed) break;
        }

        for (var length = Math.Min(2, result.Count - 1); length >= 1; length--)
        {
            if (glued is not null && length < glued.Count && glued[length]) continue;
            if (Prefixes.Contains(string.Join(' ', result.Take(length))))
            {
                return result.Skip(length).ToList();
            }
        }
        return result;
    }

    /// <summary>
    /// The name without the forms of Han, kana and Hangul at its start or end ("ヤマハ株式会社", "(주)삼성전자",
    /// "比亚迪股份有限公司"): written without a space, transliteration would make them one word with the name.
    /// </summary>
    public static string StripGlued(string name)
    {
        if (!HasUnspacedScript(name)) return name;
        string text;
        try
        {
            text = name.Normalize(NormalizationForm.FormKC).Trim();
        }
        catch (ArgumentException)
        {
            return name; // not text (a lone surrogate, a noncharacter): Characters.Fold drops it, and the form stays
        }
        for (var strip = 0; strip < MaxStrips; strip++)
        {
            var before = text;
            foreach (var form in Suffixes.Glued)
            {
                if (text.Length <= form.Length) continue;
                if (text.EndsWith(form, StringComparison.Ordinal)) text = text[..^form.Length].TrimEnd();
                else if (text.StartsWith(form, StringComparison.Ordinal)) text = text[form.Length..].TrimStart();
                else continue;
                break;
            }
            if (text == before) break;
        }
        return text.Length > 0 ? text : name;
    }

    private static bool HasUnspacedScript(string text)
    {
        foreach (var c in text)
        {
            if (c >= '\u3040' && IsUnspacedScript(c)) return true;
        }
        return false;
    }

    private static bool IsUnspacedScript(char c) =>
        c is >= '\u3040' and <= '\u30FF' or >= '\u3130' and <= '\u318F' or >= '\u3200' and <= '\u32FF' or >= '\u3400' and <= '\u4DBF'
            or >= '\u4E00' and <= '\u9FFF' or >= '\uAC00' and <= '\uD7AF' or >= '\uF900' and <= '\uFAFF';

    private static (HashSet<string>, int, string[]) Load()
    {
        using var stream = Assembly.GetExecutingAssembly().GetManifestResourceStream("legal_forms.txt")
            ?? throw new InvalidOperationException("legal_forms.txt is not embedded");
        using var reader = new StreamReader(stream);
        var forms = new HashSet<string>(StringComparer.Ordinal);
        var glued = new HashSet<string>(StringComparer.Ordinal);
        var longest = 1;
        while (reader.ReadLine() is { } line)
        {
            if (line.Length == 0 || line.StartsWith('#')) continue;
            // One character of these scripts is a word of many names (株, 有, 合): only whole forms, or one in parentheses.
            var local = line.Normalize(NormalizationForm.FormKC);
            if (local.All(c => IsUnspacedScript(c) || c is '(' or ')') && local.Count(IsUnspacedScript) is var n && (n >= 2 || (n == 1 && local.Length == 3 && local[0] == '(')))
            {
                glued.Add(local);
            }
            var words = CompanyName.Words(line);
            if (words.Count == 0) continue;
            forms.Add(string.Join(' ', words));
            longest = Math.Max(longest, words.Count);
        }
        // "and" and noise words glued to a form ("& Co") are handled by stripping repeatedly.
        glued.UnionWith(GluedNoise);
        return (forms, longest, glued.OrderByDescending(g => g.Length).ThenBy(g => g, StringComparer.Ordinal).ToArray());
    }
}
