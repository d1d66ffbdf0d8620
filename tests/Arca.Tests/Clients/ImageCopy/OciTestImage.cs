using System.Formats.Tar;
using System.IO.Compression;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Arca.Tests.Infrastructure;

namespace Arca.Tests.Clients.ImageCopy;

/// <summary>
/// Writes an OCI image layout by hand: a two-platform index (linux/amd64, linux/arm64; a shared base layer and one
/// layer per platform) plus a referrer (an SBOM artifact manifest whose subject is the index), listed in the
/// tag-schema fallback index "sha256-&lt;index hex&gt;". Pushed to a registry with skopeo, which keeps digests.
/// </summary>
public sealed class OciTestImage
{
    public string LayoutDir { get; }
    public string IndexDigest { get; private set; } = "";
    public string ReferrerDigest { get; private set; } = "";
    public string FallbackIndexDigest { get; private set; } = "";
    /// <summary>A signature whose subject is the SBOM referrer (a referrer of a referrer), when created with one.</summary>
    public string? SignatureDigest { get; private set; }
    public string? SignatureFallbackIndexDigest { get; private set; }
    public const string SignatureArtifactType = "application/vnd.example.signature.v1+json";
    public List<string> PlatformManifestDigests { get; } = [];
    /// <summary>Every distinct blob of the image and its referrer (layers, configs, the SBOM and the empty config).</summary>
    public List<(string Digest, long Size)> Blobs { get; } = [];
    public long BlobBytes => Blobs.Sum(b => b.Size);
    public string Tag { get; }
    public string FallbackTag => IndexDigest.Replace(':', '-');
    public const string SbomArtifactType = "application/vnd.example.sbom.v1+json";

    private readonly List<object> _layoutEntries = [];

    private OciTestImage(string dir, string tag) { LayoutDir = dir; Tag = tag; }

    /// <param name="seed">Makes the content (and so every digest) unique to the image.</param>
    public static OciTestImage Create(string tag, string seed, int largeLayerBytes = 3 * 1024 * 1024, bool withSignature = false)
    {
        var image = new OciTestImage(TempDir.Create("oci-layout"), tag);
        image.Build(seed, largeLayerBytes);
        if (withSignature) image.AddSignature(seed);
        return image;
    }

    private void AddSignature(string seed)
    {
        var empty = WriteBlob("{}"u8.ToArray());
        var payload = WriteBlob(Encoding.UTF8.GetBytes($"signature of the sbom {seed}"));
        Blobs.Add(payload);
        var referrerSize = ReadBlob(ReferrerDigest).Length;
        var signature = WriteBlob(Json(new
        {
            schemaVersion = 2,
            mediaType = "application/vnd.oci.image.manifest.v1+json",
            artifactType = SignatureArtifactType,
            config = new { mediaType = "application/vnd.oci.empty.v1+json", digest = empty.Digest, size = empty.Size },
            layers = new[] { new { mediaType = "application/octet-stream", digest = payload.Digest, size = payload.Size } },
            subject = new { mediaType = "application/vnd.oci.image.manifest.v1+json", digest = ReferrerDigest, size = (long)referrerSize },
        }));
        SignatureDigest = signature.Digest;
        SignatureFallbackIndexDigest = WriteBlob(Json(new
        {
            schemaVersion = 2,
            mediaType = "application/vnd.oci.image.index.v1+json",
            manifests = new[] { new { mediaType = "application/vnd.oci.image.manifest.v1+json", digest = signature.Digest, size = signature.Size, artifactType = SignatureArtifactType } },
        })).Digest;
    }

    private (string Digest, long Size) WriteBlob(byte[] bytes)
    {
        var hex = Convert.ToHexStringLower(SHA256.HashData(bytes));
        var dir = Path.Combine(LayoutDir, "blobs", "sha256");
        Directory.CreateDirectory(dir);
        File.WriteAllBytes(Path.Combine(dir, hex), bytes);
        return ("sha256:" + hex, bytes.Length);
    }

    private static byte[] Json(object value) => JsonSerializer.SerializeToUtf8Bytes(value);

    private static byte[] LayerTarGz(string fileName, byte[] content)
    {
        using var buffer = new MemoryStream();
        using (var gzip = new GZipStream(buffer, CompressionLevel.Fastest, leaveOpen: true))
        using (var tar = new TarWriter(gzip, TarEntryFormat.Pax, leaveOpen: true))
        {
            var entry = new PaxTarEntry(TarEntryType.RegularFile, fileName)
            {
                DataStream = new MemoryStream(content), ModificationTime = new DateTimeOffset(2024, 1, 1, 0, 0, 0, TimeSpan.Zero),
            };
            tar.WriteEntry(entry);
        }
        return buffer.ToArray();
    }

    private void Build(string seed, int largeLayerBytes)
    {
        File.WriteAllText(Path.Combine(LayoutDir, "oci-layout"), "{\"imageLayoutVersion\":\"1.0.0\"}");
        // Random bytes do not compress, so the layer really is about largeLayerBytes on the wire.
        var random = new Random(seed.GetHashCode());
        var large = new byte[largeLayerBytes];
        random.NextBytes(large);
        var baseLayer = WriteBlob(LayerTarGz("base.bin", large));
        Blobs.Add(baseLayer);

        var platforms = new List<object>();
        foreach (var arch in new[] { "amd64", "arm64" })
        {
            var layer = WriteBlob(LayerTarGz($"app-{arch}.txt", Encoding.UTF8.GetBytes($"{seed} app for {arch}\n")));
            Blobs.Add(layer);
            var diffIds = new[] { "sha256:" + Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(seed + arch))) };
            var config = WriteBlob(Json(new
            {
                architecture = arch, os = "linux", created = "2024-01-01T00:00:00Z",
                config = new { Env = new[] { $"SEED={seed}" } },
                rootfs = new { type = "layers", diff_ids = new[] { diffIds[0], diffIds[0] } },
            }));
            Blobs.Add(config);
            var manifest = WriteBlob(Json(new
            {
                schemaVersion = 2,
                mediaType = "application/vnd.oci.image.manifest.v1+json",
                config = new { mediaType = "application/vnd.oci.image.config.v1+json", digest = config.Digest, size = config.Size },
                layers = new[]
                {
                    new { mediaType = "application/vnd.oci.image.layer.v1.tar+gzip", digest = baseLayer.Digest, size = baseLayer.Size },
                    new { mediaType = "application/vnd.oci.image.layer.v1.tar+gzip", digest = layer.Digest, size = layer.Size },
                },
            }));
            PlatformManifestDigests.Add(manifest.Digest);
            platforms.Add(new { mediaType = "application/vnd.oci.image.manifest.v1+json", digest = manifest.Digest, size = manifest.Size, platform = new { architecture = arch, os = "linux" } });
        }
        var index = WriteBlob(Json(new { schemaVersion = 2, mediaType = "application/vnd.oci.image.index.v1+json", manifests = platforms }));
        IndexDigest = index.Digest;

        // The referrer: an artifact (OCI 1.1 style image manifest with artifactType, empty config) about the index.
        var empty = WriteBlob("{}"u8.ToArray());
        var sbom = WriteBlob(Json(new { spdxVersion = "SPDX-2.3", name = $"sbom-{seed}" }));
        Blobs.Add(empty);
        Blobs.Add(sbom);
        var referrer = WriteBlob(Json(new
        {
            schemaVersion = 2,
            mediaType = "application/vnd.oci.image.manifest.v1+json",
            artifactType = SbomArtifactType,
            config = new { mediaType = "application/vnd.oci.empty.v1+json", digest = empty.Digest, size = empty.Size },
            layers = new[] { new { mediaType = "application/spdx+json", digest = sbom.Digest, size = sbom.Size } },
            subject = new { mediaType = "application/vnd.oci.image.index.v1+json", digest = index.Digest, size = index.Size },
            annotations = new Dictionary<string, string> { ["org.opencontainers.image.created"] = "2024-01-01T00:00:00Z" },
        }));
        ReferrerDigest = referrer.Digest;
        var fallback = WriteBlob(Json(new
        {
            schemaVersion = 2,
            mediaType = "application/vnd.oci.image.index.v1+json",
            manifests = new[]
            {
                new
                {
                    mediaType = "application/vnd.oci.image.manifest.v1+json", digest = referrer.Digest, size = referrer.Size,
                    artifactType = SbomArtifactType,
                    annotations = new Dictionary<string, string> { ["org.opencontainers.image.created"] = "2024-01-01T00:00:00Z" },
                },
            },
        }));
        FallbackIndexDigest = fallback.Digest;

        var layoutIndex = new
        {
            schemaVersion = 2,
            manifests = new object[]
            {
                new { mediaType = "application/vnd.oci.image.index.v1+json", digest = index.Digest, size = index.Size,
                    annotations = new Dictionary<string, string> { ["org.opencontainers.image.ref.name"] = Tag } },
                new { mediaType = "application/vnd.oci.image.index.v1+json", digest = fallback.Digest, size = fallback.Size,
                    annotations = new Dictionary<string, string> { ["org.opencontainers.image.ref.name"] = FallbackTag } },
            },
        };
        File.WriteAllBytes(Path.Combine(LayoutDir, "index.json"), Json(layoutIndex));
    }

    /// <summary>
    /// Pushes the index (tag <see cref="Tag"/>) with skopeo, then the referrer and its fallback index with plain HTTP
    /// requests (skopeo 1.9 re-serializes an index whose entries carry artifactType, which would change its digest).
    /// </summary>
    public async Task PushWithSkopeoAsync(DockerRegistryServer registry, string repository, string? tag = null)
    {
        var creds = registry.Username is null ? Array.Empty<string>() : ["--dest-creds", $"{registry.Username}:{registry.Password}"];
        (await Proc.RunAsync(Proc.Tool("skopeo"),
            ["copy", "--all", "--preserve-digests", "--dest-tls-verify=false", .. creds,
             $"oci:{LayoutDir}:{Tag}", $"docker://{registry.HostPort}/{repository}:{tag ?? Tag}"],
            env: SkopeoEnv())).AssertOk("skopeo copy of the test index");
        await PushReferrerAsync(registry.BaseUrl, repository, registry.Username is null ? null : $"{registry.Username}:{registry.Password}");
    }

    /// <summary>PUTs the referrer's blobs and manifest and the fallback tag index, as a referrers-unaware client would.</summary>
    public async Task PushReferrerAsync(string baseUrl, string repository, string? basicCredentials, bool withFallbackTag = true)
    {
        using var http = new HttpClient();
        if (basicCredentials is not null)
            http.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Basic",
                Convert.ToBase64String(Encoding.UTF8.GetBytes(basicCredentials)));
        await PushBlobsAsync(http, baseUrl, repository, JsonDocument.Parse(ReadBlob(ReferrerDigest)).RootElement);
        await PutManifestAsync(http, $"{baseUrl}/v2/{repository}/manifests/{ReferrerDigest}", ReadBlob(ReferrerDigest), "application/vnd.oci.image.manifest.v1+json");
        if (withFallbackTag)
            await PutManifestAsync(http, $"{baseUrl}/v2/{repository}/manifests/{FallbackTag}", ReadBlob(FallbackIndexDigest), "application/vnd.oci.image.index.v1+json");
        if (SignatureDigest is not null)
        {
            await PushBlobsAsync(http, baseUrl, repository, JsonDocument.Parse(ReadBlob(SignatureDigest)).RootElement);
            await PutManifestAsync(http, $"{baseUrl}/v2/{repository}/manifests/{SignatureDigest}", ReadBlob(SignatureDigest), "application/vnd.oci.image.manifest.v1+json");
            if (withFallbackTag)
                await PutManifestAsync(http, $"{baseUrl}/v2/{repository}/manifests/{ReferrerDigest.Replace(':', '-')}", ReadBlob(SignatureFallbackIndexDigest!), "application/vnd.oci.image.index.v1+json");
        }
    }

    private async Task PushBlobsAsync(HttpClient http, string baseUrl, string repository, JsonElement manifest)
    {
        foreach (var blob in new[] { manifest.GetProperty("config") }.Concat(manifest.GetProperty("layers").EnumerateArray()))
        {
            var digest = blob.GetProperty("digest").GetString()!;
            using var start = await http.PostAsync($"{baseUrl}/v2/{repository}/blobs/uploads/", null);
            Assert.Equal(System.Net.HttpStatusCode.Accepted, start.StatusCode);
            var location = start.Headers.Location!;
            var uri = location.IsAbsoluteUri ? location : new Uri(new Uri(baseUrl), location);
            using var put = await http.PutAsync(uri + (uri.Query.Length > 0 ? "&" : "?") + "digest=" + digest, new ByteArrayContent(ReadBlob(digest)));
            Assert.True(put.IsSuccessStatusCode, $"blob upload {digest}: {(int)put.StatusCode}");
        }
    }

    private static async Task PutManifestAsync(HttpClient http, string url, byte[] bytes, string mediaType)
    {
        var content = new ByteArrayContent(bytes);
        content.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue(mediaType);
        using var put = await http.PutAsync(url, content);
        Assert.True(put.IsSuccessStatusCode, $"PUT {url}: {(int)put.StatusCode} {await put.Content.ReadAsStringAsync()}");
    }

    public byte[] ReadBlob(string digest) => File.ReadAllBytes(Path.Combine(LayoutDir, "blobs", "sha256", digest["sha256:".Length..]));

    /// <summary>Keeps skopeo away from the machine's registries.conf, policy and auth files.</summary>
    public static Dictionary<string, string?> SkopeoEnv()
    {
        var dir = TempDir.Create("skopeo-home");
        File.WriteAllText(Path.Combine(dir, "policy.json"), "{\"default\":[{\"type\":\"insecureAcceptAnything\"}]}");
        return new Dictionary<string, string?>
        {
            ["HOME"] = dir,
            ["XDG_RUNTIME_DIR"] = dir,
            ["CONTAINERS_POLICY_JSON"] = Path.Combine(dir, "policy.json"),
            ["REGISTRY_AUTH_FILE"] = Path.Combine(dir, "auth.json"),
        };
    }

    /// <summary>sha256 of the manifest bytes a registry serves for repository:reference (via `skopeo inspect --raw`).</summary>
    public static async Task<string?> RemoteManifestDigestAsync(DockerRegistryServer registry, string repository, string reference)
    {
        var creds = registry.Username is null ? Array.Empty<string>() : ["--creds", $"{registry.Username}:{registry.Password}"];
        var sep = reference.StartsWith("sha256:") ? "@" : ":";
        var result = await Proc.RunAsync(Proc.Tool("skopeo"),
            ["inspect", "--raw", "--tls-verify=false", .. creds, $"docker://{registry.HostPort}/{repository}{sep}{reference}"], env: SkopeoEnv());
        if (result.ExitCode != 0) return null;
        // skopeo prints the raw bytes plus a newline
        var raw = Encoding.UTF8.GetBytes(result.Stdout.TrimEnd('\n'));
        return "sha256:" + Convert.ToHexStringLower(SHA256.HashData(raw));
    }
}
