using System.Diagnostics;

namespace PartnerDeals.IntegrationTests.Support;

/// <summary>
/// The one way a test waits: it asks again until the answer is the one it waits for, and fails with the last answer
/// it saw when that does not come within the limit. Never a fixed sleep: a busy machine only makes it ask longer.
/// </summary>
public static class Eventually
{
    public static readonly TimeSpan DefaultLimit = TimeSpan.FromSeconds(30);

    /// <summary>Asks <paramref name="probe"/> until <paramref name="done"/> holds for its answer, and returns that answer.</summary>
    public static async Task<T> UntilAsync<T>(Func<Task<T>> probe, Func<T, bool> done, string waitingFor, TimeSpan? limit = null,
        TimeSpan? every = null)
    {
        var clock = Stopwatch.StartNew();
        while (true)
        {
            var answer = await probe();
            if (done(answer)) return answer;
            if (clock.Elapsed > (limit ?? DefaultLimit))
            {
                throw new AssertionException($"Waited {clock.Elapsed.TotalSeconds:0.#} s for {waitingFor}; the last answer was: {Describe(answer)}");
            }
            await Task.Delay(every ?? TimeSpan.FromMilliseconds(50));
        }
    }

    /// <summary>Asks <paramref name="condition"/> until it holds.</summary>
    public static Task UntilAsync(Func<Task<bool>> condition, string waitingFor, TimeSpan? limit = null, TimeSpan? every = null) =>
        UntilAsync(condition, held => held, waitingFor, limit, every);

    /// <summary>Checks <paramref name="condition"/> until it holds.</summary>
    public static Task UntilAsync(Func<bool> condition, string waitingFor, TimeSpan? limit = null, TimeSpan? every = null) =>
        UntilAsync(() => Task.FromResult(condition()), held => held, waitingFor, limit, every);

    private static string Describe<T>(T answer) => answer switch
    {
        null => "nothing",
        System.Collections.IEnumerable items and not string => "[" + string.Join(", ", items.Cast<object?>().Take(20)) + "]",
        _ => answer.ToString() ?? "",
    };
}
