using System.Collections.Concurrent;
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
using static Arca.Tests.Migration.OciMigrationSupport;
using static Arca.Tests.Migration.MavenTestContent;

namespace Arca.Tests.Migration;

/// <summary>
/// An EMULATOR of Sonatype Nexus Repository 3's documented REST shapes (not Nexus): a small Kestrel app serving
/// <c>GET /service/rest/v1/components?repository=R</c> as <c>{items, continuationToken}</c> with 2 components per page
/// and opaque tokens, assets with <c>path</c>, <c>downloadUrl</c>, <c>checksum{sha1,sha256,md5}</c> and <c>fileSize</c>,
/// and content at <c>/repository/R/path</c>, from directories the test fills. Every request needs Basic credentials;
/// otherwise 401 with <c>WWW-Authenticate: BASIC realm="Sonatype Nexus Repository Manager"</c>. Repositories:
/// <c>pypi</c> (one component per <c>packages/name/version/</c>; PEP 503 pages at <c>/repository/R/simple/name/</c>),
/// <c>npm</c> (one component per tarball <c>name/-/bare-version.tgz</c>, group = scope; the packument at
/// <c>/repository/R/name</c>), <c>raw</c> (one component per file, 3.70+ style paths with a leading '/', version "") and <c>maven2</c> (one
/// component per group/artifact/version holding every file of that directory, sidecars included; paths without '/').
/// <c>GET /service/rest/v1/repositories</c> lists every repository (hosted ones from the above, plus proxy and group
/// repositories the test adds) as RepositoryXO, or answers 403 like for a user without configuration rights; a group's
/// detail <c>/service/rest/v1/repositories/&lt;format&gt;/group/&lt;name&gt;</c> gives <c>group.memberNames</c>.
/// </summary>
internal sealed class NexusEmulator : IAsyncDisposable
{
    public const int PageSize = 2;
    private readonly string _user, _password;
    private readonly Dictionary<string, (string Format, string Root)> _repositories = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, int> _tokens = new(StringComparer.Ordinal);
    public LoopbackHttpServer Server { get; private set; } = null!;
    public string BaseUrl => Server.BaseUrl;

    private NexusEmulator(string user, string password) { _user = user; _password = password; }

    public static async Task<NexusEmulator> StartAsync(string user, string password)
    {
        var emulator = new NexusEmulator(user, password);
        emulator.Server = await LoopbackHttpServer.StartAsync((ctx, _) => emulator.HandleAsync(ctx));
        return emulator;
    }

    /// <summary>Serves <paramref name="root"/> as a hosted repository of the given Nexus format ("raw" or "maven2").</summary>
    public void AddRepository(string name, string format, string root) => _repositories[name] = (format, root);

    private readonly Dictionary<string, HttpClient> _dockerRepositories = new(StringComparer.Ordinal);

    /// <summary>A docker repository: its registry API at <c>/repository/R/v2/</c> is proxied to a real docker-registry.</summary>
    public void AddDockerRepository(string name, string backingBaseUrl) => _dockerRepositories[name] = new HttpClient { BaseAddress = new Uri(backingBaseUrl + "/") };

    private readonly List<JsonObject> _otherRepositories = [];
    private readonly Dictionary<string, string[]> _groupMembers = new(StringComparer.Ordinal);

    /// <summary>Like a user without the right to read repository configuration: the repositories API answers 403.</summary>
    public bool RepositoriesForbidden { get; set; }

    /// <summary>A proxy repository (listed by the repositories API only; it serves no content here).</summary>
    public void AddProxyRepository(string name, string format, string remoteUrl) =>
        _otherRepositories.Add(RepositoryXo(name, format, "proxy", new JsonObject { ["proxy"] = new JsonObject { ["remoteUrl"] = remoteUrl } }));

    /// <summary>A group repository over <paramref name="members"/> (its detail endpoint gives <c>group.memberNames</c>).</summary>
    public void AddGroupRepository(string name, string format, params string[] members)
    {
        _otherRepositories.Add(RepositoryXo(name, format, "group", new JsonObject()));
        _groupMembers[name] = members;
    }

    private JsonObject RepositoryXo(string name, string format, string type, JsonObject attributes) => new()
    {
        ["name"] = name, ["format"] = format, ["type"] = type, ["url"] = $"{BaseUrl}/repository/{name}", ["attributes"] = attributes,
    };

    private async Task HandleAsync(HttpContext ctx)
    {
        if (ctx.Request.Headers.Authorization.ToString() != "Basic " + Convert.ToBase64String(Encoding.UTF8.GetBytes($"{_user}:{_password}")))
        {
            ctx.Response.StatusCode = 401;
            ctx.Response.Headers.WWWAuthenticate = "BASIC realm=\"Sonatype Nexus Repository Manager\"";
            return;
        }
        var path = ctx.Request.Path.Value ?? "";
        // GET /service/rest/v1/repositories: a plain array of RepositoryXO {name, format, type, url, attributes}.
        if (path == "/service/rest/v1/repositories")
        {
            if (RepositoriesForbidden)
            {
                await JsonAsync(ctx, 403, new JsonObject { ["status-code"] = 403, ["status-message"] = "FORBIDDEN" });
                return;
            }
            var hosted = _repositories.Select(r => RepositoryXo(r.Key, r.Value.Format, "hosted", new JsonObject()))
                .Concat(_dockerRepositories.Keys.Select(name => RepositoryXo(name, "docker", "hosted", new JsonObject())));
            await JsonAsync(ctx, 200, new JsonArray(hosted.Concat(_otherRepositories.Select(r => r.DeepClone().AsObject())).Select(r => (JsonNode)r).ToArray()));
            return;
        }
        // GET /service/rest/v1/repositories/{format}/group/{name}: the group's detail, with group.memberNames.
        if (path.StartsWith("/service/rest/v1/repositories/", StringComparison.Ordinal)
            && path["/service/rest/v1/repositories/".Length..].Split('/') is [var groupFormat, "group", var groupName]
            && _groupMembers.TryGetValue(groupName, out var members))
        {
            await JsonAsync(ctx, 200, new JsonObject
            {
                ["name"] = groupName, ["format"] = groupFormat, ["type"] = "group", ["online"] = true, ["url"] = $"{BaseUrl}/repository/{groupName}",
                ["storage"] = new JsonObject { ["blobStoreName"] = "default", ["strictContentTypeValidation"] = true },
                ["group"] = new JsonObject { ["memberNames"] = new JsonArray(members.Select(m => (JsonNode)m).ToArray()) },
            });
            return;
        }
        if (path == "/service/rest/v1/components")
        {
            var name = ctx.Request.Query["repository"].ToString();
            if (!_repositories.TryGetValue(name, out var repository))
            {
                await JsonAsync(ctx, 404, new JsonObject { ["status-code"] = 404, ["siesta-faultid"] = Guid.NewGuid().ToString(), ["status-message"] = "NOT_FOUND" });
                return;
            }
            var offset = 0;
            if (ctx.Request.Query["continuationToken"].ToString() is { Length: > 0 } token && !_tokens.TryGetValue(token, out offset))
            {
                await JsonAsync(ctx, 406, new JsonObject { ["status-code"] = 406, ["status-message"] = "Unacceptable continuation token" });
                return;
            }
            var components = Components(name, repository.Format, repository.Root);
            string? next = null;
            if (offset + PageSize < components.Count)
            {
                next = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(16)); // opaque, like Nexus's
                _tokens[next] = offset + PageSize;
            }
            await JsonAsync(ctx, 200, new JsonObject
            {
                ["items"] = new JsonArray(components.Skip(offset).Take(PageSize).Select(c => (JsonNode)c).ToArray()),
                ["continuationToken"] = next,
            });
            return;
        }
        if (path.StartsWith("/repository/", StringComparison.Ordinal))
        {
            var rest = path["/repository/".Length..];
            if (rest.Split('/') is [var dockerRepo, "v2", ..] && _dockerRepositories.TryGetValue(dockerRepo, out var backing))
            {
                await RegistryPathProxy.ForwardAsync(ctx, backing, rest[(dockerRepo.Length + 1)..] + ctx.Request.QueryString, PageSize);
                return;
            }
            var segments = path["/repository/".Length..].Split('/').Select(Uri.UnescapeDataString).ToArray();
            if (segments.Length > 1 && _repositories.TryGetValue(segments[0], out var repository)
                && segments.Skip(1).All(s => s.Length > 0 && s != ".." && s != ".")
                && Path.Combine([repository.Root, .. segments.Skip(1)]) is var file && File.Exists(file))
            {
                var bytes = await File.ReadAllBytesAsync(file);
                if (file.EndsWith(".tgz", StringComparison.Ordinal)) ctx.Response.ContentType = "application/x-compressed";
                ctx.Response.Headers.ETag = $"\"{Convert.ToHexStringLower(SHA1.HashData(bytes))}\"";
                ctx.Response.ContentLength = bytes.Length;
                await ctx.Response.Body.WriteAsync(bytes);
                return;
            }
            // pypi repositories serve PEP 503 project pages at /repository/R/simple/<normalized>/ linking ../../packages/...
            if (segments is [var repo, "simple", var project, ""] && _repositories.TryGetValue(repo, out repository) && repository.Format == "pypi")
            {
                ctx.Response.ContentType = "text/html";
                await ctx.Response.WriteAsync(SimplePage(repository.Root, project));
                return;
            }
            // npm repositories speak the npm registry API: /repository/R/<name> (scoped names as @scope%2fname) is the packument.
            if (segments.Length > 1 && _repositories.TryGetValue(segments[0], out repository) && repository.Format == "npm"
                && string.Join('/', segments.Skip(1)) is var package && !package.Contains("..")
                && Directory.Exists(Path.Combine(repository.Root, package, "-")))
            {
                await JsonAsync(ctx, 200, Packument(segments[0], repository.Root, package));
                return;
            }
            ctx.Response.StatusCode = 404;
            return;
        }
        await JsonAsync(ctx, 404, new JsonObject { ["status-code"] = 404, ["status-message"] = "NOT_FOUND" });
    }

    private List<JsonObject> Components(string repository, string format, string root)
    {
        var files = Directory.EnumerateFiles(root, "*", SearchOption.AllDirectories)
            .Select(f => Path.GetRelativePath(root, f).Replace('\\', '/')).Order(StringComparer.Ordinal).ToList();
        if (format == "raw")
            return files.Select(f => new JsonObject
            {
                ["id"] = Id(repository, f), ["repository"] = repository, ["format"] = "raw",
                ["group"] = "/" + (f.Contains('/') ? f[..f.LastIndexOf('/')] : ""), ["name"] = "/" + f, ["version"] = "",
                ["assets"] = new JsonArray(Asset(repository, "raw", root, f, "/" + f)),
            }).ToList();
        if (format == "pypi") // packages/<name>/<version>/<file>: one component per name/version
            return files.GroupBy(f => f[..f.LastIndexOf('/')]).Select(g => new JsonObject
            {
                ["id"] = Id(repository, g.Key), ["repository"] = repository, ["format"] = "pypi",
                ["group"] = null, ["name"] = g.Key.Split('/')[1], ["version"] = g.Key.Split('/')[2],
                ["assets"] = new JsonArray(g.Select(f => (JsonNode)Asset(repository, "pypi", root, f, f)).ToArray()),
            }).ToList();
        if (format == "npm")
            return files.Select(f =>
            {
                var name = f[..f.IndexOf("/-/", StringComparison.Ordinal)];
                var bare = name.Split('/')[^1];
                return new JsonObject
                {
                    ["id"] = Id(repository, f), ["repository"] = repository, ["format"] = "npm",
                    ["group"] = name.StartsWith('@') ? name[1..name.IndexOf('/')] : null, ["name"] = bare, ["version"] = NpmVersion(f, bare),
                    ["assets"] = new JsonArray(Asset(repository, "npm", root, f, f)),
                };
            }).ToList();
        // maven2: one component per directory holding files (a version directory, or an artifact's maven-metadata.xml).
        return files.GroupBy(f => f[..f.LastIndexOf('/')]).Select(g =>
        {
            var dirs = g.Key.Split('/');
            var isMetadataOnly = g.All(f => f.Contains("/maven-metadata.xml", StringComparison.Ordinal));
            return new JsonObject
            {
                ["id"] = Id(repository, g.Key), ["repository"] = repository, ["format"] = "maven2",
                ["group"] = string.Join('.', isMetadataOnly ? dirs[..^1] : dirs[..^2]),
                ["name"] = isMetadataOnly ? dirs[^1] : dirs[^2], ["version"] = isMetadataOnly ? "" : dirs[^1],
                ["assets"] = new JsonArray(g.Select(f => (JsonNode)Asset(repository, "maven2", root, f, f)).ToArray()),
            };
        }).ToList();
    }

    private static string Normalize(string name) => System.Text.RegularExpressions.Regex.Replace(name, "[-_.]+", "-").ToLowerInvariant();

    private static string SimplePage(string root, string project)
    {
        var html = new StringBuilder($"<!DOCTYPE html>\n<html lang=\"en\"><head><title>Links for {project}</title></head><body><h1>Links for {project}</h1>\n");
        var packages = Path.Combine(root, "packages");
        foreach (var dir in Directory.EnumerateDirectories(packages).Where(d => Normalize(Path.GetFileName(d)) == project))
            foreach (var file in Directory.EnumerateFiles(dir, "*", SearchOption.AllDirectories).Order(StringComparer.Ordinal))
            {
                var relative = Path.GetRelativePath(root, file).Replace('\\', '/');
                var sha256 = Convert.ToHexStringLower(SHA256.HashData(File.ReadAllBytes(file)));
                html.Append($"<a href=\"../../{relative}#sha256={sha256}\" data-requires-python=\"&gt;=3.8\" rel=\"internal\">{Path.GetFileName(file)}</a><br/>\n");
            }
        return html.Append("</body></html>").ToString();
    }

    private static string NpmVersion(string tarballPath, string bare) => Path.GetFileName(tarballPath)[(bare.Length + 1)..^".tgz".Length];

    private JsonObject Packument(string repository, string root, string name)
    {
        var bare = name.Split('/')[^1];
        var versions = new JsonObject();
        string? latest = null;
        foreach (var tgz in Directory.EnumerateFiles(Path.Combine(root, name, "-"), "*.tgz").Order(StringComparer.Ordinal))
        {
            var bytes = File.ReadAllBytes(tgz);
            var version = NpmVersion(tgz, bare);
            latest = version;
            versions[version] = new JsonObject
            {
                ["name"] = name, ["version"] = version,
                ["dist"] = new JsonObject
                {
                    ["tarball"] = $"{BaseUrl}/repository/{repository}/{name}/-/{Path.GetFileName(tgz)}",
                    ["shasum"] = Convert.ToHexStringLower(SHA1.HashData(bytes)),
                    ["integrity"] = "sha512-" + Convert.ToBase64String(SHA512.HashData(bytes)),
                },
            };
        }
        return new JsonObject { ["name"] = name, ["dist-tags"] = new JsonObject { ["latest"] = latest }, ["versions"] = versions };
    }

    private JsonObject Asset(string repository, string format, string root, string file, string assetPath)
    {
        var bytes = File.ReadAllBytes(Path.Combine(root, file));
        return new JsonObject
        {
            ["downloadUrl"] = $"{BaseUrl}/repository/{repository}/{file}", // Nexus: repository URL + "/" + path without its leading '/'
            ["path"] = assetPath, ["id"] = Id(repository, file), ["repository"] = repository, ["format"] = format,
            ["checksum"] = new JsonObject
            {
                ["sha1"] = Convert.ToHexStringLower(SHA1.HashData(bytes)), ["sha256"] = Convert.ToHexStringLower(SHA256.HashData(bytes)),
                ["md5"] = Convert.ToHexStringLower(MD5.HashData(bytes)),
            },
            ["contentType"] = "application/octet-stream", ["lastModified"] = "2024-03-15T10:30:00.000+00:00", ["fileSize"] = bytes.Length,
        };
    }

    private static string Id(string repository, string key) =>
        Convert.ToBase64String(Encoding.UTF8.GetBytes($"{repository}:{Convert.ToHexStringLower(MD5.HashData(Encoding.UTF8.GetBytes(key)))}"))
            .TrimEnd('=').Replace('+', '-').Replace('/', '_');

    private static Task JsonAsync(HttpContext ctx, int status, JsonNode body)
    {
        ctx.Response.StatusCode = status;
        ctx.Response.ContentType = "application/json";
        return ctx.Response.WriteAsync(body.ToJsonString());
    }

    public ValueTask DisposeAsync() => Server.DisposeAsync();
}

/// <summary>`arca registry migrate` from the Nexus EMULATOR above (type NEXUS) into Arca: a raw repository as GENERIC
/// (package/version taken from the first two path segments), a maven2 repository as MAVEN, an npm one as NPM and a pypi one as PYTHON, listed over several
/// continuation-token pages.</summary>
public sealed class NexusEmulatorMigrationTests : IAsyncLifetime
{
    private const string User = "migrator", Password = "nexus-pw";
    private NexusEmulator _nexus = null!;
    private TestServer _arca = null!;
    private string _work = null!;

    public async Task InitializeAsync()
    {
        _nexus = await NexusEmulator.StartAsync(User, Password);
        _arca = await TestServer.StartAsync();
        _work = TempDir.Create("migrate-nexus");
    }

    public async Task DisposeAsync()
    {
        await _nexus.DisposeAsync();
        await _arca.DisposeAsync();
        TempDir.TryDelete(_work);
    }

    private string Repository(string name, string format, Dictionary<string, byte[]> files)
    {
        var root = Path.Combine(_work, "nexus", name);
        foreach (var (path, bytes) in files)
        {
            var full = Path.Combine(root, path);
            Directory.CreateDirectory(Path.GetDirectoryName(full)!);
            File.WriteAllBytes(full, bytes);
        }
        _nexus.AddRepository(name, format, root);
        return root;
    }

    private string Config(string password, string mappings) => WriteConfig(_work, $"""
        version: 1.0.0
        concurrency: 3
        createRegistries: true
        source:
          endpoint: {_nexus.BaseUrl}
          type: NEXUS
          credentials: {"{"} username: {User}, password: {password} {"}"}
        destination:
          endpoint: {_arca.BaseUrl}
          type: ARCA
          credentials: {"{"} username: admin, password: {_arca.AdminToken} {"}"}
        mappings:
        {mappings}
        """);

    private static byte[] Random(int size) => RandomNumberGenerator.GetBytes(size);



    private static string Escape(string path) => string.Join('/', path.Split('/').Select(Uri.EscapeDataString));

    private async Task<string?> Sha256AtAsync(string url)
    {
        using var response = await _arca.Admin.GetAsync(url);
        if (response.StatusCode == HttpStatusCode.NotFound) return null;
        response.EnsureSuccessStatusCode();
        return Convert.ToHexStringLower(SHA256.HashData(await response.Content.ReadAsByteArrayAsync()));
    }

    [Fact]
    public async Task Migrates_raw_as_generic_and_maven2_as_maven_over_several_pages_then_a_rerun_skips_everything()
    {
        var raw = new Dictionary<string, byte[]>
        {
            ["tool/1.0/tool.bin"] = Random(200 * 1024),
            ["tool/1.0/docs/read me.txt"] = Encoding.UTF8.GetBytes("spaces in a path segment"),
            ["tool/2.0/tool.bin"] = Random(4096),
            ["lib/0.1/a/b/c.dat"] = Random(1000),
            ["skipped/9.9/x.bin"] = Random(10), // excluded by the mapping
        };
        Repository("raw-hosted", "raw", raw);
        var maven = new Dictionary<string, byte[]>
        {
            ["com/acme/util/1.0/util-1.0.pom"] = Pom("com.acme", "util", "1.0"),
            ["com/acme/util/1.0/util-1.0.jar"] = Jar("util 1.0"),
            ["com/acme/util/1.1/util-1.1.pom"] = Pom("com.acme", "util", "1.1"),
            ["com/acme/util/1.1/util-1.1.jar"] = Jar("util 1.1"),
            ["org/deep/nested/tool/3.0/tool-3.0.pom"] = Pom("org.deep.nested", "tool", "3.0"),
        };
        maven["com/acme/util/1.0/util-1.0.jar.sha1"] = Encoding.ASCII.GetBytes(Convert.ToHexStringLower(SHA1.HashData(maven["com/acme/util/1.0/util-1.0.jar"])));
        maven["com/acme/util/maven-metadata.xml"] = Encoding.UTF8.GetBytes("<metadata><groupId>com.acme</groupId><artifactId>util</artifactId></metadata>");
        Repository("maven-releases", "maven2", maven);

        var config = Config(Password, """
              - artifactType: GENERIC
                sourceRegistry: raw-hosted
                destinationRegistry: nexus-raw
                excludePatterns: [skipped]
              - artifactType: MAVEN
                sourceRegistry: maven-releases
                destinationRegistry: nexus-maven
            """);
        var first = await MigrateAsync(_work, config, new Dictionary<string, string?>(), "--format", "json");
        first.AssertOk("migration from the Nexus emulator");
        Assert.Equal(4, Mapping(first, 0).GetProperty("succeeded").GetInt32());
        Assert.Equal(5, Mapping(first, 1).GetProperty("succeeded").GetInt32()); // no sidecar, no maven-metadata.xml

        foreach (var (path, bytes) in raw.Where(f => !f.Key.StartsWith("skipped/", StringComparison.Ordinal)))
            Assert.Equal(Convert.ToHexStringLower(SHA256.HashData(bytes)), await Sha256AtAsync($"pkg/nexus-raw/generic/{Escape(path)}"));
        Assert.Null(await Sha256AtAsync("pkg/nexus-raw/generic/skipped/9.9/x.bin"));
        var files = await _arca.Admin.GetStringAsync("api/v1/registries/nexus-raw/files?package=tool&version=1.0");
        Assert.Contains("docs/read me.txt", files);
        foreach (var (path, bytes) in maven.Where(f => f.Key.EndsWith(".jar") || f.Key.EndsWith(".pom")))
            Assert.Equal(Convert.ToHexStringLower(SHA256.HashData(bytes)), await Sha256AtAsync($"pkg/nexus-maven/maven/{path}"));
        // The destination regenerated maven-metadata.xml from what it holds rather than copying the source's.
        var metadata = await _arca.Admin.GetStringAsync("pkg/nexus-maven/maven/com/acme/util/maven-metadata.xml");
        Assert.Contains("<version>1.1</version>", metadata);

        // The listing followed the continuation tokens; every request carried the Basic credentials.
        var seen = _nexus.Server.Requests.ToList();
        Assert.Contains(seen, r => r.Path.StartsWith("/service/rest/v1/components?repository=raw-hosted&continuationToken=", StringComparison.Ordinal));
        Assert.Contains(seen, r => r.Path.StartsWith("/service/rest/v1/components?repository=maven-releases&continuationToken=", StringComparison.Ordinal));
        Assert.Contains(seen, r => r.Path == "/repository/raw-hosted/tool/1.0/docs/read%20me.txt");
        Assert.All(seen, r => Assert.StartsWith("Basic ", r.Authorization));

        _nexus.Server.Requests.Clear();
        var second = await MigrateAsync(_work, config, new Dictionary<string, string?>(), "--format", "json");
        second.AssertOk("rerun");
        Assert.Equal(4, Mapping(second, 0).GetProperty("skipped").GetInt32());
        Assert.Equal(5, Mapping(second, 1).GetProperty("skipped").GetInt32());
        Assert.Equal(0, Mapping(second, 0).GetProperty("failed").GetInt32() + Mapping(second, 1).GetProperty("failed").GetInt32());
        // The listing carries sha256 checksums, so a no-op rerun downloads nothing.
        Assert.DoesNotContain(_nexus.Server.Requests, r => r.Path.StartsWith("/repository/", StringComparison.Ordinal));
    }

    private static byte[] NpmTarball(string name, string version)
    {
        using var buffer = new MemoryStream();
        using (var gzip = new GZipStream(buffer, CompressionLevel.Fastest, leaveOpen: true))
        using (var tar = new TarWriter(gzip, TarEntryFormat.Pax))
            foreach (var (path, text) in new[] { ("package/package.json", $"{{\"name\":\"{name}\",\"version\":\"{version}\"}}"), ("package/index.js", $"module.exports='{version}';\n") })
                tar.WriteEntry(new PaxTarEntry(TarEntryType.RegularFile, path) { DataStream = new MemoryStream(Encoding.UTF8.GetBytes(text)) });
        return buffer.ToArray();
    }

    [Fact]
    public async Task Migrates_an_npm_repository_through_its_packuments_with_scoped_names_then_a_rerun_skips_everything()
    {
        var tarballs = new Dictionary<string, byte[]>
        {
            ["left-pad/-/left-pad-1.0.0.tgz"] = NpmTarball("left-pad", "1.0.0"),
            ["left-pad/-/left-pad-1.1.0.tgz"] = NpmTarball("left-pad", "1.1.0"),
            ["@acme/widget/-/widget-2.0.0.tgz"] = NpmTarball("@acme/widget", "2.0.0"),
        };
        Repository("npm-hosted", "npm", tarballs);
        var config = Config(Password, """
              - artifactType: NPM
                sourceRegistry: npm-hosted
                destinationRegistry: nexus-npm
            """);
        var first = await MigrateAsync(_work, config, new Dictionary<string, string?>(), "--format", "json");
        first.AssertOk("npm migration from the Nexus emulator");
        Assert.Equal(3, Mapping(first, 0).GetProperty("succeeded").GetInt32());

        foreach (var (name, version, path) in new[] { ("left-pad", "1.0.0", "left-pad/-/left-pad-1.0.0.tgz"), ("left-pad", "1.1.0", "left-pad/-/left-pad-1.1.0.tgz"),
                     ("@acme/widget", "2.0.0", "@acme/widget/-/widget-2.0.0.tgz") })
        {
            var packument = JsonNode.Parse(await _arca.Admin.GetStringAsync($"pkg/nexus-npm/npm/{name.Replace("/", "%2f")}"))!;
            var tarball = packument["versions"]![version]!["dist"]!["tarball"]!.ToString();
            var bytes = await _arca.Admin.GetByteArrayAsync(tarball);
            Assert.Equal(Convert.ToHexStringLower(SHA256.HashData(tarballs[path])), Convert.ToHexStringLower(SHA256.HashData(bytes)));
        }
        Assert.Contains(_nexus.Server.Requests, r => r.Path.StartsWith("/service/rest/v1/components?repository=npm-hosted&continuationToken=", StringComparison.Ordinal));
        Assert.Contains(_nexus.Server.Requests, r => r.Path.StartsWith("/repository/npm-hosted/@acme", StringComparison.Ordinal));

        var second = await MigrateAsync(_work, config, new Dictionary<string, string?>(), "--format", "json");
        second.AssertOk("npm rerun");
        Assert.Equal(3, Mapping(second, 0).GetProperty("skipped").GetInt32());
    }

    [Fact]
    public async Task Migrates_a_pypi_repository_through_its_simple_pages_then_a_rerun_skips_everything()
    {
        var wheels = new Dictionary<string, byte[]>
        {
            ["packages/demo-lib/1.0/demo_lib-1.0-py3-none-any.whl"] = Arca.Tests.Http.PyPI.PyPIProtocolTests.Wheel("demo-lib", "1.0"),
            ["packages/demo-lib/1.1/demo_lib-1.1-py3-none-any.whl"] = Arca.Tests.Http.PyPI.PyPIProtocolTests.Wheel("demo-lib", "1.1"),
            ["packages/other/0.1/other-0.1-py3-none-any.whl"] = Arca.Tests.Http.PyPI.PyPIProtocolTests.Wheel("other", "0.1"),
        };
        Repository("pypi-hosted", "pypi", wheels);
        var config = Config(Password, """
              - artifactType: PYTHON
                sourceRegistry: pypi-hosted
                destinationRegistry: nexus-pypi
            """);
        var first = await MigrateAsync(_work, config, new Dictionary<string, string?>(), "--format", "json");
        first.AssertOk("pypi migration from the Nexus emulator");
        Assert.Equal(3, Mapping(first, 0).GetProperty("succeeded").GetInt32());

        foreach (var (path, bytes) in wheels)
        {
            var project = path.Split('/')[1];
            var page = await _arca.Admin.GetStringAsync($"pkg/nexus-pypi/python/simple/{project}/");
            var file = Path.GetFileName(path);
            var href = System.Text.RegularExpressions.Regex.Match(page, $"href=\"([^\"#]*{System.Text.RegularExpressions.Regex.Escape(file)})").Groups[1].Value;
            Assert.NotEmpty(href);
            var url = new Uri(new Uri($"{_arca.BaseUrl}/pkg/nexus-pypi/python/simple/{project}/"), System.Net.WebUtility.HtmlDecode(href));
            Assert.Equal(Convert.ToHexStringLower(SHA256.HashData(bytes)), Convert.ToHexStringLower(SHA256.HashData(await _arca.Admin.GetByteArrayAsync(url))));
        }
        Assert.Contains(_nexus.Server.Requests, r => r.Path.StartsWith("/service/rest/v1/components?repository=pypi-hosted&continuationToken=", StringComparison.Ordinal));
        Assert.Contains(_nexus.Server.Requests, r => r.Path == "/repository/pypi-hosted/simple/demo-lib/");

        var second = await MigrateAsync(_work, config, new Dictionary<string, string?>(), "--format", "json");
        second.AssertOk("pypi rerun");
        Assert.Equal(3, Mapping(second, 0).GetProperty("skipped").GetInt32());
    }

    [Fact]
    public async Task A_raw_path_without_package_and_version_fails_that_item_clearly_and_the_rest_migrate()
    {
        var good = Random(512);
        Repository("raw-flat", "raw", new Dictionary<string, byte[]>
        {
            ["README.txt"] = Encoding.UTF8.GetBytes("top level"),
            ["only/two.txt"] = Encoding.UTF8.GetBytes("two segments"),
            ["app/1.0/app.bin"] = good,
        });
        var config = Config(Password, """
              - artifactType: GENERIC
                sourceRegistry: raw-flat
                destinationRegistry: nexus-flat
            """);
        // A dry run already names the unmappable paths.
        var dryReport = Path.Combine(_work, "flat-dry.json");
        await MigrateAsync(_work, config, new Dictionary<string, string?>(), "--dry-run", "--report", dryReport);
        var planned = ReportItems(dryReport);
        Assert.Equal(["failed", "failed", "planned"], planned.Select(i => i.GetProperty("status").GetString()).Order().ToArray());
        Assert.Null(await Sha256AtAsync("pkg/nexus-flat/generic/app/1.0/app.bin"));

        var report = Path.Combine(_work, "flat.json");
        var run = await MigrateAsync(_work, config, new Dictionary<string, string?>(), "--report", report);
        Assert.NotEqual(0, run.ExitCode);
        var items = ReportItems(report);
        var failed = items.Where(i => i.GetProperty("status").GetString() == "failed").ToList();
        Assert.Equal(2, failed.Count);
        Assert.All(failed, f => Assert.Contains("<package>/<version>/<file path>", f.GetProperty("error").GetString()));
        Assert.Contains(failed, f => f.GetProperty("error").GetString()!.Contains("README.txt"));
        Assert.Equal(Convert.ToHexStringLower(SHA256.HashData(good)), await Sha256AtAsync("pkg/nexus-flat/generic/app/1.0/app.bin"));
    }

    [Fact]
    public async Task Migrates_a_docker_repository_through_its_registry_path_over_several_pages_then_a_rerun_skips_everything()
    {
        await using var registry = await DockerRegistryServer.StartAsync();
        _nexus.AddDockerRepository("docker-hosted", registry.BaseUrl);
        using var push = BasicClient(registry.BaseUrl, null, null);
        var digests = new Dictionary<string, string>();
        foreach (var (repository, tag) in new[] { ("app", "1.0"), ("app", "1.1"), ("app", "latest"), ("team/tool", "2"), ("web", "3") })
        {
            var (manifest, blobs) = RandomImage($"nexus-{repository}-{tag}", 4096);
            await PushAsync(push, repository, manifest, blobs, tag);
            digests[$"{repository}:{tag}"] = manifest.Digest;
        }
        var config = Config(Password, """
              - artifactType: DOCKER
                sourceRegistry: docker-hosted
                destinationRegistry: nexus-images
                excludePatterns: ["web"]
            """);
        var first = await MigrateAsync(_work, config, new Dictionary<string, string?>(), "--format", "json");
        first.AssertOk("docker migration from the Nexus emulator");
        Assert.Equal(4, Mapping(first, 0).GetProperty("succeeded").GetInt32());
        using var arca = BasicClient(_arca.BaseUrl, "admin", _arca.AdminToken);
        foreach (var (reference, digest) in digests.Where(d => !d.Key.StartsWith("web", StringComparison.Ordinal)))
        {
            var (repository, tag) = (reference[..reference.LastIndexOf(':')], reference[(reference.LastIndexOf(':') + 1)..]);
            Assert.Equal(digest, await ManifestDigestAsync(arca, $"nexus-images/{repository}", tag));
        }
        Assert.Null(await ManifestDigestAsync(arca, "nexus-images/web", "3"));
        // Everything went through the repository's registry path, and the catalog/tags pages were followed.
        var seen = _nexus.Server.Requests.ToList();
        Assert.Contains(seen, r => r.Path.StartsWith("/repository/docker-hosted/v2/_catalog?", StringComparison.Ordinal) && r.Path.Contains("last="));
        // (Debian's docker-registry 2.x does not page tags/list, so only the catalog shows the prefix-less Link being followed.)
        Assert.Contains(seen, r => r.Path.StartsWith("/repository/docker-hosted/v2/team/tool/tags/list?", StringComparison.Ordinal));
        Assert.Contains(seen, r => r.Path.StartsWith("/repository/docker-hosted/v2/app/blobs/", StringComparison.Ordinal));
        Assert.DoesNotContain(seen, r => r.Path.StartsWith("/v2/", StringComparison.Ordinal));

        var second = await MigrateAsync(_work, config, new Dictionary<string, string?>(), "--format", "json");
        second.AssertOk("rerun");
        Assert.Equal(4, Mapping(second, 0).GetProperty("skipped").GetInt32());
        Assert.Equal(0, Mapping(second, 0).GetProperty("bytes").GetInt64());
    }

    [Fact]
    public async Task Migrates_a_nuget_repository_and_a_helm_repository_through_their_repository_paths_then_a_rerun_skips_everything()
    {
        var nugetRoot = Path.Combine(_work, "nexus", "nuget-hosted");
        var nupkgs = StaticFeeds.WriteNuGetFeed(nugetRoot, $"{_nexus.BaseUrl}/repository/nuget-hosted",
            ("Acme.Lib", "1.0.0", true), ("Acme.Lib", "2.0.0-beta.1", true), ("Acme.Hidden", "1.0.0", false));
        _nexus.AddRepository("nuget-hosted", "nuget", nugetRoot);
        var helmRoot = Path.Combine(_work, "nexus", "helm-hosted");
        var charts = StaticFeeds.WriteHelmRepository(helmRoot, ("web", "1.2.0"), ("web", "1.3.0"), ("tool", "0.1.0"));
        _nexus.AddRepository("helm-hosted", "helm", helmRoot);
        var config = Config(Password, """
              - artifactType: NUGET
                sourceRegistry: nuget-hosted
                destinationRegistry: nexus-nuget
              - artifactType: HELM_LEGACY
                sourceRegistry: helm-hosted
                destinationRegistry: nexus-charts
            """);
        var first = await MigrateAsync(_work, config, new Dictionary<string, string?>(), "--format", "json");
        first.AssertOk("nuget and helm migration from the Nexus emulator");
        Assert.Equal(3, Mapping(first, 0).GetProperty("succeeded").GetInt32());
        Assert.Equal(3, Mapping(first, 1).GetProperty("succeeded").GetInt32());
        foreach (var (key, sha) in nupkgs)
        {
            var (id, version) = (key.Split(' ')[0], key.Split(' ')[1]);
            Assert.Equal(sha, await Sha256AtAsync($"pkg/nexus-nuget/nuget/v3-flatcontainer/{id}/{version}/{id}.{version}.nupkg"));
        }
        var hidden = JsonDocument.Parse(await _arca.Admin.GetStringAsync("pkg/nexus-nuget/nuget/registration/acme.hidden/1.0.0.json"));
        Assert.False(hidden.RootElement.GetProperty("listed").GetBoolean());
        foreach (var (file, bytes) in charts)
            Assert.Equal(Convert.ToHexStringLower(SHA256.HashData(bytes)), await Sha256AtAsync($"pkg/nexus-charts/helm/charts/{file}.tgz"));
        var seen = _nexus.Server.Requests.ToList();
        Assert.Contains(seen, r => r.Path == "/repository/nuget-hosted/index.json");
        Assert.Contains(seen, r => r.Path == "/repository/helm-hosted/index.yaml");

        var second = await MigrateAsync(_work, config, new Dictionary<string, string?>(), "--format", "json");
        second.AssertOk("rerun");
        Assert.Equal(3, Mapping(second, 0).GetProperty("skipped").GetInt32());
        Assert.Equal(3, Mapping(second, 1).GetProperty("skipped").GetInt32());
    }

    [Fact]
    public async Task Wrong_nexus_credentials_fail_the_listing_with_a_non_zero_exit_and_the_401_in_the_report()
    {
        Repository("raw-secret", "raw", new Dictionary<string, byte[]> { ["p/1/f.bin"] = Random(64) });
        var config = Config("wrong", """
              - artifactType: GENERIC
                sourceRegistry: raw-secret
                destinationRegistry: nexus-secret
            """);
        var report = Path.Combine(_work, "denied.json");
        var run = await MigrateAsync(_work, config, new Dictionary<string, string?>(), "--report", report);
        Assert.NotEqual(0, run.ExitCode);
        var failure = Assert.Single(ReportItems(report));
        Assert.Contains("401", failure.GetProperty("error").GetString());
        Assert.Null(await Sha256AtAsync("pkg/nexus-secret/generic/p/1/f.bin"));
    }
    [Fact]
    public async Task Migrates_oci_helm_charts_from_a_docker_repository_as_HELM_and_leaves_the_images_to_DOCKER()
    {
        await using var registry = await DockerRegistryServer.StartAsync();
        _nexus.AddDockerRepository("docker-hosted", registry.BaseUrl);
        using var push = BasicClient(registry.BaseUrl, null, null);
        var (image, imageBlobs) = RandomImage("nexus-helm-image", 4096);
        await PushAsync(push, "app", image, imageBlobs, "1.0");
        var (chartConfig, chartLayer, chart) = Arca.Tests.Http.Oci.OciTestContent.HelmChartArtifact("webchart", "0.4.0", "1.2.3");
        await PushAsync(push, "webchart", chart, [chartConfig, chartLayer], "0.4.0");
        var config = Config(Password, """
              - artifactType: HELM
                sourceRegistry: docker-hosted
                destinationRegistry: nexus-helm
              - artifactType: DOCKER
                sourceRegistry: docker-hosted
                destinationRegistry: nexus-docker
            """);
        var first = await MigrateAsync(_work, config, new Dictionary<string, string?>(), "--format", "json");
        first.AssertOk("helm migration from the Nexus emulator");
        Assert.Equal(1, Mapping(first, 0).GetProperty("succeeded").GetInt32());
        Assert.Equal(1, Mapping(first, 1).GetProperty("succeeded").GetInt32());
        using var arca = BasicClient(_arca.BaseUrl, "admin", _arca.AdminToken);
        Assert.Equal(chart.Digest, await ManifestDigestAsync(arca, "nexus-helm/webchart", "0.4.0"));
        Assert.Equal(chartConfig.Bytes, await arca.GetByteArrayAsync($"v2/nexus-helm/webchart/blobs/{chartConfig.Digest}"));
        Assert.Null(await ManifestDigestAsync(arca, "nexus-helm/app", "1.0"));
        Assert.Equal(image.Digest, await ManifestDigestAsync(arca, "nexus-docker/app", "1.0"));
        Assert.Null(await ManifestDigestAsync(arca, "nexus-docker/webchart", "0.4.0"));
        // The chart is a chart at the destination: the classic repository view lists it with its archive digest.
        var index = await _arca.Admin.GetStringAsync("pkg/nexus-helm/helm/index.yaml");
        Assert.Contains("webchart:", index);
        Assert.Contains("version: 0.4.0", index);
        Assert.Contains(chartLayer.Digest["sha256:".Length..], index);

        var second = await MigrateAsync(_work, config, new Dictionary<string, string?>(), "--format", "json");
        second.AssertOk("rerun");
        Assert.Equal(1, Mapping(second, 0).GetProperty("skipped").GetInt32());
        Assert.Equal(1, Mapping(second, 1).GetProperty("skipped").GetInt32());
    }

    [Fact]
    public async Task Proxy_group_wrong_format_unknown_and_go_repositories_are_refused_with_the_reason()
    {
        Repository("raw-hosted", "raw", new Dictionary<string, byte[]> { ["p/1/f.bin"] = Random(64) });
        Repository("libs-release", "maven2", new Dictionary<string, byte[]> { ["org/acme/lib/1.0/lib-1.0.pom"] = Pom("org.acme", "lib", "1.0") });
        _nexus.AddProxyRepository("maven-central", "maven2", "https://repo1.maven.org/maven2/");
        _nexus.AddGroupRepository("raw-all", "raw", "raw-hosted", "raw-proxy");
        _nexus.AddProxyRepository("go-proxy", "go", "https://proxy.golang.org/");
        var config = Config(Password, """
              - artifactType: MAVEN
                sourceRegistry: maven-central
                destinationRegistry: refused-proxy
              - artifactType: GENERIC
                sourceRegistry: raw-all
                destinationRegistry: refused-group
              - artifactType: MAVEN
                sourceRegistry: raw-hosted
                destinationRegistry: refused-format
              - artifactType: NPM
                sourceRegistry: no-such-repo
                destinationRegistry: refused-unknown
              - artifactType: GO
                sourceRegistry: go-proxy
                destinationRegistry: refused-go
              - artifactType: MAVEN
                sourceRegistry: libs-release
                destinationRegistry: accepted-maven
            """);
        var report = Path.Combine(_work, "refused.json");
        var run = await MigrateAsync(_work, config, new Dictionary<string, string?>(), "--report", report);
        Assert.NotEqual(0, run.ExitCode);
        var errors = ReportItems(report).Where(i => !i.TryGetProperty("item", out _)) // mapping-level failures
            .ToDictionary(i => i.GetProperty("mapping").GetString()!, i => i.GetProperty("error").GetString()!);
        Assert.Equal(5, errors.Count);
        Assert.Contains("maven-central is a proxy repository of https://repo1.maven.org/maven2/", errors["maven-central->refused-proxy (MAVEN)"]);
        Assert.Contains("raw-all is a group repository", errors["raw-all->refused-group (GENERIC)"]);
        Assert.Contains("members: raw-hosted, raw-proxy", errors["raw-all->refused-group (GENERIC)"]);
        Assert.Contains("raw-hosted is a raw repository, but artifact type MAVEN is migrated from a maven2 repository (a raw repository migrates as GENERIC)",
            errors["raw-hosted->refused-format (MAVEN)"]);
        Assert.Contains("no repository named no-such-repo", errors["no-such-repo->refused-unknown (NPM)"]);
        Assert.Contains("Nexus Repository 3 has no hosted Go repositories", errors["go-proxy->refused-go (GO)"]);
        Assert.Contains("listing raw-all->refused-group (GENERIC) failed: raw-all is a group repository", run.Stderr); // the console says why too
        // Nothing was listed from a refused repository; the fitting one migrated.
        Assert.DoesNotContain(_nexus.Server.Requests, r => r.Path.Contains("repository=maven-central") || r.Path.Contains("repository=raw-all")
            || r.Path.Contains("repository=raw-hosted") || r.Path.Contains("repository=no-such-repo"));
        Assert.Contains(ReportItems(report), i => i.TryGetProperty("item", out var item) && item.GetString() == "org/acme/lib/1.0/lib-1.0.pom"
            && i.GetProperty("status").GetString() == "succeeded");
    }

    [Fact]
    public async Task Without_rights_to_read_the_repository_configuration_the_check_is_skipped_and_the_migration_runs()
    {
        _nexus.RepositoriesForbidden = true;
        var file = Random(128);
        Repository("raw-unchecked", "raw", new Dictionary<string, byte[]> { ["tool/2.0/tool.bin"] = file });
        var config = Config(Password, """
              - artifactType: GENERIC
                sourceRegistry: raw-unchecked
                destinationRegistry: nexus-unchecked
            """);
        (await MigrateAsync(_work, config, new Dictionary<string, string?>())).AssertOk("migration without the repositories API");
        Assert.Contains(_nexus.Server.Requests, r => r.Path == "/service/rest/v1/repositories");
        Assert.Equal(Convert.ToHexStringLower(SHA256.HashData(file)), await Sha256AtAsync("pkg/nexus-unchecked/generic/tool/2.0/tool.bin"));
    }
}
