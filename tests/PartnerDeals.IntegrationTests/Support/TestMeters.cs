using System.Diagnostics.Metrics;

namespace PartnerDeals.IntegrationTests.Support;

/// <summary>Meters for a service built by hand in a test, outside a host; disposed with it.</summary>
public sealed class TestMeters : IMeterFactory
{
    private readonly List<Meter> _meters = [];

    public Meter Create(MeterOptions options)
    {
        var meter = new Meter(options);
        _meters.Add(meter);
        return meter;
    }

    public void Dispose()
    {
        foreach (var meter in _meters) meter.Dispose();
    }
}
