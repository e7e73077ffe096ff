using System.Net;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.DependencyInjection;
using PartnerDeals.Api.Infrastructure.Data;
using PartnerDeals.IntegrationTests.Support;
using static PartnerDeals.IntegrationTests.Support.RegistrationCalls;

namespace PartnerDeals.IntegrationTests.Registrations;

/// <summary>
/// Registrations decided together: while another connection holds SQLite's write lock the writer waits,
/// the requests queue, and when the lock is released they are decided in one batch.
/// </summary>
public sealed class DecisionBatchTests : HostTest
{
    protected override IDictionary<string, string?> Settings => new Dictionary<string, string?> { ["Decisions:MaxQueue"] = "6" };

    [Test]
    public async Task SameCompany_RegisteredByManyInOneBatch_LeavesOneHolder()
    {
        var (name, domain) = NewCompany();
        var partners = new List<PartnerClient>();
        for (var i = 0; i < 6; i++) partners.Add(await PartnerAsync("gold"));

        List<HttpResponseMessage> answers;
        await using (var holder = await HoldWriteLockAsync())
        {
            var pending = partners.Select(p => PostRegistrationAsync(p.Client, Body(name, domain))).ToList();
            // Known to be blocked, not merely not there yet: the decision writer waits for the lock.
            await Eventually.UntilAsync(() => Factory.Services.GetRequiredService<Database>().WritersAreWaiting, "the decision writer to wait for the lock");
            pending.ShouldAllBe(t => !t.IsCompleted, "nothing is decided while the lock is held");
            answers = [.. await ReleaseAndWaitAsync(pending, holder)];
        }

        answers.ShouldAllBe(a => a.StatusCode == HttpStatusCode.Created);
        var statuses = new List<string>();
        foreach (var answer in answers) statuses.Add(Status(await ReadJsonAsync(answer)));
        statuses.Count(s => s == "approved").ShouldBe(1);
        statuses.Count(s => s == "pending_review").ShouldBe(5);

        using var anonymous = Factory.Client(null);
        var metrics = (await anonymous.GetStringAsync("/metrics")).Split('\n');
        foreach (var metric in new[] { "partnerdeals_decisions_queue", "partnerdeals_decisions_batch_size", "partnerdeals_decisions_decision_time", "partnerdeals_decisions_commit_time" })
        {
            metrics.ShouldContain(l => l.StartsWith(metric, StringComparison.Ordinal), metric);
        }
    }

    [Test]
    public async Task Queue_Full_Answers503WithRetryAfter_AndARetryRegistersOnce()
    {
        var partner = await PartnerAsync("gold");
        var bodies = Enumerable.Range(0, 10).Select(_ => NewCompany()).Select(c => Body(c.Name, c.Domain)).ToList();
        var keys = bodies.Select(_ => Guid.NewGuid().ToString()).ToList();

        HttpResponseMessage[] answers;
        await using (var holder = await HoldWriteLockAsync())
        {
            var pending = new List<Task<HttpResponseMessage>>();
            for (var i = 0; i < bodies.Count; i++)
            {
                pending.Add(PostRegistrationAsync(partner.Client, bodies[i], keys[i]));
                await Task.Delay(20);
            }
            answers = await ReleaseAndWaitAsync(pending, holder);
        }

        var refused = Enumerable.Range(0, answers.Length).Where(i => answers[i].StatusCode == HttpStatusCode.ServiceUnavailable).ToList();
        refused.Count.ShouldBeGreaterThan(0, "a queue of 6 cannot hold 10");
        foreach (var i in refused)
        {
            answers[i].Headers.RetryAfter.ShouldNotBeNull();
            await ReadProblemAsync(answers[i], HttpStatusCode.ServiceUnavailable, "unavailable");
        }
        answers.Where((_, i) => !refused.Contains(i)).ShouldAllBe(a => a.StatusCode == HttpStatusCode.Created);
        foreach (var i in refused) (await PostRegistrationAsync(partner.Client, bodies[i], keys[i])).StatusCode.ShouldBe(HttpStatusCode.Created);
        foreach (var i in Enumerable.Range(0, answers.Length).Except(refused))
        {
            var again = await PostRegistrationAsync(partner.Client, bodies[i], keys[i]);
            again.Headers.GetValues("Idempotent-Replayed").ShouldBe(["true"]);
        }
        var stored = await ReadJsonAsync(await Admin.GetAsync($"/v1/registrations?partnerId={partner.Id}&limit=200"));
        stored["items"]!.AsArray().Count.ShouldBe(bodies.Count, "every request registered exactly once");
    }

    /// <summary>Another connection takes the file's write lock until <see cref="ReleaseAndWaitAsync"/> (or disposing it) lets go.</summary>
    private async Task<SqliteConnection> HoldWriteLockAsync()
    {
        var connection = new SqliteConnection(Factory.ConnectionString + ";Pooling=False");
        await connection.OpenAsync();
        await using var begin = connection.CreateCommand();
        begin.CommandText = "BEGIN IMMEDIATE";
        await begin.ExecuteNonQueryAsync();
        return connection;
    }

    private static async Task<HttpResponseMessage[]> ReleaseAndWaitAsync(List<Task<HttpResponseMessage>> pending, SqliteConnection holder)
    {
        await using (var rollback = holder.CreateCommand())
        {
            rollback.CommandText = "ROLLBACK";
            await rollback.ExecuteNonQueryAsync();
        }
        return await Task.WhenAll(pending);
    }
}
