using FluentValidation;
using PartnerDeals.Api.Infrastructure.Http;
using PartnerDeals.Matching;

namespace PartnerDeals.Api.Features.ConflictChecks;

/// <summary>The rules for a company's identity wherever one is written: pipeline, checks, (later) registrations.</summary>
public static class CompanyRules
{
    // A failed rule stops the ones after it: a name that is not text is never normalised. A partner's name of more
    // words than the matcher keeps is refused (what it would not compare could hide the company); the vendor's
    // record is kept, compared by its first and last words (see CompanyName.MaxTokens).
    public static IRuleBuilderOptions<T, string?> CompanyName<T>(this IRuleBuilderInitial<T, string?> rule, bool vendorData = false) =>
        rule.Cascade(CascadeMode.Stop).NotEmpty().MaximumLength(300).Name()
            .Must(n => n is null || !Matching.CompanyName.Normalise(n).IsEmpty).WithMessage("{PropertyName} must contain letters or digits.")
            .Must(n => vendorData || n is null || !Matching.CompanyName.Normalise(n).Cut)
            .WithMessage($"{{PropertyName}} must have at most {Matching.CompanyName.MaxTokens} words besides its legal form: name the company, not a description of it.");

    public static IRuleBuilderOptions<T, IReadOnlyList<string>?> AlternateNames<T>(this IRuleBuilderInitial<T, IReadOnlyList<string>?> rule) =>
        rule.Cascade(CascadeMode.Stop).Must(n => n is null || n.Count <= Company.MaxAlternateNames)
            .WithMessage($"{{PropertyName}} may hold at most {Company.MaxAlternateNames} names.")
            .Must(n => n is null || n.All(TextRules.IsName)).WithMessage("{PropertyName} must each be one line of visible text: no control characters, non-characters or bidi controls.")
            .Must(n => n is null || n.All(a => a is { Length: > 0 and <= 300 } && !Matching.CompanyName.Normalise(a).IsEmpty))
            .WithMessage("{PropertyName} must each be 1–300 characters with letters or digits.");

    public static IRuleBuilderOptions<T, string?> CompanyDomain<T>(this IRuleBuilder<T, string?> rule) =>
        rule.MaximumLength(2048)
            .Must(d => string.IsNullOrWhiteSpace(d) || Domains.Host(d) is not null)
            .WithMessage("{PropertyName} must be a website URL, an e-mail address or a host name.");

    public static IRuleBuilderOptions<T, string?> Country<T>(this IRuleBuilder<T, string?> rule) =>
        rule.Must(c => c is null || IsoCodes.IsCountry(c)).WithMessage("{PropertyName} must be an ISO 3166-1 alpha-2 code such as DE.");
}
