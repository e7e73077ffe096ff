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
    public const string SecondApprovalRequired = Base + "second-approval-required";
    public const string SplitNotWhole = Base + "split-not-whole";
    public const string PreconditionFailed = Base + "precondition-failed";
    public const string IdempotencyKeyReused = Base + "idempotency-key-reused";
    public const string PreconditionRequired = Base + "precondition-required";
    public const string PayloadTooLarge = Base + "payload-too-large";
    public const string UnsupportedMediaType = Base + "unsupported-media-type";
    public const string RateLimited = Base + "rate-limited";
    public const string Internal = Base + "internal";
    public const string Unavailable = Base + "unavailable";

    /// <summary>Every type with its status and when it is answered: what the OpenAPI document and docs/api.md list.</summary>
    public static readonly IReadOnlyList<(string Type, int Status, string When)> All =
    [
        (Validation, 400, "fields fail validation (every bad field is listed under `errors`, by its JSON path)"),
        (MalformedRequest, 400, "the body is not JSON, a value has the wrong type, an unknown or repeated field, a malformed query parameter or header, an API key and a bearer token both sent"),
        (Unauthenticated, 401, "no key or bearer token, a key that is not valid or is revoked, or a token that is not valid (expired, for another audience, of an unknown issuer or key)"),
        (Forbidden, 403, "the caller's role may not do this; a disabled person; a person whose token maps to no role or no partner"),
        (PartnerSuspended, 403, "the partner is suspended: its keys may read, not change"),
        (NotFound, 404, "an unknown route or resource (also another partner's resource, seen by a partner)"),
        (MethodNotAllowed, 405, "the route exists, the method does not"),
        (NotAcceptable, 406, "the `Accept` header names no type this answer has"),
        (Conflict, 409, "a unique value is taken (a partner's name), or the partner may not do this now"),
        (InvalidTransition, 409, "the change is not allowed from the current state"),
        (SecondApprovalRequired, 409, "above `Registrations:Policy:SecondApprovalAbove` a second, different person must approve"),
        (PreconditionFailed, 412, "`If-Match` is stale"),
        (PayloadTooLarge, 413, "the body is above `Http:MaxRequestBodyBytes`"),
        (UnsupportedMediaType, 415, "the body is not of a type the operation reads"),
        (IdempotencyKeyReused, 422, "an `Idempotency-Key` came back with another body"),
        (SplitNotWhole, 422, "a fee split's shares do not total exactly 100 (the sum is in `detail`)"),
        (PreconditionRequired, 428, "`If-Match` is missing"),
        (RateLimited, 429, "the key's rate limit; see `Retry-After`"),
        (QuotaExceeded, 429, "the partner's check quota, or an endpoint's test events; see `Retry-After`"),
        (Internal, 500, "a bug; the details are in the log under the `traceId`"),
        (Unavailable, 503, "the database stayed locked, or too many decisions wait; nothing changed, retry after `Retry-After`"),
    ];

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
