using System.Net;
using System.Text.Json.Nodes;
using Arca.Tests.Http.Oci;
using Arca.Tests.Infrastructure;
using static Arca.Tests.Http.Oci.OciTestContent;

namespace Arca.Tests.Clients.Oci;

/// <summary>Unmodified buildah and podman (vfs storage, no daemon) against a private Arca registry through the Docker
/// token flow: build from scratch and push, push an image pulled from an OCI layout, pull, list tags.</summary>
public sealed class BuildahPodmanTests : IAsyncLifetime
{
    private TestServer _server = null!;
    private string _work = null!;
    private string _writeToken = null!;
    private string _readToken = null!;
    /// <summary>podman refuses a runroot longer than 50 characters, so run roots live in a short folder of their own.</summary>
    private readonly string _runRoots = Path.Combine("/tmp", "arca-rr-" + Guid.NewGuid().ToString("N")[..8]);

    public async Task InitializeAsync()
    {
        _server = await TestServer.StartAsync();
        _work = TempDir.Create("buildah");
        await _server.CreateRegistryAsync("private", "DOCKER");
        _writeToken = await _server.CreateTokenAsync("write", "private");
        _readToken = await _server.CreateTokenAsync("read", "private");
    }

    public async Task DisposeAsync()
    {
        await _server.DisposeAsync();
        TempDir.TryDelete(_work);
        TempDir.TryDelete(_runRoots);
    }

    /// <summary>Each client gets its own storage so the tests of this class cannot see each other's images.</summary>
    private Task<ProcResult> RunAsync(string tool, string store, params string[] args)
    {
        var root = Path.Combine(_work, store);
        Directory.CreateDirectory(Path.Combine(root, "run"));
        var authFile = Path.Combine(root, "auth.json");
        if (!File.Exists(authFile)) File.WriteAllText(authFile, "{\"auths\":{}}"); // buildah refuses a missing REGISTRY_AUTH_FILE
        return Proc.RunAsync(Proc.Tool(tool),
            ["--storage-driver", "vfs", "--root", Path.Combine(root, "root"), "--runroot", Path.Combine(_runRoots, store), .. args],
            workDir: _work, timeout: TimeSpan.FromMinutes(5),
            env: new Dictionary<string, string?>
            {
                ["HOME"] = root, ["XDG_RUNTIME_DIR"] = Path.Combine(root, "run"), ["XDG_CONFIG_HOME"] = Path.Combine(root, "config"),
                ["REGISTRY_AUTH_FILE"] = authFile, ["BUILDAH_ISOLATION"] = "chroot",
            });
    }

    private string Creds(string token) => $"someone:{token}";
    private string Ref(string name) => $"docker://{_server.HostPort}/{name}";

    private async Task<JsonNode> ManifestAsync(string name, string reference)
    {
        var r = await _server.Admin.GetAsync($"v2/{name}/manifests/{reference}");
        Assert.Equal(HttpStatusCode.OK, r.StatusCode);
        return JsonNode.Parse(await r.Content.ReadAsStringAsync())!;
    }

    [Fact]
    public async Task Buildah_pushes_an_image_built_from_scratch_and_podman_pulls_it_back()
    {
        File.WriteAllText(Path.Combine(_work, "hello.txt"), "hello from buildah\n");
        var container = (await RunAsync("buildah", "b1", "from", "scratch")).AssertOk("buildah from scratch").Stdout.Trim().Split('\n')[^1];
        (await RunAsync("buildah", "b1", "copy", container, Path.Combine(_work, "hello.txt"), "/hello.txt")).AssertOk("buildah copy");
        (await RunAsync("buildah", "b1", "config", "--label", "origin=arca-test", "--cmd", "/hello", container)).AssertOk("buildah config");
        (await RunAsync("buildah", "b1", "commit", container, "localhost/scratch-app:v1")).AssertOk("buildah commit");

        // A read-only token gets through the token flow but cannot push.
        var denied = await RunAsync("buildah", "b1", "push", "--tls-verify=false", "--creds", Creds(_readToken), "localhost/scratch-app:v1", Ref("private/scratch/app:v1"));
        Assert.NotEqual(0, denied.ExitCode);
        Assert.Equal(HttpStatusCode.NotFound, (await _server.Admin.GetAsync("v2/private/scratch/app/manifests/v1")).StatusCode);

        var digestFile = Path.Combine(_work, "pushed.digest");
        (await RunAsync("buildah", "b1", "push", "--tls-verify=false", "--creds", Creds(_writeToken), "--digestfile", digestFile,
            "localhost/scratch-app:v1", Ref("private/scratch/app:v1"))).AssertOk("buildah push");
        (await RunAsync("buildah", "b1", "push", "--tls-verify=false", "--creds", Creds(_writeToken),
            "localhost/scratch-app:v1", Ref("private/scratch/app:latest"))).AssertOk("buildah push second tag");
        var pushedDigest = File.ReadAllText(digestFile).Trim();
        var manifest = await ManifestAsync("private/scratch/app", "v1");
        Assert.Single(manifest["layers"]!.AsArray());
        var head = await _server.Admin.SendAsync(new HttpRequestMessage(HttpMethod.Head, $"v2/private/scratch/app/manifests/v1"));
        Assert.Equal(pushedDigest, head.Headers.GetValues("Docker-Content-Digest").Single());

        // podman: pull with a read-only token, check the digest and the config, list the tags.
        (await RunAsync("podman", "p1", "pull", "--tls-verify=false", "--creds", Creds(_readToken), $"{_server.HostPort}/private/scratch/app:v1"))
            .AssertOk("podman pull");
        var inspect = JsonNode.Parse((await RunAsync("podman", "p1", "image", "inspect", $"{_server.HostPort}/private/scratch/app:v1"))
            .AssertOk("podman image inspect").Stdout)!.AsArray()[0]!;
        Assert.Equal(pushedDigest, inspect["Digest"]!.GetValue<string>());
        Assert.Equal("arca-test", inspect["Labels"]!["origin"]!.GetValue<string>());

        // podman search takes no --creds: log in (the token flow, stored in REGISTRY_AUTH_FILE) and list the tags.
        (await RunAsync("podman", "p1", "login", "--tls-verify=false", "-u", "someone", "-p", _readToken, _server.HostPort)).AssertOk("podman login");
        var tags = (await RunAsync("podman", "p1", "search", "--list-tags", "--tls-verify=false",
            $"{_server.HostPort}/private/scratch/app")).AssertOk("podman search --list-tags");
        // podman 4.3 ignores --format with --list-tags: a NAME/TAG table.
        var rows = tags.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries).Skip(1)
            .Select(l => l.Split(' ', StringSplitOptions.RemoveEmptyEntries)).ToList();
        Assert.All(rows, r => Assert.Equal($"{_server.HostPort}/private/scratch/app", r[0]));
        Assert.Equal(["latest", "v1"], rows.Select(r => r[1]).Order());

        // Anonymous pull of a private registry is refused.
        var anonymous = await RunAsync("podman", "p2", "pull", "--tls-verify=false", $"{_server.HostPort}/private/scratch/app:v1");
        Assert.NotEqual(0, anonymous.ExitCode);
    }

    [Fact]
    public async Task Buildah_pushes_an_image_pulled_from_an_oci_layout_keeping_its_layers()
    {
        var (config, layer, manifest) = Image("linux", "amd64", "layout content");
        var layout = Path.Combine(_work, "layout");
        WriteLayout(layout, [config, layer, manifest], (manifest, "v1"));
        (await RunAsync("buildah", "b2", "pull", $"oci:{layout}:v1")).AssertOk("buildah pull oci:");
        var images = (await RunAsync("buildah", "b2", "images", "--format", "{{.ID}}")).AssertOk("buildah images").Stdout.Trim();
        var imageId = images.Split('\n')[0].Trim();
        (await RunAsync("buildah", "b2", "push", "--tls-verify=false", "--creds", Creds(_writeToken), imageId, Ref("private/from-layout:v1")))
            .AssertOk("buildah push");

        var pushed = await ManifestAsync("private/from-layout", "v1");
        var pushedLayers = pushed["layers"]!.AsArray().Select(l => l!["digest"]!.GetValue<string>()).ToList();
        Assert.Single(pushedLayers);
        // The layer's content survives (buildah may recompress it, so compare the files inside).
        var blob = await _server.Admin.GetByteArrayAsync($"v2/private/from-layout/blobs/{pushedLayers[0]}");
        Assert.Equal(Uncompressed(layer.Bytes), Uncompressed(blob));

        // podman reads it back through the token flow.
        (await RunAsync("podman", "p3", "pull", "--tls-verify=false", "--creds", Creds(_readToken), $"{_server.HostPort}/private/from-layout:v1"))
            .AssertOk("podman pull");
    }
}
