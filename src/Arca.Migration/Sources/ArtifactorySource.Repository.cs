using System.Net;
using System.Text.Json;
using Arca.Migration.Config;
using Arca.Migration.Engine;

namespace Arca.Migration.Sources;

/// <summary>The repository check made before listing: <c>GET api/repositories/&lt;key&gt;</c> (its <c>rclass</c>,
/// <c>packageType</c> and, for a virtual repository, its member <c>repositories</c>).</summary>
public sealed partial class ArtifactorySource
{
    /// <summary>Artifactory package types each artifact type reads. A type not named here (GENERIC: files as they are
    /// stored) is not checked against the package type.</summary>
    private static readonly Dictionary<string, string[]> PackageTypesOf = new(StringComparer.Ordinal)
    {
        ["MAVEN"] = ["maven", "gradle", "ivy", "sbt"],
        ["NPM"] = ["npm"],
        ["PYTHON"] = ["pypi"],
        ["DOCKER"] = ["docker", "oci"],
        ["HELM"] = ["docker", "oci"], // OCI charts live in docker repositories
        ["NUGET"] = ["nuget"],
        ["HELM_LEGACY"] = ["helm"],
        ["GO"] = ["go"],
    };

    /// <summary>Refuses, with a message saying what to migrate instead, a repository that does not exist, is virtual or
    /// remote (nothing of its own to migrate), or holds another package type than the mapping's. A user without the
    /// right to read repository configurations (403) is not checked.</summary>
    private async Task CheckRepositoryAsync(string repo, MappingConfig mapping, CancellationToken ct)
    {
        var config = await RepositoryConfigAsync(repo, ct);
        if (config is null) return;
        using var doc = config;
        var root = doc.RootElement;
        var rclass = StringOf(root, "rclass")?.ToLowerInvariant();
        if (rclass == "virtual")
        {
            var members = root.TryGetProperty("repositories", out var m) && m.ValueKind == JsonValueKind.Array
                ? m.EnumerateArray().Select(e => e.GetString()).Where(k => !string.IsNullOrEmpty(k)).ToList() : [];
            throw new InvalidOperationException($"{repo} is a virtual repository: migrate its local members"
                + (members.Count > 0 ? $" ({string.Join(", ", members)})" : "") + " instead, one mapping each");
        }
        if (rclass == "remote")
            throw new InvalidOperationException($"{repo} is a remote repository"
                + (StringOf(root, "url") is { Length: > 0 } url ? $" (a proxy of {url})" : "")
                + $": migrate from the upstream itself, or from the files it cached ({repo}-cache, GENERIC)");
        var packageType = StringOf(root, "packageType");
        if (packageType is not null && PackageTypesOf.TryGetValue(mapping.ArtifactType, out var fits)
            && !fits.Contains(packageType, StringComparer.OrdinalIgnoreCase))
            throw new InvalidOperationException($"{repo} holds {packageType} packages, not what a {mapping.ArtifactType} mapping reads ({string.Join(", ", fits)}): fix artifactType or sourceRegistry");
    }

    /// <summary>The repository's configuration; null when the user may not read it (403) or <paramref name="repo"/> is
    /// the cache of a remote repository (<c>&lt;remote&gt;-cache</c>, listable but not configured).</summary>
    private async Task<JsonDocument?> RepositoryConfigAsync(string repo, CancellationToken ct)
    {
        var url = $"api/repositories/{Uri.EscapeDataString(repo)}";
        using var response = await _http.GetAsync(url, ct);
        if (response.StatusCode == HttpStatusCode.Forbidden) return null;
        if (response.StatusCode is HttpStatusCode.NotFound or HttpStatusCode.BadRequest)
        {
            const string cacheSuffix = "-cache";
            if (repo.EndsWith(cacheSuffix, StringComparison.Ordinal) && repo.Length > cacheSuffix.Length)
            {
                JsonDocument? remote = null;
                try { remote = await RepositoryConfigAsync(repo[..^cacheSuffix.Length], ct); }
                catch (HttpStatusException) { } // no such base repository either: report the one asked for
                using (remote)
                    if (remote is not null && StringOf(remote.RootElement, "rclass")?.Equals("remote", StringComparison.OrdinalIgnoreCase) == true)
                        return null;
            }
            throw new HttpStatusException(HttpStatusCode.NotFound, $"{repo}: no such repository in Artifactory (GET {url} answered {(int)response.StatusCode})");
        }
        await MigrationHttp.EnsureSuccessAsync(response, $"GET {url}", ct);
        var doc = JsonDocument.Parse(await NativeSources.ReadBoundedStringAsync(response, ct));
        if (doc.RootElement.ValueKind == JsonValueKind.Object) return doc;
        doc.Dispose();
        throw new InvalidDataException($"GET {url}: not a repository configuration object");
    }
}
