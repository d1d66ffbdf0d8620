using Arca.Core.Auth;
using Arca.Core.Model;
using Arca.Core.Storage;
using Arca.Core.Validation;
using Arca.Server.Auth;
using Arca.Server.Services;
using static Arca.Server.Api.ApiSupport;

namespace Arca.Server.Api;

/// <summary>Packages, versions, files, metadata and copy. Package names may contain '/' (OCI, npm scopes), so
/// package and version travel as query parameters rather than path segments.</summary>
public static class ArtifactEndpoints
{
    public static void Map(RouteGroupBuilder api)
    {
        api.MapGet("/packages", async (HttpContext ctx, IMetadataStore store, RegistryAccess access, string? registry, string? search) =>
        {
            var page = ReadPage(ctx.Request);
            var principal = ctx.Principal();
            if (registry is null && principal.Token is { RegistryId: null })
            {
                var all = await store.ListPackagesAsync(null, search, page, ctx.RequestAborted);
                var regs = new Dictionary<long, Registry>();
                var items = new List<PackageDto>();
                foreach (var p in all.Items)
                {
                    if (!regs.TryGetValue(p.RegistryId, out var r)) regs[p.RegistryId] = r = (await store.GetRegistryByIdAsync(p.RegistryId, ctx.RequestAborted))!;
                    items.Add(ToDto(p, r));
                }
                return Results.Ok(new PageDto<PackageDto>(items, all.PageNumber, all.PageSize, all.Total));
            }
            registry ??= principal.Token?.RegistryName ?? throw ArcaException.Unauthorized();
            var reg = await access.RequireAsync(ctx, registry, TokenScope.Read);
            var result = await store.ListPackagesAsync(reg.Id, search, page, ctx.RequestAborted);
            return Results.Ok(new PageDto<PackageDto>(result.Items.Select(p => ToDto(p, reg)).ToList(), result.PageNumber, result.PageSize, result.Total));
        }).WithTags("Artifacts").WithName("ListAllPackages");

        var g = api.MapGroup("/registries/{registry}").WithTags("Artifacts");

        g.MapGet("/packages", async (HttpContext ctx, string registry, string? search, IMetadataStore store, RegistryAccess access) =>
        {
            var reg = await access.RequireAsync(ctx, registry, TokenScope.Read);
            var result = await store.ListPackagesAsync(reg.Id, search, ReadPage(ctx.Request), ctx.RequestAborted);
            return Results.Ok(new PageDto<PackageDto>(result.Items.Select(p => ToDto(p, reg)).ToList(), result.PageNumber, result.PageSize, result.Total));
        }).WithName("ListPackages");

        g.MapGet("/package", async (HttpContext ctx, string registry, string? name, IMetadataStore store, RegistryAccess access) =>
        {
            var (reg, pkg) = await FindPackageAsync(ctx, store, access, registry, name, TokenScope.Read);
            var meta = await store.GetMetadataAsync(new MetadataOwner(MetadataLevel.Package, pkg.Id), ctx.RequestAborted);
            return Results.Ok(new { package = ToDto(pkg, reg), metadata = meta });
        }).WithName("GetPackage");

        g.MapDelete("/package", async (HttpContext ctx, string registry, string? name, IMetadataStore store, RegistryAccess access, ArtifactLifecycles lifecycles) =>
        {
            var (reg, pkg) = await FindPackageAsync(ctx, store, access, registry, name, TokenScope.Delete);
            await lifecycles.For(reg.PackageType).DeletePackageAsync(reg, pkg, ctx.RequestAborted);
            return Results.NoContent();
        }).WithName("DeletePackage");

        g.MapGet("/versions", async (HttpContext ctx, string registry, string? package, IMetadataStore store, RegistryAccess access) =>
        {
            var (reg, pkg) = await FindPackageAsync(ctx, store, access, registry, package, TokenScope.Read);
            var result = await store.ListVersionsAsync(pkg.Id, ReadPage(ctx.Request), ctx.RequestAborted);
            return Results.Ok(new PageDto<VersionDto>(result.Items.Select(v => ToDto(v, reg, pkg)).ToList(), result.PageNumber, result.PageSize, result.Total));
        }).WithName("ListVersions");

        g.MapGet("/version", async (HttpContext ctx, string registry, string? package, string? version, IMetadataStore store, RegistryAccess access) =>
        {
            var (reg, pkg, ver) = await FindVersionAsync(ctx, store, access, registry, package, version, TokenScope.Read);
            var files = await store.ListFilesAsync(ver.Id, ctx.RequestAborted);
            var meta = await store.GetMetadataAsync(new MetadataOwner(MetadataLevel.Version, ver.Id), ctx.RequestAborted);
            return Results.Ok(new { version = ToDto(ver, reg, pkg), files = files.Select(f => ToFileDto(f, reg, pkg, ver, ctx)), metadata = meta });
        }).WithName("GetVersion");

        g.MapDelete("/version", async (HttpContext ctx, string registry, string? package, string? version, IMetadataStore store, RegistryAccess access, ArtifactLifecycles lifecycles) =>
        {
            var (reg, pkg, ver) = await FindVersionAsync(ctx, store, access, registry, package, version, TokenScope.Delete);
            await lifecycles.For(reg.PackageType).DeleteVersionAsync(reg, pkg, ver, ctx.RequestAborted);
            return Results.NoContent();
        }).WithName("DeleteVersion");

        g.MapGet("/files", async (HttpContext ctx, string registry, string? package, string? version, IMetadataStore store, RegistryAccess access) =>
        {
            var (reg, pkg, ver) = await FindVersionAsync(ctx, store, access, registry, package, version, TokenScope.Read);
            var files = await store.ListFilesAsync(ver.Id, ctx.RequestAborted);
            var page = ReadPage(ctx.Request, 1000);
            var items = files.Skip(page.Offset).Take(page.PageSize).Select(f => ToFileDto(f, reg, pkg, ver, ctx)).ToList();
            return Results.Ok(new PageDto<FileDto>(items, page.Page, page.PageSize, files.Count));
        }).WithName("ListFiles");

        g.MapGet("/metadata", async (HttpContext ctx, string registry, string? package, string? version, IMetadataStore store, RegistryAccess access) =>
        {
            var (owner, dto) = await ResolveOwnerAsync(ctx, store, access, registry, package, version, TokenScope.Read);
            return Results.Ok(dto with { Metadata = await store.GetMetadataAsync(owner, ctx.RequestAborted) });
        }).WithName("GetMetadata");

        g.MapPut("/metadata", async (HttpContext ctx, string registry, string? package, string? version, IMetadataStore store, RegistryAccess access) =>
        {
            var (owner, dto) = await ResolveOwnerAsync(ctx, store, access, registry, package, version, TokenScope.Write);
            var req = await ReadJsonAsync<SetMetadataRequest>(ctx.Request);
            var values = new Dictionary<string, string>(Identifiers.ParseMetadata(req.Text));
            foreach (var (k, v) in req.Metadata ?? new Dictionary<string, string>())
            {
                Identifiers.ValidateMetadataKey(k);
                if (v is null || v.Length > 4096) throw ArcaException.BadRequest($"metadata value for '{k}' must be a string of at most 4096 characters", "INVALID_METADATA");
                values[k] = v;
            }
            if (values.Count == 0) throw ArcaException.BadRequest("no metadata given: send {\"metadata\":{\"key\":\"value\"}}", "INVALID_METADATA");
            await store.SetMetadataAsync(owner, values, ctx.RequestAborted);
            return Results.Ok(dto with { Metadata = await store.GetMetadataAsync(owner, ctx.RequestAborted) });
        }).WithName("SetMetadata");

        g.MapDelete("/metadata", async (HttpContext ctx, string registry, string? package, string? version, string? keys, IMetadataStore store, RegistryAccess access) =>
        {
            var (owner, dto) = await ResolveOwnerAsync(ctx, store, access, registry, package, version, TokenScope.Write);
            var list = keys?.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
                .Select(k => k.Split(':')[0]).ToList();
            await store.DeleteMetadataAsync(owner, list, ctx.RequestAborted);
            return Results.Ok(dto with { Metadata = await store.GetMetadataAsync(owner, ctx.RequestAborted) });
        }).WithName("DeleteMetadata");

        g.MapPost("/copy", async (HttpContext ctx, string registry, IMetadataStore store, RegistryAccess access, ArtifactLifecycles lifecycles) =>
        {
            var req = await ReadJsonAsync<CopyRequest>(ctx.Request);
            var (src, pkg, ver) = await FindVersionAsync(ctx, store, access, registry, req.Package, req.Version, TokenScope.Read);
            if (string.IsNullOrEmpty(req.Destination)) throw ArcaException.BadRequest("destination registry is required", "INVALID_BODY");
            var dest = await access.RequireAsync(ctx, req.Destination, TokenScope.Write);
            if (dest.PackageType != src.PackageType)
                throw ArcaException.BadRequest($"cannot copy {src.PackageType} artifacts into {dest.PackageType} registry '{dest.Name}'", "WRONG_PACKAGE_TYPE");
            if (dest.Id == src.Id) throw ArcaException.BadRequest("source and destination registry are the same", "INVALID_BODY");
            var overwrite = req.Overwrite == true;
            if (overwrite) AccessControl.Require(ctx.Principal(), dest, TokenScope.Delete);
            var outcome = await lifecycles.For(src.PackageType).CopyVersionAsync(src, pkg, ver, dest, overwrite, ctx.RequestAborted);
            if (outcome == PublishOutcome.Conflict)
                throw ArcaException.Conflict($"{pkg.Name}/{ver.Version} already exists in '{dest.Name}' (use overwrite)", "ALREADY_EXISTS");
            var destPkg = await store.GetPackageAsync(dest.Id, pkg.Name, ctx.RequestAborted);
            var destVer = destPkg is null ? null : await store.GetVersionAsync(destPkg.Id, ver.Version, ctx.RequestAborted);
            return Results.Ok(new { outcome = outcome.ToString().ToLowerInvariant(), version = destVer is null ? null : ToDto(destVer, dest, destPkg!) });
        }).WithName("CopyVersion");
    }

    private static FileDto ToFileDto(PackageFile f, Registry r, Package p, PackageVersion v, HttpContext ctx) =>
        new(f.Path, f.Size, f.Sha256, f.Sha1, f.Md5, f.ContentType, f.CreatedAt,
            r.PackageType == PackageTypes.Generic ? $"{BaseUrl(ctx)}/pkg/{r.Name}/generic/{p.Name}/{v.Version}/{f.Path}" : null);

    internal static async Task<(Registry, Package)> FindPackageAsync(HttpContext ctx, IMetadataStore store, RegistryAccess access, string registry, string? name, TokenScope scope)
    {
        var reg = await access.RequireAsync(ctx, registry, scope);
        if (string.IsNullOrEmpty(name)) throw ArcaException.BadRequest("package name is required (?package= or ?name=)", "INVALID_PACKAGE");
        var pkg = await store.GetPackageAsync(reg.Id, name, ctx.RequestAborted)
            ?? throw ArcaException.NotFound($"package '{name}' not found in registry '{registry}'", "PACKAGE_NOT_FOUND");
        return (reg, pkg);
    }

    internal static async Task<(Registry, Package, PackageVersion)> FindVersionAsync(HttpContext ctx, IMetadataStore store, RegistryAccess access, string registry, string? package, string? version, TokenScope scope)
    {
        var (reg, pkg) = await FindPackageAsync(ctx, store, access, registry, package, scope);
        if (string.IsNullOrEmpty(version)) throw ArcaException.BadRequest("version is required (?version=)", "INVALID_VERSION");
        var ver = await store.GetVersionAsync(pkg.Id, version, ctx.RequestAborted)
            ?? throw ArcaException.NotFound($"version '{version}' of '{package}' not found in registry '{registry}'", "VERSION_NOT_FOUND");
        return (reg, pkg, ver);
    }

    private static async Task<(MetadataOwner, MetadataDto)> ResolveOwnerAsync(HttpContext ctx, IMetadataStore store, RegistryAccess access, string registry, string? package, string? version, TokenScope scope)
    {
        var empty = new Dictionary<string, string>();
        if (string.IsNullOrEmpty(package))
        {
            if (!string.IsNullOrEmpty(version)) throw ArcaException.BadRequest("a version needs a package", "INVALID_PACKAGE");
            var reg = await access.RequireAsync(ctx, registry, scope == TokenScope.Write ? TokenScope.Admin : scope);
            return (new MetadataOwner(MetadataLevel.Registry, reg.Id), new MetadataDto("registry", reg.Name, null, null, empty));
        }
        if (string.IsNullOrEmpty(version))
        {
            var (reg, pkg) = await FindPackageAsync(ctx, store, access, registry, package, scope);
            return (new MetadataOwner(MetadataLevel.Package, pkg.Id), new MetadataDto("package", reg.Name, pkg.Name, null, empty));
        }
        var (r, p, v) = await FindVersionAsync(ctx, store, access, registry, package, version, scope);
        return (new MetadataOwner(MetadataLevel.Version, v.Id), new MetadataDto("version", r.Name, p.Name, v.Version, empty));
    }
}
