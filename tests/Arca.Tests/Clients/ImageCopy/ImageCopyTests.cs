using System.Text.Json;
using Arca.Tests.Infrastructure;

namespace Arca.Tests.Clients.ImageCopy;

/// <summary>`arca image copy` between two real docker-registry 2.8 servers (no referrers API: tag-schema fallback).</summary>
public sealed class ImageCopyTests : IAsyncLifetime
{
    private DockerRegistryServer _a = null!;
    private DockerRegistryServer _b = null!;
    private OciTestImage _image = null!;

    public async Task InitializeAsync()
    {
        _a = await DockerRegistryServer.StartAsync();
        _b = await DockerRegistryServer.StartAsync();
        _image = OciTestImage.Create("1.0", "copy-" + Guid.NewGuid().ToString("N"));
        await _image.PushWithSkopeoAsync(_a, "team/app");
    }

    public async Task DisposeAsync()
    {
        await _a.DisposeAsync();
        await _b.DisposeAsync();
        TempDir.TryDelete(_image.LayoutDir);
    }

    internal static Task<ProcResult> Arca(params string[] args) => ArcaWithEnv(null, args);

    internal static Task<ProcResult> ArcaWithEnv(IDictionary<string, string?>? env, params string[] args)
    {
        var all = new Dictionary<string, string?> { ["DOCKER_CONFIG"] = TempDir.Create("docker-config") };
        if (env is not null) foreach (var (k, v) in env) all[k] = v;
        return ArcaCli.RunAsync(null, null, args, extraEnv: all);
    }

    internal static JsonElement Summary(ProcResult result) => JsonDocument.Parse(result.Stdout).RootElement;

    /// <summary>Asserts that <paramref name="registry"/> holds the whole image under repository:tag with identical digests
    /// and the referrer listed in the subject's fallback tag.</summary>
    internal static async Task AssertFullCopyAsync(OciTestImage image, DockerRegistryServer registry, string repository, string tag)
    {
        Assert.Equal(image.IndexDigest, await OciTestImage.RemoteManifestDigestAsync(registry, repository, tag));
        foreach (var platform in image.PlatformManifestDigests)
            Assert.Equal(platform, await OciTestImage.RemoteManifestDigestAsync(registry, repository, platform));
        Assert.Equal(image.ReferrerDigest, await OciTestImage.RemoteManifestDigestAsync(registry, repository, image.ReferrerDigest));
        var fallback = await Proc.RunAsync(Proc.Tool("skopeo"),
            ["inspect", "--raw", "--tls-verify=false", .. registry.Username is null ? Array.Empty<string>() : ["--creds", $"{registry.Username}:{registry.Password}"],
             $"docker://{registry.HostPort}/{repository}:{image.FallbackTag}"], env: OciTestImage.SkopeoEnv());
        fallback.AssertOk("skopeo inspect fallback tag");
        var listed = JsonDocument.Parse(fallback.Stdout).RootElement.GetProperty("manifests").EnumerateArray().ToList();
        var entry = Assert.Single(listed);
        Assert.Equal(image.ReferrerDigest, entry.GetProperty("digest").GetString());
        Assert.Equal(OciTestImage.SbomArtifactType, entry.GetProperty("artifactType").GetString());
    }

    [Fact]
    public async Task Copies_index_platforms_and_referrer_keeping_digests_and_rerun_transfers_nothing()
    {
        var result = await Arca("image", "copy", "--src-insecure", "--dest-insecure", "--format", "json",
            $"{_a.HostPort}/team/app:1.0", $"{_b.HostPort}/mirror/app:1.0");
        result.AssertOk("image copy");
        var summary = Summary(result);
        Assert.Equal(_image.Blobs.Count, summary.GetProperty("blobsCopied").GetInt64());
        Assert.Equal(_image.BlobBytes, summary.GetProperty("bytesCopied").GetInt64());
        Assert.Equal(1, summary.GetProperty("referrersCopied").GetInt64());
        Assert.Equal(4, summary.GetProperty("manifestsCopied").GetInt64()); // index, 2 platforms, referrer
        await AssertFullCopyAsync(_image, _b, "mirror/app", "1.0");
        Assert.True(_b.BlobUploadRequestCount() >= _image.Blobs.Count);

        _b.ClearLog();
        var again = await Arca("image", "copy", "--src-insecure", "--dest-insecure", "--format", "json",
            $"{_a.HostPort}/team/app:1.0", $"{_b.HostPort}/mirror/app:1.0");
        again.AssertOk("second image copy");
        var second = Summary(again);
        Assert.Equal(0, second.GetProperty("blobsCopied").GetInt64());
        Assert.Equal(0, second.GetProperty("bytesCopied").GetInt64());
        Assert.Equal(0, second.GetProperty("manifestsCopied").GetInt64());
        Assert.Equal(1, second.GetProperty("manifestsSkipped").GetInt64());
        Assert.Equal("skipped", second.GetProperty("images")[0].GetProperty("status").GetString());
        // The registry itself saw no upload and no manifest write.
        var writes = _b.Requests().Where(r => r.Method is "PUT" or "PATCH" or "POST").ToList();
        Assert.True(writes.Count == 0, "re-run wrote to the destination: " + string.Join(", ", writes));
        Assert.NotEmpty(_b.Requests()); // the log is really captured (HEADs of the re-run)
        await AssertFullCopyAsync(_image, _b, "mirror/app", "1.0");
    }
}
