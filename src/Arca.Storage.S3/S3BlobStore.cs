using System.Buffers;
using System.Net;
using System.Runtime.CompilerServices;
using Amazon.Runtime;
using Amazon.S3;
using Amazon.S3.Model;
using Arca.Core.Model;
using Arca.Core.Storage;

namespace Arca.Storage.S3;

/// <summary>
/// Content-addressed blobs in an S3-compatible bucket, laid out like the file store: <c>&lt;prefix&gt;blobs/&lt;alg&gt;/&lt;2 hex&gt;/&lt;hex&gt;</c>.
/// Nothing becomes visible before it is verified: a blob that fits in one part is hashed in memory and PUT under its
/// digest; a larger one streams as a multipart upload (parts of <see cref="S3BlobStoreOptions.PartSize"/>, one part
/// in memory while the previous one uploads), whose object only appears at CompleteMultipartUpload — straight under the
/// digest when the writer announced it, else under <c>tmp/</c> and then copied server-side once the digest is known.
/// A failed or mismatched write aborts the multipart upload. Several servers can share the bucket.
/// </summary>
public sealed class S3BlobStore : IBlobStore, IDisposable
{
    /// <summary>S3's limit for a single CopyObject; larger objects are copied part by part.</summary>
    private const long MaxSingleCopy = 5L * 1024 * 1024 * 1024;
    private const long CopyPartSize = 512L * 1024 * 1024;
    /// <summary>The bucket may be shared by several servers: what is younger than this may be another server's write in flight.</summary>
    public static readonly TimeSpan MinimumLeftoverAge = TimeSpan.FromHours(1);

    private readonly IAmazonS3 _s3;
    private readonly S3BlobStoreOptions _options;
    private readonly string _bucket;

    /// <param name="credentials">null: the AWS SDK's default chain (environment, profile, instance role).</param>
    /// <param name="httpClientFactory">Tests adapt an S3 emulator's HTTP quirks with it; null in production.</param>
    public S3BlobStore(S3BlobStoreOptions options, AWSCredentials? credentials = null, HttpClientFactory? httpClientFactory = null)
    {
        _options = options;
        _bucket = options.Bucket;
        var config = new AmazonS3Config
        {
            ForcePathStyle = options.ForcePathStyle,
            // Checksums are ours (sha256 of the content); S3's own trailing checksums are not understood by every
            // S3-compatible server, so they are sent only where the API requires them.
            RequestChecksumCalculation = RequestChecksumCalculation.WHEN_REQUIRED,
            ResponseChecksumValidation = ResponseChecksumValidation.WHEN_REQUIRED,
        };
        if (httpClientFactory is not null) config.HttpClientFactory = httpClientFactory;
        if (options.ServiceUrl is { } url) { config.ServiceURL = url; config.AuthenticationRegion = options.Region; }
        else config.RegionEndpoint = Amazon.RegionEndpoint.GetBySystemName(options.Region);
        _s3 = credentials is null ? new AmazonS3Client(config) : new AmazonS3Client(credentials, config);
    }

    private string Key(string relative) => _options.Prefix + relative;
    internal string BlobKey(Digest d) => Key($"blobs/{d.Algorithm}/{d.Hex[..2]}/{d.Hex}");
    private string UploadPrefix(string id) => Key($"uploads/{id}/");

    public async Task<BlobWriteResult> PutAsync(Stream content, BlobWriteOptions? options = null, CancellationToken ct = default)
    {
        options ??= new BlobWriteOptions();
        using var hasher = new BlobHasher(options.Expected?.Algorithm ?? "sha256", options.ComputeLegacyChecksums);
        BlobWriteResult? result = null;
        // The announced digest names the object from the start; otherwise a temporary key holds a multipart upload.
        var multipartKey = Announced(options) is { } announced ? BlobKey(announced) : Key($"tmp/{Guid.NewGuid():N}");
        await WriteObjectAsync(content, hasher, options.MaxSize, multipartKey, async () =>
        {
            var (digest, sha256, sha1, md5) = hasher.Finish();
            BlobHasher.Verify(options, digest, hasher.Length, sha256, sha1, md5); // throws: nothing becomes visible
            var key = BlobKey(digest);
            // Content already there is written again all the same (identical bytes): that refreshes its age, so GC's
            // grace period covers the metadata commit that follows, and costs no more than a server-side copy would.
            result = new BlobWriteResult(digest, hasher.Length, sha1, md5, sha256, await SizeOfAsync(key, ct) is not null);
            return key;
        }, ct);
        return result!;
    }

    /// <summary>The digest the content will have if it is right: the expected digest, or a client's sha256 checksum.</summary>
    private static Digest? Announced(BlobWriteOptions o) =>
        o.Expected ?? (o.ExpectedSha256 is { Length: 64 } hex && hex.All(Uri.IsHexDigit) ? new Digest("sha256", hex.ToLowerInvariant()) : null);

    /// <summary>
    /// Streams <paramref name="content"/> (hashing it when a hasher is given) and publishes it under the key
    /// <paramref name="decide"/> returns once every byte is read; an exception there aborts, leaving nothing visible.
    /// Content that fits in one part is a single PUT; anything larger a multipart upload to <paramref name="multipartKey"/>,
    /// copied server-side when the final key turns out to be another one.
    /// </summary>
    private async Task<long> WriteObjectAsync(Stream content, BlobHasher? hasher, long? maxSize, string multipartKey,
        Func<Task<string>> decide, CancellationToken ct)
    {
        var partSize = _options.PartSize;
        var current = ArrayPool<byte>.Shared.Rent(partSize);
        byte[]? next = null;
        long total = 0;
        try
        {
            var filled = await FillAsync(content, current, partSize, hasher, maxSize, total, ct);
            total += filled;
            if (filled < partSize)
            {
                // The whole content is in memory: one PUT under its final key, or nothing.
                var key = await decide();
                await _s3.PutObjectAsync(new PutObjectRequest
                {
                    BucketName = _bucket, Key = key, InputStream = new MemoryStream(current, 0, filled, writable: false),
                    AutoCloseStream = false, UseChunkEncoding = false,
                }, ct);
                return total;
            }

            var upload = await _s3.InitiateMultipartUploadAsync(new InitiateMultipartUploadRequest { BucketName = _bucket, Key = multipartKey }, ct);
            var parts = new List<PartETag>();
            try
            {
                next = ArrayPool<byte>.Shared.Rent(partSize);
                var partNumber = 1;
                while (true)
                {
                    // Upload this part while the next one is read from the client.
                    var sending = UploadPartAsync(multipartKey, upload.UploadId, partNumber, current, filled, ct);
                    var nextFilled = await FillAsync(content, next, partSize, hasher, maxSize, total, ct);
                    parts.Add(await sending);
                    total += nextFilled;
                    if (nextFilled == 0) break;
                    (current, next, filled) = (next, current, nextFilled);
                    partNumber++;
                    if (nextFilled < partSize)
                    {
                        parts.Add(await UploadPartAsync(multipartKey, upload.UploadId, partNumber, current, filled, ct));
                        break;
                    }
                }
                var finalKey = await decide();
                await _s3.CompleteMultipartUploadAsync(new CompleteMultipartUploadRequest
                {
                    BucketName = _bucket, Key = multipartKey, UploadId = upload.UploadId, PartETags = parts,
                }, ct);
                if (finalKey != multipartKey)
                {
                    try { await CopyAsync(multipartKey, finalKey, total, ct); }
                    finally { await DeleteKeyAsync(multipartKey); }
                }
                return total;
            }
            catch
            {
                await AbortAsync(multipartKey, upload.UploadId);
                throw;
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(current);
            if (next is not null) ArrayPool<byte>.Shared.Return(next);
        }
    }

    /// <summary>Reads up to <paramref name="count"/> bytes (fewer only at the end of the stream), hashing them.</summary>
    private static async Task<int> FillAsync(Stream content, byte[] buffer, int count, BlobHasher? hasher, long? maxSize, long before, CancellationToken ct)
    {
        var filled = 0;
        while (filled < count)
        {
            var read = await content.ReadAsync(buffer.AsMemory(filled, count - filled), ct);
            if (read == 0) break;
            if (maxSize is { } max && before + filled + read > max)
                throw ArcaException.TooLarge($"upload exceeds the maximum size of {max} bytes");
            hasher?.Append(buffer.AsSpan(filled, read));
            filled += read;
        }
        return filled;
    }

    private async Task<PartETag> UploadPartAsync(string key, string uploadId, int partNumber, byte[] buffer, int length, CancellationToken ct)
    {
        var response = await _s3.UploadPartAsync(new UploadPartRequest
        {
            BucketName = _bucket, Key = key, UploadId = uploadId, PartNumber = partNumber, PartSize = length,
            InputStream = new MemoryStream(buffer, 0, length, writable: false), UseChunkEncoding = false,
        }, ct);
        return new PartETag(partNumber, response.ETag);
    }

    private async Task AbortAsync(string key, string uploadId)
    {
        // Best effort and not cancellable: a client that hung up must not leave parts behind (cleanup catches the rest).
        try { await _s3.AbortMultipartUploadAsync(new AbortMultipartUploadRequest { BucketName = _bucket, Key = key, UploadId = uploadId }); }
        catch (AmazonS3Exception) { }
    }

    /// <summary>Server-side copy; part by part above 5 GiB.</summary>
    private async Task CopyAsync(string source, string destination, long size, CancellationToken ct)
    {
        if (size <= MaxSingleCopy)
        {
            await _s3.CopyObjectAsync(new CopyObjectRequest
            {
                SourceBucket = _bucket, SourceKey = source, DestinationBucket = _bucket, DestinationKey = destination,
            }, ct);
            return;
        }
        var upload = await _s3.InitiateMultipartUploadAsync(new InitiateMultipartUploadRequest { BucketName = _bucket, Key = destination }, ct);
        try
        {
            var parts = new List<PartETag>();
            for (long first = 0, n = 1; first < size; first += CopyPartSize, n++)
            {
                var part = await _s3.CopyPartAsync(new CopyPartRequest
                {
                    SourceBucket = _bucket, SourceKey = source, DestinationBucket = _bucket, DestinationKey = destination,
                    UploadId = upload.UploadId, PartNumber = (int)n, FirstByte = first, LastByte = Math.Min(size, first + CopyPartSize) - 1,
                }, ct);
                parts.Add(new PartETag((int)n, part.ETag));
            }
            await _s3.CompleteMultipartUploadAsync(new CompleteMultipartUploadRequest
            {
                BucketName = _bucket, Key = destination, UploadId = upload.UploadId, PartETags = parts,
            }, ct);
        }
        catch
        {
            await AbortAsync(destination, upload.UploadId);
            throw;
        }
    }

    private async Task<long?> SizeOfAsync(string key, CancellationToken ct)
    {
        try
        {
            var head = await _s3.GetObjectMetadataAsync(new GetObjectMetadataRequest { BucketName = _bucket, Key = key }, ct);
            return head.ContentLength;
        }
        catch (AmazonS3Exception e) when (e.StatusCode == HttpStatusCode.NotFound) { return null; }
    }

    private async Task DeleteKeyAsync(string key)
    {
        try { await _s3.DeleteObjectAsync(new DeleteObjectRequest { BucketName = _bucket, Key = key }); }
        catch (AmazonS3Exception) { /* a leftover under tmp/ is removed by cleanup */ }
    }

    public async Task<Stream?> OpenReadAsync(Digest digest, CancellationToken ct = default)
    {
        var key = BlobKey(digest);
        return await SizeOfAsync(key, ct) is { } size ? new S3ReadStream(_s3, _bucket, key, size) : null;
    }

    public Task<long?> GetSizeAsync(Digest digest, CancellationToken ct = default) => SizeOfAsync(BlobKey(digest), ct);

    public async Task<bool> DeleteAsync(Digest digest, CancellationToken ct = default)
    {
        var key = BlobKey(digest);
        if (await SizeOfAsync(key, ct) is null) return false;
        await _s3.DeleteObjectAsync(new DeleteObjectRequest { BucketName = _bucket, Key = key }, ct);
        return true;
    }

    public async IAsyncEnumerable<StoredBlob> ListAsync([EnumeratorCancellation] CancellationToken ct = default)
    {
        var prefix = Key("blobs/");
        await foreach (var o in ObjectsAsync(prefix, ct))
        {
            // blobs/<alg>/<2 hex>/<hex>
            var parts = o.Key[prefix.Length..].Split('/');
            if (parts.Length != 3 || !Digest.IsSupportedAlgorithm(parts[0]) || !Digest.TryParse($"{parts[0]}:{parts[2]}", out var d)) continue;
            yield return new StoredBlob(d, o.Size ?? 0, new DateTimeOffset(DateTime.SpecifyKind(o.LastModified ?? DateTime.UtcNow, DateTimeKind.Utc)));
        }
    }

    /// <summary>Every object under a prefix, one listing page (1000 keys) in memory at a time.</summary>
    private async IAsyncEnumerable<S3Object> ObjectsAsync(string prefix, [EnumeratorCancellation] CancellationToken ct)
    {
        string? token = null;
        do
        {
            var page = await _s3.ListObjectsV2Async(new ListObjectsV2Request { BucketName = _bucket, Prefix = prefix, ContinuationToken = token }, ct);
            foreach (var o in page.S3Objects ?? []) yield return o;
            token = page.IsTruncated == true ? page.NextContinuationToken : null;
        } while (token is not null);
    }

    public async Task<IBlobUpload> StartUploadAsync(CancellationToken ct = default)
    {
        var id = Guid.NewGuid().ToString("N");
        var started = DateTimeOffset.UtcNow;
        await _s3.PutObjectAsync(new PutObjectRequest { BucketName = _bucket, Key = UploadPrefix(id) + "startedat", ContentBody = started.ToString("O") }, ct);
        return new S3Upload(this, id, started, [], 0);
    }

    public async Task<IBlobUpload?> ResumeUploadAsync(string uploadId, CancellationToken ct = default)
    {
        if (!Guid.TryParseExact(uploadId, "N", out _)) return null;
        var prefix = UploadPrefix(uploadId);
        DateTimeOffset? started = null;
        var parts = new List<(string Key, long Size)>();
        await foreach (var o in ObjectsAsync(prefix, ct))
        {
            var name = o.Key[prefix.Length..];
            if (name == "startedat") started = new DateTimeOffset(DateTime.SpecifyKind(o.LastModified ?? DateTime.UtcNow, DateTimeKind.Utc));
            else if (name.StartsWith("part-", StringComparison.Ordinal)) parts.Add((o.Key, o.Size ?? 0));
        }
        if (started is null) return null;
        parts.Sort((a, b) => string.CompareOrdinal(a.Key, b.Key)); // part-000001, part-000002, ...
        return new S3Upload(this, uploadId, started.Value, parts, parts.Sum(p => p.Size));
    }

    public async Task CleanupTemporaryAsync(TimeSpan olderThan, CancellationToken ct = default)
    {
        var cutoff = DateTime.UtcNow - (olderThan > MinimumLeftoverAge ? olderThan : MinimumLeftoverAge);
        await foreach (var o in ObjectsAsync(Key("tmp/"), ct))
            if (o.LastModified < cutoff) await DeleteKeyAsync(o.Key);

        // An upload session goes when its newest object (start marker or last part) is older than the cutoff.
        var uploads = Key("uploads/");
        var newest = new Dictionary<string, DateTime>(StringComparer.Ordinal);
        await foreach (var o in ObjectsAsync(uploads, ct))
        {
            var id = o.Key[uploads.Length..].Split('/')[0];
            var modified = o.LastModified ?? DateTime.UtcNow;
            newest[id] = newest.TryGetValue(id, out var t) && t > modified ? t : modified;
        }
        foreach (var (id, modified) in newest)
            if (modified < cutoff) await DeletePrefixAsync(Key($"uploads/{id}/"), ct);

        // Multipart uploads of writes that died before completing or aborting.
        string? keyMarker = null, idMarker = null;
        do
        {
            ListMultipartUploadsResponse page;
            try
            {
                page = await _s3.ListMultipartUploadsAsync(new ListMultipartUploadsRequest
                {
                    BucketName = _bucket, Prefix = _options.Prefix, KeyMarker = keyMarker, UploadIdMarker = idMarker,
                }, ct);
            }
            catch (AmazonS3Exception e) when (e.ErrorCode == "NotImplemented")
            {
                return; // some S3-compatible servers cannot list them; a bucket lifecycle rule has to clean up there
            }
            foreach (var u in page.MultipartUploads ?? [])
                if (u.Initiated < cutoff) await AbortAsync(u.Key, u.UploadId);
            (keyMarker, idMarker) = page.IsTruncated == true ? (page.NextKeyMarker, page.NextUploadIdMarker) : (null, null);
        } while (keyMarker is not null);
    }

    private async Task DeletePrefixAsync(string prefix, CancellationToken ct)
    {
        var keys = new List<string>();
        await foreach (var o in ObjectsAsync(prefix, ct)) keys.Add(o.Key);
        foreach (var key in keys) await DeleteKeyAsync(key);
    }

    /// <summary>Checks the bucket is reachable with the configured credentials (start-up), with a message a person can act on.</summary>
    public async Task CheckAccessAsync(CancellationToken ct = default)
    {
        try { await _s3.ListObjectsV2Async(new ListObjectsV2Request { BucketName = _bucket, Prefix = _options.Prefix, MaxKeys = 1 }, ct); }
        catch (AmazonS3Exception e)
        {
            throw new InvalidOperationException($"S3 bucket '{_bucket}' is not usable: {(int)e.StatusCode} {e.ErrorCode} {e.Message}", e);
        }
        catch (Exception e) when (e is HttpRequestException or AmazonServiceException or AmazonClientException)
        {
            throw new InvalidOperationException($"S3 endpoint for bucket '{_bucket}' is not reachable: {e.Message}", e);
        }
    }

    public void Dispose() => _s3.Dispose();

    /// <summary>
    /// A chunked upload kept in the bucket, so any server sharing it can continue it: a start marker and one object per
    /// appended part (<c>part-000001</c>, ...). Commit streams the parts in order through the normal verified write.
    /// </summary>
    private sealed class S3Upload(S3BlobStore store, string id, DateTimeOffset startedAt, List<(string Key, long Size)> parts, long size) : IBlobUpload
    {
        public string Id => id;
        public long Size { get; private set; } = size;
        public DateTimeOffset StartedAt => startedAt;

        public async Task AppendAsync(Stream content, long? maxSize = null, CancellationToken ct = default)
        {
            var key = store.UploadPrefix(id) + $"part-{parts.Count + 1:D6}";
            // A part that fails is never completed, so the upload stays as it was before it.
            var written = await store.WriteObjectAsync(content, null, maxSize is { } m ? m - Size : null, key, () => Task.FromResult(key), ct);
            parts.Add((key, written));
            Size += written;
        }

        public async Task<BlobWriteResult> CommitAsync(Digest expected, CancellationToken ct = default)
        {
            await using var joined = new ConcatenatedStream(parts.Select(p => (Func<Stream>)(() => new S3ReadStream(store._s3, store._bucket, p.Key, p.Size))));
            var result = await store.PutAsync(joined, new BlobWriteOptions { Expected = expected }, ct);
            await CancelAsync(ct);
            return result;
        }

        public Task CancelAsync(CancellationToken ct = default) => store.DeletePrefixAsync(store.UploadPrefix(id), ct);

        public ValueTask DisposeAsync() => ValueTask.CompletedTask;
    }
}
