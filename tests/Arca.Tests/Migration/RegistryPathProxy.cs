using Microsoft.AspNetCore.Http;

namespace Arca.Tests.Migration;

/// <summary>
/// Forwards a read-only registry request that an emulated product serves under its own path (Nexus
/// <c>/repository/R/v2/...</c>, Artifactory <c>/artifactory/api/docker/R/v2/...</c>) to a real docker-registry at
/// <c>/v2/...</c>. Like those products, the <c>Link</c> header comes back as the backing registry wrote it
/// (<c>/v2/...</c>, without the product's prefix). Catalog and tags pages are forced to <paramref name="pageSize"/>
/// entries so the client has to follow those links.
/// </summary>
internal static class RegistryPathProxy
{
    public static async Task ForwardAsync(HttpContext ctx, HttpClient backing, string v2PathAndQuery, int pageSize)
    {
        if (ctx.Request.Method is not ("GET" or "HEAD")) { ctx.Response.StatusCode = 405; return; }
        var target = v2PathAndQuery.TrimStart('/');
        if (target.Split('?')[0] is var p && (p.EndsWith("/_catalog", StringComparison.Ordinal) || p.EndsWith("/tags/list", StringComparison.Ordinal)))
            target = System.Text.RegularExpressions.Regex.Replace(target, @"([?&])n=\d+", $"$1n={pageSize}");
        using var request = new HttpRequestMessage(new HttpMethod(ctx.Request.Method), target);
        foreach (var accept in ctx.Request.Headers.Accept) request.Headers.TryAddWithoutValidation("Accept", accept);
        using var response = await backing.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, ctx.RequestAborted);
        ctx.Response.StatusCode = (int)response.StatusCode;
        foreach (var (name, values) in response.Headers.Concat(response.Content.Headers))
            if (name is not ("Transfer-Encoding" or "Connection" or "Date" or "Server"))
                ctx.Response.Headers[name] = values.ToArray();
        if (ctx.Request.Method == "GET") await response.Content.CopyToAsync(ctx.Response.Body, ctx.RequestAborted);
    }
}
