using PartnerDeals.Api.Infrastructure.Http;

namespace PartnerDeals.UnitTests;

public sealed class PagingTests
{
    [Test]
    public void Cursor_RoundTripsTheLastId()
    {
        var id = Guid.CreateVersion7();
        Paging.TryDecode(Paging.Encode(id), out var decoded).ShouldBeTrue();
        decoded.ShouldBe(id);
    }

    [TestCase("abc")]
    [TestCase("")]
    [TestCase("!!!!")]
    [TestCase("djE6bm90LWEtZ3VpZA")] // "v1:not-a-guid"
    public void Cursor_NotIssuedByUs_IsRefused(string cursor) =>
        Paging.TryDecode(cursor, out _).ShouldBeFalse();

    [Test]
    public void Cursor_VeryLong_IsRefusedWithoutDecoding() =>
        Paging.TryDecode(new string('A', 10_000), out _).ShouldBeFalse();

    [TestCase(0)]
    [TestCase(201)]
    [TestCase(-5)]
    public void Limit_OutOfRange_IsAnError(int limit)
    {
        new PageRequest { Limit = limit }.TryRead(out _, out _, out var errors).ShouldBeFalse();
        errors.Keys.ShouldBe(["limit"]);
    }

    [Test]
    public void Limit_Missing_DefaultsToFifty()
    {
        new PageRequest().TryRead(out var size, out var after, out _).ShouldBeTrue();
        size.ShouldBe(50);
        after.ShouldBeNull();
    }

    [Test]
    public void ToPage_WithExtraRow_HasNextCursorAtLastItem()
    {
        var ids = Enumerable.Range(0, 3).Select(_ => Guid.CreateVersion7()).ToList();
        var page = Paging.ToPage(ids, 2, id => id, id => id);
        page.Items.ShouldBe(ids.Take(2));
        Paging.TryDecode(page.NextCursor!, out var last).ShouldBeTrue();
        last.ShouldBe(ids[1]);
    }

    [Test]
    public void ToPage_WithoutExtraRow_HasNoNextCursor() =>
        Paging.ToPage(new[] { Guid.CreateVersion7() }, 2, id => id, id => id).NextCursor.ShouldBeNull();
}
