using System.ComponentModel.DataAnnotations;
using FluentValidation;
using PartnerDeals.Api.Infrastructure.Http;
using PartnerDeals.Api.Features.ConflictChecks;

namespace PartnerDeals.Api.Features.Opportunities;

public enum OpportunityStatus
{
    Open,
    Won,
    Lost,
}

/// <summary>An opportunity of the vendor's own pipeline, as its CRM describes it.</summary>
// [Required] only marks fields as required in the OpenAPI document; the validators below enforce it.
public record OpportunityFields
{
    /// <summary>The account's company name (1–300 characters).</summary>
    /// <example>Contoso Pharmaceuticals GmbH</example>
    [Required]
    public string? AccountName { get; init; }

    /// <summary>The account's website URL, an e-mail address at it, or a bare host; reduced to the registrable domain for matching.</summary>
    /// <example>https://www.contoso-pharma.de/</example>
    public string? AccountDomain { get; init; }

    /// <summary>
    /// Other names the account is known by (the CRM's "also known as", former names, local-script names, tickers): up to 20,
    /// each 1–300 characters. Conflict checks match every name and say which one matched.
    /// </summary>
    /// <example>["Contoso Pharma", "Контосо Фарма"]</example>
    public IReadOnlyList<string>? AlternateNames { get; init; }

    /// <summary>
    /// The products the deal is for, as codes or names (up to 50, each 1–200 characters): with the policy's conflict scope
    /// <c>product_line</c>, a registration collides with it only when they share a product line (or either names none).
    /// </summary>
    /// <example>["analytics-suite"]</example>
    public IReadOnlyList<string>? Products { get; init; }

    /// <summary>ISO 3166-1 alpha-2.</summary>
    /// <example>DE</example>
    public string? Country { get; init; }

    /// <summary>The vendor's account owner.</summary>
    /// <example>jane.doe@vendor.example</example>
    public string? Owner { get; init; }

    /// <summary>The CRM's stage name.</summary>
    /// <example>Negotiation</example>
    public string? Stage { get; init; }

    /// <summary><c>open</c>, <c>won</c> (the account becomes an existing customer) or <c>lost</c>.</summary>
    /// <example>open</example>
    [Required]
    public OpportunityStatus? Status { get; init; }

    /// <summary>Deal amount, 0 or more; needs <c>currency</c>.</summary>
    /// <example>125000</example>
    public decimal? Amount { get; init; }

    /// <summary>ISO 4217.</summary>
    /// <example>EUR</example>
    public string? Currency { get; init; }

    /// <summary>Expected or actual close date.</summary>
    /// <example>2026-12-15</example>
    public DateOnly? CloseDate { get; init; }

    /// <summary>The day the CRM opened the opportunity: where the direct pipeline's time to close starts (default: the day PartnerDeals first received it).</summary>
    /// <example>2026-09-01</example>
    public DateOnly? OpenedDate { get; init; }
}

/// <summary>The body of <c>PUT /v1/opportunities/{source}/{externalId}</c>.</summary>
public sealed record UpsertOpportunityRequest : OpportunityFields;

/// <summary>One item of a batch: the fields, and the CRM identity the path carries for a single upsert.</summary>
public sealed record OpportunityBatchItem : OpportunityFields
{
    /// <summary>The CRM the opportunity lives in (lower case: letters, digits, - and _).</summary>
    /// <example>salesforce</example>
    [Required]
    public string? Source { get; init; }

    /// <summary>The opportunity's id in that CRM.</summary>
    /// <example>0065g00000AbCdEAAV</example>
    [Required]
    public string? ExternalId { get; init; }
}

/// <summary>Up to 1,000 upserts, written in one transaction.</summary>
public sealed record OpportunityBatchRequest
{
    [Required]
    public IReadOnlyList<OpportunityBatchItem>? Items { get; init; }
}

public enum UpsertOutcome
{
    Created,
    Updated,
    Invalid,
}

/// <summary>What happened to one item of a batch or row of an import.</summary>
public sealed record UpsertItemResult
{
    /// <summary>The item's position in the batch (0-based), or the row number of a CSV import (1 = the first data row).</summary>
    public required int Index { get; init; }

    public string? Source { get; init; }

    public string? ExternalId { get; init; }

    public required UpsertOutcome Outcome { get; init; }

    /// <summary>The opportunity's id when created or updated.</summary>
    public Guid? Id { get; init; }

    /// <summary>Why the item was refused, by field.</summary>
    public IDictionary<string, string[]>? Errors { get; init; }

    /// <summary>What cleaning changed or dropped before the item was written (vendor data is cleaned and kept, never refused for its characters).</summary>
    [System.Text.Json.Serialization.JsonIgnore(Condition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull)]
    public IReadOnlyList<FieldCleaning>? Cleaned { get; init; }
}

public sealed record OpportunityBatchResponse
{
    public required int Created { get; init; }
    public required int Updated { get; init; }
    public required int Invalid { get; init; }

    /// <summary>Items written after cleaning changed or dropped a field (each item says which).</summary>
    public required int Cleaned { get; init; }
    public required IReadOnlyList<UpsertItemResult> Items { get; init; }
}

/// <summary>The outcome of a CSV import.</summary>
public sealed record OpportunityImportResponse
{
    public required int RowsRead { get; init; }
    public required int Created { get; init; }
    public required int Updated { get; init; }
    public required int Rejected { get; init; }

    /// <summary>Rows written after cleaning changed or dropped a field.</summary>
    public required int Cleaned { get; init; }

    /// <summary>The refused rows with their reasons (the first 1,000).</summary>
    public required IReadOnlyList<UpsertItemResult> RejectedRows { get; init; }

    /// <summary>The cleaned rows with what was changed or dropped (the first 1,000).</summary>
    public required IReadOnlyList<CleanedRow> CleanedRows { get; init; }
}

/// <summary>A row of an import that was written after cleaning changed or dropped a field.</summary>
/// <param name="Index">The row number (1 = the first data row).</param>
/// <param name="Source">The row's CRM.</param>
/// <param name="ExternalId">The row's id in that CRM.</param>
/// <param name="Cleaned">What was changed or dropped.</param>
public sealed record CleanedRow(int Index, string? Source, string? ExternalId, IReadOnlyList<FieldCleaning> Cleaned);

/// <summary>An opportunity as stored, with the matching keys derived from it.</summary>
public sealed record Opportunity
{
    /// <example>0193a6f2-7c1e-7d3a-9f00-5b2c8e4d1a10</example>
    public required Guid Id { get; init; }

    /// <example>salesforce</example>
    public required string Source { get; init; }

    /// <example>0065g00000AbCdEAAV</example>
    public required string ExternalId { get; init; }

    /// <example>Contoso Pharmaceuticals GmbH</example>
    public required string AccountName { get; init; }

    public string? AccountDomain { get; init; }

    /// <summary>Other names the account is known by.</summary>
    public IReadOnlyList<string> AlternateNames { get; init; } = [];

    /// <summary>The products the deal is for.</summary>
    public IReadOnlyList<string> Products { get; init; } = [];

    /// <summary>The registrable domain used for matching; null for free mail or no domain.</summary>
    /// <example>contoso-pharma.de</example>
    public string? CompanyDomain { get; init; }

    public string? Country { get; init; }
    public string? Owner { get; init; }
    public string? Stage { get; init; }
    public required OpportunityStatus Status { get; init; }
    public decimal? Amount { get; init; }
    public string? Currency { get; init; }
    public DateOnly? CloseDate { get; init; }
    public DateOnly? OpenedDate { get; init; }

    /// <summary>The normalised company name the matcher compares.</summary>
    /// <example>contosopharmaceuticals</example>
    public required string NameKey { get; init; }

    public required DateTimeOffset CreatedAt { get; init; }
    public required DateTimeOffset UpdatedAt { get; init; }

    /// <summary>Only in the answer to an upsert: what cleaning changed or dropped before it was written.</summary>
    [System.Text.Json.Serialization.JsonIgnore(Condition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull)]
    public IReadOnlyList<FieldCleaning>? Cleaned { get; init; }
}

public sealed class OpportunityFieldsValidator : AbstractValidator<OpportunityFields>
{
    public OpportunityFieldsValidator()
    {
        RuleFor(x => x.AccountName).CompanyName(vendorData: true);
        RuleFor(x => x.AccountDomain).CompanyDomain();
        RuleFor(x => x.AlternateNames).AlternateNames();
        RuleFor(x => x.Products).Must(p => p is null || p.Count <= ProductLines.ProductCatalogue.MaxProducts)
            .WithMessage($"products may list at most {ProductLines.ProductCatalogue.MaxProducts} products.");
        RuleForEach(x => x.Products).NotEmpty().MaximumLength(200).Name();
        RuleFor(x => x.Country).Country();
        RuleFor(x => x.Owner).MaximumLength(200).Name();
        RuleFor(x => x.Stage).MaximumLength(100).Name();
        RuleFor(x => x.Status).NotNull();
        RuleFor(x => x.Amount).GreaterThanOrEqualTo(0).LessThan(1_000_000_000_000_000m).PrecisionScale(19, 4, true);
        RuleFor(x => x.Currency).NotEmpty().When(x => x.Amount is not null).WithMessage("currency is required with an amount.");
        RuleFor(x => x.Currency).Must(c => c is null || IsoCodes.IsCurrency(c)).WithMessage("currency must be an ISO 4217 code such as EUR.");
        RuleFor(x => x.CloseDate).InclusiveBetween(new DateOnly(1900, 1, 1), new DateOnly(2999, 12, 31));
        RuleFor(x => x.OpenedDate).InclusiveBetween(new DateOnly(1900, 1, 1), new DateOnly(2999, 12, 31));
        RuleFor(x => x.OpenedDate).LessThanOrEqualTo(x => x.CloseDate).When(x => x.CloseDate is not null)
            .WithMessage("openedDate must be on or before closeDate.");
    }
}

public sealed class UpsertOpportunityRequestValidator : AbstractValidator<UpsertOpportunityRequest>
{
    public UpsertOpportunityRequestValidator() => Include(new OpportunityFieldsValidator());
}

public sealed class OpportunityBatchItemValidator : AbstractValidator<OpportunityBatchItem>
{
    public OpportunityBatchItemValidator()
    {
        Include(new OpportunityFieldsValidator());
        RuleFor(x => x.Source).NotEmpty().Must(OpportunityIdentity.IsSource).WithMessage(OpportunityIdentity.SourceRule);
        RuleFor(x => x.ExternalId).NotEmpty().Must(OpportunityIdentity.IsExternalId).WithMessage(OpportunityIdentity.ExternalIdRule);
    }
}

public sealed class OpportunityBatchRequestValidator : AbstractValidator<OpportunityBatchRequest>
{
    public const int MaxItems = 1_000;

    // Items are validated one by one in the handler, so one bad item does not refuse the batch.
    public OpportunityBatchRequestValidator() =>
        RuleFor(x => x.Items).NotNull().Must(i => i is null || i.Count is >= 1 and <= MaxItems)
            .WithMessage($"items must hold 1 to {MaxItems} opportunities.");
}

/// <summary>The CRM identity of an opportunity: <c>source</c> + <c>externalId</c>.</summary>
public static class OpportunityIdentity
{
    public const string SourceRule = "source must be 1–32 lower-case letters, digits, '-' or '_' (e.g. salesforce).";
    public const string ExternalIdRule = "externalId must be 1–128 printable characters.";

    public static bool IsSource(string? source) =>
        source is { Length: >= 1 and <= 32 } && source.All(c => char.IsAsciiLetterLower(c) || char.IsAsciiDigit(c) || c is '-' or '_');

    public static bool IsExternalId(string? id) =>
        id is { Length: >= 1 and <= 128 } && !id.Any(char.IsControl) && id.Trim().Length == id.Length;
}
