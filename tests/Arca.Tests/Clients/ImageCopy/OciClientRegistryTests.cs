using System.Security.Cryptography;
using Arca.Client.Oci;
using Arca.Tests.Infrastructure;

namespace Arca.Tests.Clients.ImageCopy;

/// <summary>The OCI client's operations against a real docker-registry: chunked uploads, mounts, catalog, referrers fallback, TLS.</summary>
public sealed class OciClientRegistryTests : IAsyncLifetime
{
    private DockerRegistryServer _registry = null!;

    public async Task InitializeAsync() => _registry = await DockerRegistryServer.StartAsync("carol", "pw");
    public async Task DisposeAsync() => await _registry.DisposeAsync();

    private OciRegistryClient Client(int? chunk = null) => new(_registry.HostPort, new OciClientOptions
    {
        Insecure = true,
        Credentials = new StaticCredentialProvider(RegistryCredential.Basic("carol", "pw")),
        UploadChunkSize = chunk,
    });

    private static (byte[] Bytes, string Digest) RandomBlob(int size)
    {
        var bytes = RandomNumberGenerator.GetBytes(size);
        return (bytes, "sha256:" + Convert.ToHexStringLower(SHA256.HashData(bytes)));
    }

    [Fact]
    public async Task Chunked_upload_streams_in_patches_and_the_blob_reads_back()
    {
        using var client = Client(chunk: 1024 * 1024);
        var (bytes, digest) = RandomBlob(2 * 1024 * 1024 + 123);
        Assert.Null(await client.HeadBlobAsync("chunks/app", digest));
        _registry.ClearLog();
        long reported = 0;
        await client.UploadBlobAsync("chunks/app", digest, new MemoryStream(bytes), bytes.Length, new Progress<long>(v => reported = v));
        Assert.Equal(3, _registry.Requests().Count(r => r.Method == "PATCH"));
        Assert.Equal(bytes.Length, await client.HeadBlobAsync("chunks/app", digest));
        using var download = await client.GetBlobAsync("chunks/app", digest);
        Assert.Equal(bytes.Length, download.Length);
        Assert.Equal(digest, "sha256:" + Convert.ToHexStringLower(await SHA256.HashDataAsync(download.Content)));

        // A wrong digest is refused by the registry and reported.
        var (other, _) = RandomBlob(1000);
        var e = await Assert.ThrowsAsync<OciException>(() => client.UploadBlobAsync("chunks/app", "sha256:" + new string('0', 64), new MemoryStream(other), other.Length));
        Assert.Equal(System.Net.HttpStatusCode.BadRequest, e.Status);
    }

    [Fact]
    public async Task Mount_from_a_repository_without_the_blob_falls_back_to_the_upload_session()
    {
        using var client = Client();
        var (bytes, digest) = RandomBlob(10_000);
        await client.UploadBlobAsync("mount/source", digest, new MemoryStream(bytes), bytes.Length);
        var mounted = await client.MountBlobAsync("mount/target", digest, "mount/source");
        Assert.True(mounted.Mounted);
        Assert.Equal(bytes.Length, await client.HeadBlobAsync("mount/target", digest));

        var (fresh, freshDigest) = RandomBlob(5_000);
        var declined = await client.MountBlobAsync("mount/target", freshDigest, "mount/nowhere");
        Assert.False(declined.Mounted);
        Assert.NotNull(declined.UploadLocation);
        await client.UploadBlobAsync("mount/target", freshDigest, new MemoryStream(fresh), fresh.Length, session: declined.UploadLocation);
        Assert.Equal(fresh.Length, await client.HeadBlobAsync("mount/target", freshDigest));
    }

    [Fact]
    public async Task Catalog_tags_and_referrers_through_the_fallback_tag()
    {
        var image = OciTestImage.Create("3.0", "client-" + Guid.NewGuid().ToString("N"), largeLayerBytes: 4096);
        try
        {
            await image.PushWithSkopeoAsync(_registry, "ref/app");
            using var client = Client();
            Assert.Contains("ref/app", await client.CatalogAsync(pageSize: 1).ToListAsync());
            var tags = await client.ListTagsAsync("ref/app", pageSize: 1).ToListAsync();
            Assert.Equal(new[] { "3.0", image.FallbackTag }.Order(), tags.Order());

            var referrers = await client.GetReferrersAsync("ref/app", image.IndexDigest);
            Assert.True(referrers.FromFallbackTag); // docker-registry 2.8 has no referrers API
            var referrer = Assert.Single(referrers.Referrers);
            Assert.Equal(image.ReferrerDigest, referrer.Digest);
            Assert.Equal(OciTestImage.SbomArtifactType, referrer.ArtifactType);
            Assert.False(await client.AddToFallbackTagAsync("ref/app", image.IndexDigest, referrer)); // already listed

            var index = await client.GetManifestAsync("ref/app", "3.0");
            Assert.True(index!.IsIndex);
            Assert.Equal(image.IndexDigest, index.Digest);
            Assert.Equal(image.PlatformManifestDigests, index.Manifests.Select(m => m.Digest));
            var head = await client.HeadManifestAsync("ref/app", "3.0");
            Assert.Equal((image.IndexDigest, OciMediaTypes.ImageIndex, index.Size), (head!.Digest, head.MediaType, head.Size));
            Assert.Null(await client.HeadManifestAsync("ref/app", "missing"));
        }
        finally { TempDir.TryDelete(image.LayoutDir); }
    }

    [Fact]
    public async Task Self_signed_tls_needs_insecure()
    {
        await using var tls = await DockerRegistryServer.StartAsync(tls: true);
        using var strict = new OciRegistryClient(tls.HostPort, new OciClientOptions { MaxRetries = 0 });
        var e = await Assert.ThrowsAsync<OciException>(() => strict.PingAsync());
        Assert.Contains("insecure", e.Message);
        using var insecure = new OciRegistryClient(tls.HostPort, new OciClientOptions { Insecure = true, MaxRetries = 0 });
        await insecure.PingAsync();
        var (bytes, digest) = RandomBlob(1000);
        await insecure.UploadBlobAsync("tls/app", digest, new MemoryStream(bytes), bytes.Length);
        Assert.Equal(1000, await insecure.HeadBlobAsync("tls/app", digest));
        Assert.Contains(tls.Requests(), r => r.Method == "PUT"); // really went over HTTPS to this server
    }
}
