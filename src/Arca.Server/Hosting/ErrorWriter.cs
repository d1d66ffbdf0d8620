using System.Text.Json;
using Arca.Core.Model;
using Arca.Server.Formats;

namespace Arca.Server;

/// <summary>Writes client errors: in the owning format's protocol shape, else as Arca's JSON
/// <c>{"error":{"code","message"}}</c>.</summary>
public static class ErrorWriter
{
    public static Task WriteAsync(HttpContext ctx, ArcaException error)
    {
        var modules = ctx.RequestServices.GetService<IEnumerable<IFormatModule>>() ?? [];
        foreach (var m in modules)
            if (m.OwnsPath(ctx.Request.Path))
                return m.WriteErrorAsync(ctx, error);
        return WriteJsonAsync(ctx, error);
    }

    public static async Task WriteJsonAsync(HttpContext ctx, ArcaException error)
    {
        if (ctx.Response.HasStarted) { ctx.Abort(); return; }
        ctx.Response.Clear();
        ctx.Response.StatusCode = error.Status;
        if (error.Status == 401 && !ctx.Response.Headers.ContainsKey("WWW-Authenticate"))
            ctx.Response.Headers.WWWAuthenticate = ctx.Request.Path.StartsWithSegments("/api")
                ? "Bearer realm=\"arca\""
                : "Basic realm=\"arca\"";
        ctx.Response.ContentType = "application/json; charset=utf-8";
        if (HttpMethods.IsHead(ctx.Request.Method)) return;
        await JsonSerializer.SerializeAsync(ctx.Response.Body, new { error = new { code = error.Code, message = error.Message } });
    }
}
