using System.Net;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text.Json;
using Arca.Tests.Infrastructure;

namespace Arca.Tests.Http;

public sealed class GenericFormatTests : IAsyncLifetime
{
    private TestServer _server = null!;
    public async Task InitializeAsync()
    {
        _server = await TestServer.StartAsync();
        await _server.CreateRegistryAsync("files", "GENERIC");
        await _server.CreateRegistryAsync("loose", "GENERIC", allowOverwrite: true);
    }
    public async Task DisposeAsync() => await _server.DisposeAsync();
    private HttpClient Admin => _server.Admin;

    [Fact]
    public async Task Put_then_get_returns_same_bytes_and_checksums()
    {
        var data = RandomNumberGenerator.GetBytes(100_000);
        var put = await Admin.PutAsync("pkg/files/generic/p/1.0/a/b.bin", new ByteArrayContent(data));
        Assert.Equal(HttpStatusCode.Created, put.StatusCode);
        var get = await Admin.GetAsync("pkg/files/generic/p/1.0/a/b.bin");
        Assert.Equal(data, await get.Content.ReadAsByteArrayAsync());
        Assert.Equal(Convert.ToHexStringLower(SHA256.HashData(data)), get.Headers.GetValues("X-Checksum-Sha256").Single());
        Assert.Equal(Convert.ToHexStringLower(SHA1.HashData(data)), get.Headers.GetValues("X-Checksum-Sha1").Single());
        Assert.Equal(Convert.ToHexStringLower(MD5.HashData(data)), get.Headers.GetValues("X-Checksum-Md5").Single());
        Assert.Equal($"\"{Convert.ToHexStringLower(SHA256.HashData(data))}\"", get.Headers.ETag!.Tag);
    }

    [Fact]
    public async Task Head_range_and_if_none_match()
    {
        var data = RandomNumberGenerator.GetBytes(10_000);
        (await Admin.PutAsync("pkg/files/generic/r/1/f.bin", new ByteArrayContent(data))).EnsureSuccessStatusCode();

        var head = await Admin.SendAsync(new HttpRequestMessage(HttpMethod.Head, "pkg/files/generic/r/1/f.bin"));
        Assert.Equal(HttpStatusCode.OK, head.StatusCode);
        Assert.Equal(10_000, head.Content.Headers.ContentLength);
        Assert.Equal("bytes", head.Headers.AcceptRanges.Single());

        var range = new HttpRequestMessage(HttpMethod.Get, "pkg/files/generic/r/1/f.bin");
        range.Headers.Range = new RangeHeaderValue(100, 199);
        var partial = await Admin.SendAsync(range);
        Assert.Equal(HttpStatusCode.PartialContent, partial.StatusCode);
        Assert.Equal(data[100..200], await partial.Content.ReadAsByteArrayAsync());

        var cond = new HttpRequestMessage(HttpMethod.Get, "pkg/files/generic/r/1/f.bin");
        cond.Headers.IfNoneMatch.Add(head.Headers.ETag!);
        Assert.Equal(HttpStatusCode.NotModified, (await Admin.SendAsync(cond)).StatusCode);
    }

    [Theory]
    [InlineData("X-Checksum-Sha256", "0000000000000000000000000000000000000000000000000000000000000000")]
    [InlineData("X-Checksum-Sha1", "0000000000000000000000000000000000000000")]
    [InlineData("X-Checksum-Md5", "00000000000000000000000000000000")]
    public async Task Wrong_checksum_header_is_400_and_stores_nothing(string header, string value)
    {
        var req = new HttpRequestMessage(HttpMethod.Put, "pkg/files/generic/c/1/f.bin") { Content = new ByteArrayContent(RandomNumberGenerator.GetBytes(5000)) };
        req.Headers.Add(header, value);
        var r = await Admin.SendAsync(req);
        Assert.Equal(HttpStatusCode.BadRequest, r.StatusCode);
        Assert.Equal("DIGEST_INVALID", JsonDocument.Parse(await r.Content.ReadAsStringAsync()).RootElement.GetProperty("error").GetProperty("code").GetString());
        Assert.Equal(HttpStatusCode.NotFound, (await Admin.GetAsync("pkg/files/generic/c/1/f.bin")).StatusCode);
        Assert.Empty(Directory.GetFiles(Path.Combine(_server.DataDir, "blobs"), "*", SearchOption.AllDirectories)
            .Where(f => new FileInfo(f).Length == 5000));
    }

    [Fact]
    public async Task Correct_checksum_headers_are_accepted()
    {
        var data = RandomNumberGenerator.GetBytes(1234);
        var req = new HttpRequestMessage(HttpMethod.Put, "pkg/files/generic/c/2/f.bin") { Content = new ByteArrayContent(data) };
        req.Headers.Add("X-Checksum-Sha256", Convert.ToHexStringLower(SHA256.HashData(data)));
        req.Headers.Add("X-Checksum-Sha1", Convert.ToHexStringLower(SHA1.HashData(data)));
        req.Headers.Add("X-Checksum-Md5", Convert.ToHexString(MD5.HashData(data))); // case-insensitive
        Assert.Equal(HttpStatusCode.Created, (await Admin.SendAsync(req)).StatusCode);
    }

    [Fact]
    public async Task Reupload_is_409_unless_overwrite()
    {
        (await Admin.PutAsync("pkg/files/generic/o/1/f.txt", new StringContent("one"))).EnsureSuccessStatusCode();
        var again = await Admin.PutAsync("pkg/files/generic/o/1/f.txt", new StringContent("two"));
        Assert.Equal(HttpStatusCode.Conflict, again.StatusCode);
        Assert.Equal("one", await Admin.GetStringAsync("pkg/files/generic/o/1/f.txt"));

        using var writer = _server.CreateClient(await _server.CreateTokenAsync("write"));
        Assert.Equal(HttpStatusCode.Forbidden, (await writer.PutAsync("pkg/files/generic/o/1/f.txt?overwrite=true", new StringContent("two"))).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await Admin.PutAsync("pkg/files/generic/o/1/f.txt?overwrite=true", new StringContent("two"))).StatusCode);
        Assert.Equal("two", await Admin.GetStringAsync("pkg/files/generic/o/1/f.txt"));

        // A registry that allows overwrites accepts a plain re-upload from a write token.
        (await writer.PutAsync("pkg/loose/generic/o/1/f.txt", new StringContent("one"))).EnsureSuccessStatusCode();
        Assert.Equal(HttpStatusCode.OK, (await writer.PutAsync("pkg/loose/generic/o/1/f.txt", new StringContent("two"))).StatusCode);
        Assert.Equal("two", await Admin.GetStringAsync("pkg/loose/generic/o/1/f.txt"));
    }

    [Fact]
    public async Task Delete_last_file_removes_version_and_package()
    {
        (await Admin.PutAsync("pkg/files/generic/d/1/f.txt", new StringContent("x"))).EnsureSuccessStatusCode();
        Assert.Equal(HttpStatusCode.NoContent, (await Admin.DeleteAsync("pkg/files/generic/d/1/f.txt")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await Admin.GetAsync("pkg/files/generic/d/1/f.txt")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await Admin.GetAsync("api/v1/registries/files/package?name=d")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await Admin.DeleteAsync("pkg/files/generic/d/1/f.txt")).StatusCode);
    }

    [Fact]
    public async Task Wrong_registry_type_is_refused()
    {
        await _server.CreateRegistryAsync("npmish", "NPM");
        var r = await Admin.PutAsync("pkg/npmish/generic/p/1/f.txt", new StringContent("x"));
        Assert.True(r.StatusCode is HttpStatusCode.BadRequest or HttpStatusCode.NotFound, $"{r.StatusCode}");
    }

    [Fact]
    public async Task Oversized_upload_is_413_and_stores_nothing()
    {
        await using var s = await TestServer.StartAsync(o => o with { MaxUploadBytes = 1000 });
        await s.CreateRegistryAsync("small", "GENERIC");
        var r = await s.Admin.PutAsync("pkg/small/generic/p/1/f.bin", new ByteArrayContent(new byte[5000]));
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, r.StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await s.Admin.GetAsync("pkg/small/generic/p/1/f.bin")).StatusCode);
        Assert.Empty(Directory.GetFiles(Path.Combine(s.DataDir, "blobs"), "*", SearchOption.AllDirectories));
    }
}
