namespace PartnerDeals.Api.Infrastructure.Errors;

/// <summary>
/// The stable <c>type</c> of every problem document the API answers. Clients switch on these;
/// they never change once published. docs/api.md lists them with their meaning.
/// </summary>
public static class ProblemTypes
{
    private const string Base = "urn:partnerdeals:problem:";

    public const string Validation = Base + "validation";
    public const string MalformedRequest = Base + "malformed-request";
    public const string Unauthenticated = Base + "unauthenticated";
    public const string Forbidden = Base + "forbidden";
    public const string PartnerSuspended = Base + "partner-suspended";
    public const string QuotaExceeded = Base + "quota-exceeded";
    public const string NotFound = Base + "not-found";
    public const string MethodNotAllowed = Base + "method-not-allowed";
    public const string NotAcceptable = Base + "not-acceptable";
    public const string Conflict = Base + "conflict";
    public const string InvalidTransition = Base + "invalid-transition";
    public const string PreconditionFailed = Base + "precondition-failed";
    public const string IdempotencyKeyReused = Base + "idempotency-key-reused";
    public const string PreconditionRequired = Base + "precondition-required";
    public const string PayloadTooLarge = Base + "payload-too-large";
    public const string UnsupportedMediaType = Base + "unsupported-media-type";
    public const string RateLimited = Base + "rate-limited";
    public const string Internal = Base + "internal";
    public const string Unavailable = Base + "unavailable";

    /// <summary>The type for an error response that carries only a status code.</summary>
    public static string ForStatus(int status) => status switch
    {
        400 => MalformedRequest,
        401 => Unauthenticated,
        403 => Forbidden,
        404 => NotFound,
        405 => MethodNotAllowed,
        406 => NotAcceptable,
        409 => Conflict,
        412 => PreconditionFailed,
        413 => PayloadTooLarge,
        415 => UnsupportedMediaType,
        428 => PreconditionRequired,
        429 => RateLimited,
        503 => Unavailable,
        _ => Internal,
    };
}
