using System.Net;
using System.Security.Cryptography;
using System.Text.Json;
using Arca.Tests.Http.NuGet;
using Arca.Tests.Infrastructure;

namespace Arca.Tests.Migration;

/// <summary>
/// NUGET migration: a static v3 feed (python http.server: a service index, a flat container, a static search document
/// for enumerating ids, registration leaves for the listed flag) → Arca A, then Arca A → Arca B (ARCA source).
/// Contents equal by sha256, the unlisted version stays unlisted, reruns skip everything.
/// </summary>
public sealed class NuGetMigrationTests : IAsyncLifetime
{
    private TestServer _a = null!, _b = null!;
    private string _work = null!;

    public async Task InitializeAsync()
    {
        (_a, _b) = (await TestServer.StartAsync(), await TestServer.StartAsync());
        _work = TempDir.Create("migrate-nuget");
    }

    public async Task DisposeAsync() { await _a.DisposeAsync(); await _b.DisposeAsync(); TempDir.TryDelete(_work); }

    private static async Task<Dictionary<string, string>> FlatChecksumsAsync(HttpClient c, string registry, IEnumerable<(string Id, string Version)> packages)
    {
        var result = new Dictionary<string, string>();
        foreach (var (id, version) in packages)
        {
            using var head = await c.SendAsync(new HttpRequestMessage(HttpMethod.Head, $"pkg/{registry}/nuget/v3-flatcontainer/{id}/{version}/{id}.{version}.nupkg"));
            result[$"{id} {version}"] = head.StatusCode == HttpStatusCode.OK ? head.Headers.GetValues("X-Checksum-Sha256").Single() : $"HTTP {(int)head.StatusCode}";
        }
        return result;
    }

    private static int NupkgGets(StaticHttpServer source, string idAndVersion)
    {
        var (id, version) = (idAndVersion.Split(' ')[0], idAndVersion.Split(' ')[1]);
        return source.Requests.Count(r => r.StartsWith("GET ", StringComparison.Ordinal) && r.Contains($"/{id}.{version}.nupkg ", StringComparison.Ordinal));
    }

    private static async Task<bool> ListedAsync(HttpClient c, string registry, string id, string version) =>
        JsonDocument.Parse(await c.GetStringAsync($"pkg/{registry}/nuget/registration/{id}/{version}.json")).RootElement.GetProperty("listed").GetBoolean();

    [Fact]
    public async Task Static_feed_to_Arca_to_Arca_by_sha256_keeps_unlisted_and_reruns_skip()
    {
        var root = Path.Combine(_work, "static");
        var feed = Path.Combine(root, "feed");
        await using var source = await StaticHttpServer.StartAsync(root);
        var packages = new (string Id, string Version, bool Listed)[]
        {
            ("Acme.Lib", "1.0.0", true), ("Acme.Lib", "2.0.0-beta.1", true), ("Acme.Hidden", "1.0.0", false), ("Other.Pkg", "3.1.0", true),
        };
        var expected = new Dictionary<string, string>();
        foreach (var (id, version, listed) in packages)
        {
            var (lowerId, dir) = (id.ToLowerInvariant(), Path.Combine(feed, "flat", id.ToLowerInvariant(), version));
            Directory.CreateDirectory(dir);
            var bytes = NuGetHttpTests.Nupkg(id, version);
            File.WriteAllBytes(Path.Combine(dir, $"{lowerId}.{version}.nupkg"), bytes);
            if (id != "Other.Pkg") expected[$"{lowerId} {version}"] = Convert.ToHexStringLower(SHA256.HashData(bytes));
            Directory.CreateDirectory(Path.Combine(feed, "registration", lowerId));
            File.WriteAllText(Path.Combine(feed, "registration", lowerId, $"{version}.json"), JsonSerializer.Serialize(new { listed }));
        }
        foreach (var group in packages.GroupBy(p => p.Id.ToLowerInvariant()))
            File.WriteAllText(Path.Combine(feed, "flat", group.Key, "index.json"), JsonSerializer.Serialize(new { versions = group.Select(p => p.Version) }));
        var baseUrl = $"{source.BaseUrl}/feed";
        File.WriteAllText(Path.Combine(feed, "index.json"), JsonSerializer.Serialize(new
        {
            version = "3.0.0",
            resources = new object[]
            {
                new Dictionary<string, string> { ["@id"] = $"{baseUrl}/flat/", ["@type"] = "PackageBaseAddress/3.0.0" },
                new Dictionary<string, string> { ["@id"] = $"{baseUrl}/query", ["@type"] = "SearchQueryService/3.5.0" },
                new Dictionary<string, string> { ["@id"] = $"{baseUrl}/registration/", ["@type"] = "RegistrationsBaseUrl/3.6.0" },
            },
        }));
        // A static search document: http.server ignores the query string, so every page is the same (the source stops).
        File.WriteAllText(Path.Combine(feed, "query"), JsonSerializer.Serialize(new
        {
            totalHits = 3, data = packages.Select(p => p.Id).Distinct().Select(id => new { id }),
        }));

        var config = MigrateCli.WriteConfig(_work, source.BaseUrl, "NUGET", null, _a.BaseUrl, """
              - artifactType: NUGET
                sourceRegistry: feed
                destinationRegistry: nuget-a
                includePatterns: ["Acme.*"]
            """);
        // The feed gives no sizes: a dry run asks the source (HEAD) so it can still say how much would move.
        var plan = await MigrateCli.RunAsync(config, _a.AdminToken, _work, "--dry-run");
        plan.AssertOk("dry run");
        Assert.Equal(3, MigrateCli.Summary(plan).GetProperty("planned").GetInt32());
        var plannedBytes = packages.Where(p => p.Id != "Other.Pkg").Sum(p => new FileInfo(Path.Combine(feed, "flat", p.Id.ToLowerInvariant(), p.Version,
            $"{p.Id.ToLowerInvariant()}.{p.Version}.nupkg")).Length);
        Assert.Equal(plannedBytes, MigrateCli.Summary(plan).GetProperty("plannedBytes").GetInt64());
        Assert.Equal(HttpStatusCode.NotFound, (await _a.Admin.GetAsync("api/v1/registries/nuget-a")).StatusCode);
        Assert.DoesNotContain(source.Requests, r => r.StartsWith("GET ", StringComparison.Ordinal) && r.Contains(".nupkg", StringComparison.Ordinal));

        var first = await MigrateCli.RunAsync(config, _a.AdminToken, _work);
        first.AssertOk("static feed → A");
        Assert.Equal(3, MigrateCli.Summary(first).GetProperty("succeeded").GetInt32());
        var keys = expected.Keys.Select(k => (k.Split(' ')[0], k.Split(' ')[1])).ToList();
        Assert.Equal(expected.OrderBy(e => e.Key), (await FlatChecksumsAsync(_a.Admin, "nuget-a", keys)).OrderBy(e => e.Key));
        Assert.False(await ListedAsync(_a.Admin, "nuget-a", "acme.hidden", "1.0.0"));
        Assert.True(await ListedAsync(_a.Admin, "nuget-a", "acme.lib", "1.0.0"));
        Assert.Equal(HttpStatusCode.NotFound, (await _a.Admin.GetAsync("pkg/nuget-a/nuget/v3-flatcontainer/other.pkg/index.json")).StatusCode);

        // The feed publishes no package hash: the first run hashes each package while pushing it (one download each).
        Assert.All(expected.Keys, k => Assert.Equal(1, NupkgGets(source, k)));

        source.Requests.Clear();
        var rerun = await MigrateCli.RunAsync(config, _a.AdminToken, _work);
        rerun.AssertOk("static feed → A again");
        Assert.Equal(3, MigrateCli.Summary(rerun).GetProperty("skipped").GetInt32());
        Assert.Equal(0, MigrateCli.Summary(rerun).GetProperty("bytes").GetInt64());
        // The rerun compares with the sums remembered from the first run (HEAD: Last-Modified and length unchanged): no
        // package is downloaded again.
        Assert.All(expected.Keys, k => Assert.Equal(0, NupkgGets(source, k)));
        Assert.Contains(source.Requests, r => r.StartsWith("HEAD ", StringComparison.Ordinal) && r.Contains(".nupkg", StringComparison.Ordinal));

        // A package replaced at the source (new bytes, new Last-Modified) is not masked by the memo: it is read and
        // found different from the destination's, which refuses it without overwrite.
        var replaced = Path.Combine(feed, "flat", "acme.lib", "1.0.0", "acme.lib.1.0.0.nupkg");
        var original = File.ReadAllBytes(replaced);
        File.WriteAllBytes(replaced, NuGetHttpTests.Nupkg("Acme.Lib", "1.0.0", dependencies: """<group targetFramework="net10.0" />"""));
        File.SetLastWriteTimeUtc(replaced, DateTime.UtcNow.AddMinutes(5));
        var changed = await MigrateCli.RunAsync(config, _a.AdminToken, _work);
        Assert.NotEqual(0, changed.ExitCode);
        Assert.Equal(1, MigrateCli.Summary(changed).GetProperty("failed").GetInt32());
        Assert.Contains("acme.lib 1.0.0 exists at the destination with different content", changed.Stderr, StringComparison.OrdinalIgnoreCase);
        File.WriteAllBytes(replaced, original);

        var readA = await _a.CreateTokenAsync("read", "nuget-a");
        var toB = MigrateCli.WriteConfig(_work, _a.BaseUrl, "ARCA", readA, _b.BaseUrl, """
              - artifactType: NUGET
                sourceRegistry: nuget-a
                destinationRegistry: nuget-b
            """);
        var second = await MigrateCli.RunAsync(toB, _b.AdminToken, _work);
        second.AssertOk("A → B");
        Assert.Equal(3, MigrateCli.Summary(second).GetProperty("succeeded").GetInt32());
        Assert.Equal(expected.OrderBy(e => e.Key), (await FlatChecksumsAsync(_b.Admin, "nuget-b", keys)).OrderBy(e => e.Key));
        Assert.False(await ListedAsync(_b.Admin, "nuget-b", "acme.hidden", "1.0.0"));
        Assert.True(await ListedAsync(_b.Admin, "nuget-b", "acme.lib", "2.0.0-beta.1"));
        // The original id casing survives both hops.
        var search = JsonDocument.Parse(await _b.Admin.GetStringAsync("pkg/nuget-b/nuget/query?q=acme&prerelease=true")).RootElement;
        Assert.Contains("Acme.Lib", search.GetProperty("data").EnumerateArray().Select(d => d.GetProperty("id").GetString()));

        var secondRerun = await MigrateCli.RunAsync(toB, _b.AdminToken, _work);
        secondRerun.AssertOk("A → B again");
        Assert.Equal(3, MigrateCli.Summary(secondRerun).GetProperty("skipped").GetInt32());
        Assert.Equal(0, MigrateCli.Summary(secondRerun).GetProperty("bytes").GetInt64());
    }
}
