using PartnerDeals.Api.Infrastructure.Data;
using PartnerDeals.Matching;

namespace PartnerDeals.Api.Features.ConflictChecks;

/// <summary>
/// The partners' claims that could be a company, found through the indexes of <c>registrations</c> and
/// <c>registration_tokens</c> only (see <see cref="CandidateIndex"/>).
/// </summary>
public static class RegistrationCandidates
{
    // A claim: pending, waiting for information, approved and still protected, or won (a customer now).
    // A pending one counts only when it was submitted first (lower seq), so a later claim never blocks an earlier one.
    // Members never conflict with each other: a registration whose team the asking partner is active on is not its rival.
    private const string ActiveFilter = """
         AND r.status IN ('pending_review', 'more_info_requested', 'approved', 'won')
          AND (r.status <> 'approved' OR r.protection_expires_at > @Now)
          AND r.id <> @Self AND (r.status IN ('approved', 'won') OR r.seq < @SelfSeq)
          AND (@Asking IS NULL OR NOT EXISTS (SELECT 1 FROM registration_members m
              WHERE m.partner_id = @Asking AND m.status = 'active' AND m.registration_id = r.id))
        """;

    private const string CandidateColumns = "r.id, r.partner_id, r.status, r.company_name, r.company_domain, r.country, r.name_key, r.name_tokens, r.alternate_names, r.products";

    private const string CandidatesByDomainSql = "SELECT " + CandidateColumns + " FROM registrations r WHERE r.company_domain = @Value AND r.company_domain IS NOT NULL"
        + ActiveFilter + " ORDER BY r.company_domain";

    private const string CandidatesByKeySql = "SELECT " + CandidateColumns + " FROM registrations r WHERE r.name_key = @Value"
        + ActiveFilter + " ORDER BY r.name_key";

    private const string CandidatesByAcronymSql = "SELECT " + CandidateColumns + " FROM registrations r WHERE r.name_acronym = @Value AND r.name_acronym <> ''"
        + ActiveFilter + " ORDER BY r.name_acronym";

    // CROSS JOIN keeps SQLite's join order as written, token rows first: left to choose, it walked every
    // active registration by status and probed the token for each.
    private const string CandidatesByTokenSql = "SELECT " + CandidateColumns + " FROM registration_tokens t CROSS JOIN registrations r"
        + " WHERE t.token = @Token AND r.id = t.registration_id" + ActiveFilter + " ORDER BY t.token";

    private const string TokenRowsSql = "SELECT registration_id FROM registration_tokens WHERE token = @Token ORDER BY token";

    internal static readonly CandidateQueries Sql = new(
        CandidatesByDomainSql, CandidatesByKeySql, CandidatesByAcronymSql, TokenRowsSql, CandidatesByTokenSql);

    /// <summary>
    /// Claims on <paramref name="company"/> other than registration <paramref name="self"/>: active registrations
    /// submitted before <paramref name="selfSeq"/> (or approved), and won ones (the account is a customer now).
    /// </summary>
    public static async Task<IReadOnlyList<Candidate>> FindAsync(DbSession session, Guid self, long selfSeq,
        Company company, IReadOnlyList<(string Token, int Edits)> misspellings, Guid? askingPartnerId, DateTimeOffset now, BlockingSettings settings,
        CancellationToken ct)
    {
        var rows = await CandidateIndex.FindAsync<CandidateRow>(session, Sql, company, misspellings, settings,
            [("@Self", self), ("@SelfSeq", selfSeq), ("@Now", now), ("@Asking", askingPartnerId)], r => r.Id, ct);
        return rows.Select(r => r.ToCandidate(askingPartnerId)).ToList();
    }

    private sealed class CandidateRow
    {
        public Guid Id { get; set; }
        public Guid PartnerId { get; set; }
        public string Status { get; set; } = "";
        public string CompanyName { get; set; } = "";
        public string? CompanyDomain { get; set; }
        public string? Country { get; set; }
        public string NameKey { get; set; } = "";
        public string NameTokens { get; set; } = "";
        public string? AlternateNames { get; set; }
        public string? Products { get; set; }

        public Candidate ToCandidate(Guid? askingPartnerId) => new(
            Status == "won" ? CandidateKind.ExistingCustomer : PartnerId == askingPartnerId ? CandidateKind.DuplicateRegistration : CandidateKind.PartnerRegistration,
            Id, CompanyName, CandidateIndex.Stored(NameKey, NameTokens, CompanyDomain, Country, AlternateNames), PartnerId: PartnerId,
            HoldsAccount: Status == "approved", Products: ProductLines.StoredProducts.Read(Products));
    }
}
