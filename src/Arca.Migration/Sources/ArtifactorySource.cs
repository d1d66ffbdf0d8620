using System.Net.Http.Headers;
using System.Runtime.CompilerServices;
using Arca.Client.Oci;
using System.Text.Json;
using Arca.Migration.Config;
using Arca.Migration.Destinations;
using Arca.Migration.Engine;

namespace Arca.Migration.Sources;

/// <summary>
/// JFrog Artifactory (type JFROG), local repositories. The endpoint is the Artifactory base
/// (<c>https://host/artifactory</c>); <c>sourceRegistry</c> is the repository key.
/// <para>Before listing, <c>GET /api/repositories/&lt;key&gt;</c> checks the repository: no such repository (404), a
/// virtual one (its local members are named), a remote one, or a package type that does not fit the mapping's
/// artifactType fail the mapping with a message saying what to migrate instead; a user who may not read repository
/// configurations (403) is not checked. <c>&lt;remote&gt;-cache</c> (a remote repository's cached files) is accepted.</para>
/// <para>Files (GENERIC, MAVEN, NPM package discovery, GO) are listed with AQL, page by page:
/// <c>POST /api/search/aql</c> (text/plain) <c>items.find({"repo":…,"type":"file"}).include(…,"actual_sha1","sha256")
/// .sort({"$asc":["path","name"]}).offset(N).limit(1000)</c>, one page in memory at a time, the next page while a
/// page comes back full (or as full as a trimming server's <c>range.limit</c>); a page that only repeats the previous
/// one (a server ignoring offset) fails the listing instead of looping. Root files have path ".". When AQL is refused
/// (403/404/405: an edition or a user without AQL) the storage API's deep list
/// <c>GET /api/storage/&lt;repo&gt;?list&amp;deep=1&amp;listFolders=0</c> (one unpaged document) is used instead; when
/// both fail the mapping error names both answers. Files are downloaded from <c>/&lt;repo&gt;/&lt;path&gt;</c>.</para>
/// <para>Auth: Basic with username+password, or <c>Authorization: Bearer &lt;password&gt;</c> (an access token) when
/// no username is configured, on every API including the Docker registry API (Artifactory's REST authentication
/// applies to <c>/api/docker/&lt;repo&gt;/v2/</c>; Basic with a made-up user and the token is refused).</para>
/// <list type="bullet">
/// <item>GENERIC: a file <c>a/b/rest/of/path</c> becomes package <c>a</c>, version <c>b</c>, path <c>rest/of/path</c>
/// (Arca's generic model is package/version/path). Files with fewer than three segments have no such place and fail
/// as items with a message saying so. include/excludePatterns match the package.</item>
/// <item>MAVEN: files in the standard layout <c>g/r/o/u/p/artifact/version/file</c>; checksum sidecars and
/// maven-metadata.xml are skipped (the destination computes and regenerates them). Patterns match
/// <c>groupId:artifactId</c>.</item>
/// <item>NPM: package names come from the listing (Artifactory keeps tarballs at <c>name/-/name-ver.tgz</c>
/// and <c>@scope/pkg/-/@scope/pkg-ver.tgz</c>); each package's packument is then read from the npm API Artifactory
/// serves at <c>/api/npm/&lt;repo&gt;/</c> by the npm registry source's packument reader. Patterns match the name.</item>
/// <item>PYTHON: the PEP 503 simple index Artifactory serves at <c>/api/pypi/&lt;repo&gt;/simple/</c>, read by the PyPI
/// source's simple-index reader (files with their <c>#sha256=</c>). Patterns match the project name.</item>
/// <item>DOCKER: the Docker registry API Artifactory serves per repository at <c>/api/docker/&lt;repo&gt;/v2/</c>, through
/// the one OCI client with that base path (the Docker source's catalog/tags listing; relative Link headers are
/// resolved under it). Image names are kept whole; patterns match them.</item>
/// <item>NUGET: the v3 feed at <c>/api/nuget/v3/&lt;repo&gt;/index.json</c>, read by the NuGet feed source.</item>
/// <item>HELM_LEGACY: <c>/api/helm/&lt;repo&gt;/index.yaml</c>, read by the Helm repository source.</item>
/// <item>GO: a Go local repository stores modules in the GOPROXY layout <c>&lt;module&gt;/@v/&lt;version&gt;.zip</c>
/// (+ <c>.mod</c>, <c>.info</c>); the JFrog CLI deploys them under the module path as written (upper case kept), a
/// '!' case-encoded path is decoded too. Each listed zip (size, sha256) is one module version; the zip, .mod and
/// .info are downloaded from where they are stored (Artifactory documents Go resolution through <c>/api/go/</c> for
/// virtual repositories, and the stored zip is the one AQL checksummed). A missing .info is left to the destination
/// (Arca derives it). Patterns match the module path.</item>
/// </list>
/// </summary>
public sealed partial class ArtifactorySource : IMigrationSource
{
    private static readonly string[] SidecarExtensions = [".md5", ".sha1", ".sha256", ".sha512", ".asc.md5", ".asc.sha1"];
    private readonly HttpClient _http;
    private readonly SourceDownload _download;
    private readonly OciClientPool _ociClients;
    private readonly NuGetFeedSource _nuget;
    private readonly HelmHttpSource _helm;

    public ArtifactorySource(EndpointConfig endpoint)
    {
        _ociClients = new OciClientPool(endpoint, accessTokenAsBearer: true);
        _http = MigrationHttp.CreateClient(endpoint);
        // Without a username the password is an access token, which Artifactory takes as a Bearer token.
        if (string.IsNullOrEmpty(endpoint.Username) && !string.IsNullOrEmpty(endpoint.Password))
            _http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", endpoint.Password);
        _download = new SourceDownload(_http, endpoint);
        // The feed and index readers share this client, so an access token reaches them as Bearer too.
        _nuget = new NuGetFeedSource(endpoint, _http);
        _helm = new HelmHttpSource(endpoint, _http);
    }

    public IReadOnlyCollection<string> SupportedArtifactTypes => ["GENERIC", "MAVEN", "NPM", "PYTHON", "DOCKER", "HELM", "NUGET", "HELM_LEGACY", "GO"];

    public async IAsyncEnumerable<MigrationItem> ListAsync(MappingConfig mapping, PackageFilter filter, [EnumeratorCancellation] CancellationToken ct)
    {
        var repo = mapping.SourceRegistry.Trim('/');
        if (repo.Length == 0 || repo.Contains('/')) throw new ConfigException($"mappings[{mapping.Index}]: sourceRegistry must be an Artifactory repository key");
        await CheckRepositoryAsync(repo, mapping, ct);
        var delegated = mapping.ArtifactType switch
        {
            "DOCKER" => DockerRegistrySource.ListImagesAsync(DockerClient(repo), mapping, "", filter, ct),
            "HELM" => DockerRegistrySource.ListImagesAsync(DockerClient(repo), mapping, "", filter, ct), // OCI charts in a docker repository
            // The feed and index readers take sourceRegistry as a path below the endpoint.
            "NUGET" => _nuget.ListAsync(mapping with { SourceRegistry = $"api/nuget/v3/{repo}" }, filter, ct),
            "HELM_LEGACY" => _helm.ListAsync(mapping with { SourceRegistry = $"api/helm/{repo}" }, filter, ct),
            _ => null,
        };
        if (delegated is not null)
        {
            await foreach (var item in delegated) yield return item;
            yield break;
        }
        if (mapping.ArtifactType == "NPM")
        {
            await foreach (var item in NpmItemsAsync(mapping, filter, repo, ct)) yield return item;
            yield break;
        }
        if (mapping.ArtifactType == "GO")
        {
            await foreach (var item in GoItemsAsync(mapping, filter, repo, ct)) yield return item;
            yield break;
        }
        if (mapping.ArtifactType == "PYTHON")
        {
            await foreach (var item in PythonItemsAsync(mapping, filter, repo, ct)) yield return item;
            yield break;
        }
        await foreach (var file in ListFilesAsync(repo, ct))
        {
            var item = mapping.ArtifactType == "MAVEN" ? MavenItem(mapping, repo, file) : GenericItem(mapping, repo, file);
            if (item is not null && filter.Selects(item.Package)) yield return item;
        }
    }

    /// <summary>Real responses carry <c>size</c> as a number, the documentation sample as a string: accept both.</summary>
    internal static long? SizeOf(JsonElement file)
    {
        if (!file.TryGetProperty("size", out var s)) return null;
        long? size = s.ValueKind switch
        {
            JsonValueKind.Number when s.TryGetInt64(out var n) => n,
            JsonValueKind.String when long.TryParse(s.GetString(), out var n) => n,
            _ => null,
        };
        return size >= 0 ? size : null;
    }

    private static string? Hex(JsonElement file, string name) =>
        file.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.String && v.GetString() is { Length: > 0 } h && h.All(Uri.IsHexDigit)
            ? h.ToLowerInvariant() : null;

    private Uri DownloadUrl(string repo, string path) => new(_http.BaseAddress!, Uri.EscapeDataString(repo) + "/" + NativeSources.EscapePath(path));

    private MigrationItem GenericItem(MappingConfig mapping, string repo, ListedFile file)
    {
        var segments = file.Path.Split('/');
        var url = DownloadUrl(repo, file.Path);
        if (segments.Length < 3)
            return new RejectedItem
            {
                Key = $"{mapping.Index}|GENERIC|{file.Path}", Package = segments[0], Version = "", Display = file.Path, Size = file.Size,
                ListingError = $"{file.Path}: a generic file needs <package>/<version>/<path> (at least 3 path segments) to be migrated",
            };
        if (file.Sha256 is null)
            return new RejectedItem
            {
                Key = $"{mapping.Index}|GENERIC|{file.Path}", Package = segments[0], Version = segments[1], Display = file.Path, Size = file.Size,
                ListingError = $"{file.Path}: the listing has no sha2 (sha256) for this file",
            };
        return new GenericFileItem
        {
            Key = $"{mapping.Index}|GENERIC|{file.Path}", Package = segments[0], Version = segments[1], Path = string.Join('/', segments[2..]),
            Display = file.Path, Size = file.Size, Sha256 = file.Sha256,
            Open = token => NativeSources.OpenAsync(_http, url, token),
        };
    }

    private MavenFileItem? MavenItem(MappingConfig mapping, string repo, ListedFile file)
    {
        var segments = file.Path.Split('/');
        var name = segments[^1];
        // group (1+ segments) / artifact / version / file
        if (segments.Length < 4 || name.StartsWith("maven-metadata", StringComparison.Ordinal)
            || SidecarExtensions.Any(e => name.EndsWith(e, StringComparison.OrdinalIgnoreCase)))
            return null;
        var version = segments[^2];
        var artifactId = segments[^3];
        if (!name.StartsWith(artifactId + "-", StringComparison.Ordinal)) return null; // not an artifact file of this version
        var url = DownloadUrl(repo, file.Path);
        return new MavenFileItem
        {
            Key = $"{mapping.Index}|MAVEN|{file.Path}", Package = $"{string.Join('.', segments[..^3])}:{artifactId}", Version = version,
            Path = file.Path, Display = file.Path, Size = file.Size, Sha1 = file.Sha1, Sha256 = file.Sha256,
            Open = token => NativeSources.OpenAsync(_http, url, token),
        };
    }

    private async IAsyncEnumerable<MigrationItem> NpmItemsAsync(MappingConfig mapping, PackageFilter filter, string repo, [EnumeratorCancellation] CancellationToken ct)
    {
        var seen = new HashSet<string>(StringComparer.Ordinal);
        await foreach (var file in ListFilesAsync(repo, ct))
        {
            if (NpmPackageOf(file.Path) is not { } name || !seen.Add(name) || !filter.Selects(name)) continue;
            await foreach (var item in NpmPackuments.ItemsAsync(_http, $"api/npm/{Uri.EscapeDataString(repo)}/{Arca.Client.Npm.NpmPublish.EscapeName(name)}", name, mapping, _download, ct))
                yield return item;
        }
    }

    private async IAsyncEnumerable<MigrationItem> PythonItemsAsync(MappingConfig mapping, PackageFilter filter, string repo, [EnumeratorCancellation] CancellationToken ct)
    {
        var root = new Uri(_http.BaseAddress!, $"api/pypi/{Uri.EscapeDataString(repo)}/simple/");
        var index = await SimpleIndex.GetAsync(_http, root, ct) ?? throw new InvalidDataException($"{root}: no simple index here (404)");
        foreach (var (project, url) in SimpleIndex.Projects(index, root))
        {
            if (!filter.Selects(project) && !filter.Selects(PythonFileNames.Normalize(project))) continue;
            await foreach (var item in SimpleIndex.ItemsAsync(url, project, mapping, _download, ct))
                yield return item;
        }
    }

    /// <summary>The package a stored npm tarball belongs to: <c>name/-/x.tgz</c> or <c>@scope/name/-/x.tgz</c>; null otherwise.</summary>
    internal static string? NpmPackageOf(string path) => path.Split('/') switch
    {
        [var name, "-", var file] when !name.StartsWith('@') && file.EndsWith(".tgz", StringComparison.Ordinal) => name,
        [var scope, var name, "-", .., var file] when scope.StartsWith('@') && file.EndsWith(".tgz", StringComparison.Ordinal) => $"{scope}/{name}",
        _ => null,
    };

    /// <summary>The OCI client for the repository's Docker registry API (an access token goes as Bearer there too:
    /// Artifactory refuses Basic with a made-up user and the token).</summary>
    private OciRegistryClient DockerClient(string repo) => _ociClients.ForBasePath($"api/docker/{Uri.EscapeDataString(repo)}");

    public void Dispose()
    {
        _ociClients.Dispose();
        _nuget.Dispose();
        _helm.Dispose();
        _download.Dispose();
        _http.Dispose();
    }
}
