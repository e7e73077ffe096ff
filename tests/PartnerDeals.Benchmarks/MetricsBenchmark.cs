using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using PartnerDeals.Api.Infrastructure.Data;

namespace PartnerDeals.Benchmarks;

/// <summary>
/// Partner metrics and program health at scale. <c>seed</c> writes a program of 200 partners,
/// 200,000 registrations over three years and 1,000,000 direct opportunities straight into a SQLite file
/// migrated by the product (rows generated in SQL for speed: metrics read no matching keys);
/// <c>time</c> then calls the real endpoints of a running host over HTTP and reports p50/p99.
/// </summary>
public static class MetricsBenchmark
{
    private static readonly DateTimeOffset Start = new(2024, 1, 1, 0, 0, 0, TimeSpan.Zero);
    private static readonly DateTimeOffset Now = new(2026, 11, 23, 9, 0, 0, TimeSpan.Zero);
    private static readonly string[] Currencies = ["USD", "USD", "USD", "USD", "USD", "USD", "USD", "EUR", "EUR", "GBP"];

    public static async Task SeedAsync(string path, int partners, int registrations, int opportunities)
    {
        if (File.Exists(path)) File.Delete(path);
        var database = new Database(Options.Create(new DatabaseOptions { ConnectionString = $"Data Source={path}" }));
        await new Migrator(database, NullLogger<Migrator>.Instance).ApplyAsync(CancellationToken.None);
        var random = new Random(20261123);
        var stopwatch = Stopwatch.StartNew();
        await using var connection = (SqliteConnection)await database.OpenAsync(CancellationToken.None);

        var partnerIds = await SeedPartnersAsync(connection, random, partners);
        await SeedRegistrationsAsync(connection, random, partnerIds, registrations);
        await SeedOpportunitiesAsync(connection, random, opportunities);
        await using (var analyse = connection.CreateCommand())
        {
            analyse.CommandText = "ANALYZE";
            await analyse.ExecuteNonQueryAsync();
        }
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"seeded {partners:N0} partners, {registrations:N0} registrations, {opportunities:N0} opportunities in {stopwatch.Elapsed.TotalSeconds:F0} s; "
            + $"file {new FileInfo(path).Length / 1048576.0:F0} MiB"));
    }

    public static async Task TimeAsync(string baseUrl, string key, int rounds)
    {
        using var http = new HttpClient { BaseAddress = new Uri(baseUrl), Timeout = TimeSpan.FromMinutes(2) };
        http.DefaultRequestHeaders.Add("X-Api-Key", key);
        var board = await http.GetFromJsonAsync<JsonObject>("/v1/partners/metrics?from=2024-01-01&to=2026-12-31");
        var ids = board!["items"]!.AsArray().Select(i => i!["partnerId"]!.GetValue<string>()).ToArray();
        var random = new Random(7);
        Console.WriteLine($"machine: {Environment.ProcessorCount} cores, {Environment.OSVersion}, .NET {Environment.Version}; host on {baseUrl}, one request at a time");

        (string Name, Func<string> Url)[] cases =
        [
            ("one partner, current quarter", () => $"/v1/partners/{ids[random.Next(ids.Length)]}/metrics"),
            ("one partner, 2026", () => $"/v1/partners/{ids[random.Next(ids.Length)]}/metrics?from=2026-01-01&to=2026-12-31"),
            ("one partner, three years", () => $"/v1/partners/{ids[random.Next(ids.Length)]}/metrics?from=2024-01-01&to=2026-12-31"),
            ("leaderboard, current quarter", () => "/v1/partners/metrics"),
            ("leaderboard, three years", () => "/v1/partners/metrics?from=2024-01-01&to=2026-12-31"),
            ("program health, current quarter", () => "/v1/program/health"),
            ("program health, three years", () => "/v1/program/health?from=2024-01-01&to=2026-12-31"),
        ];
        foreach (var (name, url) in cases)
        {
            for (var i = 0; i < 5; i++) (await http.GetAsync(url())).EnsureSuccessStatusCode(); // warm-up
            var times = new List<double>(rounds);
            for (var i = 0; i < rounds; i++)
            {
                var started = Stopwatch.GetTimestamp();
                using var response = await http.GetAsync(url());
                await response.Content.ReadAsByteArrayAsync();
                times.Add(Stopwatch.GetElapsedTime(started).TotalMilliseconds);
                response.EnsureSuccessStatusCode();
            }
            times.Sort();
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"{name,-34} p50 {times[times.Count / 2],8:F1} ms   p99 {times[(int)Math.Ceiling(times.Count * 0.99) - 1],8:F1} ms   ({rounds} requests)"));
        }
    }

    private static async Task<string[]> SeedPartnersAsync(SqliteConnection connection, Random random, int count)
    {
        await using var tx = connection.BeginTransaction();
        await using var command = connection.CreateCommand();
        command.Transaction = tx;
        command.CommandText = """
            INSERT INTO partners (id, name, name_key, type, tier, status, contact_email, fee_model, fee_percent, fee_amount, fee_currency, fee_trigger,
                payment_net_days, protection_days, exclusive, version, created_at, updated_at)
            VALUES ($id, $name, $key, 'reseller', $tier, $status, 'alliances@partner.example', 'percent_of_revenue', 10, NULL, NULL, 'closed_won',
                30, 90, 0, 1, $joined, $joined)
            """;
        var ids = new string[count];
        for (var i = 0; i < count; i++)
        {
            ids[i] = Guid.CreateVersion7().ToString("D");
            command.Parameters.Clear();
            command.Parameters.AddWithValue("$id", ids[i]);
            command.Parameters.AddWithValue("$name", $"Partner {i:D4}");
            command.Parameters.AddWithValue("$key", $"partner{i:D4}");
            command.Parameters.AddWithValue("$tier", (i % 10) switch { 0 => "gold", < 5 => "silver", _ => "registered" });
            command.Parameters.AddWithValue("$status", i % 25 == 0 ? "suspended" : "active");
            command.Parameters.AddWithValue("$joined", Instant(Start.AddDays(random.Next(0, 1_000))));
            await command.ExecuteNonQueryAsync();
        }
        await tx.CommitAsync();
        return ids;
    }

    private static async Task SeedRegistrationsAsync(SqliteConnection connection, Random random, string[] partners, int count)
    {
        await using var tx = connection.BeginTransaction();
        await using var registration = connection.CreateCommand();
        registration.Transaction = tx;
        registration.CommandText = """
            INSERT INTO registrations (id, seq, partner_id, status, verdict, reason, company_name, company_website, company_domain, country, industry,
                employee_count, contact_name, contact_email, contact_title, deal_name, products, estimated_value, currency, expected_close_date,
                deal_notes, relationship_owner, demo_owner, contract_owner, co_sell, name_key, name_acronym, name_tokens, icp_qualified,
                icp_failed_rule, policy_version, rejection_reason, decision_note, protection_expires_at, extensions_granted, terms_tier,
                terms_fee_model, terms_fee_percent, terms_fee_amount, terms_fee_currency, terms_fee_trigger, terms_payment_net_days,
                terms_protection_days, outcome_amount, outcome_currency, closed_at, lost_reason, submitted_at, decided_at, approved_at,
                created_by_key_id, version, created_at, updated_at)
            VALUES ($id, $seq, $partner, $status, 'clear', $status, $company, NULL, $domain, 'US', NULL,
                NULL, 'Maria Schmidt', 'maria@customer.example', NULL, 'Rollout', '["analytics"]', $value, $currency, NULL,
                NULL, 'partner', 'vendor', 'partner', 0, $key, '', $key, $icp,
                NULL, '1-bench', NULL, NULL, $expires, 0, $tier,
                $feeModel, $feePercent, NULL, NULL, $feeTrigger, $netDays,
                $protectionDays, $outcomeAmount, $outcomeCurrency, $closed, NULL, $submitted, $decided, $approved,
                NULL, 2, $submitted, $submitted)
            """;
        await using var fee = connection.CreateCommand();
        fee.Transaction = tx;
        fee.CommandText = """
            INSERT INTO fees (id, registration_id, partner_id, fee_trigger, fee_model, basis_amount, fee_percent, amount, currency, accrued_at, due_at)
            VALUES ($id, $registration, $partner, 'closed_won', 'percent_of_revenue', $basis, 10, $amount, $currency, $accrued, $due)
            """;
        var span = (Now - Start).TotalMinutes;
        for (var i = 0; i < count; i++)
        {
            // A few partners bring most deals, as in real programs.
            var partner = partners[(int)(partners.Length * Math.Pow(random.NextDouble(), 2))];
            var submitted = Start.AddMinutes(random.NextDouble() * span);
            var currency = Currencies[random.Next(Currencies.Length)];
            var value = Math.Round((decimal)(5_000 + random.NextDouble() * 495_000), 2);
            var decided = submitted.AddHours(random.NextDouble() * 96);
            string status;
            DateTimeOffset? approved = null, closed = null, expires = null;
            decimal? outcomeAmount = null;
            var roll = random.Next(100);
            if (decided > Now || roll < 5) { status = "pending_review"; decided = default; }
            else if (roll < 15) status = "rejected";
            else if (roll < 20) status = "withdrawn";
            else
            {
                approved = decided;
                expires = decided.AddDays(90);
                var close = decided.AddDays(10 + random.NextDouble() * 170);
                var fate = random.Next(100);
                if (close < Now && fate < 45) { status = "won"; closed = close; outcomeAmount = Math.Round(value * (decimal)(0.8 + random.NextDouble() * 0.4), 2); }
                else if (close < Now && fate < 80) { status = "lost"; closed = close; }
                else status = expires < Now ? "expired" : "approved";
            }
            var id = Guid.CreateVersion7(submitted).ToString("D");
            var p = registration.Parameters;
            p.Clear();
            p.AddWithValue("$id", id);
            p.AddWithValue("$seq", i + 1);
            p.AddWithValue("$partner", partner);
            p.AddWithValue("$status", status);
            p.AddWithValue("$company", $"Customer {i} Inc.");
            p.AddWithValue("$domain", $"customer{i}.example");
            p.AddWithValue("$key", $"customer{i}");
            p.AddWithValue("$value", value);
            p.AddWithValue("$currency", currency);
            p.AddWithValue("$icp", random.Next(100) < 70 ? 1 : 0);
            p.AddWithValue("$expires", Instant(expires));
            var terms = approved is not null;
            p.AddWithValue("$tier", terms ? "silver" : DBNull.Value);
            p.AddWithValue("$feeModel", terms ? "percent_of_revenue" : DBNull.Value);
            p.AddWithValue("$feePercent", terms ? 10 : DBNull.Value);
            p.AddWithValue("$feeTrigger", terms ? "closed_won" : DBNull.Value);
            p.AddWithValue("$netDays", terms ? 30 : DBNull.Value);
            p.AddWithValue("$protectionDays", terms ? 90 : DBNull.Value);
            p.AddWithValue("$outcomeAmount", (object?)outcomeAmount ?? DBNull.Value);
            p.AddWithValue("$outcomeCurrency", outcomeAmount is null ? DBNull.Value : currency);
            p.AddWithValue("$closed", Instant(closed));
            p.AddWithValue("$submitted", Instant(submitted));
            p.AddWithValue("$decided", status == "pending_review" ? DBNull.Value : Instant(decided));
            p.AddWithValue("$approved", Instant(approved));
            await registration.ExecuteNonQueryAsync();

            if (outcomeAmount is { } won)
            {
                fee.Parameters.Clear();
                fee.Parameters.AddWithValue("$id", Guid.CreateVersion7(closed!.Value).ToString("D"));
                fee.Parameters.AddWithValue("$registration", id);
                fee.Parameters.AddWithValue("$partner", partner);
                fee.Parameters.AddWithValue("$basis", won);
                fee.Parameters.AddWithValue("$amount", Math.Round(won / 10, 2));
                fee.Parameters.AddWithValue("$currency", currency);
                fee.Parameters.AddWithValue("$accrued", Instant(closed));
                fee.Parameters.AddWithValue("$due", Instant(closed.Value.AddDays(30)));
                await fee.ExecuteNonQueryAsync();
            }
        }
        await tx.CommitAsync();
    }

    private static async Task SeedOpportunitiesAsync(SqliteConnection connection, Random random, int count)
    {
        var span = (int)(Now.AddDays(40) - Start).TotalDays;
        for (var start = 0; start < count; start += 50_000)
        {
            await using var tx = connection.BeginTransaction();
            await using var command = connection.CreateCommand();
            command.Transaction = tx;
            command.CommandText = """
                INSERT INTO opportunities (id, source, external_id, account_name, account_domain, company_domain, country, owner, stage, status, amount,
                    currency, close_date, opened_date, name_key, name_acronym, name_tokens, version, created_at, updated_at)
                VALUES ($id, 'salesforce', $external, $name, NULL, $domain, 'US', 'rep@vendor.example', $stage, $status, $amount,
                    $currency, $close, $opened, $key, '', $key, 1, $created, $created)
                """;
            for (var i = start; i < Math.Min(count, start + 50_000); i++)
            {
                var close = DateOnly.FromDateTime(Start.UtcDateTime).AddDays(random.Next(span));
                var roll = random.Next(100);
                var status = close > DateOnly.FromDateTime(Now.UtcDateTime) || roll >= 50 ? "open" : roll < 30 ? "won" : "lost";
                var p = command.Parameters;
                p.Clear();
                p.AddWithValue("$id", Guid.CreateVersion7().ToString("D"));
                p.AddWithValue("$external", "006" + i.ToString("D12", CultureInfo.InvariantCulture));
                p.AddWithValue("$name", $"Account {i} Ltd");
                p.AddWithValue("$domain", $"account{i}.example");
                p.AddWithValue("$stage", status == "open" ? "Negotiation" : status == "won" ? "Closed Won" : "Closed Lost");
                p.AddWithValue("$status", status);
                p.AddWithValue("$amount", Math.Round((decimal)(1_000 + random.NextDouble() * 499_000), 2));
                p.AddWithValue("$currency", Currencies[random.Next(Currencies.Length)]);
                p.AddWithValue("$close", close.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture));
                p.AddWithValue("$opened", close.AddDays(-random.Next(5, 240)).ToString("yyyy-MM-dd", CultureInfo.InvariantCulture));
                p.AddWithValue("$key", $"account{i}");
                p.AddWithValue("$created", Instant(Start));
                await command.ExecuteNonQueryAsync();
            }
            await tx.CommitAsync();
        }
    }

    // Bound as the product binds instants (UTC DateTimeOffset), so the provider writes the same text.
    private static object Instant(DateTimeOffset? value) => value is { } v ? v.ToUniversalTime() : DBNull.Value;
}
