using System.Runtime.CompilerServices;
using System.Text.Json;
using Arca.Migration.Config;
using Arca.Migration.Destinations;
using Arca.Migration.Engine;

namespace Arca.Migration.Sources;

/// <summary>
/// Sonatype Nexus Repository 3, hosted repositories: <c>sourceRegistry</c> is the Nexus repository name. Components
/// are listed page by page from <c>GET /service/rest/v1/components?repository=R</c>, following the opaque
/// <c>continuationToken</c> until it is null; every asset is downloaded from its <c>downloadUrl</c> (else
/// <c>/repository/R/path</c>) with Basic credentials, and the asset's <c>checksum</c> object is the source checksum.
/// <list type="bullet">
/// <item>GENERIC from a <c>raw</c> repository. Nexus raw paths have no package or version, so they are derived from
/// the path: <c>package/version/rest/of/path</c> — the first segment is the package, the second the version, the rest
/// the file path inside that version. A path with fewer than three segments fails as an item (with the rule in its
/// error) and the listing goes on. Nexus 3.70+ paths start with '/', older ones do not; both are accepted.</item>
/// <item>MAVEN from a <c>maven2</c> repository: each asset is a file at its layout path; checksum sidecars and
/// maven-metadata.xml are not items (the destination regenerates them).</item>
/// <item>NPM from an <c>npm</c> repository: the components API gives the package names (group = scope); Nexus serves
/// the npm registry API at <c>/repository/R/</c>, so each packument and its tarballs are read by the npm source's
/// packument reader, exactly as from any npm registry.</item>
/// <item>PYTHON from a <c>pypi</c> repository: the components API gives the project names; each project's files
/// come from Nexus's simple index page <c>/repository/R/simple/&lt;project&gt;/</c>, read by the PyPI source's reader
/// (sha256 fragments, requires-python, yanked).</item>
/// <item>DOCKER and HELM from a <c>docker</c> repository: Nexus serves the registry API of each docker repository at
/// <c>/repository/R/v2/</c>; catalog, tags and content go through the one OCI client with that base path (the
/// Docker source's listing, which reads each tag's manifest: HELM takes the OCI Helm charts, DOCKER the rest);
/// image names are kept whole.</item>
/// <item>NUGET from a <c>nuget</c> repository: the v3 feed at <c>/repository/R/index.json</c>, read by the NuGet feed source.</item>
/// <item>HELM_LEGACY from a <c>helm</c> repository: <c>/repository/R/index.yaml</c>, read by the Helm repository source.</item>
/// </list>
/// Before listing, the repository is looked up in <c>GET /service/rest/v1/repositories</c> (see
/// <see cref="NexusRepositoryCheck"/>): proxy and group repositories, a format that does not fit the artifact type and
/// unknown names are refused with the reason; GO is refused (Nexus 3 has only proxy and group Go repositories).
/// include/excludePatterns match the package (GENERIC, NPM, PYTHON, image name, NuGet id, chart name) or <c>groupId:artifactId</c> (MAVEN).
/// </summary>
public sealed class NexusSource : IMigrationSource
{
    private static readonly string[] MavenSidecarExtensions = [".md5", ".sha1", ".sha256", ".sha512"];
    private readonly HttpClient _http;
    // Content downloads: credentials only for the Nexus origin (a downloadUrl on another host gets none).
    private readonly SourceDownload _download;
    private readonly OciClientPool _ociClients;
    private readonly NuGetFeedSource _nuget;
    private readonly HelmHttpSource _helm;
    private readonly NexusRepositoryCheck _repositoryCheck;

    public NexusSource(EndpointConfig endpoint)
    {
        _http = MigrationHttp.CreateClient(endpoint);
        _download = new SourceDownload(_http, endpoint);
        _ociClients = new OciClientPool(endpoint);
        _nuget = new NuGetFeedSource(endpoint, _http);
        _helm = new HelmHttpSource(endpoint, _http);
        _repositoryCheck = new NexusRepositoryCheck(_http);
    }

    // GO is accepted only to be refused with the reason (Nexus has no hosted Go repositories), not a generic "unsupported".
    public IReadOnlyCollection<string> SupportedArtifactTypes => ["GENERIC", "MAVEN", "NPM", "PYTHON", "DOCKER", "HELM", "NUGET", "HELM_LEGACY", "GO"];

    public async IAsyncEnumerable<MigrationItem> ListAsync(MappingConfig mapping, PackageFilter filter, [EnumeratorCancellation] CancellationToken ct)
    {
        await _repositoryCheck.CheckAsync(mapping.ArtifactType, RepositoryOf(mapping), ct);
        await foreach (var item in ListCheckedAsync(mapping, filter, ct)) yield return item;
    }

    private IAsyncEnumerable<MigrationItem> ListCheckedAsync(MappingConfig mapping, PackageFilter filter, CancellationToken ct) => mapping.ArtifactType switch
    {
        "GENERIC" => ListRawAsync(mapping, filter, ct),
        "MAVEN" => ListMavenAsync(mapping, filter, ct),
        "NPM" => ListNpmAsync(mapping, filter, ct),
        "PYTHON" => ListPythonAsync(mapping, filter, ct),
        // Both read the docker repository's registry API; the listing gives charts to HELM and the rest to DOCKER.
        "DOCKER" or "HELM" => DockerRegistrySource.ListImagesAsync(_ociClients.ForBasePath($"repository/{Uri.EscapeDataString(RepositoryOf(mapping))}"), mapping, "", filter, ct),
        // The feed and index readers take sourceRegistry as a path below the endpoint.
        "NUGET" => _nuget.ListAsync(mapping with { SourceRegistry = $"repository/{RepositoryOf(mapping)}" }, filter, ct),
        "HELM_LEGACY" => _helm.ListAsync(mapping with { SourceRegistry = $"repository/{RepositoryOf(mapping)}" }, filter, ct),
        _ => throw new NotSupportedException($"artifact type {mapping.ArtifactType} from a Nexus source"),
    };

    private async IAsyncEnumerable<MigrationItem> ListRawAsync(MappingConfig mapping, PackageFilter filter, [EnumeratorCancellation] CancellationToken ct)
    {
        var repository = RepositoryOf(mapping);
        await foreach (var asset in AssetsAsync(repository, ct))
        {
            var path = asset.Path;
            var segments = path.Split('/');
            if (!filter.Selects(segments[0])) continue; // the would-be package: an excluded top-level file is not an error
            if (segments.Length < 3 || segments.Any(s => s.Length == 0))
            {
                yield return new GenericFileItem
                {
                    Key = $"{mapping.Index}|GENERIC|{path}", Package = segments[0], Version = "", Path = path, Display = path, Size = asset.Size,
                    Sha256 = asset.Sha256 ?? "", Open = _ => throw new InvalidOperationException($"{path} is not migratable as a generic file"), // never called: ListingError fails it first
                    ListingError = $"{repository}/{path}: a raw path must be <package>/<version>/<file path> (at least three non-empty segments) to map to a generic package",
                };
                continue;
            }
            var package = segments[0];
            var version = segments[1];
            var file = string.Join('/', segments.Skip(2));
            var display = $"{package}/{version}/{file}";
            yield return new GenericFileItem
            {
                Key = $"{mapping.Index}|GENERIC|{package}|{version}|{file}", Package = package, Version = version, Path = file, Display = display, Size = asset.Size,
                Sha256 = asset.Sha256 ?? "",
                // The generic writer verifies by sha256; an asset whose checksum object lacks it must not pass unverified.
                ListingError = asset.Sha256 is null ? $"{repository}/{path}: Nexus reported no sha256 checksum for this asset" : null,
                Open = async token => (await _download.OpenAsync(asset.DownloadUrl, token)).Stream,
            };
        }
    }

    private async IAsyncEnumerable<MigrationItem> ListMavenAsync(MappingConfig mapping, PackageFilter filter, [EnumeratorCancellation] CancellationToken ct)
    {
        var repository = RepositoryOf(mapping);
        await foreach (var asset in AssetsAsync(repository, ct))
        {
            var path = asset.Path;
            var segments = path.Split('/');
            var file = segments[^1];
            if (file.StartsWith("maven-metadata", StringComparison.Ordinal) || MavenSidecarExtensions.Any(e => file.EndsWith(e, StringComparison.OrdinalIgnoreCase)))
                continue;
            // group/as/dirs/artifactId/version/file: anything shallower is not a Maven artifact file.
            if (segments.Length < 4 || segments.Any(s => s.Length == 0)) continue;
            var version = segments[^2];
            var artifactId = segments[^3];
            var package = $"{string.Join('.', segments[..^3])}:{artifactId}";
            if (!filter.Selects(package)) continue;
            yield return new MavenFileItem
            {
                Key = $"{mapping.Index}|MAVEN|{path}", Package = package, Version = version, Path = path, Display = path, Size = asset.Size,
                Sha256 = asset.Sha256, Sha1 = asset.Sha1,
                Open = async token => (await _download.OpenAsync(asset.DownloadUrl, token)).Stream,
            };
        }
    }

    private async IAsyncEnumerable<MigrationItem> ListNpmAsync(MappingConfig mapping, PackageFilter filter, [EnumeratorCancellation] CancellationToken ct)
    {
        var repository = RepositoryOf(mapping);
        // Components are per version: a package's packument is read once, at its first version (names only are kept).
        var done = new HashSet<string>(StringComparer.Ordinal);
        await foreach (var component in ComponentsAsync(repository, ct))
        {
            if (Str(component, "name") is not { Length: > 0 } bare) continue;
            var name = Str(component, "group") is { Length: > 0 } scope && !bare.StartsWith('@') ? $"@{scope.TrimStart('@')}/{bare}" : bare;
            if (!filter.Selects(name) || !done.Add(name)) continue;
            var packumentUrl = $"repository/{Uri.EscapeDataString(repository)}/{Arca.Client.Npm.NpmPublish.EscapeName(name)}";
            await foreach (var item in NpmPackuments.ItemsAsync(_http, packumentUrl, name, mapping, _download, ct))
                yield return item;
        }
    }

    private async IAsyncEnumerable<MigrationItem> ListPythonAsync(MappingConfig mapping, PackageFilter filter, [EnumeratorCancellation] CancellationToken ct)
    {
        var repository = RepositoryOf(mapping);
        var simple = new Uri(_http.BaseAddress!, $"repository/{Uri.EscapeDataString(repository)}/simple/");
        // Components are per version: a project's page (which lists all its files) is read once.
        var done = new HashSet<string>(StringComparer.Ordinal);
        await foreach (var component in ComponentsAsync(repository, ct))
        {
            if (Str(component, "name") is not { Length: > 0 } project) continue;
            var normalized = PythonFileNames.Normalize(project);
            if ((!filter.Selects(project) && !filter.Selects(normalized)) || !done.Add(normalized)) continue;
            await foreach (var item in SimpleIndex.ItemsAsync(new Uri(simple, Uri.EscapeDataString(normalized) + "/"), project, mapping, _download, ct))
                yield return item;
        }
    }

    private static string RepositoryOf(MappingConfig mapping) =>
        mapping.SourceRegistry.Trim('/') is { Length: > 0 } r ? r : throw new ConfigException("a NEXUS mapping needs sourceRegistry: the Nexus repository name");

    private sealed record NexusAsset(string Path, Uri DownloadUrl, string? Sha256, string? Sha1, long? Size);

    /// <summary>Every asset of every component in a repository.</summary>
    private async IAsyncEnumerable<NexusAsset> AssetsAsync(string repository, [EnumeratorCancellation] CancellationToken ct)
    {
        await foreach (var component in ComponentsAsync(repository, ct))
        {
            if (!component.TryGetProperty("assets", out var assets) || assets.ValueKind != JsonValueKind.Array) continue;
            foreach (var asset in assets.EnumerateArray())
                if (ParseAsset(repository, asset) is { } parsed) yield return parsed;
        }
    }

    /// <summary>Every component of a repository, one page of the components API in memory at a time.</summary>
    private async IAsyncEnumerable<JsonElement> ComponentsAsync(string repository, [EnumeratorCancellation] CancellationToken ct)
    {
        string? token = null;
        var seenTokens = new HashSet<string>(StringComparer.Ordinal);
        do
        {
            var url = $"service/rest/v1/components?repository={Uri.EscapeDataString(repository)}"
                + (token is null ? "" : $"&continuationToken={Uri.EscapeDataString(token)}");
            using var response = await _http.GetAsync(url, ct);
            await MigrationHttp.EnsureSuccessAsync(response, $"GET /{url}", ct);
            using var doc = JsonDocument.Parse(await NativeSources.ReadBoundedStringAsync(response, ct));
            var root = doc.RootElement;
            if (root.TryGetProperty("items", out var items) && items.ValueKind == JsonValueKind.Array)
                foreach (var component in items.EnumerateArray())
                    yield return component.Clone();
            token = root.TryGetProperty("continuationToken", out var t) && t.ValueKind == JsonValueKind.String && t.GetString() is { Length: > 0 } next ? next : null;
            // A server that hands back a token it already gave would page forever.
            if (token is not null && !seenTokens.Add(token)) throw new InvalidOperationException($"Nexus repeated continuationToken {token} for {repository}");
        } while (token is not null);
    }

    private NexusAsset? ParseAsset(string repository, JsonElement asset)
    {
        if (Str(asset, "path") is not { } rawPath) return null;
        var path = rawPath.TrimStart('/'); // 3.70+ raw paths start with '/'
        if (path.Length == 0 || path.EndsWith('/')) return null;
        var fallback = new Uri(_http.BaseAddress!, $"repository/{Uri.EscapeDataString(repository)}/{NativeSources.EscapePath(path)}");
        var download = Str(asset, "downloadUrl") is { } d && Uri.TryCreate(d, UriKind.Absolute, out var u) && u.Scheme is "http" or "https" ? u : fallback;
        string? sha256 = null, sha1 = null;
        if (asset.TryGetProperty("checksum", out var checksum) && checksum.ValueKind == JsonValueKind.Object)
        {
            sha256 = Str(checksum, "sha256")?.ToLowerInvariant();
            sha1 = Str(checksum, "sha1")?.ToLowerInvariant();
        }
        long? size = asset.TryGetProperty("fileSize", out var s) && s.ValueKind == JsonValueKind.Number ? s.GetInt64() : null;
        return new NexusAsset(path, download, sha256, sha1, size);
    }

    private static string? Str(JsonElement e, string name) =>
        e.ValueKind == JsonValueKind.Object && e.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString() : null;

    public void Dispose()
    {
        _ociClients.Dispose();
        _nuget.Dispose();
        _helm.Dispose();
        _download.Dispose();
        _http.Dispose();
    }
}
