using Arca.Core.Model;
using Arca.Core.Storage;

namespace Arca.Server.Services;

/// <summary>
/// Format-specific behaviour of the generic management operations (delete, copy). A format whose versions carry
/// more than files (OCI tags, npm dist-tags, Maven metadata) registers one; others get the default behaviour.
/// </summary>
public interface IArtifactLifecycle
{
    string PackageType { get; }

    /// <summary>Deletes one version (and the package when it was the last).</summary>
    Task DeleteVersionAsync(Registry registry, Package package, PackageVersion version, CancellationToken ct);

    /// <summary>Deletes a whole package.</summary>
    Task DeletePackageAsync(Registry registry, Package package, CancellationToken ct);

    /// <summary>Copies a version to another registry of the same type without copying blob bytes.</summary>
    Task<PublishOutcome> CopyVersionAsync(Registry source, Package package, PackageVersion version, Registry destination, bool overwrite, CancellationToken ct);
}

/// <summary>Default lifecycle: a version is its files.</summary>
public sealed class DefaultArtifactLifecycle(ArtifactService artifacts) : IArtifactLifecycle
{
    public string PackageType => "*";

    public Task DeleteVersionAsync(Registry registry, Package package, PackageVersion version, CancellationToken ct) =>
        artifacts.DeleteVersionAsync(package, version, ct);

    public Task DeletePackageAsync(Registry registry, Package package, CancellationToken ct) =>
        artifacts.Store.DeletePackageAsync(package.Id, ct);

    public async Task<PublishOutcome> CopyVersionAsync(Registry source, Package package, PackageVersion version, Registry destination, bool overwrite, CancellationToken ct)
    {
        var files = await artifacts.Store.ListFilesAsync(version.Id, ct);
        var result = await artifacts.Store.PublishAsync(new PublishRequest
        {
            RegistryId = destination.Id, PackageName = package.Name, Version = version.Version,
            Files = files.Select(f => new NewFile(f.Path, f.BlobDigest, f.Size, f.ContentType, f.Sha1, f.Md5)).ToList(),
            Overwrite = overwrite, ReplaceVersion = true,
            VersionProperties = version.Properties, PackageProperties = package.Properties,
        }, ct);
        if (result.Outcome != PublishOutcome.Conflict)
        {
            var meta = await artifacts.Store.GetMetadataAsync(new MetadataOwner(MetadataLevel.Version, version.Id), ct);
            if (meta.Count > 0) await artifacts.Store.SetMetadataAsync(new MetadataOwner(MetadataLevel.Version, result.Version.Id), meta, ct);
        }
        return result.Outcome;
    }
}

public sealed class ArtifactLifecycles(IEnumerable<IArtifactLifecycle> all, DefaultArtifactLifecycle fallback)
{
    public IArtifactLifecycle For(string packageType) => all.FirstOrDefault(l => l.PackageType == packageType) ?? fallback;
}
