using Arca.Core.Auth;
using Arca.Core.Model;
using Arca.Core.Replication;
using Arca.Core.Storage;
using Arca.Server.Auth;
using Arca.Server.Endpoints;
using static Arca.Server.Api.ApiSupport;

namespace Arca.Server.Replication;

/// <summary>
/// /api/v1/replication: rules (read lists and shows; admin creates, changes, deletes and runs) and executions (read
/// lists and inspects; admin stops).
/// </summary>
public static class ReplicationApi
{
    private const int MaxExecutionsListed = 1000;

    public static void AddServices(IServiceCollection services)
    {
        services.AddSingleton(sp => sp.GetRequiredService<IMetadataStore>() as IReplicationStore
            ?? throw new InvalidOperationException("the configured metadata store cannot store replication rules"));
        services.AddSingleton<ReplicationCredentials>();
        services.AddSingleton<IBearerTokenReader>(sp => sp.GetRequiredService<ReplicationCredentials>());
        services.AddSingleton<ReplicationRuleService>();
        services.AddSingleton<IEndpointReferenceChecker, ReplicationEndpointReferences>();
        services.AddSingleton<ReplicationRunner>();
        services.AddHostedService<ReplicationScheduler>();
    }

    public static void Map(RouteGroupBuilder api)
    {
        var rules = api.MapGroup("/replication/rules").WithTags("Replication");

        rules.MapGet("", async (HttpContext ctx, ReplicationRuleService service) =>
        {
            AccessControl.Require(ctx.Principal(), null, TokenScope.Read);
            return Results.Ok(new { items = (await service.ListAsync(ctx.RequestAborted)).Select(ReplicationRuleDto.From).ToList() });
        }).WithName("ListReplicationRules");

        rules.MapPost("", async (HttpContext ctx, ReplicationRuleService service) =>
        {
            AccessControl.Require(ctx.Principal(), null, TokenScope.Admin);
            var created = await service.CreateAsync(await ReadJsonAsync<CreateReplicationRuleRequest>(ctx.Request), ctx.RequestAborted);
            return Results.Created($"/api/v1/replication/rules/{created.Name}", ReplicationRuleDto.From(created));
        }).WithName("CreateReplicationRule");

        rules.MapGet("/{name}", async (HttpContext ctx, string name, ReplicationRuleService service) =>
        {
            AccessControl.Require(ctx.Principal(), null, TokenScope.Read);
            return Results.Ok(ReplicationRuleDto.From(await service.RequireAsync(name, ctx.RequestAborted)));
        }).WithName("GetReplicationRule");

        rules.MapPatch("/{name}", async (HttpContext ctx, string name, ReplicationRuleService service) =>
        {
            AccessControl.Require(ctx.Principal(), null, TokenScope.Admin);
            var req = await ReadJsonAsync<UpdateReplicationRuleRequest>(ctx.Request);
            return Results.Ok(ReplicationRuleDto.From(await service.UpdateAsync(name, req, ctx.RequestAborted)));
        }).WithName("UpdateReplicationRule");

        rules.MapDelete("/{name}", async (HttpContext ctx, string name, ReplicationRuleService service) =>
        {
            AccessControl.Require(ctx.Principal(), null, TokenScope.Admin);
            await service.DeleteAsync(name, ctx.RequestAborted);
            return Results.NoContent();
        }).WithName("DeleteReplicationRule");

        rules.MapPost("/{name}/run", async (HttpContext ctx, string name, ReplicationRuleService service, ReplicationRunner runner) =>
        {
            AccessControl.Require(ctx.Principal(), null, TokenScope.Admin);
            var rule = await service.RequireAsync(name, ctx.RequestAborted);
            var execution = await runner.StartAsync(rule, "manual", ctx.RequestAborted);
            return Results.Accepted($"/api/v1/replication/executions/{execution.Id}", ReplicationExecutionDto.From(execution));
        }).WithName("RunReplicationRule");

        var executions = api.MapGroup("/replication/executions").WithTags("Replication");

        executions.MapGet("", async (HttpContext ctx, IReplicationStore store, string? rule, int? limit) =>
        {
            AccessControl.Require(ctx.Principal(), null, TokenScope.Read);
            var n = limit ?? 100;
            if (n is < 1 or > MaxExecutionsListed)
                throw ArcaException.BadRequest($"limit must be between 1 and {MaxExecutionsListed}", "INVALID_PAGE");
            var items = await store.ListExecutionsAsync(string.IsNullOrEmpty(rule) ? null : rule, n, ctx.RequestAborted);
            return Results.Ok(new { items = items.Select(e => ReplicationExecutionDto.From(e)).ToList() });
        }).WithName("ListReplicationExecutions");

        executions.MapGet("/{id}", async (HttpContext ctx, string id, IReplicationStore store, bool? tasks) =>
        {
            AccessControl.Require(ctx.Principal(), null, TokenScope.Read);
            var execution = await RequireExecutionAsync(store, id, ctx.RequestAborted);
            var list = tasks == true ? await store.ListTasksAsync(execution.Id, ctx.RequestAborted) : null;
            return Results.Ok(ReplicationExecutionDto.From(execution, list));
        }).WithName("GetReplicationExecution");

        executions.MapPost("/{id}/stop", async (HttpContext ctx, string id, IReplicationStore store, ReplicationRunner runner) =>
        {
            AccessControl.Require(ctx.Principal(), null, TokenScope.Admin);
            var execution = await RequireExecutionAsync(store, id, ctx.RequestAborted);
            if (execution.Status != ReplicationStatus.Running || !runner.Stop(execution.Id))
                throw ArcaException.Conflict($"execution {execution.Id} is not running (status {execution.Status})", "EXECUTION_NOT_RUNNING");
            return Results.Accepted($"/api/v1/replication/executions/{execution.Id}", ReplicationExecutionDto.From(execution));
        }).WithName("StopReplicationExecution");
    }

    private static async Task<ReplicationExecution> RequireExecutionAsync(IReplicationStore store, string id, CancellationToken ct) =>
        (long.TryParse(id, out var n) && n > 0 ? await store.GetExecutionAsync(n, ct) : null)
        ?? throw ArcaException.NotFound($"replication execution '{id}' not found", "EXECUTION_NOT_FOUND");
}
