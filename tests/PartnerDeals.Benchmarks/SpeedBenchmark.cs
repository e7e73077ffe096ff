using System.Diagnostics;
using System.Globalization;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using PartnerDeals.Api.Features.ConflictChecks;
using PartnerDeals.Api.Features.Opportunities;
using PartnerDeals.Api.Features.Registrations;
using PartnerDeals.Api.Infrastructure.Data;
using PartnerDeals.Matching;

namespace PartnerDeals.Benchmarks;

/// <summary>
/// Fills a fresh SQLite file with generated opportunities through the product's own store (10,000
/// per transaction, as the CSV import writes them) and times conflict checks through the product's
/// own checker, first at 10,000 rows and then at the full size, with the same queries; then writes a
/// tenth more at 1,000 per transaction, as the batch endpoint does.
/// </summary>
public static class SpeedBenchmark
{
    private static readonly string[] Syllables =
    [
        "ra", "ve", "lo", "ta", "mi", "zen", "kor", "dal", "fi", "nex", "tor", "qua", "bel", "sol", "mar", "vin", "ka", "lu", "dro", "pex",
        "sa", "gri", "to", "hel", "cor", "vy", "ber", "lan", "ori", "tek", "mo", "zar", "pha", "ni", "ul", "sta", "ge", "bri", "xo", "fen",
    ];

    private static readonly string[] SharedWords =
    [
        "Global", "Solutions", "Bank", "Systems", "Technologies", "International", "Consulting", "Services", "Capital", "Energy",
        "Logistics", "Health", "Software", "Partners", "Industries", "Digital", "Foods", "Pharma", "Media", "Networks",
    ];

    private static readonly string[] LegalForms = ["Inc.", "GmbH", "Ltd", "S.A.", "LLC", "AG", "Pty Ltd", "K.K.", "plc", "B.V.", "S.p.A.", "Oy", ""];
    private static readonly string[] Countries = ["US", "DE", "GB", "FR", "JP", "AU", "NL", "IT", "FI", "BR", "IN", "CA"];
    private static readonly string[] Tlds = ["com", "de", "co.uk", "fr", "co.jp", "com.au", "nl", "it", "fi", "com.br", "in", "ca"];

    public static async Task RunAsync(int records, int checks)
    {
        var folder = Path.Combine(Path.GetTempPath(), "partnerdeals-speed-" + Guid.NewGuid().ToString("N")[..8]);
        var connectionString = $"Data Source={Path.Combine(folder, "speed.db")}";
        var database = new Database(Options.Create(new DatabaseOptions { ConnectionString = connectionString }));
        await new Migrator(database, NullLogger<Migrator>.Instance).ApplyAsync(CancellationToken.None);
        // As in the host: the write-ahead log is checkpointed in the background.
        using var checkpointer = new WalCheckpointer(database, TimeProvider.System, NullLogger<WalCheckpointer>.Instance);
        await checkpointer.StartAsync(CancellationToken.None);
        var store = new OpportunityStore(database, TimeProvider.System);
        var checker = new ConflictChecker(database, Options.Create(new MatchingOptions()),
            Options.Create(new PartnerDeals.Api.Features.ProductLines.ProductCatalogue()), TimeProvider.System);

        Console.WriteLine($"machine: {Environment.ProcessorCount} cores, {Environment.OSVersion}, .NET {Environment.Version}; SQLite synchronous=full, WAL");
        var random = new Random(20261123);
        // The first rows are kept, for the key timing and the queries; the rest are made as they are
        // written, as the product's import streams its file: a million rows held here made the collector
        // copy them on every pause, a cost of the benchmark and not of the product.
        var head = Generated(random, 0, Math.Min(100_000, records)).ToList();

        var keyed = Stopwatch.StartNew();
        foreach (var (name, domain, _) in head) { CompanyName.Normalise(name); Domains.CompanyDomain(domain); }
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"matching keys (normalise name, reduce domain): {head.Count / keyed.Elapsed.TotalSeconds:N0} records/s on one core"));

        var small = Math.Min(10_000, records);
        var queries = BuildQueries(head, small, checks, new Random(7));
        await IngestAsync(database, store, head.Take(small), 0, Import);
        var atSmall = await TimeChecksAsync(checker, queries);
        Report($"{small:N0} rows", atSmall);

        var seconds = await IngestAsync(database, store, head.Skip(small).Concat(Generated(random, head.Count, records)), small, Import);
        var atFull = await TimeChecksAsync(checker, queries);
        Report($"{records:N0} rows", atFull);

        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"ingest: {(records - small) / seconds:N0} opportunities/s over {records - small:N0} rows (through the CSV import's writer: chunks of {ImportWriter.ChunkRows:N0}, up to {ImportWriter.TransactionRows:N0} per transaction; {ImportTransactions:N0} transactions, the longest {LongestImportTransaction.TotalMilliseconds:F0} ms; collector pauses {CollectorPauses.TotalSeconds:F1} s of {seconds:F1} s)"));
        // Then as the batch endpoint writes: 1,000 per transaction, on top of the full table.
        var more = Math.Max(1_000, records / 10);
        var batchSeconds = await IngestAsync(database, store, Generated(random, records, records + more), records, 1_000);
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"ingest: {more / batchSeconds:N0} opportunities/s over {more:N0} more rows (1,000 per transaction, as the batch endpoint writes them)"));
        // Then an import while requests write: a one-row upsert asks for the write lock every 100 ms.
        var (contendedSeconds, upserts) = await IngestWhileUpsertingAsync(database, store, Generated(random, records + more, records + 2 * more), records + more);
        upserts.Sort();
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"ingest: {more / contendedSeconds:N0} opportunities/s over {more:N0} more rows through the import while a one-row upsert asked for the lock every 100 ms; the upserts took p50 {upserts[upserts.Count / 2]:F0} ms, p99 {upserts[(int)(upserts.Count * 0.99)]:F0} ms, longest {upserts[^1]:F0} ms ({upserts.Count} upserts; the import committed {ImportTransactions} transactions)"));
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"ratio p50 {atFull.P50 / atSmall.P50:F2}, p99 {atFull.P99 / atSmall.P99:F2} (t({records:N0}) / t({small:N0}))"));
        using var process = Process.GetCurrentProcess();
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"memory: working set {process.WorkingSet64 / 1048576.0:F0} MiB, peak {process.PeakWorkingSet64 / 1048576.0:F0} MiB, managed heap {GC.GetTotalMemory(false) / 1048576.0:F0} MiB"));
        Console.WriteLine($"database file: {new FileInfo(Path.Combine(folder, "speed.db")).Length / 1048576.0:F0} MiB");

        await checkpointer.StopAsync(CancellationToken.None);
        SqliteConnection.ClearAllPools();
        Directory.Delete(folder, recursive: true);
    }

    internal static (string, string?, string) Generate(Random random, int i)
    {
        // A brand from 2–4 syllables plus a serial-derived syllable keeps most brands rare, as real ones are.
        var parts = random.Next(2, 4);
        var brand = string.Concat(Enumerable.Range(0, parts).Select(_ => Syllables[random.Next(Syllables.Length)])) + Syllables[i % Syllables.Length];
        brand = char.ToUpperInvariant(brand[0]) + brand[1..];
        var words = random.Next(3) switch
        {
            0 => brand,
            1 => $"{brand} {SharedWords[random.Next(SharedWords.Length)]}",
            _ => $"{brand} {SharedWords[random.Next(SharedWords.Length)]} {SharedWords[random.Next(SharedWords.Length)]}",
        };
        var form = LegalForms[random.Next(LegalForms.Length)];
        var c = random.Next(Countries.Length);
        var domain = random.Next(10) < 8 ? $"{brand.ToLowerInvariant()}{i % 97}.{Tlds[c]}" : null;
        return ($"{words} {form}".Trim(), domain, Countries[c]);
    }

    /// <summary>Rows [from, to), made in order from the benchmark's one sequence of random numbers.</summary>
    internal static IEnumerable<(string Name, string? Domain, string Country)> Generated(Random random, int from, int to)
    {
        for (var i = from; i < to; i++) yield return Generate(random, i);
    }

    /// <summary>A third existing names under another legal form, a third with a typo, a third companies that are not there.</summary>
    /// <remarks>Each query with the stored name it must find at review or above (null: it must find nothing).</remarks>
    private static List<(Company Query, string? Expected)> BuildQueries(List<(string Name, string? Domain, string Country)> names, int among, int count, Random random)
    {
        var queries = new List<(Company, string?)>(count);
        for (var i = 0; i < count; i++)
        {
            var (name, domain, country) = names[random.Next(among)];
            var words = name.Split(' ');
            queries.Add((i % 3) switch
            {
                0 => (Company.From(words[0] + " Corporation", i % 2 == 0 ? domain : null, country), name),
                1 => (Company.From(words[0][..^2] + "x" + words[0][^1] + (words.Length > 1 ? " " + words[1] : ""), null, country), name),
                _ => (Company.From("Unheard Of " + Syllables[random.Next(Syllables.Length)] + "quo" + i, null, country), null),
            });
        }
        return queries;
    }

    /// <summary>The longest write transaction of the last ingest through the import's writer.</summary>
    internal static TimeSpan LongestImportTransaction { get; private set; }

    /// <summary>How long the garbage collector stopped the process during the last ingest (it stops the writer too).</summary>
    internal static TimeSpan CollectorPauses { get; private set; }

    /// <summary>The write transactions of the last ingest through the import's writer.</summary>
    internal static int ImportTransactions { get; private set; }

    /// <summary>Rows per transaction meaning "through the product's CSV import writer".</summary>
    internal const int Import = 0;

    /// <summary>
    /// Writes the rows, the first of them row number <c>from</c>, on bulk connections as the endpoints do, and
    /// answers the seconds it took: through the CSV import's writer when <see cref="Import"/>,
    /// any other size a batch at a time as the batch endpoint does.
    /// </summary>
    internal static async Task<double> IngestAsync(Database database, OpportunityStore store, IEnumerable<(string Name, string? Domain, string Country)> rows,
        int from, int perTransaction)
    {
        var writes = rows.Select((row, k) => Write(row, from + k));
        var paused = GC.GetTotalPauseDuration();
        var stopwatch = Stopwatch.StartNew();
        if (perTransaction == Import)
        {
            await using var writer = new ImportWriter(database, store, TimeProvider.System);
            var written = 0;
            foreach (var write in writes)
            {
                await writer.AddAsync(write, CancellationToken.None);
                if (++written % 100_000 == 0) Console.Error.Write($"\r  {from + written:N0} rows");
            }
            await writer.CompleteAsync(CancellationToken.None);
            LongestImportTransaction = writer.LongestTransaction;
            ImportTransactions = writer.Transactions;
        }
        else
        {
            foreach (var batch in writes.Chunk(perTransaction))
            {
                var prepared = OpportunityStore.Prepare(batch);
                await using var connection = await database.OpenBulkAsync(CancellationToken.None);
                await using var tx = await database.BeginWriteAsync(connection, CancellationToken.None);
                await store.UpsertAsync(tx, prepared, CancellationToken.None);
                await tx.CommitAsync();
            }
        }
        Console.Error.WriteLine();
        CollectorPauses = GC.GetTotalPauseDuration() - paused;
        return stopwatch.Elapsed.TotalSeconds;
    }

    /// <summary>
    /// Imports the rows while a one-row upsert, as a CRM's single updates arrive, asks for the write lock
    /// every 100 ms; answers the import's seconds and each upsert's milliseconds from asking to commit.
    /// </summary>
    private static async Task<(double Seconds, List<double> Upserts)> IngestWhileUpsertingAsync(Database database, OpportunityStore store,
        IEnumerable<(string Name, string? Domain, string Country)> rows, int from)
    {
        using var stop = new CancellationTokenSource();
        var upserts = new List<double>();
        var upserting = Task.Run(async () =>
        {
            for (var n = 1; !stop.IsCancellationRequested; n++)
            {
                await Task.Delay(100);
                var asked = Stopwatch.GetTimestamp();
                await using var connection = await database.OpenAsync(CancellationToken.None);
                await using var tx = await database.BeginWriteAsync(connection, CancellationToken.None);
                await store.UpsertAsync(tx, OpportunityStore.Prepare([Write(($"Steady Upsert {n} Ltd", null, "US"), int.MaxValue - n)]), CancellationToken.None);
                await tx.CommitAsync();
                upserts.Add(Stopwatch.GetElapsedTime(asked).TotalMilliseconds);
            }
        });
        var seconds = await IngestAsync(database, store, rows, from, Import);
        await stop.CancelAsync();
        await upserting;
        return (seconds, upserts);
    }

    private static OpportunityWrite Write((string Name, string? Domain, string Country) row, int i)
    {
        var (name, domain, country) = row;
        return new OpportunityWrite("salesforce", "006" + i.ToString("D12", CultureInfo.InvariantCulture), new OpportunityFields
        {
            AccountName = name, AccountDomain = domain, Country = country, Status = i % 5 == 0 ? OpportunityStatus.Won : OpportunityStatus.Open,
            Amount = 1000 + i % 50_000, Currency = "USD",
        });
    }

    private sealed record Timings(double P50, double P99, double Mean, int Conflicts, int Reviews, double Recall);

    private static async Task<Timings> TimeChecksAsync(ConflictChecker checker, List<(Company Query, string? Expected)> queries)
    {
        foreach (var (q, _) in queries.Take(200)) await checker.CheckAsync(q, null, null, CancellationToken.None); // warm-up
        var times = new List<double>(queries.Count);
        int conflicts = 0, reviews = 0, expected = 0, found = 0;
        foreach (var (q, name) in queries)
        {
            var started = Stopwatch.GetTimestamp();
            var result = await checker.CheckAsync(q, null, null, CancellationToken.None);
            times.Add(Stopwatch.GetElapsedTime(started).TotalMilliseconds);
            if (result.Verdict == Verdict.Conflict) conflicts++;
            else if (result.Verdict == Verdict.Review) reviews++;
            if (name is null) continue;
            expected++;
            // Recall: the record the query was made from is among what the check flags, however big the table.
            if (result.Candidates.Any(c => c.Candidate.AccountName == name && c.Match.Verdict >= Verdict.Review)) found++;
        }
        times.Sort();
        return new Timings(times[times.Count / 2], times[(int)(times.Count * 0.99)], times.Average(), conflicts, reviews, (double)found / expected);
    }

    private static void Report(string label, Timings t) => Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
        $"conflict check at {label}: p50 {t.P50:F3} ms, p99 {t.P99:F3} ms, mean {t.Mean:F3} ms ({t.Conflicts} conflicts, {t.Reviews} reviews; recall of the stored record at review {t.Recall:F4})"));
}
