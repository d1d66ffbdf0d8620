using System.Globalization;
using System.Net;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Arca.Core.Auth;
using Arca.Core.Model;
using Arca.Core.Storage;
using Arca.Server.Api;
using Arca.Server.Services;
using Microsoft.Net.Http.Headers;

namespace Arca.Server.Formats.PyPI;

/// <summary>
/// The simple repository API: PEP 503 HTML and PEP 691 JSON (api-version 1.1, PEP 700 fields) on the same URLs,
/// chosen by the Accept header (or <c>?format=</c>), plus file downloads. Project URLs that are not in PEP 503
/// normalized form, or lack the trailing slash, redirect to the canonical URL.
/// </summary>
public sealed class PyPISimpleIndex(RegistryAccess access, ArtifactService artifacts)
{
    public const string JsonMediaType = "application/vnd.pypi.simple.v1+json";
    public const string HtmlMediaType = "application/vnd.pypi.simple.v1+html";
    private const string ApiVersion = "1.1";
    private IMetadataStore Store => artifacts.Store;

    public async Task RootAsync(HttpContext ctx, string registry)
    {
        var reg = await access.RequireAsync(ctx, registry, TokenScope.Read, PackageTypes.Python);
        if (!ctx.Request.Path.Value!.EndsWith('/')) { Redirect(ctx, $"/pkg/{reg.Name}/python/simple/"); return; }
        var projects = new List<(string Normalized, string Display)>();
        for (var page = 1; ; page++)
        {
            var batch = await Store.ListPackagesAsync(reg.Id, null, new PageRequest(page, PageRequest.MaxPageSize), ctx.RequestAborted);
            foreach (var p in batch.Items)
                projects.Add((p.Name, PyPIUpload.ParseObject(p.Properties)["name"]?.GetValue<string>() ?? p.Name));
            if (batch.Items.Count < PageRequest.MaxPageSize) break;
        }
        projects.Sort((a, b) => string.CompareOrdinal(a.Normalized, b.Normalized));

        if (Negotiate(ctx) == JsonMediaType)
        {
            var list = new JsonArray();
            foreach (var p in projects) list.Add(new JsonObject { ["name"] = p.Display });
            await WriteJsonAsync(ctx, new JsonObject { ["meta"] = Meta(), ["projects"] = list });
            return;
        }
        var html = new StringBuilder(HtmlHead("Simple index"));
        foreach (var p in projects)
            html.Append($"    <a href=\"{Attr(p.Normalized)}/\">{WebUtility.HtmlEncode(p.Display)}</a><br/>\n");
        html.Append("  </body>\n</html>\n");
        await WriteHtmlAsync(ctx, html.ToString());
    }

    public async Task ProjectAsync(HttpContext ctx, string registry, string project)
    {
        var reg = await access.RequireAsync(ctx, registry, TokenScope.Read, PackageTypes.Python);
        PyPINames.ValidateProject(project);
        var normalized = PyPINames.Normalize(project);
        if (normalized != project || !ctx.Request.Path.Value!.EndsWith('/'))
        {
            Redirect(ctx, $"/pkg/{reg.Name}/python/simple/{normalized}/");
            return;
        }
        var pkg = await Store.GetPackageAsync(reg.Id, normalized, ctx.RequestAborted)
                  ?? throw ArcaException.NotFound($"project '{normalized}' not found in registry '{reg.Name}'", "PACKAGE_NOT_FOUND");
        var files = await ListDistributionsAsync(ctx, reg, pkg);
        var versions = files.Select(f => f.Version).Distinct().ToList();

        if (Negotiate(ctx) == JsonMediaType)
        {
            var list = new JsonArray();
            foreach (var f in files)
            {
                var entry = new JsonObject
                {
                    ["filename"] = f.File.Path,
                    ["url"] = f.Url,
                    ["hashes"] = new JsonObject { ["sha256"] = f.File.Sha256 },
                };
                if (f.RequiresPython is not null) entry["requires-python"] = f.RequiresPython;
                entry["yanked"] = f.Yanked ? (f.YankedReason is { Length: > 0 } r ? JsonValue.Create(r) : JsonValue.Create(true)) : JsonValue.Create(false);
                entry["size"] = f.File.Size;
                entry["upload-time"] = f.File.CreatedAt.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.ffffff'Z'", CultureInfo.InvariantCulture);
                list.Add(entry);
            }
            var versionArray = new JsonArray();
            foreach (var v in versions) versionArray.Add(v);
            await WriteJsonAsync(ctx, new JsonObject { ["meta"] = Meta(), ["name"] = normalized, ["versions"] = versionArray, ["files"] = list });
            return;
        }

        var html = new StringBuilder(HtmlHead($"Links for {normalized}"));
        html.Append($"    <h1>Links for {WebUtility.HtmlEncode(normalized)}</h1>\n");
        foreach (var f in files)
        {
            html.Append($"    <a href=\"{Attr(f.Url)}#sha256={f.File.Sha256}\"");
            if (f.RequiresPython is not null) html.Append($" data-requires-python=\"{Attr(f.RequiresPython)}\"");
            if (f.Yanked) html.Append($" data-yanked=\"{Attr(f.YankedReason ?? "")}\"");
            html.Append($">{WebUtility.HtmlEncode(f.File.Path)}</a><br/>\n");
        }
        html.Append("  </body>\n</html>\n");
        await WriteHtmlAsync(ctx, html.ToString());
    }

    public async Task DownloadAsync(HttpContext ctx, string registry, string project, string version, string filename)
    {
        var reg = await access.RequireAsync(ctx, registry, TokenScope.Read, PackageTypes.Python);
        PyPINames.ValidateProject(project);
        PyPINames.ValidateVersion(version);
        var pkg = await Store.GetPackageAsync(reg.Id, PyPINames.Normalize(project), ctx.RequestAborted);
        var ver = pkg is null ? null : await Store.GetVersionAsync(pkg.Id, version, ctx.RequestAborted);
        var file = ver is null ? null : await Store.GetFileAsync(ver.Id, filename, ctx.RequestAborted);
        if (file is null) throw ArcaException.NotFound($"{PyPINames.Printable(filename)} not found in registry '{reg.Name}'", "FILE_NOT_FOUND");
        var stream = await artifacts.OpenFileAsync(file, ctx.RequestAborted);
        ctx.Response.Headers["X-Checksum-Sha256"] = file.Sha256;
        await Results.File(stream, file.ContentType ?? "application/octet-stream", lastModified: file.CreatedAt,
            entityTag: new EntityTagHeaderValue($"\"{file.Sha256}\""), enableRangeProcessing: true).ExecuteAsync(ctx);
    }

    private sealed record Distribution(string Version, PackageFile File, string Url, string? RequiresPython, bool Yanked, string? YankedReason);

    private async Task<List<Distribution>> ListDistributionsAsync(HttpContext ctx, Registry reg, Package pkg)
    {
        var baseUrl = ApiSupport.BaseUrl(ctx);
        var result = new List<Distribution>();
        for (var page = 1; ; page++)
        {
            var batch = await Store.ListVersionsAsync(pkg.Id, new PageRequest(page, PageRequest.MaxPageSize), ctx.RequestAborted);
            foreach (var v in batch.Items)
            {
                var props = PyPIUpload.ParseObject(v.Properties);
                var yanked = props["yanked"] is JsonValue y && y.TryGetValue<bool>(out var b) && b;
                var reason = props["yanked_reason"] is JsonValue r && r.TryGetValue<string>(out var s) ? s : null;
                var fileProps = props["files"] as JsonObject;
                foreach (var f in await Store.ListFilesAsync(v.Id, ctx.RequestAborted))
                {
                    var requires = fileProps?[f.Path]?["requires_python"] is JsonValue rp && rp.TryGetValue<string>(out var rps) ? rps : null;
                    var url = $"{baseUrl}/pkg/{reg.Name}/python/files/{Uri.EscapeDataString(pkg.Name)}/{Uri.EscapeDataString(v.Version)}/{Uri.EscapeDataString(f.Path)}";
                    result.Add(new Distribution(v.Version, f, url, requires, yanked, reason));
                }
            }
            if (batch.Items.Count < PageRequest.MaxPageSize) break;
        }
        result.Sort((a, b) => string.CompareOrdinal(a.File.Path, b.File.Path));
        return result;
    }

    /// <summary>Picks the response format from Accept (q-values honoured), as PEP 691 describes; HTML by default.</summary>
    internal static string Negotiate(HttpContext ctx)
    {
        var format = ctx.Request.Query["format"].ToString();
        if (format is JsonMediaType or "application/vnd.pypi.simple.latest+json") return JsonMediaType;
        if (format is HtmlMediaType or "application/vnd.pypi.simple.latest+html" or "text/html") return HtmlMediaType;
        if (!MediaTypeHeaderValue.TryParseList(ctx.Request.Headers.Accept, out var accepted) || accepted.Count == 0) return "text/html";
        string? best = null;
        double bestQ = 0;
        foreach (var a in accepted)
        {
            var type = a.MediaType.Value?.ToLowerInvariant();
            string? candidate = type switch
            {
                JsonMediaType or "application/vnd.pypi.simple.latest+json" => JsonMediaType,
                HtmlMediaType or "application/vnd.pypi.simple.latest+html" => HtmlMediaType,
                "text/html" or "*/*" or "text/*" => "text/html",
                _ => null,
            };
            var q = a.Quality ?? 1.0;
            if (candidate is not null && q > bestQ) (best, bestQ) = (candidate, q);
        }
        return best ?? throw new ArcaException(406, "NOT_ACCEPTABLE", $"none of the accepted types is served here; use {JsonMediaType}, {HtmlMediaType} or text/html");
    }

    private static JsonObject Meta() => new() { ["api-version"] = ApiVersion };

    private static string HtmlHead(string title) =>
        $"<!DOCTYPE html>\n<html>\n  <head>\n    <meta name=\"pypi:repository-version\" content=\"{ApiVersion}\">\n    <title>{WebUtility.HtmlEncode(title)}</title>\n  </head>\n  <body>\n";

    private static string Attr(string value) => WebUtility.HtmlEncode(value);

    private static void Redirect(HttpContext ctx, string path)
    {
        ctx.Response.StatusCode = StatusCodes.Status301MovedPermanently;
        ctx.Response.Headers.Location = ctx.Request.PathBase + path + ctx.Request.QueryString;
    }

    private static async Task WriteJsonAsync(HttpContext ctx, JsonObject doc)
    {
        ctx.Response.ContentType = JsonMediaType;
        ctx.Response.Headers.Vary = "Accept";
        if (HttpMethods.IsHead(ctx.Request.Method)) return;
        await using var writer = new Utf8JsonWriter(ctx.Response.Body);
        doc.WriteTo(writer);
    }

    private static async Task WriteHtmlAsync(HttpContext ctx, string html)
    {
        var chosen = Negotiate(ctx);
        ctx.Response.ContentType = (chosen == HtmlMediaType ? HtmlMediaType : "text/html") + "; charset=utf-8";
        ctx.Response.Headers.Vary = "Accept";
        if (HttpMethods.IsHead(ctx.Request.Method)) return;
        await ctx.Response.WriteAsync(html);
    }
}
