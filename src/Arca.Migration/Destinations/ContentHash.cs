using System.Security.Cryptography;

namespace Arca.Migration.Destinations;

/// <summary>Hashes a source stream without keeping it: for sources that publish no checksum, so the writer can still
/// skip what the destination already has and verify what it uploads.</summary>
internal static class ContentHash
{
    public static async Task<string> Sha256Async(Func<CancellationToken, Task<Stream>> open, CancellationToken ct)
    {
        await using var stream = await open(ct);
        return Convert.ToHexStringLower(await SHA256.HashDataAsync(stream, ct));
    }

    public static bool Same(string? a, string? b) => a is not null && b is not null && a.Trim().Equals(b.Trim(), StringComparison.OrdinalIgnoreCase);
}

/// <summary>Counts the bytes read through it: the size moved when the source listing did not say.</summary>
internal sealed class CountingStream(Stream inner) : Stream
{
    public long BytesRead { get; private set; }
    public override bool CanRead => true;
    public override bool CanSeek => false;
    public override bool CanWrite => false;
    public override long Length => throw new NotSupportedException();
    public override long Position { get => BytesRead; set => throw new NotSupportedException(); }
    public override int Read(byte[] buffer, int offset, int count) { var n = inner.Read(buffer, offset, count); BytesRead += n; return n; }
    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken ct = default) { var n = await inner.ReadAsync(buffer, ct); BytesRead += n; return n; }
    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken ct) => ReadAsync(buffer.AsMemory(offset, count), ct).AsTask();
    public override void Flush() { }
    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
    public override void SetLength(long value) => throw new NotSupportedException();
    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    protected override void Dispose(bool disposing) { if (disposing) inner.Dispose(); base.Dispose(disposing); }
    public override async ValueTask DisposeAsync() { await inner.DisposeAsync(); await base.DisposeAsync(); }
}
