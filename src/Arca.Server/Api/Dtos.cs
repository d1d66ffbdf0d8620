using Arca.Core.Auth;
using Arca.Core.Model;

namespace Arca.Server.Api;

// Stable JSON shapes of the management API (camelCase). The CLI's --format json prints these unchanged.

public sealed record RegistryDto(string Identifier, string PackageType, string? Org, string? Project, string? Description,
    bool Public, bool AllowOverwrite, IReadOnlyList<string> Labels,
    [property: System.Text.Json.Serialization.JsonIgnore(Condition = System.Text.Json.Serialization.JsonIgnoreCondition.Never)] string? Url, IReadOnlyDictionary<string, string>? ClientUrls,
    DateTimeOffset CreatedAt, DateTimeOffset UpdatedAt);

public sealed record CreateRegistryRequest(string? Identifier, string? PackageType, string? Description, bool? Public,
    string? Org, string? Project, IReadOnlyList<string>? Labels, bool? AllowOverwrite);

public sealed record UpdateRegistryRequest(string? Description, bool? Public, string? Org, string? Project,
    IReadOnlyList<string>? Labels, bool? AllowOverwrite);

public sealed record PackageDto(string Registry, string Name, string PackageType, int VersionCount, long Size,
    DateTimeOffset CreatedAt, DateTimeOffset UpdatedAt, object? Properties);

public sealed record VersionDto(string Registry, string Package, string Version, int FileCount, long Size,
    DateTimeOffset CreatedAt, DateTimeOffset UpdatedAt, object? Properties);

public sealed record FileDto(string Path, long Size, string Sha256, string? Sha1, string? Md5, string? ContentType,
    DateTimeOffset CreatedAt, string? DownloadUrl);

public sealed record PageDto<T>(IReadOnlyList<T> Items, int Page, int PageSize, long Total);

public sealed record MetadataDto(string Level, string Registry, string? Package, string? Version, IReadOnlyDictionary<string, string> Metadata);

public sealed record SetMetadataRequest(IReadOnlyDictionary<string, string>? Metadata, string? Text);

public sealed record CopyRequest(string? Package, string? Version, string? Destination, bool? Overwrite);

public sealed record TokenDto(long Id, string Name, string Scope, string? Registry, DateTimeOffset CreatedAt,
    DateTimeOffset? ExpiresAt, DateTimeOffset? LastUsedAt, string? Token = null)
{
    public static TokenDto From(ApiToken t, string? secret = null) =>
        new(t.Id, t.Name, TokenSecrets.ScopeName(t.Scope), t.RegistryName, t.CreatedAt, t.ExpiresAt, t.LastUsedAt, secret);
}

public sealed record CreateTokenRequest(string? Name, string? Scope, string? Registry, string? ExpiresIn);

public sealed record WhoAmIDto(string Name, string? Scope, string? Registry, bool Authenticated, string Version);
