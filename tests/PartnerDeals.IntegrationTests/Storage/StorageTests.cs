using System.Data.Common;
using Dapper;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;
using PartnerDeals.Api.Features.ApiKeys;
using PartnerDeals.Api.Features.Audit;
using PartnerDeals.Api.Features.ConflictChecks;
using PartnerDeals.Api.Features.Fees;
using PartnerDeals.Api.Features.Opportunities;
using PartnerDeals.Api.Features.Partners;
using PartnerDeals.Api.Features.Registrations;
using PartnerDeals.Api.Features.Sync;
using PartnerDeals.Api.Features.Webhooks;
using PartnerDeals.Api.Infrastructure.Auth;
using PartnerDeals.Api.Infrastructure.Data;
using PartnerDeals.Matching;

namespace PartnerDeals.IntegrationTests.Storage;

/// <summary>
/// The data layer against each provider: the same tests, the same SQL. The SQL Server fixture runs
/// where a server is reachable (see <see cref="TestDatabase"/>) and is skipped with the reason otherwise.
/// </summary>
[TestFixture(DatabaseProvider.Sqlite)]
[TestFixture(DatabaseProvider.SqlServer)]
public sealed class StorageTests(DatabaseProvider provider)
{
    private TestDatabase _db = null!;
    private readonly FakeTimeProvider _clock = new(new DateTimeOffset(2026, 11, 23, 10, 0, 0, TimeSpan.Zero));
    private PartnerStore _partners = null!;
    private ApiKeyStore _keys = null!;
    private AuditTrail _audit = null!;

    private Database Database => _db.Database;

    /// <summary>The direct pipeline's candidates for a company, as the conflict check finds them.</summary>
    private async Task<IReadOnlyList<Candidate>> CandidatesAsync(Company query, BlockingSettings blocking)
    {
        return await Database.ReadAsync(async session =>
        {
            var misspellings = await MisspellingIndex.MisspellingsAsync(session, Blocking.TokensOf(query.Name), CancellationToken.None);
            return await OpportunityCandidates.FindAsync(session, query, misspellings, blocking, CancellationToken.None);
        }, CancellationToken.None);
    }

    [OneTimeSetUp]
    public async Task CreateDatabase()
    {
        _db = await TestDatabase.CreateAsync(provider);
        _audit = new AuditTrail(Database, _clock);
        _partners = new PartnerStore(Database);
        _keys = new ApiKeyStore(Database, _audit, _clock);
    }

    [OneTimeTearDown]
    public async Task DropDatabase()
    {
        if (_db is not null) await _db.DisposeAsync();
    }

    [Test]
    public async Task Migrations_AppliedTwice_LeaveTheDatabaseCurrent()
    {
        var migrator = new Migrator(Database, NullLogger<Migrator>.Instance);
        await migrator.ApplyAsync(CancellationToken.None);
        migrator.IsCurrent().ShouldBeTrue();
    }

    [Test]
    public async Task Partner_InsertedAndRead_RoundTripsEveryField()
    {
        var partner = NewPartner("Round Trip GmbH") with
        {
            Terms = new PartnerTerms
            {
                FeeModel = FeeModel.FixedFee, FeeAmount = 1234.5678m, FeeCurrency = "EUR", FeeTrigger = FeeTrigger.QualifiedIntroduction,
                PaymentNetDays = 45, ProtectionDays = 180, Exclusive = true,
            },
        };
        await InTransaction(tx => _partners.InsertAsync(tx, partner, CancellationToken.None));

        var read = await _partners.GetAsync(partner.Id, CancellationToken.None);

        read.ShouldNotBeNull();
        read.ShouldBeEquivalentTo(partner);
    }

    [Test]
    public async Task Partner_SameNameKey_IsAUniqueViolation()
    {
        await InTransaction(tx => _partners.InsertAsync(tx, NewPartner("Twin Ltd"), CancellationToken.None));
        var twin = await Should.ThrowAsync<Exception>(() =>
            InTransaction(tx => _partners.InsertAsync(tx, NewPartner("  twin   LTD "), CancellationToken.None)));
        SqlDialect.IsUniqueViolation(twin).ShouldBeTrue(twin.ToString());
    }

    [Test]
    public async Task Partner_UpdateAtReadVersion_WinsOnceThenLoses()
    {
        var partner = NewPartner("Versioned Inc");
        await InTransaction(tx => _partners.InsertAsync(tx, partner, CancellationToken.None));
        var changed = partner with { Tier = "gold", Version = 2 };

        var first = false;
        var second = true;
        await InTransaction(async tx => first = await _partners.UpdateAsync(tx, changed, expectedVersion: 1, CancellationToken.None));
        await InTransaction(async tx => second = await _partners.UpdateAsync(tx, changed with { Tier = "registered" }, expectedVersion: 1, CancellationToken.None));

        first.ShouldBeTrue();
        second.ShouldBeFalse();
        (await _partners.GetAsync(partner.Id, CancellationToken.None))!.Tier.ShouldBe("gold");
    }

    [Test]
    public async Task Partners_ListedByPages_AreFilteredAndComplete()
    {
        var tier = "tier-" + Guid.NewGuid().ToString("N")[..6];
        var ids = new List<Guid>();
        for (var i = 0; i < 5; i++)
        {
            _clock.Advance(TimeSpan.FromMilliseconds(1));
            var partner = NewPartner($"Paged {tier} {i}") with { Tier = tier };
            ids.Add(partner.Id);
            await InTransaction(tx => _partners.InsertAsync(tx, partner, CancellationToken.None));
        }

        var seen = new List<Guid>();
        Guid? after = null;
        do
        {
            var page = await _partners.ListAsync(PartnerType.Reseller, tier, PartnerStatus.Active, 2, after, CancellationToken.None);
            seen.AddRange(page.Items.Select(p => p.Id));
            after = page.NextCursor is null ? null : page.Items[^1].Id;
        } while (after is not null);

        seen.ShouldBe(ids);
    }

    [Test]
    public async Task ApiKey_FoundByItsSecretOnlyUntilRevoked()
    {
        var partner = NewPartner("Keyed Ltd");
        await InTransaction(tx => _partners.InsertAsync(tx, partner, CancellationToken.None));
        IssuedApiKey issued = null!;
        await InTransaction(async tx => issued = await _keys.IssueAsync(tx, "portal", ApiKeyRole.Partner, partner.Id, Actor.System, CancellationToken.None));

        var found = await _keys.FindActiveAsync(issued.Secret, CancellationToken.None);
        found.ShouldNotBeNull();
        found.PartnerId.ShouldBe(partner.Id);
        found.Role.ShouldBe("partner");
        var otherLastDigit = issued.Secret[^1] == '0' ? "1" : "0"; // a different secret, one character off
        (await _keys.FindActiveAsync(issued.Secret[..^1] + otherLastDigit, CancellationToken.None)).ShouldBeNull();

        var revoked = 0;
        await InTransaction(async tx => revoked = await _keys.RevokeAllOfPartnerAsync(tx, partner.Id, CancellationToken.None));
        revoked.ShouldBe(1);
        (await _keys.FindActiveAsync(issued.Secret, CancellationToken.None)).ShouldBeNull();
    }

    [Test]
    public async Task AuditEvents_AreRecordedInOrderAndCannotBeRewritten()
    {
        var entity = Guid.CreateVersion7();
        await InTransaction(tx => _audit.RecordAsync(tx, "partner", entity, "partner.created", Actor.System, new { name = "A" }, CancellationToken.None));
        _clock.Advance(TimeSpan.FromSeconds(1));
        await InTransaction(tx => _audit.RecordAsync(tx, "partner", entity, "partner.updated", Actor.System, new { name = "B" }, CancellationToken.None));

        var events = await _audit.ListAsync("partner", entity, 10, null, CancellationToken.None);
        events.Items.Select(e => e.Action).ShouldBe(["partner.created", "partner.updated"]);
        events.Items[0].OccurredAt.ShouldBe(new DateTimeOffset(2026, 11, 23, 10, 0, 0, TimeSpan.Zero), TimeSpan.FromSeconds(5));

        await using var connection = await Database.OpenAsync(CancellationToken.None);
        await Should.ThrowAsync<DbException>(() => connection.ExecuteAsync("UPDATE audit_events SET action = 'forged'"));
        await Should.ThrowAsync<DbException>(() => connection.ExecuteAsync("DELETE FROM audit_events"));
    }

    [Test]
    public async Task Opportunities_UpsertedInABatch_AreFoundByDomainKeyAcronymAndRareToken()
    {
        var store = new OpportunityStore(Database, _clock);
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
        var store = new OpportunityStore(Database, _clock);
        var tag = Guid.NewGuid().ToString("N")[..6];
        OpportunityWrite Write(string id, string name) =>
            new("hubspot", $"{tag}-{id}", new OpportunityFields { AccountName = name, Country = "DE", Status = OpportunityStatus.Open });

        await using (var writer = new ImportWriter(Database, store, _clock, chunkRows: 2))
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
        Assume.That(provider, Is.EqualTo(DatabaseProvider.Sqlite), "SQLite takes the write lock when the transaction begins; SQL Server does not.");
        (await TimeToYield()).ShouldBeLessThan(TimeSpan.FromMilliseconds(100), "no one waiting: no pause");

        await using var holder = await Database.OpenAsync(CancellationToken.None);
        var held = await Database.BeginWriteAsync(holder, CancellationToken.None);
        var waiter = Task.Run(async () =>
        {
            await using var connection = await Database.OpenAsync(CancellationToken.None);
            await using var tx = await Database.BeginWriteAsync(connection, CancellationToken.None);
            return true;
        });
        await Task.Delay(50);
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
        var store = new OpportunityStore(Database, _clock);
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
        Assume.That(provider, Is.EqualTo(DatabaseProvider.Sqlite), "On SQL Server the plan's read waits for the other writer's commit instead.");
        var store = new OpportunityStore(Database, _clock);
        var tag = Guid.NewGuid().ToString("N")[..6];
        OpportunityWrite Write(string id, string name) => new("hubspot", $"{tag}-{id}", new OpportunityFields { AccountName = name, Status = OpportunityStatus.Open });

        // A registration-sized writer holds the lock while the import plans its only chunk: the plan says
        // "create", and by the time the chunk is written the row exists.
        await using var connection = await Database.OpenAsync(CancellationToken.None);
        var other = await Database.BeginWriteAsync(connection, CancellationToken.None);
        await store.UpsertAsync(other, OpportunityStore.Prepare([Write("1", $"Other {tag} Ltd")]), CancellationToken.None);
        var writer = new ImportWriter(Database, store, _clock, chunkRows: 2);
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
        Assume.That(provider, Is.EqualTo(DatabaseProvider.Sqlite), "SQLite takes the write lock when the transaction begins; SQL Server does not.");
        var store = new OpportunityStore(Database, _clock);
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
        Assume.That(provider, Is.EqualTo(DatabaseProvider.Sqlite), "SQLite takes the write lock when the transaction begins; SQL Server does not.");
        var store = new OpportunityStore(Database, _clock);
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
        while (!Database.WritersAreWaiting) await Task.Delay(1);

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
        var writer = new ImportWriter(Database, store, _clock, chunkRows: 2, transactionRows: 100);
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
        var store = new OpportunityStore(Database, _clock);
        var tag = Guid.NewGuid().ToString("N")[..6];
        OpportunityWrite Write(string id, OpportunityStatus? status) =>
            new("hubspot", $"{tag}-{id}", new OpportunityFields { AccountName = $"Vantorel {tag} {id}", Status = status });

        // A transaction a chunk: a failing chunk rolls back the transaction it is in, with any chunks before it there.
        var writer = new ImportWriter(Database, store, _clock, chunkRows: 2, transactionRows: 2);
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
        await Task.Delay(500);
        second.IsCompleted.ShouldBeFalse("the second decision waits while the first is open");
        await first.CommitAsync();
        await second.WaitAsync(TimeSpan.FromSeconds(10));
    }

    [Test]
    public async Task Registrations_ConcurrentClaimsOnOneCompany_LeaveOneHolder()
    {
        var registrations = new RegistrationStore(Database);
        var conflicts = new ConflictStore(Database);
        var options = Options.Create(new RegistrationOptions());
        var checker = new ConflictChecker(Database, Options.Create(new MatchingOptions()), Options.Create(new PartnerDeals.Api.Features.ProductLines.ProductCatalogue()), _clock);
        var decisions = new RegistrationDecisions(checker, conflicts, registrations, _partners, new RegistrationJournal(_audit, Options.Create(new CrmOptions()), _clock), new FeeLedger(Database), _audit, new WebhookEvents(),
            options, _clock);
        var claimants = Enumerable.Range(0, 8).Select(i => NewPartner($"Claimant {Guid.NewGuid():N}")).ToList();
        foreach (var partner in claimants) await InTransaction(tx => _partners.InsertAsync(tx, partner, CancellationToken.None));

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

    [Test]
    public async Task Deliveries_ClaimedByConcurrentDispatchers_AreLeasedOnceAndKeepEachRegistrationsOrder()
    {
        // The only test here that journals to a CRM, so every salesforce delivery in the database is its own.
        var registrations = new RegistrationStore(Database);
        var crm = Options.Create(new CrmOptions { Salesforce = { InstanceUrl = "https://acme.my.salesforce.com" } });
        var checker = new ConflictChecker(Database, Options.Create(new MatchingOptions()), Options.Create(new PartnerDeals.Api.Features.ProductLines.ProductCatalogue()), _clock);
        var decisions = new RegistrationDecisions(checker, new ConflictStore(Database), registrations, _partners,
            new RegistrationJournal(_audit, crm, _clock), new FeeLedger(Database), _audit, new WebhookEvents(), Options.Create(new RegistrationOptions()), _clock);
        var partner = NewPartner($"Dispatch {Guid.NewGuid():N}");
        await InTransaction(tx => _partners.InsertAsync(tx, partner, CancellationToken.None));
        var created = new List<Registration>();
        for (var i = 0; i < 6; i++)
        {
            await InTransaction(async tx => created.Add((await decisions.SubmitAsync(tx, null,
                NewRegistration(partner.Id, $"Lease{i} {Guid.NewGuid():N}"[..16] + " AG", $"lease{i}-{Guid.NewGuid():N}.example"), partner, Actor.System, "registration.created", CancellationToken.None))!));
        }
        await InTransaction(tx => decisions.TransitionAsync(tx, created[0], created[0] with { Status = RegistrationStatus.Withdrawn, Reason = "withdrawn" },
            Actor.System, "registration.withdrawn", new { }, CancellationToken.None));
        var store = new DeliveryStore(Database, _audit);
        var now = _clock.GetUtcNow();
        var lease = TimeSpan.FromMinutes(2);

        var claims = await Task.WhenAll(Enumerable.Range(0, 4).Select(_ => Task.Run(() => store.ClaimAsync(Crms.Salesforce, 3, now, lease, CancellationToken.None))));

        var claimed = claims.SelectMany(c => c).ToList();
        claimed.Select(c => c.Id).Distinct().Count().ShouldBe(claimed.Count, "no delivery is leased twice");
        claimed.Count.ShouldBe(6, "one per registration: the withdrawal waits for the creation of its registration");
        claimed.ShouldAllBe(c => c.EventType == "registration.created");
        (await store.ClaimAsync(Crms.Salesforce, 10, now.AddSeconds(30), lease, CancellationToken.None)).ShouldBeEmpty("every lease is still held");

        var first = claimed.Single(c => c.Payload.Contains(created[0].Id.ToString("D")));
        (await store.RecordAsync(first, AttemptResult.Delivered, DeliveryStatus.Delivered, 1, now, now, now, CancellationToken.None)).ShouldBeTrue();
        (await store.RecordAsync(first, AttemptResult.Delivered, DeliveryStatus.Delivered, 1, now, now, now, CancellationToken.None))
            .ShouldBeFalse("a lease is recorded once");

        var afterLease = await store.ClaimAsync(Crms.Salesforce, 10, now + lease, lease, CancellationToken.None);
        afterLease.Count.ShouldBe(6, "five run-out leases and the withdrawal, now that the creation is delivered");
        afterLease.Count(c => c.EventType == "registration.withdrawn").ShouldBe(1);
    }

    private Registration NewRegistration(Guid partnerId, string company, string domain = "contested.example") => new()
    {
        Id = Ids.New(_clock.GetUtcNow()),
        PartnerId = partnerId,
        Status = RegistrationStatus.PendingReview,
        Verdict = Verdict.Clear,
        Reason = "awaiting_review",
        Customer = new Customer(company, domain, "DE", null, null),
        Contact = new Contact("Buyer", "buyer@contested.example", null),
        Deal = new Deal("Race", ["suite"], 1000m, "EUR", null, null),
        CoSell = new CoSell(CoSellParty.Partner, CoSellParty.Partner, CoSellParty.Partner),
        CoSelling = false,
        Icp = new IcpResult(true, null),
        PolicyVersion = "",
        ExtensionsGranted = 0,
        SubmittedAt = _clock.GetUtcNow(),
        CreatedAt = _clock.GetUtcNow(),
        UpdatedAt = _clock.GetUtcNow(),
    };

    private Partner NewPartner(string name) => new()
    {
        Id = Guid.CreateVersion7(_clock.GetUtcNow()),
        Name = name,
        Type = PartnerType.Reseller,
        Tier = "silver",
        Status = PartnerStatus.Active,
        ContactEmail = "a@b.example",
        Terms = PartnerTerms.Default,
        Version = 1,
        CreatedAt = _clock.GetUtcNow(),
        UpdatedAt = _clock.GetUtcNow(),
    };

    private async Task InTransaction(Func<DbSession, Task> work)
    {
        await using var connection = await Database.OpenAsync(CancellationToken.None);
        await using var tx = await Database.BeginWriteAsync(connection, CancellationToken.None);
        await work(tx);
        await tx.CommitAsync();
    }
}
