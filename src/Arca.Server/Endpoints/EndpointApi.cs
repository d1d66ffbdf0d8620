using Arca.Core.Auth;
using Arca.Core.Storage;
using Arca.Server.Auth;
using static Arca.Server.Api.ApiSupport;

namespace Arca.Server.Endpoints;

/// <summary>
/// /api/v1/endpoints: server-wide read scope lists and shows endpoints; admin creates, changes, deletes them and
/// tests unsaved definitions (the server would otherwise fetch arbitrary URLs for anyone); write tests a saved one.
/// </summary>
public static class EndpointApi
{
    /// <summary>Registers the endpoint services; the metadata store also stores endpoints.</summary>
    public static void AddServices(IServiceCollection services)
    {
        services.AddSingleton(sp => sp.GetRequiredService<IMetadataStore>() as IEndpointStore
            ?? throw new InvalidOperationException("the configured metadata store cannot store endpoints"));
        services.AddSingleton<CredentialProtector>();
        services.AddSingleton<ConnectionTester>();
        services.AddSingleton<EndpointService>();
    }

    public static void Map(RouteGroupBuilder api)
    {
        var g = api.MapGroup("/endpoints").WithTags("Endpoints");

        g.MapGet("", async (HttpContext ctx, EndpointService endpoints) =>
        {
            AccessControl.Require(ctx.Principal(), null, TokenScope.Read);
            var items = await endpoints.ListAsync(ctx.RequestAborted);
            return Results.Ok(new { items = items.Select(e => EndpointDto.From(e)).ToList() });
        }).WithName("ListEndpoints");

        g.MapPost("", async (HttpContext ctx, EndpointService endpoints, bool? ping) =>
        {
            AccessControl.Require(ctx.Principal(), null, TokenScope.Admin);
            var req = await ReadJsonAsync<CreateEndpointRequest>(ctx.Request);
            var (created, result) = await endpoints.CreateAsync(req, ping ?? true, ctx.RequestAborted);
            return Results.Created($"/api/v1/endpoints/{created.Name}", EndpointDto.From(created, result));
        }).WithName("CreateEndpoint");

        // Test Connection before saving. A literal segment, so it never collides with POST /{name}/ping.
        g.MapPost("/ping", async (HttpContext ctx, EndpointService endpoints) =>
        {
            AccessControl.Require(ctx.Principal(), null, TokenScope.Admin);
            var req = await ReadJsonAsync<CreateEndpointRequest>(ctx.Request);
            return Results.Ok(await endpoints.PingUnsavedAsync(req, ctx.RequestAborted));
        }).WithName("PingUnsavedEndpoint");

        g.MapGet("/{name}", async (HttpContext ctx, string name, EndpointService endpoints) =>
        {
            AccessControl.Require(ctx.Principal(), null, TokenScope.Read);
            return Results.Ok(EndpointDto.From(await endpoints.RequireAsync(name, ctx.RequestAborted)));
        }).WithName("GetEndpoint");

        g.MapPatch("/{name}", async (HttpContext ctx, string name, EndpointService endpoints) =>
        {
            AccessControl.Require(ctx.Principal(), null, TokenScope.Admin);
            var req = await ReadJsonAsync<UpdateEndpointRequest>(ctx.Request);
            return Results.Ok(EndpointDto.From(await endpoints.UpdateAsync(name, req, ctx.RequestAborted)));
        }).WithName("UpdateEndpoint");

        g.MapDelete("/{name}", async (HttpContext ctx, string name, EndpointService endpoints) =>
        {
            AccessControl.Require(ctx.Principal(), null, TokenScope.Admin);
            await endpoints.DeleteAsync(name, ctx.RequestAborted);
            return Results.NoContent();
        }).WithName("DeleteEndpoint");

        g.MapPost("/{name}/ping", async (HttpContext ctx, string name, EndpointService endpoints) =>
        {
            AccessControl.Require(ctx.Principal(), null, TokenScope.Write);
            return Results.Ok(await endpoints.PingAsync(name, ctx.RequestAborted));
        }).WithName("PingEndpoint");
    }
}
