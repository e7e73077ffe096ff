using System.Net;
using Microsoft.Extensions.Http.Resilience;
using Microsoft.Extensions.Options;
using Polly;
using Polly.Timeout;

namespace PartnerDeals.Api.Features.Sync;

/// <summary>Wires the CRM sync: settings, one resilient HTTP client per CRM, the enabled adapters and their outbox channel.</summary>
public static class SyncSetup
{
    public static IServiceCollection AddCrmSync(this IServiceCollection services, IConfiguration config)
    {
        services.AddOptions<CrmOptions>().Bind(config.GetSection(CrmOptions.Section)).ValidateOnStart();
        services.AddSingleton<IValidateOptions<CrmOptions>, CrmOptionsValidation>();

        foreach (var crm in Crms.All)
        {
            services.AddHttpClient(crm)
                // Tokens and keys travel in headers; no log line may carry them.
                .RedactLoggedHeaders(_ => true)
                .AddResilienceHandler($"{crm}-resilience", (pipeline, context) =>
                    Configure(pipeline, context.ServiceProvider.GetRequiredService<IOptions<CrmOptions>>().Value.Resilience,
                        context.ServiceProvider.GetRequiredService<TimeProvider>()));
        }

        services.AddSingleton<SalesforceAdapter>();
        services.AddSingleton<HubSpotAdapter>();
        services.AddSingleton<DynamicsAdapter>();
        // Only the enabled CRMs get an adapter: a disabled one's settings may be empty.
        services.AddSingleton<IReadOnlyList<ICrmAdapter>>(sp => sp.GetRequiredService<IOptions<CrmOptions>>().Value.Enabled
            .Select(crm => crm switch
            {
                Crms.Salesforce => (ICrmAdapter)sp.GetRequiredService<SalesforceAdapter>(),
                Crms.HubSpot => sp.GetRequiredService<HubSpotAdapter>(),
                _ => sp.GetRequiredService<DynamicsAdapter>(),
            }).ToList());
        services.AddSingleton<Registrations.IRegistrationFollower, CrmOutbox>();
        services.AddSingleton<Outbox.IDeliverySender, CrmSender>();
        return services;
    }

    /// <summary>
    /// Outermost first: quick retries of one attempt, the circuit breaker that stops calling a CRM that is
    /// down, and the timeout of each try. Rate limits with a long wait and refusals pass straight through:
    /// the dispatcher keeps those waits in the database instead of holding a request open.
    /// </summary>
    private static void Configure(ResiliencePipelineBuilder<HttpResponseMessage> pipeline, ResilienceOptions o, TimeProvider clock)
    {
        if (o.RetryAttempts > 0)
        {
            pipeline.AddRetry(new HttpRetryStrategyOptions
            {
                MaxRetryAttempts = o.RetryAttempts,
                Delay = o.RetryBaseDelay,
                BackoffType = DelayBackoffType.Exponential,
                UseJitter = true,
                ShouldRetryAfterHeader = true,
                // A request that must not run twice is left to the dispatcher, which checks what happened before trying again.
                ShouldHandle = args => ValueTask.FromResult(
                    !(args.Context.GetRequestMessage()?.Options.TryGetValue(CrmAnswers.NotRetriedInline, out var once) == true && once)
                    && RetryInline(args.Outcome, o.MaxInlineRetryAfter, clock)),
            });
        }
        pipeline.AddCircuitBreaker(new HttpCircuitBreakerStrategyOptions
        {
            FailureRatio = o.FailureRatio,
            MinimumThroughput = o.MinimumThroughput,
            SamplingDuration = o.SamplingDuration,
            BreakDuration = o.BreakDuration,
            ShouldHandle = args => ValueTask.FromResult(IsOutage(args.Outcome)),
        });
        pipeline.AddTimeout(new HttpTimeoutStrategyOptions { Timeout = o.AttemptTimeout });
    }

    /// <summary>The CRM is unreachable or broken (not: it refused us, or asked us to slow down).</summary>
    internal static bool IsOutage(Outcome<HttpResponseMessage> outcome) =>
        outcome.Exception is HttpRequestException or TimeoutRejectedException
        || outcome.Result is { StatusCode: >= HttpStatusCode.InternalServerError or HttpStatusCode.RequestTimeout };

    /// <summary>An outage, or a rate limit whose wait is short enough to sit out inside this attempt.</summary>
    internal static bool RetryInline(Outcome<HttpResponseMessage> outcome, TimeSpan maxWait, TimeProvider clock)
    {
        var now = clock.GetUtcNow();
        var wait = outcome.Result is { } response && CrmAnswers.RetryAfter(response, now) is { } at ? at - now : (TimeSpan?)null;
        if (wait > maxWait) return false;
        return IsOutage(outcome) || (outcome.Result?.StatusCode == HttpStatusCode.TooManyRequests && wait is not null);
    }

    private sealed class CrmOptionsValidation : IValidateOptions<CrmOptions>
    {
        public ValidateOptionsResult Validate(string? name, CrmOptions options) =>
            options.Problems().ToList() is { Count: > 0 } problems ? ValidateOptionsResult.Fail(problems) : ValidateOptionsResult.Success;
    }
}
