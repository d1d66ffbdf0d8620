using System.Text;
using System.Text.Json;
using Arca.Tests.Http.Go;
using Arca.Tests.Infrastructure;
using static Arca.Tests.Migration.OciMigrationSupport;

namespace Arca.Tests.Migration;

/// <summary>GO from a Go local repository of the Artifactory EMULATOR: module versions stored in the GOPROXY layout
/// (one module path with upper case as the JFrog CLI deploys it, one stored '!' case-encoded, one version without
/// .info), migrated into an Arca GO registry that the real `go` then builds a consumer from, alone.</summary>
public sealed partial class ArtifactoryEmulatorMigrationTests
{
    private const string GoLib = "example.com/Acme/lib", GoUtil = "example.com/BigCorp/util", GoApp = "example.com/acme/app";

    /// <summary>Stores one module version at <c>go-local/&lt;stored module&gt;/@v/&lt;version&gt;.zip|.mod[|.info]</c>; returns the zip's sha256.</summary>
    private string PutGoModule(string storedModule, string module, string version, string goMod, string code, string? infoTime)
    {
        Put("go-local", $"{storedModule}/@v/{version}.mod", Encoding.UTF8.GetBytes(goMod));
        if (infoTime is not null)
            Put("go-local", $"{storedModule}/@v/{version}.info", Encoding.UTF8.GetBytes($"{{\"Version\":\"{version}\",\"Time\":\"{infoTime}\"}}"));
        return Put("go-local", $"{storedModule}/@v/{version}.zip", GoModuleZips.Module(module, version, goMod, code));
    }

    private static void WriteFile(string dir, string rel, string content)
    {
        var path = Path.Combine(dir, rel);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllText(path, content);
    }

    [Fact]
    public async Task Migrates_a_go_local_repository_then_go_builds_a_consumer_from_the_destination_alone_and_a_rerun_skips()
    {
        var libMod = $"module {GoLib}\n\ngo 1.19\n";
        var utilMod = $"module {GoUtil}\n\ngo 1.19\n";
        var appMod = $"module {GoApp}\n\ngo 1.19\n\nrequire (\n\t{GoLib} v1.0.0\n\t{GoUtil} v0.1.0\n)\n";
        var zips = new Dictionary<string, string>
        {
            [$"{GoLib}@v1.0.0"] = PutGoModule(GoLib, GoLib, "v1.0.0", libMod, "package lib\n\nfunc Answer() int { return 42 }\n", "2023-03-01T10:00:00Z"),
            [$"{GoLib}@v1.1.0"] = PutGoModule(GoLib, GoLib, "v1.1.0", libMod, "package lib\n\nfunc Answer() int { return 43 }\n", infoTime: null),
            [$"{GoUtil}@v0.1.0"] = PutGoModule("example.com/!big!corp/util", GoUtil, "v0.1.0", utilMod, "package util\n\nfunc Word() string { return \"util\" }\n", "2023-02-01T09:00:00Z"),
            [$"{GoApp}@v1.0.0"] = PutGoModule(GoApp, GoApp, "v1.0.0", appMod,
                $"package app\n\nimport (\n\t\"fmt\"\n\n\t\"{GoLib}\"\n\t\"{GoUtil}\"\n)\n\nfunc Message() string {{ return fmt.Sprintf(\"%s answer=%d\", util.Word(), lib.Answer()) }}\n",
                "2023-04-01T08:00:00Z"),
        };
        // Public so `go` can read it: go sends no credentials to an http:// proxy.
        await _arca.CreateRegistryAsync("go-dst", "GO", isPublic: true);
        var config = Config($"{"{"} username: {User}, password: {Password} {"}"}", """
              - artifactType: GO
                sourceRegistry: go-local
                destinationRegistry: go-dst
            """);
        var first = await MigrateAsync(_work, config, new Dictionary<string, string?>(), "--format", "json");
        first.AssertOk("GO migration from the Artifactory emulator");
        Assert.Equal(zips.Count, Mapping(first, 0).GetProperty("succeeded").GetInt32());
        Assert.Contains(_jfrog.AqlQueries, q => q.Contains("\"repo\":\"go-local\""));

        foreach (var (id, sha256) in zips)
        {
            var (module, version) = (id.Split('@')[0], id.Split('@')[1]);
            var url = $"pkg/go-dst/go/{Arca.Core.Validation.GoCaseEncoding.Encode(module)}/@v/{version}";
            Assert.Equal(sha256, await Sha256OfAsync(url + ".zip"));
            var info = JsonDocument.Parse(await _arca.Admin.GetStringAsync(url + ".info")).RootElement;
            Assert.Equal(version, info.GetProperty("Version").GetString());
        }
        // A stored .info keeps its time; the version stored without one got a .info from the destination.
        Assert.StartsWith("2023-03-01T10:00:00", JsonDocument.Parse(await _arca.Admin.GetStringAsync("pkg/go-dst/go/example.com/!acme/lib/@v/v1.0.0.info")).RootElement.GetProperty("Time").GetString());

        var consumer = Path.Combine(_work, "consumer");
        WriteFile(consumer, "go.mod", $"module example.com/consumer\n\ngo 1.19\n\nrequire {GoApp} v1.0.0\n");
        WriteFile(consumer, "main.go", $"package main\n\nimport (\n\t\"fmt\"\n\n\t\"{GoApp}\"\n)\n\nfunc main() {{ fmt.Println(app.Message()) }}\n");
        var proxy = $"{_arca.BaseUrl}/pkg/go-dst/go";
        var goWork = Path.Combine(_work, "go");
        (await GoTool.RunAsync(goWork, proxy, consumer, "mod", "tidy")).AssertOk("go mod tidy");
        (await GoTool.RunAsync(goWork, proxy, consumer, "mod", "download", "all")).AssertOk("go mod download");
        (await GoTool.RunAsync(goWork, proxy, consumer, "build", "-o", "consumer-bin", ".")).AssertOk("go build");
        var run = await Proc.RunAsync(Path.Combine(consumer, "consumer-bin"), [], consumer);
        Assert.Equal("util answer=42", run.AssertOk("run consumer").Stdout.Trim());
        Assert.Contains("v1.0.0 v1.1.0", (await GoTool.RunAsync(goWork, proxy, consumer, "list", "-m", "-versions", GoLib)).AssertOk("go list").Stdout);

        _jfrog.Server.Requests.Clear();
        var second = await MigrateAsync(_work, config, new Dictionary<string, string?>(), "--format", "json");
        second.AssertOk("GO rerun");
        Assert.Equal(zips.Count, Mapping(second, 0).GetProperty("skipped").GetInt32());
        Assert.Equal(0, Mapping(second, 0).GetProperty("bytes").GetInt64());
        Assert.DoesNotContain(_jfrog.Server.Requests, r => !r.Path.StartsWith("/artifactory/api/", StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_go_mapping_on_a_maven_repository_is_refused_before_anything_is_listed()
    {
        Put("libs-release-local", "com/acme/util/1.0/util-1.0.jar", Jar(100));
        var config = Config($"{"{"} password: {Token} {"}"}", """
              - artifactType: GO
                sourceRegistry: libs-release-local
                destinationRegistry: go-dst
            """);
        var report = Path.Combine(_work, "go-on-maven.json");
        var run = await MigrateAsync(_work, config, new Dictionary<string, string?>(), "--report", report);
        Assert.NotEqual(0, run.ExitCode);
        Assert.Contains("libs-release-local holds maven packages, not what a GO mapping reads (go)", Assert.Single(ReportItems(report)).GetProperty("error").GetString());
        Assert.Empty(_jfrog.AqlQueries);
    }
}
