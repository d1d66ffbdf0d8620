using System.Security.Cryptography;
using Arca.Core.IO;
using Arca.Migration.Engine;

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

    /// <summary>
    /// The sha256 of a source file that has no published checksum, needed when the destination already has the file
    /// (to skip it or refuse a different one): reused from <paramref name="memo"/> when the source's validators are
    /// unchanged since it was hashed, else hashed from a download and remembered. The HEAD comes before the GET, so a
    /// file replaced in between is remembered under its old validators and simply misses next time.
    /// </summary>
    public static async Task<string> SourceSha256Async(MigrationItem item, Func<CancellationToken, Task<Stream>> open, SourceChecksumMemo? memo, CancellationToken ct)
    {
        var fingerprint = memo is null || item.Fingerprint is null ? null : await item.Fingerprint(ct);
        if (fingerprint is not null && memo!.Lookup(item.Key, fingerprint) is { } known) return known;
        var sha256 = await Sha256Async(open, ct);
        if (fingerprint is not null) memo!.Record(item.Key, fingerprint, sha256);
        return sha256;
    }

    /// <summary>Remembers the sha256 of bytes just streamed to the destination (first run: no second download needed).</summary>
    public static async Task<SourceFingerprint?> FingerprintBeforeReadAsync(MigrationItem item, SourceChecksumMemo? memo, CancellationToken ct) =>
        memo is null || item.Fingerprint is null ? null : await item.Fingerprint(ct);

    public static void Remember(MigrationItem item, SourceFingerprint? fingerprint, SourceChecksumMemo? memo, string sha256)
    {
        if (fingerprint is not null) memo?.Record(item.Key, fingerprint, sha256);
    }

    public static bool Same(string? a, string? b) => a is not null && b is not null && a.Trim().Equals(b.Trim(), StringComparison.OrdinalIgnoreCase);
}

/// <summary>Counts the bytes read through it (the size moved when the source listing did not say) and, given the sha256
/// the source promised, fails the read at the end of the stream when the bytes differ: sent without a Content-Length
/// (chunked), the upload then never completes, so the destination stores nothing. With <paramref name="hash"/> it only
/// computes the sha256 of what went through (<see cref="Sha256"/>), for sources that publish none.</summary>
internal sealed class CountingStream(Stream inner, string? expectedSha256 = null, bool hash = false) : ForwardOnlyReadStream
{
    private readonly IncrementalHash? _hash = expectedSha256 is null && !hash ? null : IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
    public long BytesRead { get; private set; }
    /// <summary>The sha256 of every byte read, once the end of the stream was reached (null before, or without hashing).</summary>
    public string? Sha256 { get; private set; }
    /// <summary>Set when the bytes did not match the promised sha256 (the actual digest).</summary>
    public string? MismatchedSha256 { get; private set; }
    public override long Position { get => BytesRead; set => throw new NotSupportedException(); }
    public override int Read(byte[] buffer, int offset, int count) => Counted(buffer.AsSpan(offset, inner.Read(buffer, offset, count)));
    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken ct = default)
    {
        var n = await inner.ReadAsync(buffer, ct);
        return Counted(buffer.Span[..n]);
    }

    private int Counted(ReadOnlySpan<byte> data)
    {
        BytesRead += data.Length;
        if (_hash is null) return data.Length;
        if (data.Length > 0) { _hash.AppendData(data); return data.Length; }
        if (Sha256 is not null) return 0; // end of stream seen again
        var actual = Sha256 = Convert.ToHexStringLower(_hash.GetHashAndReset());
        if (expectedSha256 is not null && !ContentHash.Same(actual, expectedSha256))
        {
            MismatchedSha256 = actual;
            throw new InvalidDataException($"the source sent bytes with sha256 {actual}, not the {expectedSha256} it lists");
        }
        return 0;
    }
    protected override void Dispose(bool disposing) { if (disposing) { inner.Dispose(); _hash?.Dispose(); } base.Dispose(disposing); }
    public override async ValueTask DisposeAsync() { await inner.DisposeAsync(); _hash?.Dispose(); await base.DisposeAsync(); }
}
