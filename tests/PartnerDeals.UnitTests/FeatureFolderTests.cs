using System.Text.RegularExpressions;

namespace PartnerDeals.UnitTests;

/// <summary>
/// Feature folders depend one way. A folder refers to another by a <c>using</c> of its namespace or by a
/// name qualified with it (<c>Sync.CrmOptions</c>); every folder is its own namespace, so nothing else can.
/// </summary>
public sealed partial class FeatureFolderTests
{
    [Test]
    public void FeatureFolders_DependOneWay()
    {
        var uses = FolderDependencies();

        var cycles = uses.SelectMany(edge => edge.Value.Select(to => (From: edge.Key, To: to)))
            .Where(e => Reaches(uses, e.To, e.From))
            .Select(e => $"{e.From} -> {e.To} -> … -> {e.From}")
            .ToList();

        cycles.ShouldBeEmpty("feature folders refer to each other; let the dependency run one way (see docs/layout.md)");
    }

    [Test]
    public void FeatureFolders_RegistrationsUseTheChecksFeesAndSync_NotTheOtherWay()
    {
        var uses = FolderDependencies();

        uses["Registrations"].ShouldBe(["Audit", "ConflictChecks", "Fees", "Partners", "ProductLines", "Sync", "Webhooks"], ignoreOrder: true);
        foreach (var below in new[] { "ConflictChecks", "Fees", "Sync", "Webhooks", "Partners", "ProductLines", "Audit" })
        {
            uses.GetValueOrDefault(below, []).ShouldNotContain("Registrations", $"{below} is used by Registrations");
        }
    }

    private static bool Reaches(IReadOnlyDictionary<string, HashSet<string>> uses, string from, string target)
    {
        var seen = new HashSet<string>();
        var next = new Stack<string>([from]);
        while (next.TryPop(out var folder))
        {
            if (folder == target) return true;
            if (!seen.Add(folder)) continue;
            foreach (var used in uses.GetValueOrDefault(folder, [])) next.Push(used);
        }
        return false;
    }

    private static Dictionary<string, HashSet<string>> FolderDependencies()
    {
        var features = Path.Combine(RepositoryRoot(), "src", "PartnerDeals.Api", "Features");
        var sources = Directory.GetDirectories(features).ToDictionary(folder => new DirectoryInfo(folder).Name,
            folder => Directory.GetFiles(folder, "*.cs").Select(f => WithoutCommentsAndText(File.ReadAllText(f))).ToList());
        var declared = sources.ToDictionary(f => f.Key, f => f.Value.SelectMany(s => Declaration().Matches(s).Select(m => m.Groups[1].Value)).ToHashSet());

        var uses = new Dictionary<string, HashSet<string>>();
        foreach (var (folder, files) in sources)
        {
            uses[folder] = sources.Keys.Where(other => other != folder && files.Any(source =>
                source.Contains($"using PartnerDeals.Api.Features.{other};", StringComparison.Ordinal)
                || Regex.Matches(source, $@"(?<![\w.])(?:PartnerDeals\.Api\.Features\.|Features\.)?{other}\.(\w+)")
                    .Any(m => declared[other].Contains(m.Groups[1].Value)))).ToHashSet();
        }
        return uses;
    }

    private static string WithoutCommentsAndText(string source) =>
        Regex.Replace(Regex.Replace(Regex.Replace(source, "\"\"\"[\\s\\S]*?\"\"\"", "\"\""), @"\$?""(?:\\.|[^""\\\n])*""", "\"\""), "//.*", "");

    private static string RepositoryRoot()
    {
        var directory = new DirectoryInfo(TestContext.CurrentContext.TestDirectory);
        while (directory is not null && !File.Exists(Path.Combine(directory.FullName, "PartnerDeals.sln"))) directory = directory.Parent;
        return directory?.FullName ?? throw new InvalidOperationException("PartnerDeals.sln not found above the test directory.");
    }

    [GeneratedRegex(@"^\s*(?:public|internal)\s+(?:(?:sealed|static|abstract|partial)\s+)*(?:class|record|enum|interface|struct)\s+(?:struct\s+)?(\w+)", RegexOptions.Multiline)]
    private static partial Regex Declaration();
}
