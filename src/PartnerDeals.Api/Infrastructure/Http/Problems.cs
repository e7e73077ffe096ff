using Microsoft.AspNetCore.Http.HttpResults;
using PartnerDeals.Api.Infrastructure.Errors;

namespace PartnerDeals.Api.Infrastructure.Http;

/// <summary>The problem documents handlers answer, each with its stable type.</summary>
public static class Problems
{
    public static ValidationProblem Validation(IDictionary<string, string[]> errors) =>
        TypedResults.ValidationProblem(errors, title: "One or more fields are invalid.", type: ProblemTypes.Validation);

    public static ValidationProblem Validation(string field, string message) =>
        Validation(new Dictionary<string, string[]> { [field] = [message] });

    /// <summary>A validation problem (400, the same shape) where the handler's result type needs a <see cref="ProblemHttpResult"/>.</summary>
    public static ProblemHttpResult InvalidField(string field, string message) =>
        TypedResults.Problem(title: "One or more fields are invalid.", statusCode: 400, type: ProblemTypes.Validation,
            extensions: new Dictionary<string, object?> { ["errors"] = new Dictionary<string, string[]> { [field] = [message] } });

    public static ProblemHttpResult NotFound(string what) =>
        TypedResults.Problem(title: $"{what} was not found.", statusCode: 404, type: ProblemTypes.NotFound);

    public static ProblemHttpResult Conflict(string title, string? detail = null) =>
        TypedResults.Problem(title: title, detail: detail, statusCode: 409, type: ProblemTypes.Conflict);

    public static ProblemHttpResult InvalidTransition(string detail) =>
        TypedResults.Problem(title: "This change is not allowed from the current state.", detail: detail, statusCode: 409, type: ProblemTypes.InvalidTransition);

    public static ProblemHttpResult IdempotencyKeyReused() =>
        TypedResults.Problem(
            title: "This Idempotency-Key was used with another request.",
            detail: "A retry must repeat the first request exactly; use a new key for a new request.",
            statusCode: 422, type: ProblemTypes.IdempotencyKeyReused);

    public static ProblemHttpResult Forbidden(string detail) =>
        TypedResults.Problem(title: "This caller may not do that.", detail: detail, statusCode: 403, type: ProblemTypes.Forbidden);

    public static ProblemHttpResult SecondApprovalRequired(string detail) =>
        TypedResults.Problem(title: "A second person must approve.", detail: detail, statusCode: 409, type: ProblemTypes.SecondApprovalRequired);

    public static ProblemHttpResult PreconditionFailed() =>
        TypedResults.Problem(
            title: "The resource has changed since you read it.",
            detail: "Read it again and retry with the new ETag in If-Match.",
            statusCode: 412, type: ProblemTypes.PreconditionFailed);

    public static ProblemHttpResult PreconditionRequired() =>
        TypedResults.Problem(
            title: "If-Match is required.",
            detail: "Send the ETag from your last read in the If-Match header so concurrent edits are not lost.",
            statusCode: 428, type: ProblemTypes.PreconditionRequired);
}
