using PartnerDeals.Api.Infrastructure.Errors;

namespace PartnerDeals.Api.Infrastructure.Auth;

/// <summary>
/// A suspended partner's keys read only: its registrations, fees and metrics stay visible, but it
/// cannot register, edit, withdraw, ask for extensions, write notes or run pre-checks until ops
/// reactivate it. Runs after authentication, so the status is the one stored at this request.
/// </summary>
public sealed class SuspendedPartners(RequestDelegate next)
{
    public async Task InvokeAsync(HttpContext http, IProblemDetailsService problems)
    {
        var method = http.Request.Method;
        if (!http.User.IsSuspendedPartner() || HttpMethods.IsGet(method) || HttpMethods.IsHead(method) || HttpMethods.IsOptions(method))
        {
            await next(http);
            return;
        }
        http.Response.StatusCode = StatusCodes.Status403Forbidden;
        await problems.WriteAsync(new ProblemDetailsContext
        {
            HttpContext = http,
            ProblemDetails =
            {
                Status = StatusCodes.Status403Forbidden,
                Type = ProblemTypes.PartnerSuspended,
                Title = "The partner is suspended.",
                Detail = "A suspended partner's keys may read but not change anything. Ask the channel team to reactivate the partner.",
            },
        });
    }
}
