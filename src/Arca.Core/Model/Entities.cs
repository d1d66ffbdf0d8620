namespace Arca.Core.Model;

public sealed record Registry
{
    public long Id { get; init; }
    public required string Name { get; init; }
    public required string PackageType { get; init; }
    public string? Org { get; init; }
    public string? Project { get; init; }
    public string? Description { get; init; }
    public bool Public { get; init; }
    /// <summary>When true, re-publishing an existing file or version replaces it instead of answering 409.</summary>
    public bool AllowOverwrite { get; init; }
    public IReadOnlyList<string> Labels { get; init; } = [];
    public DateTimeOffset CreatedAt { get; init; }
    public DateTimeOffset UpdatedAt { get; init; }
}

public sealed record Package
{
    public long Id { get; init; }
    public long RegistryId { get; init; }
    public string RegistryName { get; init; } = "";
    public required string Name { get; init; }
    /// <summary>Format-specific properties as a JSON object (e.g. npm dist-tags, POM description).</summary>
    public string? Properties { get; init; }
    public int VersionCount { get; init; }
    public long TotalSize { get; init; }
    public DateTimeOffset CreatedAt { get; init; }
    public DateTimeOffset UpdatedAt { get; init; }
}

public sealed record PackageVersion
{
    public long Id { get; init; }
    public long PackageId { get; init; }
    public string PackageName { get; init; } = "";
    public required string Version { get; init; }
    /// <summary>Format-specific properties as a JSON object (e.g. OCI media type, npm manifest).</summary>
    public string? Properties { get; init; }
    public int FileCount { get; init; }
    public long TotalSize { get; init; }
    public DateTimeOffset CreatedAt { get; init; }
    public DateTimeOffset UpdatedAt { get; init; }
}

public sealed record PackageFile
{
    public long Id { get; init; }
    public long VersionId { get; init; }
    /// <summary>Relative path inside the version, '/'-separated, validated by <see cref="Validation.PathValidator"/>.</summary>
    public required string Path { get; init; }
    public required string BlobDigest { get; init; }
    public long Size { get; init; }
    public string? ContentType { get; init; }
    public string? Sha1 { get; init; }
    public string? Md5 { get; init; }
    public string Sha256 => BlobDigest.StartsWith("sha256:", StringComparison.Ordinal) ? BlobDigest[7..] : "";
    public DateTimeOffset CreatedAt { get; init; }
}

public sealed record BlobRecord(string Digest, long Size, string? Sha1, string? Md5, DateTimeOffset CreatedAt);

public enum MetadataLevel { Registry, Package, Version }

/// <summary>What a key:value metadata set is attached to.</summary>
public sealed record MetadataOwner(MetadataLevel Level, long Id);

public sealed record PageRequest(int Page = 1, int PageSize = 50)
{
    public const int MaxPageSize = 1000;
    public int Offset => (Math.Max(Page, 1) - 1) * PageSize;
}

public sealed record Page<T>(IReadOnlyList<T> Items, int PageNumber, int PageSize, long Total);

public sealed record RegistryQuery(string? PackageType = null, string? Org = null, string? Project = null, string? Search = null)
{
    public PageRequest Page { get; init; } = new();
}

/// <summary>One file of a version being published in a single transaction.</summary>
public sealed record NewFile(string Path, string BlobDigest, long Size, string? ContentType, string? Sha1, string? Md5);

public enum PublishOutcome { Created, Replaced, Conflict }
