using System.Collections.Concurrent;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Dapper;
using Microsoft.Data.Sqlite;
using PartnerDeals.IntegrationTests.Support;

namespace PartnerDeals.IntegrationTests.Reliability;

/// <summary>
/// The service killed with SIGKILL in the middle of sustained registration load, then started again on
/// the same SQLite file: what it acknowledged is there with its outbox row, nothing is there twice, and
/// every request cut off by the crash can be retried with its Idempotency-Key to exactly one registration.
/// </summary>
[NonParallelizable] // it measures a process under load; sharing the two cores with other fixtures only slows it down
public sealed class CrashTests
{
    private const int Workers = 16;
    private const int AcknowledgedBeforeKill = 250;

    private string _databasePath = "";

    [SetUp]
    public void NewDatabase() =>
        _databasePath = Path.Combine(Path.GetTempPath(), "partnerdeals-tests", Guid.NewGuid().ToString("N"), "partnerdeals.db");

    [TearDown]
    public void DeleteDatabase()
    {
        SqliteConnection.ClearAllPools();
        Directory.Delete(Path.GetDirectoryName(_databasePath)!, recursive: true);
    }

    [Test]
    public async Task KilledDuringRegistrationLoad_AfterRestart_EveryAcknowledgedRegistrationAndOutboxRowIsThereOnce()
    {
        var sent = new ConcurrentDictionary<string, Attempt>(); // by Idempotency-Key
        var acknowledged = new ConcurrentDictionary<string, Guid>(); // Idempotency-Key -> id answered with 201
        string[] partnerKeys;

        using (var first = await ApiProcess.StartAsync(_databasePath))
        {
            partnerKeys = await PartnerKeysAsync(first, 4);
            using var stop = new CancellationTokenSource();
            var next = 0;
            var load = Enumerable.Range(0, Workers).Select(worker => Task.Run(async () =>
            {
                using var http = first.Client(partnerKeys[worker % partnerKeys.Length]);
                while (!stop.IsCancellationRequested)
                {
                    var attempt = new Attempt(Guid.NewGuid().ToString(), partnerKeys[worker % partnerKeys.Length], Interlocked.Increment(ref next));
                    sent[attempt.IdempotencyKey] = attempt;
                    try
                    {
                        using var response = await SendAsync(http, attempt);
                        if (response.StatusCode != HttpStatusCode.Created) throw new InvalidOperationException($"{(int)response.StatusCode}: {await response.Content.ReadAsStringAsync()}");
                        acknowledged[attempt.IdempotencyKey] = await IdAsync(response);
                    }
                    catch (HttpRequestException)
                    {
                        return; // the process is gone; what was in flight is unacknowledged
                    }
                }
            })).ToArray();

            await Eventually.UntilAsync(() => acknowledged.Count >= AcknowledgedBeforeKill || load.Any(t => t.IsFaulted),
                "enough registrations to be acknowledged before the kill", TimeSpan.FromSeconds(60), TimeSpan.FromMilliseconds(5));
            first.Kill(); // with every worker's request in flight
            stop.Cancel();
            await Task.WhenAll(load);
        }

        var cutOff = sent.Keys.Except(acknowledged.Keys).ToList();
        TestContext.Out.WriteLine($"{acknowledged.Count} acknowledged before SIGKILL, {cutOff.Count} cut off in flight");
        acknowledged.Count.ShouldBeGreaterThanOrEqualTo(AcknowledgedBeforeKill);
        cutOff.ShouldNotBeEmpty("the kill came under load, with requests in flight");

        using var second = await ApiProcess.StartAsync(_databasePath);
        await using (var db = new SqliteConnection($"Data Source={_databasePath};Mode=ReadOnly"))
        {
            await db.OpenAsync();
            db.ExecuteScalar<string>("PRAGMA integrity_check").ShouldBe("ok");
            var stored = db.Query<string>("SELECT id FROM registrations").Select(Guid.Parse).ToHashSet();
            var withOutbox = db.Query<string>("SELECT DISTINCT registration_id FROM outbox_events WHERE partner_id IS NULL AND event_type = 'registration.created'").Select(Guid.Parse).ToHashSet();
            acknowledged.Values.Where(id => !stored.Contains(id)).ShouldBeEmpty("every registration answered 201 survives the crash");
            acknowledged.Values.Where(id => !withOutbox.Contains(id)).ShouldBeEmpty("every acknowledged registration's outbox row survives with it");
            withOutbox.Except(stored).ShouldBeEmpty("no outbox row without its registration");
            db.ExecuteScalar<int>("SELECT COUNT(*) FROM (SELECT company_name FROM registrations GROUP BY company_name HAVING COUNT(*) > 1)").ShouldBe(0);
            db.ExecuteScalar<int>("SELECT COUNT(*) FROM (SELECT registration_id FROM outbox_events WHERE partner_id IS NULL AND event_type = 'registration.created' GROUP BY registration_id HAVING COUNT(*) > 1)").ShouldBe(0);
            db.ExecuteScalar<int>("SELECT COUNT(*) FROM registrations").ShouldBe(db.ExecuteScalar<int>("SELECT COUNT(*) FROM idempotency_keys"),
                "each registration committed together with its idempotency key");
        }

        // The portal retries what it never heard back about: each gets exactly one registration, old or new.
        foreach (var key in cutOff)
        {
            using var http = second.Client(sent[key].PartnerKey);
            using var response = await SendAsync(http, sent[key]);
            response.StatusCode.ShouldBe(HttpStatusCode.Created, await response.Content.ReadAsStringAsync());
        }
        foreach (var (key, id) in acknowledged.Take(20))
        {
            using var http = second.Client(sent[key].PartnerKey);
            using var response = await SendAsync(http, sent[key]);
            response.Headers.GetValues("Idempotent-Replayed").ShouldBe(["true"]);
            (await IdAsync(response)).ShouldBe(id, "a retry of an acknowledged request answers the same registration");
        }
        await using (var db = new SqliteConnection($"Data Source={_databasePath};Mode=ReadOnly"))
        {
            await db.OpenAsync();
            db.ExecuteScalar<int>("SELECT COUNT(*) FROM registrations").ShouldBe(sent.Count, "one registration per request sent, none twice");
            db.ExecuteScalar<int>("SELECT COUNT(DISTINCT company_name) FROM registrations").ShouldBe(sent.Count);
        }
    }

    private sealed record Attempt(string IdempotencyKey, string PartnerKey, int Number);

    private static Task<HttpResponseMessage> SendAsync(HttpClient http, Attempt attempt)
    {
        var name = Word(attempt.Number);
        var request = new HttpRequestMessage(HttpMethod.Post, "/v1/registrations")
        {
            Content = JsonContent.Create(new
            {
                customer = new { companyName = $"{name} Logistik GmbH", domain = $"{name.ToLowerInvariant()}-logistik.de", country = "DE", employeeCount = 850 },
                contact = new { name = "Jonas Weber", email = $"jonas.weber@{name.ToLowerInvariant()}-logistik.de", title = "Head of IT" },
                deal = new { name = "Warehouse analytics", products = new[] { "analytics" }, estimatedValue = 120_000m, currency = "EUR", expectedCloseDate = "2027-03-31" },
                coSell = new { relationshipOwner = "partner", demo = "vendor", contract = "partner" },
            }),
        };
        request.Headers.Add("Idempotency-Key", attempt.IdempotencyKey);
        return http.SendAsync(request);
    }

    // A distinct made-up company name per number, so no two registrations are of one customer.
    private static string Word(int number)
    {
        string[] syllables = ["ka", "lo", "mi", "ne", "ru", "sa", "ti", "vo", "ze", "pa", "qu", "fi", "do", "be", "gu", "ha"];
        var word = "";
        for (var i = 0; i < 4; i++, number /= syllables.Length) word += syllables[number % syllables.Length];
        return char.ToUpperInvariant(word[0]) + word[1..] + "x";
    }

    private static async Task<string[]> PartnerKeysAsync(ApiProcess api, int count)
    {
        using var admin = api.Client(ApiFactory.AdminKey);
        var keys = new string[count];
        for (var i = 0; i < count; i++)
        {
            var partner = await admin.PostAsJsonAsync("/v1/partners", new { name = $"Crash Partner {i}", type = "reseller", tier = "silver", contactEmail = "a@partner.example" });
            partner.StatusCode.ShouldBe(HttpStatusCode.Created, await partner.Content.ReadAsStringAsync());
            var id = (await partner.Content.ReadFromJsonAsync<JsonObject>())!.Get<string>("id");
            var key = await admin.PostAsJsonAsync($"/v1/partners/{id}/api-keys", new { name = "portal" });
            keys[i] = (await key.Content.ReadFromJsonAsync<JsonObject>())!.Get<string>("key");
        }
        return keys;
    }

    private static async Task<Guid> IdAsync(HttpResponseMessage response) =>
        Guid.Parse((await response.Content.ReadFromJsonAsync<JsonObject>())!.Get<string>("id"));

    [Test]
    public async Task KilledWhileCommittingABatch_AfterRestart_ResumesAtTheNextRow_EveryRowRegisteredOnce()
    {
        var lines = new List<string> { "externalRef,companyName,domain,country,contactName,contactEmail,dealName,estimatedValue,currency" };
        for (var i = 1; i <= 1500; i++)
        {
            var (company, domain) = RegistrationCalls.NewCompany();
            lines.Add($"K-{i},{company},{domain},DE,Maria Schmidt,maria@customer.example,Rollout,50000,EUR");
        }
        string partnerKey;
        string batch;
        using (var first = await ApiProcess.StartAsync(_databasePath))
        {
            partnerKey = (await PartnerKeysAsync(first, 1))[0];
            using var http = first.Client(partnerKey);
            var upload = await http.PostAsync("/v1/registration-batches?mode=commit",
                new StringContent(string.Join("\n", lines), System.Text.Encoding.UTF8, "text/csv"));
            upload.StatusCode.ShouldBe(HttpStatusCode.Accepted, await upload.Content.ReadAsStringAsync());
            batch = JsonNode.Parse(await upload.Content.ReadAsStringAsync())!.Get<string>("id");
            await Eventually.UntilAsync(async () =>
                JsonNode.Parse(await http.GetStringAsync($"/v1/registration-batches/{batch}"))!.Get<int>("committedRows") >= 200,
                "200 rows committed", TimeSpan.FromSeconds(120));
            first.Kill();
        }

        using var second = await ApiProcess.StartAsync(_databasePath);
        using var client = second.Client(partnerKey);
        var done = await Eventually.UntilAsync(async () => JsonNode.Parse(await client.GetStringAsync($"/v1/registration-batches/{batch}"))!,
            b => b.Get<string>("state") == "completed", "the batch to complete after the restart", TimeSpan.FromSeconds(180));
        done.Get<int>("committedRows").ShouldBe(1500);

        await using var database = new SqliteConnection($"Data Source={_databasePath}");
        (await database.ExecuteScalarAsync<long>("SELECT COUNT(*) FROM registrations")).ShouldBe(1500, "each row registered once");
        (await database.ExecuteScalarAsync<long>("SELECT COUNT(DISTINCT registration_id) FROM registration_batch_rows WHERE batch_id = @batch",
            new { batch })).ShouldBe(1500);
        (await database.ExecuteScalarAsync<long>("SELECT COUNT(*) FROM batch_external_refs")).ShouldBe(1500);
    }
}
