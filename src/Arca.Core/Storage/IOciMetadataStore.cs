namespace Arca.Core.Storage;

/// <summary>A stored OCI manifest of one repository (a repository is a package of a DOCKER or HELM registry).</summary>
public sealed record OciManifest
{
    public long PackageId { get; init; }
    public required string Digest { get; init; }
    public required string MediaType { get; init; }
    /// <summary>The effective artifact type (manifest artifactType, else config media type for image manifests).</summary>
    public string? ArtifactType { get; init; }
    public string? SubjectDigest { get; init; }
    public long Size { get; init; }
    /// <summary>Annotations of the manifest as a JSON object, for referrers descriptors.</summary>
    public string? Annotations { get; init; }
    /// <summary>Properties JSON of the package version(s) this manifest appears as.</summary>
    public required string VersionProperties { get; init; }
    /// <summary>Files of the package version(s) this manifest appears as, a JSON array of <see cref="Model.NewFile"/>.</summary>
    public required string VersionFiles { get; init; }
    public DateTimeOffset CreatedAt { get; init; }
}

/// <summary>A blob or child manifest a manifest points to.</summary>
public sealed record OciReference(string Digest, bool IsManifest);

/// <summary>Stores one manifest (and optionally points a tag at it) in one transaction.</summary>
public sealed record OciManifestWrite
{
    public required long RegistryId { get; init; }
    public required string Repository { get; init; }
    public required OciManifest Manifest { get; init; }
    public IReadOnlyList<OciReference> References { get; init; } = [];
    public string? Tag { get; init; }
}

/// <summary>
/// Format tables of the OCI module. Package and version rows are derived from them in the same transaction:
/// each tag is a version, and each manifest that is neither tagged nor a child of another manifest is a version
/// named by its digest.
/// </summary>
public interface IOciMetadataStore
{
    Task LinkBlobAsync(long registryId, string repository, string digest, CancellationToken ct = default);
    Task<bool> UnlinkBlobAsync(long registryId, string repository, string digest, CancellationToken ct = default);
    /// <summary>True when the blob was uploaded or mounted into the repository, or a manifest of it references it.</summary>
    Task<bool> IsBlobLinkedAsync(long registryId, string repository, string digest, CancellationToken ct = default);
    /// <summary>True when any repository of the registry knows the blob (mount without <c>from</c>).</summary>
    Task<bool> IsBlobInRegistryAsync(long registryId, string digest, CancellationToken ct = default);

    Task<OciManifest?> GetManifestAsync(long registryId, string repository, string digest, CancellationToken ct = default);
    Task<string?> ResolveTagAsync(long registryId, string repository, string tag, CancellationToken ct = default);
    Task<IReadOnlyList<OciReference>> ListReferencesAsync(long packageId, string manifestDigest, CancellationToken ct = default);

    Task PutManifestAsync(OciManifestWrite write, CancellationToken ct = default);
    Task<bool> DeleteTagAsync(long registryId, string repository, string tag, CancellationToken ct = default);
    /// <summary>Deletes a manifest and every tag pointing at it. With <paramref name="cascadeChildren"/>, child
    /// manifests left untagged and unreferenced go too.</summary>
    Task<bool> DeleteManifestAsync(long registryId, string repository, string digest, bool cascadeChildren, CancellationToken ct = default);

    /// <summary>Tags in ASCII order after <paramref name="last"/>, at most <paramref name="limit"/>; null when the repository does not exist.</summary>
    Task<IReadOnlyList<string>?> ListTagsAsync(long registryId, string repository, string? last, int limit, CancellationToken ct = default);
    Task<IReadOnlyList<(string Tag, string Digest)>> ListTagDigestsAsync(long packageId, CancellationToken ct = default);
    Task<IReadOnlyList<OciManifest>> ListReferrersAsync(long registryId, string repository, string subjectDigest, CancellationToken ct = default);

    /// <summary>Deletes untagged manifests that no other manifest needs (children of indexes and referrers of an
    /// existing subject are kept). Returns how many were (or, when <paramref name="dryRun"/>, would be) deleted.</summary>
    Task<int> PruneUntaggedAsync(bool dryRun, CancellationToken ct = default);

    /// <summary>Removes the blob links of a repository (when its package is deleted).</summary>
    Task DeleteRepositoryLinksAsync(long registryId, string repository, CancellationToken ct = default);
}
