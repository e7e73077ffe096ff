using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace PartnerDeals.IntegrationTests.Support;

/// <summary>
/// The service as an operating-system process on 127.0.0.1 — what a crash test needs and an in-process
/// host cannot give: <see cref="Kill"/> is SIGKILL, with no shutdown hook, no flush and no disposal.
/// </summary>
public sealed class ApiProcess : IDisposable
{
    private readonly Process _process;
    private readonly StringBuilder _output = new();

    private ApiProcess(Process process, Uri baseAddress)
    {
        _process = process;
        BaseAddress = baseAddress;
    }

    public Uri BaseAddress { get; }

    /// <summary>The last of what the process wrote, for a failure message.</summary>
    public string Output
    {
        get
        {
            lock (_output) return _output.Length > 4000 ? _output.ToString(_output.Length - 4000, 4000) : _output.ToString();
        }
    }

    /// <summary>Starts the built service on a free port (or <paramref name="port"/>) against the SQLite file and waits until /health/ready answers 200.</summary>
    public static async Task<ApiProcess> StartAsync(string databasePath, IDictionary<string, string>? settings = null, int? port = null)
    {
        port ??= FreePort();
        var api = new ApiProcess(new Process { StartInfo = StartInfo(databasePath, port.Value, settings) }, new Uri($"http://127.0.0.1:{port}"));
        api._process.OutputDataReceived += (_, e) => api.Append(e.Data);
        api._process.ErrorDataReceived += (_, e) => api.Append(e.Data);
        api._process.Start();
        api._process.BeginOutputReadLine();
        api._process.BeginErrorReadLine();
        await api.WaitUntilReadyAsync(TimeSpan.FromSeconds(60));
        return api;
    }

    /// <summary>Starts the built service on <paramref name="port"/> and waits for it to exit by itself: a start-up that must fail.</summary>
    public static async Task<(int ExitCode, string StandardOutput, string StandardError)> RunUntilExitAsync(
        string databasePath, int port, TimeSpan limit, IDictionary<string, string>? settings = null)
    {
        using var process = Process.Start(StartInfo(databasePath, port, settings))!;
        var output = process.StandardOutput.ReadToEndAsync();
        var errors = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(limit);
        try
        {
            await process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"The service did not exit within {limit.TotalSeconds} s.");
        }
        return (process.ExitCode, await output, await errors);
    }

    private static ProcessStartInfo StartInfo(string databasePath, int port, IDictionary<string, string>? settings)
    {
        var folder = AppContext.BaseDirectory; // the service's build output is copied beside the tests, appsettings.json included
        var start = new ProcessStartInfo(Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") ?? "dotnet")
        {
            WorkingDirectory = folder,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add(Path.Combine(folder, "PartnerDeals.Api.dll"));
        start.ArgumentList.Add("--urls");
        start.ArgumentList.Add($"http://127.0.0.1:{port}");
        start.Environment["ASPNETCORE_ENVIRONMENT"] = "Production";
        start.Environment["ConnectionStrings__PartnerDeals"] = $"Data Source={databasePath}";
        start.Environment["Auth__BootstrapAdminKey"] = ApiFactory.AdminKey;
        start.Environment["RateLimiting__Enabled"] = "false";
        start.Environment["ConflictChecks__PartnerQuota__PerMinute"] = "100000";
        start.Environment["ConflictChecks__PartnerQuota__PerDay"] = "1000000";
        start.Environment["Logging__LogLevel__Default"] = "Warning";
        foreach (var (key, value) in settings ?? new Dictionary<string, string>()) start.Environment[key.Replace(":", "__", StringComparison.Ordinal)] = value;
        return start;
    }

    public HttpClient Client(string? apiKey)
    {
        var client = new HttpClient { BaseAddress = BaseAddress, Timeout = TimeSpan.FromSeconds(30) };
        if (apiKey is not null) client.DefaultRequestHeaders.Add("X-Api-Key", apiKey);
        return client;
    }

    /// <summary>SIGKILL: the process stops between two instructions, whatever it was doing.</summary>
    public void Kill()
    {
        _process.Kill(entireProcessTree: true);
        _process.WaitForExit();
    }

    public void Dispose()
    {
        if (!_process.HasExited) Kill();
        _process.Dispose();
    }

    private async Task WaitUntilReadyAsync(TimeSpan limit)
    {
        using var http = new HttpClient { BaseAddress = BaseAddress, Timeout = TimeSpan.FromSeconds(5) };
        await Eventually.UntilAsync(
            async () =>
            {
                if (_process.HasExited) throw new InvalidOperationException($"The service exited with {_process.ExitCode}:\n{Output}");
                try
                {
                    using var response = await http.GetAsync("/health/ready");
                    return (Ready: response.StatusCode == HttpStatusCode.OK, Output: "");
                }
                catch (HttpRequestException)
                {
                    return (Ready: false, Output); // not listening yet
                }
            },
            seen => seen.Ready, "the service to be ready", limit);
    }

    private void Append(string? line)
    {
        if (line is null) return;
        lock (_output) _output.AppendLine(line);
    }

    public static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
