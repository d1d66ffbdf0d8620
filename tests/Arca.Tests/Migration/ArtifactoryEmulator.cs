using System.Collections.Concurrent;
using System.Formats.Tar;
using System.Net.Http.Headers;
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

/// <summary>
/// An EMULATOR of JFrog Artifactory's documented REST shapes (not Artifactory): a small Kestrel app under
/// <c>/artifactory</c> serving local repositories from directories on disk (<c>root/&lt;repo&gt;/&lt;path&gt;</c>):
/// <list type="bullet">
/// <item>the repository configuration <c>GET /api/repositories/&lt;key&gt;</c> (<c>key, rclass, packageType</c>, a
/// virtual repository's <c>repositories</c>, a remote one's <c>url</c>) for repositories declared with
/// <see cref="AddRepository"/>; 400 "does not exist" otherwise; 403 for everyone when <see cref="RepositoryConfigForbidden"/>;</item>
/// <item>AQL, <c>POST /api/search/aql</c> with <c>Content-Type: text/plain</c> (else 415), parsed for real (see
/// <see cref="ArtifactoryAql"/>): <c>items.find({"repo":…,"type":"file"}).include(…).sort({"$asc":[…]}).offset(n).limit(n)</c>,
/// answering <c>{"results":[…],"range":{"start_pos","end_pos","total"}}</c> with root files at path "."; a per-user
/// result cap like Artifactory's userQueryLimit (<see cref="AqlUserQueryLimit"/>: results trimmed, <c>range.limit</c>
/// and <c>notification</c> added), a server ignoring offset (<see cref="AqlIgnoresOffset"/>) and an edition/user
/// without AQL (<see cref="AqlForbidden"/>: 403); every query body is logged in <see cref="AqlQueries"/>;</item>
/// <item>(<see cref="StorageListForbidden"/>: the storage list answers 403 too.)</item>
/// <item>the deep file list <c>GET /api/storage/&lt;repo&gt;?list&amp;deep=1&amp;listFolders=0</c> (file <c>uri</c>s
/// relative to the repository with a leading "/", size, sha1, sha2; <c>size</c> as a number, or as a string for
/// repositories named in <see cref="StringSizeRepos"/> like the documentation's sample);</item>
/// <item>downloads from <c>/&lt;repo&gt;/&lt;path&gt;</c> (percent-decoded segments), the npm, PyPI, NuGet and Helm APIs
/// of local repositories, and the Docker registry API <c>/api/docker/&lt;repo&gt;/v2/</c> proxied to a real docker-registry;</item>
/// <item>Artifactory's error body <c>{"errors":[{"status","message"}]}</c>, and authentication required on every
/// request, the Docker API included: Basic user:password, or <c>Bearer &lt;access token&gt;</c> (Basic with any other
/// user and the token is refused).</item>
/// </list>
/// </summary>
internal sealed class ArtifactoryEmulator : IAsyncDisposable
{
    private readonly string _root, _user, _password, _token;
    public LoopbackHttpServer Server { get; private set; } = null!;
    public HashSet<string> StringSizeRepos { get; } = [];
    public bool RepositoryConfigForbidden { get; set; }
    public bool AqlForbidden { get; set; }
    public bool StorageListForbidden { get; set; }
    public bool AqlIgnoresOffset { get; set; }
    public int? AqlUserQueryLimit { get; set; }
    public ConcurrentQueue<string> AqlQueries { get; } = new();
    private readonly ConcurrentDictionary<string, JsonObject> _repositories = new(StringComparer.Ordinal);

    /// <summary>Declares a repository's configuration (what <c>GET /api/repositories/&lt;key&gt;</c> answers).</summary>
    public void AddRepository(string key, string rclass, string packageType, params string[] members)
    {
        var config = new JsonObject
        {
            ["key"] = key, ["rclass"] = rclass, ["packageType"] = packageType, ["description"] = "", ["notes"] = "",
            ["includesPattern"] = "**/*", ["excludesPattern"] = "", ["repoLayoutRef"] = "simple-default",
        };
        if (rclass == "virtual") config["repositories"] = new JsonArray(members.Select(m => (JsonNode)JsonValue.Create(m)!).ToArray());
        if (rclass == "remote") config["url"] = "https://upstream.example/" + packageType;
        if (rclass == "local") Directory.CreateDirectory(Path.Combine(_root, key));
        _repositories[key] = config;
    }
    /// <summary>The Artifactory base URL (what a migration config names as the endpoint).</summary>
    public string BaseUrl => Server.BaseUrl + "/artifactory";

    private ArtifactoryEmulator(string root, string user, string password, string token)
    {
        _root = root; _user = user; _password = password; _token = token;
    }

    public static async Task<ArtifactoryEmulator> StartAsync(string root, string user, string password, string token)
    {
        var emulator = new ArtifactoryEmulator(root, user, password, token);
        emulator.Server = await LoopbackHttpServer.StartAsync((ctx, _) => emulator.HandleAsync(ctx));
        return emulator;
    }

    private readonly Dictionary<string, HttpClient> _dockerRepositories = new(StringComparer.Ordinal);

    /// <summary>A docker repository: its registry API at <c>/artifactory/api/docker/R/v2/</c> is proxied to a real docker-registry.</summary>
    public void AddDockerRepository(string name, string backingBaseUrl) => _dockerRepositories[name] = new HttpClient { BaseAddress = new Uri(backingBaseUrl + "/") };

    private async Task HandleAsync(HttpContext ctx)
    {
        var raw = ctx.Features.Get<IHttpRequestFeature>()!.RawTarget;
        var path = raw.Split('?')[0];
        if (!path.StartsWith("/artifactory/", StringComparison.Ordinal)) { await ErrorAsync(ctx, 404, "Not Found"); return; }
        var auth = ctx.Request.Headers.Authorization.ToString();
        if (auth != $"Bearer {_token}" && auth != "Basic " + Convert.ToBase64String(Encoding.UTF8.GetBytes($"{_user}:{_password}")))
        {
            ctx.Response.Headers.WWWAuthenticate = "Basic realm=\"Artifactory Realm\"";
            await ErrorAsync(ctx, 401, auth.Length == 0 ? "Authentication is required" : "Bad credentials");
            return;
        }
        var dockerPrefix = path["/artifactory/".Length..].Split('/');
        if (dockerPrefix is ["api", "docker", var dockerRepo, "v2", ..] && _dockerRepositories.TryGetValue(dockerRepo, out var backing))
        {
            var v2 = raw[$"/artifactory/api/docker/{dockerRepo}".Length..];
            await RegistryPathProxy.ForwardAsync(ctx, backing, v2, 2);
            return;
        }
        var segments = path["/artifactory/".Length..].Split('/').Select(Uri.UnescapeDataString).ToArray();
        if (segments is ["api", "search", "aql"])
        {
            await AqlAsync(ctx);
            return;
        }
        if (ctx.Request.Method != "GET") { await ErrorAsync(ctx, 405, "Method not allowed"); return; }
        if (segments is ["api", "repositories", var configKey])
        {
            if (RepositoryConfigForbidden) await ErrorAsync(ctx, 403, "Forbidden");
            else if (_repositories.TryGetValue(configKey, out var config)) await JsonAsync(ctx, 200, config.DeepClone());
            else await ErrorAsync(ctx, 400, $"Repository {configKey} does not exist");
            return;
        }
        if (segments is ["api", "pypi", var pypiRepo, .. var pypiRest] && pypiRest.Length > 0)
        {
            await PyPIAsync(ctx, pypiRepo, pypiRest);
            return;
        }
        if (segments is ["api", "npm", var npmRepo, .. var rest] && rest.Length > 0)
        {
            await NpmAsync(ctx, npmRepo, string.Join('/', rest));
            return;
        }
        if (segments is ["api", "storage", var repo] && ctx.Request.Query.ContainsKey("list") && ctx.Request.Query["deep"] == "1" && ctx.Request.Query["listFolders"] == "0")
        {
            await ListAsync(ctx, repo);
            return;
        }
        // The NuGet v3 feed and Helm index of a repository: served from that repository's files (<repo>/index.json, index.yaml...).
        var feedFile = false;
        if (segments is ["api", "nuget", "v3", var nugetRepo, .. var nugetRest] && nugetRest.Length > 0) (segments, feedFile) = ([nugetRepo, .. nugetRest], true);
        else if (segments is ["api", "helm", var helmRepo, .. var helmRest] && helmRest.Length > 0) (segments, feedFile) = ([helmRepo, .. helmRest], true);
        if ((segments[0] == "api" && !feedFile) || segments.Length < 2 || segments.Any(s => s is "" or "." or ".." || s.Contains('\\')))
        {
            await ErrorAsync(ctx, 400, "Unsupported request");
            return;
        }
        var file = Path.Combine([_root, .. segments]);
        if (!File.Exists(file)) { await ErrorAsync(ctx, 404, "Could not find resource"); return; }
        ctx.Response.ContentType = "application/octet-stream";
        ctx.Response.ContentLength = new FileInfo(file).Length;
        ctx.Response.Headers["X-Checksum-Sha256"] = Hash(SHA256.Create(), file);
        await ctx.Response.SendFileAsync(file, ctx.RequestAborted);
    }

    private async Task ListAsync(HttpContext ctx, string repo)
    {
        if (StorageListForbidden) { await ErrorAsync(ctx, 403, "Forbidden"); return; }
        var dir = Path.Combine(_root, repo);
        if (repo is "" or "." or ".." || !Directory.Exists(dir)) { await ErrorAsync(ctx, 404, "Unable to find item"); return; }
        var asString = StringSizeRepos.Contains(repo);
        var files = new JsonArray();
        foreach (var file in Directory.EnumerateFiles(dir, "*", SearchOption.AllDirectories).Order(StringComparer.Ordinal))
        {
            var length = new FileInfo(file).Length;
            files.Add(new JsonObject
            {
                ["uri"] = "/" + Path.GetRelativePath(dir, file).Replace('\\', '/'),
                ["size"] = asString ? JsonValue.Create(length.ToString()) : JsonValue.Create(length),
                ["lastModified"] = "2024-05-01T10:00:00.000Z", ["folder"] = asString ? JsonValue.Create("false") : JsonValue.Create(false),
                ["sha1"] = Hash(SHA1.Create(), file), ["sha2"] = Hash(SHA256.Create(), file),
                ["mdTimestamps"] = new JsonObject { ["properties"] = "2024-05-01T10:00:00.000Z" },
            });
        }
        await JsonAsync(ctx, 200, new JsonObject { ["uri"] = $"{BaseUrl}/api/storage/{repo}", ["created"] = "2024-05-01T09:00:00.000Z", ["files"] = files });
    }

    private async Task AqlAsync(HttpContext ctx)
    {
        if (ctx.Request.Method != "POST") { await ErrorAsync(ctx, 405, "Method not allowed"); return; }
        if (!MediaTypeHeaderValue.TryParse(ctx.Request.ContentType, out var type) || type.MediaType != "text/plain")
        {
            await ErrorAsync(ctx, 415, "Unsupported Media Type: AQL takes text/plain");
            return;
        }
        if (AqlForbidden) { await ErrorAsync(ctx, 403, "AQL is not available for this user"); return; }
        using var reader = new StreamReader(ctx.Request.Body, Encoding.UTF8);
        var body = await reader.ReadToEndAsync(ctx.RequestAborted);
        AqlQueries.Enqueue(body);
        ArtifactoryAql.Query query;
        try { query = ArtifactoryAql.Parse(body); }
        catch (FormatException e) { await ErrorAsync(ctx, 400, $"Failed to parse query: {e.Message}"); return; }

        var dir = Path.Combine(_root, query.Repo);
        var files = query.Repo is "" or "." or ".." || query.Repo.Contains('/') || !Directory.Exists(dir) ? []
            : Directory.EnumerateFiles(dir, "*", SearchOption.AllDirectories).Select(f =>
            {
                var folder = Path.GetRelativePath(dir, Path.GetDirectoryName(f)!).Replace('\\', '/');
                return (Path: folder, Name: Path.GetFileName(f), File: f);
            }).ToList();
        IEnumerable<(string Path, string Name, string File)> sorted = files;
        foreach (var field in query.SortAscending.Reverse()) // the first sort field is the primary key
            sorted = sorted.OrderBy(x => field == "path" ? x.Path : x.Name, StringComparer.Ordinal);
        var limit = query.Limit ?? int.MaxValue;
        var trimmed = AqlUserQueryLimit is { } cap && cap < limit;
        if (trimmed) limit = AqlUserQueryLimit!.Value;
        var offset = AqlIgnoresOffset ? 0 : query.Offset ?? 0;
        var page = sorted.Skip(offset).Take(limit).ToList();
        var results = new JsonArray();
        foreach (var (folder, name, file) in page)
        {
            var all = new Dictionary<string, Func<JsonNode?>>
            {
                ["repo"] = () => query.Repo, ["path"] = () => folder, ["name"] = () => name, ["type"] = () => "file",
                ["size"] = () => new FileInfo(file).Length, ["created"] = () => "2024-05-01T10:00:00.000Z",
                ["modified"] = () => "2024-05-01T10:00:00.000Z", ["actual_sha1"] = () => Hash(SHA1.Create(), file),
                ["actual_md5"] = () => Hash(MD5.Create(), file), ["sha256"] = () => Hash(SHA256.Create(), file),
            };
            var item = new JsonObject();
            foreach (var field in query.Include.Count > 0 ? query.Include : ["repo", "path", "name", "type", "size", "created", "modified"])
                if (all.TryGetValue(field, out var value)) item[field] = value();
            results.Add(item);
        }
        var range = new JsonObject { ["start_pos"] = offset, ["end_pos"] = offset + page.Count, ["total"] = page.Count };
        if (trimmed)
        {
            range["limit"] = limit;
            range["notification"] = $"AQL search results are limited to {limit} items for non-admin users";
        }
        await JsonAsync(ctx, 200, new JsonObject { ["results"] = results, ["range"] = range });
    }

    /// <summary>The npm API of a local npm repository: a stored path (<c>name/-/name-1.0.0.tgz</c>) is the tarball,
    /// anything else a package name whose packument is built from the tarballs stored under <c>name/-/</c>.</summary>
    private async Task NpmAsync(HttpContext ctx, string repo, string rest)
    {
        var dir = Path.Combine(_root, repo);
        if (!Directory.Exists(dir) || rest.Split('/').Any(s => s is "" or "." or "..")) { await ErrorAsync(ctx, 404, "Unable to find item"); return; }
        var stored = Path.Combine([dir, .. rest.Split('/')]);
        if (File.Exists(stored))
        {
            ctx.Response.ContentType = "application/octet-stream";
            await ctx.Response.SendFileAsync(stored, ctx.RequestAborted);
            return;
        }
        var tarballs = Path.Combine([dir, .. rest.Split('/'), "-"]);
        if (!Directory.Exists(tarballs)) { await ErrorAsync(ctx, 404, $"Package '{rest}' not found"); return; }
        var versions = new JsonObject();
        string? latest = null;
        foreach (var tgz in Directory.EnumerateFiles(tarballs, "*.tgz", SearchOption.AllDirectories).Order(StringComparer.Ordinal))
        {
            var manifest = PackageJson(tgz);
            var version = manifest["version"]!.GetValue<string>();
            var bytes = File.ReadAllBytes(tgz);
            manifest["dist"] = new JsonObject
            {
                ["tarball"] = $"{BaseUrl}/api/npm/{repo}/{string.Join('/', Path.GetRelativePath(dir, tgz).Split(Path.DirectorySeparatorChar).Select(Uri.EscapeDataString))}",
                ["shasum"] = Convert.ToHexStringLower(SHA1.HashData(bytes)),
                ["integrity"] = "sha512-" + Convert.ToBase64String(SHA512.HashData(bytes)),
            };
            versions[version] = manifest;
            latest = version;
        }
        await JsonAsync(ctx, 200, new JsonObject { ["name"] = rest, ["dist-tags"] = new JsonObject { ["latest"] = latest }, ["versions"] = versions });
    }

    /// <summary>The PyPI API of a local PyPI repository stored as <c>name/version/file</c>: PEP 503 HTML pages at
    /// <c>simple/</c> and <c>simple/&lt;name&gt;/</c> (hrefs relative, with <c>#sha256=</c>), files at the stored path.</summary>
    private async Task PyPIAsync(HttpContext ctx, string repo, string[] rest)
    {
        var dir = Path.Combine(_root, repo);
        if (!Directory.Exists(dir) || rest.Any(s => s is "." or "..")) { await ErrorAsync(ctx, 404, "Unable to find item"); return; }
        string Html(IEnumerable<string> anchors) => "<!DOCTYPE html>\n<html><head><title>Simple Index</title></head><body>\n" + string.Concat(anchors) + "</body></html>\n";
        var projects = Directory.EnumerateDirectories(dir).Select(Path.GetFileName).Where(n => !n!.StartsWith('.')).Order(StringComparer.Ordinal).ToList();
        rest = rest is [.., ""] ? rest[..^1] : rest; // "simple/" and "simple/<name>/" as "simple" and "simple/<name>"
        switch (rest)
        {
            case ["simple"]:
                ctx.Response.ContentType = "text/html";
                await ctx.Response.WriteAsync(Html(projects.Select(p => $"<a href=\"{p}/\">{p}</a><br/>\n")));
                return;
            case ["simple", var project]:
                if (!projects.Contains(project)) { await ErrorAsync(ctx, 404, $"Project {project} not found"); return; }
                ctx.Response.ContentType = "text/html";
                var files = Directory.EnumerateFiles(Path.Combine(dir, project), "*", SearchOption.AllDirectories).Order(StringComparer.Ordinal);
                await ctx.Response.WriteAsync(Html(files.Select(f =>
                    $"<a href=\"../../{string.Join('/', Path.GetRelativePath(dir, f).Split(Path.DirectorySeparatorChar).Select(Uri.EscapeDataString))}#sha256={Hash(SHA256.Create(), f)}\" data-requires-python=\"&gt;=3.8\">{Path.GetFileName(f)}</a><br/>\n")));
                return;
        }
        var stored = Path.Combine([dir, .. rest]);
        if (!File.Exists(stored)) { await ErrorAsync(ctx, 404, "Could not find resource"); return; }
        ctx.Response.ContentType = "application/octet-stream";
        await ctx.Response.SendFileAsync(stored, ctx.RequestAborted);
    }

    private static JsonObject PackageJson(string tgz)
    {
        using var file = File.OpenRead(tgz);
        using var gzip = new GZipStream(file, CompressionMode.Decompress);
        using var tar = new TarReader(gzip);
        while (tar.GetNextEntry() is { } entry)
            if (entry.Name == "package/package.json")
                return (JsonObject)JsonNode.Parse(entry.DataStream!)!;
        throw new InvalidDataException($"{tgz}: no package/package.json");
    }

    private static string Hash(HashAlgorithm algorithm, string file)
    {
        using (algorithm)
        using (var stream = File.OpenRead(file))
            return Convert.ToHexStringLower(algorithm.ComputeHash(stream));
    }

    private static Task JsonAsync(HttpContext ctx, int status, JsonNode body)
    {
        ctx.Response.StatusCode = status;
        ctx.Response.ContentType = "application/json";
        return ctx.Response.WriteAsync(body.ToJsonString());
    }

    private static Task ErrorAsync(HttpContext ctx, int status, string message) =>
        JsonAsync(ctx, status, new JsonObject { ["errors"] = new JsonArray(new JsonObject { ["status"] = status, ["message"] = message }) });

    public ValueTask DisposeAsync() => Server.DisposeAsync();
}
