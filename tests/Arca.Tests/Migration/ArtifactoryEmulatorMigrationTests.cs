using System.Formats.Tar;
using System.IO.Compression;
using System.Net;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Arca.Tests.Http.Endpoints;
using Arca.Tests.Infrastructure;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using static Arca.Tests.Migration.OciMigrationSupport;

namespace Arca.Tests.Migration;

/// <summary>`arca registry migrate` from the Artifactory EMULATOR above (type JFROG) into an Arca server: a generic
/// repository (package/version/path from the first two path segments) and a Maven repository.</summary>
public sealed partial class ArtifactoryEmulatorMigrationTests : IAsyncLifetime
{
    private const string User = "migrator", Password = "jfrog-pw", Token = "jfrog-access-token";
    private ArtifactoryEmulator _jfrog = null!;
    private TestServer _arca = null!;
    private string _work = null!, _root = null!;

    public async Task InitializeAsync()
    {
        _work = TempDir.Create("migrate-jfrog");
        _root = Path.Combine(_work, "artifactory");
        _jfrog = await ArtifactoryEmulator.StartAsync(_root, User, Password, Token);
        _jfrog.StringSizeRepos.Add("libs-release-local");
        foreach (var (key, packageType) in new[] { ("files-local", "generic"), ("libs-release-local", "maven"), ("npm-local", "npm"), ("pypi-local", "pypi"),
                     ("docker-local", "docker"), ("nuget-local", "nuget"), ("helm-local", "helm"), ("go-local", "go") })
            _jfrog.AddRepository(key, "local", packageType);
        _arca = await TestServer.StartAsync();
    }

    public async Task DisposeAsync()
    {
        await _jfrog.DisposeAsync();
        await _arca.DisposeAsync();
        TempDir.TryDelete(_work);
    }

    /// <summary>Writes random content to <c>root/repo/path</c>; returns its sha256.</summary>
    private string Put(string repo, string path, int size) => Put(repo, path, RandomNumberGenerator.GetBytes(size));

    private string Put(string repo, string path, byte[] content)
    {
        var file = Path.Combine([_root, repo, .. path.Split('/')]);
        Directory.CreateDirectory(Path.GetDirectoryName(file)!);
        File.WriteAllBytes(file, content);
        return Convert.ToHexStringLower(SHA256.HashData(content));
    }

    /// <summary>A valid jar (the destination checks archives) with a random, incompressible entry.</summary>
    private static byte[] Jar(int randomBytes)
    {
        var ms = new MemoryStream();
        using (var zip = new ZipArchive(ms, ZipArchiveMode.Create, leaveOpen: true))
        {
            using (var w = new StreamWriter(zip.CreateEntry("META-INF/MANIFEST.MF").Open())) w.Write("Manifest-Version: 1.0\n");
            using (var data = zip.CreateEntry("data.bin").Open()) data.Write(RandomNumberGenerator.GetBytes(randomBytes));
        }
        return ms.ToArray();
    }

    private async Task<string?> Sha256OfAsync(string url)
    {
        using var response = await _arca.Admin.GetAsync(url);
        if (response.StatusCode == HttpStatusCode.NotFound) return null;
        response.EnsureSuccessStatusCode();
        return Convert.ToHexStringLower(SHA256.HashData(await response.Content.ReadAsByteArrayAsync()));
    }

    private string Config(string credentials, string mappings) => WriteConfig(_work, $"""
        version: 1.0.0
        concurrency: 3
        createRegistries: true
        source:
          endpoint: {_jfrog.BaseUrl}
          type: JFROG
          credentials: {credentials}
        destination:
          endpoint: {_arca.BaseUrl}
          type: ARCA
          credentials: {"{"} username: admin, password: {_arca.AdminToken} {"}"}
        mappings:
        {mappings}
        """);

    [Fact]
    public async Task Migrates_generic_and_maven_repositories_then_a_rerun_skips_everything()
    {
        var generic = new Dictionary<string, string>
        {
            ["tools/1.0/bin/tool.bin"] = Put("files-local", "tools/1.0/bin/tool.bin", 300 * 1024),
            ["tools/1.0/README.md"] = Put("files-local", "tools/1.0/README.md", 100),
            ["tools/2.0/my file+1 ü.txt"] = Put("files-local", "tools/2.0/my file+1 ü.txt", 2048),
            ["docs/latest/site/css/main.css"] = Put("files-local", "docs/latest/site/css/main.css", 10),
        };
        var maven = new Dictionary<string, string>
        {
            ["com/acme/util/1.0/util-1.0.pom"] = Put("libs-release-local", "com/acme/util/1.0/util-1.0.pom", Encoding.UTF8.GetBytes(
                "<project><modelVersion>4.0.0</modelVersion><groupId>com.acme</groupId><artifactId>util</artifactId><version>1.0</version></project>")),
            ["com/acme/util/1.0/util-1.0.jar"] = Put("libs-release-local", "com/acme/util/1.0/util-1.0.jar", Jar(64 * 1024)),
            ["com/acme/util/1.0/util-1.0-sources.jar"] = Put("libs-release-local", "com/acme/util/1.0/util-1.0-sources.jar", Jar(4096)),
            ["org/x/tool/2.1/tool-2.1.jar"] = Put("libs-release-local", "org/x/tool/2.1/tool-2.1.jar", Jar(1000)),
        };
        // Not items: sidecars and maven-metadata.xml (the destination computes and regenerates them).
        Put("libs-release-local", "com/acme/util/1.0/util-1.0.jar.sha1", Encoding.UTF8.GetBytes("0000000000000000000000000000000000000000"));
        Put("libs-release-local", "com/acme/util/maven-metadata.xml", Encoding.UTF8.GetBytes("<metadata><groupId>com.acme</groupId></metadata>"));

        var config = Config($"{"{"} username: {User}, password: {Password} {"}"}", """
              - artifactType: GENERIC
                sourceRegistry: files-local
                destinationRegistry: files
              - artifactType: MAVEN
                sourceRegistry: libs-release-local
                destinationRegistry: libs
            """);
        var first = await MigrateAsync(_work, config, new Dictionary<string, string?>(), "--format", "json");
        first.AssertOk("migration from the Artifactory emulator");
        Assert.Equal(generic.Count, Mapping(first, 0).GetProperty("succeeded").GetInt32());
        Assert.Equal(maven.Count, Mapping(first, 1).GetProperty("succeeded").GetInt32());

        foreach (var (path, sha256) in generic)
        {
            var s = path.Split('/');
            var url = $"pkg/files/generic/{s[0]}/{s[1]}/" + string.Join('/', s[2..].Select(Uri.EscapeDataString));
            Assert.Equal(sha256, await Sha256OfAsync(url));
        }
        foreach (var (path, sha256) in maven)
            Assert.Equal(sha256, await Sha256OfAsync($"pkg/libs/maven/{path}"));
        // The destination's sha1 is of the real jar, not the bogus sidecar from the source.
        Assert.NotEqual("0000000000000000000000000000000000000000", (await _arca.Admin.GetStringAsync("pkg/libs/maven/com/acme/util/1.0/util-1.0.jar.sha1")).Trim());
        var versions = JsonDocument.Parse(await _arca.Admin.GetStringAsync("api/v1/registries/files/versions?package=tools")).RootElement.ToString();
        Assert.Contains("\"1.0\"", versions);
        Assert.Contains("\"2.0\"", versions);
        // Listing used AQL (the storage list is only the fallback); every request was authenticated with Basic.
        Assert.Contains(_jfrog.AqlQueries, q => q.StartsWith("items.find({\"repo\":\"files-local\",\"type\":\"file\"})", StringComparison.Ordinal));
        Assert.DoesNotContain(_jfrog.Server.Requests, r => r.Path.StartsWith("/artifactory/api/storage/", StringComparison.Ordinal));
        Assert.All(_jfrog.Server.Requests, r => Assert.StartsWith("Basic ", r.Authorization));

        _jfrog.Server.Requests.Clear();
        var second = await MigrateAsync(_work, config, new Dictionary<string, string?>(), "--format", "json");
        second.AssertOk("rerun");
        Assert.Equal(generic.Count, Mapping(second, 0).GetProperty("skipped").GetInt32());
        Assert.Equal(maven.Count, Mapping(second, 1).GetProperty("skipped").GetInt32());
        Assert.Equal(0, Mapping(second, 0).GetProperty("succeeded").GetInt32() + Mapping(second, 1).GetProperty("succeeded").GetInt32());
        Assert.Equal(0, Mapping(second, 0).GetProperty("bytes").GetInt64() + Mapping(second, 1).GetProperty("bytes").GetInt64());
        // The listing's sha2 decides the skip: no file was downloaded again.
        Assert.DoesNotContain(_jfrog.Server.Requests, r => !r.Path.StartsWith("/artifactory/api/", StringComparison.Ordinal));
    }

    private static byte[] NpmTarball(string name, string version)
    {
        using var buffer = new MemoryStream();
        using (var gzip = new GZipStream(buffer, CompressionLevel.Fastest, leaveOpen: true))
        using (var tar = new TarWriter(gzip, TarEntryFormat.Pax))
        {
            tar.WriteEntry(new PaxTarEntry(TarEntryType.RegularFile, "package/package.json")
                { DataStream = new MemoryStream(Encoding.UTF8.GetBytes($"{{\"name\":\"{name}\",\"version\":\"{version}\",\"description\":\"d\"}}")) });
            tar.WriteEntry(new PaxTarEntry(TarEntryType.RegularFile, "package/index.js")
                { DataStream = new MemoryStream(RandomNumberGenerator.GetBytes(2000)) });
        }
        return buffer.ToArray();
    }

    [Fact]
    public async Task Migrates_an_npm_repository_through_its_npm_api_then_a_rerun_skips_everything()
    {
        // Artifactory's storage layout for npm: name/-/name-ver.tgz, and @scope/pkg/-/@scope/pkg-ver.tgz.
        var tarballs = new Dictionary<(string Name, string Version), string>
        {
            [("left-pad", "1.0.0")] = Put("npm-local", "left-pad/-/left-pad-1.0.0.tgz", NpmTarball("left-pad", "1.0.0")),
            [("left-pad", "1.1.0")] = Put("npm-local", "left-pad/-/left-pad-1.1.0.tgz", NpmTarball("left-pad", "1.1.0")),
            [("@acme/util", "2.0.0")] = Put("npm-local", "@acme/util/-/@acme/util-2.0.0.tgz", NpmTarball("@acme/util", "2.0.0")),
        };
        Put("npm-local", ".npm/left-pad/package.json", Encoding.UTF8.GetBytes("{}")); // Artifactory's own index files are not packages
        var config = Config($"{"{"} password: {Token} {"}"}", """
              - artifactType: NPM
                sourceRegistry: npm-local
                destinationRegistry: npm
            """);
        var first = await MigrateAsync(_work, config, new Dictionary<string, string?>(), "--format", "json");
        first.AssertOk("npm migration from the Artifactory emulator");
        Assert.Equal(tarballs.Count, Mapping(first, 0).GetProperty("succeeded").GetInt32());
        foreach (var ((name, version), sha256) in tarballs)
        {
            var packument = JsonNode.Parse(await _arca.Admin.GetStringAsync($"pkg/npm/npm/{name.Replace("/", "%2f")}"))!;
            var tarball = packument["versions"]![version]!["dist"]!["tarball"]!.GetValue<string>();
            Assert.Equal(sha256, Convert.ToHexStringLower(SHA256.HashData(await _arca.Admin.GetByteArrayAsync(tarball))));
        }
        Assert.Contains(_jfrog.Server.Requests, r => r.Path == "/artifactory/api/npm/npm-local/left-pad");

        var second = await MigrateAsync(_work, config, new Dictionary<string, string?>(), "--format", "json");
        second.AssertOk("npm rerun");
        Assert.Equal(tarballs.Count, Mapping(second, 0).GetProperty("skipped").GetInt32());
        Assert.Equal(0, Mapping(second, 0).GetProperty("succeeded").GetInt32());
    }

    private static byte[] Wheel(string name, string version)
    {
        using var buffer = new MemoryStream();
        using (var zip = new ZipArchive(buffer, ZipArchiveMode.Create, leaveOpen: true))
        {
            void Add(string path, string text) { using var w = new StreamWriter(zip.CreateEntry(path).Open()); w.Write(text); }
            var module = name.Replace('-', '_');
            Add($"{module}/__init__.py", $"VALUE = '{Guid.NewGuid():N}'\n");
            Add($"{module}-{version}.dist-info/METADATA", $"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\nRequires-Python: >=3.8\n\n");
            Add($"{module}-{version}.dist-info/WHEEL", "Wheel-Version: 1.0\nGenerator: test\nRoot-Is-Purelib: true\nTag: py3-none-any\n");
        }
        return buffer.ToArray();
    }

    [Fact]
    public async Task Migrates_a_pypi_repository_through_its_simple_index_then_a_rerun_skips_everything()
    {
        // Artifactory's storage layout for PyPI: name/version/file, plus its own .pypi index files.
        var wheels = new Dictionary<string, string>
        {
            ["tool_kit-1.0-py3-none-any.whl"] = Put("pypi-local", "tool-kit/1.0/tool_kit-1.0-py3-none-any.whl", Wheel("tool-kit", "1.0")),
            ["tool_kit-1.1-py3-none-any.whl"] = Put("pypi-local", "tool-kit/1.1/tool_kit-1.1-py3-none-any.whl", Wheel("tool-kit", "1.1")),
            ["second-3.0-py3-none-any.whl"] = Put("pypi-local", "second/3.0/second-3.0-py3-none-any.whl", Wheel("second", "3.0")),
        };
        Put("pypi-local", ".pypi/simple.html", Encoding.UTF8.GetBytes("<html></html>"));
        var config = Config($"{"{"} username: {User}, password: {Password} {"}"}", """
              - artifactType: PYTHON
                sourceRegistry: pypi-local
                destinationRegistry: py
            """);
        var first = await MigrateAsync(_work, config, new Dictionary<string, string?>(), "--format", "json");
        first.AssertOk("PyPI migration from the Artifactory emulator");
        Assert.Equal(wheels.Count, Mapping(first, 0).GetProperty("succeeded").GetInt32());
        foreach (var (file, sha256) in wheels)
        {
            var project = file.StartsWith("tool_kit", StringComparison.Ordinal) ? "tool-kit" : "second";
            var page = await _arca.Admin.GetStringAsync($"pkg/py/python/simple/{project}/");
            Assert.Contains($"{file}#sha256={sha256}", page);
            var version = file.Split('-')[1];
            Assert.Equal(sha256, await Sha256OfAsync($"pkg/py/python/files/{project}/{version}/{file}"));
        }
        Assert.Contains(_jfrog.Server.Requests, r => r.Path.StartsWith("/artifactory/api/pypi/pypi-local/simple", StringComparison.Ordinal));

        var second = await MigrateAsync(_work, config, new Dictionary<string, string?>(), "--format", "json");
        second.AssertOk("PyPI rerun");
        Assert.Equal(wheels.Count, Mapping(second, 0).GetProperty("skipped").GetInt32());
        Assert.Equal(0, Mapping(second, 0).GetProperty("succeeded").GetInt32());
    }

    [Fact]
    public async Task A_token_without_username_is_sent_as_bearer_and_files_without_package_and_version_fail_clearly()
    {
        var tool = Put("files-local", "tools/1.0/tool.bin", 5000);
        Put("files-local", "loose.txt", 10);
        Put("files-local", "tools/orphan.txt", 10);
        var config = Config($"{"{"} password: {Token} {"}"}", """
              - artifactType: GENERIC
                sourceRegistry: files-local
                destinationRegistry: files
            """);
        var report = Path.Combine(_work, "bearer.json");
        var run = await MigrateAsync(_work, config, new Dictionary<string, string?>(), "--report", report);
        Assert.NotEqual(0, run.ExitCode);
        Assert.Equal(tool, await Sha256OfAsync("pkg/files/generic/tools/1.0/tool.bin"));
        var failed = ReportItems(report).Where(i => i.GetProperty("status").GetString()?.Equals("failed", StringComparison.OrdinalIgnoreCase) == true).ToList();
        Assert.Equal(2, failed.Count);
        Assert.All(failed, f => Assert.Contains("<package>/<version>/<path>", f.GetProperty("error").GetString()));
        Assert.All(_jfrog.Server.Requests, r => Assert.Equal($"Bearer {Token}", r.Authorization));
    }

    [Fact]
    public async Task Migrates_a_docker_repository_through_its_api_docker_path_over_several_pages_then_a_rerun_skips_everything()
    {
        await using var registry = await DockerRegistryServer.StartAsync();
        _jfrog.AddDockerRepository("docker-local", registry.BaseUrl);
        using var push = BasicClient(registry.BaseUrl, null, null);
        var digests = new Dictionary<(string Repository, string Tag), string>();
        foreach (var (repository, tag) in new[] { ("alpine", "3.19"), ("alpine", "3.20"), ("team/api", "1.0"), ("team/api", "latest"), ("zeta", "1") })
        {
            var (manifest, blobs) = RandomImage($"jfrog-{repository}-{tag}", 4096);
            await PushAsync(push, repository, manifest, blobs, tag);
            digests[(repository, tag)] = manifest.Digest;
        }
        var config = Config($"{"{"} username: {User}, password: {Password} {"}"}", """
              - artifactType: DOCKER
                sourceRegistry: docker-local
                destinationRegistry: jfrog-images
                includePatterns: ["alpine", "team/*"]
            """);
        var first = await MigrateAsync(_work, config, new Dictionary<string, string?>(), "--format", "json");
        first.AssertOk("docker migration from the Artifactory emulator");
        Assert.Equal(4, Mapping(first, 0).GetProperty("succeeded").GetInt32());
        using var arca = _arca.CreateClient(_arca.AdminToken);
        foreach (var ((repository, tag), digest) in digests.Where(d => d.Key.Repository != "zeta"))
            Assert.Equal(digest, await ManifestDigestAsync(arca, $"jfrog-images/{repository}", tag));
        Assert.Null(await ManifestDigestAsync(arca, "jfrog-images/zeta", "1"));
        // The catalog's prefix-less Link ("/v2/_catalog?last=...") was followed under /artifactory/api/docker/<repo>.
        var seen = _jfrog.Server.Requests.ToList();
        Assert.Contains(seen, r => r.Path.StartsWith("/artifactory/api/docker/docker-local/v2/_catalog?", StringComparison.Ordinal) && r.Path.Contains("last="));
        Assert.Contains(seen, r => r.Path.StartsWith("/artifactory/api/docker/docker-local/v2/team/api/blobs/", StringComparison.Ordinal) && r.Authorization?.StartsWith("Basic ") == true);
        Assert.DoesNotContain(seen, r => !r.Path.StartsWith("/artifactory/api/docker/docker-local/v2/", StringComparison.Ordinal) && r.Path != "/artifactory/api/repositories/docker-local");

        var second = await MigrateAsync(_work, config, new Dictionary<string, string?>(), "--format", "json");
        second.AssertOk("rerun");
        Assert.Equal(4, Mapping(second, 0).GetProperty("skipped").GetInt32());
        Assert.Equal(0, Mapping(second, 0).GetProperty("bytes").GetInt64());
    }

    [Fact]
    public async Task Migrates_nuget_and_helm_repositories_through_their_api_paths_then_a_rerun_skips_everything()
    {
        var nupkgs = StaticFeeds.WriteNuGetFeed(Path.Combine(_root, "nuget-local"), $"{_jfrog.BaseUrl}/api/nuget/v3/nuget-local",
            ("Acme.Lib", "1.0.0", true), ("Acme.Hidden", "1.0.0", false), ("Other.Pkg", "3.1.0", true));
        var charts = StaticFeeds.WriteHelmRepository(Path.Combine(_root, "helm-local"), ("web", "1.2.0"), ("tool", "0.1.0"));
        // An access token alone: the feed and index readers must send it as Bearer, like the rest of the JFrog source.
        var config = Config($"{"{"} password: {Token} {"}"}", """
              - artifactType: NUGET
                sourceRegistry: nuget-local
                destinationRegistry: jfrog-nuget
                includePatterns: ["Acme.*"]
              - artifactType: HELM_LEGACY
                sourceRegistry: helm-local
                destinationRegistry: jfrog-charts
            """);
        var first = await MigrateAsync(_work, config, new Dictionary<string, string?>(), "--format", "json");
        first.AssertOk("nuget and helm migration from the Artifactory emulator");
        Assert.Equal(2, Mapping(first, 0).GetProperty("succeeded").GetInt32());
        Assert.Equal(2, Mapping(first, 1).GetProperty("succeeded").GetInt32());
        foreach (var (key, sha) in nupkgs.Where(n => n.Key.StartsWith("acme.", StringComparison.Ordinal)))
        {
            var (id, version) = (key.Split(' ')[0], key.Split(' ')[1]);
            Assert.Equal(sha, await Sha256OfAsync($"pkg/jfrog-nuget/nuget/v3-flatcontainer/{id}/{version}/{id}.{version}.nupkg"));
        }
        Assert.Null(await Sha256OfAsync("pkg/jfrog-nuget/nuget/v3-flatcontainer/other.pkg/3.1.0/other.pkg.3.1.0.nupkg"));
        foreach (var (file, bytes) in charts)
            Assert.Equal(Convert.ToHexStringLower(SHA256.HashData(bytes)), await Sha256OfAsync($"pkg/jfrog-charts/helm/charts/{file}.tgz"));
        var seen = _jfrog.Server.Requests.ToList();
        Assert.Contains(seen, r => r.Path == "/artifactory/api/nuget/v3/nuget-local/index.json");
        Assert.Contains(seen, r => r.Path == "/artifactory/api/helm/helm-local/index.yaml");
        Assert.All(seen, r => Assert.Equal($"Bearer {Token}", r.Authorization));

        var second = await MigrateAsync(_work, config, new Dictionary<string, string?>(), "--format", "json");
        second.AssertOk("rerun");
        Assert.Equal(2, Mapping(second, 0).GetProperty("skipped").GetInt32());
        Assert.Equal(2, Mapping(second, 1).GetProperty("skipped").GetInt32());
    }

    [Fact]
    public async Task Wrong_credentials_fail_with_a_non_zero_exit_and_the_401_in_the_report()
    {
        Put("files-local", "tools/1.0/tool.bin", 100);
        var config = Config($"{"{"} username: {User}, password: wrong {"}"}", """
              - artifactType: GENERIC
                sourceRegistry: files-local
                destinationRegistry: files
            """);
        var report = Path.Combine(_work, "denied.json");
        var run = await MigrateAsync(_work, config, new Dictionary<string, string?>(), "--report", report);
        Assert.NotEqual(0, run.ExitCode);
        var failure = Assert.Single(ReportItems(report));
        Assert.Contains("401", failure.GetProperty("error").GetString());
        Assert.Null(await Sha256OfAsync("pkg/files/generic/tools/1.0/tool.bin"));
    }
    [Fact]
    public async Task Migrates_oci_helm_charts_from_a_docker_repository_as_HELM_without_its_images()
    {
        await using var registry = await DockerRegistryServer.StartAsync();
        _jfrog.AddRepository("docker-charts", "local", "docker");
        _jfrog.AddDockerRepository("docker-charts", registry.BaseUrl);
        using var push = BasicClient(registry.BaseUrl, null, null);
        var (image, imageBlobs) = RandomImage("jfrog-helm-image", 4096);
        await PushAsync(push, "charts/app", image, imageBlobs, "1.0");
        var (chartConfig, chartLayer, chart) = Arca.Tests.Http.Oci.OciTestContent.HelmChartArtifact("apichart", "1.5.0", "3.1");
        await PushAsync(push, "apichart", chart, [chartConfig, chartLayer], "1.5.0");
        var config = Config($"{"{"} username: {User}, password: {Password} {"}"}", """
              - artifactType: HELM
                sourceRegistry: docker-charts
                destinationRegistry: jfrog-helm
            """);
        var run = await MigrateAsync(_work, config, new Dictionary<string, string?>(), "--format", "json");
        run.AssertOk("helm migration from the Artifactory emulator");
        Assert.Equal(1, Mapping(run, 0).GetProperty("succeeded").GetInt32());
        using var arca = _arca.CreateClient(_arca.AdminToken);
        Assert.Equal(chart.Digest, await ManifestDigestAsync(arca, "jfrog-helm/apichart", "1.5.0"));
        Assert.Equal(chartConfig.Bytes, await arca.GetByteArrayAsync($"v2/jfrog-helm/apichart/blobs/{chartConfig.Digest}"));
        Assert.Null(await ManifestDigestAsync(arca, "jfrog-helm/charts/app", "1.0"));
        var index = await arca.GetStringAsync("pkg/jfrog-helm/helm/index.yaml");
        Assert.Contains("apichart:", index);
        Assert.Contains(chartLayer.Digest["sha256:".Length..], index);
        Assert.Contains(_jfrog.Server.Requests, r => r.Path == "/artifactory/api/docker/docker-charts/v2/apichart/manifests/1.5.0");
    }
}
