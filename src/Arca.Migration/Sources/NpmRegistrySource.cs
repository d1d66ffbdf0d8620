using System.Net;
using System.Runtime.CompilerServices;
using System.Text.Json;
using System.Text.Json.Nodes;
using Arca.Client.Npm;
using Arca.Migration.Config;
using Arca.Migration.Destinations;
using Arca.Migration.Engine;

namespace Arca.Migration.Sources;

/// <summary>
/// An npm registry (verdaccio, or any registry speaking the npm protocol) as the source of NPM mappings.
/// `sourceRegistry` is a path under the endpoint (empty for its root). Package names come from verdaccio's
/// package list (<c>/-/verdaccio/data/packages</c>, read as a stream) or, elsewhere, from the npm search API
/// page by page; each package's packument then yields one item per version.
/// </summary>
public sealed class NpmRegistrySource : IMigrationSource
{
    private const int SearchPageSize = 250;
    private readonly HttpClient _http;
    private readonly SourceDownload _download;

    public NpmRegistrySource(EndpointConfig endpoint)
    {
        _http = MigrationHttp.CreateClient(endpoint);
        _download = new SourceDownload(_http, endpoint);
    }

    public IReadOnlyCollection<string> SupportedArtifactTypes => ["NPM"];

    public async IAsyncEnumerable<MigrationItem> ListAsync(MappingConfig mapping, PackageFilter filter, [EnumeratorCancellation] CancellationToken ct)
    {
        var prefix = mapping.SourceRegistry.Trim('/') is { Length: > 0 } p ? p + "/" : "";
        await foreach (var name in PackageNamesAsync(prefix, ct))
        {
            if (!filter.Selects(name)) continue;
            await foreach (var item in NpmPackuments.ItemsAsync(_http, $"{prefix}{NpmPublish.EscapeName(name)}", name, mapping, _download, ct))
                yield return item;
        }
    }

    private async IAsyncEnumerable<string> PackageNamesAsync(string prefix, [EnumeratorCancellation] CancellationToken ct)
    {
        using (var response = await _http.GetAsync($"{prefix}-/verdaccio/data/packages", HttpCompletionOption.ResponseHeadersRead, ct))
        {
            if (response.IsSuccessStatusCode && response.Content.Headers.ContentType?.MediaType?.Contains("json") == true)
            {
                await using var body = await response.Content.ReadAsStreamAsync(ct);
                await foreach (var pkg in JsonSerializer.DeserializeAsyncEnumerable<JsonElement>(body, cancellationToken: ct))
                    if (pkg.ValueKind == JsonValueKind.Object && pkg.TryGetProperty("name", out var n) && n.GetString() is { Length: > 0 } name)
                        yield return name;
                yield break;
            }
            if (response.StatusCode is not (HttpStatusCode.NotFound or HttpStatusCode.MethodNotAllowed or HttpStatusCode.Unauthorized or HttpStatusCode.Forbidden or HttpStatusCode.OK))
                await MigrationHttp.EnsureSuccessAsync(response, $"GET {prefix}-/verdaccio/data/packages", ct);
        }

        // The npm search API: an empty text matches every package on verdaccio and Arca.
        var seen = new HashSet<string>(StringComparer.Ordinal);
        for (var from = 0; ; )
        {
            using var response = await _http.GetAsync($"{prefix}-/v1/search?text=&size={SearchPageSize}&from={from}", ct);
            await MigrationHttp.EnsureSuccessAsync(response, $"GET {prefix}-/v1/search", ct);
            var objects = JsonDocument.Parse(await response.Content.ReadAsStringAsync(ct)).RootElement.GetProperty("objects");
            var fresh = 0;
            foreach (var o in objects.EnumerateArray())
                if (o.TryGetProperty("package", out var pkg) && pkg.TryGetProperty("name", out var n) && n.GetString() is { Length: > 0 } name && seen.Add(name))
                {
                    fresh++;
                    yield return name;
                }
            // Servers cap the page size differently; the listing ends with a page that brings nothing new.
            if (fresh == 0) yield break;
            from += objects.GetArrayLength();
        }
    }

    public void Dispose()
    {
        _download.Dispose();
        _http.Dispose();
    }
}

/// <summary>Turns a packument into one <see cref="NpmVersionItem"/> per version (shared by npm registry and Arca sources).</summary>
internal static class NpmPackuments
{
    public static async IAsyncEnumerable<MigrationItem> ItemsAsync(HttpClient http, string packumentUrl, string name, MappingConfig mapping,
        SourceDownload download, [EnumeratorCancellation] CancellationToken ct)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, packumentUrl);
        request.Headers.Accept.ParseAdd("application/json"); // the full document: deprecation, all manifest fields
        using var response = await http.SendAsync(request, ct);
        await MigrationHttp.EnsureSuccessAsync(response, $"GET {packumentUrl}", ct);
        if (JsonNode.Parse(await response.Content.ReadAsStringAsync(ct)) is not JsonObject packument)
            throw new InvalidDataException($"{packumentUrl}: not a packument");
        var tags = (packument["dist-tags"] as JsonObject ?? [])
            .Where(t => t.Value is JsonValue v && v.TryGetValue<string>(out _))
            .Select(t => (Tag: t.Key, Version: t.Value!.GetValue<string>())).ToList();
        foreach (var (version, node) in packument["versions"] as JsonObject ?? [])
        {
            if (node is not JsonObject manifest) continue;
            var tarball = Str(manifest["dist"]?["tarball"]);
            if (tarball is null || !Uri.TryCreate(http.BaseAddress!, tarball, out var tarballUri))
                throw new InvalidDataException($"{name}@{version}: the source gives no tarball URL");
            yield return new NpmVersionItem
            {
                Key = $"{mapping.Index}|NPM|{name}|{version}", Package = name, Version = version, Display = $"{name}@{version}",
                Manifest = manifest, Integrity = Str(manifest["dist"]?["integrity"]), Shasum = Str(manifest["dist"]?["shasum"]),
                Tags = tags.Where(t => t.Version == version).Select(t => t.Tag).ToList(),
                OpenTarball = token => download.OpenAsync(tarballUri, token),
                Fingerprint = token => download.FingerprintAsync(tarballUri, token), // the tarball's size for --dry-run
            };
        }
    }

    private static string? Str(JsonNode? node) => node is JsonValue value && value.TryGetValue<string>(out var s) ? s : null;
}
