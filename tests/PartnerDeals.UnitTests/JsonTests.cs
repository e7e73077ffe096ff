using System.Text.Json;
using PartnerDeals.Api.Features.Partners;
using PartnerDeals.Api.Infrastructure.Http;

namespace PartnerDeals.UnitTests;

public sealed class JsonTests
{
    [TestCase(FeeModel.PercentOfRevenue, "percent_of_revenue")]
    [TestCase(FeeTrigger.QualifiedIntroduction, "qualified_introduction")]
    [TestCase(PartnerType.Msp, "msp")]
    public void Enums_AreLowerSnakeCaseOnTheWire<T>(T value, string wire) where T : struct, Enum
    {
        JsonSerializer.Serialize(value, Json.Options).ShouldBe($"\"{wire}\"");
        Json.Name(value).ShouldBe(wire);
        Json.TryParse<T>(wire, out var parsed).ShouldBeTrue();
        parsed.ShouldBe(value);
    }

    [TestCase("PercentOfRevenue")]
    [TestCase("percentofrevenue")]
    [TestCase("0")]
    public void TryParse_AcceptsOnlyWireNames(string name) => Json.TryParse<FeeModel>(name, out _).ShouldBeFalse();

    [Test]
    public void UnknownField_IsAnError() =>
        Should.Throw<JsonException>(() => JsonSerializer.Deserialize<CreatePartnerRequest>("""{"name":"x","nmae":"y"}""", Json.Options));

    [Test]
    public void EnumAsNumber_IsAnError() =>
        Should.Throw<JsonException>(() => JsonSerializer.Deserialize<CreatePartnerRequest>("""{"type":1}""", Json.Options));
}
