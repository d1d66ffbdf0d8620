using System.Diagnostics;

namespace Arca.Server.Hosting;

/// <summary>One structured log event per request: method, path, status, duration, bytes, principal.</summary>
public sealed class RequestLoggingMiddleware(RequestDelegate next, ILogger<RequestLoggingMiddleware> logger)
{
    public async Task InvokeAsync(HttpContext ctx)
    {
        var start = Stopwatch.GetTimestamp();
        try
        {
            await next(ctx);
        }
        finally
        {
            var elapsed = Stopwatch.GetElapsedTime(start).TotalMilliseconds;
            logger.LogInformation("{Method} {Path} {Status} {ElapsedMs:F1}ms req={RequestBytes} resp={ResponseBytes} user={User}",
                ctx.Request.Method, ctx.Request.Path.Value, ctx.Response.StatusCode, elapsed,
                ctx.Request.ContentLength, ctx.Response.ContentLength, Auth.AccessControl.Principal(ctx).Name);
        }
    }
}
