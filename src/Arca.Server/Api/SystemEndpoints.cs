using Arca.Core.Auth;
using Arca.Core.Model;
using Arca.Core.Storage;
using Arca.Server.Auth;
using Arca.Server.Hosting;
using Arca.Server.Services;

namespace Arca.Server.Api;

public static class SystemEndpoints
{
    public static string Version => typeof(SystemEndpoints).Assembly.GetName().Version?.ToString(3) ?? "0.0.0";

    public static void MapHealth(IEndpointRouteBuilder app)
    {
        app.MapGet("/healthz", async (IMetadataStore store, CancellationToken ct) =>
            await store.PingAsync(ct) ? Results.Ok(new { status = "ok" }) : Results.Json(new { status = "unavailable" }, statusCode: 503))
            .ExcludeFromDescription();
    }

    public static void Map(RouteGroupBuilder api)
    {
        api.MapGet("/whoami", (HttpContext ctx) =>
        {
            var p = ctx.Principal();
            return Results.Ok(new WhoAmIDto(p.Name, p.Token is null ? null : TokenSecrets.ScopeName(p.Token.Scope), p.Token?.RegistryName, p.IsAuthenticated, Version));
        }).WithTags("System").WithName("WhoAmI");

        api.MapPost("/gc", async (HttpContext ctx, GarbageCollector gc, ServerOptions options, bool? dryRun, bool? deleteUntagged, string? grace) =>
        {
            AccessControl.Require(ctx.Principal(), null, TokenScope.Admin);
            var graceSpan = grace is null ? options.GcGracePeriod : (grace == "0" ? TimeSpan.Zero : TokenEndpoints.ParseDuration(grace));
            var report = await gc.RunAsync(dryRun ?? false, deleteUntagged ?? false, graceSpan, ctx.RequestAborted);
            return Results.Ok(report);
        }).WithTags("System").WithName("RunGc");
    }
}
