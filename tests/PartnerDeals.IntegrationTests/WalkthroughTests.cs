using System.Diagnostics;
using PartnerDeals.IntegrationTests.Support;

namespace PartnerDeals.IntegrationTests;

/// <summary>
/// The README's walk-through is <c>scripts/walkthrough.sh</c>: run here against the service as a real process on an empty
/// database, it stops at the first step that does not answer as the README says.
/// </summary>
[NonParallelizable] // a process of its own: alone, so timed tests beside it keep their timing
public sealed class WalkthroughTests
{
    [Test]
    public async Task ReadmeWalkthrough_OnAnEmptyDatabase_AnswersEveryStepAsWritten()
    {
        var folder = Directory.CreateTempSubdirectory("partnerdeals-walkthrough-");
        try
        {
            using var api = await ApiProcess.StartAsync(Path.Combine(folder.FullName, "walkthrough.db"));
            var start = new ProcessStartInfo("bash", [Path.Combine(OpenApiDocumentTests.RepositoryRoot(), "scripts", "walkthrough.sh")])
            {
                RedirectStandardOutput = true, RedirectStandardError = true,
            };
            start.Environment["API"] = api.BaseAddress.ToString().TrimEnd('/');
            start.Environment["ADMIN"] = ApiFactory.AdminKey;
            using var script = Process.Start(start)!;
            var output = script.StandardOutput.ReadToEndAsync();
            var errors = script.StandardError.ReadToEndAsync();
            await script.WaitForExitAsync().WaitAsync(TimeSpan.FromMinutes(2));

            script.ExitCode.ShouldBe(0, $"{await output}{await errors}");
            (await output).ShouldContain("every step answered as the README says");
        }
        finally
        {
            Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
            folder.Delete(recursive: true);
        }
    }
}
