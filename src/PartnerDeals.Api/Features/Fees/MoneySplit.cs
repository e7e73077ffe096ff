namespace PartnerDeals.Api.Features.Fees;

/// <summary>
/// Money split by shares so the parts always add up to the whole: each part is the share's exact amount rounded down to
/// the currency's minor unit, and the minor units left over go one each to the largest remainders (largest remainder
/// method). Ties go to the larger share, then to the earlier part (the primary is first). Negative amounts (a reversal)
/// split as their magnitude does.
/// </summary>
public static class MoneySplit
{
    // ISO 4217 minor units (the List One "Minor unit" column, SIX Financial Information: facts) where they are not 2.
    private static readonly Dictionary<string, int> MinorUnitsNotTwo = new(StringComparer.Ordinal)
    {
        ["BIF"] = 0, ["CLP"] = 0, ["DJF"] = 0, ["GNF"] = 0, ["ISK"] = 0, ["JPY"] = 0, ["KMF"] = 0, ["KRW"] = 0, ["PYG"] = 0,
        ["RWF"] = 0, ["UGX"] = 0, ["UYI"] = 0, ["VND"] = 0, ["VUV"] = 0, ["XAF"] = 0, ["XOF"] = 0, ["XPF"] = 0,
        ["BHD"] = 3, ["IQD"] = 3, ["JOD"] = 3, ["KWD"] = 3, ["LYD"] = 3, ["OMR"] = 3, ["TND"] = 3,
        ["CLF"] = 4, ["UYW"] = 4,
    };

    /// <summary>The digits after the decimal point of a currency's minor unit: JPY 0, EUR 2, BHD 3.</summary>
    public static int MinorUnits(string currency) => MinorUnitsNotTwo.GetValueOrDefault(currency.ToUpperInvariant(), 2);

    /// <summary>An amount rounded to its currency's minor unit (half to even, as the ledger rounds).</summary>
    public static decimal ToMinorUnit(decimal amount, string currency) => Math.Round(amount, MinorUnits(currency), MidpointRounding.ToEven);

    /// <summary>
    /// <paramref name="amount"/> split by <paramref name="shares"/> (percentages totalling exactly 100), in whole minor units of
    /// <paramref name="currency"/>: the parts add up to the amount (rounded to the minor unit), and each is within one minor
    /// unit of its exact share.
    /// </summary>
    public static IReadOnlyList<decimal> Allocate(decimal amount, string currency, IReadOnlyList<decimal> shares)
    {
        if (shares.Count == 0) throw new ArgumentException("At least one share.", nameof(shares));
        if (shares.Sum() != 100m || shares.Any(s => s < 0)) throw new ArgumentException("Shares are non-negative and total exactly 100.", nameof(shares));
        var unit = Pow10(MinorUnits(currency));
        var sign = amount < 0 ? -1 : 1;
        var minor = Math.Abs(ToMinorUnit(amount, currency)) * unit;
        var exact = shares.Select(s => minor * s / 100m).ToArray();
        var parts = exact.Select(Math.Floor).ToArray();
        var left = (int)(minor - parts.Sum());
        var order = Enumerable.Range(0, shares.Count)
            .OrderByDescending(i => exact[i] - parts[i]).ThenByDescending(i => shares[i]).ThenBy(i => i)
            .Take(left);
        foreach (var i in order) parts[i] += 1;
        return parts.Select(p => sign * p / unit).ToList();
    }

    private static decimal Pow10(int digits)
    {
        var value = 1m;
        for (var i = 0; i < digits; i++) value *= 10m;
        return value;
    }
}
