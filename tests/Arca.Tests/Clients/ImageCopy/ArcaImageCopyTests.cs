using System.Net.Http.Headers;
using System.Text.Json;
using Arca.Tests.Infrastructure;

namespace Arca.Tests.Clients.ImageCopy;

/// <summary>
/// docker-registry → Arca → docker-registry with `arca image copy`: digests identical at every hop; on Arca the
/// referrer is found through its referrers API, on docker-registry through the tag-schema fallback.
/// </summary>
public sealed class ArcaImageCopyTests : IAsyncLifetime
{
    private DockerRegistryServer _source = null!;
    private DockerRegistryServer _target = null!;
    private TestServer _arca = null!;
    private OciTestImage _image = null!;

    public async Task InitializeAsync()
    {
        _source = await DockerRegistryServer.StartAsync();
        _target = await DockerRegistryServer.StartAsync("dave", "target-pw");
        _arca = await TestServer.StartAsync();
        await _arca.CreateRegistryAsync("docker-prod", "DOCKER");
        _image = OciTestImage.Create("1.0", "arca-" + Guid.NewGuid().ToString("N"), largeLayerBytes: 1024 * 1024);
        await _image.PushWithSkopeoAsync(_source, "team/app");
    }

    public async Task DisposeAsync()
    {
        await _source.DisposeAsync();
        await _target.DisposeAsync();
        await _arca.DisposeAsync();
        TempDir.TryDelete(_image.LayoutDir);
    }

    private async Task<string?> ArcaManifestDigestAsync(string repository, string reference)
    {
        var result = await Proc.RunAsync(Proc.Tool("skopeo"),
            ["inspect", "--raw", "--tls-verify=false", "--creds", $"admin:{_arca.AdminToken}",
             $"docker://{_arca.HostPort}/{repository}{(reference.StartsWith("sha256:") ? "@" : ":")}{reference}"], env: OciTestImage.SkopeoEnv());
        if (result.ExitCode != 0) return null;
        return "sha256:" + Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(result.Stdout.TrimEnd('\n'))));
    }

    [Fact]
    public async Task Docker_registry_to_arca_to_docker_registry_keeps_digests_and_referrers()
    {
        // 1. docker-registry -> Arca (token flow with the admin token as password).
        var toArca = await ImageCopyTests.Arca("image", "copy", "--src-insecure", "--dest-insecure", "--format", "json",
            "--dest-creds", $"admin:{_arca.AdminToken}",
            $"{_source.HostPort}/team/app:1.0", $"{_arca.HostPort}/docker-prod/team/app:1.0");
        toArca.AssertOk("copy docker-registry -> arca");
        Assert.Equal(1, ImageCopyTests.Summary(toArca).GetProperty("referrersCopied").GetInt64());
        Assert.Equal(_image.IndexDigest, await ArcaManifestDigestAsync("docker-prod/team/app", "1.0"));
        foreach (var platform in _image.PlatformManifestDigests)
            Assert.Equal(platform, await ArcaManifestDigestAsync("docker-prod/team/app", platform));
        Assert.Equal(_image.ReferrerDigest, await ArcaManifestDigestAsync("docker-prod/team/app", _image.ReferrerDigest));

        // Arca lists the referrer through its referrers API, so no fallback tag was needed there.
        using var http = _arca.CreateClient(_arca.AdminToken);
        var referrers = JsonDocument.Parse(await http.GetStringAsync($"v2/docker-prod/team/app/referrers/{_image.IndexDigest}")).RootElement;
        var listed = Assert.Single(referrers.GetProperty("manifests").EnumerateArray());
        Assert.Equal(_image.ReferrerDigest, listed.GetProperty("digest").GetString());
        Assert.Equal(OciTestImage.SbomArtifactType, listed.GetProperty("artifactType").GetString());
        var tags = JsonDocument.Parse(await http.GetStringAsync("v2/docker-prod/team/app/tags/list")).RootElement
            .GetProperty("tags").EnumerateArray().Select(t => t.GetString()).ToList();
        Assert.Equal(["1.0"], tags);

        // 2. Arca -> a second docker-registry (Basic auth); referrers read from Arca's API, written as a fallback tag.
        var fromArca = await ImageCopyTests.Arca("image", "copy", "--src-insecure", "--dest-insecure", "--format", "json",
            "--src-creds", $"admin:{_arca.AdminToken}", "--dest-creds", "dave:target-pw",
            $"{_arca.HostPort}/docker-prod/team/app:1.0", $"{_target.HostPort}/mirror/app:1.0");
        fromArca.AssertOk("copy arca -> docker-registry");
        Assert.Equal(_image.BlobBytes, ImageCopyTests.Summary(fromArca).GetProperty("bytesCopied").GetInt64());
        await ImageCopyTests.AssertFullCopyAsync(_image, _target, "mirror/app", "1.0");

        // 3. Both hops again: nothing transferred.
        var again = await ImageCopyTests.Arca("image", "copy", "--src-insecure", "--dest-insecure", "--format", "json",
            "--dest-creds", $"admin:{_arca.AdminToken}",
            $"{_source.HostPort}/team/app:1.0", $"{_arca.HostPort}/docker-prod/team/app:1.0");
        again.AssertOk("re-run docker-registry -> arca");
        Assert.Equal(0, ImageCopyTests.Summary(again).GetProperty("bytesCopied").GetInt64());
        Assert.Equal(0, ImageCopyTests.Summary(again).GetProperty("manifestsCopied").GetInt64());
        _target.ClearLog();
        var again2 = await ImageCopyTests.Arca("image", "copy", "--src-insecure", "--dest-insecure", "--format", "json",
            "--src-creds", $"admin:{_arca.AdminToken}", "--dest-creds", "dave:target-pw",
            $"{_arca.HostPort}/docker-prod/team/app:1.0", $"{_target.HostPort}/mirror/app:1.0");
        again2.AssertOk("re-run arca -> docker-registry");
        Assert.Equal(0, ImageCopyTests.Summary(again2).GetProperty("bytesCopied").GetInt64());
        Assert.DoesNotContain(_target.Requests(), r => r.Method is "PUT" or "PATCH" or "POST");
    }

    [Fact]
    public async Task Differing_tag_on_arca_is_refused_without_overwrite()
    {
        var other = OciTestImage.Create("1.0", "arca-other-" + Guid.NewGuid().ToString("N"), largeLayerBytes: 4096);
        try
        {
            await other.PushWithSkopeoAsync(_target, "other/app");
            var first = await ImageCopyTests.Arca("image", "copy", "--src-insecure", "--dest-insecure",
                "--src-creds", "dave:target-pw", "--dest-creds", $"admin:{_arca.AdminToken}",
                $"{_target.HostPort}/other/app:1.0", $"{_arca.HostPort}/docker-prod/team/app:1.0");
            first.AssertOk("copy other image to arca");
            var conflict = await ImageCopyTests.Arca("image", "copy", "--src-insecure", "--dest-insecure",
                "--dest-creds", $"admin:{_arca.AdminToken}",
                $"{_source.HostPort}/team/app:1.0", $"{_arca.HostPort}/docker-prod/team/app:1.0");
            Assert.Equal(1, conflict.ExitCode);
            Assert.Equal(other.IndexDigest, await ArcaManifestDigestAsync("docker-prod/team/app", "1.0"));
            Assert.Null(await ArcaManifestDigestAsync("docker-prod/team/app", _image.PlatformManifestDigests[0]));
        }
        finally { TempDir.TryDelete(other.LayoutDir); }
    }

    [Fact]
    public async Task Anonymous_token_flow_pulls_from_a_public_arca_registry_and_read_only_token_cannot_push()
    {
        await _arca.CreateRegistryAsync("public-images", "DOCKER", isPublic: true);
        var push = await ImageCopyTests.Arca("image", "copy", "--src-insecure", "--dest-insecure",
            "--dest-creds", $"admin:{_arca.AdminToken}",
            $"{_source.HostPort}/team/app:1.0", $"{_arca.HostPort}/public-images/team/app:1.0");
        push.AssertOk("copy into the public registry");

        // No source credentials: Arca's anonymous token flow.
        var pull = await ImageCopyTests.Arca("image", "copy", "--src-insecure", "--dest-insecure", "--dest-creds", "dave:target-pw",
            $"{_arca.HostPort}/public-images/team/app:1.0", $"{_target.HostPort}/anon/app:1.0");
        pull.AssertOk("anonymous copy out of arca");
        await ImageCopyTests.AssertFullCopyAsync(_image, _target, "anon/app", "1.0");

        // A read-only token is refused on push: authorization failure, exit code 3.
        var readOnly = await _arca.CreateTokenAsync("read", "docker-prod");
        var denied = await ImageCopyTests.Arca("image", "copy", "--src-insecure", "--dest-insecure",
            "--dest-creds", $"ci:{readOnly}",
            $"{_source.HostPort}/team/app:1.0", $"{_arca.HostPort}/docker-prod/readonly/app:1.0");
        Assert.Equal(3, denied.ExitCode);
    }
}
