using System.ComponentModel.DataAnnotations;
using FluentValidation;
using PartnerDeals.Api.Infrastructure.Http;
using PartnerDeals.Api.Infrastructure.Auth;

namespace PartnerDeals.Api.Features.ApiKeys;

/// <summary>An API key as listed: never its secret.</summary>
public sealed record ApiKeySummary
{
    /// <summary>The key's id, used to revoke it.</summary>
    /// <example>0193a6f2-7c1e-7d3a-9f00-5b2c8e4d1a10</example>
    public required Guid Id { get; init; }

    /// <summary>What the key is for, chosen by whoever issued it.</summary>
    /// <example>Salesforce integration</example>
    public required string Name { get; init; }

    /// <summary>The first characters of the key, to recognise it without revealing it.</summary>
    /// <example>pd_1a2b3c4d</example>
    public required string Prefix { get; init; }

    /// <summary>The key's role.</summary>
    /// <example>crm</example>
    public required ApiKeyRole Role { get; init; }

    /// <summary>The partner a partner key is bound to; null for other roles.</summary>
    public Guid? PartnerId { get; init; }

    /// <summary>When it was issued (UTC).</summary>
    public required DateTimeOffset CreatedAt { get; init; }

    /// <summary>The key that issued it; null when the service installed it.</summary>
    public Guid? CreatedBy { get; init; }

    /// <summary>When it was revoked; null while it works.</summary>
    public DateTimeOffset? RevokedAt { get; init; }
}

/// <summary>A newly issued key. <c>key</c> is shown this once and cannot be read again: store it now.</summary>
public sealed record ApiKeyCreated
{
    /// <summary>The key's id, used to revoke it.</summary>
    /// <example>0193a6f2-7c1e-7d3a-9f00-5b2c8e4d1a10</example>
    public required Guid Id { get; init; }

    /// <summary>What the key is for.</summary>
    /// <example>Salesforce integration</example>
    public required string Name { get; init; }

    /// <summary>The key's role.</summary>
    /// <example>crm</example>
    public required ApiKeyRole Role { get; init; }

    /// <summary>The partner a partner key is bound to; null for other roles.</summary>
    public Guid? PartnerId { get; init; }

    /// <summary>The first characters of the key.</summary>
    /// <example>pd_1a2b3c4d</example>
    public required string Prefix { get; init; }

    /// <summary>The secret: send it in the X-Api-Key header. Shown once.</summary>
    /// <example>pd_1a2b3c4d_9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08</example>
    public required string Key { get; init; }

    /// <summary>When it was issued (UTC).</summary>
    public required DateTimeOffset CreatedAt { get; init; }

    public static ApiKeyCreated From(IssuedApiKey issued) => new()
    {
        Id = issued.Key.Id,
        Name = issued.Key.Name,
        Role = issued.Key.Role,
        PartnerId = issued.Key.PartnerId,
        Prefix = issued.Key.Prefix,
        Key = issued.Secret,
        CreatedAt = issued.Key.CreatedAt,
    };
}

/// <summary>Issue a vendor-side key.</summary>
// [Required] only marks fields as required in the OpenAPI document; the validators below enforce it.
public sealed record CreateApiKeyRequest
{
    /// <summary>What the key is for (1–200 characters).</summary>
    /// <example>Salesforce integration</example>
    [Required]
    public string? Name { get; init; }

    /// <summary><c>ops</c> for the channel team, <c>crm</c> for a CRM integration. Partner keys are issued under the partner.</summary>
    /// <example>crm</example>
    [Required]
    public ApiKeyRole? Role { get; init; }
}

/// <summary>Issue a key for a partner's portal or integration.</summary>
public sealed record CreatePartnerApiKeyRequest
{
    /// <summary>What the key is for (1–200 characters).</summary>
    /// <example>Partner portal</example>
    [Required]
    public string? Name { get; init; }
}

public sealed class CreateApiKeyRequestValidator : AbstractValidator<CreateApiKeyRequest>
{
    public CreateApiKeyRequestValidator()
    {
        RuleFor(x => x.Name).NotEmpty().MaximumLength(200).Name();
        RuleFor(x => x.Role).NotNull()
            .Must(r => r is ApiKeyRole.Ops or ApiKeyRole.Crm)
            .WithMessage("role must be 'ops' or 'crm'; partner keys are issued under POST /v1/partners/{id}/api-keys.");
    }
}

public sealed class CreatePartnerApiKeyRequestValidator : AbstractValidator<CreatePartnerApiKeyRequest>
{
    public CreatePartnerApiKeyRequestValidator() => RuleFor(x => x.Name).NotEmpty().MaximumLength(200).Name();
}
