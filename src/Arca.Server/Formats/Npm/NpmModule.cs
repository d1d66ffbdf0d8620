using System.Text.Json;
using Arca.Core.Model;

namespace Arca.Server.Formats.Npm;

/// <summary>
/// The npm registry protocol at <c>/pkg/&lt;registry&gt;/npm/</c>: packuments (full and abbreviated), publish, tarballs,
/// dist-tags, deprecate, unpublish, search, login and whoami. One catch-all route, because npm sends scoped names both
/// as <c>@scope/name</c> and <c>@scope%2fname</c> and ASP.NET keeps <c>%2F</c> encoded in the path.
/// </summary>
public sealed class NpmModule : IFormatModule
{
    public string Name => "npm";
    public IReadOnlyList<string> PackageTypes => [Core.Model.PackageTypes.Npm];

    public void AddServices(IServiceCollection services) => services.AddSingleton<NpmHandler>();

    public void MapEndpoints(IEndpointRouteBuilder app)
    {
        app.MapMethods("/pkg/{registry}/npm/{**rest}", [HttpMethods.Get, HttpMethods.Head, HttpMethods.Put, HttpMethods.Post, HttpMethods.Delete],
                (HttpContext ctx, string registry, string? rest, NpmHandler handler) => handler.HandleAsync(ctx, registry, rest ?? ""))
            .ExcludeFromDescription();
    }

    public string? ClientUrl(Registry registry, string baseUrl) => $"{baseUrl}/pkg/{registry.Name}/npm/";

    public bool OwnsPath(PathString path) => IsNpmPath(path);

    internal static bool IsNpmPath(PathString path)
    {
        var segments = (path.Value ?? "").Split('/', 5, StringSplitOptions.None);
        return segments.Length >= 4 && segments[1] == "pkg" && segments[3] == "npm";
    }

    /// <summary>npm's error shape is <c>{"error": "..."}</c>; npm prints it after the status line.</summary>
    public async Task WriteErrorAsync(HttpContext ctx, ArcaException error)
    {
        if (ctx.Response.HasStarted) { ctx.Abort(); return; }
        ctx.Response.Clear();
        ctx.Response.StatusCode = error.Status;
        if (error.Status == 401)
            ctx.Response.Headers.WWWAuthenticate = "Basic realm=\"arca\"";
        ctx.Response.ContentType = "application/json; charset=utf-8";
        if (HttpMethods.IsHead(ctx.Request.Method)) return;
        await JsonSerializer.SerializeAsync(ctx.Response.Body, new Dictionary<string, string> { ["error"] = error.Message, ["code"] = error.Code });
    }
}
