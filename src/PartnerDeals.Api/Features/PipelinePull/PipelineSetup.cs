using Microsoft.Extensions.Options;
using PartnerDeals.Api.Features.Sync;

namespace PartnerDeals.Api.Features.PipelinePull;

/// <summary>Wires the pull of the CRMs' pipelines: a reader per CRM whose pull is enabled, the store and the puller.</summary>
public static class PipelineSetup
{
    /// <summary>After <see cref="SyncSetup.AddCrmSync"/>: the readers use its settings and its HTTP clients.</summary>
    public static IServiceCollection AddPipelinePull(this IServiceCollection services)
    {
        services.AddSingleton<SalesforcePipeline>();
        services.AddSingleton<HubSpotPipeline>();
        services.AddSingleton<DynamicsPipeline>();
        // Only the CRMs whose pull is enabled get a reader.
        services.AddSingleton<IReadOnlyList<IPipelineReader>>(sp =>
        {
            var crm = sp.GetRequiredService<IOptions<CrmOptions>>().Value;
            var readers = new List<IPipelineReader>();
            if (crm.Salesforce.Pipeline.Enabled) readers.Add(sp.GetRequiredService<SalesforcePipeline>());
            if (crm.HubSpot.Pipeline.Enabled) readers.Add(sp.GetRequiredService<HubSpotPipeline>());
            if (crm.Dynamics.Pipeline.Enabled) readers.Add(sp.GetRequiredService<DynamicsPipeline>());
            return readers;
        });
        services.AddSingleton<PipelineStore>();
        services.AddSingleton<PipelinePuller>();
        services.AddHostedService(sp => sp.GetRequiredService<PipelinePuller>());
        return services;
    }
}
