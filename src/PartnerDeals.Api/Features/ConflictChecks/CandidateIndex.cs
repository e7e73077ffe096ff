using PartnerDeals.Api.Infrastructure.Data;
using PartnerDeals.Matching;

namespace PartnerDeals.Api.Features.ConflictChecks;

/// <summary>
/// The queries that find one table's company records through its matching indexes. Each takes
/// <c>@Value</c> (or <c>@Token</c>) and <c>@Limit</c>, plus whatever filter parameters the table needs.
/// </summary>
/// <param name="ByDomain">Rows whose company_domain is <c>@Value</c>, ending with its ORDER BY.</param>
/// <param name="ByKey">Rows whose name_key is <c>@Value</c>, ending with its ORDER BY.</param>
/// <param name="ByAcronym">Rows whose name_acronym is <c>@Value</c>, ending with its ORDER BY.</param>
/// <param name="TokenRows">The token index's entries under <c>@Token</c>, ending with its ORDER BY; counted to tell a rare token.</param>
/// <param name="ByToken">Rows indexed under <c>@Token</c>, joined from the token index, ending with its ORDER BY.</param>
public sealed record CandidateQueries(string ByDomain, string ByKey, string ByAcronym, string TokenRows, string ByToken);

/// <summary>
/// Blocking by index, never by scan, for any table that stores the matching keys: the same
/// domain, name key or acronym of any of the query's names, a shared token rare enough to be
/// telling, two of its neighbouring tokens glued, or a stored token it could misspell (found in
/// <see cref="MisspellingIndex"/> by the caller).
/// </summary>
public static class CandidateIndex
{
    public static async Task<IReadOnlyList<TRow>> FindAsync<TRow>(
        DbSession session, CandidateQueries sql, Company query,
        IReadOnlyList<(string Token, int Edits)> misspellings, BlockingSettings settings, IReadOnlyList<(string Name, object? Value)> filter,
        Func<TRow, Guid> idOf, CancellationToken ct)
    {
        var found = new Dictionary<Guid, TRow>();
        var lookups = new List<(string Sql, string Value)>();
        if (query.Domain is not null) lookups.Add((sql.ByDomain, query.Domain));
        if (query.EmailDomain is not null) lookups.Add((sql.ByDomain, query.EmailDomain));  // the contact writes from theirs
        if (!query.DomainFromEmail && Domains.BrandLabel(query.Domain)?.Replace("-", "") is { Length: >= 4 } label)
        {
            lookups.Add((sql.ByKey, label));              // the website is their name
        }
        var names = query.AllNames.Select(n => n.Name).Where(n => !n.IsEmpty).ToList();
        foreach (var name in names)
        {
            lookups.Add((sql.ByKey, name.Key));           // the same name
            lookups.Add((sql.ByAcronym, name.Key));       // the query is their acronym
            if (name.Acronym.Length > 0) lookups.Add((sql.ByKey, name.Acronym)); // they are the query's acronym
        }
        foreach (var (lookup, value) in lookups.Distinct())
        {
            var rows = await session.QueryRepeatedAsync<TRow>(session.Dialect.Page(lookup),
                [.. filter, ("@Value", value), ("@Limit", settings.MaxCandidatesPerKey)], ct);
            foreach (var row in rows) found[idOf(row)] = row;
        }
        if (names.Count == 0) return found.Values.ToList();

        // The query's own tokens, its neighbours glued, and the stored tokens it could misspell (found once
        // for every table, by the caller).
        var own = names.SelectMany(Blocking.LookupTokens).Distinct(StringComparer.Ordinal).ToList();
        var frequencies = new Dictionary<string, long>();
        var countSql = "SELECT COUNT(*) FROM (" + session.Dialect.Page(sql.TokenRows) + ") capped";
        foreach (var token in own.Concat(misspellings.Select(m => m.Token)).Distinct(StringComparer.Ordinal))
        {
            frequencies[token] = await session.ScalarRepeatedAsync(countSql,
                [("@Token", token), ("@Limit", settings.MaxTokenFrequency + 1)], ct);
        }

        // A name with no word rare enough to read by ("Nordik Bank Solutions") is looked up by the names it could
        // misspell: its key with one word replaced by a stored word it misspells that is too common to read by (a
        // rarer one is read below).
        var common = misspellings.Where(m => frequencies[m.Token] > settings.MaxTokenFrequency).ToList();
        if (common.Count > 0 && !own.Exists(t => frequencies[t] is > 0 && frequencies[t] <= settings.MaxTokenFrequency))
        {
            foreach (var key in names.SelectMany(n => Blocking.MisspeltKeys(n, common, settings.MaxMisspeltKeys)).Distinct().Take(settings.MaxMisspeltKeys))
            {
                var rows = await session.QueryRepeatedAsync<TRow>(session.Dialect.Page(sql.ByKey),
                    [.. filter, ("@Value", key), ("@Limit", settings.MaxCandidatesPerKey)], ct);
                foreach (var row in rows) found[idOf(row)] = row;
            }
        }

        // Every record of a rare token is read: a cap on what one token yields would hide the 101st.
        foreach (var token in Blocking.TokensToRead(own, misspellings, frequencies, settings))
        {
            var rows = await session.QueryRepeatedAsync<TRow>(session.Dialect.Page(sql.ByToken),
                [.. filter, ("@Token", token), ("@Limit", settings.MaxTokenFrequency)], ct);
            foreach (var row in rows) found[idOf(row)] = row;
        }
        return found.Values.ToList();
    }

    /// <summary>
    /// A company as a row stores it: the name key and tokens computed when it was written, and its alternate
    /// names normalised again (few rows have any). Normalising every candidate's name again would score rows written
    /// by an older matcher as today's does, but costs a large pipeline's checks too much (docs/performance.md):
    /// MatchingKeysRefresh writes such rows' keys again instead.
    /// </summary>
    public static Company Stored(string nameKey, string nameTokens, string? companyDomain, string? country, string? alternateNames = null) =>
        new(new CompanyName(nameKey, nameTokens.Split(' ', StringSplitOptions.RemoveEmptyEntries)), companyDomain, country)
        {
            OtherNames = AlternateNames.Read(alternateNames)
                .SelectMany(a => CompanyName.Readings(a).Where(r => !r.IsEmpty).Select(r => new AlternateName(a, r))).ToList(),
        };

}

/// <summary>Alternate names as a column stores them: a JSON array of strings, null for none.</summary>
public static class AlternateNames
{
    public static IReadOnlyList<string> Read(string? stored) =>
        string.IsNullOrEmpty(stored) ? [] : System.Text.Json.JsonSerializer.Deserialize<List<string>>(stored) ?? [];

    public static string? Write(IReadOnlyList<string>? names) =>
        names is { Count: > 0 } ? System.Text.Json.JsonSerializer.Serialize(names.Select(n => n.Trim()).Distinct().ToList()) : null;
}
