using System.Collections.Concurrent;
using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using StandardWebhooks;

namespace PartnerDeals.IntegrationTests.Support;

/// <summary>One request the receiver got, and what it answered.</summary>
public sealed record ReceivedWebhook(string Path, string Id, long Timestamp, string Signature, string Body, IHeaderDictionary Headers, int AnsweredWith)
{
    public System.Text.Json.Nodes.JsonNode Json => System.Text.Json.Nodes.JsonNode.Parse(Body)!;

    public string Type => Json.Get<string>("type");

    /// <summary>Whether the Standard Webhooks library's own verifier accepts it under <paramref name="secret"/> (its timestamp window included).</summary>
    public bool VerifiesWith(string secret)
    {
        try
        {
            new StandardWebhook(secret).Verify(Body, Headers);
            return true;
        }
        catch (Exception)
        {
            return false;
        }
    }

    /// <summary>Whether one of its signatures is the library's signature under <paramref name="secret"/>, at the timestamp it carries.</summary>
    public bool SignedWith(string secret) =>
        Signature.Split(' ').Contains(new StandardWebhook(secret).Sign(Id, DateTimeOffset.FromUnixTimeSeconds(Timestamp), Body));
}

/// <summary>
/// A real HTTP receiver on loopback (Kestrel), for webhook tests: it records every request and answers as
/// <see cref="Answer"/> says. It can stop (connection refused) and start again on the same port.
/// </summary>
public sealed class WebhookReceiver : IAsyncDisposable
{
    private WebApplication? _app;
    private int _requests;
    private int _arrived;

    private WebhookReceiver()
    {
    }

    public int Port { get; private set; }

    public ConcurrentQueue<ReceivedWebhook> Received { get; } = new();

    /// <summary>The status for the n-th request (from 1) to a path; 200 by default.</summary>
    public Func<int, string, int> Answer { get; set; } = (_, _) => 200;

    /// <summary>How long each answer takes; longer than the service's timeout makes it time out.</summary>
    public TimeSpan Delay { get; set; }

    /// <summary>Requests that have arrived, answered or not yet (a slow answer is counted as it starts).</summary>
    public int Arrived => Volatile.Read(ref _arrived);

    public string Url(string path = "/hooks") => $"http://127.0.0.1:{Port}{path}";

    /// <summary>Requests answered with a 2xx.</summary>
    public IReadOnlyList<ReceivedWebhook> Delivered => Received.Where(r => r.AnsweredWith is >= 200 and < 300).ToList();

    public IReadOnlyList<ReceivedWebhook> DeliveredTo(string path) => Delivered.Where(r => r.Path == path).ToList();

    /// <summary>Settings for a retry schedule of twenty short waits, so a test sees many attempts in seconds.</summary>
    public static IEnumerable<KeyValuePair<string, string?>> QuickRetries(string wait) =>
        Enumerable.Range(0, 20).Select(i => new KeyValuePair<string, string?>($"Webhooks:RetrySchedule:{i}", wait));

    public static async Task<WebhookReceiver> StartAsync()
    {
        var receiver = new WebhookReceiver();
        await receiver.ListenAsync(0);
        return receiver;
    }

    public async Task StopAsync()
    {
        if (_app is null) return;
        await _app.StopAsync();
        await _app.DisposeAsync();
        _app = null;
    }

    public Task StartAgainAsync() => ListenAsync(Port);

    /// <summary>Waits until <paramref name="done"/> holds of what was received, or fails after <paramref name="within"/>.</summary>
    public Task WaitForAsync(Func<WebhookReceiver, bool> done, TimeSpan within, string what) =>
        Eventually.UntilAsync(() => Task.FromResult((Done: done(this), Received: string.Join(", ", Received.Select(r => $"{r.Path} {r.Type} {r.AnsweredWith}")))),
            seen => seen.Done, what, within, TimeSpan.FromMilliseconds(25));

    private async Task ListenAsync(int port)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseKestrel(k => k.Listen(IPAddress.Loopback, port));
        var app = builder.Build();
        app.MapPost("/{**path}", (Func<HttpContext, Task<IResult>>)HandleAsync);
        await app.StartAsync();
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        Port = new Uri(address).Port;
        _app = app;
    }

    private async Task<IResult> HandleAsync(HttpContext context)
    {
        Interlocked.Increment(ref _arrived);
        using var reader = new StreamReader(context.Request.Body);
        var body = await reader.ReadToEndAsync();
        var path = context.Request.Path.Value ?? "/";
        var status = Answer(Interlocked.Increment(ref _requests), path);
        if (Delay > TimeSpan.Zero)
        {
            await Task.Delay(Delay, CancellationToken.None);
            // The sender gave up (its timeout): nothing was delivered, whatever this would have answered.
            if (context.RequestAborted.IsCancellationRequested) status = 499;
        }
        var headers = new HeaderDictionary(context.Request.Headers.ToDictionary(h => h.Key, h => h.Value));
        Received.Enqueue(new ReceivedWebhook(path, headers["webhook-id"].ToString(),
            long.TryParse(headers["webhook-timestamp"].ToString(), out var t) ? t : 0, headers["webhook-signature"].ToString(), body, headers, status));
        return Results.Text("{\"received\":true}", "application/json", statusCode: status);
    }

    public async ValueTask DisposeAsync() => await StopAsync();
}
