using Arca.Core.Model;
using Arca.Core.Storage;

namespace Arca.Server.Services;

/// <summary>Shared publish path for every format: stream bytes into the blob store, record the blob,
/// then commit package/version/files in one metadata transaction.</summary>
public sealed class ArtifactService(IMetadataStore store, IBlobStore blobs)
{
    public IMetadataStore Store => store;
    public IBlobStore Blobs => blobs;

    public async Task<BlobWriteResult> StoreBlobAsync(Stream content, BlobWriteOptions options, CancellationToken ct)
    {
        var result = await blobs.PutAsync(content, options, ct);
        await store.RecordBlobAsync(new BlobRecord(result.Digest.ToString(), result.Size, result.Sha1, result.Md5, DateTimeOffset.UtcNow), ct);
        return result;
    }

    /// <summary>Opens a stored file for reading; a missing blob is a server-side inconsistency reported as 404.</summary>
    public async Task<Stream> OpenFileAsync(PackageFile file, CancellationToken ct) =>
        await blobs.OpenReadAsync(Digest.Parse(file.BlobDigest), ct)
        ?? throw ArcaException.NotFound($"content of '{file.Path}' is missing from the blob store", "BLOB_MISSING");

    /// <summary>Every version of a package in publish order (all pages), for formats that render whole version lists.</summary>
    public async Task<List<PackageVersion>> ListAllVersionsAsync(long packageId, CancellationToken ct)
    {
        var all = new List<PackageVersion>();
        for (var page = 1; ; page++)
        {
            var p = await store.ListVersionsAsync(packageId, new PageRequest(page, PageRequest.MaxPageSize), ct);
            all.AddRange(p.Items);
            if (p.Items.Count < PageRequest.MaxPageSize) return all;
        }
    }

    /// <summary>Removes a version and, when it was the last one, its package.</summary>
    public async Task DeleteVersionAsync(Package package, PackageVersion version, CancellationToken ct)
    {
        await store.DeleteVersionAsync(version.Id, ct);
        var rest = await store.ListVersionsAsync(package.Id, new PageRequest(1, 1), ct);
        if (rest.Total == 0) await store.DeletePackageAsync(package.Id, ct);
    }
}
