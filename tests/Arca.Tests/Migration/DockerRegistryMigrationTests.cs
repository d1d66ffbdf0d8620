using Microsoft.AspNetCore.Http;
using System.Net;
using Arca.Tests.Clients.ImageCopy;
using Arca.Tests.Http.Oci;
using Arca.Tests.Infrastructure;
using static Arca.Tests.Migration.OciMigrationSupport;

namespace Arca.Tests.Migration;

/// <summary>
/// `arca registry migrate` from Debian's real docker-registry (Basic auth) into Arca, DOCKER and HELM (OCI):
/// a two-platform index with a signature-style referrer chain, a single-arch image with several tags, an OCI chart.
/// </summary>
public sealed class DockerRegistryMigrationTests : IAsyncLifetime
{
    private DockerRegistryServer _source = null!;
    private TestServer _arca = null!;
    private string _work = null!;
    private OciTestImage _multiArch = null!;
    private HttpClient _sourceHttp = null!;
    private HttpClient _arcaHttp = null!;

    public async Task InitializeAsync()
    {
        _source = await DockerRegistryServer.StartAsync("sam", "source-pw");
        _arca = await TestServer.StartAsync();
        _work = TempDir.Create("migrate-oci");
        _sourceHttp = BasicClient(_source.BaseUrl, "sam", "source-pw");
        _arcaHttp = _arca.CreateClient(_arca.AdminToken);
    }

    public async Task DisposeAsync()
    {
        _sourceHttp.Dispose();
        _arcaHttp.Dispose();
        await _source.DisposeAsync();
        await _arca.DisposeAsync();
        if (_multiArch is not null) TempDir.TryDelete(_multiArch.LayoutDir);
        TempDir.TryDelete(_work);
    }

    private Dictionary<string, string?> Env => new() { ["SOURCE_PW"] = "source-pw", ["DEST_TOKEN"] = _arca.AdminToken };

    private string Config(string mappings, int concurrency = 2, int retries = 4) => WriteConfig(_work, $"""
        version: 1.0.0
        concurrency: {concurrency}
        retries: {retries}
        createRegistries: true
        source:
          endpoint: {_source.BaseUrl}
          type: DOCKER_REGISTRY
          credentials: {"{"} username: sam, password: ${"{"}SOURCE_PW{"}"} {"}"}
        destination:
          endpoint: {_arca.BaseUrl}
          type: ARCA
          credentials: {"{"} username: admin, password: ${"{"}DEST_TOKEN{"}"} {"}"}
        mappings:
        {mappings}
        """);

    private const string TeamAndCharts = """
          - artifactType: DOCKER
            sourceRegistry: team
            destinationRegistry: docker-prod
            excludePatterns: ["skip*"]
          - artifactType: HELM
            sourceRegistry: charts
            destinationRegistry: helm-prod
        """;

    [Fact]
    public async Task Migrates_indexes_tags_referrers_and_charts_with_identical_digests_then_a_rerun_moves_nothing()
    {
        _multiArch = OciTestImage.Create("1.0", "mig-" + Guid.NewGuid().ToString("N"), largeLayerBytes: 512 * 1024, withSignature: true);
        await _multiArch.PushWithSkopeoAsync(_source, "team/app");
        var (cliOld, cliOldBlobs) = RandomImage("cli-old", 64 * 1024);
        var (cliNew, cliNewBlobs) = RandomImage("cli-new", 64 * 1024);
        await PushAsync(_sourceHttp, "team/tools/cli", cliOld, cliOldBlobs, "1.0");
        await PushAsync(_sourceHttp, "team/tools/cli", cliNew, cliNewBlobs, "1.1", "latest");
        var (skipped, skippedBlobs) = RandomImage("skip", 1024);
        await PushAsync(_sourceHttp, "team/skipme", skipped, skippedBlobs, "1");
        await PushAsync(_sourceHttp, "other/thing", skipped, skippedBlobs, "1");
        var (chartConfig, chartLayer, chart) = OciTestContent.HelmChartArtifact("mychart", "0.1.0", "1.0");
        await PushAsync(_sourceHttp, "charts/mychart", chart, [chartConfig, chartLayer], "0.1.0");

        // Dry run first: lists what would move, the destination stays untouched.
        var dryConfig = Config(TeamAndCharts);
        var dryReport = Path.Combine(_work, "dry.json");
        var dry = await MigrateAsync(_work, dryConfig, Env, "--dry-run", "--report", dryReport);
        dry.AssertOk("dry run");
        // Real sizes: every manifest plus its config and layers (an index: plus each child manifest and its blobs).
        Assert.DoesNotContain("size unknown", dry.Stdout);
        var drySizes = ReportItems(dryReport).ToDictionary(i => i.GetProperty("item").GetString()!, i => i.GetProperty("size").GetInt64());
        Assert.Equal(await ImageSizeFromSourceAsync(_sourceHttp, "team/app", "1.0"), drySizes["team/app:1.0"]);
        Assert.Equal(cliOld.Size + cliOldBlobs.Sum(b => b.Size), drySizes["team/tools/cli:1.0"]);
        Assert.Equal(cliNew.Size + cliNewBlobs.Sum(b => b.Size), drySizes["team/tools/cli:latest"]);
        Assert.Equal(chart.Size + chartConfig.Size + chartLayer.Size, drySizes["charts/mychart:0.1.0"]);
        Assert.Equal(5, drySizes.Count);
        Assert.Contains("would copy  team/app:1.0", dry.Stdout);
        Assert.Contains("would copy  team/tools/cli:latest", dry.Stdout);
        Assert.Contains("would copy  charts/mychart:0.1.0", dry.Stdout);
        Assert.DoesNotContain("skipme", dry.Stdout);
        Assert.DoesNotContain("other/thing", dry.Stdout);
        Assert.DoesNotContain("sha256-", dry.Stdout); // referrers fallback tags are not items
        Assert.Equal(HttpStatusCode.NotFound, (await _arca.Admin.GetAsync("api/v1/registries/docker-prod")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await _arca.Admin.GetAsync("api/v1/registries/helm-prod")).StatusCode);

        // One image at a time so the byte count is exact: every distinct blob crosses once.
        var config = Config(TeamAndCharts, concurrency: 1);
        var report = Path.Combine(_work, "first.json");
        var first = await MigrateAsync(_work, config, Env, "--report", report, "--format", "json");
        first.AssertOk("first migration");
        var docker = Mapping(first, 0);
        Assert.Equal(4, docker.GetProperty("succeeded").GetInt32()); // app:1.0, cli:1.0, cli:1.1, cli:latest
        Assert.Equal(0, docker.GetProperty("failed").GetInt32());
        var expectedBytes = _multiArch.BlobBytes + cliOldBlobs.Concat(cliNewBlobs).Sum(b => b.Size);
        Assert.Equal(expectedBytes, docker.GetProperty("bytes").GetInt64());
        Assert.Equal(1, Mapping(first, 1).GetProperty("succeeded").GetInt32());
        Assert.Equal(chartConfig.Size + chartLayer.Size, Mapping(first, 1).GetProperty("bytes").GetInt64());

        // Every digest identical at Arca: the index, its platform manifests, the referrer chain, the tags, the chart.
        Assert.Equal(_multiArch.IndexDigest, await ManifestDigestAsync(_arcaHttp, "docker-prod/app", "1.0"));
        foreach (var platform in _multiArch.PlatformManifestDigests)
            Assert.Equal(platform, await ManifestDigestAsync(_arcaHttp, "docker-prod/app", platform));
        Assert.Equal([_multiArch.ReferrerDigest], await ReferrersAsync(_arcaHttp, "docker-prod/app", _multiArch.IndexDigest));
        Assert.Equal([_multiArch.SignatureDigest!], await ReferrersAsync(_arcaHttp, "docker-prod/app", _multiArch.ReferrerDigest));
        Assert.Equal(["1.0"], await TagsAsync(_arcaHttp, "docker-prod/app"));
        Assert.Equal(cliOld.Digest, await ManifestDigestAsync(_arcaHttp, "docker-prod/tools/cli", "1.0"));
        Assert.Equal(cliNew.Digest, await ManifestDigestAsync(_arcaHttp, "docker-prod/tools/cli", "1.1"));
        Assert.Equal(cliNew.Digest, await ManifestDigestAsync(_arcaHttp, "docker-prod/tools/cli", "latest"));
        Assert.Null(await ManifestDigestAsync(_arcaHttp, "docker-prod/skipme", "1"));
        Assert.Null(await ManifestDigestAsync(_arcaHttp, "docker-prod/other/thing", "1"));
        Assert.Equal(chart.Digest, await ManifestDigestAsync(_arcaHttp, "helm-prod/mychart", "0.1.0"));
        var items = ReportItems(report);
        Assert.Equal(5, items.Count);
        Assert.All(items, i => Assert.Equal("succeeded", i.GetProperty("status").GetString()));

        // No-op rerun: everything skipped, 0 bytes, and the source only answered listings and the listing's manifest
        // reads (one per tag, plus the index's two platform manifests): no blob, no referrer, nothing per copy.
        _source.ClearLog();
        var second = await MigrateAsync(_work, Config(TeamAndCharts), Env, "--format", "json");
        second.AssertOk("rerun");
        Assert.Equal(4, Mapping(second, 0).GetProperty("skipped").GetInt32());
        Assert.Equal(1, Mapping(second, 1).GetProperty("skipped").GetInt32());
        Assert.Equal(0, Mapping(second, 0).GetProperty("succeeded").GetInt32() + Mapping(second, 1).GetProperty("succeeded").GetInt32());
        Assert.Equal(0, Mapping(second, 0).GetProperty("bytes").GetInt64() + Mapping(second, 1).GetProperty("bytes").GetInt64());
        var requests = _source.Requests();
        Assert.DoesNotContain(requests, r => r.Uri.Contains("/blobs/", StringComparison.Ordinal));
        var manifestReads = requests.Where(r => r.Uri.Contains("/manifests/", StringComparison.Ordinal)).ToList();
        Assert.All(manifestReads, r => Assert.Equal("GET", r.Method));
        Assert.Equal(7, manifestReads.Count); // app:1.0 + 2 platforms, cli 1.0/1.1/latest, mychart:0.1.0
    }

    /// <summary>What the listing must report for an image, computed independently from the manifests as pushed:
    /// manifest bytes + config + layers, for an index also each child manifest and its blobs (shared blobs once).</summary>
    private static async Task<long> ImageSizeFromSourceAsync(HttpClient http, string repository, string reference)
    {
        var counted = new HashSet<string>();
        long total = 0;
        async Task AddAsync(string manifestReference)
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, $"v2/{repository}/manifests/{manifestReference}");
            request.Headers.Accept.ParseAdd(OciTestContent.OciIndex);
            request.Headers.Accept.ParseAdd(OciTestContent.OciManifest);
            using var response = await http.SendAsync(request);
            response.EnsureSuccessStatusCode();
            var bytes = await response.Content.ReadAsByteArrayAsync();
            total += bytes.Length;
            var root = System.Text.Json.JsonDocument.Parse(bytes).RootElement;
            var blobs = root.TryGetProperty("layers", out var layers) ? layers.EnumerateArray().ToList() : [];
            if (root.TryGetProperty("config", out var config)) blobs.Add(config);
            foreach (var blob in blobs)
                if (counted.Add(blob.GetProperty("digest").GetString()!)) total += blob.GetProperty("size").GetInt64();
            if (root.TryGetProperty("manifests", out var children))
                foreach (var child in children.EnumerateArray())
                    if (counted.Add(child.GetProperty("digest").GetString()!)) await AddAsync(child.GetProperty("digest").GetString()!);
        }
        await AddAsync(reference);
        return total;
    }

    [Fact]
    public async Task A_repository_holding_a_chart_and_an_image_gives_the_chart_to_HELM_and_the_image_to_DOCKER()
    {
        var (image, imageBlobs) = RandomImage("mixed-image", 4096);
        var (chartConfig, chartLayer, chart) = OciTestContent.HelmChartArtifact("mixed", "0.2.0", "2.0");
        await PushAsync(_sourceHttp, "mixed/stuff", image, imageBlobs, "1.0");
        await PushAsync(_sourceHttp, "mixed/stuff", chart, [chartConfig, chartLayer], "0.2.0");
        var mappings = """
              - artifactType: HELM
                sourceRegistry: mixed
                destinationRegistry: helm-mixed
              - artifactType: DOCKER
                sourceRegistry: mixed
                destinationRegistry: docker-mixed
            """;
        var report = Path.Combine(_work, "mixed.json");
        (await MigrateAsync(_work, Config(mappings), Env, "--report", report)).AssertOk("mixed migration");
        var items = ReportItems(report);
        Assert.Equal(2, items.Count);
        Assert.Equal(["0.2.0"], await TagsAsync(_arcaHttp, "helm-mixed/stuff"));
        Assert.Equal(chart.Digest, await ManifestDigestAsync(_arcaHttp, "helm-mixed/stuff", "0.2.0"));
        Assert.Equal(["1.0"], await TagsAsync(_arcaHttp, "docker-mixed/stuff"));
        Assert.Equal(image.Digest, await ManifestDigestAsync(_arcaHttp, "docker-mixed/stuff", "1.0"));
    }

    [Fact]
    public async Task A_tag_that_moves_after_the_listing_copies_the_listed_manifest_or_fails_clearly_when_it_is_gone()
    {
        var (listed, listedBlobs) = RandomImage("listed", 2048);
        var (moved, movedBlobs) = RandomImage("moved", 2048);
        await PushAsync(_sourceHttp, "team/app", listed, listedBlobs, "3.0");
        await _arca.CreateRegistryAsync("docker-prod", "DOCKER");
        var config = Arca.Migration.Config.ConfigLoader.Load(Config("""
              - artifactType: DOCKER
                sourceRegistry: team
                destinationRegistry: docker-prod
            """), name => Env.GetValueOrDefault(name));
        var mapping = config.Mappings[0] with { ListConcurrency = 2 };
        using var source = new Arca.Migration.Sources.DockerRegistrySource(config.Source);
        using var destination = new Arca.Migration.Destinations.ArcaDestination(config.Destination);
        var items = new List<Arca.Migration.Engine.MigrationItem>();
        await foreach (var item in source.ListAsync(mapping, new Arca.Migration.Engine.PackageFilter([], []), default)) items.Add(item);
        var image = Assert.IsType<Arca.Migration.Sources.OciImageItem>(Assert.Single(items));
        Assert.Equal(listed.Digest, image.Digest);

        await PushAsync(_sourceHttp, "team/app", moved, movedBlobs, "3.0"); // the tag moves before the copy
        var writer = destination.WriterFor("DOCKER")!;
        var (status, _) = await writer.WriteAsync(image, mapping, overwrite: false, default);
        Assert.Equal(Arca.Migration.Engine.ItemStatus.Succeeded, status);
        Assert.Equal(listed.Digest, await ManifestDigestAsync(_arcaHttp, "docker-prod/app", "3.0"));

        // Listed, then the tag moved AND the listed manifest was deleted: the copy fails and says what happened.
        var (third, thirdBlobs) = RandomImage("third", 2048);
        await PushAsync(_sourceHttp, "team/app", third, thirdBlobs, "4.0");
        items.Clear();
        await foreach (var item in source.ListAsync(mapping, new Arca.Migration.Engine.PackageFilter([], []), default)) items.Add(item);
        var listedFour = items.OfType<Arca.Migration.Sources.OciImageItem>().Single(i => i.Tag == "4.0");
        await PushAsync(_sourceHttp, "team/app", moved, movedBlobs, "4.0");
        using (var delete = await _sourceHttp.DeleteAsync($"v2/team/app/manifests/{third.Digest}"))
            Assert.Equal(HttpStatusCode.Accepted, delete.StatusCode);
        var error = await Assert.ThrowsAnyAsync<Exception>(() => writer.WriteAsync(listedFour, mapping, overwrite: false, default));
        Assert.Contains($"team/app:4.0 was listed as {third.Digest}, which the source no longer has (the tag moved to {moved.Digest} since the listing", error.Message);
        Assert.Null(await ManifestDigestAsync(_arcaHttp, "docker-prod/app", "4.0"));
    }

    [Fact]
    public async Task A_different_destination_tag_fails_clearly_unless_overwrite()
    {
        var (image, blobs) = RandomImage("source-side", 2048);
        var (other, otherBlobs) = RandomImage("destination-side", 2048);
        await PushAsync(_sourceHttp, "team/app", image, blobs, "2.0");
        await _arca.CreateRegistryAsync("docker-prod", "DOCKER");
        await PushAsync(_arcaHttp, "docker-prod/app", other, otherBlobs, "2.0");
        var mapping = """
              - artifactType: DOCKER
                sourceRegistry: team
                destinationRegistry: docker-prod
            """;
        var report = Path.Combine(_work, "conflict.json");
        var run = await MigrateAsync(_work, Config(mapping), Env, "--report", report);
        Assert.NotEqual(0, run.ExitCode);
        var failed = Assert.Single(ReportItems(report));
        Assert.Equal("failed", failed.GetProperty("status").GetString());
        Assert.Contains($"exists at the destination as {other.Digest}", failed.GetProperty("error").GetString());
        Assert.Equal(other.Digest, await ManifestDigestAsync(_arcaHttp, "docker-prod/app", "2.0"));

        (await MigrateAsync(_work, Config(mapping), Env, "--overwrite")).AssertOk("overwrite");
        Assert.Equal(image.Digest, await ManifestDigestAsync(_arcaHttp, "docker-prod/app", "2.0"));
    }

    [Fact]
    public async Task Killing_the_source_fails_the_run_and_resume_completes_without_moving_finished_images_again()
    {
        const int images = 12;
        var pushed = new List<(string Repository, string Digest)>();
        for (var i = 0; i < images; i++)
        {
            var (manifest, blobs) = RandomImage($"kill-{i}", 1024 * 1024);
            await PushAsync(_sourceHttp, $"team/img{i:00}", manifest, blobs, "1");
            pushed.Add(($"img{i:00}", manifest.Digest));
        }
        var config = Config("""
              - artifactType: DOCKER
                sourceRegistry: team
                destinationRegistry: docker-prod
            """, concurrency: 1, retries: 1);
        var state = Path.ChangeExtension(config, ".state.jsonl");
        var report = Path.Combine(_work, "killed.json");

        var run = MigrateAsync(_work, config, Env, "--report", report);
        while (!File.Exists(state) || File.ReadAllLines(state).Length < 2)
        {
            Assert.False(run.IsCompleted, "migration finished before the source could be killed: " + (run.IsCompleted ? run.Result.All : ""));
            await Task.Delay(10);
        }
        await _source.KillAsync();
        var killed = await run;
        Assert.NotEqual(0, killed.ExitCode);
        var firstItems = ReportItems(report);
        Assert.Contains(firstItems, i => i.GetProperty("status").GetString() == "failed" && i.TryGetProperty("item", out var name) && name.GetString()!.StartsWith("team/img"));
        var doneFirst = firstItems.Where(i => i.GetProperty("status").GetString() == "succeeded").Select(i => i.GetProperty("item").GetString()!).ToHashSet();
        Assert.NotEmpty(doneFirst);

        await _source.RestartAsync();
        _source.ClearLog();
        var report2 = Path.Combine(_work, "resumed.json");
        (await MigrateAsync(_work, config, Env, "--resume", "--report", report2)).AssertOk("resume");
        var secondItems = ReportItems(report2);
        Assert.Equal(images, secondItems.Count);
        Assert.All(secondItems, i => Assert.Contains(i.GetProperty("status").GetString(), new[] { "succeeded", "skipped" }));
        Assert.DoesNotContain(secondItems, i => i.GetProperty("status").GetString() == "succeeded" && doneFirst.Contains(i.GetProperty("item").GetString()!));
        // The source served nothing of the images finished in the first run but their tag list: with --resume the
        // listing does not even read their manifests.
        var requests = _source.Requests();
        foreach (var done in doneFirst)
            Assert.DoesNotContain(requests, r => r.Uri.StartsWith($"/v2/{done.Split(':')[0]}/", StringComparison.Ordinal) && !r.Uri.Contains("/tags/list"));
        foreach (var (repository, digest) in pushed)
            Assert.Equal(digest, await ManifestDigestAsync(_arcaHttp, $"docker-prod/{repository}", "1"));
    }

    /// <summary>Docker Hub, ECR and GitLab (without admin rights) do not offer /v2/_catalog: repositories named in
    /// includePatterns (no wildcards) are listed directly; a wildcard there gets a clear error saying so.</summary>
    [Fact]
    public async Task A_registry_without_a_catalog_migrates_the_repositories_named_in_includePatterns()
    {
        var (image, blobs) = RandomImage("no-catalog", 32 * 1024);
        await PushAsync(_sourceHttp, "team/app", image, blobs, "1.0", "latest");
        await PushAsync(_sourceHttp, "team/other", image, blobs, "9.9");
        // Like Docker Hub: everything but the catalog, which answers 404 UNSUPPORTED.
        await using var hubLike = await Arca.Tests.Http.Endpoints.LoopbackHttpServer.StartAsync(async (ctx, _) =>
        {
            var pathAndQuery = ctx.Request.Path + ctx.Request.QueryString;
            if (ctx.Request.Path.Value!.EndsWith("/_catalog", StringComparison.Ordinal))
            {
                ctx.Response.StatusCode = 404;
                ctx.Response.ContentType = "application/json";
                await ctx.Response.WriteAsync("""{"errors":[{"code":"UNSUPPORTED","message":"the operation is unsupported"}]}""");
                return;
            }
            await RegistryPathProxy.ForwardAsync(ctx, _sourceHttp, pathAndQuery, 100);
        });
        var config = WriteConfig(_work, $"""
            version: 1.0.0
            createRegistries: true
            source:
              endpoint: {hubLike.BaseUrl}
              type: DOCKER_REGISTRY
            destination:
              endpoint: {_arca.BaseUrl}
              type: ARCA
              credentials: {"{"} username: admin, password: ${"{"}DEST_TOKEN{"}"} {"}"}
            mappings:
              - artifactType: DOCKER
                sourceRegistry: team
                destinationRegistry: named
                includePatterns: ["app", "missing"]
              - artifactType: DOCKER
                sourceRegistry: team
                destinationRegistry: globbed
                includePatterns: ["a*"]
            """);
        var report = Path.Combine(_work, "no-catalog.json");
        var run = await MigrateAsync(_work, config, Env, "--report", report, "--format", "json");
        Assert.NotEqual(0, run.ExitCode);
        Assert.Equal(2, Mapping(run, 0).GetProperty("succeeded").GetInt32()); // app:1.0 and app:latest
        var items = ReportItems(report);
        var missing = Assert.Single(items, i => i.GetProperty("status").GetString() == "failed" && i.GetProperty("mapping").GetString() == "team->named (DOCKER)");
        Assert.Contains("team/missing: the source has no such repository", missing.GetProperty("error").GetString());
        Assert.DoesNotContain(items, i => i.TryGetProperty("item", out var item) && item.GetString()!.Contains("other", StringComparison.Ordinal));
        var globbed = Assert.Single(items, i => i.GetProperty("mapping").GetString() == "team->globbed (DOCKER)");
        Assert.Contains("without wildcards", globbed.GetProperty("error").GetString());
        Assert.Contains("name the repositories to migrate in includePatterns, without wildcards", run.Stderr);
        using var tags = await _arcaHttp.GetAsync("v2/named/app/tags/list");
        Assert.Equal(HttpStatusCode.OK, tags.StatusCode);
        Assert.Contains("latest", await tags.Content.ReadAsStringAsync());
    }
}
