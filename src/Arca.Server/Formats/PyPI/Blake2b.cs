using System.Buffers.Binary;
using System.Numerics;
using Arca.Core.IO;

namespace Arca.Server.Formats.PyPI;

/// <summary>
/// Incremental BLAKE2b (RFC 7693, unkeyed) — .NET has no built-in BLAKE2, and the PyPI upload API sends
/// <c>blake2_256_digest</c> (BLAKE2b with a 32-byte digest), which the server verifies like sha256 and md5.
/// </summary>
public sealed class Blake2b
{
    private static readonly ulong[] IV =
    [
        0x6a09e667f3bcc908UL, 0xbb67ae8584caa73bUL, 0x3c6ef372fe94f82bUL, 0xa54ff53a5f1d36f1UL,
        0x510e527fade682d1UL, 0x9b05688c2b3e6c1fUL, 0x1f83d9abfb41bd6bUL, 0x5be0cd19137e2179UL,
    ];

    private static readonly byte[][] Sigma =
    [
        [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15],
        [14, 10, 4, 8, 9, 15, 13, 6, 1, 12, 0, 2, 11, 7, 5, 3],
        [11, 8, 12, 0, 5, 2, 15, 13, 10, 14, 3, 6, 7, 1, 9, 4],
        [7, 9, 3, 1, 13, 12, 11, 14, 2, 6, 5, 10, 4, 0, 15, 8],
        [9, 0, 5, 7, 2, 4, 10, 15, 14, 1, 11, 12, 6, 8, 3, 13],
        [2, 12, 6, 10, 0, 11, 8, 3, 4, 13, 7, 5, 15, 14, 1, 9],
        [12, 5, 1, 15, 14, 13, 4, 10, 0, 7, 6, 3, 9, 2, 8, 11],
        [13, 11, 7, 14, 12, 1, 3, 9, 5, 0, 15, 4, 8, 6, 2, 10],
        [6, 15, 14, 9, 11, 3, 0, 8, 12, 2, 13, 7, 1, 4, 10, 5],
        [10, 2, 8, 4, 7, 6, 1, 5, 15, 11, 9, 14, 3, 12, 13, 0],
    ];

    private const int BlockSize = 128;
    private readonly ulong[] _h = new ulong[8];
    private readonly byte[] _buffer = new byte[BlockSize];
    private readonly ulong[] _m = new ulong[16];
    private readonly ulong[] _v = new ulong[16];
    private readonly int _outputLength;
    private int _buffered;
    private ulong _t0, _t1;

    public Blake2b(int outputLength = 32)
    {
        if (outputLength is < 1 or > 64) throw new ArgumentOutOfRangeException(nameof(outputLength));
        _outputLength = outputLength;
        IV.CopyTo(_h, 0);
        _h[0] ^= 0x01010000UL ^ (ulong)outputLength;
    }

    public void Append(ReadOnlySpan<byte> data)
    {
        while (data.Length > 0)
        {
            // The last block is compressed with the final flag, so a full buffer waits until more data arrives.
            if (_buffered == BlockSize)
            {
                AddCounter(BlockSize);
                Compress(_buffer, last: false);
                _buffered = 0;
            }
            var take = Math.Min(BlockSize - _buffered, data.Length);
            data[..take].CopyTo(_buffer.AsSpan(_buffered));
            _buffered += take;
            data = data[take..];
        }
    }

    public byte[] Finish()
    {
        AddCounter((ulong)_buffered);
        _buffer.AsSpan(_buffered).Clear();
        Compress(_buffer, last: true);
        var full = new byte[64];
        for (var i = 0; i < 8; i++) BinaryPrimitives.WriteUInt64LittleEndian(full.AsSpan(i * 8), _h[i]);
        return full[.._outputLength];
    }

    private void AddCounter(ulong n)
    {
        _t0 += n;
        if (_t0 < n) _t1++;
    }

    private void Compress(byte[] block, bool last)
    {
        for (var i = 0; i < 16; i++) _m[i] = BinaryPrimitives.ReadUInt64LittleEndian(block.AsSpan(i * 8));
        var v = _v;
        for (var i = 0; i < 8; i++) { v[i] = _h[i]; v[i + 8] = IV[i]; }
        v[12] ^= _t0;
        v[13] ^= _t1;
        if (last) v[14] = ~v[14];
        for (var round = 0; round < 12; round++)
        {
            var s = Sigma[round % 10];
            G(v, 0, 4, 8, 12, _m[s[0]], _m[s[1]]);
            G(v, 1, 5, 9, 13, _m[s[2]], _m[s[3]]);
            G(v, 2, 6, 10, 14, _m[s[4]], _m[s[5]]);
            G(v, 3, 7, 11, 15, _m[s[6]], _m[s[7]]);
            G(v, 0, 5, 10, 15, _m[s[8]], _m[s[9]]);
            G(v, 1, 6, 11, 12, _m[s[10]], _m[s[11]]);
            G(v, 2, 7, 8, 13, _m[s[12]], _m[s[13]]);
            G(v, 3, 4, 9, 14, _m[s[14]], _m[s[15]]);
        }
        for (var i = 0; i < 8; i++) _h[i] ^= v[i] ^ v[i + 8];
    }

    private static void G(ulong[] v, int a, int b, int c, int d, ulong x, ulong y)
    {
        v[a] = v[a] + v[b] + x;
        v[d] = BitOperations.RotateRight(v[d] ^ v[a], 32);
        v[c] = v[c] + v[d];
        v[b] = BitOperations.RotateRight(v[b] ^ v[c], 24);
        v[a] = v[a] + v[b] + y;
        v[d] = BitOperations.RotateRight(v[d] ^ v[a], 16);
        v[c] = v[c] + v[d];
        v[b] = BitOperations.RotateRight(v[b] ^ v[c], 63);
    }
}

/// <summary>Passes a stream through while feeding every byte read to a BLAKE2b hash.</summary>
internal sealed class Blake2bReadStream(Stream inner, Blake2b hash) : ForwardOnlyReadStream
{
    public override int Read(byte[] buffer, int offset, int count)
    {
        var n = inner.Read(buffer, offset, count);
        hash.Append(buffer.AsSpan(offset, n));
        return n;
    }

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken ct = default)
    {
        var n = await inner.ReadAsync(buffer, ct);
        hash.Append(buffer.Span[..n]);
        return n;
    }
}
