using System.Collections.Concurrent;
using System.Net;
using Arca.Client.Oci;
using Arca.Migration.Config;
using Arca.Migration.Engine;
using Arca.Migration.Sources;

namespace Arca.Migration.Destinations;

/// <summary>
/// DOCKER and HELM (OCI) images: the destination is &lt;arca host&gt;/&lt;destinationRegistry&gt;/&lt;repo&gt;:&lt;tag&gt;.
/// A tag that already names the source digest is skipped with one HEAD (plus one at the source when the listing
/// did not tell the digest); otherwise <see cref="ImageCopier"/> copies, by digest (what was listed, even when the
/// source tag has moved since; a listed manifest the source no longer has fails the item saying so),
/// the whole index and its referrers keeping digests, skipping blobs the destination has and mounting blobs an
/// earlier image of this run uploaded to another repository.
/// </summary>
internal sealed class OciImageWriter(OciRegistryClient destination) : IItemWriter, IUpToDateCheck
{
    /// <summary>Blobs of one image in flight at once (containers/image, i.e. skopeo, also copies 6 layers in parallel).</summary>
    private const int BlobsPerImage = 6;
    private readonly ConcurrentDictionary<string, string> _blobHomes = new();

    /// <summary>One HEAD: the destination tag already names the digest the listing resolved.</summary>
    public async Task<bool> IsUpToDateAsync(MigrationItem item, MappingConfig mapping, CancellationToken ct) =>
        item is OciImageItem { Digest: { } digest } image
        && (await destination.HeadManifestAsync($"{mapping.DestinationRegistry}/{image.DestinationRepository}", image.Tag, ct))?.Digest == digest;

    public async Task<(ItemStatus, long)> WriteAsync(MigrationItem item, MappingConfig mapping, bool overwrite, CancellationToken ct)
    {
        var image = (OciImageItem)item;
        var destRepository = $"{mapping.DestinationRegistry}/{image.DestinationRepository}";
        try
        {
            var existing = await destination.HeadManifestAsync(destRepository, image.Tag, ct);
            var sourceDigest = image.Digest ?? (await image.Source.HeadManifestAsync(image.SourceRepository, image.Tag, ct))?.Digest
                ?? throw new OciException($"source image {image.Display} no longer exists", HttpStatusCode.NotFound);
            if (existing is not null)
            {
                if (existing.Digest == sourceDigest) return (ItemStatus.Skipped, 0);
                if (!overwrite)
                    throw new HttpStatusException(HttpStatusCode.Conflict,
                        $"{destRepository}:{image.Tag} exists at the destination as {existing.Digest}, the source is {sourceDigest} (set overwrite to replace it)");
            }

            // Copy by digest first (index, children, blobs, referrers), and only then point the tag at it: a tag at
            // the destination always means the whole image is there, which is what makes skip-by-HEAD safe after a
            // crash or a dead source.
            // The source is read by digest: what was listed (or just resolved) is what is copied, even if the tag
            // moves meanwhile; the tag is then pointed at exactly that manifest.
            var copier = new ImageCopier(image.Source, destination, new ImageCopyOptions
            {
                Overwrite = overwrite, Concurrency = BlobsPerImage, SharedBlobHomes = _blobHomes,
            });
            ImageCopySummary summary;
            try
            {
                summary = await copier.CopyAsync(new ImageReference(image.Source.Registry, image.SourceRepository, null, sourceDigest),
                    new ImageReference(destination.Registry, destRepository, null, sourceDigest), ct);
            }
            catch (OciException e) when (e.Status == HttpStatusCode.NotFound)
            {
                if (await image.Source.HeadManifestAsync(image.SourceRepository, sourceDigest, ct) is not null) throw; // something else is missing
                var now = (await image.Source.HeadManifestAsync(image.SourceRepository, image.Tag, ct))?.Digest;
                throw new OciException($"source image {image.Display} was listed as {sourceDigest}, which the source no longer has " +
                    (now is null ? "(the tag was deleted since the listing)" : $"(the tag moved to {now} since the listing; rerun to migrate it)"), HttpStatusCode.NotFound);
            }
            var manifest = await destination.GetManifestAsync(destRepository, sourceDigest, ct)
                ?? throw new InvalidOperationException($"{destRepository}@{sourceDigest} is missing right after the copy");
            await destination.PutManifestAsync(destRepository, image.Tag, manifest, ct);

            // Verify: the destination tag must now name exactly the source manifest.
            var stored = await destination.HeadManifestAsync(destRepository, image.Tag, ct);
            if (stored?.Digest != sourceDigest)
                throw new InvalidOperationException($"{destRepository}:{image.Tag} is {stored?.Digest ?? "(missing)"} after the copy, the source is {sourceDigest}");
            return (ItemStatus.Succeeded, summary.BytesCopied);
        }
        catch (OciException e) when (e.Status is { } status && ((int)status == 429 || (int)status >= 500))
        {
            throw new TransientException(e.Message, null, e);
        }
    }
}
