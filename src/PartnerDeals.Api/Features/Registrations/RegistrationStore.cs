using System.Data.Common;
using Dapper;
using PartnerDeals.Api.Features.ConflictChecks;
using PartnerDeals.Api.Infrastructure.Data;
using PartnerDeals.Api.Infrastructure.Http;
using PartnerDeals.Matching;

namespace PartnerDeals.Api.Features.Registrations;

/// <summary>The filters of <c>GET /v1/registrations</c>.</summary>
public sealed record RegistrationFilter(RegistrationStatus? Status, Guid? PartnerId, DateTimeOffset? SubmittedFrom, DateTimeOffset? SubmittedTo, string? Company);

/// <summary>
/// The <c>registrations</c> table and its token index. The matching keys of the customer company
/// are computed here when a row is written, as for the direct pipeline.
/// </summary>
public sealed class RegistrationStore(Database database)
{
    // Every column a registration is stored with, written once: the insert, the update and the read are made from it, each
    // column's parameter being its RegistrationRow property (company_name: @CompanyName). seq is the submission order, below.
    private static readonly string[] Stored =
    [
        "id", "partner_id", "registered_by", "status", "verdict", "reason", "company_name", "company_website", "company_domain", "country", "industry", "employee_count",
        "contact_name", "contact_email", "contact_title", "deal_name", "products", "estimated_value", "currency", "expected_close_date", "deal_notes",
        "relationship_owner", "demo_owner", "contract_owner", "co_sell", "name_key", "name_acronym", "name_tokens", "alternate_names", "icp_qualified",
        "icp_failed_rule", "policy_version", "rejection_reason", "decision_note", "decision_note_shared", "protection_expires_at", "extensions_granted",
        "terms_tier", "terms_fee_model", "terms_fee_percent", "terms_fee_amount", "terms_fee_currency", "terms_fee_trigger", "terms_payment_net_days",
        "terms_protection_days", "outcome_amount", "outcome_currency", "closed_at", "lost_reason", "outcome_products", "approvals", "submitted_at", "decided_at",
        "approved_at", "created_by_key_id", "version", "created_at", "updated_at", "partner_version", "partner_updated_at",
    ];

    // Set when a registration is submitted, never changed.
    private static readonly string[] Fixed = ["id", "partner_id", "registered_by", "created_by_key_id", "created_at"];

    // Written for the matching and the trail, never read back into a registration.
    private static readonly string[] WriteOnly = ["company_domain", "name_key", "name_acronym", "created_by_key_id"];

    private static readonly string Columns = string.Join(", ", Stored.Except(WriteOnly).Prepend("seq").Select(c => "r." + c))
        + ", (SELECT MAX(c.id) FROM conflicts c WHERE c.registration_id = r.id AND c.status = 'open') AS conflict_id";

    // seq: the next position in submission order; the decision transaction makes MAX + 1 race-free.
    private static readonly string InsertSql = $"""
        INSERT INTO registrations (seq, {string.Join(", ", Stored)})
        SELECT COALESCE(MAX(seq), 0) + 1, {string.Join(", ", Stored.Select(Parameter))}
        FROM registrations
        """;

    // Matches on the version read: of two concurrent writers exactly one changes the row. Seq 0 is a new
    // submission (an edit that claims another company): it takes the next place in submission order.
    private static readonly string UpdateSql = $"""
        UPDATE registrations
        SET {string.Join(", ", Stored.Except(Fixed).Select(c => $"{c} = {Parameter(c)}"))},
            seq = CASE WHEN @Seq = 0 THEN (SELECT COALESCE(MAX(s.seq), 0) + 1 FROM registrations s) ELSE seq END
        WHERE id = @Id AND version = @ExpectedVersion
        """;

    private const string InsertTokenSql = "INSERT INTO registration_tokens (token, registration_id) VALUES (@Token, @Id)";

    private const string DeleteTokenSql = "DELETE FROM registration_tokens WHERE token = @Token AND registration_id = @Id";

    private static readonly string GetSql = "SELECT " + Columns + " FROM registrations r WHERE r.id = @Id";

    private static readonly string ListSql = "SELECT " + Columns + """

        FROM registrations r
        WHERE (@Status IS NULL OR r.status = @Status)
          AND (@PartnerId IS NULL OR r.partner_id = @PartnerId)
          AND (@SubmittedFrom IS NULL OR r.submitted_at >= @SubmittedFrom)
          AND (@SubmittedTo IS NULL OR r.submitted_at < @SubmittedTo)
          AND (@NameKey IS NULL OR r.name_key = @NameKey OR r.company_domain = @CompanyDomain)
          AND (@After IS NULL OR r.id > @After)
        ORDER BY r.id
        """;

    // Pending registrations waiting behind the one released, in submission order.
    private const string PendingInOrderSql = """
        SELECT r.id FROM registrations r
        WHERE r.status = 'pending_review' AND r.id IN @Ids
        ORDER BY r.seq
        """;

    private const string ActiveClaimsOfSql = """
        SELECT r.id FROM registrations r
        WHERE r.partner_id = @PartnerId AND r.status IN (
        """ + Claims.StatusList + """
        )
        ORDER BY r.seq
        """;

    private const string ExpiredSql = """
        SELECT r.id FROM registrations r
        WHERE r.status = 'approved' AND r.protection_expires_at <= @Now
        ORDER BY r.protection_expires_at
        """;

    public async Task InsertAsync(DbSession session, Registration registration, Guid? createdByKeyId, CancellationToken ct)
    {
        await session.ExecuteAsync(InsertSql, RegistrationRow.From(registration) with { CreatedByKeyId = createdByKeyId }, ct);
        await WriteTokensAsync(session, registration.Id, [], IndexedTokens(registration.Customer), ct);
    }

    /// <summary>Writes <paramref name="changed"/> if the stored row is still at <paramref name="current"/>'s version.</summary>
    public async Task<bool> UpdateAsync(DbSession session, Registration current, Registration changed, CancellationToken ct)
    {
        var parameters = new DynamicParameters(RegistrationRow.From(changed));
        parameters.Add("ExpectedVersion", current.Version);
        if (await session.ExecuteAsync(UpdateSql, parameters, ct) != 1) return false;
        if (current.Customer.CompanyName != changed.Customer.CompanyName || !current.Customer.AlternateNames.SequenceEqual(changed.Customer.AlternateNames))
        {
            await WriteTokensAsync(session, changed.Id, IndexedTokens(current.Customer), IndexedTokens(changed.Customer), ct);
        }
        return true;
    }

    public Task<Registration?> GetAsync(Guid id, CancellationToken ct) =>
        database.ReadAsync(session => GetAsync(session, id, ct), ct);

    public async Task<Registration?> GetAsync(DbSession session, Guid id, CancellationToken ct)
    {
        var rows = await session.QueryRepeatedAsync<RegistrationRow>(GetSql, [("@Id", id)], ct);
        return rows.Count == 0 ? null : rows[0].ToRegistration();
    }

    public async Task<Page<Registration>> ListAsync(RegistrationFilter filter, int pageSize, Guid? after, CancellationToken ct)
    {
        var company = filter.Company is null ? null : CompanyName.Normalise(filter.Company);
        var rows = (await database.ReadAsync(read => read.QueryAsync<RegistrationRow>(database.Dialect.Page(ListSql), new
        {
            Status = filter.Status is { } s ? Json.Name(s) : null,
            filter.PartnerId,
            filter.SubmittedFrom,
            filter.SubmittedTo,
            NameKey = company is null ? null : company.Key,
            CompanyDomain = filter.Company is null ? null : Domains.CompanyDomain(filter.Company) ?? "",
            After = after,
            Limit = pageSize + 1,
        }, ct), ct)).AsList();
        return Paging.ToPage(rows, pageSize, r => r.Id, r => r.ToRegistration());
    }

    /// <summary>Of <paramref name="ids"/>, those pending review, in submission order.</summary>
    public async Task<IReadOnlyList<Guid>> PendingInOrderAsync(DbSession session, IReadOnlyList<Guid> ids, CancellationToken ct) =>
        ids.Count == 0 ? [] : (await session.QueryAsync<Guid>(PendingInOrderSql, new { Ids = Database.IdList(ids) }, ct)).AsList();

    public async Task<IReadOnlyList<Guid>> ActiveClaimsOfAsync(DbSession session, Guid partnerId, CancellationToken ct) =>
        (await session.QueryAsync<Guid>(ActiveClaimsOfSql, new { PartnerId = partnerId }, ct)).AsList();

    public async Task<IReadOnlyList<Guid>> ExpiredAsync(DateTimeOffset now, int limit, CancellationToken ct) =>
        (await database.ReadAsync(read => read.QueryAsync<Guid>(database.Dialect.Page(ExpiredSql), new { Now = now, Limit = limit }, ct), ct)).AsList();

    /// <summary>Moves the token index from <paramref name="before"/> to <paramref name="after"/>, by key (no secondary index needed).</summary>
    private async Task WriteTokensAsync(DbSession session, Guid id, IReadOnlyList<string> before, IReadOnlyList<string> after, CancellationToken ct)
    {
        var stale = before.Except(after).Select(t => new { Token = t, Id = id }).ToList();
        var added = after.Except(before).Select(t => new { Token = t, Id = id }).ToList();
        if (stale.Count > 0) await session.ExecuteAsync(DeleteTokenSql, stale, ct);
        if (added.Count > 0) await session.ExecuteAsync(InsertTokenSql, added, ct);
        await MisspellingIndex.AddAsync(session, added.Select(a => a.Token), ct);
    }

    private const string KeyedAfterSql = """
        SELECT seq, id, company_name, alternate_names, name_key, name_acronym, name_tokens FROM registrations WHERE seq > @After ORDER BY seq
        """;

    private const string RekeySql = "UPDATE registrations SET name_key = @NameKey, name_acronym = @NameAcronym, name_tokens = @NameTokens WHERE id = @Id";

    /// <summary>A column's parameter: its RegistrationRow property (company_name: @CompanyName).</summary>
    private static string Parameter(string column) =>
        "@" + string.Concat(column.Split('_').Select(word => char.ToUpperInvariant(word[0]) + word[1..]));

    private sealed class KeyedRow
    {
        public long Seq { get; init; }
        public Guid Id { get; init; }
        public string CompanyName { get; init; } = "";
        public string? AlternateNames { get; init; }
        public string NameKey { get; init; } = "";
        public string NameAcronym { get; init; } = "";
        public string NameTokens { get; init; } = "";
    }

    /// <summary>
    /// Writes again the matching keys of the registrations after <paramref name="afterSeq"/> (up to <paramref name="limit"/>)
    /// whose keys today's normaliser makes differently, in the caller's decision transaction (see MatchingKeysRefresh).
    /// The registration's version and ETag stay: nothing a partner wrote has changed.
    /// </summary>
    public async Task<(long? LastSeq, int Changed)> RekeyAsync(DbSession session, long afterSeq, int limit, CancellationToken ct)
    {
        var rows = await session.QueryAsync<KeyedRow>(database.Dialect.Page(KeyedAfterSql), new { After = afterSeq, Limit = limit }, ct);
        if (rows.Count == 0) return (null, 0);
        var changed = 0;
        foreach (var row in rows)
        {
            var name = CompanyName.Normalise(row.CompanyName);
            var nameTokens = string.Join(' ', name.Tokens);
            if (name.Key == row.NameKey && name.Acronym == row.NameAcronym && nameTokens == row.NameTokens) continue;
            var alternates = ConflictChecks.AlternateNames.Read(row.AlternateNames);
            var tokens = Blocking.TokensOf(name, alternates);
            // Every token row the old keys or the new ones could have is deleted before the new ones are written.
            var gone = Blocking.TokensOf(row.NameTokens.Split(' ', StringSplitOptions.RemoveEmptyEntries), alternates).Union(tokens);
            await session.ExecuteAsync(DeleteTokenSql, gone.Select(t => new { Token = t, row.Id }).ToList(), ct);
            await session.ExecuteAsync(InsertTokenSql, tokens.Select(t => new { Token = t, row.Id }).ToList(), ct);
            await MisspellingIndex.AddAsync(session, tokens, ct);
            await session.ExecuteAsync(RekeySql, new { row.Id, NameKey = name.Key, NameAcronym = name.Acronym, NameTokens = nameTokens }, ct);
            changed++;
        }
        return (rows[^1].Seq, changed);
    }

    /// <summary>What a registration is indexed under: the tokens of its company name and of its alternate names.</summary>
    private static IReadOnlyList<string> IndexedTokens(Customer customer) =>
        Blocking.TokensOf(CompanyName.Normalise(customer.CompanyName), customer.AlternateNames);
}
