using System.Globalization;

namespace PartnerDeals.Api.Infrastructure.Http;

/// <summary>Money as the API keeps it: the exact decimal, without the trailing zeros of how it was written.</summary>
public static class Amounts
{
    /// <summary><c>120000.00</c> → <c>120000</c>: the same amount reads, stores and compares the same however it was sent.</summary>
    public static decimal Normalised(decimal value) =>
        decimal.Parse(value.ToString("G29", CultureInfo.InvariantCulture), NumberStyles.Float, CultureInfo.InvariantCulture);

    public static decimal? Normalised(decimal? value) => value is { } v ? Normalised(v) : null;
}
