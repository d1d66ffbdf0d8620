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

    [Fact]
    public async Task Differing_tag_is_a_conflict_without_overwrite_and_replaced_with_it()
    {
        var other = OciTestImage.Create("1.0", "other-" + Guid.NewGuid().ToString("N"), largeLayerBytes: 64 * 1024);
        try
        {
            await other.PushWithSkopeoAsync(_b, "mirror/app");
            _b.ClearLog();
            var conflict = await Arca("image", "copy", "--src-insecure", "--dest-insecure",
                $"{_a.HostPort}/team/app:1.0", $"{_b.HostPort}/mirror/app:1.0");
            Assert.Equal(1, conflict.ExitCode);
            Assert.Contains("--overwrite", conflict.Stderr);
            Assert.Equal(other.IndexDigest, await OciTestImage.RemoteManifestDigestAsync(_b, "mirror/app", "1.0"));
            Assert.Null(await OciTestImage.RemoteManifestDigestAsync(_b, "mirror/app", _image.PlatformManifestDigests[0]));
            Assert.DoesNotContain(_b.Requests(), r => r.Method is "PUT" or "PATCH" or "POST");

            var overwrite = await Arca("image", "copy", "--src-insecure", "--dest-insecure", "--overwrite", "--format", "json",
                $"{_a.HostPort}/team/app:1.0", $"{_b.HostPort}/mirror/app:1.0");
            overwrite.AssertOk("image copy --overwrite");
            Assert.Equal("overwritten", Summary(overwrite).GetProperty("images")[0].GetProperty("status").GetString());
            await AssertFullCopyAsync(_image, _b, "mirror/app", "1.0");
        }
        finally { TempDir.TryDelete(other.LayoutDir); }
    }

    [Fact]
    public async Task Platform_copies_one_manifest_and_no_referrers_skips_them()
    {
        var result = await Arca("image", "copy", "--src-insecure", "--dest-insecure", "--platform", "linux/arm64", "--no-referrers", "--format", "json",
            $"{_a.HostPort}/team/app:1.0", $"{_b.HostPort}/arm/app:1.0");
        result.AssertOk("image copy --platform");
        Assert.Equal(_image.PlatformManifestDigests[1], await OciTestImage.RemoteManifestDigestAsync(_b, "arm/app", "1.0"));
        Assert.Null(await OciTestImage.RemoteManifestDigestAsync(_b, "arm/app", _image.PlatformManifestDigests[0]));
        Assert.Null(await OciTestImage.RemoteManifestDigestAsync(_b, "arm/app", _image.ReferrerDigest));
        var summary = Summary(result);
        Assert.Equal(3, summary.GetProperty("blobsCopied").GetInt64()); // shared base layer, arm64 layer, arm64 config
        Assert.Equal(0, summary.GetProperty("referrersCopied").GetInt64());
    }

    [Fact]
    public async Task All_tags_copies_the_repository_and_same_registry_copies_mount_blobs()
    {
        (await Proc.RunAsync(Proc.Tool("skopeo"),
            ["copy", "--all", "--preserve-digests", "--src-tls-verify=false", "--dest-tls-verify=false",
             $"docker://{_a.HostPort}/team/app:1.0", $"docker://{_a.HostPort}/team/app:latest"], env: OciTestImage.SkopeoEnv())).AssertOk("skopeo tag latest");

        var all = await Arca("image", "copy", "--src-insecure", "--dest-insecure", "--all-tags", "--format", "json",
            $"{_a.HostPort}/team/app", $"{_b.HostPort}/all/app");
        all.AssertOk("image copy --all-tags");
        var images = Summary(all).GetProperty("images").EnumerateArray().Select(i => i.GetProperty("destination").GetString()).ToList();
        Assert.Equal(2, images.Count); // 1.0 and latest; the fallback tag travels as a referrer, not as a tag
        await AssertFullCopyAsync(_image, _b, "all/app", "1.0");
        Assert.Equal(_image.IndexDigest, await OciTestImage.RemoteManifestDigestAsync(_b, "all/app", "latest"));

        // Within one registry, blobs are mounted from the source repository instead of transferred.
        _a.ClearLog();
        var mount = await Arca("image", "copy", "--src-insecure", "--dest-insecure", "--format", "json",
            $"{_a.HostPort}/team/app:1.0", $"{_a.HostPort}/other/app:1.0");
        mount.AssertOk("same-registry copy");
        var summary = Summary(mount);
        Assert.Equal(_image.Blobs.Count, summary.GetProperty("blobsMounted").GetInt64());
        Assert.Equal(0, summary.GetProperty("bytesCopied").GetInt64());
        Assert.Contains(_a.Requests(), r => r.Method == "POST" && r.Uri.Contains("mount=", StringComparison.Ordinal));
        Assert.Equal(0, _a.BlobUploadRequestCount());
        await AssertFullCopyAsync(_image, _a, "other/app", "1.0");
    }

    [Fact]
    public async Task Missing_source_and_bad_reference_fail_clearly()
    {
        var missing = await Arca("image", "copy", "--src-insecure", "--dest-insecure", $"{_a.HostPort}/team/app:nope", $"{_b.HostPort}/x/app:1");
        Assert.Equal(1, missing.ExitCode);
        Assert.Contains("not found", missing.Stderr);
        var bad = await Arca("image", "copy", $"{_a.HostPort}/Team/App:1", $"{_b.HostPort}/x/app:1");
        Assert.Equal(2, bad.ExitCode);
        var closed = await Arca("image", "copy", "--src-insecure", $"127.0.0.1:{DockerRegistryServer.FreePort()}/a/b:1", $"{_b.HostPort}/x/app:1");
        Assert.Equal(1, closed.ExitCode);
        Assert.Contains("cannot reach", closed.Stderr);
    }

    [Fact]
    public async Task Referrers_of_referrers_are_copied_recursively()
    {
        var signed = OciTestImage.Create("1.0", "signed-" + Guid.NewGuid().ToString("N"), largeLayerBytes: 4096, withSignature: true);
        try
        {
            await signed.PushWithSkopeoAsync(_a, "signed/app");
            var result = await Arca("image", "copy", "--src-insecure", "--dest-insecure", "--format", "json",
                $"{_a.HostPort}/signed/app:1.0", $"{_b.HostPort}/signed/app:1.0");
            result.AssertOk("copy signed image");
            Assert.Equal(2, Summary(result).GetProperty("referrersCopied").GetInt64());
            await AssertFullCopyAsync(signed, _b, "signed/app", "1.0");
            Assert.Equal(signed.SignatureDigest, await OciTestImage.RemoteManifestDigestAsync(_b, "signed/app", signed.SignatureDigest!));
            var fallback = await Proc.RunAsync(Proc.Tool("skopeo"),
                ["inspect", "--raw", "--tls-verify=false", $"docker://{_b.HostPort}/signed/app:{signed.ReferrerDigest.Replace(':', '-')}"], env: OciTestImage.SkopeoEnv());
            fallback.AssertOk("signature fallback tag");
            Assert.Equal(signed.SignatureDigest, JsonDocument.Parse(fallback.Stdout).RootElement.GetProperty("manifests")[0].GetProperty("digest").GetString());
        }
        finally { TempDir.TryDelete(signed.LayoutDir); }
    }
}
