using System.Globalization;
using System.Text.Json;
using PartnerDeals.Matching;

namespace PartnerDeals.Benchmarks;

/// <summary>
/// Precision and recall of the matcher on the labelled sets in ../shared/datasets/names/labeled/.
/// The ROR set runs the whole pipeline (blocking and scoring) as a registration would; the pair sets
/// score each labelled pair directly. The protocol is described in docs/performance.md.
/// </summary>
public static class QualityBenchmark
{
    public static void Run(string datasets, MatchSettings settings)
    {
        var matcher = new CompanyMatcher(settings);
        Console.WriteLine($"thresholds: conflict {settings.ConflictThreshold}, review {settings.ReviewThreshold}");
        Ror(Path.Combine(datasets, "ror_companies.jsonl"), matcher);
        Pairs("easonanalytica", EasonPairs(Path.Combine(datasets, "easonanalytica_test_pairs.csv")), matcher);
        Pairs("dnb", DnbPairs(datasets), matcher);
        Pairs("ietf", IetfPairs(Path.Combine(datasets, "ietf_affiliation_clusters.json")), matcher);
    }

    private sealed record RorRecord(int Index, string Name, string[] Variants, string? Domain, string[] AllDomains, string Country, HashSet<string> Family);

    private static void Ror(string path, CompanyMatcher matcher)
    {
        var records = new List<RorRecord>();
        foreach (var line in File.ReadLines(path))
        {
            using var json = JsonDocument.Parse(line);
            var r = json.RootElement;
            var name = r.GetProperty("name").GetString()!;
            var paren = name.LastIndexOf(" (", StringComparison.Ordinal);
            if (paren > 0 && name.EndsWith(')')) name = name[..paren];
            var variants = r.GetProperty("aliases").EnumerateArray().Select(x => x.GetString()!)
                .Concat(r.GetProperty("acronyms").EnumerateArray().Select(x => x.GetString()!))
                .Concat(r.GetProperty("labels").EnumerateArray().Select(x => x.GetProperty("value").GetString()!))
                .Where(v => !string.IsNullOrWhiteSpace(v) && v != name).Distinct().ToArray();
            var domains = r.GetProperty("website_domains").EnumerateArray().Select(x => Domains.CompanyDomain(x.GetString())).OfType<string>().ToArray();
            var family = new HashSet<string>(r.GetProperty("parents").EnumerateArray().Select(p => p.GetString()!)) { r.GetProperty("ror_id").GetString()! };
            records.Add(new RorRecord(records.Count, name, variants, domains.FirstOrDefault(), domains, r.GetProperty("country").GetString()!, family));
        }

        var index = new InMemoryIndex();
        foreach (var r in records) index.Add(r.Index, Company.From(r.Name, r.Domain, r.Country));

        // Positives: a registration of the record under another of its names (alias, acronym,
        // other-language label), with its country and, where the record has one, its website.
        // Negatives: a registration of a same-named company of another country, with that company's
        // website; and every flagged candidate that is not the record or its parent.
        var withWebsite = Environment.GetEnvironmentVariable("ROR_NAMES_ONLY") != "1";
        var queries = new List<(string Kind, Company Query, int Expected)>();
        foreach (var r in records)
        {
            var website = withWebsite && r.Domain is not null ? $"https://www.{r.Domain}/" : null;
            foreach (var v in r.Variants)
            {
                var kind = website is not null ? "name and website" : v.Any(c => c > 'ʯ') ? "name only, non-Latin script" : "name only, Latin script";
                queries.Add((kind, Company.From(v, website, r.Country), r.Index));
            }
        }
        var sameNameElsewhere = records.GroupBy(r => CompanyName.Normalise(r.Name).Key).Where(g => g.Select(r => r.Country).Distinct().Count() > 1);
        var negatives = 0;
        foreach (var group in sameNameElsewhere)
        {
            foreach (var r in group)
            {
                var elsewhere = group.First(o => o.Country != r.Country);
                var website = withWebsite && elsewhere.Domain is not null ? $"https://{elsewhere.Domain}" : null;
                queries.Add(("same name, other country", Company.From(r.Name, website, elsewhere.Country), -1 - elsewhere.Index));
                negatives++;
            }
        }

        foreach (var threshold in new[] { Verdict.Conflict, Verdict.Review })
        {
            int truePositives = 0, falsePositives = 0, found = 0, positives = 0, nameTruePositives = 0, nameFalsePositives = 0;
            var foundByKind = new Dictionary<string, (int Found, int Total)>();
            foreach (var (kind, query, expected) in queries)
            {
                var flagged = index.Candidates(query).Select(c => (c, m: matcher.Score(query, index.Company(c))))
                    .Where(x => x.m.Verdict >= threshold).Select(x => x.c).ToList();
                var target = expected >= 0 ? records[expected] : records[-1 - expected];
                foreach (var c in flagged)
                {
                    var candidate = records[c];
                    var sameFamily = candidate.Family.Overlaps(target.Family) || (candidate.Domain is not null && target.AllDomains.Contains(candidate.Domain));
                    if (expected >= 0 && sameFamily) { truePositives++; nameTruePositives++; }
                    else if (expected < 0 && c == target.Index) truePositives++; // the record of that country itself
                    else
                    {
                        falsePositives++;
                        if (expected >= 0) nameFalsePositives++;
                        if (Environment.GetEnvironmentVariable("SHOW_FALSE") == "1" && threshold == Verdict.Review)
                        {
                            var m = matcher.Score(query, index.Company(c));
                            Console.WriteLine($"  false [{kind}] '{string.Join(' ', query.Name.Tokens)}' {query.Domain} {query.Country} vs '{string.Join(' ', index.Company(c).Name.Tokens)}' {index.Company(c).Domain} {index.Company(c).Country} {m.Score} {string.Join(",", m.Signals.Select(x => x.Name + "=" + x.Value))}");
                        }
                    }
                }
                if (expected < 0) continue;
                positives++;
                var hit = flagged.Contains(expected);
                if (hit) found++;
                else if (Environment.GetEnvironmentVariable("SHOW_MISSES") == $"ror@{threshold.ToString().ToLowerInvariant()}")
                {
                    var best = matcher.Score(query, index.Company(expected));
                    Console.WriteLine($"  miss [{kind}] '{string.Join(' ', query.Name.Tokens)}' vs '{string.Join(' ', index.Company(expected).Name.Tokens)}' {best.Score} {string.Join(",", best.Signals.Select(x => x.Name + "=" + x.Value))}");
                }
                var (f, t) = foundByKind.GetValueOrDefault(kind);
                foundByKind[kind] = (f + (hit ? 1 : 0), t + 1);
            }
            var precision = truePositives + falsePositives == 0 ? 1 : (double)truePositives / (truePositives + falsePositives);
            var recall = (double)found / positives;
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"ror @{threshold.ToString().ToLowerInvariant(),-8} precision {precision:F4} recall {recall:F4}  ({positives} positive queries, {negatives} same-name-other-country queries, {truePositives + falsePositives} flagged)"));
            var namePrecision = nameTruePositives + nameFalsePositives == 0 ? 1 : (double)nameTruePositives / (nameTruePositives + nameFalsePositives);
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"    false flags: {falsePositives} of {truePositives + falsePositives} ({(double)falsePositives / queries.Count:F3} a query); precision over the name-variant queries alone {namePrecision:F4}, the rest from same-name-other-country queries"));
            foreach (var (kind, (f, t)) in foundByKind)
            {
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"    recall on {kind}: {(double)f / t:F4} ({f}/{t})"));
            }
        }
    }

    private static void Pairs(string name, List<(Company A, Company B, bool Same)> pairs, CompanyMatcher matcher)
    {
        foreach (var threshold in new[] { Verdict.Conflict, Verdict.Review })
        {
            int tp = 0, fp = 0, fn = 0;
            foreach (var (a, b, same) in pairs)
            {
                var result = matcher.Score(a, b);
                var flagged = result.Verdict >= threshold;
                if (same && !flagged && threshold == Verdict.Review && Environment.GetEnvironmentVariable("SHOW_MISSES") == name)
                {
                    Console.WriteLine($"  miss '{string.Join(' ', a.Name.Tokens)}' vs '{string.Join(' ', b.Name.Tokens)}' {result.Score} {string.Join(",", result.Signals.Select(x => x.Name + "=" + x.Value))}");
                }
                if (flagged && same) tp++;
                else if (flagged) fp++;
                else if (same) fn++;
            }
            var precision = tp + fp == 0 ? 1 : (double)tp / (tp + fp);
            var recall = tp + fn == 0 ? 1 : (double)tp / (tp + fn);
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"{name} @{threshold.ToString().ToLowerInvariant(),-8} precision {precision:F4} recall {recall:F4}  ({pairs.Count(p => p.Same)} same, {pairs.Count(p => !p.Same)} different pairs)"));
        }
    }

    private static List<(Company, Company, bool)> EasonPairs(string path)
    {
        var pairs = new List<(Company, Company, bool)>();
        foreach (var row in Csv.Read(path).Skip(1))
        {
            pairs.Add((Company.From(row[0], null, null), Company.From(row[1], null, null), row[2].Trim() == "1"));
        }
        return pairs;
    }

    private static List<(Company, Company, bool)> DnbPairs(string datasets)
    {
        // Rows are paired by their id column: one perturbed name holds a line break, so the two files
        // do not have their rows on the same lines (pairing by line misaligned every row after it).
        static Dictionary<string, string[]> ById(string path) => Csv.Read(path).Skip(1).Where(r => r.Length >= 3)
            .GroupBy(r => r[0]).ToDictionary(g => g.Key, g => g.First());
        var originals = ById(Path.Combine(datasets, "dnb_synthetic_test_names.csv"));
        var adjusted = ById(Path.Combine(datasets, "dnb_synthetic_adjusted_test_names.csv"));
        var ids = originals.Keys.Where(adjusted.ContainsKey).OrderBy(k => int.TryParse(k, out var n) ? n : int.MaxValue).ToList();
        var pairs = new List<(Company, Company, bool)>();
        for (var i = 0; i < ids.Count; i++)
        {
            var (original, perturbed) = (originals[ids[i]], adjusted[ids[i]]);
            var a = Company.From(original[1], null, original[2]);
            pairs.Add((a, Company.From(perturbed[1], null, perturbed[2]), true));
            var other = adjusted[ids[(i + 7) % ids.Count]]; // a different company's perturbed name
            pairs.Add((a, Company.From(other[1], null, other[2]), false));
        }
        return pairs;
    }

    private static List<(Company, Company, bool)> IetfPairs(string path)
    {
        using var json = JsonDocument.Parse(File.ReadAllText(path));
        // "Unknown" and "Independent" gather people's names, draft titles and dates that name no organisation: not
        // positives of a company matcher (see docs/performance.md).
        var clusters = json.RootElement.EnumerateObject()
            .Where(c => c.Name is not ("Unknown" or "Independent"))
            .Select(c => c.Value.EnumerateArray().Select(v => v.GetString()!).Append(c.Name).Distinct().ToList()).ToList();
        var pairs = new List<(Company, Company, bool)>();
        var random = new Random(20261123);
        foreach (var cluster in clusters)
        {
            var canonical = Company.From(cluster[^1], null, null);
            foreach (var variant in cluster.Take(cluster.Count - 1)) pairs.Add((Company.From(variant, null, null), canonical, true));
        }
        var positives = pairs.Count;
        for (var i = 0; i < positives; i++)
        {
            var a = clusters[random.Next(clusters.Count)];
            var b = clusters[random.Next(clusters.Count)];
            if (ReferenceEquals(a, b)) continue;
            pairs.Add((Company.From(a[random.Next(a.Count)], null, null), Company.From(b[^1], null, null), false));
        }
        return pairs;
    }
}

/// <summary>A minimal RFC 4180 reader (quoted fields, doubled quotes) for the labelled sets.</summary>
public static class Csv
{
    public static IEnumerable<string[]> Read(string path, char separator = ',')
    {
        foreach (var line in File.ReadLines(path))
        {
            var fields = new List<string>();
            var field = new System.Text.StringBuilder();
            var quoted = false;
            for (var i = 0; i < line.Length; i++)
            {
                var c = line[i];
                if (quoted)
                {
                    if (c == '"' && i + 1 < line.Length && line[i + 1] == '"') { field.Append('"'); i++; }
                    else if (c == '"') quoted = false;
                    else field.Append(c);
                }
                else if (c == '"') quoted = true;
                else if (c == separator) { fields.Add(field.ToString()); field.Clear(); }
                else field.Append(c);
            }
            fields.Add(field.ToString());
            yield return fields.Select(f => f.Trim('\uFEFF')).ToArray();
        }
    }
}
