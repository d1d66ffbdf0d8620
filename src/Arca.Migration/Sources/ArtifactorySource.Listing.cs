using System.Net;
using System.Net.Http.Headers;
using System.Runtime.CompilerServices;
using System.Text;
using System.Text.Json;
using Arca.Migration.Engine;

namespace Arca.Migration.Sources;

/// <summary>Listing the files of an Artifactory repository: AQL pages, or the storage API's deep list when AQL is refused.</summary>
public sealed partial class ArtifactorySource
{
    /// <summary>Results asked for per AQL page (a non-admin user's query limit is 1000 by default). Tests lower it.</summary>
    internal int AqlPageSize { get; init; } = 1000;

    /// <summary>One file of a listing: repository-relative path (no leading slash) and what the listing says of it.</summary>
    internal sealed record ListedFile(string Path, long? Size, string? Sha1, string? Sha256);

    /// <summary>Every file of the repository, one AQL page in memory at a time. Falls back to the storage API's deep list
    /// (one unpaged document) when AQL is refused: 403, 404 or 405 (an edition or a user without AQL).</summary>
    private async IAsyncEnumerable<ListedFile> ListFilesAsync(string repo, [EnumeratorCancellation] CancellationToken ct)
    {
        long offset = 0;
        var previousPage = new HashSet<string>(StringComparer.Ordinal);
        while (true)
        {
            var (refusal, document) = await AqlPageAsync(repo, offset, ct);
            if (refusal is not null)
            {
                if (offset > 0) throw new InvalidOperationException($"AQL refused page {offset / AqlPageSize + 1} after answering the first: {refusal}");
                await foreach (var file in StorageListAsync(repo, refusal, ct)) yield return file;
                yield break;
            }
            using var page = document!;
            if (!page.RootElement.TryGetProperty("results", out var results) || results.ValueKind != JsonValueKind.Array)
                throw new InvalidDataException($"AQL answer for {repo} has no \"results\" array");
            var returned = results.GetArrayLength();
            if (returned == 0) yield break;
            var range = page.RootElement.TryGetProperty("range", out var r) && r.ValueKind == JsonValueKind.Object ? r : default;

            var thisPage = new HashSet<string>(StringComparer.Ordinal);
            var fresh = 0;
            foreach (var result in results.EnumerateArray())
            {
                var name = StringOf(result, "name");
                if (string.IsNullOrEmpty(name)) continue;
                var folder = StringOf(result, "path");
                // Files at the repository root have path ".".
                var path = folder is null or "." or "" ? name : $"{folder.Trim('/')}/{name}";
                thisPage.Add(path);
                // A file added while listing shifts the pages by one: the previous page's last files come again.
                if (previousPage.Contains(path)) continue;
                fresh++;
                yield return new ListedFile(path, SizeOf(result), Hex(result, "actual_sha1"), Hex(result, "sha256"));
            }
            if (fresh == 0)
                throw new InvalidDataException($"AQL returned the same files again for offset {offset}: the server ignores offset, the listing would never end");
            // A server that trims the page (range.limit below what was asked) is paged by what it allows.
            var pageSize = LongOf(range, "limit") is { } limit && limit > 0 && limit < AqlPageSize ? limit : AqlPageSize;
            if (returned < pageSize) yield break;
            offset += returned;
            previousPage = thisPage;
        }
    }

    /// <summary>One AQL page; (the refusal, null) when the server answers 403/404/405 to AQL.</summary>
    private async Task<(string? Refusal, JsonDocument? Page)> AqlPageAsync(string repo, long offset, CancellationToken ct)
    {
        var query = $"items.find({{\"repo\":{AqlString(repo)},\"type\":\"file\"}})"
            + ".include(\"repo\",\"path\",\"name\",\"size\",\"actual_sha1\",\"sha256\")"
            + $".sort({{\"$asc\":[\"path\",\"name\"]}}).offset({offset}).limit({AqlPageSize})";
        var content = new ByteArrayContent(Encoding.UTF8.GetBytes(query));
        content.Headers.ContentType = new MediaTypeHeaderValue("text/plain");
        using var request = new HttpRequestMessage(HttpMethod.Post, "api/search/aql") { Content = content };
        using var response = await _http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, ct);
        if (response.StatusCode is HttpStatusCode.Forbidden or HttpStatusCode.NotFound or HttpStatusCode.MethodNotAllowed)
        {
            var body = await response.Content.ReadAsStringAsync(ct);
            return ($"POST api/search/aql answered {(int)response.StatusCode} {(body.Length > 200 ? body[..200] : body)}".Trim(), null);
        }
        await MigrationHttp.EnsureSuccessAsync(response, $"POST api/search/aql (offset {offset})", ct);
        return (null, JsonDocument.Parse(await NativeSources.ReadBoundedStringAsync(response, ct)));
    }

    /// <summary>A JSON string literal for an AQL criterion (the repository key comes from the config).</summary>
    internal static string AqlString(string value)
    {
        if (value.Any(char.IsControl)) throw new ArgumentException($"control characters in '{value}'");
        return "\"" + value.Replace("\\", "\\\\").Replace("\"", "\\\"") + "\"";
    }

    private async IAsyncEnumerable<ListedFile> StorageListAsync(string repo, string aqlRefusal, [EnumeratorCancellation] CancellationToken ct)
    {
        var url = new Uri(_http.BaseAddress!, $"api/storage/{Uri.EscapeDataString(repo)}?list&deep=1&listFolders=0");
        JsonDocument doc;
        using (var response = await _http.GetAsync(url, HttpCompletionOption.ResponseHeadersRead, ct))
        {
            try { await MigrationHttp.EnsureSuccessAsync(response, $"GET {url}", ct); }
            catch (HttpStatusException e) { throw new HttpStatusException(e.Status, $"cannot list {repo}: {aqlRefusal}; the storage list fallback failed too: {e.Message}"); }
            // The storage list is one unpaged document of small entries: parse it bounded, like other index documents.
            doc = JsonDocument.Parse(await NativeSources.ReadBoundedStringAsync(response, ct));
        }
        using (doc)
        {
            if (!doc.RootElement.TryGetProperty("files", out var files) || files.ValueKind != JsonValueKind.Array)
                throw new InvalidDataException($"{url}: no \"files\" array in the listing");
            foreach (var f in files.EnumerateArray())
            {
                if (f.TryGetProperty("folder", out var folder) && (folder.ValueKind == JsonValueKind.True || (folder.ValueKind == JsonValueKind.String && folder.GetString() == "true")))
                    continue;
                var path = StringOf(f, "uri")?.TrimStart('/');
                if (string.IsNullOrEmpty(path)) continue;
                yield return new ListedFile(path, SizeOf(f), Hex(f, "sha1"), Hex(f, "sha2") ?? Hex(f, "sha256"));
            }
        }
    }

    private static string? StringOf(JsonElement e, string name) =>
        e.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString() : null;

    private static long? LongOf(JsonElement e, string name) =>
        e.ValueKind == JsonValueKind.Object && e.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.Number && v.TryGetInt64(out var n) ? n : null;
}
