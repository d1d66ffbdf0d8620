using Arca.Core.Auth;
using Arca.Core.Model;
using Arca.Core.Storage;
using Arca.Core.Validation;
using Arca.Server.Auth;
using Arca.Server.Hosting;
using Arca.Server.Services;
using Microsoft.Net.Http.Headers;

namespace Arca.Server.Formats.Generic;

/// <summary>Generic files: <c>PUT|GET|HEAD|DELETE /pkg/&lt;registry&gt;/generic/&lt;package&gt;/&lt;version&gt;/&lt;path&gt;</c>.</summary>
public sealed class GenericModule : IFormatModule
{
    public string Name => "generic";
    public IReadOnlyList<string> PackageTypes => [Core.Model.PackageTypes.Generic];

    public string? ClientUrl(Registry registry, string baseUrl) => $"{baseUrl}/pkg/{registry.Name}/generic";

    public void MapEndpoints(IEndpointRouteBuilder app)
    {
        const string route = "/pkg/{registry}/generic/{package}/{version}/{**path}";
        app.MapPut(route, PutAsync).ExcludeFromDescription();
        app.MapMethods(route, [HttpMethods.Get, HttpMethods.Head], GetAsync).ExcludeFromDescription();
        app.MapDelete(route, DeleteAsync).ExcludeFromDescription();
    }

    private static (string Package, string Version, string Path) Validate(string package, string version, string? path)
    {
        Identifiers.ValidateSegment(package, "package name");
        Identifiers.ValidateSegment(version, "version");
        PathValidator.Validate(path);
        return (package, version, path!);
    }

    private static async Task<IResult> PutAsync(HttpContext ctx, string registry, string package, string version, string? path,
        RegistryAccess access, ArtifactService artifacts, ServerOptions options)
    {
        var reg = await access.RequireAsync(ctx, registry, TokenScope.Write, Core.Model.PackageTypes.Generic);
        Validate(package, version, path);
        var overwriteRequested = string.Equals(ctx.Request.Query["overwrite"], "true", StringComparison.OrdinalIgnoreCase);
        var overwrite = reg.AllowOverwrite || overwriteRequested;
        var store = artifacts.Store;

        // Refuse a conflicting upload before reading its body, so a large re-upload is not streamed for nothing.
        var existingPkg = await store.GetPackageAsync(reg.Id, package, ctx.RequestAborted);
        var existingVer = existingPkg is null ? null : await store.GetVersionAsync(existingPkg.Id, version, ctx.RequestAborted);
        var existingFile = existingVer is null ? null : await store.GetFileAsync(existingVer.Id, path!, ctx.RequestAborted);
        if (existingFile is not null)
        {
            if (!overwrite) throw ArcaException.Conflict($"{package}/{version}/{path} already exists (use ?overwrite=true)", "ALREADY_EXISTS");
            if (!reg.AllowOverwrite) AccessControl.Require(ctx.Principal(), reg, TokenScope.Delete);
        }

        var h = ctx.Request.Headers;
        var blob = await artifacts.StoreBlobAsync(ctx.Request.Body, new BlobWriteOptions
        {
            ComputeLegacyChecksums = true,
            ExpectedSha256 = NullIfEmpty(h["X-Checksum-Sha256"]),
            ExpectedSha1 = NullIfEmpty(h["X-Checksum-Sha1"]),
            ExpectedMd5 = NullIfEmpty(h["X-Checksum-Md5"]),
            ExpectedSize = ctx.Request.ContentLength,
            MaxSize = options.MaxUploadBytes,
        }, ctx.RequestAborted);

        var contentType = ctx.Request.ContentType is { Length: > 0 } ct && !ct.StartsWith("application/x-www-form-urlencoded", StringComparison.Ordinal)
            ? ct : "application/octet-stream";
        var result = await store.PublishAsync(new PublishRequest
        {
            RegistryId = reg.Id, PackageName = package, Version = version, Overwrite = overwrite,
            Files = [new NewFile(path!, blob.Digest.ToString(), blob.Size, contentType, blob.Sha1, blob.Md5)],
        }, ctx.RequestAborted);
        if (result.Outcome == PublishOutcome.Conflict)
            throw ArcaException.Conflict($"{package}/{version}/{path} already exists (use ?overwrite=true)", "ALREADY_EXISTS");

        SetChecksumHeaders(ctx.Response, blob.Sha256Hex, blob.Sha1, blob.Md5);
        // Escaped: a raw non-ASCII file name in the Location header made Kestrel answer 500 after the file was stored.
        var location = $"/pkg/{reg.Name}/generic/{Uri.EscapeDataString(package)}/{Uri.EscapeDataString(version)}/" + string.Join('/', path!.Split('/').Select(Uri.EscapeDataString));
        var body = new { registry = reg.Name, package, version, path, size = blob.Size, sha256 = blob.Sha256Hex, sha1 = blob.Sha1, md5 = blob.Md5, deduplicated = blob.AlreadyExisted };
        return result.Outcome == PublishOutcome.Created || existingFile is null ? Results.Created(location, body) : Results.Ok(body);
    }

    private static async Task<IResult> GetAsync(HttpContext ctx, string registry, string package, string version, string? path,
        RegistryAccess access, ArtifactService artifacts)
    {
        var reg = await access.RequireAsync(ctx, registry, TokenScope.Read, Core.Model.PackageTypes.Generic);
        Validate(package, version, path);
        var file = await FindFileAsync(artifacts.Store, reg, package, version, path!, ctx.RequestAborted);
        var stream = await artifacts.OpenFileAsync(file, ctx.RequestAborted);
        var sha1 = file.Sha1;
        var md5 = file.Md5;
        SetChecksumHeaders(ctx.Response, file.Sha256, sha1, md5);
        return Results.File(stream, file.ContentType ?? "application/octet-stream", lastModified: file.CreatedAt,
            entityTag: new EntityTagHeaderValue($"\"{file.Sha256}\""), enableRangeProcessing: true);
    }

    private static async Task<IResult> DeleteAsync(HttpContext ctx, string registry, string package, string version, string? path,
        RegistryAccess access, ArtifactService artifacts)
    {
        var reg = await access.RequireAsync(ctx, registry, TokenScope.Delete, Core.Model.PackageTypes.Generic);
        Validate(package, version, path);
        var store = artifacts.Store;
        var pkg = await store.GetPackageAsync(reg.Id, package, ctx.RequestAborted);
        var ver = pkg is null ? null : await store.GetVersionAsync(pkg.Id, version, ctx.RequestAborted);
        if (ver is null || !await store.DeleteFileAsync(ver.Id, path!, ctx.RequestAborted))
            throw ArcaException.NotFound($"{package}/{version}/{path} not found", "FILE_NOT_FOUND");
        if ((await store.ListFilesAsync(ver.Id, ctx.RequestAborted)).Count == 0)
            await artifacts.DeleteVersionAsync(pkg!, ver, ctx.RequestAborted);
        return Results.NoContent();
    }

    internal static async Task<PackageFile> FindFileAsync(IMetadataStore store, Registry reg, string package, string version, string path, CancellationToken ct)
    {
        var pkg = await store.GetPackageAsync(reg.Id, package, ct);
        var ver = pkg is null ? null : await store.GetVersionAsync(pkg.Id, version, ct);
        var file = ver is null ? null : await store.GetFileAsync(ver.Id, path, ct);
        return file ?? throw ArcaException.NotFound($"{package}/{version}/{path} not found in registry '{reg.Name}'", "FILE_NOT_FOUND");
    }

    private static void SetChecksumHeaders(HttpResponse response, string sha256, string? sha1, string? md5)
    {
        response.Headers["X-Checksum-Sha256"] = sha256;
        if (sha1 is not null) response.Headers["X-Checksum-Sha1"] = sha1;
        if (md5 is not null) response.Headers["X-Checksum-Md5"] = md5;
    }

    private static string? NullIfEmpty(Microsoft.Extensions.Primitives.StringValues v) => v.Count == 0 || string.IsNullOrWhiteSpace(v[0]) ? null : v[0]!.Trim();
}
