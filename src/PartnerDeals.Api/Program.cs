using FluentValidation;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Options;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;
using PartnerDeals.Api.Features.ApiKeys;
using PartnerDeals.Api.Features.Audit;
using PartnerDeals.Api.Features.ConflictChecks;
using PartnerDeals.Api.Features.Conflicts;
using PartnerDeals.Api.Features.Fees;
using PartnerDeals.Api.Features.Metrics;
using PartnerDeals.Api.Features.Opportunities;
using PartnerDeals.Api.Features.Outbox;
using PartnerDeals.Api.Features.Partners;
using PartnerDeals.Api.Features.People;
using PartnerDeals.Api.Features.PipelinePull;
using PartnerDeals.Api.Features.ProductLines;
using PartnerDeals.Api.Features.RegistrationBatches;
using PartnerDeals.Api.Features.Registrations;
using PartnerDeals.Api.Features.Sync;
using PartnerDeals.Api.Features.Webhooks;
using PartnerDeals.Api.Infrastructure.Auth;
using PartnerDeals.Api.Infrastructure.Data;
using PartnerDeals.Api.Infrastructure.Errors;
using PartnerDeals.Api.Infrastructure.Health;
using PartnerDeals.Api.Infrastructure.Http;
using PartnerDeals.Api.Infrastructure.OpenApi;

var builder = WebApplication.CreateBuilder(args);
var config = builder.Configuration;

// Settings, each validated at start-up so a bad value stops the service with a clear message.
builder.Services.AddOptions<DatabaseOptions>()
    .Bind(config.GetSection(DatabaseOptions.Section))
    .Configure(o => o.ConnectionString = ResolveConnectionString(o.Provider))
    .ValidateDataAnnotations().ValidateOnStart();
builder.Services.AddOptions<AuthOptions>().Bind(config.GetSection(AuthOptions.Section))
    .Validate(o => o.IsValid, "Auth:BootstrapAdminKey must be empty or 32 to 256 characters.").ValidateOnStart();
builder.Services.AddOptions<OidcOptions>().Bind(config.GetSection(OidcOptions.Section)).ValidateOnStart();
builder.Services.AddSingleton<IValidateOptions<OidcOptions>, OidcOptions.Check>();
builder.Services.AddOptions<HttpOptions>().Bind(config.GetSection(HttpOptions.Section)).ValidateDataAnnotations().ValidateOnStart();
builder.Services.AddOptions<RateLimitingOptions>().Bind(config.GetSection(RateLimitingOptions.Section)).ValidateDataAnnotations().ValidateOnStart();
builder.Services.AddOptions<PartnerProgramOptions>().Bind(config.GetSection(PartnerProgramOptions.Section)).ValidateOnStart();
builder.Services.AddOptions<KestrelServerOptions>()
    .Configure<IOptions<HttpOptions>>((kestrel, http) => kestrel.Limits.MaxRequestBodySize = http.Value.MaxRequestBodyBytes);

// HTTP: JSON shape, errors as problem documents, bad requests thrown so they get the same treatment.
builder.Services.ConfigureHttpJsonOptions(o => Json.Configure(o.SerializerOptions));
builder.Services.Configure<RouteHandlerOptions>(o => o.ThrowOnBadRequest = true);
builder.Services.AddProblemDocuments();
ValidationSetup.UseJsonFieldNames();
builder.Services.AddValidatorsFromAssemblyContaining<Program>(ServiceLifetime.Singleton);

// Storage and features.
builder.Services.AddSingleton(TimeProvider.System);
builder.Services.AddSingleton<Database>();
builder.Services.AddSingleton<Migrator>();
builder.Services.AddSingleton<AuditTrail>();
builder.Services.AddSingleton<ApiKeyStore>();
builder.Services.AddSingleton<BootstrapKeys>();
builder.Services.AddSingleton<PartnerStore>();
builder.Services.AddSingleton<OpportunityStore>();
builder.Services.AddSingleton<ConflictChecker>();
builder.Services.AddSingleton<PartnerPreChecks>();
builder.Services.AddOptions<PartnerPreCheckOptions>().Bind(config.GetSection(PartnerPreCheckOptions.Section)).ValidateDataAnnotations().ValidateOnStart();
builder.Services.AddSingleton<IdempotencyKeys>();
builder.Services.AddSingleton<RegistrationStore>();
builder.Services.AddSingleton<ConflictStore>();
builder.Services.AddSingleton<FeeLedger>();
builder.Services.AddSingleton<PartnerMetricsStore>();
builder.Services.AddSingleton<ProgramHealthStore>();
builder.Services.AddSingleton<RegistrationJournal>();
builder.Services.AddSingleton<RegistrationDecisions>();
builder.Services.AddSingleton<ITerminationStep>(services => services.GetRequiredService<ApiKeyStore>());
builder.Services.AddSingleton<ITerminationStep>(services => services.GetRequiredService<RegistrationDecisions>());
builder.Services.AddOptions<DecisionOptions>().Bind(config.GetSection(DecisionOptions.Section)).ValidateDataAnnotations().ValidateOnStart();
builder.Services.AddSingleton<DecisionWriter>();
builder.Services.AddHostedService(services => services.GetRequiredService<DecisionWriter>());
builder.Services.AddHostedService<WalCheckpointer>();
builder.Services.AddSingleton<BatchStore>();
builder.Services.AddSingleton<BatchWorker>();
builder.Services.AddHostedService(services => services.GetRequiredService<BatchWorker>());
// Two of one kind: AddHostedService would keep only the first.
builder.Services.AddSingleton<IHostedService>(services => new MatchingKeysRefresh(services.GetRequiredService<Database>(), "opportunities",
    decisions: false, services.GetRequiredService<OpportunityStore>().RekeyAsync, services.GetRequiredService<ILogger<MatchingKeysRefresh>>()));
builder.Services.AddSingleton<IHostedService>(services => new MatchingKeysRefresh(services.GetRequiredService<Database>(), "registrations",
    decisions: true, services.GetRequiredService<RegistrationStore>().RekeyAsync, services.GetRequiredService<ILogger<MatchingKeysRefresh>>()));
builder.Services.AddSingleton<ProtectionSweeper>();
builder.Services.AddHostedService(services => services.GetRequiredService<ProtectionSweeper>());
builder.Services.AddOptions<ProductCatalogue>().Bind(config.GetSection(ProductCatalogue.Section))
    .PostConfigure(o => o.ConflictScope = config[$"{RegistrationOptions.Section}:Policy:ConflictScope"] ?? ProductScope.Account)
    .Validate(o => !o.Problems().Any(), "Products:Lines: each line 1-64 characters with 1 or more products of 1-200 characters, no product in two lines.")
    .ValidateOnStart();
builder.Services.AddOptions<RegistrationOptions>().Bind(config.GetSection(RegistrationOptions.Section))
    .PostConfigure<IOptions<ProductCatalogue>>((o, products) => o.Policy.ProductLines = products.Value.Lines)
    .Validate(o => o.IsValid, "Registrations: policy version 1-32 characters; ICP employee limits 0 <= min <= max; MinDealSize keys ISO 4217 "
        + "with amounts >= 0; extensions MaxCount 0-100 and Days 1-730; ExpirySweepSeconds 1-86400; MemberInvitationDays 1-365; "
        + "Policy:ConflictScope account or product_line; Policy:SecondApprovalAbove keys ISO 4217 with amounts >= 0.")
    .ValidateOnStart();
builder.Services.AddOutbox();
builder.Services.AddCrmSync(config);
builder.Services.AddPipelinePull();
builder.Services.AddWebhooks(config);
builder.Services.AddOptions<ProgramHealthOptions>().Bind(config.GetSection(ProgramHealthOptions.Section))
    .Validate(o => o.IsValid, "ProgramHealth: ReviewSlaHours 1-8760, ExpiringWithinDays 1-365, ListLimit 1-10000.")
    .ValidateOnStart();
builder.Services.AddOptions<MatchingOptions>().Bind(config.GetSection(MatchingOptions.Section))
    .Validate(o => o.IsValid, "Matching: thresholds must satisfy 0 < ReviewThreshold < ConflictThreshold <= 1; blocking limits must be positive.")
    .ValidateOnStart();

// Who may call: an API key, or a person's bearer token from a configured issuer.
builder.Services.AddSingleton<PersonStore>();
builder.Services.AddSingleton<OidcIssuers>();
builder.Services.AddHttpClient(OidcIssuers.ClientName, c => c.Timeout = TimeSpan.FromSeconds(10));
builder.Services.AddAuthentication(BearerAuthentication.EitherScheme)
    .AddPolicyScheme(BearerAuthentication.EitherScheme, null, o => o.ForwardDefaultSelector = context =>
        BearerAuthentication.Presented(context.Request) ? BearerAuthentication.SchemeName : ApiKeyAuthentication.SchemeName)
    .AddScheme<AuthenticationSchemeOptions, ApiKeyAuthentication>(ApiKeyAuthentication.SchemeName, null)
    .AddScheme<AuthenticationSchemeOptions, BearerAuthentication>(BearerAuthentication.SchemeName, null);
builder.Services.AddAuthorization(Policies.Add);
builder.Services.AddPerKeyRateLimiting();

// Operations.
builder.Services.AddOpenApiDocument(config);
builder.Services.AddHealth();
builder.Services.AddOpenTelemetry()
    .ConfigureResource(r => r.AddService("partnerdeals-api"))
    .WithMetrics(m => m.AddMeter(OutboxDispatcher.MeterName, PartnerPreChecks.MeterName, DecisionWriter.MeterName,
        PartnerDeals.Api.Features.PipelinePull.PipelinePuller.MeterName).AddAspNetCoreInstrumentation().AddRuntimeInstrumentation().AddPrometheusExporter());

var app = builder.Build();

app.UseExceptionHandler();
app.UseStatusCodePages();
app.UseRouting();
app.UseMiddleware<RequestBodyLimit>();
app.Use(BearerAuthentication.CheckCredentialHeaders);
app.UseAuthentication();
app.UseRateLimiter();
app.UseAuthorization();
app.UseMiddleware<SuspendedPartners>();

app.UseOpenApiDocument();
app.MapHealth();
app.MapPrometheusScrapingEndpoint("/metrics");

var v1 = app.MapGroup("/v1");
v1.MapPartners();
v1.MapApiKeys();
v1.MapPeople();
v1.MapOpportunities();
v1.MapConflictChecks();
v1.MapRegistrations();
v1.MapRegistrationBatches();
v1.MapConflicts();
v1.MapSync();
v1.MapWebhooks();
v1.MapProductLines();
PartnerDeals.Api.Features.PipelinePull.PipelineApi.MapPipelinePull(v1);
v1.MapFees();
v1.MapMetrics();

try
{
    // Settings first: a bad value must stop start-up before anything touches the database.
    app.Services.GetRequiredService<IStartupValidator>().Validate();
    if (StartupFailures.TakenAddress(config["urls"]) is { } taken)
    {
        throw new Microsoft.AspNetCore.Connections.AddressInUseException($"{taken} is in use.");
    }
    await app.Services.GetRequiredService<Migrator>().ApplyAsync(CancellationToken.None);
    await app.Services.GetRequiredService<BootstrapKeys>().EnsureAsync(CancellationToken.None);

    await app.RunAsync();
}
// Only as its own process: a host started in tests hands the failure to the test.
catch (Exception failure) when (System.Reflection.Assembly.GetEntryAssembly() == typeof(Program).Assembly
    && StartupFailures.Describe(failure, config["urls"], DatabaseFile()) is { } cause)
{
    app.Logger.LogDebug(failure, "Start-up failed");
    await Console.Error.WriteLineAsync($"PartnerDeals did not start: {cause}");
    return 1;
}
return 0;

// The SQLite default lives under data/ beside the content root, so `dotnet run` works on a bare machine.
string ResolveConnectionString(DatabaseProvider provider)
{
    var configured = config.GetConnectionString(DatabaseOptions.ConnectionStringName);
    if (provider != DatabaseProvider.Sqlite) return configured ?? "";
    var sqlite = new SqliteConnectionStringBuilder(string.IsNullOrWhiteSpace(configured) ? DatabaseOptions.DefaultSqliteConnectionString : configured);
    if (!Path.IsPathRooted(sqlite.DataSource) && sqlite.DataSource != ":memory:" && sqlite.Mode != SqliteOpenMode.Memory)
    {
        sqlite.DataSource = Path.Combine(builder.Environment.ContentRootPath, sqlite.DataSource);
    }
    return sqlite.ToString();
}

// The SQLite file a start-up failure names; none for SQL Server.
string? DatabaseFile()
{
    try
    {
        return new SqliteConnectionStringBuilder(ResolveConnectionString(DatabaseProvider.Sqlite)).DataSource;
    }
    catch (ArgumentException)
    {
        return null;
    }
}

/// <summary>The host's entry point; public so tests can start the real application.</summary>
public partial class Program;
