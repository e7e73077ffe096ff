using System.Reflection;

namespace PartnerDeals.Matching;

/// <summary>
/// Words of company names written in several forms — abbreviations, plurals, spellings ("Intl", "Svcs",
/// "Pharmaceuticals", "Labs") — each read as the one form it is compared in (Data/word_forms.txt, see
/// Data/NOTICE.md). Every form starts with its word's first letter, so initials never change.
/// </summary>
internal static class WordForms
{
    private static readonly Dictionary<string, string> Forms = Load();

    /// <summary>The form a word is compared in, or null when it is already that form or has no other.</summary>
    public static string? Canonical(string word) => Forms.TryGetValue(word, out var canonical) ? canonical : null;

    private static Dictionary<string, string> Load()
    {
        using var stream = Assembly.GetExecutingAssembly().GetManifestResourceStream("word_forms.txt")
            ?? throw new InvalidOperationException("word_forms.txt is not embedded");
        using var reader = new StreamReader(stream);
        var forms = new Dictionary<string, string>(StringComparer.Ordinal);
        while (reader.ReadLine() is { } line)
        {
            if (line.Length == 0 || line.StartsWith('#')) continue;
            var words = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            foreach (var form in words.Skip(1))
            {
                if (form[0] != words[0][0]) throw new InvalidOperationException($"word_forms.txt: '{form}' does not start as '{words[0]}' does");
                if (!forms.TryAdd(form, words[0])) throw new InvalidOperationException($"word_forms.txt: '{form}' is listed twice");
            }
        }
        return forms;
    }
}
