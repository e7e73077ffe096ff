using System.ComponentModel.DataAnnotations;
using System.Globalization;
using System.Threading.RateLimiting;
using Microsoft.Extensions.Options;
using PartnerDeals.Api.Infrastructure.Errors;

namespace PartnerDeals.Api.Infrastructure.Auth;

/// <summary>Bound from the <c>RateLimiting</c> section.</summary>
public sealed class RateLimitingOptions
{
    public const string Section = "RateLimiting";

    /// <summary>Set false to turn limiting off (benchmarks and load tests do).</summary>
    public bool Enabled { get; set; } = true;

    /// <summary>Sustained requests per second per API key (or per client address without a key).</summary>
    [Range(1, 1_000_000)]
    public int PermitsPerSecond { get; set; } = 100;

    /// <summary>Requests a key may make at once above the sustained rate (the token bucket size).</summary>
    [Range(1, 1_000_000)]
    public int Burst { get; set; } = 1_000;
}

public static class RateLimitingSetup
{
    /// <summary>
    /// A token bucket per API key: a CRM pushing batches (up to 1,000 items a request) is never near
    /// the defaults, while a runaway client cannot starve the others. Requests without a key share a
    /// bucket per address, which also slows key guessing. Health, metrics and Swagger are not limited.
    /// The buckets are per instance, like any in-process limiter.
    /// </summary>
    public static IServiceCollection AddPerKeyRateLimiting(this IServiceCollection services)
    {
        services.AddRateLimiter(limiter =>
        {
            limiter.RejectionStatusCode = StatusCodes.Status429TooManyRequests;
            limiter.GlobalLimiter = PartitionedRateLimiter.Create<HttpContext, string>(http =>
            {
                var options = http.RequestServices.GetRequiredService<IOptions<RateLimitingOptions>>().Value;
                if (!options.Enabled || !http.Request.Path.StartsWithSegments("/v1"))
                {
                    return RateLimitPartition.GetNoLimiter("unlimited");
                }
                var partition = http.User.KeyId() is { } keyId ? "key:" + keyId
                    : http.User.PersonId() is { } person ? "person:" + person
                    : "address:" + http.Connection.RemoteIpAddress;
                return RateLimitPartition.GetTokenBucketLimiter(partition, _ => new TokenBucketRateLimiterOptions
                {
                    TokenLimit = options.Burst,
                    TokensPerPeriod = options.PermitsPerSecond,
                    ReplenishmentPeriod = TimeSpan.FromSeconds(1),
                    QueueLimit = 0,
                    AutoReplenishment = true,
                });
            });
            limiter.OnRejected = async (context, ct) =>
            {
                var retryAfter = context.Lease.TryGetMetadata(MetadataName.RetryAfter, out var wait)
                    ? Math.Max(1, (int)Math.Ceiling(wait.TotalSeconds))
                    : 1;
                context.HttpContext.Response.Headers.RetryAfter = retryAfter.ToString(CultureInfo.InvariantCulture);
                var problems = context.HttpContext.RequestServices.GetRequiredService<IProblemDetailsService>();
                await problems.WriteAsync(new ProblemDetailsContext
                {
                    HttpContext = context.HttpContext,
                    ProblemDetails =
                    {
                        Status = 429,
                        Type = ProblemTypes.RateLimited,
                        Title = "Too many requests for this key.",
                        Detail = $"Retry after {retryAfter} second(s).",
                    },
                });
            };
        });
        return services;
    }
}
