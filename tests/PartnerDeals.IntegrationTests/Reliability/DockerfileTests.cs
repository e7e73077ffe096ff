using System.Diagnostics;
using System.Text.RegularExpressions;

namespace PartnerDeals.IntegrationTests.Reliability;

/// <summary>
/// No Docker daemon runs on the build machines, so the Dockerfile's build stage is replayed without one: its own COPY
/// and RUN instructions, read from the file, in an empty folder that holds only what they copy (less what
/// <c>.dockerignore</c> leaves out). A project the restore cannot see stops the publish here as it would in Docker.
/// </summary>
[NonParallelizable] // a whole restore and publish on two cores: alone, so the timed tests beside it keep their timing
public sealed partial class DockerfileTests
{
    [Test]
    public async Task BuildStage_ReplayedInAnEmptyFolder_RestoresAndPublishesTheApi()
    {
        var root = OpenApiDocumentTests.RepositoryRoot();
        var context = Directory.CreateTempSubdirectory("partnerdeals-docker-");
        var workdir = Path.Combine(context.FullName, "src");
        var output = Path.Combine(context.FullName, "app");
        var ignored = File.ReadAllLines(Path.Combine(root, ".dockerignore"))
            .Select(l => l.Trim().Replace("**/", "", StringComparison.Ordinal).TrimEnd('/'))
            .Where(l => l.Length > 0 && !l.StartsWith('#')).ToHashSet(StringComparer.Ordinal);
        try
        {
            var steps = BuildStage(File.ReadAllText(Path.Combine(root, "Dockerfile"))).ToList();
            steps.ShouldContain(s => s.Instruction == "RUN" && s.Arguments.Contains("dotnet publish", StringComparison.Ordinal));
            foreach (var (instruction, arguments) in steps)
            {
                switch (instruction)
                {
                    case "WORKDIR":
                        arguments.ShouldBe("/src", "the replay maps /src to its folder");
                        Directory.CreateDirectory(workdir);
                        break;
                    case "COPY":
                        var parts = arguments.Split(' ', StringSplitOptions.RemoveEmptyEntries);
                        var target = Path.GetFullPath(Path.Combine(workdir, parts[^1]));
                        foreach (var source in parts[..^1]) Copy(Path.Combine(root, source), target, parts[^1].EndsWith('/') || parts.Length > 2, ignored);
                        break;
                    case "RUN":
                        var (exitCode, log) = await RunAsync(arguments.Replace(" /app", " " + output, StringComparison.Ordinal), workdir);
                        exitCode.ShouldBe(0, $"RUN {arguments}\n{log}");
                        break;
                }
            }
            File.Exists(Path.Combine(output, "PartnerDeals.Api.dll")).ShouldBeTrue();
            File.Exists(Path.Combine(output, "PartnerDeals.Matching.dll")).ShouldBeTrue();
        }
        finally
        {
            context.Delete(recursive: true);
        }
    }

    /// <summary>The instructions of the stage named <c>build</c>, with continued lines joined.</summary>
    private static IEnumerable<(string Instruction, string Arguments)> BuildStage(string dockerfile)
    {
        var inBuild = false;
        foreach (var line in Continuation().Replace(dockerfile, " ").Split('\n').Select(l => l.Trim()))
        {
            if (line.Length == 0 || line.StartsWith('#')) continue;
            var space = line.IndexOf(' ', StringComparison.Ordinal);
            var (instruction, arguments) = (line[..space].ToUpperInvariant(), line[(space + 1)..].Trim());
            if (instruction == "FROM")
            {
                inBuild = arguments.EndsWith(" AS build", StringComparison.OrdinalIgnoreCase);
                continue;
            }
            if (inBuild) yield return (instruction, arguments);
        }
    }

    private static void Copy(string source, string target, bool intoFolder, HashSet<string> ignored)
    {
        if (Directory.Exists(source))
        {
            foreach (var file in Directory.EnumerateFiles(source, "*", SearchOption.AllDirectories))
            {
                var relative = Path.GetRelativePath(source, file);
                if (relative.Split(Path.DirectorySeparatorChar).Any(ignored.Contains)) continue;
                var destination = Path.Combine(target, relative);
                Directory.CreateDirectory(Path.GetDirectoryName(destination)!);
                File.Copy(file, destination, overwrite: true);
            }
            return;
        }
        File.Exists(source).ShouldBeTrue($"COPY names {source}, which is not in the repository");
        var into = intoFolder ? Path.Combine(target, Path.GetFileName(source)) : target;
        Directory.CreateDirectory(Path.GetDirectoryName(into)!);
        File.Copy(source, into, overwrite: true);
    }

    private static async Task<(int ExitCode, string Log)> RunAsync(string command, string folder)
    {
        var start = new ProcessStartInfo("bash", ["-c", command])
        {
            WorkingDirectory = folder, RedirectStandardOutput = true, RedirectStandardError = true,
        };
        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var errors = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        return (process.ExitCode, await output + await errors);
    }

    [GeneratedRegex(@"\\\r?\n")]
    private static partial Regex Continuation();
}
