using Arca.Core.Model;
using Arca.Core.Storage;
using Arca.Server.Services;

namespace Arca.Server.Formats.Oci;

/// <summary>
/// Management operations on images (DOCKER) and OCI charts (HELM). A version is a tag or an untagged digest:
/// deleting a tag removes the image when no other tag keeps it; copying re-stores the same manifest bytes (so the
/// digest is kept) in the destination and links the blobs there, without copying blob bytes.
/// </summary>
public sealed class OciArtifactLifecycle(string packageType, IOciMetadataStore oci, OciManifestService manifests,
    ArtifactService artifacts, DefaultArtifactLifecycle fallback) : IArtifactLifecycle
{
    public string PackageType => packageType;

    private async Task<string?> DigestOfAsync(Registry registry, Package package, PackageVersion version, CancellationToken ct)
    {
        if (Digest.TryParse(version.Version, out _))
            return await oci.GetManifestAsync(registry.Id, package.Name, version.Version, ct) is null ? null : version.Version;
        return await oci.ResolveTagAsync(registry.Id, package.Name, version.Version, ct);
    }

    public async Task DeleteVersionAsync(Registry registry, Package package, PackageVersion version, CancellationToken ct)
    {
        var digest = await DigestOfAsync(registry, package, version, ct);
        if (digest is null)
        {
            await fallback.DeleteVersionAsync(registry, package, version, ct); // not an OCI version (e.g. a classic Helm upload)
            return;
        }
        if (!Digest.TryParse(version.Version, out _))
        {
            await oci.DeleteTagAsync(registry.Id, package.Name, version.Version, ct);
            var otherTags = (await oci.ListTagDigestsAsync(package.Id, ct)).Any(t => t.Digest == digest);
            if (otherTags) return;
        }
        await oci.DeleteManifestAsync(registry.Id, package.Name, digest, cascadeChildren: true, ct);
    }

    public async Task DeletePackageAsync(Registry registry, Package package, CancellationToken ct)
    {
        await artifacts.Store.DeletePackageAsync(package.Id, ct);
        await oci.DeleteRepositoryLinksAsync(registry.Id, package.Name, ct);
    }

    public async Task<PublishOutcome> CopyVersionAsync(Registry source, Package package, PackageVersion version, Registry destination, bool overwrite, CancellationToken ct)
    {
        var digest = await DigestOfAsync(source, package, version, ct);
        if (digest is null) return await fallback.CopyVersionAsync(source, package, version, destination, overwrite, ct);
        var isTag = !Digest.TryParse(version.Version, out _);
        var existing = isTag
            ? await oci.ResolveTagAsync(destination.Id, package.Name, version.Version, ct)
            : (await oci.GetManifestAsync(destination.Id, package.Name, digest, ct))?.Digest;
        if (existing is not null && existing != digest && !overwrite) return PublishOutcome.Conflict;
        await CopyManifestAsync(source, package.Name, digest, destination, isTag ? version.Version : digest, ct);
        return existing is null ? PublishOutcome.Created : PublishOutcome.Replaced;
    }

    /// <summary>Copies a manifest, its child manifests first, and its referrers (signatures, SBOMs) after it.</summary>
    private async Task CopyManifestAsync(Registry source, string repository, string digest, Registry destination, string reference, CancellationToken ct)
    {
        var manifest = await oci.GetManifestAsync(source.Id, repository, digest, ct)
            ?? throw OciErrors.ManifestUnknown(digest);
        foreach (var r in await oci.ListReferencesAsync(manifest.PackageId, digest, ct))
        {
            if (r.IsManifest) await CopyManifestAsync(source, repository, r.Digest, destination, r.Digest, ct);
            else await oci.LinkBlobAsync(destination.Id, repository, r.Digest, ct);
        }
        var bytes = await ReadManifestBytesAsync(manifest, ct);
        await manifests.PutManifestAsync(destination, repository, reference, bytes, manifest.MediaType, ct);
        foreach (var referrer in await oci.ListReferrersAsync(source.Id, repository, digest, ct))
            if (await oci.GetManifestAsync(destination.Id, repository, referrer.Digest, ct) is null)
                await CopyManifestAsync(source, repository, referrer.Digest, destination, referrer.Digest, ct);
    }

    private async Task<byte[]> ReadManifestBytesAsync(OciManifest manifest, CancellationToken ct)
    {
        await using var stream = await artifacts.Blobs.OpenReadAsync(Digest.Parse(manifest.Digest), ct)
            ?? throw OciErrors.ManifestUnknown(manifest.Digest);
        var buffer = new MemoryStream((int)Math.Min(manifest.Size, OciManifestService.MaxManifestBytes));
        await stream.CopyToAsync(buffer, ct);
        return buffer.ToArray();
    }
}
