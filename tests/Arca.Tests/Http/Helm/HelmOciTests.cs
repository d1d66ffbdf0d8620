using System.Net;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text.Json;
using Arca.Tests.Http.Oci;
using Arca.Tests.Infrastructure;

namespace Arca.Tests.Http.Helm;

/// <summary>A HELM registry shows every chart in both views: pushed as OCI (raw distribution-API pushes, the requests
/// `helm push` makes) it appears in index.yaml; uploaded over ChartMuseum it is pullable as an OCI chart.</summary>
public sealed class HelmOciTests : IAsyncLifetime
{
    private TestServer _server = null!;
    private OciHttp _oci = null!;
    private const string Reg = "helm-both";
    private const string Base = $"pkg/{Reg}/helm/";

    public async Task InitializeAsync()
    {
        _server = await TestServer.StartAsync();
        await _server.CreateRegistryAsync(Reg, "HELM");
        _oci = new OciHttp(_server.Admin);
    }

    public async Task DisposeAsync() => await _server.DisposeAsync();

    private async Task<JsonElement> IndexEntriesAsync()
    {
        var yaml = await _server.Admin.GetStringAsync(Base + "index.yaml");
        var r = await Proc.RunAsync(Proc.Tool("python3"),
            ["-c", "import sys, json, yaml; print(json.dumps(yaml.safe_load(sys.stdin.read()), default=str))"], stdin: yaml);
        return JsonDocument.Parse(r.AssertOk("python3 yaml.safe_load(index.yaml)").Stdout).RootElement.GetProperty("entries");
    }

    private Task<HttpResponseMessage> UploadAsync(byte[] tgz)
    {
        var c = new ByteArrayContent(tgz);
        c.Headers.ContentType = new MediaTypeHeaderValue("application/gzip");
        return _server.Admin.PostAsync(Base + "api/charts", c);
    }

    [Fact]
    public async Task Chart_pushed_as_oci_appears_in_index_yaml_with_digest_and_downloadable_url()
    {
        var (config, chart, manifest) = OciTestContent.HelmChartArtifact("ocichart", "0.3.0", "2.4.6");
        await _oci.PushImageAsync($"{Reg}/ocichart", "0.3.0", manifest, config, chart);
        // and one over ChartMuseum, so the index mixes both origins
        var uploaded = HelmCharts.Package("ocichart", "0.2.0");
        Assert.Equal(HttpStatusCode.Created, (await UploadAsync(uploaded)).StatusCode);

        var entries = (await IndexEntriesAsync()).GetProperty("ocichart").EnumerateArray().ToList();
        Assert.Equal(["0.3.0", "0.2.0"], entries.Select(e => e.GetProperty("version").GetString()));
        var pushed = entries[0];
        Assert.Equal(chart.Digest["sha256:".Length..], pushed.GetProperty("digest").GetString());
        Assert.Equal("2.4.6", pushed.GetProperty("appVersion").GetString());
        Assert.Equal("A test chart", pushed.GetProperty("description").GetString());
        var url = pushed.GetProperty("urls")[0].GetString()!;
        Assert.Equal($"{_server.BaseUrl}/{Base}charts/ocichart-0.3.0.tgz", url);
        Assert.Equal(chart.Bytes, await _server.Admin.GetByteArrayAsync(url));
        Assert.Equal(Convert.ToHexStringLower(SHA256.HashData(uploaded)), entries[1].GetProperty("digest").GetString());
        Assert.Equal(uploaded, await _server.Admin.GetByteArrayAsync(entries[1].GetProperty("urls")[0].GetString()));

        // The same version cannot be uploaded again over ChartMuseum.
        var dup = await UploadAsync(HelmCharts.Package("ocichart", "0.3.0"));
        Assert.Equal(HttpStatusCode.Conflict, dup.StatusCode);
    }

    [Fact]
    public async Task Chart_uploaded_over_chartmuseum_is_an_oci_chart_as_helm_push_writes_it()
    {
        var tgz = HelmCharts.Package("cmchart", "1.4.0", "home: https://cm.example.com\n");
        Assert.Equal(HttpStatusCode.Created, (await UploadAsync(tgz)).StatusCode);

        var tags = JsonDocument.Parse(await _server.Admin.GetStringAsync($"v2/{Reg}/cmchart/tags/list")).RootElement;
        Assert.Equal(["1.4.0"], tags.GetProperty("tags").EnumerateArray().Select(t => t.GetString()));

        var request = new HttpRequestMessage(HttpMethod.Get, $"v2/{Reg}/cmchart/manifests/1.4.0");
        request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue(OciTestContent.OciManifest));
        var response = await _server.Admin.SendAsync(request);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var manifest = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;
        Assert.Equal(2, manifest.GetProperty("schemaVersion").GetInt32());
        var configDescriptor = manifest.GetProperty("config");
        Assert.Equal(OciTestContent.HelmConfig, configDescriptor.GetProperty("mediaType").GetString());
        var layer = manifest.GetProperty("layers").EnumerateArray().Single();
        Assert.Equal(OciTestContent.HelmChart, layer.GetProperty("mediaType").GetString());
        Assert.Equal(OciTestContent.Sha256(tgz), layer.GetProperty("digest").GetString());
        Assert.Equal(tgz.Length, layer.GetProperty("size").GetInt64());
        var annotations = manifest.GetProperty("annotations");
        Assert.Equal("cmchart", annotations.GetProperty("org.opencontainers.image.title").GetString());
        Assert.Equal("1.4.0", annotations.GetProperty("org.opencontainers.image.version").GetString());
        Assert.Equal("A chart named cmchart", annotations.GetProperty("org.opencontainers.image.description").GetString());
        Assert.True(DateTimeOffset.TryParse(annotations.GetProperty("org.opencontainers.image.created").GetString(), out _));

        // `helm pull oci://` reads the config (chart metadata) and the layer (the archive) as blobs.
        var config = JsonDocument.Parse(await _server.Admin.GetByteArrayAsync($"v2/{Reg}/cmchart/blobs/{configDescriptor.GetProperty("digest").GetString()}")).RootElement;
        Assert.Equal("cmchart", config.GetProperty("name").GetString());
        Assert.Equal("1.4.0", config.GetProperty("version").GetString());
        Assert.Equal("v2", config.GetProperty("apiVersion").GetString());
        Assert.Equal("https://cm.example.com", config.GetProperty("home").GetString());
        Assert.Equal(tgz, await _server.Admin.GetByteArrayAsync($"v2/{Reg}/cmchart/blobs/{layer.GetProperty("digest").GetString()}"));

        // Still exactly one entry in the classic index, with the archive's digest.
        var entry = (await IndexEntriesAsync()).GetProperty("cmchart").EnumerateArray().Single();
        Assert.Equal(Convert.ToHexStringLower(SHA256.HashData(tgz)), entry.GetProperty("digest").GetString());
        Assert.Equal(tgz, await _server.Admin.GetByteArrayAsync(entry.GetProperty("urls")[0].GetString()));

        // Deleting over ChartMuseum removes the OCI tag too.
        Assert.Equal(HttpStatusCode.OK, (await _server.Admin.DeleteAsync(Base + "api/charts/cmchart/1.4.0")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await _server.Admin.GetAsync($"v2/{Reg}/cmchart/manifests/1.4.0")).StatusCode);
        Assert.False((await IndexEntriesAsync()).TryGetProperty("cmchart", out _));
    }

    [Fact]
    public async Task Build_metadata_version_is_tagged_with_underscore_and_listed_once()
    {
        var tgz = HelmCharts.Package("buildmeta", "1.0.0+build.7");
        Assert.Equal(HttpStatusCode.Created, (await UploadAsync(tgz)).StatusCode);
        var tags = JsonDocument.Parse(await _server.Admin.GetStringAsync($"v2/{Reg}/buildmeta/tags/list")).RootElement;
        Assert.Equal(["1.0.0_build.7"], tags.GetProperty("tags").EnumerateArray().Select(t => t.GetString()));
        var entry = (await IndexEntriesAsync()).GetProperty("buildmeta").EnumerateArray().Single();
        Assert.Equal("1.0.0+build.7", entry.GetProperty("version").GetString());
        Assert.Equal(tgz, await _server.Admin.GetByteArrayAsync(entry.GetProperty("urls")[0].GetString()));
        Assert.Equal(HttpStatusCode.Conflict, (await UploadAsync(tgz)).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await _server.Admin.GetAsync(Base + "api/charts/buildmeta/1.0.0+build.7")).StatusCode);
    }
}
