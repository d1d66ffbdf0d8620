using System.Text.Json;
using Arca.Tests.Infrastructure;

namespace Arca.Tests.Migration;

/// <summary>`arca registry migrate` from a real verdaccio 6.8 (NPM_REGISTRY) holding scoped and unscoped packages
/// published with the real npm client, with custom dist-tags and a deprecation: npm then installs the same tarballs
/// from Arca and sees the same tags; a rerun skips everything.</summary>
public sealed class VerdaccioMigrationTests : IAsyncLifetime
{
    private TestServer _dest = null!;
    private VerdaccioServer _verdaccio = null!;
    private string _work = null!;

    public async Task InitializeAsync()
    {
        _work = TempDir.Create("migrate-npm");
        _dest = await TestServer.StartAsync();
        _verdaccio = await VerdaccioServer.StartAsync();
    }

    public async Task DisposeAsync()
    {
        await _verdaccio.DisposeAsync();
        await _dest.DisposeAsync();
        TempDir.TryDelete(_work);
    }

    private string Npmrc(string registryUrl, string token)
    {
        var path = Path.Combine(_work, $"npmrc-{Guid.NewGuid():N}");
        var nerfDart = registryUrl[registryUrl.IndexOf("//", StringComparison.Ordinal)..];
        File.WriteAllText(path, $"registry={registryUrl}\n@acme:registry={registryUrl}\n{nerfDart}:_authToken={token}\nupdate-notifier=false\nfund=false\naudit=false\n");
        return path;
    }

    private Task<ProcResult> Npm(string npmrc, string dir, string registryUrl, params string[] args) =>
        Proc.RunAsync(Proc.Tool("npm"), [.. args, "--userconfig", npmrc, "--cache", Path.Combine(_work, "cache-" + Guid.NewGuid().ToString("N")), "--registry", registryUrl],
            dir, new Dictionary<string, string?> { ["NPM_CONFIG_USERCONFIG"] = npmrc, ["NO_COLOR"] = "1", ["npm_config_loglevel"] = "warn" }, TimeSpan.FromMinutes(3));

    private string WritePackage(string name, string version)
    {
        var dir = Path.Combine(_work, "src-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(dir);
        File.WriteAllText(Path.Combine(dir, "package.json"),
            $"{{ \"name\": \"{name}\", \"version\": \"{version}\", \"description\": \"{name} for migration\", \"main\": \"index.js\", \"license\": \"MIT\" }}");
        File.WriteAllText(Path.Combine(dir, "index.js"), $"module.exports = '{name}@{version}';\n");
        return dir;
    }

    private static async Task<JsonElement> PackumentAsync(HttpClient http, string url)
    {
        var r = await http.GetAsync(url);
        Assert.True(r.IsSuccessStatusCode, $"GET {url}: {(int)r.StatusCode} {await r.Content.ReadAsStringAsync()}");
        return JsonDocument.Parse(await r.Content.ReadAsStringAsync()).RootElement;
    }

    private static Dictionary<string, string> Tags(JsonElement packument) =>
        packument.GetProperty("dist-tags").EnumerateObject().ToDictionary(p => p.Name, p => p.Value.GetString()!);

    private static Dictionary<string, string> Integrities(JsonElement packument) =>
        packument.GetProperty("versions").EnumerateObject().ToDictionary(p => p.Name, p => p.Value.GetProperty("dist").GetProperty("integrity").GetString()!);

    [Fact]
    public async Task Scoped_and_unscoped_packages_arrive_with_tags_and_integrity_and_a_rerun_skips_everything()
    {
        var source = _verdaccio.BaseUrl + "/";
        var publishRc = Npmrc(source, _verdaccio.Token);
        (await Npm(publishRc, WritePackage("@acme/util", "1.0.0"), source, "publish")).AssertOk("publish @acme/util 1.0.0");
        (await Npm(publishRc, WritePackage("@acme/util", "2.0.0-beta.1"), source, "publish", "--tag", "next")).AssertOk("publish @acme/util 2.0.0-beta.1");
        (await Npm(publishRc, WritePackage("@acme/util", "1.1.0"), source, "publish")).AssertOk("publish @acme/util 1.1.0");
        (await Npm(publishRc, WritePackage("leftish", "1.0.0"), source, "publish")).AssertOk("publish leftish 1.0.0");
        (await Npm(publishRc, WritePackage("leftish", "1.0.1"), source, "publish")).AssertOk("publish leftish 1.0.1");
        (await Npm(publishRc, _work, source, "dist-tag", "add", "leftish@1.0.0", "stable")).AssertOk("dist-tag add stable");
        (await Npm(publishRc, _work, source, "deprecate", "leftish@1.0.0", "use 1.0.1")).AssertOk("npm deprecate");

        var config = MigrateCli.WriteConfig(_work, _verdaccio.BaseUrl, "NPM_REGISTRY", null, _dest.BaseUrl, """
              - artifactType: NPM
                destinationRegistry: npm-copy
              - artifactType: NPM
                destinationRegistry: npm-scoped
                includePatterns: ["@acme/*"]
            """);
        var first = await _dest.MigrateOkAsync(config, _work);
        Assert.Equal(5, first[0].GetProperty("succeeded").GetInt32());
        Assert.Equal(3, first[1].GetProperty("succeeded").GetInt32());
        Assert.Equal(0, first[0].GetProperty("failed").GetInt32() + first[1].GetProperty("failed").GetInt32());

        using var plain = new HttpClient();
        foreach (var name in new[] { "@acme/util", "leftish" })
        {
            var escaped = name.Replace("/", "%2f");
            var original = await PackumentAsync(plain, $"{_verdaccio.BaseUrl}/{escaped}");
            var copy = await PackumentAsync(_dest.Admin, $"pkg/npm-copy/npm/{escaped}");
            Assert.Equal(Tags(original), Tags(copy));
            Assert.Equal(Integrities(original), Integrities(copy));
        }
        var scoped = await PackumentAsync(_dest.Admin, "pkg/npm-scoped/npm/@acme%2futil");
        Assert.Equal(new Dictionary<string, string> { ["latest"] = "1.1.0", ["next"] = "2.0.0-beta.1" }, Tags(scoped));
        Assert.Equal(System.Net.HttpStatusCode.NotFound, (await _dest.Admin.GetAsync("pkg/npm-scoped/npm/leftish")).StatusCode);

        // The real npm client, against Arca only: same tags, the deprecation, and installs with the source's integrity.
        var arcaUrl = $"{_dest.BaseUrl}/pkg/npm-copy/npm/";
        var readRc = Npmrc(arcaUrl, await _dest.CreateTokenAsync("read", "npm-copy"));
        var view = (await Npm(readRc, _work, arcaUrl, "view", "leftish", "dist-tags", "--json")).AssertOk("npm view dist-tags");
        Assert.Equal(new Dictionary<string, string> { ["latest"] = "1.0.1", ["stable"] = "1.0.0" }, JsonSerializer.Deserialize<Dictionary<string, string>>(view.Stdout));
        var deprecated = (await Npm(readRc, _work, arcaUrl, "view", "leftish@1.0.0", "deprecated")).AssertOk("npm view deprecated");
        Assert.Contains("use 1.0.1", deprecated.Stdout);

        var consumer = Path.Combine(_work, "consumer");
        Directory.CreateDirectory(consumer);
        File.WriteAllText(Path.Combine(consumer, "package.json"), "{ \"name\": \"consumer\", \"version\": \"0.0.0\", \"private\": true }");
        (await Npm(readRc, consumer, arcaUrl, "install", "@acme/util@next", "leftish@^1.0.0", "--no-audit", "--no-fund")).AssertOk("npm install from Arca");
        Assert.Equal("module.exports = '@acme/util@2.0.0-beta.1';\n", File.ReadAllText(Path.Combine(consumer, "node_modules", "@acme", "util", "index.js")));
        var lockFile = JsonDocument.Parse(File.ReadAllText(Path.Combine(consumer, "package-lock.json"))).RootElement.GetProperty("packages");
        var sourceUtil = Integrities(await PackumentAsync(plain, $"{_verdaccio.BaseUrl}/@acme%2futil"));
        var sourceLeftish = Integrities(await PackumentAsync(plain, $"{_verdaccio.BaseUrl}/leftish"));
        Assert.Equal(sourceUtil["2.0.0-beta.1"], lockFile.GetProperty("node_modules/@acme/util").GetProperty("integrity").GetString());
        Assert.Equal(sourceLeftish["1.0.1"], lockFile.GetProperty("node_modules/leftish").GetProperty("integrity").GetString());
        Assert.StartsWith(arcaUrl, lockFile.GetProperty("node_modules/leftish").GetProperty("resolved").GetString());

        var again = await _dest.MigrateOkAsync(config, _work);
        Assert.Equal(0, again[0].GetProperty("succeeded").GetInt32());
        Assert.Equal(5, again[0].GetProperty("skipped").GetInt32());
        Assert.Equal(3, again[1].GetProperty("skipped").GetInt32());
        Assert.Equal(0, again[0].GetProperty("bytes").GetInt64());
    }

    [Fact]
    public async Task A_tarball_that_does_not_match_its_integrity_fails_and_nothing_is_stored()
    {
        var source = _verdaccio.BaseUrl + "/";
        var publishRc = Npmrc(source, _verdaccio.Token);
        (await Npm(publishRc, WritePackage("tampered", "1.0.0"), source, "publish")).AssertOk("publish tampered");
        (await Npm(publishRc, WritePackage("intact", "1.0.0"), source, "publish")).AssertOk("publish intact");
        var tarball = Path.Combine(_verdaccio.StorageDir("tampered"), "tampered-1.0.0.tgz");
        Assert.True(File.Exists(tarball), "verdaccio storage layout changed: " + string.Join(", ", Directory.GetFiles(_verdaccio.StorageDir("tampered"))));
        var bytes = File.ReadAllBytes(tarball);
        bytes[^10] ^= 0xFF; // same size, different content
        File.WriteAllBytes(tarball, bytes);

        var config = MigrateCli.WriteConfig(_work, _verdaccio.BaseUrl, "NPM_REGISTRY", null, _dest.BaseUrl, """
              - artifactType: NPM
                destinationRegistry: npm-checked
            """);
        var report = Path.Combine(_work, "report.json");
        var run = await MigrateCli.RunAsync(config, _dest.AdminToken, _work, "--report", report);
        Assert.NotEqual(0, run.ExitCode);
        var items = JsonDocument.Parse(File.ReadAllText(report)).RootElement.GetProperty("items").EnumerateArray().ToList();
        var failed = Assert.Single(items, i => i.GetProperty("status").GetString() == "failed");
        Assert.Equal("tampered", failed.GetProperty("package").GetString());
        Assert.Contains("integrity", failed.GetProperty("error").GetString());
        Assert.Single(items, i => i.GetProperty("status").GetString() == "succeeded" && i.GetProperty("package").GetString() == "intact");
        Assert.Equal(System.Net.HttpStatusCode.NotFound, (await _dest.Admin.GetAsync("pkg/npm-checked/npm/tampered")).StatusCode);
    }
}
