using System.Globalization;

namespace PartnerDeals.Api.Infrastructure.Http;

/// <summary>ISO 3166-1 alpha-2 countries and ISO 4217 currencies, as ICU knows them.</summary>
public static class IsoCodes
{
    private static readonly HashSet<string> Countries = CultureInfo.GetCultures(CultureTypes.SpecificCultures)
        .Select(c => { try { return new RegionInfo(c.Name).TwoLetterISORegionName; } catch (ArgumentException) { return null; } })
        .OfType<string>().Where(c => c.Length == 2 && c.All(char.IsAsciiLetterUpper))
        .Concat(["AQ", "BV", "HM", "TF", "UM", "GS", "IO", "PN", "CX", "CC", "NF", "TK", "WF", "BQ", "SJ", "EH", "AX", "BL", "MF", "SX", "CW", "XK"])
        .ToHashSet(StringComparer.Ordinal);

    private static readonly HashSet<string> Currencies = CultureInfo.GetCultures(CultureTypes.SpecificCultures)
        .Select(c => { try { return new RegionInfo(c.Name).ISOCurrencySymbol; } catch (ArgumentException) { return null; } })
        .OfType<string>().Where(c => c.Length == 3 && c.All(char.IsAsciiLetterUpper))
        .Concat(["XAF", "XOF", "XPF", "XCD", "CHF", "EUR", "USD", "GBP", "JPY", "CNY"])
        .ToHashSet(StringComparer.Ordinal);

    public static bool IsCountry(string? code) => code is not null && Countries.Contains(code);

    public static bool IsCurrency(string? code) => code is not null && Currencies.Contains(code);
}
