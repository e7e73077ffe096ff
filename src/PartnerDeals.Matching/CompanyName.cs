using System.Text;
using System.Text.RegularExpressions;

namespace PartnerDeals.Matching;

/// <summary>
/// A company name reduced to what identifies the company: folded to plain lower-case letters and
/// digits, legal-entity forms, the notes CRMs wrap around account names (<see cref="CrmNotes"/>) and noise words removed,
/// abbreviations and plurals written as one word. <see cref="Key"/> is the tokens glued together,
/// so "ExxonMobil", "Exxon Mobil" and "EXXON-MOBIL CORP." share one key, and so do "Marriott Intl"
/// and "Marriott International".
/// </summary>
public sealed partial record CompanyName(string Key, IReadOnlyList<string> Tokens)
{
    public static readonly CompanyName Empty = new("", []);

    /// <summary>
    /// The version of what <see cref="Normalise"/> makes of a name. Stored keys were made by some version; a new one
    /// (a change to the normaliser or its data) makes the host write every stored row's keys again, in the background.
    /// </summary>
    public const int KeysVersion = 2;

    private static readonly HashSet<string> NoiseWords =
    [
        "the", "and", "of", "und", "et", "y", "e", "de", "des", "du", "der", "den", "di", "da", "del", "la", "le", "les", "el",
        "group", "groupe", "grupo", "gruppe", "holding", "jituan",
    ];

    /// <summary>The first letters of the tokens ("international business machines" → "ibm"); empty for one token.</summary>
    public string Acronym => Tokens.Count >= 2 ? string.Concat(Tokens.Select(t => t[0])) : "";

    public bool IsEmpty => Key.Length == 0;

    /// <summary>
    /// Most tokens a name keeps, so that one comparison's work is bounded. A longer name keeps its first
    /// and last halves of this (the company is named first, its legal form and place last) and is <see cref="Cut"/>.
    /// </summary>
    public const int MaxTokens = 32;

    /// <summary>The name was written with invisible or look-alike characters (see <see cref="Characters"/>).</summary>
    public bool Disguised { get; init; }

    /// <summary>The name had more than <see cref="MaxTokens"/> words: a partner's is refused, a vendor's kept cut.</summary>
    public bool Cut { get; init; }

    /// <summary>The abbreviations and word forms the name was written with, and the word each is compared as ("intl", "international").</summary>
    public IReadOnlyList<(string Written, string Word)> Abbreviations { get; init; } = [];

    public static CompanyName Normalise(string? name) => Readings(name)[0];

    private string? _romanised;

    /// <summary>The key as <see cref="Romanisation"/> reads it, computed once.</summary>
    internal string RomanisedKey => _romanised ??= Romanisation.Key(Key);

    /// <summary>
    /// Every way the name reads: first the name without the notes a CRM wraps around it ("Accounts Payable -",
    /// "(EMEA)", "[Renewal 2027]"); then, when there were any, the name as written, so that nothing written in
    /// a note can hide a company; then, for a word of another script made only of look-alikes of Latin letters
    /// ("Асме"), its Latin skeleton.
    /// </summary>
    public static IReadOnlyList<CompanyName> Readings(string? name)
    {
        if (string.IsNullOrWhiteSpace(name)) return [Empty];
        var folded = Characters.Fold(LegalForms.StripGlued(name));
        var readings = new List<CompanyName>(3);
        var unwrapped = CrmNotes.Drop(folded.Text);
        Add(readings, FromFolded(unwrapped, folded.Disguised));
        if (unwrapped != folded.Text) Add(readings, FromFolded(folded.Text, folded.Disguised));
        if (folded.Skeleton is not null) Add(readings, FromFolded(CrmNotes.Drop(folded.Skeleton), true));
        return readings;
    }

    private static void Add(List<CompanyName> readings, CompanyName reading)
    {
        if (readings.Count == 0) readings.Add(reading);
        else if (!reading.IsEmpty && !readings.Exists(r => r.Key == reading.Key)) readings.Add(reading);
    }

    private static CompanyName FromFolded(string folded, bool disguised)
    {
        // Word forms first: an abbreviation that is also a legal form somewhere ("Assn") is the word it stands for.
        var (words, glued) = Split(folded);
        List<(string, string)>? abbreviations = null;
        for (var i = 0; i < words.Count; i++)
        {
            if (WordForms.Canonical(words[i]) is not { } canonical) continue;
            (abbreviations ??= []).Add((words[i], canonical));
            words[i] = canonical;
        }
        words = LegalForms.Strip(words, glued);
        var tokens = words.Where(w => !NoiseWords.Contains(w)).ToList();
        if (tokens.Count == 0) tokens = words;
        var cut = tokens.Count > MaxTokens;
        if (cut) tokens = [.. tokens.Take(MaxTokens / 2), .. tokens.TakeLast(MaxTokens / 2)];
        return new CompanyName(string.Concat(tokens), tokens) { Disguised = disguised, Cut = cut, Abbreviations = abbreviations ?? [] };
    }

    /// <summary>Splits folded text (<see cref="Characters.Fold"/>) into lower-case words; see <see cref="Split"/>.</summary>
    internal static List<string> Words(string text) => Split(text).Words;

    /// <summary>
    /// Splits folded text into lower-case words: glued words split at a lower→upper change (ExxonMobil), &amp; as
    /// "and", apostrophes removed (McDonald's → mcdonalds), dotted abbreviations closed (S.p.A. → spa), every
    /// other punctuation a word break. A word split off at a case change and written in lower case after its
    /// capital is marked glued: it is part of the name ("MegaFon" keeps "Fon"), while one in capitals is a
    /// legal form written on ("SchummPLC"). Legal forms are folded with this too.
    /// </summary>
    private static (List<string> Words, List<bool> Glued) Split(string text)
    {
        var plain = new StringBuilder(text.Length + 8);
        char previous = ' ';
        foreach (var c in Characters.Fold(text).Text)
        {
            if (char.IsUpper(c) && char.IsLower(previous)) plain.Append('\u0001');
            plain.Append(c);
            previous = c;
        }

        var cased = plain.ToString().Replace("&", " and ").Replace("+", " and ");
        cased = Apostrophes().Replace(cased, "");
        cased = DottedAbbreviation().Replace(cased, m => m.Value.Replace(".", "") + " ");
        var words = new List<string>();
        var glued = new List<bool>();
        var word = new StringBuilder();
        var splitAtCase = false;
        var hasLower = false;
        foreach (var c in cased)
        {
            if (char.IsAsciiLetterOrDigit(c))
            {
                hasLower |= char.IsAsciiLetterLower(c);
                word.Append(char.IsAsciiLetterUpper(c) ? (char)(c | 0x20) : c);
                continue;
            }
            if (word.Length > 0)
            {
                words.Add(word.ToString());
                glued.Add(splitAtCase && hasLower);
                word.Clear();
            }
            splitAtCase = c == '\u0001' && words.Count > 0;
            hasLower = false;
        }
        if (word.Length > 0)
        {
            words.Add(word.ToString());
            glued.Add(splitAtCase && hasLower);
        }
        return (words, glued);
    }

    [GeneratedRegex("['’‘`´]")]
    private static partial Regex Apostrophes();

    // Two or more single letters each followed by a dot: s.p.a. / u.s.a. / k.k.
    [GeneratedRegex(@"(?<![\p{L}\p{N}])(?:\p{L}\.){2,}(?:\p{L}(?![\p{L}\p{N}]))?")]
    private static partial Regex DottedAbbreviation();
}
