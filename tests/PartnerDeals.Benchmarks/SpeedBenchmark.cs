namespace PartnerDeals.Benchmarks;

public static class SpeedBenchmark
{
    public static Task RunAsync(int records, int checks) => throw new NotImplementedException();
}
