using System.Net;
using System.Runtime.CompilerServices;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Arca.Migration.Config;
using Arca.Migration.Destinations;
using Arca.Migration.Engine;

namespace Arca.Migration.Sources;

/// <summary>
/// A Python simple repository (PEP 503 HTML or PEP 691 JSON, chosen by Accept) as the source of PYTHON mappings.
/// The index root is <c>&lt;endpoint&gt;/&lt;sourceRegistry&gt;/simple/</c> (or <c>sourceRegistry</c> itself when it
/// already ends in <c>simple</c>); each project page yields one item per file, with its <c>#sha256=</c>,
/// requires-python and yanked state.
/// </summary>
public sealed class PyPISource : IMigrationSource
{
    private readonly HttpClient _http;
    private readonly SourceDownload _download;

    public PyPISource(EndpointConfig endpoint)
    {
        _http = MigrationHttp.CreateClient(endpoint);
        _download = new SourceDownload(_http, endpoint);
    }

    public IReadOnlyCollection<string> SupportedArtifactTypes => ["PYTHON"];

    public async IAsyncEnumerable<MigrationItem> ListAsync(MappingConfig mapping, PackageFilter filter, [EnumeratorCancellation] CancellationToken ct)
    {
        var path = mapping.SourceRegistry.Trim('/');
        var root = new Uri(_http.BaseAddress!, path.Length == 0 ? "simple/" : path.EndsWith("simple", StringComparison.Ordinal) ? path + "/" : path + "/simple/");
        var page = await SimpleIndex.GetAsync(_http, root, ct) ?? throw new InvalidDataException($"{root}: no simple index here (404)");
        foreach (var (project, url) in SimpleIndex.Projects(page, root))
        {
            if (!filter.Selects(project) && !filter.Selects(PythonFileNames.Normalize(project))) continue;
            await foreach (var item in SimpleIndex.ItemsAsync(url, project, mapping, _download, ct))
                yield return item;
        }
    }

    public void Dispose()
    {
        _download.Dispose();
        _http.Dispose();
    }
}

/// <summary>Reading the simple repository API in either form (shared by the PyPI and Arca sources).</summary>
internal static partial class SimpleIndex
{
    private const string Accept = "application/vnd.pypi.simple.v1+json, application/vnd.pypi.simple.v1+html;q=0.2, text/html;q=0.1";

    public sealed record Page(JsonObject? Json, string? Html);

    [GeneratedRegex(@"<a\s([^>]*)>(.*?)</a\s*>", RegexOptions.IgnoreCase | RegexOptions.Singleline)]
    private static partial Regex Anchor();

    [GeneratedRegex(@"([A-Za-z_:][-A-Za-z0-9_:.]*)(?:\s*=\s*(?:""([^""]*)""|'([^']*)'|([^\s""'>]+)))?")]
    private static partial Regex Attribute();

    public static async Task<Page?> GetAsync(HttpClient http, Uri url, CancellationToken ct)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, url);
        request.Headers.Accept.ParseAdd(Accept);
        using var response = await http.SendAsync(request, ct);
        if (response.StatusCode == HttpStatusCode.NotFound) return null;
        await MigrationHttp.EnsureSuccessAsync(response, $"GET {url}", ct);
        var text = await response.Content.ReadAsStringAsync(ct);
        return response.Content.Headers.ContentType?.MediaType?.EndsWith("json", StringComparison.OrdinalIgnoreCase) == true
            ? new Page(JsonNode.Parse(text) as JsonObject ?? throw new InvalidDataException($"{url}: not a JSON object"), null)
            : new Page(null, text);
    }

    /// <summary>Projects of the index root with their page URLs.</summary>
    public static IEnumerable<(string Name, Uri Url)> Projects(Page root, Uri rootUrl)
    {
        if (root.Json is { } json)
        {
            foreach (var p in json["projects"] as JsonArray ?? [])
                if (p?["name"] is JsonValue n && n.TryGetValue<string>(out var name))
                    yield return (name, new Uri(rootUrl, Uri.EscapeDataString(PythonFileNames.Normalize(name)) + "/"));
            yield break;
        }
        foreach (var (attributes, text) in Anchors(root.Html!))
            if (attributes.TryGetValue("href", out var href) && text.Trim().Length > 0)
                yield return (text.Trim(), new Uri(rootUrl, href.EndsWith('/') ? href : href + "/"));
    }

    public static async IAsyncEnumerable<MigrationItem> ItemsAsync(Uri projectUrl, string project, MappingConfig mapping,
        SourceDownload download, [EnumeratorCancellation] CancellationToken ct)
    {
        var page = await GetAsync(download.ClientFor(projectUrl), projectUrl, ct);
        if (page is null) yield break; // listed but gone: nothing to move
        var normalized = PythonFileNames.Normalize(project);
        var versions = (page.Json?["versions"] as JsonArray)?.Select(v => v?.GetValue<string>()).OfType<string>().ToList() ?? [];
        foreach (var file in Files(page, projectUrl))
        {
            var fromName = PythonFileNames.VersionOf(file.FileName) ?? throw new InvalidDataException($"{project}: cannot tell the version of '{file.FileName}'");
            // PEP 700 lists versions as uploaded; prefer that spelling to the file name's.
            var version = versions.FirstOrDefault(v => PythonFileNames.Loose(v) == PythonFileNames.Loose(fromName)) ?? fromName;
            yield return new PythonFileItem
            {
                Key = $"{mapping.Index}|PYTHON|{normalized}|{file.FileName}", Package = normalized, Version = version,
                Display = $"{normalized}/{version}/{file.FileName}", Size = file.Size, Project = project, FileName = file.FileName,
                Sha256 = file.Sha256, RequiresPython = file.RequiresPython, Yanked = file.Yanked, YankedReason = file.YankedReason,
                Open = token => download.OpenAsync(file.Url, token),
                Fingerprint = file.Size is null ? token => download.FingerprintAsync(file.Url, token) : null, // PEP 503 pages give no size
            };
        }
    }

    private sealed record FileEntry(string FileName, Uri Url, string? Sha256, long? Size, string? RequiresPython, bool Yanked, string? YankedReason);

    private static IEnumerable<FileEntry> Files(Page page, Uri pageUrl)
    {
        if (page.Json is { } json)
        {
            foreach (var f in json["files"] as JsonArray ?? [])
            {
                if (f is not JsonObject o || Str(o["filename"]) is not { } name || Str(o["url"]) is not { } url) continue;
                var yanked = o["yanked"] is JsonValue y && (y.TryGetValue<bool>(out var b) ? b : y.TryGetValue<string>(out _));
                var reason = o["yanked"] is JsonValue r && r.TryGetValue<string>(out var s) ? s : null;
                long? size = o["size"] is JsonValue sz && sz.TryGetValue<long>(out var l) ? l : null;
                yield return new FileEntry(name, new Uri(pageUrl, url), Str(o["hashes"]?["sha256"]), size, Str(o["requires-python"]), yanked, reason);
            }
            yield break;
        }
        foreach (var (attributes, text) in Anchors(page.Html!))
        {
            if (!attributes.TryGetValue("href", out var href)) continue;
            var hash = href.IndexOf('#');
            var fragment = hash >= 0 ? href[(hash + 1)..] : "";
            var url = new Uri(pageUrl, hash >= 0 ? href[..hash] : href);
            var name = Uri.UnescapeDataString(url.AbsolutePath[(url.AbsolutePath.LastIndexOf('/') + 1)..]);
            if (name.Length == 0) name = text.Trim();
            var sha256 = fragment.StartsWith("sha256=", StringComparison.OrdinalIgnoreCase) ? fragment[7..] : null;
            attributes.TryGetValue("data-requires-python", out var requires);
            var yanked = attributes.TryGetValue("data-yanked", out var reason);
            yield return new FileEntry(name, url, sha256, null, string.IsNullOrEmpty(requires) ? null : requires, yanked, string.IsNullOrEmpty(reason) ? null : reason);
        }
    }

    private static IEnumerable<(Dictionary<string, string> Attributes, string Text)> Anchors(string html)
    {
        foreach (Match a in Anchor().Matches(html))
        {
            var attributes = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
            foreach (Match m in Attribute().Matches(a.Groups[1].Value))
            {
                var value = m.Groups[2].Success ? m.Groups[2].Value : m.Groups[3].Success ? m.Groups[3].Value : m.Groups[4].Value;
                attributes[m.Groups[1].Value] = WebUtility.HtmlDecode(value);
            }
            yield return (attributes, WebUtility.HtmlDecode(Regex.Replace(a.Groups[2].Value, "<[^>]*>", "")));
        }
    }

    private static string? Str(JsonNode? node) => node is JsonValue value && value.TryGetValue<string>(out var s) ? s : null;
}
