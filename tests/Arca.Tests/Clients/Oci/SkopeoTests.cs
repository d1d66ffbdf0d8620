using System.Text;
using System.Text.Json.Nodes;
using Arca.Tests.Http.Oci;
using Arca.Tests.Infrastructure;
using static Arca.Tests.Http.Oci.OciTestContent;

namespace Arca.Tests.Clients.Oci;

/// <summary>Unmodified skopeo against a real Arca server: multi-platform copy round trip, sync, Helm charts as OCI,
/// private registries with credentials.</summary>
public sealed class SkopeoTests : IAsyncLifetime
{
    private TestServer _server = null!;
    private string _work = null!;

    public async Task InitializeAsync()
    {
        _server = await TestServer.StartAsync();
        _work = TempDir.Create("skopeo");
        await _server.CreateRegistryAsync("images", "DOCKER");
        await _server.CreateRegistryAsync("mirror", "DOCKER");
        await _server.CreateRegistryAsync("charts", "HELM");
    }

    public async Task DisposeAsync()
    {
        await _server.DisposeAsync();
        TempDir.TryDelete(_work);
    }

    private Task<ProcResult> SkopeoAsync(params string[] args) =>
        Proc.RunAsync(Proc.Tool("skopeo"), ["--insecure-policy", .. args], workDir: _work,
            env: new Dictionary<string, string?> { ["HOME"] = _work, ["XDG_RUNTIME_DIR"] = _work, ["REGISTRY_AUTH_FILE"] = Path.Combine(_work, "auth.json") });

    private string Creds => $"admin:{_server.AdminToken}";
    private string Ref(string name) => $"docker://{_server.HostPort}/{name}";

    private static Dictionary<string, byte[]> Blobs(string layout) =>
        Directory.GetFiles(Path.Combine(layout, "blobs", "sha256")).ToDictionary(f => Path.GetFileName(f), File.ReadAllBytes);

    [Fact]
    public async Task Copy_all_of_a_two_platform_index_round_trips_with_identical_digests()
    {
        var shared = Describe(OciLayer, TarGz(("etc/os-release", "ID=test\n")));
        var amd = Image("linux", "amd64", "amd64 binary", extraLayer: shared);
        var arm = Image("linux", "arm64", "arm64 binary", extraLayer: shared);
        var index = Index((amd.Manifest, "linux", "amd64"), (arm.Manifest, "linux", "arm64"));
        var source = Path.Combine(_work, "src-layout");
        WriteLayout(source, [shared, amd.Config, amd.Layer, amd.Manifest, arm.Config, arm.Layer, arm.Manifest], (index, "v1"));

        (await SkopeoAsync("copy", "--all", "--dest-tls-verify=false", "--dest-creds", Creds, $"oci:{source}:v1", Ref("images/multi/app:v1")))
            .AssertOk("skopeo copy --all into arca");

        var raw = (await SkopeoAsync("inspect", "--raw", "--tls-verify=false", "--creds", Creds, Ref("images/multi/app:v1"))).AssertOk("inspect --raw");
        Assert.Equal(Encoding.UTF8.GetString(index.Bytes), raw.Stdout.TrimEnd('\n'));
        var child = (await SkopeoAsync("inspect", "--raw", "--tls-verify=false", "--creds", Creds, Ref($"images/multi/app@{arm.Manifest.Digest}"))).AssertOk("inspect child");
        Assert.Equal(Encoding.UTF8.GetString(arm.Manifest.Bytes), child.Stdout.TrimEnd('\n'));

        var target = Path.Combine(_work, "out-layout");
        (await SkopeoAsync("copy", "--all", "--src-tls-verify=false", "--src-creds", Creds, Ref("images/multi/app:v1"), $"oci:{target}:v1"))
            .AssertOk("skopeo copy --all out of arca");
        var before = Blobs(source);
        var after = Blobs(target);
        Assert.Equal(before.Keys.Order(), after.Keys.Order());
        foreach (var (name, bytes) in before) Assert.Equal(bytes, after[name]);
        var outIndex = JsonNode.Parse(File.ReadAllText(Path.Combine(target, "index.json")))!["manifests"]![0]!;
        Assert.Equal(index.Digest, outIndex["digest"]!.GetValue<string>());

        // The image is one version with both platforms.
        var versions = JsonNode.Parse(await _server.Admin.GetStringAsync("api/v1/registries/images/versions?package=multi/app"))!["items"]!.AsArray();
        var v1 = Assert.Single(versions)!;
        Assert.Equal("v1", v1["version"]!.GetValue<string>());
        Assert.Equal(["linux/amd64", "linux/arm64"], v1["properties"]!["platforms"]!.AsArray().Select(p => p!.GetValue<string>()));
    }

    [Fact]
    public async Task Sync_copies_every_tag_of_a_repository()
    {
        var source = Path.Combine(_work, "sync-layout");
        var images = new[] { "1.0", "1.1", "latest" }.Select(t => (Tag: t, Image: Image("linux", "amd64", $"release {t}"))).ToList();
        WriteLayout(source, images.SelectMany(i => new[] { i.Image.Config, i.Image.Layer }), images.Select(i => (i.Image.Manifest, i.Tag)).ToArray());
        foreach (var (tag, _) in images)
            (await SkopeoAsync("copy", "--dest-tls-verify=false", "--dest-creds", Creds, $"oci:{source}:{tag}", Ref($"images/sync/app:{tag}")))
                .AssertOk($"push {tag}");

        (await SkopeoAsync("sync", "--all", "--src", "docker", "--dest", "docker", "--src-tls-verify=false", "--dest-tls-verify=false",
                "--src-creds", Creds, "--dest-creds", Creds, $"{_server.HostPort}/images/sync/app", $"{_server.HostPort}/mirror"))
            .AssertOk("skopeo sync docker → docker");
        var tags = JsonNode.Parse(await _server.Admin.GetStringAsync("v2/mirror/app/tags/list"))!["tags"]!.AsArray().Select(t => t!.GetValue<string>());
        Assert.Equal(["1.0", "1.1", "latest"], tags);
        foreach (var (tag, image) in images)
            Assert.Equal(image.Manifest.Bytes, await _server.Admin.GetByteArrayAsync($"v2/mirror/app/manifests/{tag}"));

        var dir = Path.Combine(_work, "sync-dir");
        (await SkopeoAsync("sync", "--src", "docker", "--dest", "dir", "--src-tls-verify=false", "--src-creds", Creds,
                $"{_server.HostPort}/mirror/app", dir)).AssertOk("skopeo sync docker → dir");
        foreach (var (tag, image) in images)
            Assert.Equal(image.Manifest.Bytes, File.ReadAllBytes(Path.Combine(dir, $"app:{tag}", "manifest.json")));
    }

    [Fact]
    public async Task Helm_chart_pushed_as_oci_is_listed_as_chart_name_and_version()
    {
        var (config, chart, manifest) = HelmChartArtifact("mychart", "0.1.0", "1.16.0");
        var layout = Path.Combine(_work, "chart-layout");
        WriteLayout(layout, [config, chart], (manifest, "0.1.0"));
        (await SkopeoAsync("copy", "--dest-tls-verify=false", "--dest-creds", Creds, $"oci:{layout}:0.1.0", Ref("charts/mychart:0.1.0")))
            .AssertOk("push chart");

        var packages = JsonNode.Parse(await _server.Admin.GetStringAsync("api/v1/registries/charts/packages"))!["items"]!.AsArray();
        Assert.Contains(packages, p => p!["name"]?.GetValue<string>() == "mychart" || p!["package"]?.GetValue<string>() == "mychart");
        var version = Assert.Single(JsonNode.Parse(await _server.Admin.GetStringAsync("api/v1/registries/charts/versions?package=mychart"))!["items"]!.AsArray())!;
        Assert.Equal("0.1.0", version["version"]!.GetValue<string>());
        var chartProps = version["properties"]!["chart"]!;
        Assert.Equal("mychart", chartProps["name"]!.GetValue<string>());
        Assert.Equal("0.1.0", chartProps["version"]!.GetValue<string>());
        Assert.Equal("1.16.0", chartProps["appVersion"]!.GetValue<string>());
        Assert.Equal("A test chart", chartProps["description"]!.GetValue<string>());

        var files = JsonNode.Parse(await _server.Admin.GetStringAsync("api/v1/registries/charts/files?package=mychart&version=0.1.0"))!["items"]!.AsArray();
        var tgz = files.Single(f => f!["path"]!.GetValue<string>() == "mychart-0.1.0.tgz")!;
        Assert.Equal(chart.Digest[7..], tgz["sha256"]!.GetValue<string>());

        // `arca artifact list` shows the chart by name and version.
        var packagesTable = (await ArcaCli.RunAsync(_server, "artifact", "list", "--registry", "charts")).AssertOk("arca artifact list").Stdout;
        Assert.Contains("mychart", packagesTable);
        var versionsTable = (await ArcaCli.RunAsync(_server, "artifact", "list", "--registry", "charts", "--package", "mychart")).AssertOk("arca artifact list --package").Stdout;
        Assert.Contains("0.1.0", versionsTable);

        var back = (await SkopeoAsync("inspect", "--raw", "--tls-verify=false", "--creds", Creds, Ref("charts/mychart:0.1.0"))).AssertOk("inspect chart");
        Assert.Equal(Encoding.UTF8.GetString(manifest.Bytes), back.Stdout.TrimEnd('\n'));
    }

    [Fact]
    public async Task Private_registry_needs_credentials_and_read_only_tokens_cannot_push()
    {
        var image = Image("linux", "amd64", "private");
        var layout = Path.Combine(_work, "private-layout");
        WriteLayout(layout, [image.Config, image.Layer], (image.Manifest, "v1"));

        var anonymous = await SkopeoAsync("copy", "--dest-tls-verify=false", $"oci:{layout}:v1", Ref("images/private/app:v1"));
        Assert.NotEqual(0, anonymous.ExitCode);
        // skopeo fetches an anonymous registry token, which grants nothing here: the 401 carries
        // error="insufficient_scope", which containers/image reports as "requested access to the resource is denied".
        Assert.Contains("requested access to the resource is denied", anonymous.All, StringComparison.OrdinalIgnoreCase);

        var readToken = await _server.CreateTokenAsync("read", "images");
        var readOnly = await SkopeoAsync("copy", "--dest-tls-verify=false", "--dest-creds", $"reader:{readToken}", $"oci:{layout}:v1", Ref("images/private/app:v1"));
        Assert.NotEqual(0, readOnly.ExitCode);

        var writeToken = await _server.CreateTokenAsync("write", "images");
        (await SkopeoAsync("copy", "--dest-tls-verify=false", "--dest-creds", $"ci:{writeToken}", $"oci:{layout}:v1", Ref("images/private/app:v1")))
            .AssertOk("push with --creds");
        var inspected = (await SkopeoAsync("inspect", "--tls-verify=false", "--creds", $"reader:{readToken}", Ref("images/private/app:v1"))).AssertOk("inspect with --creds");
        Assert.Equal(image.Manifest.Digest, JsonNode.Parse(inspected.Stdout)!["Digest"]!.GetValue<string>());
        (await SkopeoAsync("inspect", "--raw", "--tls-verify=false", "--registry-token", readToken, Ref("images/private/app:v1"))).AssertOk("inspect with --registry-token");
        var anonymousRead = await SkopeoAsync("inspect", "--raw", "--tls-verify=false", Ref("images/private/app:v1"));
        Assert.NotEqual(0, anonymousRead.ExitCode);
    }
}
