using System.Data.Common;
using System.Text.Json;
using Dapper;
using PartnerDeals.Api.Infrastructure.Data;
using PartnerDeals.Matching;

namespace PartnerDeals.Api.Features.ConflictChecks;

/// <summary>
/// The <c>token_signatures</c> table: every distinct token of the token indexes under its two
/// half signatures (<see cref="Blocking.MisspellingSignatures"/>), so that a misspelt token of a
/// query finds the stored token it misspells with a few seeks, never by scanning the vocabulary.
/// </summary>
public static class MisspellingIndex
{
    // Portable insert-if-absent: SQLite writers are serialised; on SQL Server the key ignores a duplicate
    // that a concurrent instance inserted between the check and the insert (IGNORE_DUP_KEY).
    private const string InsertSql = """
        INSERT INTO token_signatures (signature, token)
        SELECT @Signature, @Token WHERE NOT EXISTS (SELECT 1 FROM token_signatures WHERE signature = @Signature AND token = @Token)
        """;

    private static readonly string[] InsertNames = ["@Signature", "@Token"];

    internal static string FindSql(SqlDialect sql) =>
        $"SELECT DISTINCT token FROM token_signatures WHERE signature IN ({sql.TextValues("@Signatures")})";

    /// <summary>Adds the tokens written in the caller's transaction (each once, however many rows hold it).</summary>
    public static Task AddAsync(Database database, DbTransaction tx, IEnumerable<string> tokens, CancellationToken ct)
    {
        var rows = tokens.Distinct(StringComparer.Ordinal)
            .SelectMany(t => Blocking.MisspellingSignatures(t).Select(s => (Signature: s, Token: t)))
            .OrderBy(r => r.Signature, StringComparer.Ordinal)
            .ToList();
        return rows.Count == 0
            ? Task.CompletedTask
            : database.ExecuteEachAsync(tx, InsertSql, InsertNames, rows, (r, v) => (v[0], v[1]) = (r.Signature, r.Token), ct);
    }

    /// <summary>For each query token, the stored tokens that could be it misspelt.</summary>
    public static async Task<IReadOnlyList<string>> MisspellingsAsync(
        Database database, DbConnection connection, DbTransaction? tx, IReadOnlyList<string> queryTokens, CancellationToken ct)
    {
        var probes = queryTokens.SelectMany(Blocking.MisspellingProbes).Distinct(StringComparer.Ordinal).ToList();
        if (probes.Count == 0) return [];
        var stored = await connection.QueryAsync<string>(database.Command(FindSql(database.Dialect),
            new { Signatures = JsonSerializer.Serialize(probes) }, ct, tx));
        return stored.Where(s => queryTokens.Any(q => Blocking.CouldBeMisspelling(q, s))).ToList();
    }
}
