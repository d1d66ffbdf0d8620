using System.Collections.Concurrent;
using System.Net;
using Arca.Client.Oci;
using Arca.Migration.Config;
using Arca.Migration.Engine;
using Arca.Migration.Sources;

namespace Arca.Migration.Destinations;

/// <summary>
/// DOCKER and HELM (OCI) images: the destination is &lt;arca host&gt;/&lt;destinationRegistry&gt;/&lt;repo&gt;:&lt;tag&gt;.
/// A tag that already names the source digest is skipped with one HEAD; otherwise <see cref="ImageCopier"/> copies
/// the whole index and its referrers keeping digests, skipping blobs the destination has and mounting blobs an
/// earlier image of this run uploaded to another repository.
/// </summary>
internal sealed class OciImageWriter(OciRegistryClient destination) : IItemWriter
{
    private readonly ConcurrentDictionary<string, string> _blobHomes = new();

    public async Task<(ItemStatus, long)> WriteAsync(MigrationItem item, MappingConfig mapping, bool overwrite, CancellationToken ct)
    {
        var image = (OciImageItem)item;
        var destRepository = $"{mapping.DestinationRegistry}/{image.DestinationRepository}";
        try
        {
            var existing = await destination.HeadManifestAsync(destRepository, image.Tag, ct);
            if (existing is not null)
            {
                var sourceDigest = image.Digest ?? (await image.Source.HeadManifestAsync(image.SourceRepository, image.Tag, ct))?.Digest
                    ?? throw new OciException($"source image {image.Display} no longer exists", HttpStatusCode.NotFound);
                if (existing.Digest == sourceDigest) return (ItemStatus.Skipped, 0);
                if (!overwrite)
                    throw new HttpStatusException(HttpStatusCode.Conflict,
                        $"{destRepository}:{image.Tag} exists at the destination as {existing.Digest}, the source is {sourceDigest} (set overwrite to replace it)");
            }

            var copier = new ImageCopier(image.Source, destination, new ImageCopyOptions
            {
                Overwrite = overwrite, Concurrency = 3, SharedBlobHomes = _blobHomes,
            });
            var summary = await copier.CopyAsync(new ImageReference(image.Source.Registry, image.SourceRepository, image.Tag, null),
                new ImageReference(destination.Registry, destRepository, image.Tag, null), ct);
            var copied = summary.Images.Single().Digest;

            // Verify: the destination tag must now name exactly the source manifest.
            var stored = await destination.HeadManifestAsync(destRepository, image.Tag, ct);
            if (stored?.Digest != copied)
                throw new InvalidOperationException($"{destRepository}:{image.Tag} is {stored?.Digest ?? "(missing)"} after the copy, the source is {copied}");
            return (ItemStatus.Succeeded, summary.BytesCopied);
        }
        catch (OciException e) when (e.Status is { } status && ((int)status == 429 || (int)status >= 500))
        {
            throw new TransientException(e.Message, null, e);
        }
    }
}
