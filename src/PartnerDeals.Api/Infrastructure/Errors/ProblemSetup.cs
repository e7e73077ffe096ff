using System.Diagnostics;
using System.Text.Json;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Diagnostics;
using Microsoft.AspNetCore.Mvc;
using PartnerDeals.Api.Infrastructure.Data;

namespace PartnerDeals.Api.Infrastructure.Errors;

/// <summary>
/// Makes every error an RFC 9457 problem document with a stable type and a trace id, whether it
/// comes from a handler, the framework (404, 405, 415, bad JSON) or an exception.
/// </summary>
public static partial class ProblemSetup
{
    public static IServiceCollection AddProblemDocuments(this IServiceCollection services)
    {
        services.AddProblemDetails(options => options.CustomizeProblemDetails = context =>
        {
            var problem = context.ProblemDetails;
            var status = problem.Status ?? context.HttpContext.Response.StatusCode;
            // The framework fills in links to RFC sections; replace them with our stable types.
            if (problem.Type is null || problem.Type.StartsWith("https://tools.ietf.org/", StringComparison.Ordinal)
                || problem.Type.StartsWith("https://datatracker.ietf.org/", StringComparison.Ordinal))
            {
                problem.Type = ProblemTypes.ForStatus(status);
            }
            if (status == StatusCodes.Status415UnsupportedMediaType) problem.Detail ??= "Send the body as application/json.";
            problem.Instance ??= context.HttpContext.Request.Path;
            problem.Extensions["traceId"] = Activity.Current?.Id ?? context.HttpContext.TraceIdentifier;
        });
        services.AddExceptionHandler<ProblemExceptionHandler>();
        return services;
    }

    /// <summary>Turns exceptions into problem documents: bad requests say what was wrong, anything else is a 500 without internals.</summary>
    internal sealed partial class ProblemExceptionHandler(IProblemDetailsService problems, ILogger<ProblemExceptionHandler> logger)
        : IExceptionHandler
    {
        public async ValueTask<bool> TryHandleAsync(HttpContext http, Exception exception, CancellationToken ct)
        {
            if (exception is OperationCanceledException && http.RequestAborted.IsCancellationRequested)
            {
                return true; // the client went away; there is nobody to answer
            }

            var problem = exception switch
            {
                BadHttpRequestException bad => FromBadRequest(bad),
                _ when SqlDialect.IsBusy(exception) => Busy(http, exception),
                _ => null,
            };
            if (problem is null)
            {
                logger.LogError(exception, "Unhandled exception on {Method} {Path}", http.Request.Method, http.Request.Path);
                problem = new ProblemDetails
                {
                    Status = StatusCodes.Status500InternalServerError,
                    Type = ProblemTypes.Internal,
                    Title = "An unexpected error occurred.",
                    Detail = "The error has been logged; quote the traceId when reporting it.",
                };
            }

            http.Response.StatusCode = problem.Status!.Value;
            return await problems.TryWriteAsync(new ProblemDetailsContext { HttpContext = http, ProblemDetails = problem, Exception = exception });
        }

        private ProblemDetails Busy(HttpContext http, Exception exception)
        {
            logger.LogWarning(exception, "Database busy on {Method} {Path}", http.Request.Method, http.Request.Path);
            http.Response.Headers.RetryAfter = "1";
            return new ProblemDetails
            {
                Status = StatusCodes.Status503ServiceUnavailable,
                Type = ProblemTypes.Unavailable,
                Title = "The service is busy.",
                Detail = "Nothing was changed. Retry after a second; a POST with the same Idempotency-Key is safe to repeat.",
            };
        }

        private static ProblemDetails FromBadRequest(BadHttpRequestException bad)
        {
            switch (bad.StatusCode)
            {
                case StatusCodes.Status413PayloadTooLarge:
                    return new ProblemDetails { Status = 413, Type = ProblemTypes.PayloadTooLarge, Title = "The request body is too large." };
                case StatusCodes.Status415UnsupportedMediaType:
                    return new ProblemDetails
                    {
                        Status = 415,
                        Type = ProblemTypes.UnsupportedMediaType,
                        Title = "Unsupported media type.",
                        Detail = "Send the body as application/json.",
                    };
            }

            if (bad.InnerException is JsonException json)
            {
                var field = JsonPathToField(json.Path);
                if (field is not null && json.Message.StartsWith("Duplicate property", StringComparison.Ordinal))
                {
                    var duplicate = new ValidationProblemDetails
                    {
                        Status = 400,
                        Type = ProblemTypes.MalformedRequest,
                        Title = "The request body names a field twice.",
                        Detail = $"The field '{field}' appears more than once; send each field once.",
                    };
                    duplicate.Errors[field] = ["Sent more than once."];
                    return duplicate;
                }
                var problem = new ValidationProblemDetails
                {
                    Status = 400,
                    Type = ProblemTypes.MalformedRequest,
                    Title = "The request body is not valid JSON for this operation.",
                    Detail = field is null
                        ? "The body could not be parsed as JSON."
                        : $"The value at '{field}' has the wrong type, is not one of the allowed values, or is not a known field.",
                };
                if (field is not null) problem.Errors[field] = ["Invalid value or unknown field."];
                return problem;
            }

            var parameter = BindFailure().Match(bad.Message);
            return new ProblemDetails
            {
                Status = 400,
                Type = ProblemTypes.MalformedRequest,
                Title = "The request could not be read.",
                Detail = parameter.Success
                    ? $"The parameter '{parameter.Groups["name"].Value}' is missing or has an invalid value."
                    : "A required part of the request is missing or malformed.",
            };
        }

        /// <summary><c>$.terms.feePercent</c> → <c>terms.feePercent</c>; <c>$</c> (the document itself) → null.</summary>
        internal static string? JsonPathToField(string? path)
        {
            if (string.IsNullOrEmpty(path) || path == "$") return null;
            return path.StartsWith("$.", StringComparison.Ordinal) ? path[2..] : path.TrimStart('$');
        }

        // The framework's own wording: Failed to bind parameter "int? limit" from "abc". / Required parameter "X body" was not provided
        [GeneratedRegex("parameter \"(?:[^\"]* )?(?<name>[A-Za-z0-9_]+)\"")]
        private static partial Regex BindFailure();
    }
}
