using System.Data.Common;
using Dapper;
using PartnerDeals.Api.Features.Audit;
using PartnerDeals.Api.Infrastructure.Data;

namespace PartnerDeals.IntegrationTests.Storage;

/// <summary>The audit trail as stored: in order, and never rewritten. See <see cref="StorageTest"/>.</summary>
[TestFixture(DatabaseProvider.Sqlite)]
[TestFixture(DatabaseProvider.SqlServer)]
public sealed class AuditStorageTests(DatabaseProvider provider) : StorageTest(provider)
{
    [Test]
    public async Task AuditEvents_AreRecordedInOrderAndCannotBeRewritten()
    {
        var entity = Guid.CreateVersion7();
        await InTransaction(tx => Audit.RecordAsync(tx, "partner", entity, "partner.created", Actor.System, new { name = "A" }, CancellationToken.None));
        Clock.Advance(TimeSpan.FromSeconds(1));
        await InTransaction(tx => Audit.RecordAsync(tx, "partner", entity, "partner.updated", Actor.System, new { name = "B" }, CancellationToken.None));

        var events = await Audit.ListAsync("partner", entity, 10, null, CancellationToken.None);
        events.Items.Select(e => e.Action).ShouldBe(["partner.created", "partner.updated"]);
        events.Items[0].OccurredAt.ShouldBe(new DateTimeOffset(2026, 11, 23, 10, 0, 0, TimeSpan.Zero), TimeSpan.FromSeconds(5));

        await using var connection = await Database.OpenAsync(CancellationToken.None);
        await Should.ThrowAsync<DbException>(() => connection.ExecuteAsync("UPDATE audit_events SET action = 'forged'"));
        await Should.ThrowAsync<DbException>(() => connection.ExecuteAsync("DELETE FROM audit_events"));
    }
}
