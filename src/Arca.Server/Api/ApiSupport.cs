using System.Text.Json;
using Arca.Core.Model;
using Arca.Server.Formats;
using Arca.Server.Hosting;

namespace Arca.Server.Api;

internal static class ApiSupport
{
    public static PageRequest ReadPage(HttpRequest request, int defaultSize = 50)
    {
        var page = ReadInt(request, "page") ?? 1;
        var size = ReadInt(request, "page_size") ?? ReadInt(request, "pageSize") ?? defaultSize;
        if (page < 1) throw ArcaException.BadRequest("page must be 1 or more", "INVALID_PAGE");
        if (size < 1 || size > PageRequest.MaxPageSize) throw ArcaException.BadRequest($"page size must be between 1 and {PageRequest.MaxPageSize}", "INVALID_PAGE");
        return new PageRequest(page, size);
    }

    private static int? ReadInt(HttpRequest request, string name)
    {
        var v = request.Query[name].ToString();
        if (v.Length == 0) return null;
        return int.TryParse(v, out var n) ? n : throw ArcaException.BadRequest($"'{name}' must be a number", "INVALID_PAGE");
    }

    public static string BaseUrl(HttpContext ctx)
    {
        var configured = ctx.RequestServices.GetRequiredService<ServerOptions>().PublicUrl;
        if (!string.IsNullOrEmpty(configured)) return configured.TrimEnd('/');
        return $"{ctx.Request.Scheme}://{ctx.Request.Host}{ctx.Request.PathBase}";
    }

    public static object? ParseProperties(string? json)
    {
        if (string.IsNullOrEmpty(json)) return null;
        try { return JsonSerializer.Deserialize<JsonElement>(json); } catch (JsonException) { return null; }
    }

    public static RegistryDto ToDto(Registry r, HttpContext ctx)
    {
        var baseUrl = BaseUrl(ctx);
        var urls = new Dictionary<string, string>();
        foreach (var m in ctx.RequestServices.GetRequiredService<IEnumerable<IFormatModule>>())
            if (m.PackageTypes.Contains(r.PackageType) && m.ClientUrl(r, baseUrl) is { } u)
                urls[m.Name] = u;
        return new RegistryDto(r.Name, r.PackageType, r.Org, r.Project, r.Description, r.Public, r.AllowOverwrite, r.Labels,
            urls.Values.FirstOrDefault(), urls, r.CreatedAt, r.UpdatedAt);
    }

    public static PackageDto ToDto(Package p, Registry r) =>
        new(r.Name, p.Name, r.PackageType, p.VersionCount, p.TotalSize, p.CreatedAt, p.UpdatedAt, ParseProperties(p.Properties));

    public static VersionDto ToDto(PackageVersion v, Registry r, Package p) =>
        new(r.Name, p.Name, v.Version, v.FileCount, v.TotalSize, v.CreatedAt, v.UpdatedAt, ParseProperties(v.Properties));

    public static async Task<T> ReadJsonAsync<T>(HttpRequest request) where T : class
    {
        try
        {
            return await request.ReadFromJsonAsync<T>(request.HttpContext.RequestAborted)
                ?? throw ArcaException.BadRequest("request body is empty", "INVALID_BODY");
        }
        catch (JsonException e)
        {
            throw ArcaException.BadRequest($"request body is not valid JSON: {e.Message}", "INVALID_BODY");
        }
        catch (InvalidOperationException e) when (e.Message.Contains("content type", StringComparison.OrdinalIgnoreCase) || e.Message.Contains("Content-Type", StringComparison.Ordinal))
        {
            throw ArcaException.BadRequest("request body must be application/json", "INVALID_BODY");
        }
    }
}
