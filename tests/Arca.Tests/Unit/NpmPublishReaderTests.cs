using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using Arca.Core.Model;
using Arca.Server.Formats.Npm;

namespace Arca.Tests.Unit;

public sealed class NpmPublishReaderTests
{
    /// <summary>Returns at most <paramref name="max"/> bytes per read, so every token crosses chunk boundaries.</summary>
    private sealed class Trickle(byte[] data, int max) : MemoryStream(data)
    {
        public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken ct = default) =>
            base.ReadAsync(buffer[..Math.Min(buffer.Length, max)], ct);
    }

    private static string Body(string base64, string attachment = "p-1.0.0.tgz") =>
        $"{{\"name\":\"p\",\"versions\":{{\"1.0.0\":{{\"name\":\"p\",\"version\":\"1.0.0\",\"data\":\"keep me\"}}}},\"readme\":\"a \\\" quote\",\"_attachments\":{{\"{attachment}\":{{\"content_type\":\"application/octet-stream\",\"data\":\"{base64}\",\"length\":3}}}}}}";

    [Theory]
    [InlineData(1)]
    [InlineData(7)]
    [InlineData(65536)]
    public async Task Decodes_the_attachment_across_chunk_boundaries_and_keeps_the_rest(int chunk)
    {
        var payload = RandomNumberGenerator.GetBytes(200_001);
        var json = Body(Convert.ToBase64String(payload).Replace("/", "\\/")); // some encoders escape '/'
        var (doc, attachment) = await new NpmPublishReader(1 << 20, 1 << 30).ReadAsync(new Trickle(Encoding.UTF8.GetBytes(json), chunk), default);
        await using (attachment)
        {
            Assert.NotNull(attachment);
            Assert.Equal("p-1.0.0.tgz", attachment.Name);
            Assert.Equal(payload.Length, attachment.Length);
            Assert.Equal(SHA512.HashData(payload), attachment.Sha512);
            Assert.Equal(Convert.ToHexStringLower(SHA1.HashData(payload)), attachment.Sha1Hex);
            using var copy = new MemoryStream();
            await using (var s = attachment.OpenRead()) await s.CopyToAsync(copy);
            Assert.Equal(payload, copy.ToArray());
        }
        Assert.Equal("", (string?)doc["_attachments"]!["p-1.0.0.tgz"]!["data"]);
        Assert.Equal("keep me", (string?)doc["versions"]!["1.0.0"]!["data"]); // only _attachments.*.data is diverted
        Assert.Equal("a \" quote", (string?)doc["readme"]);
        Assert.Equal(3, (int)doc["_attachments"]!["p-1.0.0.tgz"]!["length"]!);
    }

    [Fact]
    public async Task Metadata_only_documents_have_no_attachment()
    {
        var (doc, attachment) = await new NpmPublishReader(1 << 20, 1 << 20).ReadAsync(new MemoryStream("{\"name\":\"p\",\"dist-tags\":{\"latest\":\"1.0.0\"}}"u8.ToArray()), default);
        Assert.Null(attachment);
        Assert.Equal("1.0.0", (string?)doc["dist-tags"]!["latest"]);
    }

    [Theory]
    [InlineData("not base64!")]
    [InlineData("QUJD=QUJD")]
    [InlineData("QUJ")]
    public async Task Invalid_base64_is_a_400(string data)
    {
        var e = await Assert.ThrowsAsync<ArcaException>(() => new NpmPublishReader(1 << 20, 1 << 20).ReadAsync(new MemoryStream(Encoding.UTF8.GetBytes(Body(data))), default));
        Assert.Equal(400, e.Status);
    }

    [Fact]
    public async Task Limits_apply_to_the_metadata_and_to_the_tarball()
    {
        var big = Body(Convert.ToBase64String(new byte[10_000]));
        Assert.Equal(413, (await Assert.ThrowsAsync<ArcaException>(() => new NpmPublishReader(1 << 20, 5_000).ReadAsync(new MemoryStream(Encoding.UTF8.GetBytes(big)), default))).Status);
        Assert.Equal(413, (await Assert.ThrowsAsync<ArcaException>(() => new NpmPublishReader(100, 1 << 20).ReadAsync(new MemoryStream(Encoding.UTF8.GetBytes(big)), default))).Status);
        var truncated = Encoding.UTF8.GetBytes(big)[..^5];
        Assert.Equal(400, (await Assert.ThrowsAsync<ArcaException>(() => new NpmPublishReader(1 << 20, 1 << 20).ReadAsync(new MemoryStream(truncated), default))).Status);
    }

    [Fact]
    public async Task Two_attachments_are_refused()
    {
        var json = "{\"_attachments\":{\"a.tgz\":{\"data\":\"QUJD\"},\"b.tgz\":{\"data\":\"QUJD\"}}}";
        var e = await Assert.ThrowsAsync<ArcaException>(() => new NpmPublishReader(1 << 20, 1 << 20).ReadAsync(new MemoryStream(Encoding.UTF8.GetBytes(json)), default));
        Assert.Equal(400, e.Status);
    }
}

public sealed class NpmPublishReaderEdgeTests
{
    [Theory]
    [InlineData("{\"name\":\"p\",\"name\":\"q\"}")]
    [InlineData("{\"versions\":{\"1.0.0\":{},\"1.0.0\":{}}}")]
    [InlineData("{\"a\":1}}")]
    [InlineData("[1,2]")]
    [InlineData("\"text\"")]
    public async Task Malformed_documents_are_a_400(string json)
    {
        var e = await Assert.ThrowsAsync<Arca.Core.Model.ArcaException>(() =>
            new Arca.Server.Formats.Npm.NpmPublishReader(1 << 20, 1 << 20).ReadAsync(new MemoryStream(System.Text.Encoding.UTF8.GetBytes(json)), default));
        Assert.Equal(400, e.Status);
    }
}
