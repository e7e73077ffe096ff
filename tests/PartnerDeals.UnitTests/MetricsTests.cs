using Microsoft.AspNetCore.Http;
using PartnerDeals.Api.Features.Metrics;
using PartnerDeals.Api.Infrastructure.Http;

namespace PartnerDeals.UnitTests;

public sealed class MetricsTests
{
    private static readonly DateTimeOffset Now = new(2026, 11, 23, 9, 0, 0, TimeSpan.Zero);

    [TestCase(null, null, "2026-10-01", "2026-12-31")]
    [TestCase("2026-01-01", null, "2026-01-01", "2026-12-31")]
    [TestCase(null, "2026-11-30", "2026-10-01", "2026-11-30")]
    [TestCase("2026-02-28", "2026-02-28", "2026-02-28", "2026-02-28")]
    public void Period_MissingEnds_TakeTheCurrentQuarters(string? from, string? to, string expectedFrom, string expectedTo)
    {
        Period.TryRead(Day(from), Day(to), Now, out var period, out var errors).ShouldBeTrue();

        errors.ShouldBeEmpty();
        (period.From, period.To).ShouldBe((DateOnly.Parse(expectedFrom), DateOnly.Parse(expectedTo)));
    }

    [Test]
    public void Period_Instants_AreHalfOpenWholeUtcDays()
    {
        var period = new Period(new DateOnly(2026, 10, 1), new DateOnly(2026, 12, 31));

        period.Start.ShouldBe(new DateTimeOffset(2026, 10, 1, 0, 0, 0, TimeSpan.Zero));
        period.End.ShouldBe(new DateTimeOffset(2027, 1, 1, 0, 0, 0, TimeSpan.Zero));
    }

    [TestCase("2026-12-01", "2026-11-01", "from")]
    [TestCase("2030-01-01", null, "from")]
    [TestCase("2000-01-01", "2026-12-31", "to")]
    public void Period_Impossible_NamesTheField(string? from, string? to, string field)
    {
        Period.TryRead(Day(from), Day(to), Now, out _, out var errors).ShouldBeFalse();

        errors.Keys.ShouldBe([field]);
    }

    // The first full quarter starts at the join unless that is a quarter's first instant, else at the next quarter.
    [TestCase("2026-01-15T09:00:00Z", "2026-09-30")]
    [TestCase("2026-04-01T00:00:00Z", "2026-09-30")]
    [TestCase("2026-04-01T00:00:01Z", "2026-12-31")]
    [TestCase("2026-03-31T23:59:59Z", "2026-09-30")]
    [TestCase("2026-11-15T12:00:00Z", "2027-06-30")]
    public void ReviewDueOn_IsTheEndOfTheSecondFullQuarter(string joined, string due) =>
        ProgramHealthStore.ReviewDueOn(DateTimeOffset.Parse(joined)).ShouldBe(DateOnly.Parse(due));

    // Due by asOf ⇔ joined at or before JoinedBy(asOf): checked against ReviewDueOn for joins around the edges.
    [TestCase("2026-10-01T00:00:00Z")]
    [TestCase("2026-11-23T09:00:00Z")]
    [TestCase("2027-01-01T00:00:00Z")]
    [TestCase("2026-09-30T23:59:59Z")]
    public void JoinedBy_AgreesWithReviewDueOn(string asOf)
    {
        var at = DateTimeOffset.Parse(asOf);
        var cutoff = ProgramHealthStore.JoinedBy(at);
        foreach (var joined in new[] { cutoff.AddTicks(-1), cutoff, cutoff.AddTicks(1), cutoff.AddMonths(-3), cutoff.AddMonths(3) })
        {
            var dueAt = new DateTimeOffset(ProgramHealthStore.ReviewDueOn(joined).AddDays(1).ToDateTime(TimeOnly.MinValue), TimeSpan.Zero);
            (joined <= cutoff).ShouldBe(dueAt <= at, $"joined {joined:O}, due at {dueAt:O}, as of {at:O}");
        }
    }

    [TestCase(48, 14, 100, true)]
    [TestCase(0, 14, 100, false)]
    [TestCase(48, 0, 100, false)]
    [TestCase(48, 14, 0, false)]
    public void ProgramHealthOptions_Limits(int slaHours, int expiringDays, int listLimit, bool valid) =>
        new ProgramHealthOptions { ReviewSlaHours = slaHours, ExpiringWithinDays = expiringDays, ListLimit = listLimit }.IsValid.ShouldBe(valid);

    [TestCase("text/csv", true)]
    [TestCase("text/csv, application/json;q=0.5", true)]
    [TestCase("application/json, text/csv;q=0.5", false)]
    [TestCase("*/*", false)]
    [TestCase("text/csv;q=0", false)]
    [TestCase("", false)]
    public void Csv_OnlyWhenAcceptPrefersIt(string accept, bool csv)
    {
        var http = new DefaultHttpContext();
        if (accept.Length > 0) http.Request.Headers.Accept = accept;

        CsvResult.IsPreferred(http.Request).ShouldBe(csv);
    }

    private static DateOnly? Day(string? value) => value is null ? null : DateOnly.Parse(value);
}
