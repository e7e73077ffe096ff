using Microsoft.Extensions.Options;
using PartnerDeals.Api.Features.Audit;
using PartnerDeals.Api.Features.ConflictChecks;
using PartnerDeals.Api.Features.Fees;
using PartnerDeals.Api.Features.Registrations;
using PartnerDeals.Api.Features.Sync;
using PartnerDeals.Api.Features.Webhooks;
using PartnerDeals.Api.Infrastructure.Data;
using PartnerDeals.IntegrationTests.Support;

namespace PartnerDeals.IntegrationTests.Storage;

/// <summary>Decision transactions: never overlapping, and one holder of a contested company. See <see cref="StorageTest"/>.</summary>
[TestFixture(DatabaseProvider.Sqlite)]
[TestFixture(DatabaseProvider.SqlServer)]
public sealed class DecisionStorageTests(DatabaseProvider provider) : StorageTest(provider)
{
    [Test]
    public async Task DecisionTransactions_OnTwoConnections_NeverOverlap()
    {
        await using var firstConnection = await Database.OpenAsync(CancellationToken.None);
        await using var first = await Database.BeginDecisionAsync(firstConnection, CancellationToken.None);
        var second = Task.Run(async () =>
        {
            await using var connection = await Database.OpenAsync(CancellationToken.None);
            await using var tx = await Database.BeginDecisionAsync(connection, CancellationToken.None);
            await tx.CommitAsync();
        });
        // Known to be waiting, not merely not started yet: SQLite's writer waits to begin, SQL Server's for the application lock.
        await Eventually.UntilAsync(SecondIsWaitingAsync, "the second decision to wait for the first");
        second.IsCompleted.ShouldBeFalse("the second decision waits while the first is open");
        await first.CommitAsync();
        await second.WaitAsync(TimeSpan.FromSeconds(10));
    }

    private async Task<bool> SecondIsWaitingAsync()
    {
        if (Provider == DatabaseProvider.Sqlite) return Database.WritersAreWaiting;
        await using var connection = await Database.OpenAsync(CancellationToken.None);
        await using var command = connection.CreateCommand();
        command.CommandText = "SELECT COUNT(*) FROM sys.dm_tran_locks WHERE resource_type = 'APPLICATION' AND request_status = 'WAIT'";
        return (int)(await command.ExecuteScalarAsync())! > 0;
    }

    [Test]
    public async Task Registrations_ConcurrentClaimsOnOneCompany_LeaveOneHolder()
    {
        var registrations = new RegistrationStore(Database);
        var conflicts = new ConflictStore(Database);
        var options = Options.Create(new RegistrationOptions());
        var checker = new ConflictChecker(Database, Options.Create(new MatchingOptions()), Options.Create(new PartnerDeals.Api.Features.ProductLines.ProductCatalogue()), Clock);
        var webhooks = new PartnerWebhooks(new WebhookEvents());
        var decisions = new RegistrationDecisions(checker, conflicts, registrations, Partners, new RegistrationJournal(Audit, [new CrmOutbox(Options.Create(new CrmOptions())), webhooks], Clock), new FeeLedger(Database, [webhooks]), Audit,
            options, Options.Create(new PartnerDeals.Api.Features.ProductLines.ProductCatalogue()), Clock);
        var claimants = Enumerable.Range(0, 8).Select(i => NewPartner($"Claimant {Guid.NewGuid():N}")).ToList();
        foreach (var partner in claimants) await InTransaction(tx => Partners.InsertAsync(tx, partner, CancellationToken.None));

        var company = $"Contested {Guid.NewGuid():N}"[..20] + " Holdings";
        var decided = await Task.WhenAll(claimants.Select(partner => Task.Run(async () =>
        {
            await using var connection = await Database.OpenAsync(CancellationToken.None);
            await using var tx = await Database.BeginDecisionAsync(connection, CancellationToken.None);
            var registration = await decisions.SubmitAsync(tx, null, NewRegistration(partner.Id, company), partner, Actor.System, "registration.created",
                CancellationToken.None);
            await tx.CommitAsync();
            return registration!;
        })));

        decided.Count(r => r.Status == RegistrationStatus.Approved).ShouldBe(1);
        decided.Count(r => r.Status == RegistrationStatus.PendingReview && r.ConflictId is not null).ShouldBe(claimants.Count - 1);
        foreach (var registration in decided) (await registrations.GetAsync(registration.Id, CancellationToken.None)).ShouldNotBeNull();
    }
}
