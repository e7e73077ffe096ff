using PartnerDeals.Api.Infrastructure.Data;
using PartnerDeals.Matching;

namespace PartnerDeals.Api.Features.ConflictChecks;

/// <summary>
/// The open and won opportunities of the direct pipeline that could be a company, found through the
/// indexes of <c>opportunities</c> and <c>opportunity_tokens</c> only (see <see cref="CandidateIndex"/>).
/// A won one makes the account an existing customer; lost ones are history, not conflicts.
/// </summary>
public static class OpportunityCandidates
{
    private const string CandidateColumns = "id, source, external_id, account_name, company_domain, country, status, name_key, name_tokens, alternate_names, products";

    // Blocking, one index seek each (an OR of them lets the planner walk the primary key instead).
    // The repeated IS NOT NULL / <> '' lets SQLite use the partial indexes with a bound parameter.
    // Lost opportunities are history, not conflicts.
    private const string CandidatesByDomainSql = "SELECT " + CandidateColumns + """

        FROM opportunities WHERE company_domain = @Value AND company_domain IS NOT NULL AND status <> 'lost' ORDER BY company_domain
        """;

    private const string CandidatesByKeySql = "SELECT " + CandidateColumns + """

        FROM opportunities WHERE name_key = @Value AND status <> 'lost' ORDER BY name_key
        """;

    private const string CandidatesByAcronymSql = "SELECT " + CandidateColumns + """

        FROM opportunities WHERE name_acronym = @Value AND name_acronym <> '' AND status <> 'lost' ORDER BY name_acronym
        """;

    // Token rows first, then each row by its seq (CROSS JOIN: SQLite keeps this order as written).
    private const string CandidatesByTokenSql = "SELECT " + CandidateColumns + """

        FROM opportunity_tokens t CROSS JOIN opportunities o
        WHERE t.token = @Token AND o.seq = t.opportunity_seq AND o.status <> 'lost' ORDER BY t.token
        """;

    /// <summary>A token's entries in index order, paged to count its frequency up to a cap.</summary>
    private const string TokenRowsSql = "SELECT opportunity_seq FROM opportunity_tokens WHERE token = @Token ORDER BY token";

    internal static readonly CandidateQueries Sql = new(
        CandidatesByDomainSql, CandidatesByKeySql, CandidatesByAcronymSql, TokenRowsSql, CandidatesByTokenSql);

    public static async Task<IReadOnlyList<Candidate>> FindAsync(
        DbSession session, Company query, IReadOnlyList<(string Token, int Edits)> misspellings,
        BlockingSettings settings, CancellationToken ct)
    {
        var rows = await CandidateIndex.FindAsync<CandidateRow>(session, Sql, query, misspellings, settings, [], r => r.Id, ct);
        return rows.Select(r => r.ToCandidate()).ToList();
    }

    private sealed class CandidateRow
    {
        public Guid Id { get; set; }
        public string Source { get; set; } = "";
        public string ExternalId { get; set; } = "";
        public string AccountName { get; set; } = "";
        public string? CompanyDomain { get; set; }
        public string? Country { get; set; }
        public string Status { get; set; } = "";
        public string NameKey { get; set; } = "";
        public string NameTokens { get; set; } = "";
        public string? AlternateNames { get; set; }
        public string? Products { get; set; }

        public Candidate ToCandidate() => new(Status == "won" ? CandidateKind.ExistingCustomer : CandidateKind.DirectOpportunity, Id, AccountName,
            CandidateIndex.Stored(NameKey, NameTokens, CompanyDomain, Country, AlternateNames), Source: Source, ExternalId: ExternalId,
            Products: ProductLines.StoredProducts.Read(Products));
    }
}
