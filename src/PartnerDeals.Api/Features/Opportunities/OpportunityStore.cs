using System.Text.Json;
using Dapper;
using PartnerDeals.Api.Features.ConflictChecks;
using PartnerDeals.Api.Infrastructure.Data;
using PartnerDeals.Api.Infrastructure.Http;
using PartnerDeals.Matching;

namespace PartnerDeals.Api.Features.Opportunities;

/// <summary>One validated upsert: the CRM identity and the fields.</summary>
public sealed record OpportunityWrite(string Source, string ExternalId, OpportunityFields Fields);

/// <summary>An upsert with the matching keys it is stored and found under, computed once, before it is written.</summary>
/// <param name="Item">The upsert.</param>
/// <param name="CompanyDomain">The registrable domain.</param>
/// <param name="NameKey">The name's key.</param>
/// <param name="NameAcronym">The name's acronym.</param>
/// <param name="NameTokens">The name's tokens, space-separated.</param>
/// <param name="AlternateNames">The alternate names as stored: a JSON array, null when there are none.</param>
/// <param name="Tokens">What the row is indexed under: the tokens of every name.</param>
public sealed record PreparedWrite(
    OpportunityWrite Item, string? CompanyDomain, string NameKey, string NameAcronym, string NameTokens, string? AlternateNames, IReadOnlyList<string> Tokens)
{
    public static PreparedWrite Of(OpportunityWrite item)
    {
        var name = CompanyName.Normalise(item.Fields.AccountName);
        var alternates = item.Fields.AlternateNames?.Select(n => n.Trim()).Distinct().ToList();
        return new PreparedWrite(item, Domains.CompanyDomain(item.Fields.AccountDomain), name.Key, name.Acronym, string.Join(' ', name.Tokens),
            ConflictChecks.AlternateNames.Write(alternates), Blocking.TokensOf(name, alternates));
    }
}

/// <summary>
/// The <c>opportunities</c> table and its inverted token index. Matching keys (registrable
/// domain, name key, acronym, tokens) are computed here, once, when a row is written.
/// </summary>
public sealed class OpportunityStore(Database database, TimeProvider clock)
{
    private const string Columns = """
        seq, id, source, external_id, account_name, account_domain, company_domain, country, owner, stage, status,
        amount, currency, close_date, opened_date, name_key, name_tokens, alternate_names, products, version, created_at, updated_at
        """;

    // The whole batch's external ids in one parameter: an IN list of one parameter each is prepared and
    // bound by name per query, which cost a bulk import more than the lookups themselves.
    internal static string FindExistingSql(SqlDialect sql) => $"""
        SELECT id, seq, version, external_id, name_tokens, alternate_names FROM opportunities WHERE source = @Source AND external_id IN ({sql.TextValues("@ExternalIds")})
        """;

    // The seq each row gets is read back for its token rows (see SqlDialect.InsertedKey).
    internal static string InsertSql(SqlDialect sql) => """
        INSERT INTO opportunities (id, source, external_id, account_name, account_domain, company_domain, country, owner, stage,
            status, amount, currency, close_date, opened_date, name_key, name_acronym, name_tokens, alternate_names, products, version, created_at,
            updated_at)
        VALUES (@Id, @Source, @ExternalId, @AccountName, @AccountDomain, @CompanyDomain, @Country, @Owner, @Stage,
            @Status, @Amount, @Currency, @CloseDate, @OpenedDate, @NameKey, @NameAcronym, @NameTokens, @AlternateNames, @Products, 1, @CreatedAt,
            @UpdatedAt)
        """ + sql.InsertedKey;

    private const string UpdateSql = """
        UPDATE opportunities
        SET account_name = @AccountName, account_domain = @AccountDomain, company_domain = @CompanyDomain, country = @Country,
            owner = @Owner, stage = @Stage, status = @Status, amount = @Amount, currency = @Currency, close_date = @CloseDate, opened_date = @OpenedDate,
            name_key = @NameKey, name_acronym = @NameAcronym, name_tokens = @NameTokens, alternate_names = @AlternateNames, products = @Products,
            version = version + 1, updated_at = @UpdatedAt
        WHERE id = @Id AND version = @Version
        """;

    // Token rows hold the opportunity's seq, a third of the id's size.
    private const string InsertTokenSql = "INSERT INTO opportunity_tokens (token, opportunity_seq) VALUES (@Token, @Seq)";

    // By the primary key: the tokens a row was indexed under are the ones its name_tokens column holds.
    private const string DeleteTokenSql = "DELETE FROM opportunity_tokens WHERE token = @Token AND opportunity_seq = @Seq";

    private static readonly string[] TokenNames = ["@Token", "@Seq"];

    /// <summary>Below this many rows a batch computes its matching keys on the request's own thread.</summary>
    internal const int ParallelKeysFrom = 256;

    private const string DeleteSql = "DELETE FROM opportunities WHERE id = @Id";

    private const string NotWrittenSinceSql = "SELECT external_id FROM opportunities WHERE source = @Source AND updated_at < @Since";

    private const string GetSql = "SELECT " + Columns + " FROM opportunities WHERE source = @Source AND external_id = @ExternalId";

    // The list's WHERE holds only the filters given: "@X IS NULL OR x = @X" cannot seek, so a domain walked
    // the whole id index and a page deep in the list everything before it; now both seek. A domain is found
    // through its index. Source, status and country
    // have few values: a page walks the id index from its cursor, filtering as it goes. COALESCE keeps
    // source (NOT NULL) off its unique index, which SQLite would otherwise search and then sort all of one
    // source's rows by id for every page.
    private const string ListSql = "SELECT " + Columns + " FROM opportunities";
    private const string ListByDomain = "company_domain = @CompanyDomain";
    private const string ListBySource = "COALESCE(source, '') = @Source";
    private const string ListByStatus = "status = @Status";
    private const string ListByCountry = "country = @Country";
    private const string ListAfter = "id > @After";

    internal static string ListSqlFor(bool source, bool status, bool country, bool domain, bool after)
    {
        string?[] filters = [domain ? ListByDomain : null, source ? ListBySource : null, status ? ListByStatus : null,
            country ? ListByCountry : null, after ? ListAfter : null];
        var where = string.Join(" AND ", filters.OfType<string>());
        return ListSql + (where.Length > 0 ? " WHERE " + where : "") + " ORDER BY id";
    }

    /// <summary>
    /// Computes each item's matching keys: pure CPU, done before the write transaction so that a batch
    /// holds the write lock only for its writes, and an import prepares its next chunk meanwhile.
    /// </summary>
    public static IReadOnlyList<PreparedWrite> Prepare(IReadOnlyList<OpportunityWrite> items) =>
        items.Count >= ParallelKeysFrom
            ? items.AsParallel().AsOrdered().Select(PreparedWrite.Of).ToArray()
            : items.Select(PreparedWrite.Of).ToArray();

    /// <summary>
    /// Creates or updates each item by its CRM identity in the caller's transaction. An identity
    /// repeated within the batch is written once, with its last fields; its later items report "updated".
    /// </summary>
    public async Task<IReadOnlyList<(UpsertOutcome Outcome, Guid Id)>> UpsertAsync(DbSession session, IReadOnlyList<PreparedWrite> items, CancellationToken ct)
    {
        var plan = await PlanAsync(session, items, ct);
        // Planned in this transaction, nothing can have changed under it.
        return await WriteAsync(session, plan, ct) ?? throw new InvalidOperationException("A batch planned in its own write transaction went stale.");
    }

    /// <summary>
    /// Decides what a batch writes from the rows stored for its identities: which items create a row
    /// (and their new ids), which update one, and which token rows change. An import plans its next
    /// chunk outside the write lock, on a read connection, while the chunk before it is written; see
    /// <see cref="WriteAsync"/> for what happens when the rows change in between.
    /// </summary>
    public async Task<UpsertPlan> PlanAsync(DbSession session, IReadOnlyList<PreparedWrite> items, CancellationToken ct)
    {
        var now = clock.GetUtcNow();
        var existing = new Dictionary<(string, string), OpportunityRow>();
        foreach (var bySource in items.GroupBy(i => i.Item.Source))
        {
            var externalIds = JsonSerializer.Serialize(bySource.Select(i => i.Item.ExternalId).Distinct());
            var found = await session.QueryAsync<OpportunityRow>(FindExistingSql(database.Dialect),
                new { Source = bySource.Key, ExternalIds = externalIds }, ct);
            foreach (var row in found) existing[(bySource.Key, row.ExternalId)] = row;
        }

        var plan = new UpsertPlan(items.Count);
        var final = new Dictionary<(string, string), (Guid Id, PreparedWrite Write)>();
        foreach (var write in items)
        {
            var key = (write.Item.Source, write.Item.ExternalId);
            if (final.TryGetValue(key, out var earlier)) plan.Outcomes.Add((UpsertOutcome.Updated, earlier.Id));
            else if (existing.TryGetValue(key, out var stored)) plan.Outcomes.Add((UpsertOutcome.Updated, stored.Id));
            else plan.Outcomes.Add((UpsertOutcome.Created, Ids.New(now)));
            final[key] = (plan.Outcomes[^1].Id, write);
        }

        foreach (var (key, (id, write)) in final)
        {
            if (!existing.TryGetValue(key, out var stored))
            {
                plan.Inserts.Add((OpportunityRow.From(id, write, now, version: 0), write.Tokens));
                continue;
            }
            plan.Updates.Add(OpportunityRow.From(id, write, now, stored.Version));
            var storedTokens = StoredTokens(stored.NameTokens, stored.AlternateNames);
            if (storedTokens.SequenceEqual(write.Tokens)) continue;
            plan.StaleTokens.AddRange(storedTokens.Select(t => (t, stored.Seq)));
            plan.ChangedTokens.AddRange(write.Tokens.Select(t => (t, stored.Seq)));
        }
        return plan;
    }

    /// <summary>
    /// Writes a plan in the caller's write transaction and answers each item's outcome, or null when the
    /// plan went stale: a row it would create was created meanwhile (the unique index refuses it) or a row
    /// it would update is no longer at the version it was planned from. The caller then rolls back and
    /// upserts the items again under the lock. Rows are rarely written by two writers at once, so the
    /// check costs nothing in the common case, where finding the stored rows and planning under the lock
    /// was a large part of an import's time in the lock.
    /// </summary>
    public async Task<IReadOnlyList<(UpsertOutcome Outcome, Guid Id)>?> WriteAsync(DbSession session, UpsertPlan plan, CancellationToken ct)
    {
        var newTokens = new List<(string Token, long Seq)>(plan.ChangedTokens);
        if (plan.Updates.Count > 0)
        {
            var updated = await session.ExecuteAsync(UpdateSql, plan.Updates, ct);
            if (updated != plan.Updates.Count) return null;
        }
        if (plan.Inserts.Count > 0)
        {
            try
            {
                // Called after each row, in order: the n-th insert's tokens go with the seq the n-th row was given.
                var next = 0;
                await session.ExecuteEachAsync(InsertSql(database.Dialect), plan.Inserts.Select(i => i.Row), ct,
                    inserted: (_, seq) => newTokens.AddRange(plan.Inserts[next++].Tokens.Select(t => (t, seq))));
            }
            catch (Exception e) when (SqlDialect.IsUniqueViolation(e))
            {
                return null;
            }
        }
        if (plan.StaleTokens.Count > 0) await session.ExecuteEachAsync(DeleteTokenSql, TokenNames, plan.StaleTokens, TokenValues, ct);
        // In key order, consecutive token rows land on the same leaf page instead of one at random each.
        newTokens.Sort((a, b) => string.CompareOrdinal(a.Token, b.Token));
        if (newTokens.Count > 0) await session.ExecuteEachAsync(InsertTokenSql, TokenNames, newTokens, TokenValues, ct);
        await MisspellingIndex.AddAsync(session, newTokens.Select(t => t.Token), ct);
        return plan.Outcomes;
    }

    public async Task<Opportunity?> GetAsync(string source, string externalId, CancellationToken ct)
    {
        var row = await database.ReadAsync(read => read.QuerySingleOrDefaultAsync<OpportunityRow>(GetSql, new { Source = source, ExternalId = externalId }, ct), ct);
        return row?.ToOpportunity();
    }

    public async Task<Page<Opportunity>> ListAsync(string? source, OpportunityStatus? status, string? country, string? domain, int pageSize, Guid? after,
        CancellationToken ct)
    {
        var sql = ListSqlFor(source is not null, status is not null, country is not null, domain is not null, after is not null);
        var rows = (await database.ReadAsync(read => read.QueryAsync<OpportunityRow>(database.Dialect.Page(sql), new
        {
            Source = source,
            Status = status is { } s ? Json.Name(s) : null,
            Country = country,
            CompanyDomain = domain is null ? null : Domains.CompanyDomain(domain) ?? domain,
            After = after,
            Limit = pageSize + 1,
        }, ct), ct)).AsList();
        return Paging.ToPage(rows, pageSize, r => r.Id, r => r.ToOpportunity());
    }

    /// <summary>Deletes an opportunity and its index rows; false when there was none.</summary>
    public async Task<bool> DeleteAsync(string source, string externalId, CancellationToken ct)
    {
        await using var connection = await database.OpenAsync(ct);
        await using var session = await database.BeginWriteAsync(connection, ct);
        var deleted = await DeleteAsync(session, source, externalId, ct);
        await session.CommitAsync(ct);
        return deleted;
    }

    /// <summary>The same in the caller's write transaction.</summary>
    public async Task<bool> DeleteAsync(DbSession session, string source, string externalId, CancellationToken ct)
    {
        var row = await session.QuerySingleOrDefaultAsync<OpportunityRow>(GetSql, new { Source = source, ExternalId = externalId }, ct);
        if (row is null) return false;
        await session.ExecuteEachAsync(DeleteTokenSql, TokenNames, StoredTokens(row.NameTokens, row.AlternateNames).Select(t => (t, row.Seq)), TokenValues, ct);
        await session.ExecuteAsync(DeleteSql, new { row.Id }, ct);
        return true;
    }

    /// <summary>
    /// Deletes the opportunities of <paramref name="source"/> not written since <paramref name="since"/>, in the caller's
    /// write transaction: after a full read of a CRM that began then, those are the ones the CRM no longer has.
    /// </summary>
    public async Task<int> DeleteNotWrittenSinceAsync(DbSession session, string source, DateTimeOffset since, CancellationToken ct)
    {
        var stale = await session.QueryAsync<string>(NotWrittenSinceSql, new { Source = source, Since = since }, ct);
        var deleted = 0;
        foreach (var externalId in stale)
        {
            if (await DeleteAsync(session, source, externalId, ct)) deleted++;
        }
        return deleted;
    }

    private const string KeyedAfterSql = """
        SELECT seq, account_name, alternate_names, name_key, name_acronym, name_tokens FROM opportunities WHERE seq > @After ORDER BY seq
        """;

    // The version moves: an import that planned this row before its keys changed writes it again under the lock.
    private const string RekeySql = """
        UPDATE opportunities SET name_key = @NameKey, name_acronym = @NameAcronym, name_tokens = @NameTokens, version = version + 1 WHERE seq = @Seq
        """;

    private sealed class KeyedRow
    {
        public long Seq { get; init; }
        public string AccountName { get; init; } = "";
        public string? AlternateNames { get; init; }
        public string NameKey { get; init; } = "";
        public string NameAcronym { get; init; } = "";
        public string NameTokens { get; init; } = "";
    }

    /// <summary>
    /// Writes again the matching keys of the rows after <paramref name="afterSeq"/> (up to <paramref name="limit"/>)
    /// whose keys today's normaliser makes differently, in the caller's write transaction (see MatchingKeysRefresh).
    /// </summary>
    public async Task<(long? LastSeq, int Changed)> RekeyAsync(DbSession session, long afterSeq, int limit, CancellationToken ct)
    {
        var rows = await session.QueryAsync<KeyedRow>(database.Dialect.Page(KeyedAfterSql), new { After = afterSeq, Limit = limit }, ct);
        if (rows.Count == 0) return (null, 0);
        var changed = 0;
        foreach (var row in rows)
        {
            var name = CompanyName.Normalise(row.AccountName);
            var nameTokens = string.Join(' ', name.Tokens);
            if (name.Key == row.NameKey && name.Acronym == row.NameAcronym && nameTokens == row.NameTokens) continue;
            var tokens = Blocking.TokensOf(name, AlternateNames.Read(row.AlternateNames));
            // Every token row the old keys or the new ones could have is deleted before the new ones are written.
            var gone = StoredTokens(row.NameTokens, row.AlternateNames).Union(tokens).Select(t => (t, row.Seq));
            await session.ExecuteEachAsync(DeleteTokenSql, TokenNames, gone, TokenValues, ct);
            await session.ExecuteEachAsync(InsertTokenSql, TokenNames, tokens.Order(StringComparer.Ordinal).Select(t => (t, row.Seq)), TokenValues, ct);
            await MisspellingIndex.AddAsync(session, tokens, ct);
            await session.ExecuteAsync(RekeySql, new { NameKey = name.Key, NameAcronym = name.Acronym, NameTokens = nameTokens, row.Seq }, ct);
            changed++;
        }
        return (rows[^1].Seq, changed);
    }

    private static void TokenValues((string Token, long Seq) row, object?[] v) => (v[0], v[1]) = (row.Token, row.Seq);

    /// <summary>What a stored row is indexed under: its name's tokens and its alternate names'.</summary>
    private static IReadOnlyList<string> StoredTokens(string nameTokens, string? alternateNames) =>
        Blocking.TokensOf(nameTokens.Split(' ', StringSplitOptions.RemoveEmptyEntries), AlternateNames.Read(alternateNames));

    /// <summary>What <see cref="PlanAsync"/> decided for a batch; <see cref="WriteAsync"/> writes it.</summary>
    public sealed class UpsertPlan(int items)
    {
        internal List<(UpsertOutcome Outcome, Guid Id)> Outcomes { get; } = new(items);
        internal List<(OpportunityRow Row, IReadOnlyList<string> Tokens)> Inserts { get; } = new(items);
        internal List<OpportunityRow> Updates { get; } = [];
        internal List<(string Token, long Seq)> StaleTokens { get; } = [];
        internal List<(string Token, long Seq)> ChangedTokens { get; } = [];
    }
}
