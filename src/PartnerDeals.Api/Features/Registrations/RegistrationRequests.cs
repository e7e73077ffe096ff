using System.ComponentModel.DataAnnotations;
using FluentValidation;
using PartnerDeals.Api.Features.ConflictChecks;
using PartnerDeals.Api.Infrastructure.Http;

namespace PartnerDeals.Api.Features.Registrations;

/// <summary>The customer company the partner brings.</summary>
public sealed record CustomerInput : PatchableInput
{
    /// <example>Contoso Pharma GmbH</example>
    [Required]
    public string? CompanyName { get; init => field = Sent(value); }

    /// <summary>The company's website URL, an e-mail address at it, or a bare host.</summary>
    /// <example>https://contoso-pharma.de</example>
    public string? Domain { get; init => field = Sent(value); }

    /// <summary>ISO 3166-1 alpha-2.</summary>
    /// <example>DE</example>
    [Required]
    public string? Country { get; init => field = Sent(value); }

    /// <summary>Other names the company is known by (former names, local-script names, tickers): up to 20; each is matched.</summary>
    /// <example>["Contoso Pharmaceuticals", "Контосо Фарма"]</example>
    public IReadOnlyList<string>? AlternateNames { get; init => field = Sent(value); }

    /// <example>pharmaceuticals</example>
    public string? Industry { get; init => field = Sent(value); }

    /// <example>1200</example>
    public int? EmployeeCount { get; init => field = Sent(value); }
}

/// <summary>The partner's contact at the customer.</summary>
public sealed record ContactInput : PatchableInput
{
    /// <example>Maria Schmidt</example>
    [Required]
    public string? Name { get; init => field = Sent(value); }

    /// <example>maria.schmidt@contoso-pharma.de</example>
    [Required]
    public string? Email { get; init => field = Sent(value); }

    /// <example>Head of IT</example>
    public string? Title { get; init => field = Sent(value); }
}

public sealed record DealInput : PatchableInput
{
    /// <example>Contoso analytics rollout</example>
    [Required]
    public string? Name { get; init => field = Sent(value); }

    /// <example>["analytics-suite"]</example>
    public IReadOnlyList<string>? Products { get; init => field = Sent(value); }

    /// <example>120000</example>
    [Required]
    public decimal? EstimatedValue { get; init => field = Sent(value); }

    /// <summary>ISO 4217.</summary>
    /// <example>EUR</example>
    [Required]
    public string? Currency { get; init => field = Sent(value); }

    /// <example>2027-03-31</example>
    public DateOnly? ExpectedCloseDate { get; init => field = Sent(value); }

    /// <example>Met the CIO at a trade fair; pilot agreed.</example>
    public string? Notes { get; init => field = Sent(value); }
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

    /// <summary>
    /// The words a registration's company name and alternate names may hold together, and with its products, as the matcher
    /// reads them (folded, so a character that expands into several words counts each; a name's legal form is not a word). The check's work grows with the names'
    /// words (each is looked up); a real registration — a name, a few alternates, a few dozen products — holds well under both.
    /// </summary>
    public const int MaxNameWords = 120;

    public const int MaxWords = 320;

    public const string TooManyWordsMessage =
        "the company name and alternate names may hold at most 120 words together, and 320 with the products, as the matcher reads them: "
        + "name the company and its products, not descriptions of them.";

    /// <summary>Whether a registration's names and products stay within <see cref="MaxNameWords"/> and <see cref="MaxWords"/>.</summary>
    public static bool WithinWords(string? companyName, IEnumerable<string>? alternateNames, IEnumerable<string>? products)
    {
        var words = 0;
        foreach (var name in (alternateNames ?? []).Prepend(companyName ?? ""))
        {
            words += PartnerDeals.Matching.CompanyName.Normalise(name).Tokens.Count;
            if (words > MaxNameWords) return false;
        }
        foreach (var product in products ?? [])
        {
            words += PartnerDeals.Matching.ProductNames.Words(product ?? "").Count;
            if (words > MaxWords) return false;
        }
        return true;
    }

    /// <summary>A field an edit may change but not remove: sent as null, it is a problem rather than left as it was.</summary>
    public static void Kept<T, TField>(this AbstractValidator<T> validator, System.Linq.Expressions.Expression<Func<T, TField>> field, string name)
        where T : PatchableInput =>
        validator.RuleFor(field).Must((input, _) => !input.SentAsNull(name)).WithMessage($"{{PropertyName}} is required; an edit may change it but not remove it.");

    /// <summary>A one-line value (a person's name, a title, a product) of at most <paramref name="max"/> characters.</summary>
    public static IRuleBuilderOptions<T, string?> Line<T>(this IRuleBuilder<T, string?> rule, int max) => rule.MaximumLength(max).Name();
}

internal sealed class CustomerInputValidator : AbstractValidator<CustomerInput>
{
    public CustomerInputValidator(bool partial)
    {
        RuleFor(x => x.CompanyName).CompanyName().When(x => !partial || x.CompanyName is not null);
        if (partial)
        {
            this.Kept(x => x.CompanyName, nameof(CustomerInput.CompanyName));
            this.Kept(x => x.Country, nameof(CustomerInput.Country));
        }
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
        else
        {
            this.Kept(x => x.Name, nameof(ContactInput.Name));
            this.Kept(x => x.Email, nameof(ContactInput.Email));
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
        else
        {
            this.Kept(x => x.Name, nameof(DealInput.Name));
            this.Kept(x => x.EstimatedValue, nameof(DealInput.EstimatedValue));
            this.Kept(x => x.Currency, nameof(DealInput.Currency));
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

public sealed class ExtensionRequestBodyValidator : AbstractValidator<ExtensionRequestBody>
{
    public ExtensionRequestBodyValidator() => RuleFor(x => x.Reason).FreeText(2000);
}

public sealed class NoteRequestValidator : AbstractValidator<NoteRequest>
{
    public NoteRequestValidator() =>
        RuleFor(x => x.Body).NotEmpty().FreeText(4000).Must(b => b is null || b.Trim().Length > 0).WithMessage("body must not be blank.");
}
