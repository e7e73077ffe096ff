using System.Net;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.AspNetCore.DataProtection.KeyManagement;
using Microsoft.Extensions.Options;
using PartnerDeals.Api.Infrastructure.Data;

namespace PartnerDeals.Api.Features.Webhooks;

/// <summary>Wires partner webhooks: settings, Data Protection on the database's key ring, the guarded HTTP client and their outbox channel.</summary>
public static class WebhookSetup
{
    public static IServiceCollection AddWebhooks(this IServiceCollection services, IConfiguration config)
    {
        services.AddOptions<WebhookOptions>().Bind(config.GetSection(WebhookOptions.Section)).ValidateDataAnnotations()
            .Validate(o => o.IsValid, "Webhooks: Timeout, PollInterval, DisableAfter and every RetrySchedule entry positive; Lease longer than "
                + "Timeout; at most 50 retries; BatchSize, MaxInFlightPerEndpoint and TestsPerMinute at least 1; MaxInFlightPerPartner at least MaxInFlightPerEndpoint.")
            .ValidateOnStart();

        // Every instance protects and unprotects signing secrets with the same key ring, kept in the database.
        services.AddDataProtection().SetApplicationName("PartnerDeals");
        services.AddOptions<KeyManagementOptions>()
            .Configure<Database, TimeProvider>((o, database, clock) => o.XmlRepository = new DataProtectionKeys(database, clock));

        services.AddSingleton<HostResolver>(_ => (host, ct) => Dns.GetHostAddressesAsync(host, ct));
        services.AddSingleton<EndpointAddresses>();
        services.AddHttpClient(WebhookSender.ClientName)
            .ConfigurePrimaryHttpMessageHandler(sp =>
            {
                var addresses = sp.GetRequiredService<EndpointAddresses>();
                var timeout = sp.GetRequiredService<IOptions<WebhookOptions>>().Value.Timeout;
                return new SocketsHttpHandler
                {
                    // A redirect or a proxy would take the request somewhere the address check never saw.
                    AllowAutoRedirect = false,
                    UseProxy = false,
                    ConnectTimeout = timeout,
                    // A pooled connection keeps the address it was checked against; a new one is checked again.
                    PooledConnectionLifetime = TimeSpan.FromMinutes(1),
                    ConnectCallback = (context, ct) => addresses.ConnectAsync(context.DnsEndPoint.Host, context.DnsEndPoint.Port, ct),
                };
            })
            .ConfigureHttpClient(client => client.Timeout = Timeout.InfiniteTimeSpan)
            // Signatures travel in headers; no log line may carry them.
            .RedactLoggedHeaders(_ => true);

        services.AddSingleton<WebhookSigning>();
        services.AddSingleton<WebhookStore>();
        services.AddSingleton<Partners.ITerminationStep>(sp => sp.GetRequiredService<WebhookStore>());
        services.AddSingleton<WebhookEvents>();
        services.AddSingleton<PartnerWebhooks>();
        services.AddSingleton<Registrations.IRegistrationFollower>(sp => sp.GetRequiredService<PartnerWebhooks>());
        services.AddSingleton<Fees.IFeeFollower>(sp => sp.GetRequiredService<PartnerWebhooks>());
        services.AddSingleton<ExpiringNotices>();
        services.AddHostedService(sp => sp.GetRequiredService<ExpiringNotices>());
        services.AddSingleton<Outbox.IDeliverySender, WebhookSender>();
        return services;
    }
}
