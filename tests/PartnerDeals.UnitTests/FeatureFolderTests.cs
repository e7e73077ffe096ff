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
    public void FeatureFolders_RegistrationsUseTheChecksAndFees_AndTheCrmSyncAndWebhooksFollowThem()
    {
        var uses = FolderDependencies();

        uses["Registrations"].ShouldBe(["Audit", "ConflictChecks", "Fees", "Partners", "ProductLines"], ignoreOrder: true);
        foreach (var below in new[] { "ConflictChecks", "Fees", "Partners", "ProductLines", "Audit" })
        {
            uses.GetValueOrDefault(below, []).ShouldNotContain("Registrations", $"{below} is used by Registrations");
        }
        // The CRM sync and the partner's webhooks hear of registrations (IRegistrationFollower) and fees (IFeeFollower);
        // neither Registrations nor Fees knows them.
        uses["Sync"].ShouldContain("Registrations");
        uses["Webhooks"].ShouldContain("Registrations");
        uses["Fees"].ShouldNotContain("Webhooks");
        // One outbox beneath both: each is a channel of it (IDeliverySender), and it knows neither.
        uses["Outbox"].ShouldBeEmpty();
        uses["Sync"].ShouldContain("Outbox");
        uses["Webhooks"].ShouldContain("Outbox");
        uses["Registrations"].ShouldNotContain("Outbox");
    }

    /// <summary>
    /// Each table is its feature's: the folder whose SQL inserts into it. Another folder's SQL reads it only as a read model
    /// listed here with its reason; everything else goes through the owner's store.
    /// </summary>
    private static readonly Dictionary<string, string[]> ReadModels = new()
    {
        // The metrics are read models of the whole program: partner results, the leaderboard, program health.
        ["Metrics"] = ["*"],
        // The conflict check reads both kinds of claim, with their token indexes, in one lookup per blocking key.
        // Members never conflict with each other: a claim's team is asked in the same lookup.
        ["ConflictChecks"] = ["opportunities", "opportunity_tokens", "registrations", "registration_tokens", "registration_members"],
        // A deal's team is listed with its partners' names in one query.
        ["Registrations"] = ["partners"],
        // A validated batch commits at once unless the claims or the pipeline changed since: their counts and latest changes.
        ["RegistrationBatches"] = ["registrations", "opportunities"],
        // A key's lookup reads its partner's status in the same query: one round trip per uncached key.
        ["ApiKeys"] = ["partners"],
        // So does a signed-in person's, through the link that makes them a partner's.
        ["People"] = ["partners"],
        // The expiring notice looks only at the registrations of partners with an endpoint.
        ["Webhooks"] = ["registrations"],
        // A CRM batch is sent with its partners' names as they are at delivery time.
        ["Sync"] = ["partners"],
    };

    [Test]
    public void FeatureSql_NamesOnlyItsOwnTables_OrAReadModelSaidSo()
    {
        var sql = FeatureSql();
        var owners = sql.SelectMany(f => f.Value.SelectMany(text => Regex.Matches(text, @"\bINSERT\s+INTO\s+(\w+)")
                .Select(m => (Table: m.Groups[1].Value.ToLowerInvariant(), Folder: f.Key))))
            .Distinct().GroupBy(o => o.Table).ToDictionary(g => g.Key, g => g.Select(o => o.Folder).ToList());
        owners.Where(o => o.Value.Count > 1).Select(o => $"{o.Key}: {string.Join(", ", o.Value)}").ShouldBeEmpty("a table written by two features");

        var strays = new List<string>();
        foreach (var (folder, texts) in sql)
        {
            foreach (var text in texts)
            {
                foreach (Match m in Regex.Matches(text, @"\b(?:FROM|JOIN|UPDATE|INTO)\s+(\w+)"))
                {
                    var table = m.Groups[1].Value.ToLowerInvariant();
                    if (!owners.TryGetValue(table, out var owner) || owner[0] == folder) continue;
                    var allowed = ReadModels.GetValueOrDefault(folder, []);
                    if (!allowed.Contains("*") && !allowed.Contains(table)) strays.Add($"{folder} names {owner[0]}'s {table}");
                }
            }
        }
        strays.Distinct().ShouldBeEmpty("a feature's SQL names another feature's table: go through that feature's store");
    }

    [Test]
    public void FeatureReads_TakeTheOneReadPath_ButTheMetricsReadModels()
    {
        // Database.ReadAsync hands a read its session (on SQLite one of a few kept connections, its statements prepared
        // once); a feature does not build commands of its own. The metrics run a dozen queries on one connection.
        var features = Path.Combine(RepositoryRoot(), "src", "PartnerDeals.Api", "Features");
        Directory.GetFiles(features, "*.cs", SearchOption.AllDirectories)
            .Where(f => !f.Contains($"{Path.DirectorySeparatorChar}Metrics{Path.DirectorySeparatorChar}", StringComparison.Ordinal))
            .Where(f => File.ReadAllText(f).Contains(".Command(", StringComparison.Ordinal))
            .Select(Path.GetFileName)
            .ShouldBeEmpty("these build commands of their own: read through Database.ReadAsync, write through a session");
    }

    /// <summary>The string literals of each feature folder (SQL among them: its keywords are upper case here).</summary>
    private static Dictionary<string, List<string>> FeatureSql()
    {
        var features = Path.Combine(RepositoryRoot(), "src", "PartnerDeals.Api", "Features");
        return Directory.GetDirectories(features).ToDictionary(folder => new DirectoryInfo(folder).Name, folder => Directory.GetFiles(folder, "*.cs")
            .SelectMany(f => Regex.Matches(File.ReadAllText(f), "\"\"\"([\\s\\S]*?)\"\"\"|\"((?:[^\"\\\\\\n]|\\\\.)*)\"").Select(m => m.Groups[1].Value + m.Groups[2].Value))
            .ToList());
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
