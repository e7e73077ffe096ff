using System.Text.Json;
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
    // A token already indexed (by another row, or another instance at the same time) is skipped by the key.
    internal static string InsertSql(SqlDialect sql) => sql.InsertIgnoringDuplicates("token_signatures") + " (signature, token) VALUES (@Signature, @Token)";

    private static readonly string[] InsertNames = ["@Signature", "@Token"];

    internal static string FindSql(SqlDialect sql) =>
        $"SELECT token FROM token_signatures WHERE signature IN ({sql.TextValues("@Signatures")})";

    /// <summary>Adds the tokens written in the caller's transaction (each once, however many rows hold it).</summary>
    public static Task AddAsync(DbSession session, IEnumerable<string> tokens, CancellationToken ct)
    {
        var rows = tokens.Distinct(StringComparer.Ordinal)
            .SelectMany(t => Blocking.MisspellingSignatures(t).Select(s => (Signature: s, Token: t)))
            .OrderBy(r => r.Signature, StringComparer.Ordinal)
            .ToList();
        return rows.Count == 0
            ? Task.CompletedTask
            : session.ExecuteEachAsync(InsertSql(session.Dialect), InsertNames, rows, (r, v) => (v[0], v[1]) = (r.Signature, r.Token), ct);
    }

    /// <summary>The stored tokens that could be a query token misspelt, each with its fewest edits to one.</summary>
    public static async Task<IReadOnlyList<(string Token, int Edits)>> MisspellingsAsync(
        DbSession session, IReadOnlyList<string> queryTokens, CancellationToken ct)
    {
        var probes = queryTokens.SelectMany(Blocking.MisspellingProbes).Distinct(StringComparer.Ordinal).ToList();
        if (probes.Count == 0) return [];
        var stored = await session.QueryRepeatedAsync<string>(FindSql(session.Dialect),
            [("@Signatures", JsonSerializer.Serialize(probes))], ct);
        return Blocking.Misspellings(queryTokens, stored);
    }
}
