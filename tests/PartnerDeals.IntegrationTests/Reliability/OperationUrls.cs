namespace PartnerDeals.IntegrationTests.Reliability;

/// <summary>A callable URL for an OpenAPI path template: a partner's and a registration's paths on the given records, other ids fresh.</summary>
internal static class OperationUrls
{
    public static string For(string template, string partnerId, string registrationId) => template
        .Replace("/partners/{id}", $"/partners/{partnerId}", StringComparison.Ordinal)
        .Replace("/registrations/{id}", $"/registrations/{registrationId}", StringComparison.Ordinal)
        .Replace("{id}", Guid.NewGuid().ToString(), StringComparison.Ordinal)
        .Replace("{extensionId}", Guid.NewGuid().ToString(), StringComparison.Ordinal)
        .Replace("{webhookId}", Guid.NewGuid().ToString(), StringComparison.Ordinal)
        .Replace("{deliveryId}", Guid.NewGuid().ToString(), StringComparison.Ordinal)
        .Replace("{linkId}", Guid.NewGuid().ToString(), StringComparison.Ordinal)
        .Replace("{resellerId}", Guid.NewGuid().ToString(), StringComparison.Ordinal)
        .Replace("{memberId}", Guid.NewGuid().ToString(), StringComparison.Ordinal)
        .Replace("{source}", "salesforce", StringComparison.Ordinal)
        .Replace("{crm}", "salesforce", StringComparison.Ordinal)
        .Replace("{externalId}", "006PROBE", StringComparison.Ordinal);
}
