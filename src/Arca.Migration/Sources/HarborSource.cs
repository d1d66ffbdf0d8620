using System.Runtime.CompilerServices;
using System.Text.Json;
using Arca.Client.Oci;
using Arca.Migration.Config;
using Arca.Migration.Engine;

namespace Arca.Migration.Sources;

/// <summary>
/// Harbor (API v2.0): <c>sourceRegistry</c> is a project (empty = every project, names kept whole). Repositories
/// and artifacts (with their tags and digests) are listed page by page from <c>/api/v2.0</c>; content is pulled from
/// Harbor's registry on the same host through the OCI client (Harbor's token service, Basic credentials).
/// DOCKER takes image artifacts, HELM takes CHART artifacts (OCI charts).
/// </summary>
public sealed class HarborSource(EndpointConfig endpoint) : IMigrationSource
{
    private const int PageSize = 100; // Harbor's maximum
    private readonly HttpClient _http = MigrationHttp.CreateClient(endpoint);
    private readonly OciClientPool _clients = new(endpoint);

    public IReadOnlyCollection<string> SupportedArtifactTypes => ["DOCKER", "HELM"];

    public async IAsyncEnumerable<MigrationItem> ListAsync(MappingConfig mapping, PackageFilter filter, [EnumeratorCancellation] CancellationToken ct)
    {
        var puller = _clients.For(mapping.SourcePackageHostname);
        var project = mapping.SourceRegistry.Trim('/');
        var projects = project.Length > 0 ? Single(project) : ProjectNamesAsync(ct);
        await foreach (var p in projects.WithCancellation(ct))
        {
            await foreach (var repository in PagesAsync($"api/v2.0/projects/{Uri.EscapeDataString(p)}/repositories", ct))
            {
                var fullName = repository.GetProperty("name").GetString()!;
                // Harbor's names include "project/"; the API wants the rest, URL-encoded twice ("a/b" -> "a%252Fb").
                var shortName = fullName.StartsWith(p + "/", StringComparison.Ordinal) ? fullName[(p.Length + 1)..] : fullName;
                var destination = project.Length > 0 ? shortName : fullName;
                if (!filter.Selects(destination)) continue;
                var encoded = Uri.EscapeDataString(Uri.EscapeDataString(shortName));
                await foreach (var artifact in PagesAsync($"api/v2.0/projects/{Uri.EscapeDataString(p)}/repositories/{encoded}/artifacts?with_tag=true", ct))
                {
                    var isChart = Str(artifact, "type") == "CHART";
                    if (isChart != (mapping.ArtifactType == "HELM")) continue;
                    var digest = Str(artifact, "digest");
                    long? size = artifact.TryGetProperty("size", out var s) && s.ValueKind == JsonValueKind.Number ? s.GetInt64() : null;
                    if (!artifact.TryGetProperty("tags", out var tags) || tags.ValueKind != JsonValueKind.Array) continue; // untagged
                    foreach (var tag in tags.EnumerateArray())
                        if (Str(tag, "name") is { } name && !ImageCopier.IsReferrersFallbackTag(name))
                            yield return OciImageItem.Create(mapping, puller, fullName, destination, name, digest, size);
                }
            }
        }
    }

    private static async IAsyncEnumerable<string> Single(string value)
    {
        await Task.CompletedTask;
        yield return value;
    }

    private async IAsyncEnumerable<string> ProjectNamesAsync([EnumeratorCancellation] CancellationToken ct)
    {
        await foreach (var project in PagesAsync("api/v2.0/projects", ct))
            if (Str(project, "name") is { } name) yield return name;
    }

    /// <summary>Follows Harbor's paging: the Link rel="next" header, else X-Total-Count; one page in memory at a time.</summary>
    private async IAsyncEnumerable<JsonElement> PagesAsync(string path, [EnumeratorCancellation] CancellationToken ct)
    {
        var sep = path.Contains('?') ? '&' : '?';
        Uri? next = new(_http.BaseAddress!, $"{path}{sep}page=1&page_size={PageSize}");
        for (var page = 1; next is not null; page++)
        {
            var current = next;
            using var response = await _http.GetAsync(current, ct);
            await MigrationHttp.EnsureSuccessAsync(response, $"GET {current.AbsolutePath}", ct);
            await using var body = await response.Content.ReadAsStreamAsync(ct);
            using var doc = await JsonDocument.ParseAsync(body, cancellationToken: ct);
            var count = 0;
            if (doc.RootElement.ValueKind == JsonValueKind.Array)
                foreach (var item in doc.RootElement.EnumerateArray()) { count++; yield return item.Clone(); }

            next = NextLink(response, current);
            if (next is null && count > 0 && response.Headers.TryGetValues("X-Total-Count", out var totals)
                && long.TryParse(totals.FirstOrDefault(), out var total) && (long)page * PageSize < total)
                next = new Uri(_http.BaseAddress!, $"{path}{sep}page={page + 1}&page_size={PageSize}");
            if (next == current) break;
        }
    }

    /// <summary>The rel="next" target of Harbor's Link header (several links are joined with ",").</summary>
    internal static Uri? NextLink(HttpResponseMessage response, Uri current)
    {
        if (!response.Headers.TryGetValues("Link", out var values)) return null;
        foreach (var link in values.SelectMany(v => v.Split(',')))
        {
            if (!link.Contains("rel=\"next\"", StringComparison.OrdinalIgnoreCase) && !link.Contains("rel=next", StringComparison.OrdinalIgnoreCase)) continue;
            int open = link.IndexOf('<'), close = link.IndexOf('>');
            if (open < 0 || close <= open) continue;
            return new Uri(current, link[(open + 1)..close].Trim());
        }
        return null;
    }

    private static string? Str(JsonElement e, string name) =>
        e.ValueKind == JsonValueKind.Object && e.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString() : null;

    public void Dispose()
    {
        _http.Dispose();
        _clients.Dispose();
    }
}
