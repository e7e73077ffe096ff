using Microsoft.Extensions.Time.Testing;
using PartnerDeals.Api.Features.ApiKeys;
using PartnerDeals.Api.Features.Audit;
using PartnerDeals.Api.Features.ConflictChecks;
using PartnerDeals.Api.Features.Partners;
using PartnerDeals.Api.Features.Registrations;
using PartnerDeals.Api.Infrastructure.Data;
using PartnerDeals.Matching;

namespace PartnerDeals.IntegrationTests.Storage;

/// <summary>
/// The data layer against each provider: the same tests, the same SQL, a database per fixture. The SQL Server
/// fixtures run where a server is reachable (see <see cref="TestDatabase"/>) and are skipped with the reason otherwise.
/// </summary>
public abstract class StorageTest(DatabaseProvider provider)
{
    private TestDatabase _db = null!;
    protected FakeTimeProvider Clock { get; } = new(new DateTimeOffset(2026, 11, 23, 10, 0, 0, TimeSpan.Zero));
    protected PartnerStore Partners { get; private set; } = null!;
    protected ApiKeyStore Keys { get; private set; } = null!;
    protected AuditTrail Audit { get; private set; } = null!;

    protected DatabaseProvider Provider => provider;

    protected Database Database => _db.Database;

    /// <summary>The direct pipeline's candidates for a company, as the conflict check finds them.</summary>
    protected async Task<IReadOnlyList<Candidate>> CandidatesAsync(Company query, BlockingSettings blocking)
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
        Audit = new AuditTrail(Database, Clock);
        Partners = new PartnerStore(Database);
        Keys = new ApiKeyStore(Database, Audit, Clock);
    }

    [OneTimeTearDown]
    public async Task DropDatabase()
    {
        if (_db is not null) await _db.DisposeAsync();
    }

    protected Registration NewRegistration(Guid partnerId, string company, string domain = "contested.example") => new()
    {
        Id = Ids.New(Clock.GetUtcNow()),
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
        SubmittedAt = Clock.GetUtcNow(),
        CreatedAt = Clock.GetUtcNow(),
        UpdatedAt = Clock.GetUtcNow(),
    };

    protected Partner NewPartner(string name) => new()
    {
        Id = Guid.CreateVersion7(Clock.GetUtcNow()),
        Name = name,
        Type = PartnerType.Reseller,
        Tier = "silver",
        Status = PartnerStatus.Active,
        ContactEmail = "a@b.example",
        Terms = PartnerTerms.Default,
        Version = 1,
        CreatedAt = Clock.GetUtcNow(),
        UpdatedAt = Clock.GetUtcNow(),
    };

    protected async Task InTransaction(Func<DbSession, Task> work)
    {
        await using var connection = await Database.OpenAsync(CancellationToken.None);
        await using var tx = await Database.BeginWriteAsync(connection, CancellationToken.None);
        await work(tx);
        await tx.CommitAsync();
    }

    protected async Task<T> InTransaction<T>(Func<DbSession, Task<T>> work)
    {
        var result = default(T);
        await InTransaction(async tx => { result = await work(tx); });
        return result!;
    }
}
