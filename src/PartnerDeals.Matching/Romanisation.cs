using System.Text;

namespace PartnerDeals.Matching;

/// <summary>
/// A name key with the letters that romanisations of one name disagree on made one: a name written in
/// Cyrillic, Greek or another script is transliterated one way ("Контосо Фарма" → "kontoso farma"), while the
/// company writes itself another in Latin ("Contoso Pharma"). c/k/q, ph/f, kh/h, ts/tz/z, w/v, i/y/j, x/ks,
/// ou/u, sch/sh, c/s before e and i, and doubled letters each read as one (Мерседес / Mercedes).
/// </summary>
public static class Romanisation
{
    private static readonly (string From, string To)[] Spellings =
    [
        ("sch", "sh"), ("tch", "ch"), ("ph", "f"), ("kh", "h"), ("ck", "k"), ("tz", "z"), ("ts", "z"), ("ou", "u"), ("x", "ks"),
        ("ce", "se"), ("ci", "si"), ("c", "k"), ("q", "k"), ("w", "v"), ("y", "i"), ("j", "i"),
    ];

    public static string Key(string key)
    {
        var text = key;
        foreach (var (from, to) in Spellings) text = text.Replace(from, to, StringComparison.Ordinal);
        var single = new StringBuilder(text.Length);
        foreach (var c in text)
        {
            if (single.Length == 0 || single[^1] != c) single.Append(c);
        }
        return single.ToString();
    }
}
