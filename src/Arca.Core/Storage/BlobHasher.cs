using System.Buffers;
using System.Security.Cryptography;
using Arca.Core.Model;

namespace Arca.Core.Storage;

/// <summary>Copies a stream to a destination while computing the digests a blob write needs, in one pass (shared by
/// every blob store driver).</summary>
public sealed class BlobHasher : IDisposable
{
    private readonly IncrementalHash _primary;
    private readonly IncrementalHash? _sha256; // when the primary algorithm is not sha256
    private readonly IncrementalHash? _sha1, _md5;
    public string Algorithm { get; }
    public long Length { get; private set; }

    public BlobHasher(string algorithm, bool legacy)
    {
        Algorithm = algorithm;
        _primary = IncrementalHash.CreateHash(algorithm == "sha512" ? HashAlgorithmName.SHA512 : HashAlgorithmName.SHA256);
        if (algorithm != "sha256") _sha256 = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        if (legacy)
        {
#pragma warning disable CA5350, CA5351 // SHA-1 and MD5 are published for client compatibility, not security
            _sha1 = IncrementalHash.CreateHash(HashAlgorithmName.SHA1);
            _md5 = IncrementalHash.CreateHash(HashAlgorithmName.MD5);
#pragma warning restore CA5350, CA5351
        }
    }

    public void Append(ReadOnlySpan<byte> data)
    {
        _primary.AppendData(data);
        _sha256?.AppendData(data);
        _sha1?.AppendData(data);
        _md5?.AppendData(data);
        Length += data.Length;
    }

    public (Digest Digest, string Sha256Hex, string? Sha1, string? Md5) Finish()
    {
        var primary = Convert.ToHexStringLower(_primary.GetHashAndReset());
        var sha256 = _sha256 is null ? primary : Convert.ToHexStringLower(_sha256.GetHashAndReset());
        return (new Digest(Algorithm, primary), sha256,
            _sha1 is null ? null : Convert.ToHexStringLower(_sha1.GetHashAndReset()),
            _md5 is null ? null : Convert.ToHexStringLower(_md5.GetHashAndReset()));
    }

    /// <summary>Streams <paramref name="source"/> into <paramref name="destination"/>, hashing on the way.
    /// Stops with 413 as soon as <paramref name="maxSize"/> would be exceeded.</summary>
    public async Task CopyAsync(Stream source, Stream destination, long? maxSize, CancellationToken ct)
    {
        var buffer = ArrayPool<byte>.Shared.Rent(128 * 1024);
        try
        {
            int read;
            while ((read = await source.ReadAsync(buffer.AsMemory(), ct)) > 0)
            {
                if (maxSize is { } max && Length + read > max)
                    throw ArcaException.TooLarge($"upload exceeds the maximum size of {max} bytes");
                Append(buffer.AsSpan(0, read));
                await destination.WriteAsync(buffer.AsMemory(0, read), ct);
            }
        }
        finally { ArrayPool<byte>.Shared.Return(buffer); }
    }

    public void Dispose()
    {
        _primary.Dispose(); _sha256?.Dispose(); _sha1?.Dispose(); _md5?.Dispose();
    }

    /// <summary>Checks the computed digests against what the writer expected; throws DIGEST_INVALID on mismatch.</summary>
    public static void Verify(BlobWriteOptions o, Digest digest, long size, string sha256, string? sha1, string? md5)
    {
        if (o.Expected is { } e && e != digest)
            throw ArcaException.BadRequest($"digest mismatch: expected {e}, content is {digest}", "DIGEST_INVALID");
        if (o.ExpectedSize is { } s && s != size)
            throw ArcaException.BadRequest($"size mismatch: expected {s} bytes, received {size}", "SIZE_INVALID");
        if (o.ExpectedSha256 is { } x && !x.Equals(sha256, StringComparison.OrdinalIgnoreCase))
            throw ArcaException.BadRequest($"sha256 mismatch: expected {x}, content is {sha256}", "DIGEST_INVALID");
        if (o.ExpectedSha1 is { } y && !y.Equals(sha1, StringComparison.OrdinalIgnoreCase))
            throw ArcaException.BadRequest($"sha1 mismatch: expected {y}, content is {sha1}", "DIGEST_INVALID");
        if (o.ExpectedMd5 is { } z && !z.Equals(md5, StringComparison.OrdinalIgnoreCase))
            throw ArcaException.BadRequest($"md5 mismatch: expected {z}, content is {md5}", "DIGEST_INVALID");
    }
}
