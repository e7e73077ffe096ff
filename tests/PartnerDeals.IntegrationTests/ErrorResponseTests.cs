using System.Net;
using PartnerDeals.IntegrationTests.Support;

namespace PartnerDeals.IntegrationTests;

public sealed class ErrorResponseTests : HostTest
{
    protected override IDictionary<string, string?> Settings => new Dictionary<string, string?> { ["Http:MaxRequestBodyBytes"] = "2048" };

    private const string ValidPartner = """{"name":"Errorless Ltd","type":"reseller","tier":"silver","contactEmail":"a@b.example"}""";

    [Test]
    public async Task UnknownRoute_AnswersNotFoundProblem()
    {
        var response = await Admin.GetAsync("/v1/no-such-thing");
        await ReadProblemAsync(response, HttpStatusCode.NotFound, "not-found");
    }

    [Test]
    public async Task WrongMethod_AnswersMethodNotAllowedProblem()
    {
        var response = await Admin.PutAsync("/v1/partners", JsonBody(ValidPartner));
        await ReadProblemAsync(response, HttpStatusCode.MethodNotAllowed, "method-not-allowed");
    }

    [Test]
    public async Task UnhandledException_AnswersInternalProblemWithTraceIdAndNoDetail()
    {
        var response = await Admin.GetAsync("/test/unhandled");
        var problem = await ReadProblemAsync(response, HttpStatusCode.InternalServerError, "internal");
        var text = problem.ToJsonString();
        text.ShouldNotContain("hunter2");
        text.ShouldNotContain("InvalidOperationException");
        text.ShouldNotContain(" at ");
    }

    [TestCase("{\"name\":")]
    [TestCase("not json at all")]
    [TestCase("[1,2,3]")]
    public async Task MalformedJson_AnswersMalformedRequestProblem(string body)
    {
        var response = await Admin.PostAsync("/v1/partners", JsonBody(body));
        await ReadProblemAsync(response, HttpStatusCode.BadRequest, "malformed-request");
    }

    [Test]
    public async Task WrongTypeForField_NamesTheField()
    {
        var response = await Admin.PostAsync("/v1/partners",
            JsonBody("""{"name":"Typed Ltd","type":"reseller","tier":"silver","contactEmail":"a@b.example","terms":{"paymentNetDays":"thirty"}}"""));
        var problem = await ReadProblemAsync(response, HttpStatusCode.BadRequest, "malformed-request");
        ErrorFields(problem).ShouldBe(["terms.paymentNetDays"]);
    }

    [Test]
    public async Task UnknownEnumValue_NamesTheField()
    {
        var response = await Admin.PostAsync("/v1/partners",
            JsonBody("""{"name":"Enum Ltd","type":"wholesaler","tier":"silver","contactEmail":"a@b.example"}"""));
        var problem = await ReadProblemAsync(response, HttpStatusCode.BadRequest, "malformed-request");
        ErrorFields(problem).ShouldBe(["type"]);
    }

    [Test]
    public async Task UnknownField_IsRefusedNotIgnored()
    {
        var response = await Admin.PostAsync("/v1/partners",
            JsonBody("""{"name":"Extra Ltd","type":"reseller","tier":"silver","contactEmail":"a@b.example","protectionDay":30}"""));
        var problem = await ReadProblemAsync(response, HttpStatusCode.BadRequest, "malformed-request");
        ErrorFields(problem).ShouldBe(["protectionDay"]);
    }

    [Test]
    public async Task BodyAboveLimit_AnswersPayloadTooLargeProblem()
    {
        var response = await Admin.PostAsync("/v1/partners", JsonBody($$"""{"name":"{{new string('x', 4000)}}"}"""));
        await ReadProblemAsync(response, HttpStatusCode.RequestEntityTooLarge, "payload-too-large");
    }

    [TestCase("text/plain")]
    [TestCase("application/xml")]
    [TestCase("application/x-www-form-urlencoded")]
    public async Task WrongMediaType_AnswersUnsupportedMediaTypeProblem(string mediaType)
    {
        var response = await Admin.PostAsync("/v1/partners", JsonBody(ValidPartner, mediaType));
        await ReadProblemAsync(response, HttpStatusCode.UnsupportedMediaType, "unsupported-media-type");
    }

    [Test]
    public async Task MissingBody_AnswersProblem()
    {
        var response = await Admin.PostAsync("/v1/partners", JsonBody(""));
        await ReadProblemAsync(response, HttpStatusCode.BadRequest, "malformed-request");
    }

    [Test]
    public async Task Validation_ListsEveryBadField()
    {
        var response = await Admin.PostAsync("/v1/partners", JsonBody(
            """{"name":"x","tier":"platinum","contactEmail":"not-an-email","terms":{"feeModel":"fixed_fee","paymentNetDays":-1,"protectionDays":0}}"""));
        var problem = await ReadProblemAsync(response, HttpStatusCode.BadRequest, "validation");
        ErrorFields(problem).ShouldBe([
            "contactEmail", "name", "terms.feeAmount", "terms.feeCurrency", "terms.paymentNetDays", "terms.protectionDays", "tier", "type",
        ]);
    }

    [Test]
    public async Task MalformedQueryParameter_NamesTheParameter()
    {
        var response = await Admin.GetAsync("/v1/partners?limit=many");
        var problem = await ReadProblemAsync(response, HttpStatusCode.BadRequest, "malformed-request");
        problem.Get<string>("detail").ShouldContain("'limit'");
    }

    [Test]
    public async Task RejectedRequests_ChangeNothing()
    {
        var before = await Admin.GetStringAsync("/v1/partners?limit=200");
        await Admin.PostAsync("/v1/partners", JsonBody("""{"name":"x"}"""));
        await Admin.PostAsync("/v1/partners", JsonBody(ValidPartner, "text/plain"));
        await Admin.PostAsync("/v1/partners", JsonBody("""{"name":"Extra Ltd","type":"reseller","tier":"silver","contactEmail":"a@b.example","x":1}"""));
        (await Admin.GetStringAsync("/v1/partners?limit=200")).ShouldBe(before);
    }
}
