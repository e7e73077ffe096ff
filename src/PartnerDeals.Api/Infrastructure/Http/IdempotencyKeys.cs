using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using PartnerDeals.Api.Infrastructure.Data;

namespace PartnerDeals.Api.Infrastructure.Http;

/// <summary>The first answer to a POST, kept so a retry with the same Idempotency-Key gets it again.</summary>
public sealed record StoredResponse(string RequestHash, int StatusCode, Guid ResourceId, string ResponseBody);

/// <summary>
/// Idempotency keys live in the database, in the same transaction as what they created: a retry
/// after a crash or a lost response finds either both or neither.
/// </summary>
public sealed class IdempotencyKeys(Database database, TimeProvider clock)
{
    public const string Header = "Idempotency-Key";
    public const string ReplayedHeader = "Idempotent-Replayed";
    public const string Rule = "Idempotency-Key must be 1 to 200 visible ASCII characters (a UUID is a good choice).";

    private const string FindSql = """
        SELECT request_hash, status_code, resource_id, response_body FROM idempotency_keys WHERE scope = @Scope AND idempotency_key = @Key
        """;

    private const string InsertSql = """
        INSERT INTO idempotency_keys (scope, idempotency_key, request_hash, status_code, resource_id, response_body, created_at)
        VALUES (@Scope, @Key, @RequestHash, @StatusCode, @ResourceId, @ResponseBody, @CreatedAt)
        """;

    public static bool IsValid(string key) => key.Length is >= 1 and <= 200 && key.All(c => c is >= '!' and <= '~');

    /// <summary>What identifies "the same body": the request as bound, re-serialised, so whitespace and member order do not matter.</summary>
    public static string Hash<T>(T request) =>
        Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(JsonSerializer.Serialize(request, Json.Options))));

    public async Task<StoredResponse?> FindAsync(DbSession session, string scope, string key, CancellationToken ct)
    {
        var row = await session.QuerySingleOrDefaultAsync<Row>(FindSql, new { Scope = scope, Key = key }, ct);
        return row is null ? null : new StoredResponse(row.RequestHash, row.StatusCode, row.ResourceId, row.ResponseBody);
    }

    public async Task<StoredResponse?> FindAsync(string scope, string key, CancellationToken ct)
    {
        return await database.ReadAsync(session => FindAsync(session, scope, key, ct), ct);
    }

    /// <summary>Stores the answer; a unique violation means a concurrent request with the same key won.</summary>
    public Task SaveAsync(DbSession session, string scope, string key, StoredResponse response, CancellationToken ct) =>
        session.ExecuteAsync(InsertSql, new
        {
            Scope = scope,
            Key = key,
            response.RequestHash,
            response.StatusCode,
            response.ResourceId,
            response.ResponseBody,
            CreatedAt = clock.GetUtcNow(),
        }, ct);

    private sealed class Row
    {
        public string RequestHash { get; set; } = "";
        public int StatusCode { get; set; }
        public Guid ResourceId { get; set; }
        public string ResponseBody { get; set; } = "";
    }
}
