using PartnerDeals.Matching;

namespace PartnerDeals.Benchmarks;

/// <summary>The database's blocking indexes, in dictionaries, for the quality benchmark: same rules, no I/O.</summary>
public sealed class InMemoryIndex
{
    private readonly List<Company> _companies = [];
    private readonly Dictionary<string, List<int>> _byDomain = [];
    private readonly Dictionary<string, List<int>> _byKey = [];
    private readonly Dictionary<string, List<int>> _byAcronym = [];
    private readonly Dictionary<string, List<int>> _byToken = [];
    private readonly Dictionary<string, long> _frequencies = [];
    private readonly Dictionary<string, HashSet<string>> _bySignature = [];
    private readonly BlockingSettings _settings = new();

    public void Add(int id, Company company)
    {
        while (_companies.Count <= id) _companies.Add(company);
        _companies[id] = company;
        if (company.Domain is not null) Add(_byDomain, company.Domain, id);
        if (!company.Name.IsEmpty) Add(_byKey, company.Name.Key, id);
        if (company.Name.Acronym.Length > 0) Add(_byAcronym, company.Name.Acronym, id);
        foreach (var token in Blocking.TokensOf(company.Name))
        {
            Add(_byToken, token, id);
            _frequencies[token] = _frequencies.GetValueOrDefault(token) + 1;
            foreach (var signature in Blocking.MisspellingSignatures(token)) AddToken(_bySignature, signature, token);
        }
    }

    public Company Company(int id) => _companies[id];

    public IEnumerable<int> Candidates(Company query)
    {
        var found = new HashSet<int>();
        if (query.Domain is not null) found.UnionWith(_byDomain.GetValueOrDefault(query.Domain) ?? []);
        if (query.EmailDomain is not null) found.UnionWith(_byDomain.GetValueOrDefault(query.EmailDomain) ?? []);
        if (!query.DomainFromEmail && Domains.BrandLabel(query.Domain)?.Replace("-", "") is { Length: >= 4 } label)
        {
            found.UnionWith(_byKey.GetValueOrDefault(label) ?? []);
        }
        if (!query.Name.IsEmpty)
        {
            found.UnionWith(_byKey.GetValueOrDefault(query.Name.Key) ?? []);
            found.UnionWith(_byAcronym.GetValueOrDefault(query.Name.Key) ?? []);
            if (query.Name.Acronym.Length > 0) found.UnionWith(_byKey.GetValueOrDefault(query.Name.Acronym) ?? []);
            var queryTokens = Blocking.TokensOf(query.Name);
            var misspellings = Blocking.Misspellings(queryTokens,
                queryTokens.SelectMany(Blocking.MisspellingProbes).SelectMany(p => _bySignature.GetValueOrDefault(p) ?? []));
            var own = Blocking.LookupTokens(query.Name);
            var common = misspellings.Where(m => _frequencies.GetValueOrDefault(m.Token) > _settings.MaxTokenFrequency).ToList();
            if (common.Count > 0 && !own.Any(t => _frequencies.GetValueOrDefault(t) is > 0 and var df && df <= _settings.MaxTokenFrequency))
            {
                foreach (var key in Blocking.MisspeltKeys(query.Name, common, _settings.MaxMisspeltKeys))
                {
                    found.UnionWith((_byKey.GetValueOrDefault(key) ?? []).Take(_settings.MaxCandidatesPerKey));
                }
            }
            foreach (var token in Blocking.TokensToRead(own, misspellings, _frequencies, _settings))
            {
                found.UnionWith(_byToken.GetValueOrDefault(token) ?? []);
            }
        }
        return found;
    }

    private static void AddToken(Dictionary<string, HashSet<string>> index, string signature, string token)
    {
        if (!index.TryGetValue(signature, out var tokens)) index[signature] = tokens = [];
        tokens.Add(token);
    }

    private static void Add(Dictionary<string, List<int>> index, string key, int id)
    {
        if (!index.TryGetValue(key, out var ids)) index[key] = ids = [];
        ids.Add(id);
    }
}
