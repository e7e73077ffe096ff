using Microsoft.Playwright;
using PartnerDeals.IntegrationTests.Support;

namespace PartnerDeals.IntegrationTests;

/// <summary>
/// A person signs in to Swagger UI in a real browser (Debian's Chromium driven by Playwright): Authorize with the
/// authorization code flow and PKCE against a real OpenID Connect provider, its sign-in page, back to Swagger UI, then
/// "Try it out" on <c>GET /v1/me</c> answers the person. The service runs as its own process on a real port.
/// </summary>
[NonParallelizable]
public sealed class SwaggerSignInBrowserTests
{
    private const string Chromium = "/usr/bin/chromium";

    [Test]
    public async Task SwaggerUi_SignsAPersonIn_WithPkce_AndTryItOutAnswersWhoTheyAre()
    {
        if (!File.Exists(Chromium)) Assert.Ignore($"{Chromium} is not installed (.ci/run installs Debian's chromium).");

        var port = ApiProcess.FreePort();
        var swagger = $"http://127.0.0.1:{port}";
        await using var idp = await IdentityProvider.StartAsync(new Dictionary<string, IdentityProvider.Person>
        {
            ["olivia"] = new("Olivia Ops", "olivia@vendor.example", ["ChannelManager"]),
        }, swaggerRedirects: [$"{swagger}/swagger/oauth2-redirect.html"]);
        var folder = Directory.CreateTempSubdirectory("partnerdeals-browser-");
        try
        {
            using var api = await ApiProcess.StartAsync(Path.Combine(folder.FullName, "p.db"), new Dictionary<string, string>
            {
                ["Auth:Oidc:Issuers:corp:Authority"] = idp.Issuer,
                ["Auth:Oidc:Issuers:corp:Audience"] = IdentityProvider.Audience,
                ["Auth:Oidc:Issuers:corp:RequireHttpsMetadata"] = "false",
                ["Auth:Oidc:Issuers:corp:RoleMap:ChannelManager"] = "ops",
                ["Auth:Oidc:Issuers:corp:SwaggerClientId"] = "swagger",
                ["Auth:Oidc:Issuers:corp:SwaggerScopes:0"] = "openid",
                ["Auth:Oidc:Issuers:corp:SwaggerScopes:1"] = "deals",
            }, port);

            using var playwright = await Playwright.CreateAsync();
            await using var browser = await playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
            {
                ExecutablePath = Chromium,
                Headless = true,
                // The machine's network is closed: Chromium's own background connections would only fail.
                Args = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
                    "--disable-component-update", "--disable-sync"],
            });
            var page = await browser.NewPageAsync();
            page.SetDefaultTimeout(30_000);
            await page.GotoAsync($"{swagger}/swagger/index.html");

            await page.Locator("button.authorize").First.ClickAsync();
            // Swagger UI reads the provider's discovery document and offers each of its flows: the code flow with PKCE is ours.
            var signIn = page.Locator(".auth-container").Filter(new() { HasText = "authorization_code with PKCE" });
            var popup = await page.RunAndWaitForPopupAsync(() => signIn.Locator("button.authorize").ClickAsync());
            await popup.Locator("input[name=login]").FillAsync("olivia");
            await popup.Locator("input[name=password]").FillAsync("any");
            await popup.Locator("button[type=submit]").ClickAsync();
            await signIn.Locator("button[aria-label='Remove authorization']").WaitForAsync(); // back in Swagger UI, signed in
            await page.Locator(".modal-ux button.close-modal").ClickAsync();

            await page.Locator("#operations-People-GetMe .opblock-summary").ClickAsync();
            await page.Locator("#operations-People-GetMe button.try-out__btn").ClickAsync();
            await page.Locator("#operations-People-GetMe button.execute").ClickAsync();
            var answer = page.Locator("#operations-People-GetMe .live-responses-table .response-col_description pre").First;
            await Assertions.Expect(answer).ToContainTextAsync("Olivia Ops");
            var text = await answer.InnerTextAsync();
            text.ShouldContain("\"kind\": \"person\"");
            text.ShouldContain("\"ops\"");
        }
        finally
        {
            folder.Delete(recursive: true);
        }
    }
}
