using System.Collections.Concurrent;
using Arca.Core.Model;
using Arca.Core.Storage;

namespace Arca.Server.Formats.Oci;

/// <summary>
/// The bytes of small manifests by digest, so a manifest GET (the hot path of every pull) neither opens a file nor
/// allocates a read buffer. Content-addressed, so entries never go stale; bounded by <see cref="BudgetBytes"/>
/// (cleared when full: manifests are tiny and re-read cheaply).
/// </summary>
public sealed class OciManifestCache(IBlobStore blobs)
{
    public const int MaxEntryBytes = 64 * 1024;
    public const long BudgetBytes = 8 * 1024 * 1024;
    private readonly ConcurrentDictionary<string, byte[]> _entries = new(StringComparer.Ordinal);
    private long _bytes;

    /// <summary>The manifest's bytes when it is small enough to cache, else null (stream it from the blob store).</summary>
    public async Task<byte[]?> GetAsync(string digest, long size, CancellationToken ct)
    {
        if (size > MaxEntryBytes) return null;
        if (_entries.TryGetValue(digest, out var cached)) return cached;
        var stream = await blobs.OpenReadAsync(Digest.Parse(digest), ct);
        if (stream is null) return null;
        var bytes = new byte[size];
        await using (stream)
        {
            var read = 0;
            while (read < bytes.Length)
            {
                var n = await stream.ReadAsync(bytes.AsMemory(read), ct);
                if (n == 0) return null; // shorter than recorded: let the streaming path report it
                read += n;
            }
        }
        if (Interlocked.Add(ref _bytes, size) > BudgetBytes)
        {
            _entries.Clear();
            Interlocked.Exchange(ref _bytes, size);
        }
        _entries[digest] = bytes;
        return bytes;
    }
}
