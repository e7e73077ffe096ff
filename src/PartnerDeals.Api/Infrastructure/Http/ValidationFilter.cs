using System.Text.Json;
using FluentValidation;

namespace PartnerDeals.Api.Infrastructure.Http;

/// <summary>Runs the FluentValidation validator of a request body and answers 400 listing every bad field.</summary>
public sealed class ValidationFilter<T>(IValidator<T> validator) : IEndpointFilter
{
    public async ValueTask<object?> InvokeAsync(EndpointFilterInvocationContext context, EndpointFilterDelegate next)
    {
        var body = context.Arguments.OfType<T>().FirstOrDefault();
        if (body is null && context.HttpContext.GetEndpoint()?.Metadata.GetMetadata<Microsoft.AspNetCore.Http.Metadata.IAcceptsMetadata>() is { IsOptional: true })
        {
            return await next(context); // an optional body that was left out
        }
        if (body is null)
        {
            return Problems.Validation(new Dictionary<string, string[]> { ["body"] = ["A request body is required."] });
        }

        var result = await validator.ValidateAsync(body, context.HttpContext.RequestAborted);
        return result.IsValid ? await next(context) : Problems.Validation(result.ToDictionary());
    }
}

public static class ValidationSetup
{
    /// <summary>Error keys and messages name fields as the JSON does (<c>terms.feePercent</c>), not as C# does.</summary>
    public static void UseJsonFieldNames()
    {
        ValidatorOptions.Global.PropertyNameResolver = (_, member, _) =>
            member is null ? null : JsonNamingPolicy.CamelCase.ConvertName(member.Name);
        ValidatorOptions.Global.DisplayNameResolver = (_, member, _) =>
            member is null ? null : JsonNamingPolicy.CamelCase.ConvertName(member.Name);
    }

    /// <summary>Validates the body of type <typeparamref name="T"/> and documents the 400 it may answer.</summary>
    public static RouteHandlerBuilder WithValidation<T>(this RouteHandlerBuilder builder) =>
        builder.AddEndpointFilter<ValidationFilter<T>>()
            .ProducesValidationProblem();
}
