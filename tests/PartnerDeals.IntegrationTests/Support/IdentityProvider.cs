using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace PartnerDeals.IntegrationTests.Support;

/// <summary>
/// A real OpenID Connect provider on loopback: <c>tests/idp/idp.mjs</c> (the npm package oidc-provider, installed from its
/// lock file with <c>npm ci</c> the first time) run by Node. People sign in through its own pages by the authorization code
/// flow with PKCE, as a browser would, and get JWT access tokens carrying the roles and partner claim given here.
/// </summary>
public sealed class IdentityProvider : IAsyncDisposable
{
    public const string Audience = "api://partnerdeals";
    public const string RedirectUri = "http://127.0.0.1/callback";

    private static readonly SemaphoreSlim Installing = new(1, 1);
    private readonly Process _process;
    private readonly StringBuilder _output = new();

    private IdentityProvider(Process process, int port)
    {
        _process = process;
        Issuer = $"http://127.0.0.1:{port}";
    }

    /// <summary>Its issuer and authority: <c>http://127.0.0.1:port</c>.</summary>
    public string Issuer { get; }

    /// <summary>The person behind a login: their name, e-mail, roles (at the top level or under <c>realm_access</c>) and partner claim.</summary>
    public sealed record Person(string Name, string Email, string[]? Roles = null, string? Partner = null, string? Tid = null);

    /// <param name="people">Everyone who may sign in, by login.</param>
    /// <param name="nestedRoles">Write roles as Keycloak does, under <c>realm_access.roles</c>.</param>
    /// <param name="swaggerRedirects">Redirect URIs of the public client <c>swagger</c> (Swagger UI's sign-in).</param>
    public static async Task<IdentityProvider> StartAsync(IReadOnlyDictionary<string, Person> people, bool nestedRoles = false,
        IReadOnlyList<string>? swaggerRedirects = null)
    {
        var folder = Folder();
        await InstallAsync(folder);
        var port = FreePort();
        var start = new ProcessStartInfo("node") { WorkingDirectory = folder, RedirectStandardOutput = true, RedirectStandardError = true };
        start.ArgumentList.Add("idp.mjs");
        start.Environment["IDP_PORT"] = port.ToString();
        start.Environment["IDP_PEOPLE"] = JsonSerializer.Serialize(people.ToDictionary(p => p.Key, p => new
        {
            name = p.Value.Name, email = p.Value.Email, roles = p.Value.Roles, partner = p.Value.Partner, tid = p.Value.Tid,
        }));
        start.Environment["IDP_ROLES_AT"] = nestedRoles ? "realm_access" : "roles";
        start.Environment["IDP_REDIRECT_URIS"] = string.Join(",", swaggerRedirects ?? []);
        var idp = new IdentityProvider(new Process { StartInfo = start }, port);
        idp._process.OutputDataReceived += (_, e) => { lock (idp._output) idp._output.AppendLine(e.Data); };
        idp._process.ErrorDataReceived += (_, e) => { lock (idp._output) idp._output.AppendLine(e.Data); };
        idp._process.Start();
        idp._process.BeginOutputReadLine();
        idp._process.BeginErrorReadLine();

        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(5) };
        await Eventually.UntilAsync(async () =>
        {
            if (idp._process.HasExited) throw new InvalidOperationException($"The identity provider exited:\n{idp.Output}");
            try
            {
                return (await http.GetAsync($"{idp.Issuer}/.well-known/openid-configuration")).IsSuccessStatusCode;
            }
            catch (HttpRequestException)
            {
                return false;
            }
        }, "the identity provider's discovery document");
        return idp;
    }

    public string Output
    {
        get
        {
            lock (_output) return _output.ToString();
        }
    }

    /// <summary>
    /// Signs <paramref name="login"/> in through the provider's pages (authorization code with PKCE) and answers the access token
    /// for <paramref name="resource"/> (its audience).
    /// </summary>
    public async Task<string> SignInAsync(string login, string client = "tests", string resource = Audience)
    {
        using var handler = new HttpClientHandler { AllowAutoRedirect = false, CookieContainer = new CookieContainer() };
        using var http = new HttpClient(handler) { Timeout = TimeSpan.FromSeconds(10) };
        var verifier = Base64Url(RandomNumberGenerator.GetBytes(32));
        var challenge = Base64Url(SHA256.HashData(Encoding.ASCII.GetBytes(verifier)));
        var url = $"{Issuer}/auth?client_id={client}&response_type=code&scope=openid%20deals&state=s&code_challenge={challenge}"
            + $"&code_challenge_method=S256&redirect_uri={Uri.EscapeDataString(RedirectUri)}&resource={Uri.EscapeDataString(resource)}";
        for (var step = 0; step < 10 && !url.StartsWith(RedirectUri, StringComparison.Ordinal); step++)
        {
            using var answer = await http.GetAsync(url);
            if (answer.Headers.Location is null)
            {
                // The provider's sign-in page: any password is taken.
                var form = new FormUrlEncodedContent(new Dictionary<string, string> { ["prompt"] = "login", ["login"] = login, ["password"] = "x" });
                using var signedIn = await http.PostAsync(url, form);
                url = Absolute(signedIn.Headers.Location ?? throw new InvalidOperationException($"No redirect after signing in: {await signedIn.Content.ReadAsStringAsync()}"));
                continue;
            }
            url = Absolute(answer.Headers.Location);
        }
        var code = System.Web.HttpUtility.ParseQueryString(new Uri(url).Query)["code"]
            ?? throw new InvalidOperationException($"No code in {url}:\n{Output}");
        using var token = await http.PostAsync($"{Issuer}/token", new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["grant_type"] = "authorization_code", ["code"] = code, ["redirect_uri"] = RedirectUri, ["client_id"] = client,
            ["code_verifier"] = verifier, ["resource"] = resource,
        }));
        var body = await token.Content.ReadAsStringAsync();
        if (!token.IsSuccessStatusCode) throw new InvalidOperationException($"The token endpoint answered {token.StatusCode}: {body}");
        return JsonNode.Parse(body)!["access_token"]!.GetValue<string>();
    }

    private string Absolute(Uri location) => location.IsAbsoluteUri ? location.ToString() : Issuer + location.OriginalString;

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync();
        }
        _process.Dispose();
    }

    /// <summary>tests/idp, found from the test's build output upwards.</summary>
    private static string Folder()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            var idp = Path.Combine(dir.FullName, "tests", "idp");
            if (File.Exists(Path.Combine(idp, "idp.mjs"))) return idp;
        }
        throw new DirectoryNotFoundException("tests/idp not found above " + AppContext.BaseDirectory);
    }

    /// <summary>The provider's packages, from its lock file, once per machine (CI installs them first; a developer's first run does).</summary>
    private static async Task InstallAsync(string folder)
    {
        await Installing.WaitAsync();
        try
        {
            if (File.Exists(Path.Combine(folder, "node_modules", "oidc-provider", "package.json"))) return;
            var npm = new ProcessStartInfo("npm") { WorkingDirectory = folder, RedirectStandardOutput = true, RedirectStandardError = true };
            foreach (var arg in new[] { "ci", "--no-audit", "--no-fund" }) npm.ArgumentList.Add(arg);
            using var process = Process.Start(npm)!;
            var output = process.StandardOutput.ReadToEndAsync();
            var errors = process.StandardError.ReadToEndAsync();
            await process.WaitForExitAsync();
            if (process.ExitCode != 0) throw new InvalidOperationException($"npm ci in {folder} failed:\n{await output}\n{await errors}");
        }
        finally
        {
            Installing.Release();
        }
    }

    private static string Base64Url(byte[] bytes) => Convert.ToBase64String(bytes).TrimEnd('=').Replace('+', '-').Replace('/', '_');

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
