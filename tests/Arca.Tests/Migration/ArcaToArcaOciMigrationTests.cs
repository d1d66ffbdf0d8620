using Arca.Tests.Http.Oci;
using Arca.Tests.Infrastructure;
using static Arca.Tests.Migration.OciMigrationSupport;

namespace Arca.Tests.Migration;

/// <summary>`arca registry migrate` between two real Arca servers for DOCKER and HELM (OCI): listed through the
/// management API, pulled through /v2, digests and referrers identical, a rerun skips everything.</summary>
public sealed class ArcaToArcaOciMigrationTests : IAsyncLifetime
{
    private TestServer _source = null!;
    private TestServer _dest = null!;
    private HttpClient _sourceHttp = null!;
    private HttpClient _destHttp = null!;
    private string _work = null!;

    public async Task InitializeAsync()
    {
        _source = await TestServer.StartAsync();
        _dest = await TestServer.StartAsync();
        _sourceHttp = _source.CreateClient(_source.AdminToken);
        _destHttp = _dest.CreateClient(_dest.AdminToken);
        _work = TempDir.Create("migrate-arca-oci");
    }

    public async Task DisposeAsync()
    {
        _sourceHttp.Dispose();
        _destHttp.Dispose();
        await _source.DisposeAsync();
        await _dest.DisposeAsync();
        TempDir.TryDelete(_work);
    }

    [Fact]
    public async Task Migrates_docker_images_with_referrers_and_helm_charts_between_arca_servers()
    {
        await _source.CreateRegistryAsync("src-docker", "DOCKER");
        await _source.CreateRegistryAsync("src-helm", "HELM");
        var (amdConfig, amdLayer, amd) = OciTestContent.Image("linux", "amd64", "amd64 build");
        var (armConfig, armLayer, arm) = OciTestContent.Image("linux", "arm64", "arm64 build");
        var index = OciTestContent.Index((amd, "linux", "amd64"), (arm, "linux", "arm64"));
        await PushAsync(_sourceHttp, "src-docker/team/app", amd, [amdConfig, amdLayer], amd.Digest);
        await PushAsync(_sourceHttp, "src-docker/team/app", arm, [armConfig, armLayer], arm.Digest);
        await PushAsync(_sourceHttp, "src-docker/team/app", index, [], "2.0");
        var (sigConfig, sigBlob, signature) = OciTestContent.Artifact("application/vnd.example.signature.v1+json", "{\"signed\":true}", index);
        await PushAsync(_sourceHttp, "src-docker/team/app", signature, [sigConfig, sigBlob], signature.Digest);
        var (single, singleBlobs) = RandomImage("single", 32 * 1024);
        await PushAsync(_sourceHttp, "src-docker/tool", single, singleBlobs, "1", "latest");
        var (chartConfig, chartLayer, chart) = OciTestContent.HelmChartArtifact("web", "1.2.3", "2.0");
        await PushAsync(_sourceHttp, "src-helm/web", chart, [chartConfig, chartLayer], "1.2.3");

        var config = WriteConfig(_work, $"""
            version: 1.0.0
            concurrency: 2
            createRegistries: true
            source:
              endpoint: {_source.BaseUrl}
              type: HAR
              credentials: {"{"} username: admin, password: ${"{"}SOURCE_TOKEN{"}"} {"}"}
            destination:
              endpoint: {_dest.BaseUrl}
              type: ARCA
              credentials: {"{"} username: admin, password: ${"{"}DEST_TOKEN{"}"} {"}"}
            mappings:
              - artifactType: DOCKER
                sourceRegistry: src-docker
                destinationRegistry: docker-copy
              - artifactType: HELM
                sourceRegistry: src-helm
                destinationRegistry: helm-copy
            """);
        var env = new Dictionary<string, string?> { ["SOURCE_TOKEN"] = _source.AdminToken, ["DEST_TOKEN"] = _dest.AdminToken };
        var report = Path.Combine(_work, "report.json");
        var first = await MigrateAsync(_work, config, env, "--format", "json", "--report", report);
        first.AssertOk("arca -> arca");
        Assert.Equal(3, Mapping(first, 0).GetProperty("succeeded").GetInt32()); // team/app:2.0, tool:1, tool:latest
        Assert.Equal(1, Mapping(first, 1).GetProperty("succeeded").GetInt32());
        Assert.DoesNotContain(ReportItems(report), i => i.GetProperty("version").GetString()!.StartsWith("sha256"));

        Assert.Equal(index.Digest, await ManifestDigestAsync(_destHttp, "docker-copy/team/app", "2.0"));
        Assert.Equal(amd.Digest, await ManifestDigestAsync(_destHttp, "docker-copy/team/app", amd.Digest));
        Assert.Equal(arm.Digest, await ManifestDigestAsync(_destHttp, "docker-copy/team/app", arm.Digest));
        Assert.Equal([signature.Digest], await ReferrersAsync(_destHttp, "docker-copy/team/app", index.Digest));
        Assert.Equal(["1", "latest"], await TagsAsync(_destHttp, "docker-copy/tool"));
        Assert.Equal(single.Digest, await ManifestDigestAsync(_destHttp, "docker-copy/tool", "latest"));
        Assert.Equal(chart.Digest, await ManifestDigestAsync(_destHttp, "helm-copy/web", "1.2.3"));

        var second = await MigrateAsync(_work, config, env, "--format", "json");
        second.AssertOk("rerun");
        Assert.Equal(3, Mapping(second, 0).GetProperty("skipped").GetInt32());
        Assert.Equal(1, Mapping(second, 1).GetProperty("skipped").GetInt32());
        Assert.Equal(0, Mapping(second, 0).GetProperty("bytes").GetInt64() + Mapping(second, 1).GetProperty("bytes").GetInt64());
    }
}
