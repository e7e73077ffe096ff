using CsCheck;
using PartnerDeals.Api.Features.Fees;

namespace PartnerDeals.UnitTests;

/// <summary>Splitting money by shares: the parts add up to the whole in the currency's minor units, always.</summary>
public sealed class MoneySplitTests
{
    private static readonly string[] Currencies = ["EUR", "USD", "JPY", "KRW", "BHD", "KWD", "CLF", "GBP"];

    /// <summary>Between one and eight shares of four decimals (1/10,000 of a percent) totalling exactly 100.</summary>
    private static readonly Gen<decimal[]> Shares = Gen.Int[1, 8].SelectMany(n => Gen.Int[0, 1_000_000].Array[n - 1].Select(cuts =>
    {
        var points = cuts.Order().Prepend(0).Append(1_000_000).ToArray();
        return Enumerable.Range(0, n).Select(i => (points[i + 1] - points[i]) / 10_000m).ToArray();
    }));

    private static readonly Gen<decimal> Amounts = Gen.Long[0, 100_000_000_000L].Select(cents => cents / 10_000m);

    [Test]
    public void Allocation_AddsUpExactly_NoneNegative_WithinOneMinorUnitOfItsShare_AndTheSameEveryTime()
    {
        Gen.Select(Amounts, Gen.Int[0, Currencies.Length - 1].Select(i => Currencies[i]), Shares).Sample((amount, currency, shares) =>
        {
            var parts = MoneySplit.Allocate(amount, currency, shares);
            var unit = 1m / (decimal)Math.Pow(10, MoneySplit.MinorUnits(currency));
            var whole = MoneySplit.ToMinorUnit(amount, currency);
            parts.Sum().ShouldBe(whole);
            parts.ShouldAllBe(p => p >= 0);
            for (var i = 0; i < parts.Count; i++)
            {
                Math.Abs(parts[i] - whole * shares[i] / 100m).ShouldBeLessThan(unit);
                (parts[i] % unit).ShouldBe(0m);
            }
            MoneySplit.Allocate(amount, currency, shares).ShouldBe(parts);
            MoneySplit.Allocate(-amount, currency, shares).ShouldBe(parts.Select(p => -p).ToList(), "a reversal splits as the amount did");
        }, iter: 5_000);
    }

    [Test]
    public void ThreeEqualishShares_GiveTheLeftoverCentToTheLargestRemainder_ThenToTheLargerShare_ThenToTheFirst()
    {
        MoneySplit.Allocate(100m, "EUR", [33.3334m, 33.3333m, 33.3333m]).ShouldBe([33.34m, 33.33m, 33.33m]);
        MoneySplit.Allocate(100m, "EUR", [33.3333m, 33.3334m, 33.3333m]).ShouldBe([33.33m, 33.34m, 33.33m]);
        MoneySplit.Allocate(0.02m, "EUR", [33.3333m, 33.3333m, 33.3334m]).ShouldBe([0.01m, 0m, 0.01m]);
        MoneySplit.Allocate(1000m, "JPY", [33.3333m, 33.3333m, 33.3334m]).ShouldBe([333m, 333m, 334m]);
        MoneySplit.Allocate(10m, "BHD", [50m, 25m, 25m]).ShouldBe([5m, 2.5m, 2.5m]);
        MoneySplit.Allocate(0.001m, "BHD", [50m, 50m]).ShouldBe([0.001m, 0m]);
    }

    [Test]
    public void SharesNotTotallingExactly100_AreRefused()
    {
        Should.Throw<ArgumentException>(() => MoneySplit.Allocate(100m, "EUR", [99.9999m]));
        Should.Throw<ArgumentException>(() => MoneySplit.Allocate(100m, "EUR", [50m, 50.0001m]));
    }

    [Test]
    public void MinorUnits_AreThoseOfIso4217()
    {
        MoneySplit.MinorUnits("JPY").ShouldBe(0);
        MoneySplit.MinorUnits("EUR").ShouldBe(2);
        MoneySplit.MinorUnits("BHD").ShouldBe(3);
        MoneySplit.MinorUnits("CLF").ShouldBe(4);
    }
}
