using PartnerDeals.Api.Features.Opportunities;
using PartnerDeals.Api.Infrastructure.Data;
using PartnerDeals.IntegrationTests.Support;
using PartnerDeals.Matching;

namespace PartnerDeals.IntegrationTests.Storage;

/// <summary>The direct pipeline as stored: batch upserts and their index, the import writer's chunks, plans and group commits. See <see cref="StorageTest"/>.</summary>
[TestFixture(DatabaseProvider.Sqlite)]
[TestFixture(DatabaseProvider.SqlServer)]
public sealed class OpportunityStorageTests(DatabaseProvider provider) : StorageTest(provider)
{
    [Test]
    public async Task Opportunities_UpsertedInABatch_AreFoundByDomainKeyAcronymAndRareToken()
    {
        var store = new OpportunityStore(Database, Clock);
        var tag = Guid.NewGuid().ToString("N")[..6];
        OpportunityWrite Write(string id, string name, string? domain, OpportunityStatus status = OpportunityStatus.Open) =>
            new("salesforce", $"{tag}-{id}", new OpportunityFields { AccountName = name, AccountDomain = domain, Country = "US", Status = status });

        IReadOnlyList<(UpsertOutcome Outcome, Guid Id)> first = [];
        await InTransaction(async tx => first = await store.UpsertAsync(tx, OpportunityStore.Prepare([
            Write("1", $"Zyphorian {tag} Systems Inc.", $"https://zyphorian{tag}.com"),
            Write("2", $"Quantelvo {tag} Business Machines", null),
            Write("3", $"Lostwell {tag} Corp", null, OpportunityStatus.Lost),
        ]), CancellationToken.None));
        IReadOnlyList<(UpsertOutcome Outcome, Guid Id)> second = [];
        await InTransaction(async tx => second = await store.UpsertAsync(tx, OpportunityStore.Prepare([Write("1", $"Zyphorian {tag} Systems AG", $"zyphorian{tag}.com")]),
            CancellationToken.None));

        first.Select(o => o.Outcome).ShouldBe([UpsertOutcome.Created, UpsertOutcome.Created, UpsertOutcome.Created]);
        second.ShouldBe([(UpsertOutcome.Updated, first[0].Id)]);
        var blocking = new BlockingSettings();
        async Task<IEnumerable<string>> Found(Company query) =>
            (await CandidatesAsync(query, blocking)).Select(c => c.ExternalId!);

        (await Found(Company.From("Anything", $"sales@zyphorian{tag}.com", "US"))).ShouldBe([$"{tag}-1"]);
        (await Found(Company.From($"ZYPHORIAN-{tag.ToUpperInvariant()} SYSTEMS", null, "US"))).ShouldContain($"{tag}-1");
        (await Found(Company.From($"Quantelvo {tag}", null, "US"))).ShouldContain($"{tag}-2");
        (await Found(Company.From($"Lostwell {tag}", null, "US"))).ShouldNotContain($"{tag}-3"); // lost is history
        (await store.GetAsync("salesforce", $"{tag}-1", CancellationToken.None))!.AccountName.ShouldBe($"Zyphorian {tag} Systems AG");
        (await store.DeleteAsync("salesforce", $"{tag}-1", CancellationToken.None)).ShouldBeTrue();
        (await Found(Company.From("Anything", $"zyphorian{tag}.com", "US"))).ShouldBeEmpty();
    }

    [Test]
    public async Task ImportWriter_RowRepeatedInALaterChunk_IsCreatedOnceThenUpdatedAndFoundByItsLastName()
    {
        var store = new OpportunityStore(Database, Clock);
        var tag = Guid.NewGuid().ToString("N")[..6];
        OpportunityWrite Write(string id, string name) =>
            new("hubspot", $"{tag}-{id}", new OpportunityFields { AccountName = name, Country = "DE", Status = OpportunityStatus.Open });

        await using (var writer = new ImportWriter(Database, store, Clock, chunkRows: 2))
        {
            // Chunks of two: [1, 2] [3, 1] [4] — row 1 comes back in the second chunk under a new name.
            foreach (var write in new[]
                     {
                         Write("1", $"Obsolvian {tag} GmbH"), Write("2", $"Brennquist {tag} AG"),
                         Write("3", $"Tarvelund {tag} AG"), Write("1", $"Quorvane {tag} GmbH"), Write("4", $"Ilmaryn {tag} Oy"),
                     })
            {
                await writer.AddAsync(write, CancellationToken.None);
            }
            await writer.CompleteAsync(CancellationToken.None);

            (writer.Created, writer.Updated).ShouldBe((4, 1));
            writer.Transactions.ShouldBeGreaterThanOrEqualTo(1);
            writer.LongestTransaction.ShouldBe(TimeSpan.Zero, "timed on the service's clock, which this test holds still");
        }

        (await store.GetAsync("hubspot", $"{tag}-1", CancellationToken.None))!.AccountName.ShouldBe($"Quorvane {tag} GmbH");
        (await store.GetAsync("hubspot", $"{tag}-4", CancellationToken.None)).ShouldNotBeNull();
        var blocking = new BlockingSettings();
        async Task<IEnumerable<string>> Found(string name) =>
            (await CandidatesAsync(Company.From(name, null, "DE"), blocking)).Select(c => c.ExternalId!);
        // By the name's own token alone: the tag is a token every row of this test shares.
        (await Found("Quorvane")).ShouldContain($"{tag}-1");
        (await Found("Obsolvian")).ShouldNotContain($"{tag}-1");
    }

    [Test]
    public async Task BulkWriter_BetweenChunks_LetsAWaitingWriterTakeTheLockFirst()
    {
        Assume.That(Provider, Is.EqualTo(DatabaseProvider.Sqlite), "SQLite takes the write lock when the transaction begins; SQL Server does not.");
        (await TimeToYield()).ShouldBeLessThan(TimeSpan.FromMilliseconds(100), "no one waiting: no pause");

        await using var holder = await Database.OpenAsync(CancellationToken.None);
        var held = await Database.BeginWriteAsync(holder, CancellationToken.None);
        var waiter = Task.Run(async () =>
        {
            await using var connection = await Database.OpenAsync(CancellationToken.None);
            await using var tx = await Database.BeginWriteAsync(connection, CancellationToken.None);
            return true;
        });
        await Eventually.UntilAsync(() => Database.WritersAreWaiting, "the other writer to wait for the lock");
        var yielding = Database.LetWaitingWritersGoFirstAsync(CancellationToken.None);
        await Task.Delay(100);
        yielding.IsCompleted.ShouldBeFalse("a writer is still waiting for the lock");

        await held.CommitAsync();
        await held.DisposeAsync();
        await yielding.WaitAsync(TimeSpan.FromSeconds(5));
        (await waiter.WaitAsync(TimeSpan.FromSeconds(5))).ShouldBeTrue();

        async Task<TimeSpan> TimeToYield()
        {
            var started = System.Diagnostics.Stopwatch.GetTimestamp();
            await Database.LetWaitingWritersGoFirstAsync(CancellationToken.None);
            return System.Diagnostics.Stopwatch.GetElapsedTime(started);
        }
    }

    [TestCase(false, TestName = "UpsertPlan_WhoseRowWasCreatedMeanwhile_IsStaleAndWritesNothing")]
    [TestCase(true, TestName = "UpsertPlan_WhoseRowWasUpdatedMeanwhile_IsStaleAndWritesNothing")]
    public async Task UpsertPlan_WhoseRowChangedMeanwhile_IsStaleAndWritesNothing(bool existedWhenPlanned)
    {
        var store = new OpportunityStore(Database, Clock);
        var tag = Guid.NewGuid().ToString("N")[..6];
        OpportunityWrite Write(string name) => new("salesforce", $"{tag}-1", new OpportunityFields { AccountName = name, Status = OpportunityStatus.Open });
        if (existedWhenPlanned)
        {
            await InTransaction(tx => store.UpsertAsync(tx, OpportunityStore.Prepare([Write($"Firstix{tag} Ltd")]), CancellationToken.None));
        }

        var plan = await Database.ReadAsync(session => store.PlanAsync(session, OpportunityStore.Prepare([Write($"Plannix{tag} Ltd")]), CancellationToken.None),
            CancellationToken.None);
        await InTransaction(tx => store.UpsertAsync(tx, OpportunityStore.Prepare([Write($"Meanwix{tag} Ltd")]), CancellationToken.None));

        IReadOnlyList<(UpsertOutcome, Guid)>? written = [];
        await InTransaction(async tx => written = await store.WriteAsync(tx, plan, CancellationToken.None));

        written.ShouldBeNull();
        (await store.GetAsync("salesforce", $"{tag}-1", CancellationToken.None))!.AccountName.ShouldBe($"Meanwix{tag} Ltd");
        // Written, the stale plan would have indexed the planned name's tokens (and taken out the first name's again).
        var blocking = new BlockingSettings();
        (await CandidatesAsync(Company.From($"Plannix{tag}", null, null), blocking)).ShouldBeEmpty();
        (await CandidatesAsync(Company.From($"Meanwix{tag}", null, null), blocking)).Select(c => c.ExternalId)
            .ShouldBe([$"{tag}-1"]);
    }

    [Test]
    public async Task ImportWriter_ChunkPlannedBeforeAnotherWriterCreatedItsRows_UpdatesThemUnderTheLock()
    {
        Assume.That(Provider, Is.EqualTo(DatabaseProvider.Sqlite), "On SQL Server the plan's read waits for the other writer's commit instead.");
        var store = new OpportunityStore(Database, Clock);
        var tag = Guid.NewGuid().ToString("N")[..6];
        OpportunityWrite Write(string id, string name) => new("hubspot", $"{tag}-{id}", new OpportunityFields { AccountName = name, Status = OpportunityStatus.Open });

        // A registration-sized writer holds the lock while the import plans its only chunk: the plan says
        // "create", and by the time the chunk is written the row exists.
        await using var connection = await Database.OpenAsync(CancellationToken.None);
        var other = await Database.BeginWriteAsync(connection, CancellationToken.None);
        await store.UpsertAsync(other, OpportunityStore.Prepare([Write("1", $"Other {tag} Ltd")]), CancellationToken.None);
        var writer = new ImportWriter(Database, store, Clock, chunkRows: 2);
        await using (writer)
        {
            await writer.AddAsync(Write("1", $"Imported {tag} Ltd"), CancellationToken.None);
            await writer.AddAsync(Write("2", $"Second {tag} Ltd"), CancellationToken.None);
            await other.CommitAsync();
            await other.DisposeAsync();
            await writer.CompleteAsync(CancellationToken.None);
        }

        writer.StalePlans.ShouldBe(1);
        (writer.Created, writer.Updated).ShouldBe((1, 1));
        (await store.GetAsync("hubspot", $"{tag}-1", CancellationToken.None))!.AccountName.ShouldBe($"Imported {tag} Ltd");
        (await store.GetAsync("hubspot", $"{tag}-2", CancellationToken.None)).ShouldNotBeNull();
    }

    [Test]
    public async Task ImportWriter_ChunksPlannedWhileTheLockIsHeld_CommitInOneTransaction()
    {
        // The second chunk repeats the first chunk's first row: planned before the first was written, it
        // would insert the row again, goes stale, and the transaction's two chunks are written again.
        Assume.That(Provider, Is.EqualTo(DatabaseProvider.Sqlite), "SQLite takes the write lock when the transaction begins; SQL Server does not.");
        var store = new OpportunityStore(Database, Clock);
        var tag = Guid.NewGuid().ToString("N")[..6];

        var writer = await ImportWithBothChunksReady(store,
            i => new("hubspot", $"{tag}-{i % 3}", new OpportunityFields { AccountName = $"Grouped {tag} {i}", Status = OpportunityStatus.Open }));

        (writer.Created, writer.Updated, writer.Transactions, writer.StalePlans).ShouldBe((3, 1, 1, 1));
        (await store.GetAsync("hubspot", $"{tag}-0", CancellationToken.None))!.AccountName.ShouldBe($"Grouped {tag} 3");
        (await store.GetAsync("hubspot", $"{tag}-1", CancellationToken.None)).ShouldNotBeNull();
    }

    [Test]
    public async Task ImportWriter_WhileAnotherWriterWaits_CommitsAfterEachChunk()
    {
        Assume.That(Provider, Is.EqualTo(DatabaseProvider.Sqlite), "SQLite takes the write lock when the transaction begins; SQL Server does not.");
        var store = new OpportunityStore(Database, Clock);
        var tag = Guid.NewGuid().ToString("N")[..6];

        // A write transaction of this process waits throughout: on a file of its own, so that it never
        // takes this database's lock, and the import meets a waiting writer after every chunk.
        var elsewhere = $"Data Source={Path.Combine(Path.GetTempPath(), $"partnerdeals-elsewhere-{tag}.db")};Pooling=False";
        await using var holder = new Microsoft.Data.Sqlite.SqliteConnection(elsewhere);
        await holder.OpenAsync();
        var held = holder.BeginTransaction(deferred: false);
        await using var waiter = new Microsoft.Data.Sqlite.SqliteConnection(elsewhere + ";Default Timeout=60");
        await waiter.OpenAsync();
        var waiting = Task.Run(() => Database.BeginWriteAsync(waiter, CancellationToken.None));
        await Eventually.UntilAsync(() => Database.WritersAreWaiting, "the waiter to wait for the lock", every: TimeSpan.FromMilliseconds(1));

        // With nobody waiting, the two chunks would be committed together.
        var writer = await ImportWithBothChunksReady(store,
            i => new("hubspot", $"{tag}-{i}", new OpportunityFields { AccountName = $"Yielding {tag} {i}", Status = OpportunityStatus.Open }));

        (writer.Created, writer.Transactions).ShouldBe((4, 2));
        held.Commit();
        await (await waiting.WaitAsync(TimeSpan.FromSeconds(30))).DisposeAsync();
        File.Delete(Path.Combine(Path.GetTempPath(), $"partnerdeals-elsewhere-{tag}.db"));
    }

    /// <summary>
    /// Imports four rows in chunks of two, both planned while another writer holds this database's lock,
    /// so that both are ready when the import gets it.
    /// </summary>
    private async Task<ImportWriter> ImportWithBothChunksReady(OpportunityStore store, Func<int, OpportunityWrite> row)
    {
        await using var connection = await Database.OpenAsync(CancellationToken.None);
        var other = await Database.BeginWriteAsync(connection, CancellationToken.None);
        var writer = new ImportWriter(Database, store, Clock, chunkRows: 2, transactionRows: 100);
        await using (writer)
        {
            for (var i = 0; i < 4; i++) await writer.AddAsync(row(i), CancellationToken.None);
            await other.CommitAsync();
            await other.DisposeAsync();
            await writer.CompleteAsync(CancellationToken.None);
        }
        return writer;
    }

    [Test]
    public async Task ImportWriter_ChunkThatFails_StopsTheImportAndLeavesEarlierTransactionsCommitted()
    {
        var store = new OpportunityStore(Database, Clock);
        var tag = Guid.NewGuid().ToString("N")[..6];
        OpportunityWrite Write(string id, OpportunityStatus? status) =>
            new("hubspot", $"{tag}-{id}", new OpportunityFields { AccountName = $"Vantorel {tag} {id}", Status = status });

        // A transaction a chunk: a failing chunk rolls back the transaction it is in, with any chunks before it there.
        var writer = new ImportWriter(Database, store, Clock, chunkRows: 2, transactionRows: 2);
        await using (writer)
        {
            await writer.AddAsync(Write("1", OpportunityStatus.Open), CancellationToken.None);
            await writer.AddAsync(Write("2", OpportunityStatus.Won), CancellationToken.None);
            // The endpoint validates every row before it gets here; a row without a status cannot be written.
            await writer.AddAsync(Write("3", null), CancellationToken.None);
            // The chunk fails when it is planned, or when it is written; either way the import stops with it.
            await Should.ThrowAsync<InvalidOperationException>(async () =>
            {
                await writer.AddAsync(Write("4", OpportunityStatus.Open), CancellationToken.None);
                await writer.CompleteAsync(CancellationToken.None);
            });
        }

        (writer.Created, writer.Updated).ShouldBe((2, 0));
        (await store.GetAsync("hubspot", $"{tag}-2", CancellationToken.None)).ShouldNotBeNull();
        (await store.GetAsync("hubspot", $"{tag}-4", CancellationToken.None)).ShouldBeNull();
    }
}
