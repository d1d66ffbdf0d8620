using System.Net;
using System.Runtime.CompilerServices;
using System.Xml.Linq;
using Arca.Migration.Config;
using Arca.Migration.Destinations;
using Arca.Migration.Engine;

namespace Arca.Migration.Sources;

/// <summary>
/// A Maven repository served over HTTP in the standard layout with HTML directory listings (nginx, Apache, python
/// http.server, most repository managers' browse pages). <c>sourceRegistry</c> is the repository's path under the
/// endpoint ("" for the root). The tree is walked depth first, one listing at a time; a file
/// <c>g/r/o/u/p/artifact/version/artifact-version[-classifier].ext</c> is one item. Checksum sidecars and
/// maven-metadata.xml are not items (the destination computes and regenerates them); the sidecars the listing shows are
/// read lazily as the source checksums. include/excludePatterns match <c>groupId:artifactId</c>.
/// Hosts without directory listings (object stores, static pages): when every include pattern is a literal
/// <c>groupId:artifactId</c>, no listing is read; versions come from <c>g/a/maven-metadata.xml</c> and each version's
/// files are the POM, the main artifact named by the POM's packaging, and the -sources/-javadoc jars when present
/// (other classifiers cannot be discovered without a listing).
/// </summary>
public sealed class MavenHttpSource(EndpointConfig endpoint) : IMigrationSource
{
    private readonly HttpClient _http = MigrationHttp.CreateClient(endpoint);
    private static readonly string[] SidecarExtensions = [".md5", ".sha1", ".sha256", ".sha512", ".asc.md5", ".asc.sha1"];

    public IReadOnlyCollection<string> SupportedArtifactTypes => ["MAVEN"];

    public IAsyncEnumerable<MigrationItem> ListAsync(MappingConfig mapping, PackageFilter filter, CancellationToken ct)
    {
        var root = new Uri(_http.BaseAddress!, mapping.SourceRegistry.Trim('/') is { Length: > 0 } r ? NativeSources.EscapePath(r) + "/" : "");
        var coordinates = mapping.IncludePatterns.Select(p => p.Split(':')).ToList();
        if (coordinates.Count > 0 && coordinates.All(c => c is [{ Length: > 0 }, { Length: > 0 }] && !string.Join(':', c).AsSpan().ContainsAny("*?/")))
            return FromMetadataAsync(mapping, filter, root, coordinates.Select(c => (c[0], c[1])).ToList(), ct);
        return WalkAsync(mapping, filter, root, [], ct);
    }

    /// <summary>Listing-free mode: maven-metadata.xml gives the versions, the POM's packaging the main artifact.</summary>
    private async IAsyncEnumerable<MigrationItem> FromMetadataAsync(MappingConfig mapping, PackageFilter filter, Uri root,
        List<(string GroupId, string ArtifactId)> artifacts, [EnumeratorCancellation] CancellationToken ct)
    {
        foreach (var (groupId, artifactId) in artifacts)
        {
            if (!filter.Selects($"{groupId}:{artifactId}")) continue;
            var artifactPath = $"{groupId.Replace('.', '/')}/{artifactId}";
            var metadataUri = new Uri(root, NativeSources.EscapePath(artifactPath) + "/maven-metadata.xml");
            var metadata = XDocument.Parse(await NativeSources.GetStringAsync(_http, metadataUri, ct));
            var versions = metadata.Descendants().Where(e => e.Name.LocalName == "version" && e.Parent?.Name.LocalName == "versions").Select(e => e.Value.Trim());
            foreach (var version in versions.Where(v => v.Length > 0 && !v.Contains('/')).Distinct())
            {
                var versionPath = $"{artifactPath}/{version}";
                var pomName = $"{artifactId}-{version}.pom";
                var pomUri = new Uri(root, NativeSources.EscapePath($"{versionPath}/{pomName}"));
                var packaging = PackagingOf(await NativeSources.GetStringAsync(_http, pomUri, ct));
                var candidates = new List<string> { pomName };
                if (ExtensionOf(packaging) is { } ext) candidates.Add($"{artifactId}-{version}.{ext}");
                candidates.Add($"{artifactId}-{version}-sources.jar");
                candidates.Add($"{artifactId}-{version}-javadoc.jar");
                foreach (var file in candidates)
                {
                    var fileUri = new Uri(root, NativeSources.EscapePath($"{versionPath}/{file}"));
                    long? size = null;
                    if (file != pomName)
                    {
                        using var head = await _http.SendAsync(new HttpRequestMessage(HttpMethod.Head, fileUri), ct);
                        if (head.StatusCode == HttpStatusCode.NotFound) continue; // optional files: absent is normal
                        await MigrationHttp.EnsureSuccessAsync(head, $"HEAD {fileUri}", ct);
                        size = head.Content.Headers.ContentLength;
                    }
                    var path = $"{versionPath}/{file}";
                    yield return new MavenFileItem
                    {
                        Key = $"{mapping.Index}|MAVEN|{path}", Package = $"{groupId}:{artifactId}", Version = version, Path = path, Display = path, Size = size,
                        SourceChecksum = (algorithm, token) => NativeSources.ReadChecksumAsync(_http, new Uri(fileUri + "." + algorithm), token),
                        Open = token => NativeSources.OpenAsync(_http, fileUri, token),
                        Fingerprint = token => NativeSources.FingerprintAsync(_http, fileUri, token), // used only without sidecars
                    };
                }
            }
        }
    }

    private static string PackagingOf(string pom)
    {
        try
        {
            var project = XDocument.Parse(pom).Root;
            return project?.Elements().FirstOrDefault(e => e.Name.LocalName == "packaging")?.Value.Trim() is { Length: > 0 } p ? p : "jar";
        }
        catch (System.Xml.XmlException) { return "jar"; }
    }

    /// <summary>The file extension of a packaging's main artifact; null for "pom" (the POM is the artifact).</summary>
    private static string? ExtensionOf(string packaging) => packaging switch
    {
        "pom" => null,
        "bundle" or "maven-plugin" or "ejb" or "eclipse-plugin" or "jar" => "jar",
        _ => packaging,
    };

    private async IAsyncEnumerable<MigrationItem> WalkAsync(MappingConfig mapping, PackageFilter filter, Uri directory, List<string> segments,
        [EnumeratorCancellation] CancellationToken ct)
    {
        var entries = await ListDirectoryAsync(directory, ct);
        var files = entries.Where(e => !e.IsDirectory).Select(e => e.Name).ToHashSet(StringComparer.Ordinal);
        // A version directory: at least group/artifact/version above it and files named after the artifact.
        if (segments.Count >= 3 && files.Any(f => f.StartsWith(segments[^2] + "-" + BaseVersion(segments[^1]), StringComparison.Ordinal)))
        {
            var version = segments[^1];
            var artifactId = segments[^2];
            var groupId = string.Join('.', segments.Take(segments.Count - 2));
            var package = $"{groupId}:{artifactId}";
            if (filter.Selects(package))
            {
                foreach (var file in files.Order(StringComparer.Ordinal))
                {
                    if (IsSidecarOrMetadata(file) || !file.StartsWith(artifactId + "-", StringComparison.Ordinal)) continue;
                    var path = string.Join('/', segments.Append(file));
                    var fileUri = new Uri(directory, NativeSources.EscapePath(file));
                    yield return new MavenFileItem
                    {
                        Key = $"{mapping.Index}|MAVEN|{path}", Package = package, Version = version, Path = path, Display = path,
                        SourceChecksum = (algorithm, token) => files.Contains($"{file}.{algorithm}")
                            ? NativeSources.ReadChecksumAsync(_http, new Uri(directory, NativeSources.EscapePath($"{file}.{algorithm}")), token)
                            : Task.FromResult<string?>(null),
                        Open = token => NativeSources.OpenAsync(_http, fileUri, token),
                        Fingerprint = token => NativeSources.FingerprintAsync(_http, fileUri, token), // used only without sidecars
                    };
                }
            }
            yield break; // versions hold no deeper artifacts
        }
        foreach (var sub in entries.Where(e => e.IsDirectory).Select(e => e.Name).Order(StringComparer.Ordinal))
            await foreach (var item in WalkAsync(mapping, filter, new Uri(directory, NativeSources.EscapePath(sub) + "/"), [.. segments, sub], ct))
                yield return item;
    }

    /// <summary>Timestamped SNAPSHOT files are named after the version without "-SNAPSHOT".</summary>
    private static string BaseVersion(string version) => version.EndsWith("-SNAPSHOT", StringComparison.Ordinal) ? version[..^"SNAPSHOT".Length] : version;

    private static bool IsSidecarOrMetadata(string file) =>
        file.StartsWith("maven-metadata", StringComparison.Ordinal) || SidecarExtensions.Any(e => file.EndsWith(e, StringComparison.OrdinalIgnoreCase));

    private async Task<List<HtmlDirectoryListing.Entry>> ListDirectoryAsync(Uri directory, CancellationToken ct)
    {
        using var response = await _http.GetAsync(directory, ct);
        await MigrationHttp.EnsureSuccessAsync(response, $"GET {directory}", ct);
        // A redirect may have changed the directory (e.g. added the trailing slash): resolve links against the final URL.
        var final = response.RequestMessage?.RequestUri ?? directory;
        return HtmlDirectoryListing.Parse(await NativeSources.ReadBoundedStringAsync(response, ct), final).ToList();
    }

    public void Dispose() => _http.Dispose();
}
