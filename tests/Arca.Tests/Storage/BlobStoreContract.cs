using System.Security.Cryptography;
using Arca.Core.Model;
using Arca.Core.Storage;

namespace Arca.Tests.Storage;

/// <summary>The behaviour every IBlobStore must have (file system now, S3 later).</summary>
public abstract class BlobStoreContract : IAsyncLifetime
{
    protected IBlobStore Store { get; private set; } = null!;
    protected abstract Task<IBlobStore> CreateStoreAsync();
    protected virtual Task CleanupAsync() => Task.CompletedTask;
    public async Task InitializeAsync() => Store = await CreateStoreAsync();
    public Task DisposeAsync() => CleanupAsync();

    private static Digest Sha256(byte[] data) => new("sha256", Convert.ToHexStringLower(SHA256.HashData(data)));

    [Fact]
    public async Task Put_hashes_while_writing_and_reads_back()
    {
        var data = RandomNumberGenerator.GetBytes(300_000);
        var r = await Store.PutAsync(new MemoryStream(data), new BlobWriteOptions { ComputeLegacyChecksums = true });
        Assert.Equal(Sha256(data), r.Digest);
        Assert.Equal(Convert.ToHexStringLower(SHA1.HashData(data)), r.Sha1);
        Assert.Equal(Convert.ToHexStringLower(MD5.HashData(data)), r.Md5);
        Assert.False(r.AlreadyExisted);
        await using var s = await Store.OpenReadAsync(r.Digest);
        var copy = new MemoryStream();
        await s!.CopyToAsync(copy);
        Assert.Equal(data, copy.ToArray());
        Assert.Equal(data.Length, await Store.GetSizeAsync(r.Digest));
    }

    [Fact]
    public async Task Same_content_is_stored_once()
    {
        var data = RandomNumberGenerator.GetBytes(1000);
        await Store.PutAsync(new MemoryStream(data));
        var again = await Store.PutAsync(new MemoryStream(data));
        Assert.True(again.AlreadyExisted);
        var count = 0;
        await foreach (var b in Store.ListAsync()) if (b.Digest == again.Digest) count++;
        Assert.Equal(1, count);
    }

    [Fact]
    public async Task Wrong_expected_digest_or_size_stores_nothing()
    {
        var data = RandomNumberGenerator.GetBytes(1000);
        var wrong = new Digest("sha256", new string('0', 64));
        var e = await Assert.ThrowsAsync<ArcaException>(() => Store.PutAsync(new MemoryStream(data), new BlobWriteOptions { Expected = wrong }));
        Assert.Equal("DIGEST_INVALID", e.Code);
        await Assert.ThrowsAsync<ArcaException>(() => Store.PutAsync(new MemoryStream(data), new BlobWriteOptions { ExpectedSize = 999 }));
        await Assert.ThrowsAsync<ArcaException>(() => Store.PutAsync(new MemoryStream(data), new BlobWriteOptions { MaxSize = 10 }));
        Assert.Null(await Store.OpenReadAsync(Sha256(data)));
        Assert.Null(await Store.OpenReadAsync(wrong));
    }

    [Fact]
    public async Task Sha512_digests_are_supported()
    {
        var data = RandomNumberGenerator.GetBytes(500);
        var d = new Digest("sha512", Convert.ToHexStringLower(SHA512.HashData(data)));
        var r = await Store.PutAsync(new MemoryStream(data), new BlobWriteOptions { Expected = d });
        Assert.Equal(d, r.Digest);
        Assert.Equal(500, await Store.GetSizeAsync(d));
    }

    [Fact]
    public async Task Chunked_upload_survives_reopening_and_verifies_on_commit()
    {
        var data = RandomNumberGenerator.GetBytes(200_000);
        var upload = await Store.StartUploadAsync();
        await upload.AppendAsync(new MemoryStream(data, 0, 50_000));
        var resumed = await Store.ResumeUploadAsync(upload.Id);
        Assert.NotNull(resumed);
        Assert.Equal(50_000, resumed!.Size);
        await resumed.AppendAsync(new MemoryStream(data, 50_000, 150_000));
        await Assert.ThrowsAsync<ArcaException>(() => resumed.CommitAsync(new Digest("sha256", new string('1', 64))));
        var again = await Store.StartUploadAsync();
        await again.AppendAsync(new MemoryStream(data));
        var r = await again.CommitAsync(Sha256(data));
        Assert.Equal(data.Length, r.Size);
        Assert.Null(await Store.ResumeUploadAsync(again.Id));
        Assert.Null(await Store.ResumeUploadAsync("../../etc"));
    }

    [Fact]
    public async Task Delete_removes_the_blob()
    {
        var r = await Store.PutAsync(new MemoryStream(RandomNumberGenerator.GetBytes(10)));
        Assert.True(await Store.DeleteAsync(r.Digest));
        Assert.Null(await Store.OpenReadAsync(r.Digest));
        Assert.False(await Store.DeleteAsync(r.Digest));
    }

    [Fact]
    public async Task Concurrent_writers_of_the_same_content_agree()
    {
        var data = RandomNumberGenerator.GetBytes(100_000);
        var results = await Task.WhenAll(Enumerable.Range(0, 8).Select(_ => Task.Run(() => Store.PutAsync(new MemoryStream(data)))));
        Assert.All(results, r => Assert.Equal(Sha256(data), r.Digest));
        await using var s = await Store.OpenReadAsync(Sha256(data));
        Assert.Equal(data.Length, s!.Length);
    }
}
