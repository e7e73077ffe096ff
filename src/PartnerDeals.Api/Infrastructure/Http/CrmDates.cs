using System.Globalization;

namespace PartnerDeals.Api.Infrastructure.Http;

/// <summary>
/// Dates and instants as CRMs write them: a day (Salesforce's <c>CloseDate</c>, <c>2026-12-05</c>), an ISO 8601 instant with
/// any offset (<c>Z</c>, <c>+01:00</c>, and Salesforce's <c>+0000</c> without the colon), or Unix milliseconds (HubSpot).
/// An instant without an offset is read as UTC.
/// </summary>
public static class CrmDates
{
    /// <summary>A day from a date, an instant or Unix milliseconds (the instant's UTC day).</summary>
    public static DateOnly? Day(string? value) =>
        value is null ? null
        : DateOnly.TryParseExact(value, "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out var day) ? day
        : long.TryParse(value, out var ms) ? DateOnly.FromDateTime(DateTimeOffset.FromUnixTimeMilliseconds(ms).UtcDateTime)
        : Instant(value) is { } at ? DateOnly.FromDateTime(at.UtcDateTime)
        : null;

    /// <summary>An ISO 8601 instant, with or without the colon in its offset.</summary>
    public static DateTimeOffset? Instant(string value)
    {
        // .NET's parser reads an offset only with its colon.
        var text = value.Length > 5 && value[^5] is '+' or '-' && value[^3] != ':' && char.IsAsciiDigit(value[^1]) ? value.Insert(value.Length - 2, ":") : value;
        return DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var at) ? at : null;
    }

    /// <summary>A day (<c>yyyy-MM-dd</c>, no time) or an instant: what a close date may be given as.</summary>
    public static bool TryDayOrInstant(string? value, out DateOnly? day, out DateTimeOffset? instant)
    {
        (day, instant) = (null, null);
        if (value is null) return false;
        if (DateOnly.TryParseExact(value, "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out var d)) day = d;
        else if (value.Contains('T', StringComparison.Ordinal)) instant = Instant(value);
        return day is not null || instant is not null;
    }
}
