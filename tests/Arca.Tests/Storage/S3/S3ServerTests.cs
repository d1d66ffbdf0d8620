using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Security.Cryptography;
using Arca.Tests.Infrastructure;
using static Arca.Tests.Http.Oci.OciTestContent;

namespace Arca.Tests.Storage;

/// <summary>
/// `arca serve --blob-store s3://...` as a real process against s3rver, credentials from the environment as in
/// production: generic files (single PUT and multipart), ranges, deduplication, GC, and skopeo pushing and pulling an
/// image. Blob objects are checked in the bucket itself.
/// </summary>
public sealed class S3ServerTests : IAsyncLifetime
{
    private S3Server _s3 = null!;
    private ServerProcess _server = null!;
    private readonly string _work = TempDir.Create("s3-server");

    public async Task InitializeAsync()
    {
        _s3 = await S3Server.StartAsync();
        _server = new ServerProcess();
        _server.ExtraArgs.AddRange(["--blob-store", _s3.BlobStoreUri("arca")]);
        _server.ExtraEnvironment["AWS_ACCESS_KEY_ID"] = S3Server.AccessKey;
        _server.ExtraEnvironment["AWS_SECRET_ACCESS_KEY"] = S3Server.SecretKey;
        try { await _server.StartAsync(); }
        catch
        {
            // xunit does not dispose a class whose initialisation failed: stop what was started here.
            await _server.DisposeAsync();
            await _s3.DisposeAsync();
            throw;
        }
    }

    public async Task DisposeAsync()
    {
        await _server.DisposeAsync();
        await _s3.DisposeAsync();
        TempDir.TryDelete(_work);
    }

    /// <summary>Blob objects s3rver holds under the server's prefix (s3rver keeps an object's bytes in "&lt;key&gt;._S3rver_object").</summary>
    private string[] BlobObjects() =>
        Directory.EnumerateFiles(_s3.Dir, "*._S3rver_object", SearchOption.AllDirectories)
            .Where(f => f.Contains("/arca/blobs/sha256/", StringComparison.Ordinal))
            .ToArray();

    [Fact]
    public async Task Generic_files_live_in_the_bucket_with_ranges_dedup_and_gc()
    {
        using var admin = _server.CreateClient(_server.AdminToken);
        (await admin.PostAsJsonAsync("api/v1/registries", new { identifier = "files", packageType = "GENERIC" })).EnsureSuccessStatusCode();
        var small = RandomNumberGenerator.GetBytes(300_000);
        var large = RandomNumberGenerator.GetBytes(11 * 1024 * 1024 + 7); // above the 5 MiB part size: multipart
        (await admin.PutAsync("pkg/files/generic/tool/1.0/small.bin", new ByteArrayContent(small))).EnsureSuccessStatusCode();
        var put = new HttpRequestMessage(HttpMethod.Put, "pkg/files/generic/tool/1.0/large.bin") { Content = new ByteArrayContent(large) };
        put.Headers.Add("X-Checksum-Sha256", Convert.ToHexStringLower(SHA256.HashData(large)));
        (await admin.SendAsync(put)).EnsureSuccessStatusCode();
        Assert.Equal(2, BlobObjects().Length);

        Assert.Equal(small, await admin.GetByteArrayAsync("pkg/files/generic/tool/1.0/small.bin"));
        Assert.Equal(large, await admin.GetByteArrayAsync("pkg/files/generic/tool/1.0/large.bin"));
        var ranged = new HttpRequestMessage(HttpMethod.Get, "pkg/files/generic/tool/1.0/large.bin");
        ranged.Headers.Range = new RangeHeaderValue(6_000_000, 6_000_099);
        using var partial = await admin.SendAsync(ranged);
        Assert.Equal(HttpStatusCode.PartialContent, partial.StatusCode);
        Assert.Equal(large.AsSpan(6_000_000, 100).ToArray(), await partial.Content.ReadAsByteArrayAsync());

        // Same bytes under another version (announced by checksum): stored once.
        var copy = new HttpRequestMessage(HttpMethod.Put, "pkg/files/generic/tool/2.0/large-copy.bin") { Content = new ByteArrayContent(large) };
        copy.Headers.Add("X-Checksum-Sha256", Convert.ToHexStringLower(SHA256.HashData(large)));
        (await admin.SendAsync(copy)).EnsureSuccessStatusCode();
        Assert.Equal(2, BlobObjects().Length);

        // A wrong checksum stores nothing.
        var bad = new HttpRequestMessage(HttpMethod.Put, "pkg/files/generic/tool/3.0/bad.bin") { Content = new ByteArrayContent(RandomNumberGenerator.GetBytes(7 * 1024 * 1024)) };
        bad.Headers.Add("X-Checksum-Sha256", new string('0', 64));
        Assert.Equal(HttpStatusCode.BadRequest, (await admin.SendAsync(bad)).StatusCode);
        Assert.Equal(2, BlobObjects().Length);

        // Deleting the version that held the small file makes its blob garbage; GC removes it from the bucket.
        Assert.Equal(HttpStatusCode.NoContent, (await admin.DeleteAsync("api/v1/registries/files/version?package=tool&version=1.0")).StatusCode);
        (await admin.PostAsync("api/v1/gc?grace=0", null)).EnsureSuccessStatusCode();
        Assert.Single(BlobObjects());
        Assert.Equal(large, await admin.GetByteArrayAsync("pkg/files/generic/tool/2.0/large-copy.bin"));
    }

    [Fact]
    public async Task Skopeo_pushes_and_pulls_an_image_stored_in_S3_with_identical_digests()
    {
        using var admin = _server.CreateClient(_server.AdminToken);
        (await admin.PostAsJsonAsync("api/v1/registries", new { identifier = "images", packageType = "DOCKER" })).EnsureSuccessStatusCode();
        var image = Image("linux", "amd64", "binary stored in s3");
        var source = Path.Combine(_work, "src");
        WriteLayout(source, [image.Config, image.Layer, image.Manifest], (image.Manifest, "v1"));
        var env = new Dictionary<string, string?> { ["HOME"] = _work, ["XDG_RUNTIME_DIR"] = _work, ["REGISTRY_AUTH_FILE"] = Path.Combine(_work, "auth.json") };
        var creds = $"admin:{_server.AdminToken}";
        var reference = $"docker://127.0.0.1:{_server.Port}/images/app:v1";
        (await Proc.RunAsync(Proc.Tool("skopeo"), ["--insecure-policy", "copy", "--dest-tls-verify=false", "--dest-creds", creds, $"oci:{source}:v1", reference], workDir: _work, env: env))
            .AssertOk("skopeo copy into arca on s3");
        var target = Path.Combine(_work, "out");
        (await Proc.RunAsync(Proc.Tool("skopeo"), ["--insecure-policy", "copy", "--src-tls-verify=false", "--src-creds", creds, reference, $"oci:{target}:v1"], workDir: _work, env: env))
            .AssertOk("skopeo copy out of arca on s3");
        foreach (var d in new[] { image.Config, image.Layer, image.Manifest })
            Assert.Equal(d.Bytes, File.ReadAllBytes(Path.Combine(target, "blobs", "sha256", d.Digest["sha256:".Length..])));
        var objects = BlobObjects();
        foreach (var d in new[] { image.Config, image.Layer, image.Manifest })
            Assert.Contains(objects, f => f.Contains(d.Digest["sha256:".Length..], StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_bucket_that_does_not_exist_stops_the_server_at_start_up_with_one_clear_line()
    {
        await using var wrong = new ServerProcess();
        wrong.ExtraArgs.AddRange(["--blob-store", _s3.BlobStoreUri("x").Replace($"s3://{_s3.Bucket}/", "s3://no-such-bucket/", StringComparison.Ordinal)]);
        wrong.ExtraEnvironment["AWS_ACCESS_KEY_ID"] = S3Server.AccessKey;
        wrong.ExtraEnvironment["AWS_SECRET_ACCESS_KEY"] = S3Server.SecretKey;
        var e = await Assert.ThrowsAsync<InvalidOperationException>(wrong.StartAsync);
        Assert.Contains("S3 bucket 'no-such-bucket' is not usable", e.Message);
        Assert.DoesNotContain("   at ", e.Message); // a message, not a stack trace
    }
}
