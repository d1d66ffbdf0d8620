using System.Text;
using Arca.Core.Model;
using Microsoft.AspNetCore.Http.Features;

namespace Arca.Server.Formats.PyPI;

/// <summary>
/// Python packages at <c>/pkg/&lt;registry&gt;/python/</c>: the upload API twine uses (POST multipart), the PEP 503
/// simple index and its PEP 691 JSON form under <c>simple/</c>, file downloads under <c>files/</c>, and yanking (PEP 592).
/// </summary>
public sealed class PyPIModule : IFormatModule
{
    public string Name => "python";
    public IReadOnlyList<string> PackageTypes => [Core.Model.PackageTypes.Python];

    public void AddServices(IServiceCollection services)
    {
        services.AddSingleton<PyPIUpload>();
        services.AddSingleton<PyPISimpleIndex>();
    }

    public void MapEndpoints(IEndpointRouteBuilder app)
    {
        const string root = "/pkg/{registry}/python";
        app.MapPost(root, (HttpContext ctx, string registry, PyPIUpload upload) => upload.HandleAsync(ctx, registry)).ExcludeFromDescription();
        app.MapPost(root + "/legacy", (HttpContext ctx, string registry, PyPIUpload upload) => upload.HandleAsync(ctx, registry)).ExcludeFromDescription();
        app.MapMethods(root + "/simple", [HttpMethods.Get, HttpMethods.Head],
            (HttpContext ctx, string registry, PyPISimpleIndex index) => index.RootAsync(ctx, registry)).ExcludeFromDescription();
        app.MapMethods(root + "/simple/{project}", [HttpMethods.Get, HttpMethods.Head],
            (HttpContext ctx, string registry, string project, PyPISimpleIndex index) => index.ProjectAsync(ctx, registry, project)).ExcludeFromDescription();
        app.MapMethods(root + "/files/{project}/{version}/{filename}", [HttpMethods.Get, HttpMethods.Head],
            (HttpContext ctx, string registry, string project, string version, string filename, PyPISimpleIndex index) =>
                index.DownloadAsync(ctx, registry, project, version, filename)).ExcludeFromDescription();
        app.MapMethods(root + "/yank/{project}/{version}", [HttpMethods.Put, HttpMethods.Delete],
            (HttpContext ctx, string registry, string project, string version, PyPIUpload upload) =>
                upload.YankAsync(ctx, registry, project, version, HttpMethods.IsPut(ctx.Request.Method))).ExcludeFromDescription();
    }

    public string? ClientUrl(Registry registry, string baseUrl) => $"{baseUrl}/pkg/{registry.Name}/python/simple/";

    public bool OwnsPath(PathString path)
    {
        var segments = (path.Value ?? "").Split('/', 5, StringSplitOptions.None);
        return segments.Length >= 4 && segments[1] == "pkg" && segments[3] == "python";
    }

    /// <summary>Plain-text errors, with the message also as the HTTP reason phrase: twine prints the reason
    /// ("409 File already exists ..."), as it does for PyPI's own answers.</summary>
    public async Task WriteErrorAsync(HttpContext ctx, ArcaException error)
    {
        if (ctx.Response.HasStarted) { ctx.Abort(); return; }
        ctx.Response.Clear();
        ctx.Response.StatusCode = error.Status;
        if (error.Status == 401) ctx.Response.Headers.WWWAuthenticate = "Basic realm=\"arca\"";
        var reason = new StringBuilder();
        foreach (var c in error.Message.Take(300)) reason.Append(c is >= ' ' and < (char)127 ? c : ' ');
        if (ctx.Features.Get<IHttpResponseFeature>() is { } feature) feature.ReasonPhrase = reason.ToString();
        ctx.Response.ContentType = "text/plain; charset=utf-8";
        if (HttpMethods.IsHead(ctx.Request.Method)) return;
        await ctx.Response.WriteAsync(error.Message + "\n");
    }
}
