using Arca.Core.Model;
using Microsoft.AspNetCore.Http.Features;

namespace Arca.Server.Hosting;

/// <summary>
/// Maps exceptions to client errors (never a bare 500 for bad input) and refuses request targets that try to
/// traverse paths before Kestrel's normalization could hide them (<c>..</c>, <c>%2e%2e</c>, backslashes, NUL).
/// </summary>
public sealed class ErrorHandlingMiddleware(RequestDelegate next, ILogger<ErrorHandlingMiddleware> logger)
{
    public async Task InvokeAsync(HttpContext ctx)
    {
        try
        {
            if (RawTargetProblem(ctx) is { } problem)
                throw ArcaException.BadRequest(problem, "INVALID_PATH");
            await next(ctx);
        }
        catch (ArcaException e)
        {
            await ErrorWriter.WriteAsync(ctx, e);
        }
        catch (BadHttpRequestException e)
        {
            await ErrorWriter.WriteAsync(ctx, new ArcaException(e.StatusCode, "BAD_REQUEST", e.Message));
        }
        catch (OperationCanceledException) when (ctx.RequestAborted.IsCancellationRequested)
        {
            // client went away; nothing to answer
        }
        catch (IOException e) when (ctx.RequestAborted.IsCancellationRequested || e.InnerException is BadHttpRequestException)
        {
            logger.LogInformation("Request {Path} aborted: {Message}", ctx.Request.Path, e.Message);
        }
        catch (Exception e)
        {
            logger.LogError(e, "Unhandled error on {Method} {Path}", ctx.Request.Method, ctx.Request.Path);
            await ErrorWriter.WriteAsync(ctx, new ArcaException(500, "INTERNAL", "internal server error"));
        }
    }

    internal static string? RawTargetProblem(HttpContext ctx)
    {
        var raw = ctx.Features.Get<IHttpRequestFeature>()?.RawTarget ?? ctx.Request.Path.Value ?? "";
        var q = raw.IndexOf('?');
        var path = q >= 0 ? raw[..q] : raw;
        var decoded = path.Replace("%2e", ".", StringComparison.OrdinalIgnoreCase);
        foreach (var segment in decoded.Split('/'))
            if (segment is "." or "..") return "path traversal ('.' or '..' segments) is not allowed";
        if (path.Contains('\\') || path.Contains("%5c", StringComparison.OrdinalIgnoreCase)) return "backslashes are not allowed in paths";
        if (path.Contains("%00", StringComparison.Ordinal)) return "NUL characters are not allowed in paths";
        if (path.Contains("%25", StringComparison.Ordinal) && path.Contains("%252e", StringComparison.OrdinalIgnoreCase))
            return "double-encoded path traversal is not allowed";
        return null;
    }
}
