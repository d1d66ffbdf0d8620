using System.Net;
using System.Security.Cryptography;
using System.Text.Json;
using Arca.Client.Oci;
using Arca.Tests.Http.Helm;
using Arca.Tests.Infrastructure;

namespace Arca.Tests.Migration;

/// <summary>
/// HELM_LEGACY migration from a static `index.yaml` repository (python http.server) into Arca, then pulled back as OCI
/// through Arca's /v2 with the OCI client: the chart config and media types are what `helm push` writes.
/// </summary>
public sealed class HelmMigrationTests : IAsyncLifetime
{
    private TestServer _arca = null!;
    private string _work = null!, _repo = null!;

    public async Task InitializeAsync()
    {
        _arca = await TestServer.StartAsync();
        _work = TempDir.Create("migrate-helm");
        _repo = Path.Combine(_work, "static", "stable");
        Directory.CreateDirectory(Path.Combine(_repo, "charts"));
    }

    public async Task DisposeAsync() { await _arca.DisposeAsync(); TempDir.TryDelete(_work); }

    private byte[] Chart(string file, string name, string version)
    {
        var bytes = HelmCharts.Package(name, version);
        File.WriteAllBytes(Path.Combine(_repo, file), bytes);
        return bytes;
    }

    private static string Sha(byte[] b) => Convert.ToHexStringLower(SHA256.HashData(b));

    private OciRegistryClient Oci(string token) => new(_arca.HostPort, new OciClientOptions
    {
        Insecure = true, Credentials = new StaticCredentialProvider(RegistryCredential.Basic("x", token)),
    });

    [Fact]
    public async Task Charts_become_OCI_charts_as_helm_push_writes_them_and_a_rerun_skips()
    {
        await using var source = await StaticHttpServer.StartAsync(Path.Combine(_work, "static"));
        var web12 = Chart("charts/web-1.2.0.tgz", "web", "1.2.0");
        var web13 = Chart("charts/web-1.3.0+build.5.tgz", "web", "1.3.0+build.5");
        var tool = Chart("tool-0.1.0.tgz", "tool", "0.1.0");
        Chart("skipped-9.0.0.tgz", "skipped", "9.0.0");
        // Relative and absolute URLs; one entry without a digest (hashed by the migration).
        File.WriteAllText(Path.Combine(_repo, "index.yaml"), $"""
            apiVersion: v1
            entries:
              web:
              - apiVersion: v2
                name: web
                version: 1.3.0+build.5
                appVersion: "1.16.0"
                urls:
                - {source.BaseUrl}/stable/charts/web-1.3.0%2Bbuild.5.tgz
              - apiVersion: v2
                name: web
                version: 1.2.0
                appVersion: "1.16.0"
                digest: {Sha(web12)}
                urls:
                - charts/web-1.2.0.tgz
              tool:
              - apiVersion: v2
                name: tool
                version: 0.1.0
                digest: {Sha(tool)}
                urls: [tool-0.1.0.tgz]
              skipped:
              - name: skipped
                version: 9.0.0
                urls: [skipped-9.0.0.tgz]
            generated: "2024-01-01T00:00:00Z"
            """);

        var config = MigrateCli.WriteConfig(_work, source.BaseUrl, "HELM_HTTP", null, _arca.BaseUrl, """
              - artifactType: HELM_LEGACY
                sourceRegistry: stable
                destinationRegistry: charts
                excludePatterns: ["skipped"]
            """);
        var dry = await ArcaCli.RunAsync(null, null, ["registry", "migrate", "--config", config, "--dry-run"], _work,
            new Dictionary<string, string?> { ["DEST_TOKEN"] = _arca.AdminToken });
        dry.AssertOk("dry run");
        Assert.Contains("would copy  web-1.3.0+build.5", dry.Stdout);
        Assert.Contains("would copy  tool-0.1.0", dry.Stdout);
        Assert.DoesNotContain("skipped-9.0.0", dry.Stdout);
        Assert.DoesNotContain("size unknown", dry.Stdout); // index.yaml has no sizes: the dry run asks the source (HEAD)
        Assert.Equal(HttpStatusCode.NotFound, (await _arca.Admin.GetAsync("api/v1/registries/charts")).StatusCode);

        var first = await MigrateCli.RunAsync(config, _arca.AdminToken, _work);
        first.AssertOk("migrate charts");
        Assert.Equal(3, MigrateCli.Summary(first).GetProperty("succeeded").GetInt32());
        Assert.Equal(web12.Length + web13.Length + tool.Length, MigrateCli.Summary(first).GetProperty("bytes").GetInt64());

        using var oci = Oci(await _arca.CreateTokenAsync("read", "charts"));
        foreach (var (name, version, tag, bytes) in new[] { ("web", "1.2.0", "1.2.0", web12), ("web", "1.3.0+build.5", "1.3.0_build.5", web13), ("tool", "0.1.0", "0.1.0", tool) })
        {
            var manifest = await oci.GetManifestAsync($"charts/{name}", tag) ?? throw new Xunit.Sdk.XunitException($"no OCI chart charts/{name}:{tag}");
            Assert.Equal("application/vnd.oci.image.manifest.v1+json", manifest.MediaType);
            Assert.Equal("application/vnd.cncf.helm.config.v1+json", manifest.Config!.MediaType);
            var layer = Assert.Single(manifest.Layers);
            Assert.Equal("application/vnd.cncf.helm.chart.content.v1.tar+gzip", layer.MediaType);
            Assert.Equal("sha256:" + Sha(bytes), layer.Digest);
            Assert.Equal(name, manifest.Annotations!["org.opencontainers.image.title"]);
            Assert.Equal(version, manifest.Annotations["org.opencontainers.image.version"]);
            using (var blob = await oci.GetBlobAsync($"charts/{name}", layer.Digest))
            {
                var ms = new MemoryStream();
                await blob.Content.CopyToAsync(ms);
                Assert.Equal(bytes, ms.ToArray());
            }
            using var configBlob = await oci.GetBlobAsync($"charts/{name}", manifest.Config.Digest);
            var chartConfig = (await JsonDocument.ParseAsync(configBlob.Content)).RootElement;
            Assert.Equal(name, chartConfig.GetProperty("name").GetString());
            Assert.Equal(version, chartConfig.GetProperty("version").GetString());
            Assert.Equal("v2", chartConfig.GetProperty("apiVersion").GetString());
            Assert.Equal("1.16.0", chartConfig.GetProperty("appVersion").GetString());
            Assert.Equal($"A chart named {name}", chartConfig.GetProperty("description").GetString());
        }
        Assert.Equal(HttpStatusCode.NotFound, (await _arca.Admin.GetAsync("pkg/charts/helm/api/charts/skipped/9.0.0")).StatusCode);

        var rerun = await MigrateCli.RunAsync(config, _arca.AdminToken, _work);
        rerun.AssertOk("rerun");
        Assert.Equal(0, MigrateCli.Summary(rerun).GetProperty("succeeded").GetInt32());
        Assert.Equal(3, MigrateCli.Summary(rerun).GetProperty("skipped").GetInt32());
        Assert.Equal(0, MigrateCli.Summary(rerun).GetProperty("bytes").GetInt64());
    }

    [Fact]
    public async Task A_chart_that_does_not_match_its_index_digest_fails_and_is_not_stored()
    {
        await using var source = await StaticHttpServer.StartAsync(Path.Combine(_work, "static"));
        var good = Chart("good-1.0.0.tgz", "good", "1.0.0");
        Chart("bad-1.0.0.tgz", "bad", "1.0.0");
        File.WriteAllText(Path.Combine(_repo, "index.yaml"), $"""
            apiVersion: v1
            entries:
              good:
              - {"{"} name: good, version: 1.0.0, digest: {Sha(good)}, urls: [good-1.0.0.tgz] {"}"}
              bad:
              - {"{"} name: bad, version: 1.0.0, digest: {new string('a', 64)}, urls: [bad-1.0.0.tgz] {"}"}
            """);
        var config = MigrateCli.WriteConfig(_work, source.BaseUrl, "HELM_HTTP", null, _arca.BaseUrl, """
              - artifactType: HELM_LEGACY
                sourceRegistry: stable
                destinationRegistry: charts-bad
            """);
        var run = await MigrateCli.RunAsync(config, _arca.AdminToken, _work);
        Assert.Equal(1, run.ExitCode);
        Assert.Contains("bad-1.0.0", run.Stderr);
        Assert.Contains("(from its index); nothing was stored", run.Stderr);
        Assert.Equal(HttpStatusCode.OK, (await _arca.Admin.GetAsync("pkg/charts-bad/helm/api/charts/good/1.0.0")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await _arca.Admin.GetAsync("pkg/charts-bad/helm/api/charts/bad/1.0.0")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await _arca.Admin.GetAsync("v2/charts-bad/bad/manifests/1.0.0")).StatusCode);
    }
}
