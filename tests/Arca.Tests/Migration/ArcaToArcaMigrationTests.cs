using System.Net;
using System.Security.Cryptography;
using System.Text.Json;
using Arca.Tests.Infrastructure;

namespace Arca.Tests.Migration;

/// <summary>`arca registry migrate` from one real Arca server to another (GENERIC), through the CLI.</summary>
public sealed class ArcaToArcaMigrationTests : IAsyncLifetime
{
    private TestServer _dest = null!;
    private string _work = null!;
    public async Task InitializeAsync()
    {
        _dest = await TestServer.StartAsync();
        _work = TempDir.Create("migrate");
    }
    public async Task DisposeAsync() { await _dest.DisposeAsync(); TempDir.TryDelete(_work); }

    private string WriteConfig(string sourceUrl, string sourceToken, string extra = "", string include = "", int retries = 4, bool create = true)
    {
        var path = Path.Combine(_work, $"migrate-{Guid.NewGuid():N}.yaml");
        File.WriteAllText(path, $"""
            version: 1.0.0
            concurrency: 2
            retries: {retries}
            createRegistries: {(create ? "true" : "false")}
            source:
              endpoint: {sourceUrl}
              type: ARCA
              credentials: {"{"} username: x, password: {sourceToken} {"}"}
            destination:
              endpoint: {_dest.BaseUrl}
              type: HAR
              credentials: {"{"} username: admin, password: ${"{"}DEST_TOKEN{"}"} {"}"}
            mappings:
              - artifactType: GENERIC
                sourceRegistry: files
                destinationRegistry: files-copy
            {include}
            {extra}
            """);
        return path;
    }

    private Task<ProcResult> Migrate(string config, params string[] args) =>
        ArcaCli.RunAsync(null, null, ["registry", "migrate", "--config", config, .. args], _work,
            new Dictionary<string, string?> { ["DEST_TOKEN"] = _dest.AdminToken }, TimeSpan.FromMinutes(5));

    private static async Task SeedAsync(HttpClient source, int packages, int files, int size)
    {
        (await source.PostAsync("api/v1/registries", new StringContent("""{"identifier":"files","packageType":"GENERIC"}""", System.Text.Encoding.UTF8, "application/json"))).EnsureSuccessStatusCode();
        for (var p = 0; p < packages; p++)
            for (var f = 0; f < files; f++)
                (await source.PutAsync($"pkg/files/generic/pkg{p}/1.{p}/dir/file{f}.bin", new ByteArrayContent(RandomNumberGenerator.GetBytes(size)))).EnsureSuccessStatusCode();
    }

    private static async Task<Dictionary<string, string>> ChecksumsAsync(HttpClient c, string registry)
    {
        var result = new Dictionary<string, string>();
        var pkgs = JsonDocument.Parse(await c.GetStringAsync($"api/v1/registries/{registry}/packages?page_size=1000")).RootElement.GetProperty("items");
        foreach (var p in pkgs.EnumerateArray())
        {
            var name = p.GetProperty("name").GetString()!;
            var versions = JsonDocument.Parse(await c.GetStringAsync($"api/v1/registries/{registry}/versions?package={name}")).RootElement.GetProperty("items");
            foreach (var v in versions.EnumerateArray())
            {
                var ver = v.GetProperty("version").GetString()!;
                var files = JsonDocument.Parse(await c.GetStringAsync($"api/v1/registries/{registry}/files?package={name}&version={ver}")).RootElement.GetProperty("items");
                foreach (var f in files.EnumerateArray()) result[$"{name}/{ver}/{f.GetProperty("path").GetString()}"] = f.GetProperty("sha256").GetString()!;
            }
        }
        return result;
    }

    [Fact]
    public async Task Migrates_everything_verified_then_a_rerun_moves_nothing()
    {
        await using var source = await TestServer.StartAsync();
        await SeedAsync(source.Admin, 3, 4, 10_000);
        var config = WriteConfig(source.BaseUrl, source.AdminToken);
        var report = Path.Combine(_work, "report.json");

        var first = await Migrate(config, "--report", report, "--format", "json");
        first.AssertOk("first migration");
        var summary = JsonDocument.Parse(first.Stdout).RootElement.GetProperty("mappings")[0];
        Assert.Equal(12, summary.GetProperty("succeeded").GetInt32());
        Assert.Equal(120_000, summary.GetProperty("bytes").GetInt64());
        Assert.Equal(await ChecksumsAsync(source.Admin, "files"), await ChecksumsAsync(_dest.Admin, "files-copy"));
        var items = JsonDocument.Parse(await File.ReadAllTextAsync(report)).RootElement.GetProperty("items");
        Assert.Equal(12, items.GetArrayLength());
        Assert.All(items.EnumerateArray(), i => Assert.Equal("succeeded", i.GetProperty("status").GetString()));

        var second = await Migrate(config, "--format", "json");
        second.AssertOk("rerun");
        var again = JsonDocument.Parse(second.Stdout).RootElement.GetProperty("mappings")[0];
        Assert.Equal(0, again.GetProperty("succeeded").GetInt32());
        Assert.Equal(12, again.GetProperty("skipped").GetInt32());
        Assert.Equal(0, again.GetProperty("bytes").GetInt64());
    }

    [Fact]
    public async Task Include_patterns_and_dry_run_change_nothing()
    {
        await using var source = await TestServer.StartAsync();
        await SeedAsync(source.Admin, 3, 2, 1000);
        var config = WriteConfig(source.BaseUrl, source.AdminToken, include: "    includePatterns: [\"pkg1\", \"pkg2\"]");
        var dry = await Migrate(config, "--dry-run");
        dry.AssertOk("dry run");
        Assert.Contains("would copy  pkg1/1.1/dir/file0.bin  (1000 B)", dry.Stdout);
        Assert.DoesNotContain("pkg0/", dry.Stdout);
        Assert.Equal(HttpStatusCode.NotFound, (await _dest.Admin.GetAsync("api/v1/registries/files-copy")).StatusCode);

        (await Migrate(config)).AssertOk("migrate");
        Assert.Equal(["pkg1", "pkg2"], (await ChecksumsAsync(_dest.Admin, "files-copy")).Keys.Select(k => k.Split('/')[0]).Distinct().Order());
    }

    [Fact]
    public async Task Unset_variable_or_missing_registry_fails_before_any_transfer()
    {
        await using var source = await TestServer.StartAsync();
        await SeedAsync(source.Admin, 1, 1, 100);
        var config = WriteConfig(source.BaseUrl, "${NOT_SET_ANYWHERE}");
        var r = await Migrate(config);
        Assert.Equal(2, r.ExitCode);
        Assert.Contains("NOT_SET_ANYWHERE", r.Stderr);
        Assert.Equal(HttpStatusCode.NotFound, (await _dest.Admin.GetAsync("api/v1/registries/files-copy")).StatusCode);

        var noCreate = await Migrate(WriteConfig(source.BaseUrl, source.AdminToken, create: false));
        Assert.Equal(2, noCreate.ExitCode);
        Assert.Contains("does not exist", noCreate.Stderr);
    }

    [Fact]
    public async Task Killing_the_source_fails_the_run_and_resume_completes_without_redoing_work()
    {
        var source = new ServerProcess();
        await source.StartAsync();
        using (var admin = source.CreateClient()) await SeedAsync(admin, 4, 10, 200_000);
        var config = WriteConfig(source.BaseUrl, source.AdminToken, retries: 1);
        var state = Path.ChangeExtension(config, ".state.jsonl");
        var report = Path.Combine(_work, "killed.json");

        var run = Migrate(config, "--report", report, "--concurrency", "1");
        while (!File.Exists(state) || File.ReadAllLines(state).Length < 5)
        {
            Assert.False(run.IsCompleted, "migration finished before the source could be killed: " + (run.IsCompleted ? run.Result.All : ""));
            await Task.Delay(20);
        }
        source.Kill9();
        var failed = await run;
        Assert.NotEqual(0, failed.ExitCode);
        var items = JsonDocument.Parse(await File.ReadAllTextAsync(report)).RootElement.GetProperty("items").EnumerateArray().ToList();
        Assert.Contains(items, i => i.GetProperty("status").GetString() == "failed");
        var doneFirst = items.Where(i => i.GetProperty("status").GetString() == "succeeded").Select(i => i.GetProperty("key").GetString()).ToHashSet();
        Assert.NotEmpty(doneFirst);

        await source.StartAsync();
        var report2 = Path.Combine(_work, "resumed.json");
        (await Migrate(config, "--resume", "--report", report2)).AssertOk("resume");
        var items2 = JsonDocument.Parse(await File.ReadAllTextAsync(report2)).RootElement.GetProperty("items").EnumerateArray().ToList();
        var movedAgain = items2.Where(i => i.GetProperty("status").GetString() == "succeeded" && doneFirst.Contains(i.GetProperty("key").GetString())).ToList();
        Assert.Empty(movedAgain); // nothing transferred twice
        Assert.Equal(40 - doneFirst.Count, items2.Count(i => i.GetProperty("status").GetString() == "succeeded"));
        using var sourceAdmin = source.CreateClient();
        Assert.Equal(await ChecksumsAsync(sourceAdmin, "files"), await ChecksumsAsync(_dest.Admin, "files-copy"));
        await source.DisposeAsync();
    }
}
