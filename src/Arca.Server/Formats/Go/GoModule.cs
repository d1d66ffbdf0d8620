using System.Globalization;
using System.Text;
using System.Text.Json;
using Arca.Core.Auth;
using Arca.Core.Model;
using Arca.Core.Storage;
using Arca.Core.Validation;
using Arca.Server.Auth;
using Arca.Server.Hosting;
using Arca.Server.Services;
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.Net.Http.Headers;

namespace Arca.Server.Formats.Go;

/// <summary>
/// Go module proxy (GOPROXY protocol, go.dev/ref/mod#goproxy-protocol) at <c>/pkg/&lt;registry&gt;/go</c>.
/// A package is a module path, a version is a canonical "vX.Y.Z[-pre]" and holds two files:
/// <c>&lt;version&gt;.zip</c> (the module zip) and <c>&lt;version&gt;.mod</c> (its go.mod); <c>.info</c> is derived from
/// the version's properties <c>{"module","version","time"}</c>.
/// <para>Upload (Arca's own, the GOPROXY protocol has none), both atomic and validated by the module zip rules:</para>
/// <list type="bullet">
/// <item><c>PUT &lt;module&gt;/@v/&lt;version&gt;</c> with multipart/form-data fields <c>zip</c> (required),
/// <c>mod</c> (optional, must equal the zip's go.mod) and <c>info</c> (optional JSON {"Version","Time"}).</item>
/// <item><c>PUT &lt;module&gt;/@v/&lt;version&gt;.zip</c> with the zip as the body.</item>
/// </list>
/// Module paths and versions are case-encoded in URLs ("!x" = "X"). Optional <c>X-Checksum-Sha256</c> is checked
/// against the zip. An existing version answers 409 unless the registry allows overwrite (or ?overwrite=true with the
/// delete scope).
/// </summary>
public sealed class GoModule : IFormatModule
{
    public string Name => "go";
    public IReadOnlyList<string> PackageTypes => [Core.Model.PackageTypes.Go];

    public string? ClientUrl(Registry registry, string baseUrl) => $"{baseUrl}/pkg/{registry.Name}/go";

    public void MapEndpoints(IEndpointRouteBuilder app)
    {
        const string route = "/pkg/{registry}/go/{**rest}";
        app.MapMethods(route, [HttpMethods.Get, HttpMethods.Head], GetAsync).ExcludeFromDescription();
        app.MapPut(route, PutAsync).ExcludeFromDescription();
    }

    public bool OwnsPath(PathString path)
    {
        var segments = (path.Value ?? "").Split('/', 5);
        return segments.Length >= 4 && segments[1] == "pkg" && segments[3] == "go";
    }

    /// <summary>The go command prints the body of an error response, so errors are plain text.</summary>
    public async Task WriteErrorAsync(HttpContext ctx, ArcaException error)
    {
        if (ctx.Response.HasStarted) { ctx.Abort(); return; }
        ctx.Response.Clear();
        ctx.Response.StatusCode = error.Status;
        if (error.Status == 401) ctx.Response.Headers.WWWAuthenticate = "Basic realm=\"arca\"";
        ctx.Response.ContentType = "text/plain; charset=utf-8";
        if (!HttpMethods.IsHead(ctx.Request.Method)) await ctx.Response.WriteAsync(error.Message + "\n");
    }

    private enum RequestKind { List, Latest, Info, Mod, Zip, Upload }

    private sealed record GoRequest(string Module, RequestKind Kind, string? Version);

    /// <summary>Splits "&lt;module&gt;/@v/&lt;file&gt;" or "&lt;module&gt;/@latest" and decodes the case encoding; null when the
    /// path is not a proxy request.</summary>
    private static GoRequest? Parse(string? rest)
    {
        if (string.IsNullOrEmpty(rest)) return null;
        string encodedModule;
        RequestKind kind;
        string? encodedVersion = null;
        var at = rest.LastIndexOf("/@v/", StringComparison.Ordinal);
        if (at > 0)
        {
            encodedModule = rest[..at];
            var file = rest[(at + 4)..];
            if (file == "list") kind = RequestKind.List;
            else if (file.EndsWith(".info", StringComparison.Ordinal)) (kind, encodedVersion) = (RequestKind.Info, file[..^5]);
            else if (file.EndsWith(".mod", StringComparison.Ordinal)) (kind, encodedVersion) = (RequestKind.Mod, file[..^4]);
            else if (file.EndsWith(".zip", StringComparison.Ordinal)) (kind, encodedVersion) = (RequestKind.Zip, file[..^4]);
            else (kind, encodedVersion) = (RequestKind.Upload, file);
        }
        else if (rest.EndsWith("/@latest", StringComparison.Ordinal)) (encodedModule, kind) = (rest[..^8], RequestKind.Latest);
        else return null;

        var module = GoModulePath.Decode(encodedModule);
        var version = encodedVersion is null ? null : GoModulePath.Decode(encodedVersion);
        if (module is null || (encodedVersion is not null && version is null)) return null;
        return new GoRequest(module, kind, version);
    }

    private static async Task<IResult> GetAsync(HttpContext ctx, string registry, string? rest, RegistryAccess access, ArtifactService artifacts)
    {
        var reg = await access.RequireAsync(ctx, registry, TokenScope.Read, Core.Model.PackageTypes.Go);
        var req = Parse(rest);
        if (req is null || req.Kind == RequestKind.Upload) throw ArcaException.NotFound($"not found: {rest}", "NOT_FOUND");
        var store = artifacts.Store;
        var ct = ctx.RequestAborted;
        // go treats 404 and 410 alike ("not found"), and falls back to the next GOPROXY entry on either.
        var pkg = await store.GetPackageAsync(reg.Id, req.Module, ct)
                  ?? throw ArcaException.NotFound($"not found: module {req.Module} is not in registry '{reg.Name}'", "MODULE_NOT_FOUND");

        switch (req.Kind)
        {
            case RequestKind.List:
            {
                var versions = await ListVersionsAsync(store, pkg, ct);
                var text = string.Concat(versions.Select(v => v.Version.Version + "\n"));
                return Results.Text(text, "text/plain; charset=utf-8");
            }
            case RequestKind.Latest:
            {
                var versions = await ListVersionsAsync(store, pkg, ct);
                // Like `go`'s own @latest: the highest release, else the highest pre-release.
                var latest = versions.LastOrDefault(v => !v.Semver.IsPreRelease) ?? versions.LastOrDefault()
                             ?? throw ArcaException.NotFound($"not found: module {req.Module} has no versions", "MODULE_NOT_FOUND");
                return Info(latest.Version);
            }
        }

        if (!GoModulePath.TryParseVersion(req.Version, out _))
            throw ArcaException.NotFound($"not found: {req.Module}@{req.Version} is not a canonical version", "VERSION_NOT_FOUND");
        var ver = await store.GetVersionAsync(pkg.Id, req.Version!, ct)
                  ?? throw ArcaException.NotFound($"not found: {req.Module}@{req.Version}", "VERSION_NOT_FOUND");
        if (req.Kind == RequestKind.Info) return Info(ver);

        var fileName = req.Version + (req.Kind == RequestKind.Mod ? ".mod" : ".zip");
        var file = await store.GetFileAsync(ver.Id, fileName, ct)
                   ?? throw ArcaException.NotFound($"not found: {req.Module}@{req.Version} has no {fileName}", "FILE_NOT_FOUND");
        var stream = await artifacts.OpenFileAsync(file, ct);
        ctx.Response.Headers["X-Checksum-Sha256"] = file.Sha256;
        return Results.File(stream, req.Kind == RequestKind.Mod ? "text/plain; charset=utf-8" : "application/zip",
            lastModified: file.CreatedAt, entityTag: new EntityTagHeaderValue($"\"{file.Sha256}\""), enableRangeProcessing: true);
    }

    private sealed record SortedVersion(PackageVersion Version, SemVer2 Semver);

    /// <summary>Every valid version of the module, in ascending semver order.</summary>
    private static async Task<List<SortedVersion>> ListVersionsAsync(IMetadataStore store, Package pkg, CancellationToken ct)
    {
        var all = new List<SortedVersion>();
        for (var page = 1; ; page++)
        {
            var batch = await store.ListVersionsAsync(pkg.Id, new PageRequest(page, PageRequest.MaxPageSize), ct);
            foreach (var v in batch.Items)
                if (v.Version.Length > 1 && v.Version[0] == 'v' && SemVer2.TryParse(v.Version[1..], out var semver))
                    all.Add(new SortedVersion(v, semver));
            if (batch.Items.Count < PageRequest.MaxPageSize) break;
        }
        all.Sort((a, b) => a.Semver.CompareTo(b.Semver));
        return all;
    }

    private static IResult Info(PackageVersion version)
    {
        var time = version.CreatedAt;
        if (version.Properties is { } json)
        {
            try
            {
                using var doc = JsonDocument.Parse(json);
                if (doc.RootElement.TryGetProperty("time", out var t) && t.TryGetDateTimeOffset(out var parsed)) time = parsed;
            }
            catch (JsonException) { /* properties edited by hand: fall back to the creation time */ }
        }
        return Results.Json(new Dictionary<string, string> { ["Version"] = version.Version, ["Time"] = FormatTime(time) });
    }

    private static string FormatTime(DateTimeOffset t) => t.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture);

    private static async Task<IResult> PutAsync(HttpContext ctx, string registry, string? rest, RegistryAccess access, ArtifactService artifacts)
    {
        var reg = await access.RequireAsync(ctx, registry, TokenScope.Write, Core.Model.PackageTypes.Go);
        var req = Parse(rest);
        if (req is null || req.Kind is not (RequestKind.Upload or RequestKind.Zip))
            throw ArcaException.BadRequest($"upload with PUT <module>/@v/<version> (multipart) or PUT <module>/@v/<version>.zip, not '{GoModulePath.Printable(rest)}'", "INVALID_PATH");
        GoModulePath.Validate(req.Module);
        var version = req.Version!;
        var semver = GoModulePath.ParseVersion(version);
        GoModulePath.CheckMajor(req.Module, version, semver);

        var store = artifacts.Store;
        var ct = ctx.RequestAborted;
        var overwrite = reg.AllowOverwrite || string.Equals(ctx.Request.Query["overwrite"], "true", StringComparison.OrdinalIgnoreCase);
        // Refuse a duplicate before reading the body, so a large re-upload is not streamed for nothing.
        var existingPkg = await store.GetPackageAsync(reg.Id, req.Module, ct);
        var existing = existingPkg is null ? null : await store.GetVersionAsync(existingPkg.Id, version, ct);
        if (existing is not null)
        {
            if (!overwrite) throw Duplicate(req.Module, version);
            if (!reg.AllowOverwrite) AccessControl.Require(ctx.Principal(), reg, TokenScope.Delete);
        }

        var upload = await ReadUploadAsync(ctx, artifacts, req.Kind == RequestKind.Upload, ct);
        if (upload.Zip is null) throw ArcaException.BadRequest("the upload has no module zip (multipart field 'zip')", "MISSING_ZIP");

        byte[] goMod;
        await using (var zip = await OpenSeekableAsync(artifacts, upload.Zip.Digest, ct))
            goMod = await GoModuleZip.ValidateAsync(zip, req.Module, version, ct);
        if (upload.Mod is not null && !upload.Mod.AsSpan().SequenceEqual(goMod))
            throw ArcaException.BadRequest("the uploaded .mod differs from the go.mod inside the module zip", "MOD_MISMATCH");
        var time = DateTimeOffset.UtcNow;
        if (upload.Info is not null) time = ParseInfo(upload.Info, version) ?? time;

        var modBlob = await artifacts.StoreBlobAsync(new MemoryStream(goMod), new BlobWriteOptions(), ct);
        var properties = JsonSerializer.Serialize(new { module = req.Module, version, time = FormatTime(time) });
        var result = await store.PublishAsync(new PublishRequest
        {
            RegistryId = reg.Id, PackageName = req.Module, Version = version, Overwrite = overwrite, ReplaceVersion = true,
            VersionProperties = properties,
            Files =
            [
                new NewFile($"{version}.zip", upload.Zip.Digest.ToString(), upload.Zip.Size, "application/zip", null, null),
                new NewFile($"{version}.mod", modBlob.Digest.ToString(), modBlob.Size, "text/plain; charset=utf-8", null, null),
            ],
        }, ct);
        if (result.Outcome == PublishOutcome.Conflict) throw Duplicate(req.Module, version);

        var body = new { registry = reg.Name, module = req.Module, version, size = upload.Zip.Size, sha256 = upload.Zip.Sha256Hex };
        var location = $"/pkg/{reg.Name}/go/{GoModulePath.Encode(req.Module)}/@v/{GoModulePath.Encode(version)}.info";
        return existing is null ? Results.Created(location, body) : Results.Ok(body);
    }

    private static ArcaException Duplicate(string module, string version) =>
        ArcaException.Conflict($"{module}@{version} already exists (versions are immutable; the registry does not allow overwrite)", "ALREADY_EXISTS");

    private sealed record Upload(BlobWriteResult? Zip, byte[]? Mod, byte[]? Info);

    private static async Task<Upload> ReadUploadAsync(HttpContext ctx, ArtifactService artifacts, bool multipartExpected, CancellationToken ct)
    {
        var expectedSha256 = ctx.Request.Headers["X-Checksum-Sha256"].ToString() is { Length: > 0 } s ? s.Trim() : null;
        BlobWriteOptions ZipOptions(long? size) => new() { ExpectedSha256 = expectedSha256, ExpectedSize = size, MaxSize = GoModuleZip.MaxZipFile };

        var isMultipart = MediaTypeHeaderValue.TryParse(ctx.Request.ContentType, out var mediaType)
                          && mediaType.MediaType.Equals("multipart/form-data", StringComparison.OrdinalIgnoreCase);
        if (!multipartExpected || !isMultipart)
        {
            if (multipartExpected) throw ArcaException.BadRequest("PUT <module>/@v/<version> takes multipart/form-data (fields zip, mod, info); PUT .../<version>.zip takes the zip as the body", "BAD_CONTENT_TYPE");
            return new Upload(await artifacts.StoreBlobAsync(ctx.Request.Body, ZipOptions(ctx.Request.ContentLength), ct), null, null);
        }

        var boundary = HeaderUtilities.RemoveQuotes(mediaType!.Boundary).Value;
        if (string.IsNullOrEmpty(boundary)) throw ArcaException.BadRequest("multipart body without a boundary", "BAD_CONTENT_TYPE");
        var reader = new MultipartReader(boundary, ctx.Request.Body) { BodyLengthLimit = GoModuleZip.MaxZipFile };
        BlobWriteResult? zip = null;
        byte[]? mod = null, info = null;
        try
        {
            while (await reader.ReadNextSectionAsync(ct) is { } section)
            {
                if (!ContentDispositionHeaderValue.TryParse(section.ContentDisposition, out var cd)) continue;
                switch (HeaderUtilities.RemoveQuotes(cd.Name).Value)
                {
                    case "zip": zip = await artifacts.StoreBlobAsync(section.Body, ZipOptions(null), ct); break;
                    case "mod": mod = await ReadBoundedAsync(section.Body, GoModuleZip.MaxGoMod, "mod", ct); break;
                    case "info": info = await ReadBoundedAsync(section.Body, 64 * 1024, "info", ct); break;
                    default: await section.Body.CopyToAsync(Stream.Null, ct); break;
                }
            }
        }
        catch (InvalidDataException e) { throw ArcaException.BadRequest($"malformed multipart body: {e.Message}", "BAD_MULTIPART"); }
        return new Upload(zip, mod, info);
    }

    private static async Task<byte[]> ReadBoundedAsync(Stream body, long limit, string what, CancellationToken ct)
    {
        var ms = new MemoryStream();
        var buffer = new byte[16384];
        int n;
        while ((n = await body.ReadAsync(buffer, ct)) > 0)
        {
            if (ms.Length + n > limit) throw ArcaException.TooLarge($"'{what}' is larger than {limit} bytes");
            ms.Write(buffer, 0, n);
        }
        return ms.ToArray();
    }

    private static DateTimeOffset? ParseInfo(byte[] info, string version)
    {
        try
        {
            using var doc = JsonDocument.Parse(info);
            if (doc.RootElement.ValueKind != JsonValueKind.Object) throw new JsonException("not an object");
            if (doc.RootElement.TryGetProperty("Version", out var v) && v.GetString() != version)
                throw ArcaException.BadRequest($"the .info names version '{GoModulePath.Printable(v.GetString())}', not {version}", "INFO_MISMATCH");
            return doc.RootElement.TryGetProperty("Time", out var t) && t.TryGetDateTimeOffset(out var time) ? time : null;
        }
        catch (JsonException e) { throw ArcaException.BadRequest($"the .info is not valid JSON: {e.Message}", "INVALID_INFO"); }
        catch (InvalidOperationException) { throw ArcaException.BadRequest("the .info 'Version' must be a string", "INVALID_INFO"); }
    }

    /// <summary>Zip reading needs random access; a backend without seekable streams is copied to a temp file first
    /// (never into memory).</summary>
    private static async Task<Stream> OpenSeekableAsync(ArtifactService artifacts, Digest digest, CancellationToken ct)
    {
        var stream = await artifacts.Blobs.OpenReadAsync(digest, ct) ?? throw new InvalidOperationException($"blob {digest} vanished after upload");
        if (stream.CanSeek) return stream;
        var temp = new FileStream(Path.GetTempFileName(), FileMode.Open, FileAccess.ReadWrite, FileShare.None, 1 << 16, FileOptions.DeleteOnClose);
        await using (stream) await stream.CopyToAsync(temp, ct);
        temp.Position = 0;
        return temp;
    }
}
