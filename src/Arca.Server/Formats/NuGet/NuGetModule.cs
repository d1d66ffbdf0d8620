using System.Text.Json;
using System.Text.Json.Serialization;
using Arca.Core.Auth;
using Arca.Core.Model;
using Arca.Core.Storage;
using Arca.Server.Api;
using Arca.Server.Auth;
using Arca.Server.Hosting;
using Arca.Server.Services;
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.Net.Http.Headers;
using NuGet.Versioning;

namespace Arca.Server.Formats.NuGet;

/// <summary>What a NuGet version keeps in its properties JSON (from the .nuspec, plus the listed flag).</summary>
public sealed record NuGetVersionProperties
{
    public required string Id { get; init; }
    public required string Version { get; init; }
    public string? Title { get; init; }
    public string? Description { get; init; }
    public string? Authors { get; init; }
    public string? Tags { get; init; }
    public string? ProjectUrl { get; init; }
    public string? LicenseExpression { get; init; }
    public bool Listed { get; init; } = true;
    public IReadOnlyList<NuGetDependencyGroup> DependencyGroups { get; init; } = [];

    internal static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web) { DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull };

    public string ToJson() => JsonSerializer.Serialize(this, Json);

    public static NuGetVersionProperties? FromJson(string? json)
    {
        if (string.IsNullOrEmpty(json)) return null;
        try { return JsonSerializer.Deserialize<NuGetVersionProperties>(json, Json); }
        catch (JsonException) { return null; }
    }
}

/// <summary>
/// NuGet v3 at <c>/pkg/&lt;registry&gt;/nuget/</c>: service index, flat container (PackageBaseAddress), registrations,
/// search, and push/unlist/relist (PackagePublish/2.0.0). Package = lower-case id, version = lower-case normalized
/// version, files = <c>&lt;id&gt;.&lt;version&gt;.nupkg</c> and <c>&lt;id&gt;.nuspec</c>. Unlisted versions stay restorable.
/// </summary>
public sealed class NuGetModule : IFormatModule
{
    private const string Type = Core.Model.PackageTypes.NuGet;

    public string Name => "nuget";
    public IReadOnlyList<string> PackageTypes => [Type];

    public string? ClientUrl(Registry registry, string baseUrl) => $"{baseUrl}/pkg/{registry.Name}/nuget/index.json";

    public void MapEndpoints(IEndpointRouteBuilder app)
    {
        const string root = "/pkg/{registry}/nuget";
        app.MapGet(root + "/index.json", ServiceIndexAsync).ExcludeFromDescription();
        app.MapPut(root, PushAsync).ExcludeFromDescription();
        app.MapPut(root + "/api/v2/package", PushAsync).ExcludeFromDescription();
        app.MapDelete(root + "/api/v2/package/{id}/{version}", (HttpContext ctx, string registry, string id, string version, RegistryAccess access, ArtifactService artifacts) =>
            SetListedAsync(ctx, registry, id, version, false, access, artifacts)).ExcludeFromDescription();
        app.MapPost(root + "/api/v2/package/{id}/{version}", (HttpContext ctx, string registry, string id, string version, RegistryAccess access, ArtifactService artifacts) =>
            SetListedAsync(ctx, registry, id, version, true, access, artifacts)).ExcludeFromDescription();
        app.MapMethods(root + "/v3-flatcontainer/{id}/index.json", [HttpMethods.Get, HttpMethods.Head], FlatVersionsAsync).ExcludeFromDescription();
        app.MapMethods(root + "/v3-flatcontainer/{id}/{version}/{file}", [HttpMethods.Get, HttpMethods.Head], FlatFileAsync).ExcludeFromDescription();
        app.MapGet(root + "/registration/{id}/index.json", RegistrationIndexAsync).ExcludeFromDescription();
        app.MapGet(root + "/registration/{id}/{version}.json", RegistrationLeafAsync).ExcludeFromDescription();
        app.MapGet(root + "/query", SearchAsync).ExcludeFromDescription();
    }

    private static string Root(HttpContext ctx, Registry reg) => $"{ApiSupport.BaseUrl(ctx)}/pkg/{reg.Name}/nuget";

    // ---------------- service index ----------------

    /// <summary>
    /// The service index holds only URLs derived from the registry name, so anonymous callers get it even for a private
    /// (or unknown: same answer, nothing revealed) registry. That is what lets `dotnet nuget push -s .../index.json -k TOKEN`
    /// work without stored credentials: the index is fetched anonymously, the push then carries X-NuGet-ApiKey.
    /// Every other resource still answers 401 with a Basic challenge.
    /// </summary>
    private static async Task<IResult> ServiceIndexAsync(HttpContext ctx, string registry, RegistryAccess access)
    {
        try
        {
            await access.RequireAsync(ctx, registry, TokenScope.Read, Type);
        }
        catch (ArcaException e) when (e.Status == 401 && !ctx.Principal().IsAuthenticated)
        {
            Core.Validation.Identifiers.ValidateRegistryName(registry);
        }
        var root = $"{ApiSupport.BaseUrl(ctx)}/pkg/{registry}/nuget";
        var resources = new List<object>
        {
            Resource($"{root}/v3-flatcontainer/", "PackageBaseAddress/3.0.0"),
            Resource($"{root}/api/v2/package", "PackagePublish/2.0.0"),
        };
        foreach (var t in new[] { "SearchQueryService", "SearchQueryService/3.0.0-beta", "SearchQueryService/3.0.0-rc", "SearchQueryService/3.5.0" })
            resources.Add(Resource($"{root}/query", t));
        foreach (var t in new[] { "RegistrationsBaseUrl", "RegistrationsBaseUrl/3.0.0-beta", "RegistrationsBaseUrl/3.0.0-rc", "RegistrationsBaseUrl/3.4.0", "RegistrationsBaseUrl/3.6.0" })
            resources.Add(Resource($"{root}/registration/", t));
        return Results.Json(new Dictionary<string, object> { ["version"] = "3.0.0", ["resources"] = resources });
    }

    private static Dictionary<string, string> Resource(string id, string type) => new() { ["@id"] = id, ["@type"] = type };

    // ---------------- push / unlist ----------------

    private static async Task<IResult> PushAsync(HttpContext ctx, string registry, RegistryAccess access, ArtifactService artifacts, ServerOptions options)
    {
        var reg = await access.RequireAsync(ctx, registry, TokenScope.Write, Type);
        var ct = ctx.RequestAborted;
        var blob = await artifacts.StoreBlobAsync(await OpenPackageBodyAsync(ctx.Request), new BlobWriteOptions
        {
            ComputeLegacyChecksums = false, MaxSize = options.MaxUploadBytes,
        }, ct);

        NuSpec spec;
        byte[] nuspecBytes;
        await using (var stream = await artifacts.Blobs.OpenReadAsync(blob.Digest, ct) ?? throw new IOException("stored package vanished"))
            (spec, nuspecBytes) = NuSpec.ReadFromPackage(stream);

        var store = artifacts.Store;
        var existing = await FindVersionAsync(store, reg, spec.LowerId, spec.LowerVersion, ct);
        if (existing is not null && !reg.AllowOverwrite) throw AlreadyExists(spec);

        var nuspecBlob = await artifacts.StoreBlobAsync(new MemoryStream(nuspecBytes), new BlobWriteOptions(), ct);
        var props = new NuGetVersionProperties
        {
            Id = spec.Id, Version = spec.Version.ToNormalizedString(), Title = spec.Title, Description = spec.Description,
            Authors = spec.Authors, Tags = spec.Tags, ProjectUrl = spec.ProjectUrl, LicenseExpression = spec.LicenseExpression,
            DependencyGroups = spec.DependencyGroups,
        };
        var result = await store.PublishAsync(new PublishRequest
        {
            RegistryId = reg.Id, PackageName = spec.LowerId, Version = spec.LowerVersion,
            ReplaceVersion = true, Overwrite = reg.AllowOverwrite,
            Files =
            [
                new NewFile($"{spec.LowerId}.{spec.LowerVersion}.nupkg", blob.Digest.ToString(), blob.Size, "application/octet-stream", null, null),
                new NewFile($"{spec.LowerId}.nuspec", nuspecBlob.Digest.ToString(), nuspecBlob.Size, "application/xml", null, null),
            ],
            VersionProperties = props.ToJson(),
            PackageProperties = JsonSerializer.Serialize(new { id = spec.Id }),
        }, ct);
        if (result.Outcome == PublishOutcome.Conflict) throw AlreadyExists(spec);
        return Results.Created($"{Root(ctx, reg)}/v3-flatcontainer/{spec.LowerId}/{spec.LowerVersion}/{spec.LowerId}.{spec.LowerVersion}.nupkg",
            new { id = spec.Id, version = props.Version });
    }

    /// <summary>NuGet clients send multipart/form-data whose single part (often without Content-Disposition) is the
    /// .nupkg; a raw body is accepted too. The part is streamed, never buffered.</summary>
    private static async Task<Stream> OpenPackageBodyAsync(HttpRequest request)
    {
        if (!MediaTypeHeaderValue.TryParse(request.ContentType, out var mediaType)
            || !mediaType.MediaType.Equals("multipart/form-data", StringComparison.OrdinalIgnoreCase))
            return request.Body;
        var boundary = HeaderUtilities.RemoveQuotes(mediaType.Boundary).Value;
        if (string.IsNullOrEmpty(boundary)) throw ArcaException.BadRequest("multipart body without a boundary", "INVALID_PACKAGE");
        var reader = new MultipartReader(boundary, request.Body);
        MultipartSection? section;
        try { section = await reader.ReadNextSectionAsync(request.HttpContext.RequestAborted); }
        catch (IOException e) { throw ArcaException.BadRequest($"malformed multipart body: {e.Message}", "INVALID_PACKAGE"); }
        return section?.Body ?? throw ArcaException.BadRequest("the multipart body contains no package", "INVALID_PACKAGE");
    }

    private static async Task<IResult> SetListedAsync(HttpContext ctx, string registry, string id, string version, bool listed,
        RegistryAccess access, ArtifactService artifacts)
    {
        var reg = await access.RequireAsync(ctx, registry, listed ? TokenScope.Write : TokenScope.Delete, Type);
        var (_, ver, props) = await RequireVersionAsync(artifacts.Store, reg, id, version, ctx.RequestAborted);
        await artifacts.Store.SetVersionPropertiesAsync(ver.Id, (props with { Listed = listed }).ToJson(), ctx.RequestAborted);
        return listed ? Results.Ok() : Results.NoContent();
    }

    // ---------------- flat container ----------------

    private static async Task<IResult> FlatVersionsAsync(HttpContext ctx, string registry, string id, RegistryAccess access, ArtifactService artifacts)
    {
        var reg = await access.RequireAsync(ctx, registry, TokenScope.Read, Type);
        var versions = await ListVersionsAsync(artifacts, reg, id, ctx.RequestAborted);
        if (versions.Count == 0) throw ArcaException.NotFound($"package '{id}' not found", "PACKAGE_NOT_FOUND");
        return Results.Json(new { versions = versions.Select(v => v.Version.Version) });
    }

    private static async Task<IResult> FlatFileAsync(HttpContext ctx, string registry, string id, string version, string file,
        RegistryAccess access, ArtifactService artifacts)
    {
        var reg = await access.RequireAsync(ctx, registry, TokenScope.Read, Type);
        var lowerId = id.ToLowerInvariant();
        var lowerVersion = NormalizeVersion(version);
        var (_, ver, _) = await RequireVersionAsync(artifacts.Store, reg, lowerId, lowerVersion, ctx.RequestAborted);
        var wanted = file.ToLowerInvariant();
        if (wanted != $"{lowerId}.{lowerVersion}.nupkg" && wanted != $"{lowerId}.nuspec")
            throw ArcaException.NotFound($"{file} not found", "FILE_NOT_FOUND");
        var stored = await artifacts.Store.GetFileAsync(ver.Id, wanted, ctx.RequestAborted) ?? throw ArcaException.NotFound($"{file} not found", "FILE_NOT_FOUND");
        var stream = await artifacts.OpenFileAsync(stored, ctx.RequestAborted);
        ctx.Response.Headers["X-Checksum-Sha256"] = stored.Sha256;
        return Results.File(stream, stored.ContentType ?? "application/octet-stream", lastModified: stored.CreatedAt,
            entityTag: new EntityTagHeaderValue($"\"{stored.Sha256}\""), enableRangeProcessing: true);
    }

    // ---------------- registrations ----------------

    private static async Task<IResult> RegistrationIndexAsync(HttpContext ctx, string registry, string id, RegistryAccess access, ArtifactService artifacts)
    {
        var reg = await access.RequireAsync(ctx, registry, TokenScope.Read, Type);
        var versions = await ListVersionsAsync(artifacts, reg, id, ctx.RequestAborted);
        if (versions.Count == 0) throw ArcaException.NotFound($"package '{id}' not found", "PACKAGE_NOT_FOUND");
        var root = Root(ctx, reg);
        var lowerId = id.ToLowerInvariant();
        var indexUrl = $"{root}/registration/{lowerId}/index.json";
        var lower = versions[0].Parsed.ToNormalizedString();
        var upper = versions[^1].Parsed.ToNormalizedString();
        var page = new Dictionary<string, object?>
        {
            ["@id"] = $"{indexUrl}#page/{lower}/{upper}", ["@type"] = "catalog:CatalogPage", ["count"] = versions.Count,
            ["items"] = versions.Select(v => RegistrationItem(root, lowerId, v.Version, v.Props)).ToList(),
            ["lower"] = lower, ["upper"] = upper, ["parent"] = indexUrl,
        };
        return Results.Json(new Dictionary<string, object?>
        {
            ["@id"] = indexUrl, ["@type"] = new[] { "catalog:CatalogRoot", "PackageRegistration", "catalog:Permalink" },
            ["count"] = 1, ["items"] = new[] { page },
        });
    }

    private static async Task<IResult> RegistrationLeafAsync(HttpContext ctx, string registry, string id, string version, RegistryAccess access, ArtifactService artifacts)
    {
        var reg = await access.RequireAsync(ctx, registry, TokenScope.Read, Type);
        var lowerId = id.ToLowerInvariant();
        var (pkg, ver, props) = await RequireVersionAsync(artifacts.Store, reg, lowerId, NormalizeVersion(version), ctx.RequestAborted);
        var root = Root(ctx, reg);
        return Results.Json(new Dictionary<string, object?>
        {
            ["@id"] = LeafUrl(root, lowerId, ver.Version), ["@type"] = new[] { "Package", "http://schema.nuget.org/catalog#Permalink" },
            ["catalogEntry"] = CatalogEntry(root, lowerId, ver, props), ["listed"] = props.Listed,
            ["packageContent"] = ContentUrl(root, lowerId, ver.Version), ["published"] = Published(ver, props),
            ["registration"] = $"{root}/registration/{lowerId}/index.json",
        });
    }

    private static Dictionary<string, object?> RegistrationItem(string root, string lowerId, PackageVersion ver, NuGetVersionProperties props) => new()
    {
        ["@id"] = LeafUrl(root, lowerId, ver.Version), ["@type"] = "Package",
        ["catalogEntry"] = CatalogEntry(root, lowerId, ver, props),
        ["packageContent"] = ContentUrl(root, lowerId, ver.Version),
        ["registration"] = $"{root}/registration/{lowerId}/index.json",
    };

    private static Dictionary<string, object?> CatalogEntry(string root, string lowerId, PackageVersion ver, NuGetVersionProperties props) => new()
    {
        ["@id"] = $"{root}/registration/{lowerId}/{ver.Version}.json#catalogEntry", ["@type"] = "PackageDetails",
        ["id"] = props.Id, ["version"] = props.Version, ["title"] = props.Title ?? "", ["description"] = props.Description ?? "",
        ["authors"] = props.Authors ?? "", ["tags"] = SplitTags(props.Tags), ["projectUrl"] = props.ProjectUrl ?? "",
        ["licenseExpression"] = props.LicenseExpression ?? "", ["listed"] = props.Listed, ["published"] = Published(ver, props),
        ["packageContent"] = ContentUrl(root, lowerId, ver.Version),
        ["dependencyGroups"] = props.DependencyGroups.Select(g => new Dictionary<string, object?>
        {
            ["@type"] = "PackageDependencyGroup",
            ["targetFramework"] = g.TargetFramework,
            ["dependencies"] = g.Dependencies.Select(d => new Dictionary<string, object?>
            {
                ["@type"] = "PackageDependency", ["id"] = d.Id, ["range"] = d.Range,
                ["registration"] = $"{root}/registration/{d.Id.ToLowerInvariant()}/index.json",
            }).ToList(),
        }).ToList(),
    };

    // Unlisted packages get the 1900 "published" date, as nuget.org does; clients rely on "listed" too.
    private static string Published(PackageVersion ver, NuGetVersionProperties props) =>
        (props.Listed ? ver.CreatedAt : new DateTimeOffset(1900, 1, 1, 0, 0, 0, TimeSpan.Zero)).ToString("O");

    private static string LeafUrl(string root, string lowerId, string version) => $"{root}/registration/{lowerId}/{version}.json";
    private static string ContentUrl(string root, string lowerId, string version) => $"{root}/v3-flatcontainer/{lowerId}/{version}/{lowerId}.{version}.nupkg";
    private static string[] SplitTags(string? tags) => tags?.Split([' ', ',', ';'], StringSplitOptions.RemoveEmptyEntries) ?? [];

    // ---------------- search ----------------

    private static async Task<IResult> SearchAsync(HttpContext ctx, string registry, RegistryAccess access, ArtifactService artifacts)
    {
        var reg = await access.RequireAsync(ctx, registry, TokenScope.Read, Type);
        var q = ctx.Request.Query["q"].ToString().Trim().ToLowerInvariant();
        var skip = int.TryParse(ctx.Request.Query["skip"], out var s) && s > 0 ? s : 0;
        var take = int.TryParse(ctx.Request.Query["take"], out var t) && t > 0 ? Math.Min(t, 1000) : 20;
        var prerelease = string.Equals(ctx.Request.Query["prerelease"], "true", StringComparison.OrdinalIgnoreCase);
        var store = artifacts.Store;
        var root = Root(ctx, reg);
        var ct = ctx.RequestAborted;

        var hits = new List<Dictionary<string, object?>>();
        var total = 0;
        for (var pageNo = 1; ; pageNo++)
        {
            var page = await store.ListPackagesAsync(reg.Id, q.Length == 0 ? null : q, new PageRequest(pageNo, PageRequest.MaxPageSize), ct);
            foreach (var pkg in page.Items)
            {
                // The store's search is a LIKE, where '_' is a wildcard; NuGet ids match by substring.
                if (q.Length > 0 && !pkg.Name.Contains(q, StringComparison.Ordinal)) continue;
                var visible = (await ListVersionsAsync(artifacts, reg, pkg.Name, ct))
                    .Where(v => v.Props.Listed && (prerelease || !v.Parsed.IsPrerelease)).ToList();
                if (visible.Count == 0) continue;
                if (total++ < skip || hits.Count >= take) continue;
                var latest = visible[^1];
                var reg0 = $"{root}/registration/{pkg.Name}/index.json";
                hits.Add(new Dictionary<string, object?>
                {
                    ["@id"] = reg0, ["@type"] = "Package", ["registration"] = reg0,
                    ["id"] = latest.Props.Id, ["version"] = latest.Props.Version, ["description"] = latest.Props.Description ?? "",
                    ["summary"] = "", ["title"] = latest.Props.Title ?? latest.Props.Id,
                    ["authors"] = latest.Props.Authors is { } a ? a.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries) : Array.Empty<string>(),
                    ["tags"] = SplitTags(latest.Props.Tags), ["projectUrl"] = latest.Props.ProjectUrl ?? "",
                    ["totalDownloads"] = 0, ["verified"] = false, ["packageTypes"] = new[] { new { name = "Dependency" } },
                    ["versions"] = visible.Select(v => new Dictionary<string, object?>
                    {
                        ["version"] = v.Props.Version, ["downloads"] = 0, ["@id"] = LeafUrl(root, pkg.Name, v.Version.Version),
                    }).ToList(),
                });
            }
            if (page.Items.Count < PageRequest.MaxPageSize) break;
        }
        return Results.Json(new Dictionary<string, object?> { ["totalHits"] = total, ["data"] = hits });
    }

    // ---------------- helpers ----------------

    private sealed record VersionEntry(PackageVersion Version, NuGetVersion Parsed, NuGetVersionProperties Props);

    /// <summary>Every version of a package in SemVer order, with its properties.</summary>
    private static async Task<List<VersionEntry>> ListVersionsAsync(ArtifactService artifacts, Registry reg, string id, CancellationToken ct)
    {
        var store = artifacts.Store;
        var pkg = await store.GetPackageAsync(reg.Id, id.ToLowerInvariant(), ct);
        if (pkg is null) return [];
        var result = new List<VersionEntry>();
        foreach (var v in await artifacts.ListAllVersionsAsync(pkg.Id, ct))
            if (NuGetVersion.TryParse(v.Version, out var parsed))
                result.Add(new VersionEntry(v, parsed, NuGetVersionProperties.FromJson(v.Properties) ?? DefaultProps(pkg, v)));
        result.Sort((a, b) => a.Parsed.CompareTo(b.Parsed));
        return result;
    }

    /// <summary>Properties for a version that has none (e.g. copied in by hand): derived from the names.</summary>
    private static NuGetVersionProperties DefaultProps(Package pkg, PackageVersion v) => new() { Id = pkg.Name, Version = v.Version };

    private static async Task<PackageVersion?> FindVersionAsync(IMetadataStore store, Registry reg, string lowerId, string lowerVersion, CancellationToken ct)
    {
        var pkg = await store.GetPackageAsync(reg.Id, lowerId, ct);
        return pkg is null ? null : await store.GetVersionAsync(pkg.Id, lowerVersion, ct);
    }

    private static async Task<(Package, PackageVersion, NuGetVersionProperties)> RequireVersionAsync(IMetadataStore store, Registry reg, string id, string version, CancellationToken ct)
    {
        var lowerId = id.ToLowerInvariant();
        var lowerVersion = NormalizeVersion(version);
        var pkg = await store.GetPackageAsync(reg.Id, lowerId, ct);
        var ver = pkg is null ? null : await store.GetVersionAsync(pkg.Id, lowerVersion, ct);
        if (ver is null) throw ArcaException.NotFound($"{id} {version} not found", "VERSION_NOT_FOUND");
        return (pkg!, ver, NuGetVersionProperties.FromJson(ver.Properties) ?? DefaultProps(pkg!, ver));
    }

    private static string NormalizeVersion(string version) =>
        NuGetVersion.TryParse(version, out var v) ? v.ToNormalizedString().ToLowerInvariant() : version.ToLowerInvariant();

    private static ArcaException AlreadyExists(NuSpec spec) =>
        ArcaException.Conflict($"{spec.Id} {spec.Version.ToNormalizedString()} already exists (the registry does not allow overwrite)", "ALREADY_EXISTS");
}
