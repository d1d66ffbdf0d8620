using System.Runtime.CompilerServices;
using System.Text.Json;
using Arca.Migration.Config;
using Arca.Migration.Engine;

namespace Arca.Migration.Sources;

/// <summary>Another Arca server (type ARCA, alias HAR): listed through its management API page by page,
/// content read from its format endpoints.</summary>
public sealed partial class ArcaSource(EndpointConfig endpoint) : IMigrationSource
{
    private readonly HttpClient _http = MigrationHttp.CreateClient(endpoint);
    internal HttpClient Http => _http;
    internal EndpointConfig Endpoint => endpoint;
    private const int PageSize = 100;

    /// <summary>One lister per artifact type; each format's lister lives in its own partial file (ArcaSource.&lt;Type&gt;.cs).</summary>
    public IReadOnlyCollection<string> SupportedArtifactTypes => ["GENERIC", "MAVEN", "NUGET", "DOCKER", "HELM", "NPM", "PYTHON", "GO"];

    public IAsyncEnumerable<MigrationItem> ListAsync(MappingConfig mapping, PackageFilter filter, CancellationToken ct) => mapping.ArtifactType switch
    {
        "GENERIC" => ListGenericAsync(mapping, filter, ct),
        "DOCKER" or "HELM" => ListOciAsync(mapping, filter, ct),
        "MAVEN" => ListMavenAsync(mapping, filter, ct),
        "NUGET" => ListNuGetAsync(mapping, filter, ct),
        "NPM" => ListNpmAsync(mapping, filter, ct),
        "PYTHON" => ListPythonAsync(mapping, filter, ct),
        "GO" => ListGoAsync(mapping, filter, ct),
        _ => throw new NotSupportedException($"artifact type {mapping.ArtifactType} from an Arca source"),
    };

    private async IAsyncEnumerable<MigrationItem> ListGenericAsync(MappingConfig mapping, PackageFilter filter, [EnumeratorCancellation] CancellationToken ct)
    {
        var reg = Uri.EscapeDataString(mapping.SourceRegistry);
        await foreach (var package in PagesAsync($"api/v1/registries/{reg}/packages", ct))
        {
            var name = package.GetProperty("name").GetString()!;
            if (!filter.Selects(name)) continue;
            await foreach (var version in PagesAsync($"api/v1/registries/{reg}/versions?package={Uri.EscapeDataString(name)}", ct))
            {
                var v = version.GetProperty("version").GetString()!;
                await foreach (var file in PagesAsync($"api/v1/registries/{reg}/files?package={Uri.EscapeDataString(name)}&version={Uri.EscapeDataString(v)}", ct))
                {
                    var path = file.GetProperty("path").GetString()!;
                    yield return new GenericFileItem
                    {
                        Key = $"{mapping.Index}|GENERIC|{name}|{v}|{path}", Package = name, Version = v, Path = path,
                        Display = $"{name}/{v}/{path}", Size = file.GetProperty("size").GetInt64(),
                        Sha256 = file.GetProperty("sha256").GetString()!,
                        Open = token => OpenAsync($"pkg/{reg}/generic/{Escape(name)}/{Escape(v)}/{EscapePath(path)}", token),
                    };
                }
            }
        }
    }

    internal async Task<Stream> OpenAsync(string url, CancellationToken ct)
    {
        var response = await _http.GetAsync(url, HttpCompletionOption.ResponseHeadersRead, ct);
        await MigrationHttp.EnsureSuccessAsync(response, $"GET {url}", ct);
        return await response.Content.ReadAsStreamAsync(ct);
    }

    /// <summary>Follows Arca's page/page_size paging; each page is fetched only when the previous one is consumed.</summary>
    internal async IAsyncEnumerable<JsonElement> PagesAsync(string url, [EnumeratorCancellation] CancellationToken ct)
    {
        var sep = url.Contains('?') ? '&' : '?';
        for (var page = 1; ; page++)
        {
            using var response = await _http.GetAsync($"{url}{sep}page={page}&page_size={PageSize}", ct);
            await MigrationHttp.EnsureSuccessAsync(response, $"GET {url}", ct);
            var doc = JsonDocument.Parse(await response.Content.ReadAsStringAsync(ct)).RootElement;
            var items = doc.GetProperty("items");
            foreach (var item in items.EnumerateArray()) yield return item.Clone();
            if (items.GetArrayLength() < PageSize || page * PageSize >= doc.GetProperty("total").GetInt64()) yield break;
        }
    }

    internal static string Escape(string s) => Uri.EscapeDataString(s);
    internal static string EscapePath(string p) => string.Join('/', p.Split('/').Select(Uri.EscapeDataString));

    public void Dispose()
    {
        _download?.Dispose();
        _http.Dispose();
    }
}

/// <summary>One generic file: package/version/path with its sha256, opened lazily as a stream.</summary>
public sealed record GenericFileItem : MigrationItem
{
    public required string Path { get; init; }
    public required string Sha256 { get; init; }
    public required Func<CancellationToken, Task<Stream>> Open { get; init; }
}
