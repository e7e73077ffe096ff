using System.Globalization;

namespace PartnerDeals.Matching;

/// <summary>
/// Country names as .NET's regions know them — in English and in their own language (GERMANY, DEUTSCHLAND, UNITED
/// STATES …) and their three-letter codes — upper case, each with its region's two-letter code. A CRM writes them
/// in a country field; a CRM's user writes them after an account's name.
/// </summary>
public static class CountryNames
{
    public static IReadOnlyDictionary<string, string> ByName { get; } = Load();

    private static Dictionary<string, string> Load()
    {
        var names = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var culture in CultureInfo.GetCultures(CultureTypes.SpecificCultures))
        {
            RegionInfo region;
            try
            {
                region = new RegionInfo(culture.Name);
            }
            catch (ArgumentException)
            {
                continue;
            }
            if (region.TwoLetterISORegionName is not { Length: 2 } code || !code.All(char.IsAsciiLetterUpper)) continue;
            foreach (var name in new[] { region.EnglishName, region.NativeName, region.ThreeLetterISORegionName })
            {
                if (!string.IsNullOrWhiteSpace(name)) names.TryAdd(name.ToUpperInvariant(), code);
            }
        }
        names.TryAdd("USA", "US");
        names.TryAdd("UK", "GB");
        return names;
    }
}
