using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Arca.Tests.Http.Helm;
using Arca.Tests.Http.NuGet;

namespace Arca.Tests.Migration;

/// <summary>
/// Writes the files of a NuGet v3 feed and a classic Helm repository into a directory, for emulated products that
/// serve them from a path of their own (Nexus <c>/repository/R/</c>, Artifactory <c>/api/nuget/v3/R/</c>, <c>/api/helm/R/</c>).
/// </summary>
internal static class StaticFeeds
{
    /// <summary>
    /// A v3 feed whose service index is <c>dir/index.json</c>, served at <paramref name="feedUrl"/>: flat container,
    /// a static search document (ids), registration leaves (listed flag). Returns sha256 by "lowerid version".
    /// </summary>
    public static Dictionary<string, string> WriteNuGetFeed(string dir, string feedUrl, params (string Id, string Version, bool Listed)[] packages)
    {
        var shas = new Dictionary<string, string>();
        foreach (var (id, version, listed) in packages)
        {
            var lowerId = id.ToLowerInvariant();
            var versionDir = Path.Combine(dir, "flat", lowerId, version);
            Directory.CreateDirectory(versionDir);
            var bytes = NuGetHttpTests.Nupkg(id, version);
            File.WriteAllBytes(Path.Combine(versionDir, $"{lowerId}.{version}.nupkg"), bytes);
            shas[$"{lowerId} {version}"] = Convert.ToHexStringLower(SHA256.HashData(bytes));
            Directory.CreateDirectory(Path.Combine(dir, "registration", lowerId));
            File.WriteAllText(Path.Combine(dir, "registration", lowerId, $"{version}.json"), JsonSerializer.Serialize(new { listed }));
        }
        foreach (var group in packages.GroupBy(p => p.Id.ToLowerInvariant()))
            File.WriteAllText(Path.Combine(dir, "flat", group.Key, "index.json"), JsonSerializer.Serialize(new { versions = group.Select(p => p.Version) }));
        File.WriteAllText(Path.Combine(dir, "index.json"), JsonSerializer.Serialize(new
        {
            version = "3.0.0",
            resources = new object[]
            {
                new Dictionary<string, string> { ["@id"] = $"{feedUrl}/flat/", ["@type"] = "PackageBaseAddress/3.0.0" },
                new Dictionary<string, string> { ["@id"] = $"{feedUrl}/query", ["@type"] = "SearchQueryService/3.5.0" },
                new Dictionary<string, string> { ["@id"] = $"{feedUrl}/registration/", ["@type"] = "RegistrationsBaseUrl/3.6.0" },
            },
        }));
        // Static: the query string is ignored, every page is the same (the source stops at a repeated page).
        File.WriteAllText(Path.Combine(dir, "query"), JsonSerializer.Serialize(new { totalHits = 1, data = packages.Select(p => p.Id).Distinct().Select(id => new { id }) }));
        return shas;
    }

    /// <summary>A classic Helm repository: <c>dir/index.yaml</c> with relative chart URLs and digests. Returns the .tgz bytes by "name-version".</summary>
    public static Dictionary<string, byte[]> WriteHelmRepository(string dir, params (string Name, string Version)[] charts)
    {
        Directory.CreateDirectory(dir);
        var result = new Dictionary<string, byte[]>();
        var index = new StringBuilder("apiVersion: v1\nentries:\n");
        foreach (var group in charts.GroupBy(c => c.Name))
        {
            index.Append($"  {group.Key}:\n");
            foreach (var (name, version) in group)
            {
                var bytes = HelmCharts.Package(name, version);
                File.WriteAllBytes(Path.Combine(dir, $"{name}-{version}.tgz"), bytes);
                result[$"{name}-{version}"] = bytes;
                index.Append($"    - name: {name}\n      version: {version}\n      apiVersion: v2\n      digest: {Convert.ToHexStringLower(SHA256.HashData(bytes))}\n      urls: [{name}-{version}.tgz]\n");
            }
        }
        File.WriteAllText(Path.Combine(dir, "index.yaml"), index.ToString());
        return result;
    }
}
