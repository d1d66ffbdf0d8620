using Arca.Core.Auth;
using Arca.Core.Model;

namespace Arca.Core.Storage;

/// <summary>
/// Everything the server knows besides blob bytes: registries, packages, versions, files, key:value metadata,
/// tokens. Implementations: SQLite (embedded default), PostgreSQL. Every implementation must pass the shared
/// contract tests (tests/Arca.Tests/Storage/MetadataStoreContract.cs).
/// </summary>
public interface IMetadataStore
{
    Task MigrateAsync(CancellationToken ct = default);
    Task<bool> PingAsync(CancellationToken ct = default);

    // Registries
    Task<Registry> CreateRegistryAsync(Registry registry, CancellationToken ct = default);
    Task<Registry?> GetRegistryAsync(string name, CancellationToken ct = default);
    Task<Registry?> GetRegistryByIdAsync(long id, CancellationToken ct = default);
    Task<Page<Registry>> ListRegistriesAsync(RegistryQuery query, CancellationToken ct = default);
    Task<Registry> UpdateRegistryAsync(Registry registry, CancellationToken ct = default);
    /// <summary>Deletes the registry with its packages, versions, files and metadata. Blobs become garbage.</summary>
    Task<bool> DeleteRegistryAsync(long registryId, CancellationToken ct = default);

    // Packages
    Task<Package?> GetPackageAsync(long registryId, string name, CancellationToken ct = default);
    Task<Package> GetOrCreatePackageAsync(long registryId, string name, CancellationToken ct = default);
    /// <summary>Lists packages of one registry, or of every registry when <paramref name="registryId"/> is null.</summary>
    Task<Page<Package>> ListPackagesAsync(long? registryId, string? search, PageRequest page, CancellationToken ct = default);
    Task SetPackagePropertiesAsync(long packageId, string? propertiesJson, CancellationToken ct = default);
    Task<bool> DeletePackageAsync(long packageId, CancellationToken ct = default);

    // Versions
    Task<PackageVersion?> GetVersionAsync(long packageId, string version, CancellationToken ct = default);
    Task<Page<PackageVersion>> ListVersionsAsync(long packageId, PageRequest page, CancellationToken ct = default);
    Task SetVersionPropertiesAsync(long versionId, string? propertiesJson, CancellationToken ct = default);
    Task<bool> DeleteVersionAsync(long versionId, CancellationToken ct = default);

    /// <summary>
    /// Publishes files into a version in one transaction, creating package and version as needed.
    /// When a file path already exists and <paramref name="overwrite"/> is false, nothing changes and the
    /// outcome is Conflict. When <paramref name="replaceVersion"/> is true, all existing files of the version
    /// are removed first (used by formats whose versions are immutable units, e.g. npm, NuGet).
    /// </summary>
    Task<PublishResult> PublishAsync(PublishRequest request, CancellationToken ct = default);

    // Files
    Task<PackageFile?> GetFileAsync(long versionId, string path, CancellationToken ct = default);
    Task<IReadOnlyList<PackageFile>> ListFilesAsync(long versionId, CancellationToken ct = default);
    Task<bool> DeleteFileAsync(long versionId, string path, CancellationToken ct = default);

    // Key:value metadata at registry, package or version level
    Task<IReadOnlyDictionary<string, string>> GetMetadataAsync(MetadataOwner owner, CancellationToken ct = default);
    Task SetMetadataAsync(MetadataOwner owner, IReadOnlyDictionary<string, string> values, CancellationToken ct = default);
    /// <summary>Deletes the given keys, or every key when <paramref name="keys"/> is null or empty. Returns how many went.</summary>
    Task<int> DeleteMetadataAsync(MetadataOwner owner, IReadOnlyCollection<string>? keys, CancellationToken ct = default);

    // Blobs (size and legacy checksums; the bytes live in IBlobStore)
    Task RecordBlobAsync(BlobRecord blob, CancellationToken ct = default);
    Task<BlobRecord?> GetBlobAsync(string digest, CancellationToken ct = default);
    /// <summary>Every digest referenced by any file (and by format-specific tables), for garbage collection.</summary>
    IAsyncEnumerable<string> ListReferencedDigestsAsync(CancellationToken ct = default);
    Task<bool> IsBlobReferencedAsync(string digest, CancellationToken ct = default);
    Task ForgetBlobAsync(string digest, CancellationToken ct = default);

    // Tokens
    Task<ApiToken> CreateTokenAsync(ApiToken token, CancellationToken ct = default);
    Task<ApiToken?> FindTokenByHashAsync(string hash, CancellationToken ct = default);
    Task<IReadOnlyList<ApiToken>> ListTokensAsync(CancellationToken ct = default);
    Task<bool> RevokeTokenAsync(long id, CancellationToken ct = default);
    Task TouchTokenAsync(long id, DateTimeOffset usedAt, CancellationToken ct = default);
    Task<bool> AnyAdminTokenAsync(CancellationToken ct = default);
}

public sealed record PublishRequest
{
    public required long RegistryId { get; init; }
    public required string PackageName { get; init; }
    public required string Version { get; init; }
    public IReadOnlyList<NewFile> Files { get; init; } = [];
    public bool Overwrite { get; init; }
    public bool ReplaceVersion { get; init; }
    /// <summary>Version properties JSON; null keeps what is there.</summary>
    public string? VersionProperties { get; init; }
    /// <summary>Package properties JSON; null keeps what is there.</summary>
    public string? PackageProperties { get; init; }
}

public sealed record PublishResult(PublishOutcome Outcome, Package Package, PackageVersion Version, string? ConflictingPath = null);
