using System.Collections.Concurrent;
using Dapper;
using PartnerDeals.Api.Features.Audit;
using PartnerDeals.Api.Infrastructure.Auth;
using PartnerDeals.Api.Infrastructure.Data;
using PartnerDeals.Api.Infrastructure.Http;

namespace PartnerDeals.Api.Features.ApiKeys;

/// <summary>The <c>api_keys</c> table: issuing, finding by presented key, listing and revoking.</summary>
public sealed class ApiKeyStore(Database database, AuditTrail audit, TimeProvider clock) : Partners.ITerminationStep
{
    private const string InsertSql = """
        INSERT INTO api_keys (id, name, prefix, secret_hash, role, partner_id, created_at, created_by, revoked_at)
        VALUES (@Id, @Name, @Prefix, @SecretHash, @Role, @PartnerId, @CreatedAt, @CreatedBy, NULL)
        """;

    // The partner's status comes along so a suspended partner's keys are read-only from the next request on.
    private const string FindByPrefixSql = """
        SELECT k.id, k.name, k.role, k.partner_id, k.secret_hash, p.status AS partner_status
        FROM api_keys k LEFT JOIN partners p ON p.id = k.partner_id
        WHERE k.prefix = @Prefix AND k.revoked_at IS NULL
        """;

    private const string SelectColumns = "SELECT id, name, prefix, role, partner_id, created_at, created_by, revoked_at FROM api_keys";

    private const string GetSql = SelectColumns + " WHERE id = @Id";

    private const string ListSql = SelectColumns + """

        WHERE (@Role IS NULL OR role = @Role)
          AND (@PartnerId IS NULL OR partner_id = @PartnerId)
          AND (@IncludeRevoked = 1 OR revoked_at IS NULL)
          AND (@After IS NULL OR id > @After)
        ORDER BY id
        """;

    private const string RevokeSql = "UPDATE api_keys SET revoked_at = @Now WHERE id = @Id AND revoked_at IS NULL";

    private const string RevokePartnerKeysSql = """
        UPDATE api_keys SET revoked_at = @Now WHERE partner_id = @PartnerId AND revoked_at IS NULL
        """;

    private const string CountSql = "SELECT COUNT(*) FROM api_keys";

    private const string ExistsByHashSql = "SELECT COUNT(*) FROM api_keys WHERE secret_hash = @SecretHash";

    /// <summary>
    /// How long a key looked up stays cached. Revoking a key, or changing a partner's status, empties this
    /// instance's cache at once; another instance sees the change when its entry runs out, within this.
    /// </summary>
    public static readonly TimeSpan CacheFor = TimeSpan.FromSeconds(1);

    // By the presented key's hash: the cache never holds a secret. Unknown keys are cached too, so a flood of
    // forged keys costs a lookup per key and second, not per request.
    private readonly ConcurrentDictionary<string, (AuthenticatedKey? Key, long At)> _recent = new(StringComparer.Ordinal);

    /// <summary>The active key a caller presented, or null. Keys longer than any we issue are not looked up.</summary>
    public async Task<AuthenticatedKey?> FindActiveAsync(string presented, CancellationToken ct)
    {
        if (presented.Length > 256) return null;
        var hash = ApiKeySecret.Hash(presented);
        if (_recent.TryGetValue(hash, out var recent) && clock.GetElapsedTime(recent.At) < CacheFor) return recent.Key;

        var at = clock.GetTimestamp();
        var candidates = await database.ReadAsync(s => s.QueryAsync<AuthenticatedKey>(FindByPrefixSql, new { Prefix = ApiKeySecret.PrefixOf(presented) }, ct), ct);
        var key = candidates.FirstOrDefault(k => ApiKeySecret.MatchesHash(hash, k.SecretHash));
        if (_recent.Count > MaxCached) _recent.Clear();
        // Stored only if nothing was forgotten meanwhile: a revocation during the lookup must not be cached away.
        if (Volatile.Read(ref _forgotten) <= at) _recent[hash] = (key, at);
        return key;
    }

    private const int MaxCached = 100_000;

    private long _forgotten;

    /// <summary>Empties this instance's cache: a key was revoked or a partner's status changed.</summary>
    public void Forget()
    {
        Volatile.Write(ref _forgotten, clock.GetTimestamp());
        _recent.Clear();
    }

    /// <summary>Issues a key in the caller's transaction and records it in the audit trail. The secret is returned once, here.</summary>
    public async Task<IssuedApiKey> IssueAsync(DbSession session, string name, ApiKeyRole role, Guid? partnerId, Actor actor, CancellationToken ct,
        string? secret = null)
    {
        secret ??= ApiKeySecret.Generate();
        var now = clock.GetUtcNow();
        var row = new ApiKeyRow
        {
            Id = Ids.New(now),
            Name = name,
            Prefix = ApiKeySecret.PrefixOf(secret),
            SecretHash = ApiKeySecret.Hash(secret),
            Role = Json.Name(role),
            PartnerId = partnerId,
            CreatedAt = now,
            CreatedBy = actor.KeyId,
        };
        await session.ExecuteAsync(InsertSql, row, ct);
        var key = row.ToSummary();
        await audit.RecordAsync(session, "api_key", key.Id, "api_key.issued", actor, new { key.Name, key.Role, key.Prefix, key.PartnerId }, ct);
        return new IssuedApiKey(key, secret);
    }

    public async Task<ApiKeySummary?> GetAsync(Guid id, CancellationToken ct)
    {
        var row = await database.ReadAsync(s => s.QuerySingleOrDefaultAsync<ApiKeyRow>(GetSql, new { Id = id }, ct), ct);
        return row?.ToSummary();
    }

    public async Task<Page<ApiKeySummary>> ListAsync(ApiKeyRole? role, Guid? partnerId, bool includeRevoked, int pageSize, Guid? after, CancellationToken ct)
    {
        var rows = await database.ReadAsync(s => s.QueryAsync<ApiKeyRow>(database.Dialect.Page(ListSql), new
        {
            Role = role is { } r ? Json.Name(r) : null,
            PartnerId = partnerId,
            IncludeRevoked = includeRevoked ? 1 : 0,
            After = after,
            Limit = pageSize + 1,
        }, ct), ct);
        return Paging.ToPage(rows, pageSize, r => r.Id, r => r.ToSummary());
    }

    /// <summary>Revokes a key; revoking a revoked key changes nothing and records nothing.</summary>
    public async Task RevokeAsync(Guid id, Actor actor, CancellationToken ct)
    {
        await using var connection = await database.OpenAsync(ct);
        await using var session = await database.BeginWriteAsync(connection, ct);
        var changed = await session.ExecuteAsync(RevokeSql, new { Id = id, Now = clock.GetUtcNow() }, ct);
        if (changed == 1) await audit.RecordAsync(session, "api_key", id, "api_key.revoked", actor, new { }, ct);
        await session.CommitAsync(ct);
        Forget();
    }

    /// <summary>
    /// Revokes every key of a partner, in the caller's transaction (used when the partner is terminated). The
    /// caller forgets the cache again once it has committed: a lookup in between may have cached a key.
    /// </summary>
    public async Task<int> RevokeAllOfPartnerAsync(DbSession session, Guid partnerId, CancellationToken ct)
    {
        var revoked = await session.ExecuteAsync(RevokePartnerKeysSql, new { PartnerId = partnerId, Now = clock.GetUtcNow() }, ct);
        Forget();
        return revoked;
    }

    int Partners.ITerminationStep.Order => 1;

    string Partners.ITerminationStep.Recorded => "revokedApiKeys";

    Task<int> Partners.ITerminationStep.TerminateAsync(DbSession session, Guid partnerId, Actor actor, DateTimeOffset now, CancellationToken ct) =>
        RevokeAllOfPartnerAsync(session, partnerId, ct);

    /// <summary>The cache holds each key's partner status: it is forgotten once a status change has committed.</summary>
    void Partners.ITerminationStep.StatusChanged() => Forget();

    public async Task<bool> AnyAsync(CancellationToken ct)
    {
        return await database.ReadAsync(s => s.ExecuteScalarAsync<long>(CountSql, null, ct), ct) > 0;
    }

    public async Task<bool> ExistsAsync(string secret, CancellationToken ct)
    {
        return await database.ReadAsync(s => s.ExecuteScalarAsync<long>(ExistsByHashSql, new { SecretHash = ApiKeySecret.Hash(secret) }, ct), ct) > 0;
    }

    /// <summary>One row of <c>api_keys</c>, as Dapper writes it (its properties are the insert's parameters) and reads it back.</summary>
    private sealed record ApiKeyRow
    {
        public Guid Id { get; init; }
        public string Name { get; init; } = "";
        public string Prefix { get; init; } = "";

        /// <summary>Written, never read back here: a presented key is found by its hash (<see cref="AuthenticatedKey"/>).</summary>
        public string SecretHash { get; init; } = "";

        public string Role { get; init; } = "";
        public Guid? PartnerId { get; init; }
        public DateTimeOffset CreatedAt { get; init; }
        public Guid? CreatedBy { get; init; }
        public DateTimeOffset? RevokedAt { get; init; }

        public ApiKeySummary ToSummary() => new()
        {
            Id = Id,
            Name = Name,
            Prefix = Prefix,
            Role = Json.Parse<ApiKeyRole>(Role),
            PartnerId = PartnerId,
            CreatedAt = CreatedAt,
            CreatedBy = CreatedBy,
            RevokedAt = RevokedAt,
        };
    }
}

/// <summary>What the authentication handler needs of a stored key.</summary>
public sealed class AuthenticatedKey
{
    public Guid Id { get; set; }
    public string Name { get; set; } = "";
    public string Role { get; set; } = "";
    public Guid? PartnerId { get; set; }
    public string SecretHash { get; set; } = "";
    public string? PartnerStatus { get; set; }
}

public sealed record IssuedApiKey(ApiKeySummary Key, string Secret);
