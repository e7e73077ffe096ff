using Microsoft.Extensions.Options;
using PartnerDeals.Api.Features.Audit;
using PartnerDeals.Api.Features.ConflictChecks;
using PartnerDeals.Api.Features.Fees;
using PartnerDeals.Api.Features.Outbox;
using PartnerDeals.Api.Features.Registrations;
using PartnerDeals.Api.Features.Sync;
using PartnerDeals.Api.Features.Webhooks;
using PartnerDeals.Api.Infrastructure.Data;

namespace PartnerDeals.IntegrationTests.Storage;

/// <summary>CRM deliveries as stored: leased once by concurrent dispatchers, in each registration's order. See <see cref="StorageTest"/>.</summary>
[TestFixture(DatabaseProvider.Sqlite)]
[TestFixture(DatabaseProvider.SqlServer)]
public sealed class DeliveryStorageTests(DatabaseProvider provider) : StorageTest(provider)
{
    [Test]
    public async Task Deliveries_ClaimedByConcurrentDispatchers_AreLeasedOnceAndKeepEachRegistrationsOrder()
    {
        // The only test here that journals to a CRM, so every salesforce delivery in the database is its own.
        var registrations = new RegistrationStore(Database);
        var crm = Options.Create(new CrmOptions { Salesforce = { InstanceUrl = "https://acme.my.salesforce.com" } });
        var checker = new ConflictChecker(Database, Options.Create(new MatchingOptions()), Options.Create(new PartnerDeals.Api.Features.ProductLines.ProductCatalogue()), Clock);
        var webhooks = new PartnerWebhooks(new WebhookEvents());
        var decisions = new RegistrationDecisions(checker, new ConflictStore(Database), registrations, Partners,
            new RegistrationJournal(Audit, [new CrmOutbox(crm), webhooks], Clock), new FeeLedger(Database, [webhooks]), Audit, Options.Create(new RegistrationOptions()),
            Options.Create(new PartnerDeals.Api.Features.ProductLines.ProductCatalogue()), Clock);
        var partner = NewPartner($"Dispatch {Guid.NewGuid():N}");
        await InTransaction(tx => Partners.InsertAsync(tx, partner, CancellationToken.None));
        var created = new List<Registration>();
        for (var i = 0; i < 6; i++)
        {
            await InTransaction(async tx => created.Add((await decisions.SubmitAsync(tx, null,
                NewRegistration(partner.Id, $"Lease{i} {Guid.NewGuid():N}"[..16] + " AG", $"lease{i}-{Guid.NewGuid():N}.example"), partner, Actor.System, "registration.created", CancellationToken.None))!));
        }
        await InTransaction(tx => decisions.ApplyAsync(tx, created[0], created[0] with { Status = RegistrationStatus.Withdrawn, Reason = "withdrawn" },
            Actor.System, "registration.withdrawn", new { }, CancellationToken.None));
        var store = new OutboxStore(Database);
        var salesforce = new Destination(CrmSender.ChannelName, Crms.Salesforce);
        var now = Clock.GetUtcNow();
        var lease = TimeSpan.FromMinutes(2);
        Task<IReadOnlyList<LeasedDelivery>> ClaimAsync(int limit, DateTimeOffset at) =>
            InTransaction(tx => store.LeaseAsync(tx, salesforce, limit, at, lease, CancellationToken.None));
        Task<bool> RecordAsync(LeasedDelivery delivery) => InTransaction(tx => OutboxStore.RecordAsync(tx, delivery,
            new Sent("delivered", AttemptVerdict.Delivered, now, 0), DeliveryStates.Delivered, 1, now, now, CancellationToken.None));

        var claims = await Task.WhenAll(Enumerable.Range(0, 4).Select(_ => Task.Run(() => ClaimAsync(3, now))));

        var claimed = claims.SelectMany(c => c).ToList();
        claimed.Select(c => c.Id).Distinct().Count().ShouldBe(claimed.Count, "no delivery is leased twice");
        claimed.Count.ShouldBe(6, "one per registration: the withdrawal waits for the creation of its registration");
        claimed.ShouldAllBe(c => c.EventType == "registration.created");
        (await ClaimAsync(10, now.AddSeconds(30))).ShouldBeEmpty("every lease is still held");

        var first = claimed.Single(c => c.Payload.Contains(created[0].Id.ToString("D")));
        (await RecordAsync(first)).ShouldBeTrue();
        (await RecordAsync(first)).ShouldBeFalse("a lease is recorded once");

        var afterLease = await ClaimAsync(10, now + lease);
        afterLease.Count.ShouldBe(6, "five run-out leases and the withdrawal, now that the creation is delivered");
        afterLease.Count(c => c.EventType == "registration.withdrawn").ShouldBe(1);
    }
}
