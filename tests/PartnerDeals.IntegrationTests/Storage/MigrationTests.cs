using Microsoft.Extensions.Logging.Abstractions;
using PartnerDeals.Api.Infrastructure.Data;

namespace PartnerDeals.IntegrationTests.Storage;

/// <summary>The schema: migrations applied again change nothing. See <see cref="StorageTest"/>.</summary>
[TestFixture(DatabaseProvider.Sqlite)]
[TestFixture(DatabaseProvider.SqlServer)]
public sealed class MigrationTests(DatabaseProvider provider) : StorageTest(provider)
{
    [Test]
    public async Task Migrations_AppliedTwice_LeaveTheDatabaseCurrent()
    {
        var migrator = new Migrator(Database, NullLogger<Migrator>.Instance);
        await migrator.ApplyAsync(CancellationToken.None);
        migrator.IsCurrent().ShouldBeTrue();
    }
}
