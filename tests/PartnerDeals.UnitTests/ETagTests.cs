using Microsoft.AspNetCore.Http;
using PartnerDeals.Api.Infrastructure.Http;

namespace PartnerDeals.UnitTests;

public sealed class ETagTests
{
    [TestCase(null, ETags.Match.Missing, 0)]
    [TestCase("*", ETags.Match.Any, 0)]
    [TestCase("\"7\"", ETags.Match.Version, 7)]
    [TestCase("\"x\", \"12\"", ETags.Match.Version, 12)]
    [TestCase("W/\"7\"", ETags.Match.Unusable, 0)]
    [TestCase("7", ETags.Match.Unusable, 0)]
    [TestCase("\"\"", ETags.Match.Unusable, 0)]
    public void ReadIfMatch_ReadsOnlyStrongTagsWeIssued(string? header, ETags.Match expected, int version)
    {
        var http = new DefaultHttpContext();
        if (header is not null) http.Request.Headers.IfMatch = header;
        ETags.ReadIfMatch(http.Request, out var read).ShouldBe(expected);
        if (expected == ETags.Match.Version) read.ShouldBe(version);
    }

    [Test]
    public void For_QuotesTheVersion() => ETags.For(3).ShouldBe("\"3\"");
}
