using Arca.Core.Auth;
using Arca.Core.Model;
using Arca.Core.Storage;
using Arca.Core.Validation;
using Arca.Server.Auth;
using Arca.Server.Services;
using static Arca.Server.Api.ApiSupport;

namespace Arca.Server.Api;

public static class RegistryEndpoints
{
    public static void Map(RouteGroupBuilder api)
    {
        var g = api.MapGroup("/registries").WithTags("Registries");

        g.MapGet("", async (HttpContext ctx, IMetadataStore store, string? package_type, string? org, string? project, string? search) =>
        {
            var principal = ctx.Principal();
            var type = package_type is null ? null : PackageTypes.Normalize(package_type)
                ?? throw ArcaException.BadRequest($"unknown package type '{package_type}'", "INVALID_PACKAGE_TYPE");
            var page = ReadPage(ctx.Request);
            if (principal.IsServerAdmin || principal.Token is { RegistryId: null })
            {
                var result = await store.ListRegistriesAsync(new RegistryQuery(type, org, project, search) { Page = page }, ctx.RequestAborted);
                return Results.Ok(new PageDto<RegistryDto>(result.Items.Select(r => ToDto(r, ctx)).ToList(), result.PageNumber, result.PageSize, result.Total));
            }
            // Registry-scoped and anonymous callers see only what they can read: filter, then page.
            var visible = new List<Registry>();
            for (var p = 1; ; p++)
            {
                var chunk = await store.ListRegistriesAsync(new RegistryQuery(type, org, project, search) { Page = new PageRequest(p, PageRequest.MaxPageSize) }, ctx.RequestAborted);
                visible.AddRange(chunk.Items.Where(r => AccessControl.CanRead(principal, r)));
                if (chunk.Items.Count < PageRequest.MaxPageSize) break;
            }
            var items = visible.Skip(page.Offset).Take(page.PageSize).Select(r => ToDto(r, ctx)).ToList();
            return Results.Ok(new PageDto<RegistryDto>(items, page.Page, page.PageSize, visible.Count));
        }).WithName("ListRegistries");

        g.MapPost("", async (HttpContext ctx, IMetadataStore store) =>
        {
            AccessControl.Require(ctx.Principal(), null, TokenScope.Admin);
            var req = await ReadJsonAsync<CreateRegistryRequest>(ctx.Request);
            Identifiers.ValidateRegistryName(req.Identifier);
            var type = PackageTypes.Normalize(req.PackageType)
                ?? throw ArcaException.BadRequest($"invalid package type '{req.PackageType}': use one of {string.Join(", ", PackageTypes.All)}", "INVALID_PACKAGE_TYPE");
            ValidateLabels(req.Labels);
            var modules = ctx.RequestServices.GetRequiredService<IEnumerable<Formats.IFormatModule>>();
            if (!modules.Any(m => m.PackageTypes.Contains(type)))
                throw ArcaException.BadRequest($"package type {type} is not supported by this server yet (supported: {string.Join(", ", PackageTypes.All.Where(t => modules.Any(m => m.PackageTypes.Contains(t))))})", "UNSUPPORTED_PACKAGE_TYPE");
            var created = await store.CreateRegistryAsync(new Registry
            {
                Name = req.Identifier!, PackageType = type, Description = req.Description, Public = req.Public ?? false,
                Org = req.Org, Project = req.Project, Labels = req.Labels ?? [], AllowOverwrite = req.AllowOverwrite ?? false,
            }, ctx.RequestAborted);
            return Results.Created($"/api/v1/registries/{created.Name}", ToDto(created, ctx));
        }).WithName("CreateRegistry");

        g.MapGet("/{registry}", async (HttpContext ctx, string registry, RegistryAccess access) =>
            Results.Ok(ToDto(await access.RequireAsync(ctx, registry, TokenScope.Read), ctx))).WithName("GetRegistry");

        g.MapPatch("/{registry}", async (HttpContext ctx, string registry, RegistryAccess access, IMetadataStore store) =>
        {
            var r = await access.RequireAsync(ctx, registry, TokenScope.Admin);
            var req = await ReadJsonAsync<UpdateRegistryRequest>(ctx.Request);
            ValidateLabels(req.Labels);
            var updated = await store.UpdateRegistryAsync(r with
            {
                Description = req.Description ?? r.Description, Public = req.Public ?? r.Public, Org = req.Org ?? r.Org,
                Project = req.Project ?? r.Project, Labels = req.Labels ?? r.Labels, AllowOverwrite = req.AllowOverwrite ?? r.AllowOverwrite,
            }, ctx.RequestAborted);
            return Results.Ok(ToDto(updated, ctx));
        }).WithName("UpdateRegistry");

        g.MapDelete("/{registry}", async (HttpContext ctx, string registry, RegistryAccess access, IMetadataStore store) =>
        {
            var r = await access.RequireAsync(ctx, registry, TokenScope.Admin);
            await store.DeleteRegistryAsync(r.Id, ctx.RequestAborted);
            return Results.NoContent();
        }).WithName("DeleteRegistry");
    }

    private static void ValidateLabels(IReadOnlyList<string>? labels)
    {
        foreach (var l in labels ?? [])
            if (string.IsNullOrWhiteSpace(l) || l.Length > 128 || l.Any(char.IsControl) || l.Contains(','))
                throw ArcaException.BadRequest($"invalid label '{l}': 1-128 printable characters, no commas", "INVALID_LABEL");
    }
}
