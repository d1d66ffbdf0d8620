using System.Security.Cryptography;
using System.Text.Json;
using Arca.Tests.Infrastructure;

namespace Arca.Tests.Migration;

/// <summary>`arca registry migrate` of GO from one Arca to another: modules pushed with the arca CLI (one with an
/// upper-case path, so the GOPROXY case encoding is exercised), zips equal by sha256, the real `go` builds a consumer
/// with the destination as its only GOPROXY, a rerun skips everything.</summary>
public sealed class GoMigrationTests : IAsyncLifetime
{
    private TestServer _source = null!;
    private TestServer _dest = null!;
    private string _work = null!;
    private const string Lib = "example.com/Acme/lib";
    private const string App = "example.com/acme/app";

    public async Task InitializeAsync()
    {
        _work = TempDir.Create("migrate-go");
        _source = await TestServer.StartAsync();
        _dest = await TestServer.StartAsync();
    }

    public async Task DisposeAsync()
    {
        await _source.DisposeAsync();
        await _dest.DisposeAsync();
        TempDir.TryDelete(_work);
    }

    private static void Write(string dir, string rel, string content)
    {
        var path = Path.Combine(dir, rel);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllText(path, content);
    }

    // GOPROXY is only the destination: no fallback to the source or the internet.
    private Task<ProcResult> Go(string dir, string proxy, params string[] args) => GoTool.RunAsync(_work, proxy, dir, args);

    /// <summary>Every module version's zip sha256, read through the GOPROXY endpoint (hashing what go would download).</summary>
    private static async Task<Dictionary<string, string>> ZipHashesAsync(HttpClient c, string registry)
    {
        var result = new Dictionary<string, string>();
        foreach (var (module, encoded) in new[] { (Lib, "example.com/!acme/lib"), (App, App) })
        {
            var list = await c.GetStringAsync($"pkg/{registry}/go/{encoded}/@v/list");
            foreach (var v in list.Split('\n', StringSplitOptions.RemoveEmptyEntries))
                result[$"{module}@{v}"] = Convert.ToHexStringLower(SHA256.HashData(await c.GetByteArrayAsync($"pkg/{registry}/go/{encoded}/@v/{v}.zip")));
        }
        return result;
    }

    [Fact]
    public async Task Go_modules_arrive_equal_by_sha256_and_build_from_the_destination_alone()
    {
        await _source.CreateRegistryAsync("go-src", "GO");
        // Public so `go` can read it: go sends no credentials to an http:// proxy.
        await _dest.CreateRegistryAsync("go-dst", "GO", isPublic: true);
        Task<ProcResult> Arca(params string[] args) => ArcaCli.RunAsync(_source.BaseUrl, _source.AdminToken, args, _work);

        var lib = Path.Combine(_work, "lib");
        Write(lib, "go.mod", $"module {Lib}\n\ngo 1.19\n");
        Write(lib, "lib.go", "package lib\n\n// Answer is what app re-exports.\nfunc Answer() int { return 42 }\n");
        (await Arca("artifact", "push", "go", "go-src", lib, "--version", "v1.0.0")).AssertOk("push lib v1.0.0");
        Write(lib, "lib.go", "package lib\n\n// Answer is what app re-exports.\nfunc Answer() int { return 43 }\n");
        (await Arca("artifact", "push", "go", "go-src", lib, "--version", "v1.1.0")).AssertOk("push lib v1.1.0");

        var app = Path.Combine(_work, "app");
        Write(app, "go.mod", $"module {App}\n\ngo 1.19\n\nrequire {Lib} v1.0.0\n");
        Write(app, "app.go", $"package app\n\nimport (\n\t\"fmt\"\n\n\t\"{Lib}\"\n)\n\nfunc Message() string {{ return fmt.Sprintf(\"answer=%d\", lib.Answer()) }}\n");
        (await Arca("artifact", "push", "go", "go-src", app, "--version", "v1.0.0")).AssertOk("push app");
        var sourceInfo = await _source.Admin.GetStringAsync($"pkg/go-src/go/{App}/@v/v1.0.0.info");

        var config = MigrateCli.WriteConfig(_work, _source.BaseUrl, "ARCA", _source.AdminToken, _dest.BaseUrl, """
              - artifactType: GO
                sourceRegistry: go-src
                destinationRegistry: go-dst
            """);
        var first = await _dest.MigrateOkAsync(config, _work);
        Assert.Equal(3, first[0].GetProperty("succeeded").GetInt32());
        Assert.Equal(0, first[0].GetProperty("failed").GetInt32());
        Assert.True(first[0].GetProperty("bytes").GetInt64() > 0);

        var sourceHashes = await ZipHashesAsync(_source.Admin, "go-src");
        Assert.Equal(3, sourceHashes.Count);
        Assert.Equal(sourceHashes, await ZipHashesAsync(_dest.Admin, "go-dst"));
        // .info keeps the original publication time; .mod is the module's go.mod.
        Assert.Equal(sourceInfo, await _dest.Admin.GetStringAsync($"pkg/go-dst/go/{App}/@v/v1.0.0.info"));
        Assert.Equal(await _source.Admin.GetStringAsync($"pkg/go-src/go/{App}/@v/v1.0.0.mod"), await _dest.Admin.GetStringAsync($"pkg/go-dst/go/{App}/@v/v1.0.0.mod"));

        var consumer = Path.Combine(_work, "consumer");
        Write(consumer, "go.mod", $"module example.com/consumer\n\ngo 1.19\n\nrequire {App} v1.0.0\n");
        Write(consumer, "main.go", $"package main\n\nimport (\n\t\"fmt\"\n\n\t\"{App}\"\n)\n\nfunc main() {{ fmt.Println(app.Message()) }}\n");
        var proxy = $"{_dest.BaseUrl}/pkg/go-dst/go";
        (await Go(consumer, proxy, "mod", "tidy")).AssertOk("go mod tidy");
        (await Go(consumer, proxy, "mod", "download", "all")).AssertOk("go mod download");
        (await Go(consumer, proxy, "build", "-o", "consumer-bin", ".")).AssertOk("go build");
        var run = await Proc.RunAsync(Path.Combine(consumer, "consumer-bin"), [], consumer);
        Assert.Equal("answer=42", run.AssertOk("run consumer").Stdout.Trim());
        var versions = await Go(consumer, proxy, "list", "-m", "-versions", Lib);
        Assert.Contains("v1.0.0 v1.1.0", versions.AssertOk("go list -versions").Stdout);

        var again = await _dest.MigrateOkAsync(config, _work);
        Assert.Equal(0, again[0].GetProperty("succeeded").GetInt32());
        Assert.Equal(3, again[0].GetProperty("skipped").GetInt32());
        Assert.Equal(0, again[0].GetProperty("bytes").GetInt64());
    }

    [Fact]
    public async Task A_different_zip_at_the_destination_fails_clearly_unless_overwrite()
    {
        await _source.CreateRegistryAsync("go-src", "GO");
        await _dest.CreateRegistryAsync("go-dst", "GO");
        var lib = Path.Combine(_work, "conflict-lib");
        Write(lib, "go.mod", $"module {Lib}\n\ngo 1.19\n");
        Write(lib, "lib.go", "package lib\n\nconst Side = \"source\"\n");
        (await ArcaCli.RunAsync(_source.BaseUrl, _source.AdminToken, ["artifact", "push", "go", "go-src", lib, "--version", "v1.5.0"], _work)).AssertOk("push to source");
        Write(lib, "lib.go", "package lib\n\nconst Side = \"destination\"\n");
        (await ArcaCli.RunAsync(_dest.BaseUrl, _dest.AdminToken, ["artifact", "push", "go", "go-dst", lib, "--version", "v1.5.0"], _work)).AssertOk("push to destination");
        var zipUrl = "pkg/go-{0}/go/example.com/!acme/lib/@v/v1.5.0.zip";
        var sourceZip = Convert.ToHexStringLower(SHA256.HashData(await _source.Admin.GetByteArrayAsync(string.Format(zipUrl, "src"))));
        var destinationZip = Convert.ToHexStringLower(SHA256.HashData(await _dest.Admin.GetByteArrayAsync(string.Format(zipUrl, "dst"))));
        Assert.NotEqual(sourceZip, destinationZip);

        var config = MigrateCli.WriteConfig(_work, _source.BaseUrl, "ARCA", _source.AdminToken, _dest.BaseUrl, """
              - artifactType: GO
                sourceRegistry: go-src
                destinationRegistry: go-dst
            """);
        var report = Path.Combine(_work, "conflict.json");
        var run = await MigrateCli.RunAsync(config, _dest.AdminToken, _work, "--report", report);
        Assert.NotEqual(0, run.ExitCode);
        var failed = Assert.Single(OciMigrationSupport.ReportItems(report));
        Assert.Equal("failed", failed.GetProperty("status").GetString());
        Assert.Contains($"exists at the destination with a different zip (sha256 {destinationZip})", failed.GetProperty("error").GetString());
        Assert.Equal(destinationZip, Convert.ToHexStringLower(SHA256.HashData(await _dest.Admin.GetByteArrayAsync(string.Format(zipUrl, "dst")))));

        var overwritten = await _dest.MigrateOkAsync(config, _work, "--overwrite");
        Assert.Equal(1, overwritten[0].GetProperty("succeeded").GetInt32());
        Assert.Equal(sourceZip, Convert.ToHexStringLower(SHA256.HashData(await _dest.Admin.GetByteArrayAsync(string.Format(zipUrl, "dst")))));
    }
}
