using System.Globalization;
using System.Text.Json;
using Arca.Core.Auth;
using Arca.Core.Model;
using Arca.Core.Storage;
using Arca.Server.Api;
using Arca.Server.Auth;
using Arca.Server.Hosting;
using Arca.Server.Services;
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.Net.Http.Headers;
using YamlDotNet.Serialization;
using YamlDotNet.Serialization.NamingConventions;

namespace Arca.Server.Formats.Helm;

/// <summary>
/// Classic Helm chart repository at <c>/pkg/&lt;registry&gt;/helm</c>: <c>index.yaml</c> generated from the registry's
/// charts (uploaded here or pushed as OCI), <c>charts/&lt;name&gt;-&lt;version&gt;.tgz</c> downloads, and the ChartMuseum
/// API: <c>POST api/charts</c> (body = .tgz, or multipart field "chart"), <c>GET api/charts[/&lt;name&gt;[/&lt;version&gt;]]</c>,
/// <c>DELETE api/charts/&lt;name&gt;/&lt;version&gt;</c>. Errors use ChartMuseum's <c>{"error": "..."}</c>.
/// </summary>
public sealed class HelmModule : IFormatModule
{
    public string Name => "helm";
    public IReadOnlyList<string> PackageTypes => [Core.Model.PackageTypes.Helm];

    public string? ClientUrl(Registry registry, string baseUrl) => $"{baseUrl}/pkg/{registry.Name}/helm";

    public void AddServices(IServiceCollection services) => services.AddSingleton<HelmChartService>();

    public void MapEndpoints(IEndpointRouteBuilder app)
    {
        const string root = "/pkg/{registry}/helm";
        app.MapMethods(root + "/index.yaml", [HttpMethods.Get, HttpMethods.Head], IndexAsync).ExcludeFromDescription();
        app.MapMethods(root + "/charts/{file}", [HttpMethods.Get, HttpMethods.Head], DownloadAsync).ExcludeFromDescription();
        app.MapPost(root + "/api/charts", UploadAsync).ExcludeFromDescription();
        app.MapGet(root + "/api/charts", ListAllAsync).ExcludeFromDescription();
        app.MapGet(root + "/api/charts/{name}", ListNameAsync).ExcludeFromDescription();
        app.MapGet(root + "/api/charts/{name}/{version}", GetVersionAsync).ExcludeFromDescription();
        app.MapDelete(root + "/api/charts/{name}/{version}", DeleteAsync).ExcludeFromDescription();
    }

    public bool OwnsPath(PathString path)
    {
        var segments = (path.Value ?? "").Split('/', 5);
        return segments.Length >= 4 && segments[1] == "pkg" && segments[3] == "helm";
    }

    public async Task WriteErrorAsync(HttpContext ctx, ArcaException error)
    {
        if (ctx.Response.HasStarted) { ctx.Abort(); return; }
        ctx.Response.Clear();
        ctx.Response.StatusCode = error.Status;
        if (error.Status == 401) ctx.Response.Headers.WWWAuthenticate = "Basic realm=\"arca\"";
        ctx.Response.ContentType = "application/json; charset=utf-8";
        if (HttpMethods.IsHead(ctx.Request.Method)) return;
        await JsonSerializer.SerializeAsync(ctx.Response.Body, new { error = error.Message });
    }

    private static string ChartsUrl(HttpContext ctx, Registry reg) => $"{ApiSupport.BaseUrl(ctx)}/pkg/{reg.Name}/helm/charts/";

    private static readonly ISerializer YamlWriter = new SerializerBuilder()
        .WithNamingConvention(CamelCaseNamingConvention.Instance)
        .ConfigureDefaultValuesHandling(DefaultValuesHandling.OmitNull | DefaultValuesHandling.OmitEmptyCollections)
        .WithQuotingNecessaryStrings()
        .DisableAliases()
        .Build();

    private static async Task<IResult> IndexAsync(HttpContext ctx, string registry, RegistryAccess access, HelmChartService charts)
    {
        var reg = await access.RequireAsync(ctx, registry, TokenScope.Read, Core.Model.PackageTypes.Helm);
        var all = await charts.ListAsync(reg, null, ctx.RequestAborted);
        var chartsUrl = ChartsUrl(ctx, reg);
        var index = new Dictionary<string, object>
        {
            ["apiVersion"] = "v1",
            ["entries"] = all.ToDictionary(kv => kv.Key, kv => kv.Value.Select(c => Entry(c, chartsUrl)).ToList()),
            ["generated"] = FormatTime(DateTimeOffset.UtcNow),
        };
        return Results.Text(YamlWriter.Serialize(index), "application/x-yaml; charset=utf-8");
    }

    /// <summary>An index entry: the Chart.yaml fields plus urls, created and digest (sha256 of the .tgz).</summary>
    private static Dictionary<string, object?> Entry(StoredChart chart, string chartsUrl)
    {
        var m = chart.Metadata;
        var entry = new Dictionary<string, object?>
        {
            ["apiVersion"] = m.ApiVersion ?? "v2",
            ["name"] = m.Name,
            ["version"] = m.Version,
            ["appVersion"] = m.AppVersion,
            ["kubeVersion"] = m.KubeVersion,
            ["description"] = m.Description,
            ["type"] = m.Type,
            ["keywords"] = m.Keywords,
            ["home"] = m.Home,
            ["sources"] = m.Sources,
            ["icon"] = m.Icon,
            ["deprecated"] = m.Deprecated,
            ["annotations"] = m.Annotations,
            ["maintainers"] = m.Maintainers?.Select(x => Compact(new() { ["name"] = x.Name, ["email"] = x.Email, ["url"] = x.Url })).ToList(),
            ["dependencies"] = m.Dependencies?.Select(d => Compact(new()
            {
                ["name"] = d.Name, ["version"] = d.Version, ["repository"] = d.Repository, ["condition"] = d.Condition,
                ["tags"] = d.Tags, ["enabled"] = d.Enabled, ["alias"] = d.Alias,
            })).ToList(),
            ["urls"] = new List<string> { chartsUrl + Uri.EscapeDataString(chart.File.Path) },
            ["created"] = FormatTime(chart.Version.CreatedAt),
            ["digest"] = chart.File.Sha256,
        };
        return Compact(entry);
    }

    private static Dictionary<string, object?> Compact(Dictionary<string, object?> d) =>
        d.Where(kv => kv.Value is not null).ToDictionary(kv => kv.Key, kv => kv.Value);

    private static string FormatTime(DateTimeOffset t) => t.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fffffff'Z'", CultureInfo.InvariantCulture);

    private static async Task<IResult> DownloadAsync(HttpContext ctx, string registry, string file, RegistryAccess access,
        HelmChartService charts, ArtifactService artifacts)
    {
        var reg = await access.RequireAsync(ctx, registry, TokenScope.Read, Core.Model.PackageTypes.Helm);
        var chart = await FindByFileNameAsync(charts, reg, file, ctx.RequestAborted)
                    ?? throw ArcaException.NotFound($"chart file '{file}' not found in registry '{reg.Name}'", "CHART_NOT_FOUND");
        var stream = await artifacts.OpenFileAsync(chart.File, ctx.RequestAborted);
        ctx.Response.Headers["X-Checksum-Sha256"] = chart.File.Sha256;
        return Results.File(stream, HelmChartService.ChartContentType, lastModified: chart.File.CreatedAt,
            entityTag: new EntityTagHeaderValue($"\"{chart.File.Sha256}\""), enableRangeProcessing: true);
    }

    /// <summary>"&lt;name&gt;-&lt;version&gt;.tgz" is ambiguous (both may contain '-'): try every split whose version part
    /// starts with a digit.</summary>
    private static async Task<StoredChart?> FindByFileNameAsync(HelmChartService charts, Registry reg, string file, CancellationToken ct)
    {
        if (!file.EndsWith(".tgz", StringComparison.Ordinal)) return null;
        var stem = file[..^4];
        for (var i = stem.IndexOf('-'); i > 0 && i < stem.Length - 1; i = stem.IndexOf('-', i + 1))
        {
            if (!char.IsAsciiDigit(stem[i + 1])) continue;
            if (await charts.FindAsync(reg, stem[..i], stem[(i + 1)..], ct) is { } chart) return chart;
        }
        return null;
    }

    private static async Task<IResult> UploadAsync(HttpContext ctx, string registry, RegistryAccess access,
        HelmChartService charts, ArtifactService artifacts, ServerOptions options)
    {
        var reg = await access.RequireAsync(ctx, registry, TokenScope.Write, Core.Model.PackageTypes.Helm);
        var ct = ctx.RequestAborted;
        var forced = ctx.Request.Query.ContainsKey("force") && !string.Equals(ctx.Request.Query["force"], "false", StringComparison.OrdinalIgnoreCase);
        var overwrite = reg.AllowOverwrite || forced;
        if (forced && !reg.AllowOverwrite) AccessControl.Require(ctx.Principal(), reg, TokenScope.Delete);

        var blob = await ReadChartBodyAsync(ctx, artifacts, options, ct);
        // The chart's name and version are only known from the archive, so the duplicate check comes after parsing.
        var meta = await charts.ReadMetadataAsync(blob.Digest, ct);
        if (!overwrite && await charts.VersionExistsAsync(reg, meta.Name!, meta.Version!, ct)) return Conflict();
        if (await charts.PublishAsync(reg, blob, meta, overwrite, ct) == PublishOutcome.Conflict) return Conflict();
        return Results.Json(new { saved = true }, statusCode: StatusCodes.Status201Created);
    }

    private static IResult Conflict() => Results.Json(new { error = "file already exists" }, statusCode: StatusCodes.Status409Conflict);

    /// <summary>The chart is the raw body, or the "chart" field of a multipart form (helm-push / curl -F chart=@x.tgz).</summary>
    private static async Task<BlobWriteResult> ReadChartBodyAsync(HttpContext ctx, ArtifactService artifacts, ServerOptions options, CancellationToken ct)
    {
        var maxSize = Math.Min(options.MaxUploadBytes ?? long.MaxValue, HelmChartService.MaxChartBytes);
        var blobOptions = new BlobWriteOptions { ComputeLegacyChecksums = true, MaxSize = maxSize };
        if (!MediaTypeHeaderValue.TryParse(ctx.Request.ContentType, out var mediaType)
            || !mediaType.MediaType.Equals("multipart/form-data", StringComparison.OrdinalIgnoreCase))
            return await artifacts.StoreBlobAsync(ctx.Request.Body, blobOptions with { ExpectedSize = ctx.Request.ContentLength }, ct);

        var boundary = HeaderUtilities.RemoveQuotes(mediaType.Boundary).Value;
        if (string.IsNullOrEmpty(boundary)) throw ArcaException.BadRequest("multipart body without a boundary", "BAD_CONTENT_TYPE");
        var reader = new MultipartReader(boundary, ctx.Request.Body) { BodyLengthLimit = maxSize };
        BlobWriteResult? chart = null;
        try
        {
            while (await reader.ReadNextSectionAsync(ct) is { } section)
            {
                if (ContentDispositionHeaderValue.TryParse(section.ContentDisposition, out var cd)
                    && HeaderUtilities.RemoveQuotes(cd.Name).Value == "chart" && chart is null)
                    chart = await artifacts.StoreBlobAsync(section.Body, blobOptions, ct);
                else
                    await section.Body.CopyToAsync(Stream.Null, ct); // e.g. "prov": provenance files are not kept
            }
        }
        catch (InvalidDataException e) { throw ArcaException.BadRequest($"malformed multipart body: {e.Message}", "BAD_MULTIPART"); }
        return chart ?? throw ArcaException.BadRequest("multipart upload without a 'chart' field", "MISSING_CHART");
    }

    private static async Task<IResult> ListAllAsync(HttpContext ctx, string registry, RegistryAccess access, HelmChartService charts)
    {
        var reg = await access.RequireAsync(ctx, registry, TokenScope.Read, Core.Model.PackageTypes.Helm);
        var all = await charts.ListAsync(reg, null, ctx.RequestAborted);
        return Results.Json(all.ToDictionary(kv => kv.Key, kv => kv.Value.Select(ApiEntry).ToList()));
    }

    private static async Task<IResult> ListNameAsync(HttpContext ctx, string registry, string name, RegistryAccess access, HelmChartService charts)
    {
        var reg = await access.RequireAsync(ctx, registry, TokenScope.Read, Core.Model.PackageTypes.Helm);
        var all = await charts.ListAsync(reg, name, ctx.RequestAborted);
        if (!all.TryGetValue(name, out var versions)) throw ArcaException.NotFound($"chart not found", "CHART_NOT_FOUND");
        return Results.Json(versions.Select(ApiEntry).ToList());
    }

    private static async Task<IResult> GetVersionAsync(HttpContext ctx, string registry, string name, string version, RegistryAccess access, HelmChartService charts)
    {
        var reg = await access.RequireAsync(ctx, registry, TokenScope.Read, Core.Model.PackageTypes.Helm);
        var chart = await charts.FindAsync(reg, name, version, ctx.RequestAborted)
                    ?? throw ArcaException.NotFound("improper constraint: " + version, "CHART_NOT_FOUND");
        return Results.Json(ApiEntry(chart));
    }

    private static async Task<IResult> DeleteAsync(HttpContext ctx, string registry, string name, string version, RegistryAccess access,
        HelmChartService charts, ArtifactLifecycles lifecycles)
    {
        var reg = await access.RequireAsync(ctx, registry, TokenScope.Delete, Core.Model.PackageTypes.Helm);
        var chart = await charts.FindAsync(reg, name, version, ctx.RequestAborted)
                    ?? throw ArcaException.NotFound($"chart {name} {version} not found", "CHART_NOT_FOUND");
        await lifecycles.For(reg.PackageType).DeleteVersionAsync(reg, chart.Package, chart.Version, ctx.RequestAborted);
        return Results.Json(new { deleted = true });
    }

    /// <summary>ChartMuseum's JSON shape of a chart version: the metadata plus relative urls, created and digest.</summary>
    private static Dictionary<string, object?> ApiEntry(StoredChart chart)
    {
        var json = JsonSerializer.SerializeToElement(chart.Metadata, ChartMetadata.Json);
        var entry = json.EnumerateObject().ToDictionary(p => p.Name, p => (object?)p.Value);
        entry["urls"] = new[] { "charts/" + chart.File.Path };
        entry["created"] = FormatTime(chart.Version.CreatedAt);
        entry["digest"] = chart.File.Sha256;
        return entry;
    }
}
