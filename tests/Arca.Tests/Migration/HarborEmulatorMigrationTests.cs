using System.Collections.Concurrent;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Arca.Tests.Clients.ImageCopy;
using Arca.Tests.Http.Endpoints;
using Arca.Tests.Http.Oci;
using Arca.Tests.Infrastructure;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using static Arca.Tests.Migration.OciMigrationSupport;

namespace Arca.Tests.Migration;

/// <summary>
/// An EMULATOR of Harbor (not a real Harbor): a small Kestrel app serving the documented API v2.0 shapes
/// (projects, repositories with "project/" names, artifacts with tags and digests, type IMAGE/CHART, the
/// twice-URL-encoded repository_name, page/page_size with Link rel="next" and X-Total-Count, Harbor's error body)
/// computed from a real docker-registry behind it, plus Harbor's registry side: /v2 behind a Bearer token from
/// /service/token (service "harbor-registry"), proxied read-only to that docker-registry. The emulator's page size
/// is at most 2 so every listing spans several pages.
/// </summary>
internal sealed class HarborEmulator : IAsyncDisposable
{
    public const int MaxPageSize = 2;
    private readonly DockerRegistryServer _backing;
    private readonly HttpClient _backingHttp;
    private readonly string _user, _password;
    private readonly string _token = "emulated-harbor-token-" + Guid.NewGuid().ToString("N");
    public LoopbackHttpServer Server { get; private set; } = null!;
    /// <summary>Request targets exactly as sent (path still encoded), for checking the double encoding.</summary>
    public ConcurrentQueue<string> RawTargets { get; } = new();
    public string BaseUrl => Server.BaseUrl;

    private HarborEmulator(DockerRegistryServer backing, string user, string password)
    {
        _backing = backing; _user = user; _password = password;
        _backingHttp = new HttpClient { BaseAddress = new Uri(backing.BaseUrl + "/") };
    }

    public static async Task<HarborEmulator> StartAsync(DockerRegistryServer backing, string user, string password)
    {
        var emulator = new HarborEmulator(backing, user, password);
        emulator.Server = await LoopbackHttpServer.StartAsync((ctx, _) => emulator.HandleAsync(ctx));
        return emulator;
    }

    private async Task HandleAsync(HttpContext ctx)
    {
        var raw = ctx.Features.Get<IHttpRequestFeature>()!.RawTarget;
        RawTargets.Enqueue(raw);
        var path = raw.Split('?')[0];
        if (path == "/service/token")
        {
            if (!BasicOk(ctx)) { await ErrorAsync(ctx, 401, "UNAUTHORIZED", "unauthorized"); return; }
            await JsonAsync(ctx, new JsonObject { ["token"] = _token, ["access_token"] = _token, ["expires_in"] = 1800 });
            return;
        }
        if (path.StartsWith("/v2/", StringComparison.Ordinal) || path == "/v2")
        {
            if (ctx.Request.Headers.Authorization.ToString() != $"Bearer {_token}")
            {
                ctx.Response.StatusCode = 401;
                ctx.Response.Headers.WWWAuthenticate = $"Bearer realm=\"{BaseUrl}/service/token\",service=\"harbor-registry\"";
                await ctx.Response.WriteAsync("{\"errors\":[{\"code\":\"UNAUTHORIZED\",\"message\":\"unauthorized to access repository\"}]}");
                return;
            }
            await ProxyAsync(ctx, raw);
            return;
        }
        if (!path.StartsWith("/api/v2.0/", StringComparison.Ordinal)) { await ErrorAsync(ctx, 404, "NOT_FOUND", "not found"); return; }
        if (!BasicOk(ctx)) { await ErrorAsync(ctx, 401, "UNAUTHORIZED", "unauthorized"); return; }

        var segments = path["/api/v2.0/".Length..].Split('/');
        switch (segments)
        {
            case ["projects"]:
                await PagedAsync(ctx, path, (await CatalogAsync()).Select(r => r.Split('/')[0]).Distinct()
                    .Select((name, i) => (JsonNode)new JsonObject { ["project_id"] = i + 1, ["name"] = name, ["metadata"] = new JsonObject { ["public"] = "false" } }).ToList());
                return;
            case ["projects", var project, "repositories"]:
            {
                var p = Uri.UnescapeDataString(project);
                var repos = (await CatalogAsync()).Where(r => r.StartsWith(p + "/", StringComparison.Ordinal)).ToList();
                await PagedAsync(ctx, path, repos.Select((name, i) => (JsonNode)new JsonObject
                {
                    ["id"] = i + 1, ["project_id"] = 1, ["name"] = name, ["description"] = "", ["artifact_count"] = 1, ["pull_count"] = 0,
                    ["creation_time"] = "2024-01-02T00:00:00.000Z", ["update_time"] = "2024-01-03T00:00:00.000Z",
                }).ToList());
                return;
            }
            case ["projects", var project, "repositories", var repository, "artifacts"]:
            {
                // repository_name is URL-encoded twice: one decode yields "a%2Fb", the second "a/b". Like Harbor's
                // router, a once-encoded "a%2Fb" does not name a repository.
                if (repository.Contains("%2F", StringComparison.OrdinalIgnoreCase)) { await ErrorAsync(ctx, 404, "NOT_FOUND", "repository not found"); return; }
                var name = Uri.UnescapeDataString(project) + "/" + Uri.UnescapeDataString(Uri.UnescapeDataString(repository));
                if (!(await CatalogAsync()).Contains(name)) { await ErrorAsync(ctx, 404, "NOT_FOUND", $"repository {name} not found"); return; }
                await PagedAsync(ctx, path, await ArtifactsAsync(name));
                return;
            }
            default:
                await ErrorAsync(ctx, 404, "NOT_FOUND", "not found");
                return;
        }
    }

    private bool BasicOk(HttpContext ctx) =>
        ctx.Request.Headers.Authorization.ToString() == "Basic " + Convert.ToBase64String(Encoding.UTF8.GetBytes($"{_user}:{_password}"));

    private async Task<List<string>> CatalogAsync() =>
        JsonDocument.Parse(await _backingHttp.GetStringAsync("v2/_catalog?n=1000")).RootElement.GetProperty("repositories")
            .EnumerateArray().Select(r => r.GetString()!).ToList();

    /// <summary>Harbor's artifact list: one entry per manifest digest with its tags; accessories (referrers) and
    /// their fallback tags are not artifacts of their own here.</summary>
    private async Task<List<JsonNode>> ArtifactsAsync(string repository)
    {
        var tags = JsonDocument.Parse(await _backingHttp.GetStringAsync($"v2/{repository}/tags/list")).RootElement.GetProperty("tags")
            .EnumerateArray().Select(t => t.GetString()!).Where(t => !t.StartsWith("sha256-", StringComparison.Ordinal)).Order(StringComparer.Ordinal).ToList();
        var byDigest = new Dictionary<string, JsonObject>();
        var order = new List<string>();
        foreach (var tag in tags)
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, $"v2/{repository}/manifests/{tag}");
            foreach (var type in new[] { OciTestContent.OciIndex, OciTestContent.OciManifest }) request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue(type));
            using var response = await _backingHttp.SendAsync(request);
            response.EnsureSuccessStatusCode();
            var bytes = await response.Content.ReadAsByteArrayAsync();
            var digest = OciTestContent.Sha256(bytes);
            if (!byDigest.TryGetValue(digest, out var artifact))
            {
                var manifest = JsonNode.Parse(bytes)!;
                var configType = manifest["config"]?["mediaType"]?.ToString();
                long size = bytes.Length + (manifest["layers"]?.AsArray().Sum(l => (long)l!["size"]!) ?? 0) + ((long?)manifest["config"]?["size"] ?? 0);
                artifact = new JsonObject
                {
                    ["id"] = byDigest.Count + 1, ["type"] = configType == OciTestContent.HelmConfig ? "CHART" : "IMAGE",
                    ["media_type"] = configType ?? manifest["mediaType"]?.ToString(), ["manifest_media_type"] = manifest["mediaType"]?.ToString(),
                    ["repository_name"] = repository, ["digest"] = digest, ["size"] = size,
                    ["push_time"] = "2024-07-17T21:56:03.652Z", ["annotations"] = null, ["labels"] = null, ["references"] = null,
                    ["tags"] = new JsonArray(),
                };
                byDigest[digest] = artifact;
                order.Add(digest);
            }
            artifact["tags"]!.AsArray().Add(new JsonObject
            {
                ["id"] = tags.IndexOf(tag) + 1, ["artifact_id"] = artifact["id"]!.GetValue<int>(), ["name"] = tag,
                ["push_time"] = "2024-07-17T21:56:03.700Z", ["immutable"] = false,
            });
        }
        return order.Select(d => (JsonNode)byDigest[d]).ToList();
    }

    /// <summary>page/page_size (capped at <see cref="MaxPageSize"/>), X-Total-Count and Link prev/next joined with " , ".</summary>
    private static async Task PagedAsync(HttpContext ctx, string path, List<JsonNode> all)
    {
        var page = int.TryParse(ctx.Request.Query["page"], out var p) && p > 0 ? p : 1;
        var size = int.TryParse(ctx.Request.Query["page_size"], out var s) && s > 0 ? Math.Min(s, MaxPageSize) : MaxPageSize;
        var others = string.Concat(ctx.Request.Query.Where(q => q.Key is not "page" and not "page_size").Select(q => $"&{q.Key}={Uri.EscapeDataString(q.Value.ToString())}"));
        var links = new List<string>();
        if (page > 1) links.Add($"<{path}?page={page - 1}&page_size={size}{others}>; rel=\"prev\"");
        if ((long)page * size < all.Count) links.Add($"<{path}?page={page + 1}&page_size={size}{others}>; rel=\"next\"");
        ctx.Response.Headers["X-Total-Count"] = all.Count.ToString();
        if (links.Count > 0) ctx.Response.Headers["Link"] = string.Join(" , ", links);
        await JsonAsync(ctx, new JsonArray(all.Skip((page - 1) * size).Take(size).Select(n => n.DeepClone()).ToArray()));
    }

    private async Task ProxyAsync(HttpContext ctx, string raw)
    {
        if (ctx.Request.Method is not ("GET" or "HEAD")) { await ErrorAsync(ctx, 405, "METHOD_NOT_ALLOWED", "the emulator is read-only"); return; }
        using var request = new HttpRequestMessage(new HttpMethod(ctx.Request.Method), raw.TrimStart('/'));
        foreach (var accept in ctx.Request.Headers.Accept) request.Headers.TryAddWithoutValidation("Accept", accept);
        using var response = await _backingHttp.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, ctx.RequestAborted);
        ctx.Response.StatusCode = (int)response.StatusCode;
        foreach (var (name, values) in response.Headers.Concat(response.Content.Headers))
            if (name is not ("Transfer-Encoding" or "Connection" or "Date" or "Server"))
                ctx.Response.Headers[name] = values.ToArray();
        if (ctx.Request.Method == "GET") await response.Content.CopyToAsync(ctx.Response.Body, ctx.RequestAborted);
    }

    private static Task JsonAsync(HttpContext ctx, JsonNode body)
    {
        ctx.Response.ContentType = "application/json";
        return ctx.Response.WriteAsync(body.ToJsonString());
    }

    private static Task ErrorAsync(HttpContext ctx, int status, string code, string message)
    {
        ctx.Response.StatusCode = status;
        return JsonAsync(ctx, new JsonObject { ["errors"] = new JsonArray(new JsonObject { ["code"] = code, ["message"] = message }) });
    }

    public async ValueTask DisposeAsync()
    {
        await Server.DisposeAsync();
        _backingHttp.Dispose();
    }
}

/// <summary>`arca registry migrate` from the Harbor EMULATOR above (type HARBOR) into Arca: images (with a
/// multi-arch index and its referrer) and OCI Helm charts, listed over several pages.</summary>
public sealed class HarborEmulatorMigrationTests : IAsyncLifetime
{
    private DockerRegistryServer _registry = null!;
    private HarborEmulator _harbor = null!;
    private TestServer _arca = null!;
    private HttpClient _arcaHttp = null!;
    private string _work = null!;
    private OciTestImage? _nginx;

    public async Task InitializeAsync()
    {
        _registry = await DockerRegistryServer.StartAsync();
        _harbor = await HarborEmulator.StartAsync(_registry, "robot$migrate", "harbor-pw");
        _arca = await TestServer.StartAsync();
        _arcaHttp = _arca.CreateClient(_arca.AdminToken);
        _work = TempDir.Create("migrate-harbor");
    }

    public async Task DisposeAsync()
    {
        _arcaHttp.Dispose();
        await _harbor.DisposeAsync();
        await _registry.DisposeAsync();
        await _arca.DisposeAsync();
        if (_nginx is not null) TempDir.TryDelete(_nginx.LayoutDir);
        TempDir.TryDelete(_work);
    }

    [Fact]
    public async Task Migrates_a_harbor_project_images_and_charts_over_several_pages_then_a_rerun_moves_nothing()
    {
        _nginx = OciTestImage.Create("1.25", "harbor-" + Guid.NewGuid().ToString("N"), largeLayerBytes: 256 * 1024);
        await _nginx.PushWithSkopeoAsync(_registry, "library/nginx");
        using var registry = BasicClient(_registry.BaseUrl, null, null);
        var busybox = new List<string>();
        foreach (var version in new[] { "1", "2", "3" })
        {
            var (manifest, blobs) = RandomImage("busybox-" + version, 8 * 1024);
            await PushAsync(registry, "library/busybox", manifest, blobs, version == "3" ? ["3", "stable"] : [version]);
            busybox.Add(manifest.Digest);
        }
        var (cli, cliBlobs) = RandomImage("cli", 4096);
        await PushAsync(registry, "library/tools/cli", cli, cliBlobs, "1.0");
        var charts = new List<string>();
        foreach (var version in new[] { "0.1.0", "0.2.0" })
        {
            var (config, layer, chart) = OciTestContent.HelmChartArtifact("mychart", version, "1.0");
            await PushAsync(registry, "library/charts/mychart", chart, [config, layer], version);
            charts.Add(chart.Digest);
        }
        await PushAsync(registry, "other/x", cli, cliBlobs, "1");

        var config1 = WriteConfig(_work, $"""
            version: 1.0.0
            concurrency: 3
            createRegistries: true
            source:
              endpoint: {_harbor.BaseUrl}
              type: HARBOR
              credentials: {"{"} username: "robot$migrate", password: harbor-pw {"}"}
            destination:
              endpoint: {_arca.BaseUrl}
              type: ARCA
              credentials: {"{"} username: admin, password: ${"{"}DEST_TOKEN{"}"} {"}"}
            mappings:
              - artifactType: DOCKER
                sourceRegistry: library
                destinationRegistry: harbor-images
              - artifactType: HELM
                sourceRegistry: library
                destinationRegistry: harbor-charts
            """);
        var env = new Dictionary<string, string?> { ["DEST_TOKEN"] = _arca.AdminToken };
        var first = await MigrateAsync(_work, config1, env, "--format", "json");
        first.AssertOk("migration from the Harbor emulator");
        Assert.Equal(6, Mapping(first, 0).GetProperty("succeeded").GetInt32()); // nginx:1.25, busybox:1,2,3,stable, tools/cli:1.0
        Assert.Equal(2, Mapping(first, 1).GetProperty("succeeded").GetInt32());

        Assert.Equal(_nginx.IndexDigest, await ManifestDigestAsync(_arcaHttp, "harbor-images/nginx", "1.25"));
        foreach (var platform in _nginx.PlatformManifestDigests)
            Assert.Equal(platform, await ManifestDigestAsync(_arcaHttp, "harbor-images/nginx", platform));
        Assert.Equal([_nginx.ReferrerDigest], await ReferrersAsync(_arcaHttp, "harbor-images/nginx", _nginx.IndexDigest));
        Assert.Equal(["1", "2", "3", "stable"], await TagsAsync(_arcaHttp, "harbor-images/busybox"));
        Assert.Equal(busybox[2], await ManifestDigestAsync(_arcaHttp, "harbor-images/busybox", "stable"));
        Assert.Equal(busybox[0], await ManifestDigestAsync(_arcaHttp, "harbor-images/busybox", "1"));
        Assert.Equal(cli.Digest, await ManifestDigestAsync(_arcaHttp, "harbor-images/tools/cli", "1.0"));
        Assert.Null(await ManifestDigestAsync(_arcaHttp, "harbor-images/charts/mychart", "0.1.0")); // charts go to the HELM mapping
        Assert.Equal(charts[0], await ManifestDigestAsync(_arcaHttp, "harbor-charts/charts/mychart", "0.1.0"));
        Assert.Equal(charts[1], await ManifestDigestAsync(_arcaHttp, "harbor-charts/charts/mychart", "0.2.0"));
        Assert.Equal(HttpStatusCode.NotFound, (await _arcaHttp.GetAsync("v2/harbor-images/x/tags/list")).StatusCode);

        // The listing really walked the pages and used the twice-encoded repository name; content came through /v2 with a token.
        var seen = _harbor.Server.Requests.ToList();
        Assert.Contains(seen, r => r.Path.StartsWith("/api/v2.0/projects/library/repositories?", StringComparison.Ordinal) && r.Path.Contains("page=2"));
        Assert.Contains(seen, r => r.Path.StartsWith("/api/v2.0/projects/library/repositories/busybox/artifacts?", StringComparison.Ordinal) && r.Path.Contains("page=2"));
        Assert.Contains(_harbor.RawTargets, r => r.StartsWith("/api/v2.0/projects/library/repositories/tools%252Fcli/artifacts", StringComparison.Ordinal));
        Assert.Contains(seen, r => r.Path.StartsWith("/v2/library/nginx/blobs/", StringComparison.Ordinal) && r.Authorization?.StartsWith("Bearer ") == true);

        _harbor.Server.Requests.Clear();
        var second = await MigrateAsync(_work, config1, env, "--format", "json");
        second.AssertOk("rerun");
        Assert.Equal(6, Mapping(second, 0).GetProperty("skipped").GetInt32());
        Assert.Equal(2, Mapping(second, 1).GetProperty("skipped").GetInt32());
        Assert.Equal(0, Mapping(second, 0).GetProperty("bytes").GetInt64() + Mapping(second, 1).GetProperty("bytes").GetInt64());
        // Harbor's listing carries digests, so a no-op rerun never touches Harbor's registry at all.
        Assert.DoesNotContain(_harbor.Server.Requests, r => r.Path.StartsWith("/v2/", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Wrong_harbor_credentials_fail_the_listing_with_a_non_zero_exit()
    {
        var config = WriteConfig(_work, $"""
            version: 1.0.0
            createRegistries: true
            source:
              endpoint: {_harbor.BaseUrl}
              type: HARBOR
              credentials: {"{"} username: "robot$migrate", password: wrong {"}"}
            destination:
              endpoint: {_arca.BaseUrl}
              type: ARCA
              credentials: {"{"} username: admin, password: {_arca.AdminToken} {"}"}
            mappings:
              - artifactType: DOCKER
                sourceRegistry: library
                destinationRegistry: harbor-images
            """);
        var report = Path.Combine(_work, "denied.json");
        var run = await MigrateAsync(_work, config, new Dictionary<string, string?>(), "--report", report);
        Assert.NotEqual(0, run.ExitCode);
        var failure = Assert.Single(ReportItems(report));
        Assert.Contains("401", failure.GetProperty("error").GetString());
    }
}
