using System.Globalization;

namespace PartnerDeals.Api.Infrastructure.Data;

public static class Dates
{
    /// <summary>Reads a DATE column: SQLite hands back the ISO text it stored, SQL Server a date.</summary>
    public static DateOnly? ReadDate(object? value) => value switch
    {
        null or DBNull => null,
        DateOnly d => d,
        DateTime d => DateOnly.FromDateTime(d),
        string s => DateOnly.Parse(s, CultureInfo.InvariantCulture),
        _ => null,
    };
}
