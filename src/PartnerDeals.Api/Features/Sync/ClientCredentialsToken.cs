using System.Text.Json.Serialization;

namespace PartnerDeals.Api.Features.Sync;

/// <summary>
/// An OAuth 2 client-credentials access token (Salesforce, Microsoft Entra for Dataverse), fetched
/// once and reused until shortly before it expires or until the CRM says it is no longer valid.
/// Neither the secret nor the token is ever logged or written to a delivery's error.
/// </summary>
public sealed class ClientCredentialsToken(
    Func<HttpClient> client, string tokenUrl, IReadOnlyDictionary<string, string> form, TimeSpan defaultLifetime, TimeProvider clock)
{
    // Refresh a little early so a token never expires between being read and being used.
    private static readonly TimeSpan EarlyRefresh = TimeSpan.FromSeconds(60);

    private readonly SemaphoreSlim _fetching = new(1, 1);
    private (string Token, DateTimeOffset ExpiresAt)? _current;

    /// <summary>How many tokens were fetched: tests check caching with it.</summary>
    public int Fetches { get; private set; }

    public async Task<string> GetAsync(CancellationToken ct)
    {
        if (_current is { } cached && cached.ExpiresAt > clock.GetUtcNow()) return cached.Token;
        await _fetching.WaitAsync(ct);
        try
        {
            if (_current is { } fetched && fetched.ExpiresAt > clock.GetUtcNow()) return fetched.Token;
            using var http = client();
            using var response = await http.PostAsync(tokenUrl, new FormUrlEncodedContent(form), ct);
            if (!response.IsSuccessStatusCode)
            {
                // error and error_description (RFC 6749 §5.2) say what is wrong without echoing the credentials.
                var error = await ReadAsync(response, ct);
                throw new CrmSignInException(
                    $"The token endpoint answered {(int)response.StatusCode}: {error?.Error ?? "no error code"} {error?.Description}".TrimEnd(),
                    (int)response.StatusCode);
            }
            var token = await ReadAsync(response, ct);
            if (string.IsNullOrEmpty(token?.AccessToken)) throw new CrmSignInException("The token endpoint answered without an access_token.", (int)response.StatusCode);
            var lifetime = token.ExpiresIn is > 0 ? TimeSpan.FromSeconds(token.ExpiresIn.Value) : defaultLifetime;
            var expiresAt = clock.GetUtcNow() + (lifetime > EarlyRefresh * 2 ? lifetime - EarlyRefresh : lifetime / 2);
            _current = (token.AccessToken, expiresAt);
            Fetches++;
            return token.AccessToken;
        }
        finally
        {
            _fetching.Release();
        }
    }

    /// <summary>The CRM refused <paramref name="token"/>; the next <see cref="GetAsync"/> fetches a new one (unless another call already did).</summary>
    public void Invalidate(string token)
    {
        if (_current is { } cached && cached.Token == token) _current = null;
    }

    private static async Task<TokenResponse?> ReadAsync(HttpResponseMessage response, CancellationToken ct)
    {
        try
        {
            return await response.Content.ReadFromJsonAsync<TokenResponse>(ct);
        }
        catch (Exception e) when (e is System.Text.Json.JsonException or NotSupportedException or InvalidOperationException)
        {
            return null;
        }
    }

    private sealed record TokenResponse(
        [property: JsonPropertyName("access_token")] string? AccessToken,
        [property: JsonPropertyName("expires_in"), JsonNumberHandling(JsonNumberHandling.AllowReadingFromString)] long? ExpiresIn,
        [property: JsonPropertyName("error")] string? Error,
        [property: JsonPropertyName("error_description")] string? Description);
}
