namespace PartnerDeals.Matching;

/// <summary>
/// Product names as partners, CRMs and the catalogue write them, matched the way company names are: folded first
/// (format characters, look-alike letters, width, case; <see cref="Characters.Fold"/>), then compared without the
/// spaces and punctuation between words ("Analytics-Suite", "AnalyticsSuite", "AN 100" / "AN-100"). A name that
/// goes on after a listed product (an edition, a year, a tier: "Analytics Suite 2026", "… (Enterprise)", "… Pro")
/// is that product, and so is a misspelling of a listed name by the edits a company name's word may have
/// (<see cref="Similarity.AllowedEdits"/>); a code with digits is never misspelt (AN-100 and AN-200 are two).
/// </summary>
public static class ProductNames
{
    /// <summary>A product name's words, folded: lower-case Latin letters and digits.</summary>
    public static IReadOnlyList<string> Words(string product) => CompanyName.Words(Characters.Fold(product).Text);

    /// <summary>A product name as it is compared: its folded words without anything between them ("AN-100" and "AN 100" are "an100").</summary>
    public static string Key(string product) => string.Concat(Words(product));

    /// <summary>The listed names, each as its words, that <see cref="Find"/> matches against.</summary>
    public sealed class Listing
    {
        private readonly List<string> _glued = [];
        private readonly Dictionary<string, int> _exact = new(StringComparer.Ordinal);

        public Listing(IEnumerable<string> names)
        {
            foreach (var name in names)
            {
                var glued = Key(name);
                _exact.TryAdd(glued, _glued.Count);
                _glued.Add(glued);
            }
        }

        /// <summary>
        /// The index of the listed name <paramref name="product"/> names, or null: the same name first, then one it
        /// goes on after, then one it misspells; among several, the longest listed name.
        /// </summary>
        public int? Find(string product)
        {
            var words = Words(product);
            var glued = string.Concat(words);
            if (glued.Length == 0) return null;
            if (_exact.TryGetValue(glued, out var same)) return same;

            int? best = null;
            var bestRank = 0;
            for (var i = 0; i < _glued.Count; i++)
            {
                var listed = _glued[i];
                if (listed.Length == 0) continue;
                var rank = Rank(words, glued, listed);
                if (rank > bestRank || (rank == bestRank && rank > 0 && listed.Length > _glued[best!.Value].Length))
                {
                    (best, bestRank) = (i, rank);
                }
            }
            return best;
        }

        /// <summary>2: the product is the listed name with words after it; 1: its first words misspell it; 0: neither.</summary>
        private static int Rank(IReadOnlyList<string> words, string glued, string listed)
        {
            // "AnalyticsSuitePro" written without a case change is one word: the listed name is where it starts.
            // A code goes on only past its number (AN-100 Pro, not AN-1000).
            if (listed.Length >= 5 && glued.StartsWith(listed, StringComparison.Ordinal)
                && !(char.IsAsciiDigit(listed[^1]) && glued.Length > listed.Length && char.IsAsciiDigit(glued[listed.Length]))) return 2;
            var tolerant = !listed.Any(char.IsAsciiDigit);
            var prefix = "";
            foreach (var word in words)
            {
                prefix += word;
                if (prefix.Length > listed.Length + 2) break;
                if (prefix == listed) return 2;
                if (tolerant && Similarity.IsMisspelling(prefix, listed, alone: true)) return 1;
            }
            return 0;
        }
    }
}
