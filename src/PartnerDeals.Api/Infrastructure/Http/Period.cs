namespace PartnerDeals.Api.Infrastructure.Http;

/// <summary>
/// A reporting period of whole UTC days, both ends inclusive as the caller gives them; queries use
/// the half-open instant range [<see cref="Start"/>, <see cref="End"/>).
/// </summary>
public sealed record Period(DateOnly From, DateOnly To)
{
    private const int MaxDays = 3_660;

    /// <summary>The days a period may cover: every date the API stores lies between them.</summary>
    public static readonly DateOnly Earliest = new(1900, 1, 1);

    public static readonly DateOnly Latest = new(2999, 12, 31);

    public DateTimeOffset Start => Midnight(From);

    /// <summary>The first instant after the period.</summary>
    public DateTimeOffset End => Midnight(To.AddDays(1));

    /// <summary>The quarter (calendar, UTC) that holds <paramref name="now"/>.</summary>
    public static Period QuarterOf(DateTimeOffset now)
    {
        var first = QuarterStart(DateOnly.FromDateTime(now.UtcDateTime));
        return new Period(first, first.AddMonths(3).AddDays(-1));
    }

    public static DateOnly QuarterStart(DateOnly day) => new(day.Year, (day.Month - 1) / 3 * 3 + 1, 1);

    /// <summary>The period the query asked for (the current quarter by default), or why it cannot be one.</summary>
    public static bool TryRead(DateOnly? from, DateOnly? to, DateTimeOffset now, out Period period, out Dictionary<string, string[]> errors)
    {
        var quarter = QuarterOf(now);
        period = new Period(from ?? quarter.From, to ?? quarter.To);
        errors = [];
        if (period.From < Earliest || period.From > Latest) errors["from"] = [$"from must be between {Earliest:yyyy-MM-dd} and {Latest:yyyy-MM-dd}."];
        if (period.To < Earliest || period.To > Latest) errors["to"] = [$"to must be between {Earliest:yyyy-MM-dd} and {Latest:yyyy-MM-dd}."];
        if (errors.Count > 0) return false;
        if (period.From > period.To) errors["from"] = ["from must be on or before to."];
        else if (period.To.DayNumber - period.From.DayNumber > MaxDays) errors["to"] = ["A period is at most ten years."];
        return errors.Count == 0;
    }

    private static DateTimeOffset Midnight(DateOnly day) => new(day.ToDateTime(TimeOnly.MinValue), TimeSpan.Zero);
}
