using System.Diagnostics.Metrics;
using Dapper;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using PartnerDeals.Api.Features.Partners;
using PartnerDeals.Api.Infrastructure.Data;

namespace PartnerDeals.IntegrationTests.Storage;

/// <summary>
/// The decision writer on each provider: decisions queued while it is stopped land in one batch, each in its
/// own savepoint; one that fails or refuses is undone alone; a batch whose commit fails acknowledges none.
/// </summary>
[TestFixture(DatabaseProvider.Sqlite)]
[TestFixture(DatabaseProvider.SqlServer)]
public sealed class DecisionWriterTests(DatabaseProvider provider)
{
    private TestDatabase _db = null!;
    private PartnerStore _partners = null!;

    [OneTimeSetUp]
    public async Task CreateDatabase()
    {
        _db = await TestDatabase.CreateAsync(provider);
        _partners = new PartnerStore(_db.Database);
    }

    [OneTimeTearDown]
    public async Task DropDatabase()
    {
        if (_db is not null) await _db.DisposeAsync();
    }

    [Test]
    public async Task Batch_WithAFailingAndARefusedDecision_CommitsTheOthers()
    {
        using var meters = new MeterFactory();
        var taken = Unique("Taken");
        await Insert(NewWriter(meters), taken);
        var writer = NewWriter(meters);

        var first = writer.DecideAsync(async tx => { await _partners.InsertAsync(tx, NewPartner(Unique("First")), CancellationToken.None); return Decided<int>.Kept(1); }, CancellationToken.None);
        var duplicate = writer.DecideAsync(async tx => { await _partners.InsertAsync(tx, NewPartner(taken), CancellationToken.None); return Decided<int>.Kept(2); }, CancellationToken.None);
        var refusedName = Unique("Refused");
        var refused = writer.DecideAsync(async tx => { await _partners.InsertAsync(tx, NewPartner(refusedName), CancellationToken.None); return Decided<int>.Discarded(3); }, CancellationToken.None);
        var lastName = Unique("Last");
        var last = writer.DecideAsync(async tx => { await _partners.InsertAsync(tx, NewPartner(lastName), CancellationToken.None); return Decided<int>.Kept(4); }, CancellationToken.None);
        await RunUntilAsync(writer, first, duplicate, refused, last);

        (await first).ShouldBe(1);
        (await Should.ThrowAsync<Exception>(duplicate)).ShouldSatisfyAllConditions(e => SqlDialect.IsUniqueViolation(e).ShouldBeTrue(e.Message));
        (await refused).ShouldBe(3, "a refusal answers, but its writes are rolled back");
        (await last).ShouldBe(4);
        (await CountAsync(refusedName)).ShouldBe(0);
        (await CountAsync(lastName)).ShouldBe(1);
        (await CountAsync(taken)).ShouldBe(1);
    }

    [Test]
    public async Task Batch_WhoseCommitFails_AcknowledgesNone()
    {
        if (provider != DatabaseProvider.Sqlite) Assert.Ignore("A deferred constraint that fails at commit is set up with SQLite's PRAGMA defer_foreign_keys.");
        using var meters = new MeterFactory();
        var writer = NewWriter(meters);
        var goodName = Unique("Innocent");
        var good = writer.DecideAsync(async tx => { await _partners.InsertAsync(tx, NewPartner(goodName), CancellationToken.None); return Decided<int>.Kept(1); }, CancellationToken.None);
        // A fee of no registration, with foreign keys checked only at commit: the commit fails.
        var poison = writer.DecideAsync(async tx =>
        {
            await tx.ExecuteAsync("PRAGMA defer_foreign_keys = ON", null, CancellationToken.None);
            await tx.ExecuteAsync("""
                INSERT INTO fees (id, registration_id, partner_id, fee_trigger, fee_model, amount, currency, accrued_at, due_at)
                VALUES (@Id, @Missing, @Missing, 'closed_won', 'fixed_fee', '1', 'EUR', '2026-11-01', '2026-11-01')
                """, new { Id = Guid.NewGuid().ToString(), Missing = Guid.NewGuid().ToString() }, CancellationToken.None);
            return Decided<int>.Kept(2);
        }, CancellationToken.None);
        await writer.StartAsync(CancellationToken.None);
        try
        {
            await Should.ThrowAsync<DatabaseBusyException>(good);
            await Should.ThrowAsync<DatabaseBusyException>(poison);
            (await CountAsync(goodName)).ShouldBe(0);

            // The writer goes on, with a fresh connection.
            var afterName = Unique("After");
            (await writer.DecideAsync(async tx => { await _partners.InsertAsync(tx, NewPartner(afterName), CancellationToken.None); return Decided<int>.Kept(3); },
                CancellationToken.None)).ShouldBe(3);
            (await CountAsync(afterName)).ShouldBe(1);
        }
        finally
        {
            await writer.StopAsync(CancellationToken.None);
        }
    }

    [Test]
    public async Task Queue_BeyondItsBound_Refuses503AtOnceAndLosesNothing()
    {
        using var meters = new MeterFactory();
        var writer = NewWriter(meters, maxQueue: 3);
        var names = Enumerable.Range(0, 5).Select(i => Unique($"Queued {i}")).ToList();
        var decisions = names.Select(n => writer.DecideAsync(async tx => { await _partners.InsertAsync(tx, NewPartner(n), CancellationToken.None); return Decided<int>.Kept(1); }, CancellationToken.None)).ToList();

        decisions[3].IsFaulted.ShouldBeTrue("refused before the writer even ran");
        decisions[4].Exception!.InnerException.ShouldBeOfType<DatabaseBusyException>();
        await RunUntilAsync(writer, decisions.Take(3).ToArray());
        for (var i = 0; i < 5; i++) (await CountAsync(names[i])).ShouldBe(i < 3 ? 1 : 0);
    }

    private DecisionWriter NewWriter(IMeterFactory meters, int maxQueue = 512) =>
        new(_db.Database, Options.Create(new DecisionOptions { MaxBatch = 64, MaxQueue = maxQueue }), meters, NullLogger<DecisionWriter>.Instance);

    /// <summary>Starts the writer (everything queued so far is one batch), waits for the decisions, stops it.</summary>
    private static async Task RunUntilAsync(DecisionWriter writer, params Task[] decisions)
    {
        await writer.StartAsync(CancellationToken.None);
        try
        {
            await Task.WhenAny(Task.WhenAll(decisions), Task.Delay(TimeSpan.FromSeconds(30)));
        }
        finally
        {
            await writer.StopAsync(CancellationToken.None);
        }
    }

    private async Task Insert(DecisionWriter writer, string name)
    {
        var done = writer.DecideAsync(async tx => { await _partners.InsertAsync(tx, NewPartner(name), CancellationToken.None); return Decided<int>.Kept(0); }, CancellationToken.None);
        await RunUntilAsync(writer, done);
        await done;
    }

    private async Task<int> CountAsync(string name)
    {
        await using var connection = await _db.Database.OpenAsync(CancellationToken.None);
        return await connection.ExecuteScalarAsync<int>("SELECT COUNT(*) FROM partners WHERE name = @Name", new { Name = name });
    }

    private static string Unique(string name) => $"{name} {Guid.NewGuid():N}";

    private static Partner NewPartner(string name) => new()
    {
        Id = Guid.CreateVersion7(),
        Name = name,
        Type = PartnerType.Reseller,
        Tier = "silver",
        Status = PartnerStatus.Active,
        ContactEmail = "a@b.example",
        Terms = PartnerTerms.Default,
        Version = 1,
        CreatedAt = DateTimeOffset.UtcNow,
        UpdatedAt = DateTimeOffset.UtcNow,
    };

    private sealed class MeterFactory : IMeterFactory
    {
        private readonly List<Meter> _meters = [];

        public Meter Create(MeterOptions options)
        {
            var meter = new Meter(options);
            _meters.Add(meter);
            return meter;
        }

        public void Dispose()
        {
            foreach (var meter in _meters) meter.Dispose();
        }
    }
}
