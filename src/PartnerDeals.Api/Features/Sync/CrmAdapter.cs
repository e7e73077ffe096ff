using System.Net;
using System.Net.Http.Headers;
using Polly.CircuitBreaker;
using Polly.Timeout;

namespace PartnerDeals.Api.Features.Sync;

/// <summary>What became of one attempt to deliver a change.</summary>
public enum AttemptOutcome
{
    /// <summary>The CRM has the change.</summary>
    Delivered,

    /// <summary>Worth another try later (an outage, a timeout, a 5xx); counts against the attempts.</summary>
    Failed,

    /// <summary>The CRM refused the change itself (bad field, validation rule); retrying cannot help, so the delivery is dead.</summary>
    Refused,

    /// <summary>The CRM asked us to slow down; not a failure, so it does not count against the attempts.</summary>
    RateLimited,

    /// <summary>The circuit to the CRM is open after many failures; postponed without a call and without counting.</summary>
    Postponed,
}

/// <param name="Outcome">What happened.</param>
/// <param name="StatusCode">The CRM's HTTP status, when it answered.</param>
/// <param name="Error">The CRM's own message, or what went wrong on the way.</param>
/// <param name="RetryAt">When the CRM said to come back (its wait hint), if it did.</param>
public sealed record AttemptResult(AttemptOutcome Outcome, int? StatusCode = null, string? Error = null, DateTimeOffset? RetryAt = null)
{
    public static readonly AttemptResult Delivered = new(AttemptOutcome.Delivered);

    /// <summary>What an exception on the way to the CRM means for the delivery. Never carries request headers.</summary>
    public static AttemptResult From(Exception exception) => exception switch
    {
        BrokenCircuitException => new(AttemptOutcome.Postponed, Error: "The circuit to the CRM is open after repeated failures."),
        TimeoutRejectedException e => new(AttemptOutcome.Failed, Error: $"No answer within {e.Timeout.TotalSeconds:0.###} s."),
        HttpRequestException e => new(AttemptOutcome.Failed, (int?)e.StatusCode, $"Connection failed: {e.Message}"),
        CrmSignInException e => new(AttemptOutcome.Failed, e.StatusCode, e.Message),
        _ => new(AttemptOutcome.Failed, Error: $"{exception.GetType().Name}: {exception.Message}"),
    };
}

/// <summary>
/// One CRM. An adapter turns changes into the CRM's upserts by the registration's id, so delivering
/// a change twice leaves the same record, and reads the CRM's own answers: its success codes, its
/// rate limits and their wait hints, and its permanent errors.
/// </summary>
public interface ICrmAdapter
{
    /// <summary>The CRM's wire name (<see cref="Crms"/>).</summary>
    string Crm { get; }

    /// <summary>Delivers each change (in one batch where the CRM has one); one result per change, in order.</summary>
    Task<IReadOnlyList<AttemptResult>> DeliverAsync(IReadOnlyList<CrmChange> changes, CancellationToken ct);
}

/// <summary>What the adapters share: reading answers and hints the same way.</summary>
public static class CrmAnswers
{
    /// <summary>Set on a request that must not be retried inside an attempt: it is not idempotent (Dataverse's close actions).</summary>
    public static readonly HttpRequestOptionsKey<bool> NotRetriedInline = new("PartnerDeals.NotRetriedInline");

    /// <summary>Error text kept from a CRM's answer: enough to act on, never a whole page.</summary>
    public const int MaxErrorLength = 1000;

    /// <summary>Delivers changes one request each, side by side: a batch never holds two changes of one registration.</summary>
    public static async Task<IReadOnlyList<AttemptResult>> EachAsync(
        IReadOnlyList<CrmChange> changes, Func<CrmChange, CancellationToken, Task<AttemptResult>> deliver, CancellationToken ct) =>
        await Task.WhenAll(changes.Select(async change =>
        {
            try
            {
                return await deliver(change, ct);
            }
            catch (Exception e) when (!ct.IsCancellationRequested)
            {
                return AttemptResult.From(e);
            }
        }));

    /// <summary>
    /// Puts the teams of the changes whose records were <paramref name="delivered"/> on them (those with a partner that has a
    /// record in <paramref name="crm"/>), in one call of <paramref name="syncTeams"/>: a team's result is its change's.
    /// </summary>
    public static async Task<IReadOnlyList<AttemptResult>> ThenTeamsAsync(string crm, IReadOnlyList<CrmChange> changes,
        IReadOnlyList<AttemptResult> delivered, Func<IReadOnlyList<CrmChange>, CancellationToken, Task<IReadOnlyList<AttemptResult>>> syncTeams,
        CancellationToken ct)
    {
        var teams = changes.Select((change, i) => (Change: change, Index: i))
            .Where(c => delivered[c.Index].Outcome == AttemptOutcome.Delivered && c.Change.TeamIn(crm).Count > 0).ToList();
        if (teams.Count == 0) return delivered;
        var results = delivered.ToArray();
        try
        {
            var synced = await syncTeams(teams.Select(t => t.Change).ToList(), ct);
            for (var i = 0; i < teams.Count; i++) results[teams[i].Index] = synced[i];
        }
        catch (Exception e) when (!ct.IsCancellationRequested)
        {
            foreach (var team in teams) results[team.Index] = AttemptResult.From(e);
        }
        return results;
    }

    /// <summary>The Retry-After header as an instant (seconds or an HTTP date), if present.</summary>
    public static DateTimeOffset? RetryAfter(HttpResponseMessage response, DateTimeOffset now) => response.Headers.RetryAfter switch
    {
        { Delta: { } delta } => now + delta,
        { Date: { } date } => date,
        _ => null,
    };

    public static string Truncate(string text) => text.Length <= MaxErrorLength ? text : text[..MaxErrorLength] + "…";

    public static bool IsSuccess(HttpStatusCode status) => (int)status is >= 200 and < 300;

    public static AuthenticationHeaderValue Bearer(string token) => new("Bearer", token);
}

/// <summary>The CRM's token endpoint refused or failed to sign us in. The message never holds the secret.</summary>
public sealed class CrmSignInException(string message, int? statusCode) : Exception(message)
{
    public int? StatusCode { get; } = statusCode;
}
