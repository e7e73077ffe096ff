using PartnerDeals.Api.Features.ApiKeys;

namespace PartnerDeals.UnitTests;

public sealed class ApiKeySecretTests
{
    [Test]
    public void Generate_HasPrefixAnd256BitsOfHex()
    {
        var key = ApiKeySecret.Generate();
        key.ShouldMatch("^pd_[0-9a-f]{8}_[0-9a-f]{64}$");
        ApiKeySecret.PrefixOf(key).ShouldBe(key[..11]);
    }

    [Test]
    public void Generate_NeverRepeats() =>
        Enumerable.Range(0, 1000).Select(_ => ApiKeySecret.Generate()).Distinct().Count().ShouldBe(1000);

    [Test]
    public void Matches_OnlyTheSameKey()
    {
        var key = ApiKeySecret.Generate();
        var hash = ApiKeySecret.Hash(key);
        hash.ShouldNotContain(key[12..]);
        ApiKeySecret.Matches(key, hash).ShouldBeTrue();
        ApiKeySecret.Matches(key + "0", hash).ShouldBeFalse();
        ApiKeySecret.Matches(ApiKeySecret.Generate(), hash).ShouldBeFalse();
    }

    [Test]
    public void PrefixOf_ShortKey_IsTheWholeKey() => ApiKeySecret.PrefixOf("abc").ShouldBe("abc");
}
