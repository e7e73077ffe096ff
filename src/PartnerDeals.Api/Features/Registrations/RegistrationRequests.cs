using System.ComponentModel.DataAnnotations;
using FluentValidation;
using PartnerDeals.Api.Features.ConflictChecks;
using PartnerDeals.Api.Infrastructure.Http;

namespace PartnerDeals.Api.Features.Registrations;

/// <summary>The customer company the partner brings.</summary>
public sealed record CustomerInput
{
    /// <example>Contoso Pharma GmbH</example>
    [Required]
    public string? CompanyName { get; init; }

    /// <summary>The company's website URL, an e-mail address at it, or a bare host.</summary>
    /// <example>https://contoso-pharma.de</example>
    public string? Domain { get; init; }

    /// <summary>ISO 3166-1 alpha-2.</summary>
    /// <example>DE</example>
    [Required]
    public string? Country { get; init; }

    /// <summary>Other names the company is known by (former names, local-script names, tickers): up to 20; each is matched.</summary>
    /// <example>["Contoso Pharmaceuticals", "Контосо Фарма"]</example>
    public IReadOnlyList<string>? AlternateNames { get; init; }

    /// <example>pharmaceuticals</example>
    public string? Industry { get; init; }

    /// <example>1200</example>
    public int? EmployeeCount { get; init; }
}

/// <summary>The partner's contact at the customer.</summary>
public sealed record ContactInput
{
    /// <example>Maria Schmidt</example>
    [Required]
    public string? Name { get; init; }

    /// <example>maria.schmidt@contoso-pharma.de</example>
    [Required]
    public string? Email { get; init; }

    /// <example>Head of IT</example>
    public string? Title { get; init; }
}

public sealed record DealInput
{
    /// <example>Contoso analytics rollout</example>
    [Required]
    public string? Name { get; init; }

    /// <example>["analytics-suite"]</example>
    public IReadOnlyList<string>? Products { get; init; }

    /// <example>120000</example>
    [Required]
    public decimal? EstimatedValue { get; init; }

    /// <summary>ISO 4217.</summary>
    /// <example>EUR</example>
    [Required]
    public string? Currency { get; init; }

    /// <example>2027-03-31</example>
    public DateOnly? ExpectedCloseDate { get; init; }

    /// <example>Met the CIO at a trade fair; pilot agreed.</example>
    public string? Notes { get; init; }
}

/// <summary>Who owns the relationship, who demos and who manages the contract; each defaults to <c>partner</c>.</summary>
public sealed record CoSellInput
{
    /// <example>partner</example>
    public CoSellParty? RelationshipOwner { get; init; }

    /// <example>vendor</example>
    public CoSellParty? Demo { get; init; }

    /// <example>partner</example>
    public CoSellParty? Contract { get; init; }
}

/// <summary>Register a deal.</summary>
public sealed record CreateRegistrationRequest
{
    /// <summary>Ops and admin register on behalf of this partner; a partner key leaves it out (or names itself).</summary>
    public Guid? PartnerId { get; init; }

    [Required]
    public CustomerInput? Customer { get; init; }

    [Required]
    public ContactInput? Contact { get; init; }

    [Required]
    public DealInput? Deal { get; init; }

    public CoSellInput? CoSell { get; init; }
}

/// <summary>Change a registration: send only what changes (merge patch; null means unchanged).</summary>
public sealed record UpdateRegistrationRequest
{
    public CustomerInput? Customer { get; init; }
    public ContactInput? Contact { get; init; }
    public DealInput? Deal { get; init; }
    public CoSellInput? CoSell { get; init; }
}

public sealed record RejectRequest
{
    /// <example>direct_conflict</example>
    [Required]
    public RejectionReason? Reason { get; init; }

    /// <example>Our direct team has been working this account since June.</example>
    public string? Note { get; init; }
}

public sealed record DecisionNoteRequest
{
    /// <summary>Shown to the partner.</summary>
    /// <example>Please add the customer's website and employee count.</example>
    public string? Note { get; init; }
}

public sealed record OutcomeRequest
{
    /// <example>won</example>
    [Required]
    public OutcomeResult? Result { get; init; }

    /// <summary>Closed-won amount; required when won.</summary>
    /// <example>118000</example>
    public decimal? Amount { get; init; }

    /// <summary>ISO 4217; required when won.</summary>
    /// <example>EUR</example>
    public string? Currency { get; init; }

    /// <summary>Defaults to now.</summary>
    public DateTimeOffset? ClosedAt { get; init; }

    /// <summary>Required when lost.</summary>
    /// <example>Budget frozen</example>
    public string? LostReason { get; init; }
}

public sealed record ExtensionRequestBody
{
    /// <summary>Why the deal needs longer.</summary>
    /// <example>Procurement moved signature to next quarter.</example>
    public string? Reason { get; init; }
}

public sealed record NoteRequest
{
    /// <example>Customer asked for a joint demo next week.</example>
    [Required]
    public string? Body { get; init; }

    /// <summary>Ops and admin only: an internal note is never shown to the partner.</summary>
    public bool? Internal { get; init; }
}

internal static class RegistrationRules
{
    public const int MaxProducts = 50;

    /// <summary>A one-line value (a person's name, a title, a product) of at most <paramref name="max"/> characters.</summary>
    public static IRuleBuilderOptions<T, string?> Line<T>(this IRuleBuilder<T, string?> rule, int max) => rule.MaximumLength(max).Name();
}

internal sealed class CustomerInputValidator : AbstractValidator<CustomerInput>
{
    public CustomerInputValidator(bool partial)
    {
        RuleFor(x => x.CompanyName).CompanyName().When(x => !partial || x.CompanyName is not null);
        RuleFor(x => x.Domain).CompanyDomain();
        RuleFor(x => x.AlternateNames).AlternateNames();
        if (!partial) RuleFor(x => x.Country).NotEmpty();
        RuleFor(x => x.Country).Country();
        RuleFor(x => x.Industry).Line(100);
        RuleFor(x => x.EmployeeCount).InclusiveBetween(1, 10_000_000);
    }
}

internal sealed class ContactInputValidator : AbstractValidator<ContactInput>
{
    public ContactInputValidator(bool partial)
    {
        if (!partial)
        {
            RuleFor(x => x.Name).NotEmpty();
            RuleFor(x => x.Email).NotEmpty();
        }
        RuleFor(x => x.Name).Line(200).Must(n => n is null || n.Trim().Length > 0).WithMessage("name must not be blank.");
        RuleFor(x => x.Email).MaximumLength(320).EmailAddress().WithMessage("email must be an e-mail address.");
        RuleFor(x => x.Title).Line(200);
    }
}

internal sealed class DealInputValidator : AbstractValidator<DealInput>
{
    public DealInputValidator(bool partial)
    {
        if (!partial)
        {
            RuleFor(x => x.Name).NotEmpty();
            RuleFor(x => x.EstimatedValue).NotNull();
            RuleFor(x => x.Currency).NotEmpty();
        }
        RuleFor(x => x.Name).Line(300).Must(n => n is null || n.Trim().Length > 0).WithMessage("name must not be blank.");
        RuleFor(x => x.Products).Must(p => p is null || p.Count <= RegistrationRules.MaxProducts)
            .WithMessage($"products may list at most {RegistrationRules.MaxProducts} products.");
        RuleForEach(x => x.Products).NotEmpty().Line(200);
        RuleFor(x => x.EstimatedValue).GreaterThan(0).LessThan(1_000_000_000_000_000m).PrecisionScale(19, 4, true);
        RuleFor(x => x.Currency).Must(c => c is null || IsoCodes.IsCurrency(c)).WithMessage("currency must be an ISO 4217 code such as EUR.");
        RuleFor(x => x.ExpectedCloseDate).InclusiveBetween(new DateOnly(2000, 1, 1), new DateOnly(2999, 12, 31));
        RuleFor(x => x.Notes).FreeText(4000);
    }
}

public sealed class CreateRegistrationRequestValidator : AbstractValidator<CreateRegistrationRequest>
{
    public CreateRegistrationRequestValidator()
    {
        RuleFor(x => x.Customer).NotNull().SetValidator(new CustomerInputValidator(partial: false)!);
        RuleFor(x => x.Contact).NotNull().SetValidator(new ContactInputValidator(partial: false)!);
        RuleFor(x => x.Deal).NotNull().SetValidator(new DealInputValidator(partial: false)!);
    }
}

public sealed class UpdateRegistrationRequestValidator : AbstractValidator<UpdateRegistrationRequest>
{
    public UpdateRegistrationRequestValidator()
    {
        RuleFor(x => x.Customer).SetValidator(new CustomerInputValidator(partial: true)!);
        RuleFor(x => x.Contact).SetValidator(new ContactInputValidator(partial: true)!);
        RuleFor(x => x.Deal).SetValidator(new DealInputValidator(partial: true)!);
    }
}

public sealed class RejectRequestValidator : AbstractValidator<RejectRequest>
{
    public RejectRequestValidator()
    {
        RuleFor(x => x.Reason).NotNull();
        RuleFor(x => x.Note).FreeText(2000);
    }
}

public sealed class DecisionNoteRequestValidator : AbstractValidator<DecisionNoteRequest>
{
    public DecisionNoteRequestValidator() => RuleFor(x => x.Note).FreeText(2000);
}

public sealed class OutcomeRequestValidator : AbstractValidator<OutcomeRequest>
{
    public OutcomeRequestValidator()
    {
        RuleFor(x => x.Result).NotNull();
        When(x => x.Result == OutcomeResult.Won, () =>
        {
            RuleFor(x => x.Amount).NotNull().WithMessage("amount is required when won.");
            RuleFor(x => x.Currency).NotEmpty().WithMessage("currency is required when won.");
            RuleFor(x => x.LostReason).Null().WithMessage("lostReason applies only when lost.");
        });
        When(x => x.Result == OutcomeResult.Lost, () =>
        {
            RuleFor(x => x.LostReason).NotEmpty().WithMessage("lostReason is required when lost.");
            RuleFor(x => x.Amount).Null().WithMessage("amount applies only when won.");
        });
        RuleFor(x => x.Amount).GreaterThanOrEqualTo(0).LessThan(1_000_000_000_000_000m).PrecisionScale(19, 4, true);
        RuleFor(x => x.Currency).Must(c => c is null || IsoCodes.IsCurrency(c)).WithMessage("currency must be an ISO 4217 code such as EUR.");
        RuleFor(x => x.LostReason).FreeText(500);
        RuleFor(x => x.ClosedAt).InclusiveBetween(new DateTimeOffset(2000, 1, 1, 0, 0, 0, TimeSpan.Zero), new DateTimeOffset(2999, 12, 31, 0, 0, 0, TimeSpan.Zero));
    }
}

public sealed class ExtensionRequestBodyValidator : AbstractValidator<ExtensionRequestBody>
{
    public ExtensionRequestBodyValidator() => RuleFor(x => x.Reason).FreeText(2000);
}

public sealed class NoteRequestValidator : AbstractValidator<NoteRequest>
{
    public NoteRequestValidator() =>
        RuleFor(x => x.Body).NotEmpty().FreeText(4000).Must(b => b is null || b.Trim().Length > 0).WithMessage("body must not be blank.");
}
