using System.IO.Compression;
using System.Net;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Arca.Tests.Infrastructure;
using static Arca.Tests.Migration.MavenTestContent;

namespace Arca.Tests.Migration;

/// <summary>
/// MAVEN migration: a static Maven repository (python http.server directory listings) → Arca A (MAVEN source), then
/// Arca A → Arca B (ARCA source). Contents equal by checksum, real `mvn dependency:get` resolves from B, reruns skip.
/// </summary>
public sealed class MavenMigrationTests : IAsyncLifetime
{
    private TestServer _a = null!, _b = null!;
    private string _work = null!, _repo = null!;

    public async Task InitializeAsync()
    {
        (_a, _b) = (await TestServer.StartAsync(), await TestServer.StartAsync());
        _work = TempDir.Create("migrate-maven");
        _repo = Path.Combine(_work, "static");
    }

    public async Task DisposeAsync() { await _a.DisposeAsync(); await _b.DisposeAsync(); TempDir.TryDelete(_work); }



    /// <summary>Writes a file of the static repository; returns its path relative to the repository root.</summary>
    private string Put(string path, byte[] bytes, params string[] sidecars)
    {
        var full = Path.Combine(_repo, "releases", path);
        Directory.CreateDirectory(Path.GetDirectoryName(full)!);
        File.WriteAllBytes(full, bytes);
        foreach (var algorithm in sidecars)
        {
            var hash = algorithm switch { "sha1" => SHA1.HashData(bytes), "md5" => MD5.HashData(bytes), _ => SHA256.HashData(bytes) };
            // Some deployers write "hex  filename"; both forms must be read.
            File.WriteAllText(full + "." + algorithm, Convert.ToHexStringLower(hash) + (algorithm == "md5" ? "  " + Path.GetFileName(full) : ""));
        }
        return path;
    }

    private static async Task<Dictionary<string, string>> ChecksumsAsync(HttpClient c, string registry)
    {
        var result = new Dictionary<string, string>();
        foreach (var p in JsonDocument.Parse(await c.GetStringAsync($"api/v1/registries/{registry}/packages?page_size=1000")).RootElement.GetProperty("items").EnumerateArray())
        {
            var name = p.GetProperty("name").GetString()!;
            foreach (var v in JsonDocument.Parse(await c.GetStringAsync($"api/v1/registries/{registry}/versions?package={name}")).RootElement.GetProperty("items").EnumerateArray())
            {
                var ver = v.GetProperty("version").GetString()!;
                foreach (var f in JsonDocument.Parse(await c.GetStringAsync($"api/v1/registries/{registry}/files?package={name}&version={ver}")).RootElement.GetProperty("items").EnumerateArray())
                    result[$"{name.Replace(':', '/').Replace('.', '/')}/{ver}/{f.GetProperty("path").GetString()}"] = f.GetProperty("sha256").GetString()!;
            }
        }
        return result;
    }

    [Fact]
    public async Task Static_repository_to_Arca_to_Arca_by_checksum_then_mvn_resolves_and_reruns_skip()
    {
        var expected = new Dictionary<string, byte[]>();
        void Add(string path, byte[] bytes, params string[] sidecars) => expected[Put(path, bytes, sidecars)] = bytes;
        Add("com/acme/util/1.0/util-1.0.pom", Pom("com.acme", "util", "1.0"), "sha1");
        Add("com/acme/util/1.0/util-1.0.jar", Jar("util 1.0"), "sha1", "md5");
        Add("com/acme/util/1.0/util-1.0-sources.jar", Jar("util 1.0 sources")); // no sidecar: hashed by the migration
        Add("com/acme/util/1.1/util-1.1.pom", Pom("com.acme", "util", "1.1"), "sha256");
        Add("com/acme/util/1.1/util-1.1.jar", Jar("util 1.1"), "sha1", "sha256");
        Add("com/acme/deep/nested/tool/3.0/tool-3.0.pom", Pom("com.acme.deep.nested", "tool", "3.0"), "sha1");
        Put("com/acme/util/maven-metadata.xml", Encoding.UTF8.GetBytes("<metadata><groupId>com.acme</groupId><artifactId>util</artifactId></metadata>"), "sha1");
        Put("org/other/lib/2.0/lib-2.0.pom", Pom("org.other", "lib", "2.0"), "sha1"); // not selected by the include pattern
        await using var source = await StaticHttpServer.StartAsync(_repo);

        var config = MigrateCli.WriteConfig(_work, source.BaseUrl, "MAVEN", null, _a.BaseUrl, """
              - artifactType: MAVEN
                sourceRegistry: releases
                destinationRegistry: maven-a
                includePatterns: ["com.acme:*", "com.acme.**"]
            """);
        var first = await MigrateCli.RunAsync(config, _a.AdminToken, _work);
        first.AssertOk("static → A");
        Assert.Equal(expected.Count, MigrateCli.Summary(first).GetProperty("succeeded").GetInt32());
        Assert.Equal(expected.Values.Sum(b => (long)b.Length), MigrateCli.Summary(first).GetProperty("bytes").GetInt64());
        var atA = await ChecksumsAsync(_a.Admin, "maven-a");
        Assert.Equal(expected.ToDictionary(e => e.Key, e => Convert.ToHexStringLower(SHA256.HashData(e.Value))).OrderBy(e => e.Key), atA.OrderBy(e => e.Key));
        // The destination regenerates maven-metadata.xml from what it holds.
        var metadata = await _a.Admin.GetStringAsync("pkg/maven-a/maven/com/acme/util/maven-metadata.xml");
        Assert.Contains("<version>1.0</version>", metadata);
        Assert.Contains("<version>1.1</version>", metadata);

        var rerun = await MigrateCli.RunAsync(config, _a.AdminToken, _work);
        rerun.AssertOk("static → A again");
        Assert.Equal(0, MigrateCli.Summary(rerun).GetProperty("succeeded").GetInt32());
        Assert.Equal(expected.Count, MigrateCli.Summary(rerun).GetProperty("skipped").GetInt32());
        Assert.Equal(0, MigrateCli.Summary(rerun).GetProperty("bytes").GetInt64());

        // Arca A → Arca B through A's API and Maven endpoint.
        var readA = await _a.CreateTokenAsync("read", "maven-a");
        var toB = MigrateCli.WriteConfig(_work, _a.BaseUrl, "ARCA", readA, _b.BaseUrl, """
              - artifactType: MAVEN
                sourceRegistry: maven-a
                destinationRegistry: maven-b
            """);
        var second = await MigrateCli.RunAsync(toB, _b.AdminToken, _work);
        second.AssertOk("A → B");
        Assert.Equal(expected.Count, MigrateCli.Summary(second).GetProperty("succeeded").GetInt32());
        Assert.Equal(atA.OrderBy(e => e.Key), (await ChecksumsAsync(_b.Admin, "maven-b")).OrderBy(e => e.Key));
        var secondRerun = await MigrateCli.RunAsync(toB, _b.AdminToken, _work);
        secondRerun.AssertOk("A → B again");
        Assert.Equal(expected.Count, MigrateCli.Summary(secondRerun).GetProperty("skipped").GetInt32());

        // Real Maven resolves a migrated artifact from B, from an empty local repository.
        var token = await _b.CreateTokenAsync("read", "maven-b");
        var settings = Path.Combine(_work, "settings.xml");
        File.WriteAllText(settings, $"""
            <settings>
              <mirrors><mirror><id>debian</id><mirrorOf>central</mirrorOf><url>file:///usr/share/maven-repo</url></mirror></mirrors>
              <servers><server><id>arca</id><username>u</username><password>{token}</password></server></servers>
            </settings>
            """);
        var localRepo = Path.Combine(_work, "m2");
        (await Proc.RunAsync(Proc.Tool("mvn"), ["-B", "-s", settings, "org.apache.maven.plugins:maven-dependency-plugin:3.5.0:get",
            "-Dartifact=com.acme:util:1.1", "-Dtransitive=false", $"-DremoteRepositories=arca::default::{_b.BaseUrl}/pkg/maven-b/maven",
            $"-Dmaven.repo.local={localRepo}"], _work, timeout: TimeSpan.FromMinutes(4))).AssertOk("mvn dependency:get com.acme:util:1.1");
        Assert.Equal(expected["com/acme/util/1.1/util-1.1.jar"], File.ReadAllBytes(Path.Combine(localRepo, "com/acme/util/1.1/util-1.1.jar")));
    }

    [Fact]
    public async Task Without_directory_listings_literal_coordinates_are_read_through_maven_metadata()
    {
        var expected = new Dictionary<string, byte[]>();
        void Add(string path, byte[] bytes, params string[] sidecars) => expected[Put(path, bytes, sidecars)] = bytes;
        Add("com/acme/util/1.0/util-1.0.pom", Pom("com.acme", "util", "1.0"), "sha1");
        Add("com/acme/util/1.0/util-1.0.jar", Jar("util 1.0"), "sha1");
        Add("com/acme/util/1.0/util-1.0-sources.jar", Jar("util 1.0 sources"));
        Put("com/acme/util/1.0/util-1.0-tests.jar", Jar("not discoverable without a listing"));
        var parent = Encoding.UTF8.GetBytes(Encoding.UTF8.GetString(Pom("com.acme", "util", "2.0")).Replace("<packaging>jar</packaging>", "<packaging>pom</packaging>"));
        Add("com/acme/util/2.0/util-2.0.pom", parent, "sha1");
        Put("com/acme/util/maven-metadata.xml", Encoding.UTF8.GetBytes("""
            <metadata><groupId>com.acme</groupId><artifactId>util</artifactId>
              <versioning><latest>2.0</latest><versions><version>1.0</version><version>2.0</version></versions></versioning></metadata>
            """));
        // An index.html in every directory: http.server then serves it instead of a listing, like a host without listings.
        foreach (var dir in Directory.GetDirectories(Path.Combine(_repo, "releases"), "*", SearchOption.AllDirectories).Append(Path.Combine(_repo, "releases")))
            File.WriteAllText(Path.Combine(dir, "index.html"), "<html><body>no listing here</body></html>");
        await using var source = await StaticHttpServer.StartAsync(_repo);

        var config = MigrateCli.WriteConfig(_work, source.BaseUrl, "MAVEN", null, _a.BaseUrl, """
              - artifactType: MAVEN
                sourceRegistry: releases
                destinationRegistry: maven-meta
                includePatterns: ["com.acme:util"]
            """);
        var run = await MigrateCli.RunAsync(config, _a.AdminToken, _work);
        run.AssertOk("metadata-driven migration");
        Assert.Equal(expected.Count, MigrateCli.Summary(run).GetProperty("succeeded").GetInt32());
        Assert.Equal(expected.ToDictionary(e => e.Key, e => Convert.ToHexStringLower(SHA256.HashData(e.Value))).OrderBy(e => e.Key),
            (await ChecksumsAsync(_a.Admin, "maven-meta")).OrderBy(e => e.Key));
        var rerun = await MigrateCli.RunAsync(config, _a.AdminToken, _work);
        rerun.AssertOk("metadata-driven rerun");
        Assert.Equal(expected.Count, MigrateCli.Summary(rerun).GetProperty("skipped").GetInt32());
    }

    [Fact]
    public async Task A_file_whose_sidecar_lies_fails_and_is_not_stored()
    {
        Put("com/acme/good/1.0/good-1.0.pom", Pom("com.acme", "good", "1.0"), "sha1");
        var jar = Put("com/acme/bad/1.0/bad-1.0.jar", Jar("bad"));
        File.WriteAllText(Path.Combine(_repo, "releases", jar + ".sha1"), new string('0', 40));
        await using var source = await StaticHttpServer.StartAsync(_repo);
        var config = MigrateCli.WriteConfig(_work, source.BaseUrl, "MAVEN", null, _a.BaseUrl, """
              - artifactType: MAVEN
                sourceRegistry: releases
                destinationRegistry: maven-bad
            """);
        var report = Path.Combine(_work, "report.json");
        var run = await MigrateCli.RunAsync(config, _a.AdminToken, _work, "--report", report);
        Assert.Equal(1, run.ExitCode);
        Assert.Equal(1, MigrateCli.Summary(run).GetProperty("succeeded").GetInt32());
        var failed = JsonDocument.Parse(await File.ReadAllTextAsync(report)).RootElement.GetProperty("items").EnumerateArray()
            .Single(i => i.GetProperty("status").GetString() == "failed");
        Assert.Contains("bad-1.0.jar", failed.GetProperty("key").GetString());
        Assert.Equal(HttpStatusCode.NotFound, (await _a.Admin.GetAsync("pkg/maven-bad/maven/com/acme/bad/1.0/bad-1.0.jar")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await _a.Admin.GetAsync("pkg/maven-bad/maven/com/acme/good/1.0/good-1.0.pom")).StatusCode);
    }
}
