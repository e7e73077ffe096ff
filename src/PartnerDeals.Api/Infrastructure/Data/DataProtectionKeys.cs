using System.Xml.Linq;
using Microsoft.AspNetCore.DataProtection.Repositories;

namespace PartnerDeals.Api.Infrastructure.Data;

/// <summary>
/// The Data Protection key ring in the <c>data_protection_keys</c> table, so every instance on the database
/// reads the same keys and can unprotect what another protected. Data Protection calls these synchronously,
/// and rarely (on start and when it rolls a key), so they block on the database call.
/// </summary>
public sealed class DataProtectionKeys(Database database, TimeProvider clock) : IXmlRepository
{
    private const string AllSql = "SELECT xml FROM data_protection_keys ORDER BY created_at, friendly_name";

    private const string InsertSql = """
        INSERT INTO data_protection_keys (friendly_name, xml, created_at) VALUES (@FriendlyName, @Xml, @CreatedAt)
        """;

    public IReadOnlyCollection<XElement> GetAllElements() =>
        database.ReadAsync(async session => (await session.QueryAsync<string>(AllSql, null, CancellationToken.None)).Select(x => XElement.Parse(x)).ToList(),
            CancellationToken.None).GetAwaiter().GetResult();

    public void StoreElement(XElement element, string friendlyName) => StoreAsync(element, friendlyName).GetAwaiter().GetResult();

    private async Task StoreAsync(XElement element, string friendlyName)
    {
        await using var connection = await database.OpenAsync(CancellationToken.None);
        await using var session = await database.BeginWriteAsync(connection, CancellationToken.None);
        await session.ExecuteAsync(InsertSql,
            new { FriendlyName = friendlyName, Xml = element.ToString(SaveOptions.DisableFormatting), CreatedAt = clock.GetUtcNow() }, CancellationToken.None);
        await session.CommitAsync();
    }
}
