using System.Globalization;
using System.Reflection;
using System.Text;
using AnyAscii;

namespace PartnerDeals.Matching;

/// <summary>
/// The first step of normalisation: a name reduced to Latin letters, digits and separators before
/// anything else looks at it, so that a name disguised with invisible or look-alike characters is
/// decided exactly as the clean name is.
/// <list type="bullet">
/// <item>Format characters (Unicode category Cf: soft hyphen, zero-width characters, joiners, BOM,
/// bidirectional marks, embeddings and isolates) are removed.</item>
/// <item>NFKC folds compatibility forms (full-width, mathematical and enclosed letters, ligatures).</item>
/// <item>A word with any Latin letter is Latin: accents are dropped, letters other alphabets spell with
/// two are spelt out (ß → ss), and a look-alike from another script is folded to its Latin prototype
/// (Unicode TS #39 confusables: Cyrillic "о", Greek "Ο", Cherokee "Ꭺ" …).</item>
/// <item>A word of another script is transliterated (AnyAscii: Газпром → gazprom). When every letter of it
/// is also a look-alike of a Latin letter (Асме), its skeleton is a second reading of the name.</item>
/// </list>
/// The result is at most <see cref="MaxLength"/> characters: whatever a name expands to, one
/// comparison's work is bounded.
/// </summary>
public static class Characters
{
    /// <summary>The longest folded name; the rest is cut at a word boundary.</summary>
    public const int MaxLength = 300;

    private static readonly Dictionary<int, string> Confusables = LoadConfusables();

    /// <summary>A name folded to Latin text, whether it was disguised, and its skeleton reading when it has another one.</summary>
    public sealed record Folded(string Text, bool Disguised, string? Skeleton);

    public static Folded Fold(string text)
    {
        if (IsPlainAscii(text)) return new Folded(text.Length <= MaxLength ? text : Cut(text), false, null);

        var disguised = false;
        var visible = new StringBuilder(text.Length);
        foreach (var rune in text.EnumerateRunes())
        {
            if (Rune.GetUnicodeCategory(rune) == UnicodeCategory.Format) { disguised = true; continue; }
            // A control (tab, line break) separates words; normalisation throws on what is not text: noncharacters,
            // and lone surrogates (read as U+FFFD here).
            if (Rune.GetUnicodeCategory(rune) == UnicodeCategory.Control) { visible.Append(' '); continue; }
            if (IsNotText(rune)) continue;
            visible.Append(rune.ToString());
        }
        var composed = visible.ToString().Normalize(NormalizationForm.FormKC);

        var primary = new StringBuilder(composed.Length + 8);
        var skeleton = new StringBuilder(composed.Length + 8);
        var hasSkeleton = false;
        var word = new List<Rune>();
        foreach (var rune in composed.EnumerateRunes())
        {
            if (IsWordPart(rune)) { word.Add(rune); continue; }
            disguised |= FoldWord(word, primary, skeleton, ref hasSkeleton);
            primary.Append(rune.ToString());
            skeleton.Append(rune.ToString());
            if (primary.Length >= MaxLength) break;
        }
        disguised |= FoldWord(word, primary, skeleton, ref hasSkeleton);

        var result = primary.Length <= MaxLength ? primary.ToString() : Cut(primary.ToString());
        var second = hasSkeleton ? (skeleton.Length <= MaxLength ? skeleton.ToString() : Cut(skeleton.ToString())) : null;
        return new Folded(result, disguised || second is not null, second == result ? null : second);
    }

    /// <summary>Appends one word's Latin form; true when a look-alike was folded.</summary>
    private static bool FoldWord(List<Rune> word, StringBuilder primary, StringBuilder skeleton, ref bool hasSkeleton)
    {
        if (word.Count == 0) return false;
        var folded = false;
        if (word.Exists(IsLatinLetter))
        {
            foreach (var rune in word)
            {
                var latin = Latin(rune);
                if (latin is null && LookAlike(rune) is { } lookAlike)
                {
                    latin = lookAlike;
                    folded = true;
                }
                latin ??= rune.ToString().Transliterate();
                primary.Append(latin);
                skeleton.Append(latin);
            }
        }
        else
        {
            var text = string.Concat(word.Select(r => r.ToString()));
            primary.Append(text.Transliterate().ToLowerInvariant());
            var lookAlikes = word.Select(r => Latin(r) ?? LookAlike(r)).ToList();
            if (lookAlikes.TrueForAll(l => l is not null) && word.Exists(r => LookAlike(r) is not null && !Rune.IsDigit(r)))
            {
                skeleton.Append(string.Concat(lookAlikes));
                hasSkeleton = true;
            }
            else
            {
                skeleton.Append(text.Transliterate().ToLowerInvariant());
            }
        }
        word.Clear();
        return folded;
    }

    /// <summary>The ASCII a Latin letter or a digit folds to (é → e, ß → ss, ٣ → 3); null for anything else.</summary>
    private static string? Latin(Rune rune)
    {
        if (rune.IsAscii) return rune.ToString();
        if (Rune.IsDigit(rune)) return ((int)Rune.GetNumericValue(rune)).ToString(CultureInfo.InvariantCulture);
        var spelt = rune.Value switch
        {
            'ß' => "ss", 'ẞ' => "SS", 'æ' => "ae", 'Æ' => "AE", 'œ' => "oe", 'Œ' => "OE", 'ø' => "o", 'Ø' => "O",
            'đ' => "d", 'Đ' => "D", 'ð' => "d", 'Ð' => "D", 'ł' => "l", 'Ł' => "L", 'þ' => "th", 'Þ' => "TH", 'ı' => "i", 'ħ' => "h",
            _ => null,
        };
        if (spelt is not null) return spelt;
        if (IsMark(rune)) return "";
        var decomposed = rune.ToString().Normalize(NormalizationForm.FormKD);
        var plain = new StringBuilder(decomposed.Length);
        foreach (var c in decomposed)
        {
            if (IsMark(c)) continue;
            if (c > 0x7F || !char.IsLetterOrDigit(c)) return null;
            plain.Append(c);
        }
        return plain.Length > 0 ? plain.ToString() : null;
    }

    /// <summary>The Latin prototype of a look-alike (Cyrillic "С" → "c"), null when it has none.</summary>
    private static string? LookAlike(Rune rune)
    {
        if (!Confusables.TryGetValue(rune.Value, out var prototype)) return null;
        // The table is lower case; the letter keeps its case, so that "МІCROSOFT" is one word and not
        // "mi crosoft". The prototype of I-like letters is "l"; an upper-case one stands for the capital I.
        if (!Rune.IsUpper(rune)) return prototype;
        return prototype == "l" ? "I" : prototype.ToUpperInvariant();
    }

    /// <summary>Noncharacters (U+FFFE, U+FFFF, U+FDD0–U+FDEF …) and the replacement of a lone surrogate: never part of a name.</summary>
    private static bool IsNotText(Rune rune) =>
        rune.Value is >= 0xFDD0 and <= 0xFDEF || (rune.Value & 0xFFFE) == 0xFFFE || rune == Rune.ReplacementChar;

    private static bool IsWordPart(Rune rune) => Rune.IsLetterOrDigit(rune) || IsMark(rune);

    private static bool IsMark(Rune rune) =>
        Rune.GetUnicodeCategory(rune) is UnicodeCategory.NonSpacingMark or UnicodeCategory.SpacingCombiningMark or UnicodeCategory.EnclosingMark;

    private static bool IsMark(char c) =>
        CharUnicodeInfo.GetUnicodeCategory(c) is UnicodeCategory.NonSpacingMark or UnicodeCategory.SpacingCombiningMark or UnicodeCategory.EnclosingMark;

    /// <summary>Letters of the Latin script: ASCII, Latin-1 to Latin Extended-B, IPA, phonetic extensions, Latin Extended Additional, C, D and E.</summary>
    private static bool IsLatinLetter(Rune rune)
    {
        var v = rune.Value;
        return Rune.IsLetter(rune) && (v < 0x0250 || v is >= 0x0250 and <= 0x02AF or >= 0x1D00 and <= 0x1DBF or >= 0x1E00 and <= 0x1EFF
            or >= 0x2C60 and <= 0x2C7F or >= 0xA720 and <= 0xA7FF or >= 0xAB30 and <= 0xAB6F);
    }

    private static bool IsPlainAscii(string text)
    {
        foreach (var c in text)
        {
            if (c is < ' ' or > '~') return false;
        }
        return true;
    }

    private static string Cut(string text)
    {
        var end = text.LastIndexOf(' ', MaxLength);
        return text[..(end > MaxLength / 2 ? end : MaxLength)];
    }

    private static Dictionary<int, string> LoadConfusables()
    {
        using var stream = Assembly.GetExecutingAssembly().GetManifestResourceStream("confusables.txt")
            ?? throw new InvalidOperationException("confusables.txt is not embedded");
        using var reader = new StreamReader(stream);
        var map = new Dictionary<int, string>();
        while (reader.ReadLine() is { } line)
        {
            if (line.Length == 0 || line.StartsWith('#')) continue;
            var space = line.IndexOf(' ');
            map[int.Parse(line.AsSpan(0, space), NumberStyles.HexNumber, CultureInfo.InvariantCulture)] = line[(space + 1)..];
        }
        return map;
    }
}
