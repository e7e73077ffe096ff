using PartnerDeals.Benchmarks;
using PartnerDeals.Matching;

// dotnet run -c Release --project tests/PartnerDeals.Benchmarks -- quality [datasets folder]
//                                                                 speed [records] [checks]
//                                                                 metrics-seed <db file> [registrations] [opportunities]
//                                                                 metrics-time <base url> <admin key> [requests]
//                                                                 load-seed <db file> [opportunities]
//                                                                 raw-commits <folder> [seconds] [synchronous]
var command = args.FirstOrDefault() ?? "quality";
switch (command)
{
    case "quality":
        var datasets = args.Length > 1 ? args[1] : Path.Combine(FindRoot(), "..", "shared", "datasets", "names", "labeled");
        QualityBenchmark.Run(Path.GetFullPath(datasets), new MatchSettings());
        break;
    case "speed":
        await SpeedBenchmark.RunAsync(args.Length > 1 ? int.Parse(args[1]) : 1_000_000, args.Length > 2 ? int.Parse(args[2]) : 2_000);
        break;
    case "metrics-seed":
        await MetricsBenchmark.SeedAsync(args[1], 200, args.Length > 2 ? int.Parse(args[2]) : 200_000, args.Length > 3 ? int.Parse(args[3]) : 1_000_000);
        break;
    case "metrics-time":
        await MetricsBenchmark.TimeAsync(args[1], args[2], args.Length > 3 ? int.Parse(args[3]) : 200);
        break;
    case "load-seed":
        await LoadBenchmark.SeedAsync(args[1], args.Length > 2 ? int.Parse(args[2]) : 1_000_000);
        break;
    case "raw-commits":
        await LoadBenchmark.RawCommitsAsync(args[1], args.Length > 2 ? int.Parse(args[2]) : 10, args.Length > 3 ? args[3] : "full");
        break;
    case "normalise":
        foreach (var name in args.Skip(1))
        {
            var n = CompanyName.Normalise(name);
            Console.WriteLine($"{name} -> key '{n.Key}' tokens [{string.Join(", ", n.Tokens)}] acronym '{n.Acronym}'");
        }
        break;
    default:
        Console.Error.WriteLine("usage: quality [datasets] | speed [records] [checks] | metrics-seed <db> [registrations] [opportunities] | metrics-time <url> <key> [requests] | load-seed <db> [opportunities] | raw-commits <folder> [seconds] [synchronous]");
        return 2;
}
return 0;

static string FindRoot()
{
    var directory = new DirectoryInfo(AppContext.BaseDirectory);
    while (directory is not null && !File.Exists(Path.Combine(directory.FullName, "PartnerDeals.sln"))) directory = directory.Parent;
    return directory?.FullName ?? Directory.GetCurrentDirectory();
}
