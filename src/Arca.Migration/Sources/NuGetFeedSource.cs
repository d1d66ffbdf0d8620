using System.Runtime.CompilerServices;
using System.Text.Json;
using Arca.Migration.Config;
using Arca.Migration.Destinations;
using Arca.Migration.Engine;

namespace Arca.Migration.Sources;

/// <summary>
/// A NuGet v3 feed. The service index is <c>&lt;endpoint&gt;/&lt;sourceRegistry&gt;/index.json</c> (or the endpoint itself when
/// it ends in .json). Package ids are enumerated through the feed's SearchQueryService, page by page
/// (<c>skip</c>/<c>take</c>, prerelease and SemVer 2 included); every version of an id comes from the flat container
/// (PackageBaseAddress <c>&lt;id&gt;/index.json</c>), which also lists unlisted versions; the listed flag comes from the
/// registration leaf when the feed has RegistrationsBaseUrl (else versions are taken as listed).
/// Limits: search only finds ids with at least one listed version; a static feed's "search" can be a plain JSON file that
/// ignores skip/take (paging stops when a page repeats or is short).
/// include/excludePatterns match the package id as the search service spells it.
/// </summary>
public sealed class NuGetFeedSource(EndpointConfig endpoint, HttpClient? sharedHttp = null) : IMigrationSource
{
    // sharedHttp: the client of a product source that serves this protocol under a path (its auth, its lifetime).
    private readonly HttpClient _http = sharedHttp ?? MigrationHttp.CreateClient(endpoint);
    private const int PageSize = 100;

    public IReadOnlyCollection<string> SupportedArtifactTypes => ["NUGET"];

    public async IAsyncEnumerable<MigrationItem> ListAsync(MappingConfig mapping, PackageFilter filter, [EnumeratorCancellation] CancellationToken ct)
    {
        var baseUri = _http.BaseAddress!;
        var sub = mapping.SourceRegistry.Trim('/');
        var indexUri = sub.EndsWith(".json", StringComparison.OrdinalIgnoreCase) ? new Uri(baseUri, NativeSources.EscapePath(sub))
            : sub.Length > 0 ? new Uri(baseUri, NativeSources.EscapePath(sub) + "/index.json")
            : baseUri.AbsolutePath.TrimEnd('/').EndsWith(".json", StringComparison.OrdinalIgnoreCase) ? new Uri(baseUri.ToString().TrimEnd('/'))
            : new Uri(baseUri, "index.json");
        using var index = JsonDocument.Parse(await NativeSources.GetStringAsync(_http, indexUri, ct));
        var resources = index.RootElement.GetProperty("resources").EnumerateArray()
            .Select(r => (Type: r.GetProperty("@type").GetString() ?? "", Id: r.GetProperty("@id").GetString() ?? "")).ToList();
        string? Resource(string type) => resources.FirstOrDefault(r => r.Type == type || r.Type.StartsWith(type + "/", StringComparison.Ordinal)).Id;
        var flat = Resource("PackageBaseAddress") ?? throw new InvalidDataException($"{indexUri} has no PackageBaseAddress resource");
        var search = Resource("SearchQueryService") ?? throw new InvalidDataException($"{indexUri} has no SearchQueryService resource to enumerate package ids");
        var registration = Resource("RegistrationsBaseUrl");
        var flatUri = new Uri(indexUri, flat.EndsWith('/') ? flat : flat + "/");
        Uri? registrationUri = registration is null ? null : new Uri(indexUri, registration.EndsWith('/') ? registration : registration + "/");

        var seen = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        await foreach (var id in SearchIdsAsync(new Uri(indexUri, search), ct))
        {
            if (!seen.Add(id) || !filter.Selects(id)) continue;
            var lowerId = id.ToLowerInvariant();
            var versionsUri = new Uri(flatUri, Uri.EscapeDataString(lowerId) + "/index.json");
            using var versions = JsonDocument.Parse(await NativeSources.GetStringAsync(_http, versionsUri, ct));
            foreach (var v in versions.RootElement.GetProperty("versions").EnumerateArray())
            {
                var version = v.GetString()!.ToLowerInvariant();
                var file = $"{lowerId}.{version}.nupkg";
                var nupkg = new Uri(flatUri, $"{Uri.EscapeDataString(lowerId)}/{Uri.EscapeDataString(version)}/{Uri.EscapeDataString(file)}");
                var leaf = registrationUri is null ? null : new Uri(registrationUri, $"{Uri.EscapeDataString(lowerId)}/{Uri.EscapeDataString(version)}.json");
                yield return new NuGetPackageItem
                {
                    Key = $"{mapping.Index}|NUGET|{lowerId}|{version}", Package = id, Version = version, Display = $"{id} {version}",
                    IsListed = token => leaf is null ? Task.FromResult<bool?>(null) : ListedAsync(leaf, token),
                    Open = token => NativeSources.OpenAsync(_http, nupkg, token),
                    Fingerprint = token => NativeSources.FingerprintAsync(_http, nupkg, token), // feeds publish no package hash
                };
            }
        }
    }

    /// <summary>Ids from the search service, one page at a time.</summary>
    private async IAsyncEnumerable<string> SearchIdsAsync(Uri search, [EnumeratorCancellation] CancellationToken ct)
    {
        string? previousFirst = null;
        for (var skip = 0; ; skip += PageSize)
        {
            var sep = search.Query.Length > 0 ? "&" : "?";
            using var page = JsonDocument.Parse(await NativeSources.GetStringAsync(_http,
                new Uri(search + $"{sep}q=&skip={skip}&take={PageSize}&prerelease=true&semVerLevel=2.0.0"), ct));
            var ids = page.RootElement.GetProperty("data").EnumerateArray().Select(d => d.GetProperty("id").GetString()!).ToList();
            // A static search document ignores skip: the same first id again means the end.
            if (ids.Count == 0 || ids[0] == previousFirst) yield break;
            foreach (var id in ids) yield return id;
            if (ids.Count < PageSize) yield break;
            previousFirst = ids[0];
        }
    }

    private async Task<bool?> ListedAsync(Uri leaf, CancellationToken ct)
    {
        using var response = await _http.GetAsync(leaf, ct);
        if (response.StatusCode == System.Net.HttpStatusCode.NotFound) return null;
        await MigrationHttp.EnsureSuccessAsync(response, $"GET {leaf}", ct);
        using var doc = JsonDocument.Parse(await NativeSources.ReadBoundedStringAsync(response, ct));
        return doc.RootElement.TryGetProperty("listed", out var l) && l.ValueKind is JsonValueKind.True or JsonValueKind.False ? l.GetBoolean() : null;
    }

    public void Dispose()
    {
        if (sharedHttp is null) _http.Dispose();
    }
}
