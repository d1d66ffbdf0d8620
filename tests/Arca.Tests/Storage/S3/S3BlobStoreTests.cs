using System.Security.Cryptography;
using Amazon.Runtime;
using Arca.Core.Model;
using Arca.Core.Storage;
using Arca.Storage.S3;
using Arca.Tests.Infrastructure;

namespace Arca.Tests.Storage;

/// <summary>The blob store contract against a real S3-compatible server (s3rver), plus what is specific to S3:
/// multipart writes, ranged reads, nothing visible after a failed write.</summary>
public sealed class S3BlobStoreTests : BlobStoreContract
{
    private S3Server _s3 = null!;
    private readonly string _prefix = $"t{Guid.NewGuid():N}";

    protected override async Task<IBlobStore> CreateStoreAsync()
    {
        _s3 = await S3Server.StartAsync();
        return Create(_s3, _prefix);
    }

    internal static S3BlobStore Create(S3Server s3, string prefix) =>
        new(S3BlobStoreOptions.Parse(s3.BlobStoreUri(prefix)), new BasicAWSCredentials(S3Server.AccessKey, S3Server.SecretKey), S3Server.CopySourceFix);

    protected override async Task CleanupAsync() => await _s3.DisposeAsync();

    private static Digest Sha256(byte[] data) => new("sha256", Convert.ToHexStringLower(SHA256.HashData(data)));

    /// <summary>Content that never ends before the part size: forces the multipart path.</summary>
    private static byte[] Large() => RandomNumberGenerator.GetBytes(12 * 1024 * 1024 + 12345); // 5 MiB parts → 3 parts

    [Fact]
    public async Task Multipart_writes_with_and_without_an_announced_digest_read_back_whole_and_by_range()
    {
        var data = Large();
        var unknown = await Store.PutAsync(new MemoryStream(data), new BlobWriteOptions { ComputeLegacyChecksums = true });
        Assert.Equal(Sha256(data), unknown.Digest);
        Assert.Equal(Convert.ToHexStringLower(MD5.HashData(data)), unknown.Md5);
        Assert.Equal(data.Length, await Store.GetSizeAsync(unknown.Digest));

        await using (var s = (await Store.OpenReadAsync(unknown.Digest))!)
        {
            Assert.True(s.CanSeek);
            Assert.Equal(data.Length, s.Length);
            s.Seek(7 * 1024 * 1024, SeekOrigin.Begin);
            var slice = new byte[1000];
            await s.ReadExactlyAsync(slice);
            Assert.Equal(data.AsSpan(7 * 1024 * 1024, 1000).ToArray(), slice);
            s.Position = 0;
            var whole = new MemoryStream();
            await s.CopyToAsync(whole);
            Assert.Equal(data, whole.ToArray());
        }

        // Announced digest: written under its final key directly; the same content again is deduplicated.
        var other = Large();
        var announced = await Store.PutAsync(new MemoryStream(other), new BlobWriteOptions { Expected = Sha256(other) });
        Assert.False(announced.AlreadyExisted);
        var again = await Store.PutAsync(new MemoryStream(other), new BlobWriteOptions { Expected = Sha256(other) });
        Assert.True(again.AlreadyExisted);

        // Nothing but the two blobs is left in the bucket's blob area, and no temporary object either.
        var listed = new List<Digest>();
        await foreach (var b in Store.ListAsync()) listed.Add(b.Digest);
        Assert.Equal(new[] { unknown.Digest, announced.Digest }.OrderBy(d => d.ToString()), listed.OrderBy(d => d.ToString()));
        Assert.Empty(Directory.EnumerateFiles(_s3.Dir, "*", SearchOption.AllDirectories).Where(f => f.Contains($"{_prefix}/tmp", StringComparison.Ordinal)));
    }

    [Fact]
    public async Task A_large_write_with_the_wrong_digest_or_over_the_limit_leaves_nothing_visible()
    {
        var data = Large();
        var wrong = new Digest("sha256", new string('a', 64));
        var e = await Assert.ThrowsAsync<ArcaException>(() => Store.PutAsync(new MemoryStream(data), new BlobWriteOptions { Expected = wrong }));
        Assert.Equal("DIGEST_INVALID", e.Code);
        Assert.Null(await Store.GetSizeAsync(wrong));
        await Assert.ThrowsAsync<ArcaException>(() => Store.PutAsync(new MemoryStream(data), new BlobWriteOptions { MaxSize = 6 * 1024 * 1024 }));
        Assert.Null(await Store.GetSizeAsync(Sha256(data)));
        var count = 0;
        await foreach (var _ in Store.ListAsync()) count++;
        Assert.Equal(0, count);
    }

    [Fact]
    public async Task A_chunked_upload_is_continued_by_another_store_instance_on_the_same_bucket()
    {
        var data = Large();
        var upload = await Store.StartUploadAsync();
        await upload.AppendAsync(new MemoryStream(data, 0, 1_000_000));
        // A second server sharing the bucket picks the upload up by its id.
        using var second = Create(_s3, _prefix);
        var resumed = await second.ResumeUploadAsync(upload.Id);
        Assert.NotNull(resumed);
        Assert.Equal(1_000_000, resumed!.Size);
        await resumed.AppendAsync(new MemoryStream(data, 1_000_000, data.Length - 1_000_000));
        await Assert.ThrowsAsync<ArcaException>(() => resumed.AppendAsync(new MemoryStream(new byte[10]), maxSize: data.Length + 5));
        Assert.Equal(data.Length, resumed.Size);
        var result = await resumed.CommitAsync(Sha256(data));
        Assert.Equal(data.Length, result.Size);
        Assert.Null(await Store.ResumeUploadAsync(upload.Id));
        await using var s = (await Store.OpenReadAsync(result.Digest))!;
        var whole = new MemoryStream();
        await s.CopyToAsync(whole);
        Assert.Equal(data, whole.ToArray());
    }

    [Theory]
    [InlineData("s3://")]
    [InlineData("s3://bucket?endpoint=ftp://x")]
    [InlineData("s3://bucket?partSizeMiB=1")]
    [InlineData("s3:///no-bucket")]
    [InlineData("s3://bucket?colour=blue")]
    public void Bad_blob_store_URIs_are_refused_with_a_reason(string uri) =>
        Assert.Throws<FormatException>(() => S3BlobStoreOptions.Parse(uri));

    [Fact]
    public void A_blob_store_URI_names_bucket_prefix_endpoint_and_addressing()
    {
        var o = S3BlobStoreOptions.Parse("s3://arca/prod/blobs?endpoint=http%3A%2F%2Fminio%3A9000&region=eu-west-1");
        Assert.Equal(("arca", "prod/blobs/", "http://minio:9000", "eu-west-1", true), (o.Bucket, o.Prefix, o.ServiceUrl, o.Region, o.ForcePathStyle));
        var aws = S3BlobStoreOptions.Parse("s3://arca?region=us-west-2");
        Assert.Equal(("", null, false), (aws.Prefix, aws.ServiceUrl, aws.ForcePathStyle));
    }
}
