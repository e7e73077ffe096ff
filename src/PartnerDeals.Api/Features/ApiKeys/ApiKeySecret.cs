using System.Security.Cryptography;
using System.Text;

namespace PartnerDeals.Api.Features.ApiKeys;

/// <summary>
/// A key looks like <c>pd_1a2b3c4d_&lt;64 hex digits&gt;</c>: a public lookup prefix and 256 random bits,
/// in hex so that a double-click selects the whole key.
/// Only the prefix and a SHA-256 hash are stored. A fast hash is enough here because the secret is
/// random and long; slow password hashes exist for guessable secrets.
/// </summary>
public static class ApiKeySecret
{
    /// <summary>Characters of the presented key used to find its row; the rest is verified by hash.</summary>
    public const int PrefixLength = 11;

    public static string Generate()
    {
        var prefix = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(4));
        var secret = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(32));
        return $"pd_{prefix}_{secret}";
    }

    public static string PrefixOf(string key) => key.Length <= PrefixLength ? key : key[..PrefixLength];

    public static string Hash(string key) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(key)));

    /// <summary>Compares in constant time so response timing says nothing about how much of a hash matched.</summary>
    public static bool Matches(string key, string storedHash) => MatchesHash(Hash(key), storedHash);

    public static bool MatchesHash(string hash, string storedHash) =>
        CryptographicOperations.FixedTimeEquals(Encoding.ASCII.GetBytes(hash), Encoding.ASCII.GetBytes(storedHash));
}
