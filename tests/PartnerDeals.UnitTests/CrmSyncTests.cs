using System.Net;
using System.Text.Json;
using PartnerDeals.Api.Features.Registrations;
using PartnerDeals.Api.Features.Sync;
using PartnerDeals.Api.Infrastructure.Http;
using Polly.Timeout;

namespace PartnerDeals.UnitTests;

public sealed class CrmSyncTests
{
    private static readonly DateTimeOffset Submitted = new(2026, 11, 23, 10, 0, 0, TimeSpan.Zero);

    private static readonly Registration Approved = new()
    {
        Id = Guid.Parse("019ab0c4-0000-7000-8000-000000000001"),
        PartnerId = Guid.Parse("019ab0c4-0000-7000-8000-0000000000aa"),
        Status = RegistrationStatus.Approved,
        Verdict = PartnerDeals.Matching.Verdict.Clear,
        Reason = "auto_approved",
        Customer = new Customer("Contoso Pharma GmbH", "contoso-pharma.de", "DE", null, null),
        Contact = new Contact("Maria Schmidt", "maria@contoso-pharma.de", null),
        Deal = new Deal("Analytics rollout", [], 120_000m, "EUR", null, null),
        CoSell = new CoSell(CoSellParty.Partner, CoSellParty.Vendor, CoSellParty.Partner),
        CoSelling = false,
        Icp = new IcpResult(true, null),
        PolicyVersion = "1-abc",
        ProtectionExpiresAt = Submitted.AddDays(90),
        ExtensionsGranted = 0,
        SubmittedAt = Submitted,
        CreatedAt = Submitted,
        UpdatedAt = Submitted,
    };

    // Through the outbox payload, as the registrations write it and the dispatcher reads it.
    private static CrmChange Change(Registration registration) => new(Guid.NewGuid(), "registration.approved",
        RegistrationSnapshot.FromPayload(JsonSerializer.Serialize(new { action = "registration.approved", registration }, Json.Options))!, "Fabrikam Partners");

    [Test]
    public void RegistrationSnapshot_Statuses_AreEveryRegistrationStatus() =>
        RegistrationSnapshot.Statuses.ShouldBe(Json.Names<RegistrationStatus>());

    [Test]
    public void RegistrationSnapshot_PayloadWithoutARegistration_IsNone()
    {
        RegistrationSnapshot.FromPayload("""{"action":"registration.approved"}""").ShouldBeNull();
        RegistrationSnapshot.FromPayload("""{"registration":{"id":"not-an-id"}}""").ShouldBeNull();
        RegistrationSnapshot.FromPayload("not json").ShouldBeNull();
    }

    [Test]
    public void Mapping_Defaults_MapNameAmountCloseDateStageAndPartner()
    {
        var fields = new SalesforceOptions().Mapping().Map(Change(Approved));

        fields["Name"].ShouldBe("Analytics rollout");
        fields["Amount"].ShouldBe(120_000m);
        fields["CloseDate"].ShouldBe(new DateOnly(2027, 2, 21), "no expected close date: the end of protection");
        fields["CurrencyIsoCode"].ShouldBe("EUR", "a multi-currency org stores the amount in the deal's currency");
        fields["StageName"].ShouldBe("Qualification");
        fields["PartnerDeals_Partner__c"].ShouldBe("Fabrikam Partners");
        fields["PartnerDeals_Status__c"].ShouldBe("approved");
    }

    [Test]
    public void Mapping_Won_UsesTheAmountAndDayItClosedAt()
    {
        var won = Approved with
        {
            Status = RegistrationStatus.Won,
            Outcome = new Outcome(OutcomeResult.Won, 98_500m, "EUR", new DateTimeOffset(2026, 12, 30, 23, 0, 0, TimeSpan.Zero), null),
        };

        var fields = new HubSpotOptions().Mapping().Map(Change(won));

        fields["amount"].ShouldBe(98_500m);
        fields["closedate"].ShouldBe(new DateOnly(2026, 12, 30));
        fields["dealstage"].ShouldBe("closedwon");
    }

    [Test]
    public void Mapping_Configured_ReplacesFieldsAndOverridesOnlyTheStagesGiven()
    {
        var options = new DynamicsOptions
        {
            Fields = new() { ["name"] = "company_name", ["pd_domain"] = "company_domain", ["pd_cosell"] = "co_selling" },
            Stages = new() { ["approved"] = "3-Propose" },
        };

        var mapping = options.Mapping();
        var fields = mapping.Map(Change(Approved));

        fields.Keys.Order().ShouldBe(["name", "pd_cosell", "pd_domain"]);
        fields["name"].ShouldBe("Contoso Pharma GmbH");
        fields["pd_cosell"].ShouldBe(false);
        mapping.StageOf(Json.Name(RegistrationStatus.Approved)).ShouldBe("3-Propose");
        mapping.StageOf(Json.Name(RegistrationStatus.Lost)).ShouldBe("Lost", "stages not configured keep their defaults");
    }

    [Test]
    public void Mapping_AbsentValue_IsLeftOutRatherThanCleared() =>
        new SalesforceOptions { Fields = new() { ["Website"] = "company_domain" } }.Mapping()
            .Map(Change(Approved with { Customer = Approved.Customer with { Domain = null } })).ShouldBeEmpty();

    private static IEnumerable<TestCaseData> Settings()
    {
        yield return new TestCaseData(new CrmOptions(), Array.Empty<string>()).SetName("Options_NoCrmConfigured_AreValidAndDeliverNothing");
        yield return new TestCaseData(new CrmOptions { Salesforce = { InstanceUrl = "https://acme.my.salesforce.com" } },
            new[] { "InstanceUrl and TokenUrl", "ClientId and ClientSecret" }).SetName("Options_SalesforceWithoutSignIn_NameWhatIsMissing");
        yield return new TestCaseData(new CrmOptions { HubSpot = { AccessToken = "pat", Fields = new() { ["dealname"] = "deal_title" } } },
            new[] { "unknown source 'deal_title'" }).SetName("Options_FieldFromAnUnknownSource_IsRefused");
        yield return new TestCaseData(new CrmOptions { HubSpot = { AccessToken = "pat", Stages = new() { ["closed"] = "closedwon" } } },
            new[] { "not a registration status" }).SetName("Options_StageForAnUnknownStatus_IsRefused");
        yield return new TestCaseData(new CrmOptions { HubSpot = { AccessToken = "pat", TimeZone = "Mars/Olympus" } },
            new[] { "not a known time zone" }).SetName("Options_UnknownHubSpotTimeZone_IsRefused");
        yield return new TestCaseData(new CrmOptions { HubSpot = { AccessToken = "pat", TeamRoles = new() { ["partner"] = "37" } } },
            new[] { "TeamRoles:partner is not a team role" }).SetName("Options_TeamRoleNotOfTheTeam_IsRefused");
        yield return new TestCaseData(new CrmOptions { HubSpot = { AccessToken = "pat", TeamRoles = new() { ["reseller"] = "Reseller" } } },
            new[] { "type id of a deal-to-company association label" }).SetName("Options_HubSpotTeamRoleNotALabelTypeId_IsRefused");
        yield return new TestCaseData(new CrmOptions
            {
                Dynamics = { BaseUrl = "https://a.crm.dynamics.com", TokenUrl = "https://login.microsoftonline.com/t/oauth2/v2.0/token", ClientId = "c",
                    ClientSecret = "s", TeamRoles = new() { ["primary"] = "Primary partner" } },
            },
            new[] { "must be a connection role id" }).SetName("Options_DynamicsTeamRoleNotAConnectionRoleId_IsRefused");
        yield return new TestCaseData(new CrmOptions { Delivery = { Lease = TimeSpan.FromSeconds(5) } },
            new[] { "Lease must be at least" }).SetName("Options_LeaseShorterThanOneAttempt_IsRefused");
    }

    [TestCaseSource(nameof(Settings))]
    public void Validate(CrmOptions options, string[] problems)
    {
        var found = options.Problems().ToList();
        found.Count.ShouldBe(problems.Length, string.Join(" | ", found));
        foreach (var problem in problems) found.ShouldContain(f => f.Contains(problem));
    }

    [Test]
    public void Options_EveryCrmConfigured_AreAllEnabled()
    {
        var options = new CrmOptions
        {
            Salesforce = { InstanceUrl = "https://a.my.salesforce.com", TokenUrl = "https://a.my.salesforce.com/services/oauth2/token", ClientId = "c", ClientSecret = "s" },
            HubSpot = { AccessToken = "pat" },
            Dynamics = { BaseUrl = "https://a.crm.dynamics.com", TokenUrl = "https://login.microsoftonline.com/t/oauth2/v2.0/token", ClientId = "c", ClientSecret = "s" },
        };

        options.Problems().ShouldBeEmpty();
        options.Enabled.ShouldBe(["salesforce", "hubspot", "dynamics"]);
        options.Dynamics.EffectiveScope.ShouldBe("https://a.crm.dynamics.com/.default");
    }

    private static readonly TimeSpan MaxInline = TimeSpan.FromSeconds(5);

    private static IEnumerable<TestCaseData> Answers()
    {
        yield return new TestCaseData(HttpStatusCode.ServiceUnavailable, null, true, true).SetName("Resilience_503_IsAnOutageRetriedInline");
        yield return new TestCaseData(HttpStatusCode.RequestTimeout, null, true, true).SetName("Resilience_408_IsAnOutageRetriedInline");
        yield return new TestCaseData(HttpStatusCode.ServiceUnavailable, 120, true, false).SetName("Resilience_503WithLongRetryAfter_GoesBackToTheDispatcher");
        yield return new TestCaseData(HttpStatusCode.TooManyRequests, 2, false, true).SetName("Resilience_429WithShortRetryAfter_IsWaitedInline");
        yield return new TestCaseData(HttpStatusCode.TooManyRequests, 30, false, false).SetName("Resilience_429WithLongRetryAfter_GoesBackToTheDispatcher");
        yield return new TestCaseData(HttpStatusCode.TooManyRequests, null, false, false).SetName("Resilience_429WithoutHint_GoesBackToTheDispatcher");
        yield return new TestCaseData(HttpStatusCode.Forbidden, null, false, false).SetName("Resilience_403_NeitherTripsTheBreakerNorRetries");
        yield return new TestCaseData(HttpStatusCode.BadRequest, null, false, false).SetName("Resilience_400_NeitherTripsTheBreakerNorRetries");
    }

    [TestCaseSource(nameof(Answers))]
    public void Resilience(HttpStatusCode status, int? retryAfterSeconds, bool outage, bool retriedInline)
    {
        using var response = new HttpResponseMessage(status);
        if (retryAfterSeconds is { } seconds) response.Headers.RetryAfter = new(TimeSpan.FromSeconds(seconds));
        var outcome = Polly.Outcome.FromResult(response);

        SyncSetup.IsOutage(outcome).ShouldBe(outage);
        SyncSetup.RetryInline(outcome, MaxInline, TimeProvider.System).ShouldBe(retriedInline);
    }

    [Test]
    public void Resilience_TimeoutsAndBrokenConnections_AreOutages()
    {
        SyncSetup.IsOutage(Polly.Outcome.FromException<HttpResponseMessage>(new TimeoutRejectedException())).ShouldBeTrue();
        SyncSetup.IsOutage(Polly.Outcome.FromException<HttpResponseMessage>(new HttpRequestException("Connection refused"))).ShouldBeTrue();
        SyncSetup.IsOutage(Polly.Outcome.FromException<HttpResponseMessage>(new InvalidOperationException())).ShouldBeFalse();
    }

    [Test]
    public void AttemptResult_FromAnOpenCircuit_IsPostponedNotFailed() =>
        AttemptResult.From(new Polly.CircuitBreaker.BrokenCircuitException()).Outcome.ShouldBe(AttemptOutcome.Postponed);
}
