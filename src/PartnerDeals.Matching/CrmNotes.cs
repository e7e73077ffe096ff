using System.Buffers;
using System.Text.RegularExpressions;

namespace PartnerDeals.Matching;

/// <summary>
/// What CRMs and their users write around an account's name, which is not the company: who at the company
/// ("Attn:", "Accounts Payable -", "c/o …"), and notes about the office, the region, the country or the record
/// ("(EMEA)", "- Berlin office", "(Germany)", "[Renewal 2027]", "ZZ ", "TEST -", "(formerly …)"). A part is a note
/// when it is in brackets, or set off by a spaced dash, bar, slash or a colon, and speaks only of such things.
/// </summary>
internal static partial class CrmNotes
{
    private static readonly HashSet<string> Words =
    [
        "office", "offices", "branch", "branches", "hq", "headquarters", "division", "dept", "department", "region", "regional",
        "emea", "apac", "apj", "amer", "americas", "latam", "noram", "nam", "na", "eu", "europe", "european", "dach", "nordics", "benelux",
        "anz", "mena", "mea", "global", "worldwide", "international", "asia", "africa",
        "renewal", "renewals", "upsell", "expansion", "duplicate", "dup", "dupe", "old", "inactive", "dnu", "test", "closed", "archived",
        "deleted", "obsolete", "merged", "billing", "invoicing", "invoices", "payable", "receivable", "procurement", "purchasing",
        "subsidiary", "location", "site", "campus", "plant", "warehouse", "parent", "customer", "prospect", "lead", "account",
        "formerly", "fka", "previously", "aka",
    ];

    private static readonly string[] Phrases =
    [
        "do not use", "head office", "new business", "new logo", "north america", "south america", "latin america", "middle east",
        "asia pacific", "united states", "united kingdom",
    ];

    // Country names (CountryNames), folded as names are ("germany", "united states", "deutschland").
    private static readonly HashSet<string> Countries =
        CountryNames.ByName.Keys.Select(n => string.Join(' ', CompanyName.Words(n))).Where(n => n.Length > 0).Append("america").ToHashSet();

    private static readonly SearchValues<char> Marks = SearchValues.Create("[{(/|:–—");

    private static readonly string[] Separators = [" - ", " – ", " — ", " | ", " / ", ": "];

    /// <summary>The name without its notes; never to nothing.</summary>
    public static string Drop(string folded)
    {
        // Most names carry no note: only one with a bracket, a separator or a first word that starts one is looked at.
        if (folded.AsSpan().IndexOfAny(Marks) < 0 && !folded.Contains(" - ", StringComparison.Ordinal) && !StartsLikeANote(folded)) return folded;
        var text = folded;
        for (var i = 0; i < 4; i++)
        {
            var next = Leading().Replace(text, "", 1);
            next = Bracketed().Replace(next, " ");
            next = Parenthesised().Replace(next, m => IsNote(m.Groups[1].Value) ? " " : m.Value);
            next = Addressee().Replace(next, "");
            next = DropSegments(next.Trim());
            if (next == text) break;
            text = next;
        }
        return CompanyName.Words(text).Count == 0 ? folded : text.Trim();
    }

    /// <summary>
    /// The last part after a separator, and the first before one, dropped while they are notes. The first must be
    /// nothing but a note ("TEST -", "DUPLICATE:"): a name that starts with such a word ("Test Equipment Depot - Boston")
    /// is a name.
    /// </summary>
    private static string DropSegments(string text)
    {
        var (at, separator) = Find(text, last: true);
        if (at > 0 && IsNote(text[(at + separator.Length)..])) return text[..at].TrimEnd(' ', ',', ';');
        (at, separator) = Find(text, last: false);
        if (at > 0 && IsNote(text[..at], only: true)) return text[(at + separator.Length)..].TrimStart(' ', ',', ';');
        return text;
    }

    private static (int At, string Separator) Find(string text, bool last)
    {
        var found = (At: -1, Separator: "");
        foreach (var separator in Separators)
        {
            var at = last ? text.LastIndexOf(separator, StringComparison.Ordinal) : text.IndexOf(separator, StringComparison.Ordinal);
            if (at > 0 && (found.At < 0 || (last ? at > found.At : at < found.At))) found = (at, separator);
        }
        return found;
    }

    /// <summary>A part speaks only of the office, region, country or record: a note word or phrase, a country, or a code in capitals.</summary>
    private static bool IsNote(string part, bool only = false)
    {
        var trimmed = part.Trim();
        if (trimmed.Length is >= 2 and <= 5 && trimmed.All(char.IsAsciiLetterUpper)) return true; // (EMEA), (UK), (IBM)
        var words = CompanyName.Words(trimmed);
        if (words.Count == 0) return true;
        var joined = string.Join(' ', words);
        if (Countries.Contains(joined) || Phrases.Contains(joined)) return true;
        return only ? words.TrueForAll(Words.Contains) : words.Exists(Words.Contains) || Phrases.Any(p => $" {joined} ".Contains($" {p} ", StringComparison.Ordinal));
    }

    private static bool StartsLikeANote(string text)
    {
        var span = text.AsSpan().TrimStart();
        var end = span.IndexOfAny(' ', ',', '.');
        var first = end < 0 ? span : span[..end];
        return first.Length > 0 && (LeadingWords.GetAlternateLookup<ReadOnlySpan<char>>().Contains(first) || first.Trim("zZxX").IsEmpty);
    }

    private static readonly HashSet<string> LeadingWords = new(StringComparer.OrdinalIgnoreCase)
    {
        "attn", "attention", "accounts", "account", "ap", "ar", "a", "billing", "invoicing", "procurement", "purchasing",
    };

    // At the start: "Attn:", "Attention", "Accounts Payable -", "AP:", "Billing,", and the "ZZ" or "XX" that sorts a dead record last.
    [GeneratedRegex(@"^\s*(?:attn\b\.?|attention\b|(?:(?:accounts?\s+(?:payable|receivable)|a/?p|a/?r|billing|invoicing|procurement|purchasing)\b(?:\s+dep(?:artmen)?t\b\.?)?)|(?:zz+|xx+)\b)\s*(?:[:,\-–—|/_]\s*)?", RegexOptions.IgnoreCase)]
    private static partial Regex Leading();

    // A note in square or curly brackets, anywhere: "[Renewal 2027]", "{dup}".
    [GeneratedRegex(@"\[[^\]]*\]|\{[^}]*\}")]
    private static partial Regex Bracketed();

    // Parentheses anywhere, dropped when what they hold is a note: "(EMEA)", "(Europe) GmbH", "(formerly Foo Inc)".
    [GeneratedRegex(@"\s*\(([^()]*)\)")]
    private static partial Regex Parenthesised();

    // "c/o …" (care of) or "Attn …" after the name, and everything after it: the addressee, not the account.
    [GeneratedRegex(@"(?<=\S)\s*,?\s+(?:c\s*/\s*o|attn|attention)\b.*$", RegexOptions.IgnoreCase | RegexOptions.Singleline)]
    private static partial Regex Addressee();
}
