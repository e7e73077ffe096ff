using Microsoft.Extensions.Options;
using PartnerDeals.Api.Features.Audit;
using PartnerDeals.Api.Infrastructure.Auth;
using PartnerDeals.Api.Infrastructure.Data;

namespace PartnerDeals.Api.Features.ApiKeys;

/// <summary>
/// Makes sure somebody can call the API after start-up: installs <c>Auth:BootstrapAdminKey</c> when
/// given, and in Development on an empty database invents an admin key and prints it once, so a
/// newcomer can open Swagger and press Authorize; elsewhere, with no key at all, says in one line how to create one.
/// </summary>
public sealed class BootstrapKeys(
    Database database, ApiKeyStore keys, IOptions<AuthOptions> options, IHostEnvironment environment, ILogger<BootstrapKeys> logger)
{
    public async Task EnsureAsync(CancellationToken ct)
    {
        var configured = options.Value.BootstrapAdminKey;
        if (!string.IsNullOrEmpty(configured))
        {
            // A key that was installed and later revoked stays revoked: the hash is still there.
            if (await keys.ExistsAsync(configured, ct)) return;
            await IssueAsync("bootstrap admin key (configuration)", configured, ct);
            logger.LogInformation("Installed the bootstrap admin key from configuration");
            return;
        }

        if (!environment.IsDevelopment())
        {
            // Said once at start-up, in one line: otherwise a first deploy serves an API nobody can call, and says nothing.
            if (!await keys.AnyAsync(ct))
            {
                logger.LogWarning("No API key exists and Auth:BootstrapAdminKey is not set, so nobody can call the API: set "
                    + "Auth__BootstrapAdminKey to a secret of 32 to 256 characters (for example from `openssl rand -hex 32`) and restart; it becomes an admin key.");
            }
            return;
        }
        if (!await keys.AnyAsync(ct))
        {
            var issued = await IssueAsync("development admin key", null, ct);
            if (issued is null) return;
            // Straight to the console, not through logging: log sinks must never receive a key.
            Console.WriteLine($"""

                ==================================================================================
                 PartnerDeals development admin key (shown once; only its hash is stored):
                   {issued.Secret}
                 Open /swagger, press Authorize and paste it as X-Api-Key.
                ==================================================================================

                """);
        }
    }

    private async Task<IssuedApiKey?> IssueAsync(string name, string? secret, CancellationToken ct)
    {
        await using var connection = await database.OpenAsync(ct);
        await using var session = await database.BeginWriteAsync(connection, ct);
        try
        {
            var issued = await keys.IssueAsync(session, name, ApiKeyRole.Admin, null, Actor.System, ct, secret);
            await session.CommitAsync(ct);
            return issued;
        }
        catch (Exception e) when (SqlDialect.IsUniqueViolation(e))
        {
            // Another instance starting at the same moment installed the same key first.
            return null;
        }
    }
}
