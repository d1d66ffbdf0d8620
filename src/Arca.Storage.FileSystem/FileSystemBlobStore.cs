using System.Buffers;
using System.Runtime.CompilerServices;
using System.Text.Json;
using Arca.Core.Model;
using Arca.Core.Storage;

namespace Arca.Storage.FileSystem;

/// <summary>
/// Content-addressed blobs on disk: <c>blobs/&lt;alg&gt;/&lt;2 hex&gt;/&lt;hex&gt;</c>. Writes go to <c>tmp/</c> first,
/// are hashed while streaming, fsynced, verified and renamed into place, so a blob is either whole or absent.
/// </summary>
public sealed class FileSystemBlobStore : IBlobStore
{
    private readonly string _blobRoot;
    private readonly string _tmpRoot;
    private readonly string _uploadRoot;

    public FileSystemBlobStore(string dataDirectory)
    {
        _blobRoot = Path.Combine(Path.GetFullPath(dataDirectory), "blobs");
        _tmpRoot = Path.Combine(Path.GetFullPath(dataDirectory), "tmp", "writes");
        _uploadRoot = Path.Combine(Path.GetFullPath(dataDirectory), "tmp", "uploads");
        Directory.CreateDirectory(_blobRoot);
        Directory.CreateDirectory(_tmpRoot);
        Directory.CreateDirectory(_uploadRoot);
    }

    internal string BlobPath(Digest d) => Path.Combine(_blobRoot, d.Algorithm, d.Hex[..2], d.Hex);

    public async Task<BlobWriteResult> PutAsync(Stream content, BlobWriteOptions? options = null, CancellationToken ct = default)
    {
        options ??= new BlobWriteOptions();
        var algorithm = options.Expected?.Algorithm ?? "sha256";
        var tmp = Path.Combine(_tmpRoot, Guid.NewGuid().ToString("N"));
        try
        {
            using var hasher = new BlobHasher(algorithm, options.ComputeLegacyChecksums);
            await using (var file = new FileStream(tmp, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1, FileOptions.Asynchronous))
            {
                await hasher.CopyAsync(content, file, options.MaxSize, ct);
                await file.FlushAsync(ct);
                file.Flush(flushToDisk: true); // durable before it becomes visible
            }
            var (digest, sha256, sha1, md5) = hasher.Finish();
            BlobHasher.Verify(options, digest, hasher.Length, sha256, sha1, md5);
            var existed = Publish(tmp, digest);
            return new BlobWriteResult(digest, hasher.Length, sha1, md5, sha256, existed);
        }
        finally
        {
            TryDelete(tmp);
        }
    }

    /// <summary>Moves a verified temp file into place. Returns true when the blob was already there (deduplicated).</summary>
    private bool Publish(string tmp, Digest digest)
    {
        var target = BlobPath(digest);
        if (File.Exists(target))
        {
            // Refresh the age so GC's grace period covers the metadata commit that will reference it.
            try { File.SetLastWriteTimeUtc(target, DateTime.UtcNow); } catch (IOException) { }
            return true;
        }
        Directory.CreateDirectory(Path.GetDirectoryName(target)!);
        try
        {
            File.Move(tmp, target, overwrite: false);
            return false;
        }
        catch (IOException) when (File.Exists(target))
        {
            return true; // a concurrent writer of the same content won the race: same bytes, nothing to do
        }
    }

    public Task<Stream?> OpenReadAsync(Digest digest, CancellationToken ct = default)
    {
        try
        {
            Stream s = new FileStream(BlobPath(digest), FileMode.Open, FileAccess.Read, FileShare.Read | FileShare.Delete, 1, FileOptions.Asynchronous | FileOptions.SequentialScan);
            return Task.FromResult<Stream?>(s);
        }
        catch (FileNotFoundException) { return Task.FromResult<Stream?>(null); }
        catch (DirectoryNotFoundException) { return Task.FromResult<Stream?>(null); }
    }

    public Task<long?> GetSizeAsync(Digest digest, CancellationToken ct = default)
    {
        var info = new FileInfo(BlobPath(digest));
        return Task.FromResult<long?>(info.Exists ? info.Length : null);
    }

    public Task<bool> DeleteAsync(Digest digest, CancellationToken ct = default)
    {
        var path = BlobPath(digest);
        if (!File.Exists(path)) return Task.FromResult(false);
        File.Delete(path);
        return Task.FromResult(true);
    }

    public async IAsyncEnumerable<StoredBlob> ListAsync([EnumeratorCancellation] CancellationToken ct = default)
    {
        foreach (var algDir in Directory.EnumerateDirectories(_blobRoot))
        {
            var alg = Path.GetFileName(algDir);
            if (!Digest.IsSupportedAlgorithm(alg)) continue;
            foreach (var file in Directory.EnumerateFiles(algDir, "*", SearchOption.AllDirectories))
            {
                ct.ThrowIfCancellationRequested();
                if (!Digest.TryParse($"{alg}:{Path.GetFileName(file)}", out var d)) continue;
                var info = new FileInfo(file);
                if (!info.Exists) continue;
                yield return new StoredBlob(d, info.Length, info.LastWriteTimeUtc);
            }
            await Task.Yield();
        }
    }

    public Task<IBlobUpload> StartUploadAsync(CancellationToken ct = default)
    {
        var id = Guid.NewGuid().ToString("N");
        var dir = Path.Combine(_uploadRoot, id);
        Directory.CreateDirectory(dir);
        File.WriteAllText(Path.Combine(dir, "startedat"), DateTimeOffset.UtcNow.ToString("O"));
        File.Create(Path.Combine(dir, "data")).Dispose();
        return Task.FromResult<IBlobUpload>(new FileSystemUpload(this, id, dir));
    }

    public Task<IBlobUpload?> ResumeUploadAsync(string uploadId, CancellationToken ct = default)
    {
        if (!Guid.TryParseExact(uploadId, "N", out _)) return Task.FromResult<IBlobUpload?>(null);
        var dir = Path.Combine(_uploadRoot, uploadId);
        if (!File.Exists(Path.Combine(dir, "data"))) return Task.FromResult<IBlobUpload?>(null);
        return Task.FromResult<IBlobUpload?>(new FileSystemUpload(this, uploadId, dir));
    }

    public Task CleanupTemporaryAsync(TimeSpan olderThan, CancellationToken ct = default)
    {
        var cutoff = DateTime.UtcNow - olderThan;
        foreach (var f in Directory.EnumerateFiles(_tmpRoot))
            if (File.GetLastWriteTimeUtc(f) <= cutoff) TryDelete(f);
        foreach (var d in Directory.EnumerateDirectories(_uploadRoot))
            if (Directory.GetLastWriteTimeUtc(d) <= cutoff && File.GetLastWriteTimeUtc(Path.Combine(d, "data")) <= cutoff)
                try { Directory.Delete(d, true); } catch (IOException) { }
        return Task.CompletedTask;
    }

    private static void TryDelete(string path)
    {
        try { File.Delete(path); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }

    /// <summary>A chunked upload kept in its own folder so it survives across requests (and restarts).</summary>
    private sealed class FileSystemUpload(FileSystemBlobStore store, string id, string dir) : IBlobUpload
    {
        private string DataPath => Path.Combine(dir, "data");
        public string Id => id;
        public long Size => new FileInfo(DataPath).Length;
        public DateTimeOffset StartedAt =>
            DateTimeOffset.TryParse(File.ReadAllText(Path.Combine(dir, "startedat")), out var t) ? t : DateTimeOffset.UtcNow;

        public async Task AppendAsync(Stream content, long? maxSize = null, CancellationToken ct = default)
        {
            await using var file = new FileStream(DataPath, FileMode.Append, FileAccess.Write, FileShare.None, 1, FileOptions.Asynchronous);
            var start = file.Length;
            // Pooled: a fresh 128 KiB array per chunk would land on the large-object heap on every PATCH.
            var buffer = ArrayPool<byte>.Shared.Rent(128 * 1024);
            try
            {
                int read;
                while ((read = await content.ReadAsync(buffer, ct)) > 0)
                {
                    if (maxSize is { } m && file.Length + read > m) throw ArcaException.TooLarge($"upload exceeds {m} bytes");
                    await file.WriteAsync(buffer.AsMemory(0, read), ct);
                }
            }
            catch
            {
                file.SetLength(start); // a failed part leaves the upload as it was before it
                throw;
            }
            finally { ArrayPool<byte>.Shared.Return(buffer); }
        }

        public async Task<BlobWriteResult> CommitAsync(Digest expected, CancellationToken ct = default)
        {
            using var hasher = new BlobHasher(expected.Algorithm, legacy: false);
            await using (var file = new FileStream(DataPath, FileMode.Open, FileAccess.ReadWrite, FileShare.None, 1, FileOptions.Asynchronous | FileOptions.SequentialScan))
            {
                await hasher.CopyAsync(file, Stream.Null, null, ct);
                file.Flush(flushToDisk: true);
            }
            var (digest, sha256, _, _) = hasher.Finish();
            BlobHasher.Verify(new BlobWriteOptions { Expected = expected }, digest, hasher.Length, sha256, null, null);
            var existed = store.Publish(DataPath, digest);
            await CancelAsync(ct);
            return new BlobWriteResult(digest, hasher.Length, null, null, sha256, existed);
        }

        public Task CancelAsync(CancellationToken ct = default)
        {
            try { Directory.Delete(dir, true); } catch (DirectoryNotFoundException) { }
            return Task.CompletedTask;
        }

        public ValueTask DisposeAsync() => ValueTask.CompletedTask;
    }
}
