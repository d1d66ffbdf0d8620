using Arca.Core.Model;

namespace Arca.Core.Storage;

/// <summary>
/// Content-addressed blob storage shared by every registry and format: a blob is stored once per digest.
/// Writes are atomic: content is hashed while it streams to a temporary location, verified against the
/// expected digest, and only then made visible. Implementations: file system (default), S3.
/// </summary>
public interface IBlobStore
{
    /// <summary>Streams <paramref name="content"/> into the store. When <paramref name="expected"/> is given
    /// and the content does not match it, nothing is stored and a DIGEST_INVALID error is thrown.
    /// When <paramref name="maxSize"/> is exceeded, nothing is stored and a 413 is thrown.</summary>
    Task<BlobWriteResult> PutAsync(Stream content, BlobWriteOptions? options = null, CancellationToken ct = default);

    /// <summary>Opens a blob for reading (seekable where the backend allows it), or null when absent.</summary>
    Task<Stream?> OpenReadAsync(Digest digest, CancellationToken ct = default);

    /// <summary>Size of the blob, or null when absent.</summary>
    Task<long?> GetSizeAsync(Digest digest, CancellationToken ct = default);

    Task<bool> DeleteAsync(Digest digest, CancellationToken ct = default);

    /// <summary>Every stored blob with its last-modified time, for garbage collection.</summary>
    IAsyncEnumerable<StoredBlob> ListAsync(CancellationToken ct = default);

    /// <summary>Starts a resumable upload (OCI chunked uploads) whose parts arrive in several requests.</summary>
    Task<IBlobUpload> StartUploadAsync(CancellationToken ct = default);

    /// <summary>Re-opens an upload started earlier, or null when it does not exist (or expired).</summary>
    Task<IBlobUpload?> ResumeUploadAsync(string uploadId, CancellationToken ct = default);

    /// <summary>Removes leftovers of interrupted writes older than <paramref name="olderThan"/> (called at start-up).</summary>
    Task CleanupTemporaryAsync(TimeSpan olderThan, CancellationToken ct = default);
}

public sealed record BlobWriteOptions
{
    /// <summary>The digest the content must have (sha256 or sha512); the blob is stored under this algorithm.</summary>
    public Digest? Expected { get; init; }
    public long? ExpectedSize { get; init; }
    public long? MaxSize { get; init; }
    /// <summary>Also compute SHA-1 and MD5 (for formats that publish them: generic, Maven, PyPI).</summary>
    public bool ComputeLegacyChecksums { get; init; }
    /// <summary>Expected SHA-1 / MD5 (hex) sent by the client; a mismatch stores nothing.</summary>
    public string? ExpectedSha1 { get; init; }
    public string? ExpectedMd5 { get; init; }
    /// <summary>Expected SHA-256 hex (clients that send X-Checksum-Sha256 for sha256-addressed stores).</summary>
    public string? ExpectedSha256 { get; init; }
}

public sealed record BlobWriteResult(Digest Digest, long Size, string? Sha1, string? Md5, string Sha256Hex, bool AlreadyExisted);

public sealed record StoredBlob(Digest Digest, long Size, DateTimeOffset LastModified);

/// <summary>An upload in progress. Parts are appended in order; <see cref="CommitAsync"/> verifies and publishes.</summary>
public interface IBlobUpload : IAsyncDisposable
{
    string Id { get; }
    long Size { get; }
    DateTimeOffset StartedAt { get; }
    Task AppendAsync(Stream content, long? maxSize = null, CancellationToken ct = default);
    Task<BlobWriteResult> CommitAsync(Digest expected, CancellationToken ct = default);
    Task CancelAsync(CancellationToken ct = default);
}
