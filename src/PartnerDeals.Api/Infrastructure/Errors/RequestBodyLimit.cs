using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Http.Metadata;
using Microsoft.Extensions.Options;
using PartnerDeals.Api.Infrastructure.Http;

namespace PartnerDeals.Api.Infrastructure.Errors;

/// <summary>
/// Answers 413 for a body above the limit (<c>Http:MaxRequestBodyBytes</c>, or the endpoint's own
/// <see cref="IRequestSizeLimitMetadata"/>) before a handler sees it. A declared Content-Length is
/// refused at once; an undeclared (chunked) body is cut off by the server's own limit, set here.
/// </summary>
public sealed class RequestBodyLimit(RequestDelegate next, IOptions<HttpOptions> options)
{
    public async Task InvokeAsync(HttpContext http, IProblemDetailsService problems)
    {
        var limit = http.GetEndpoint()?.Metadata.GetMetadata<IRequestSizeLimitMetadata>()?.MaxRequestBodySize ?? options.Value.MaxRequestBodyBytes;
        var feature = http.Features.Get<IHttpMaxRequestBodySizeFeature>();
        if (feature is { IsReadOnly: false }) feature.MaxRequestBodySize = limit;

        if (http.Request.ContentLength > limit)
        {
            http.Response.StatusCode = StatusCodes.Status413PayloadTooLarge;
            await problems.WriteAsync(new ProblemDetailsContext
            {
                HttpContext = http,
                ProblemDetails =
                {
                    Status = StatusCodes.Status413PayloadTooLarge,
                    Type = ProblemTypes.PayloadTooLarge,
                    Title = "The request body is too large.",
                    Detail = $"The limit is {limit} bytes.",
                },
            });
            return;
        }
        await next(http);
    }
}
