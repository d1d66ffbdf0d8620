using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Arca.Core.Model;
using Arca.Core.Storage;
using Arca.Core.Validation;
using Arca.Server.Formats.Oci;
using Arca.Server.Services;

namespace Arca.Server.Formats.Helm;

/// <summary>A chart as the classic repository sees it: its version record, metadata and .tgz file.</summary>
public sealed record StoredChart(Package Package, PackageVersion Version, ChartMetadata Metadata, PackageFile File);

/// <summary>
/// Charts in a HELM registry, by the storage contract shared with the OCI module: package = chart name,
/// version = chart version, file "&lt;name&gt;-&lt;version&gt;.tgz" = the chart archive, version properties
/// <c>{"chart": {Chart.yaml fields}}</c>. Whatever wrote a version (ChartMuseum upload or `helm push` over OCI),
/// a version with a chart property and a .tgz file is a chart. A chart uploaded here is also stored as an OCI
/// artifact (through the OCI module's manifest service), so both views always show the same charts.
/// </summary>
public sealed class HelmChartService(ArtifactService artifacts, OciManifestService oci)
{
    public const string ChartContentType = "application/gzip";
    /// <summary>Largest chart archive accepted when the server sets no smaller upload limit.</summary>
    public const long MaxChartBytes = 1L << 30;

    /// <summary>Reads and validates the Chart.yaml of an archive already in the blob store (400 when invalid).</summary>
    public async Task<ChartMetadata> ReadMetadataAsync(Digest blob, CancellationToken ct)
    {
        await using var stream = await artifacts.Blobs.OpenReadAsync(blob, ct) ?? throw new InvalidOperationException($"blob {blob} vanished after upload");
        return await ChartArchive.ReadMetadataAsync(stream, ct);
    }

    /// <summary>Publishes a validated chart archive, in the classic view and as an OCI artifact. The outcome is Conflict
    /// when the version exists and overwrite is off.</summary>
    public async Task<PublishOutcome> PublishAsync(Registry registry, BlobWriteResult blob, ChartMetadata meta, bool overwrite, CancellationToken ct)
    {
        var tag = OciTag(meta.Version!);
        var ociNameValid = OciPath.IsValidRepository(meta.Name!) && OciPath.IsValidTag(tag);
        if (ociNameValid && tag != meta.Version)
        {
            // The version row will be named by the tag; check for a duplicate here, as no classic row guards it.
            if (!overwrite && await VersionExistsAsync(registry, meta.Name!, meta.Version!, ct)) return PublishOutcome.Conflict;
            await PublishAsOciAsync(registry, blob, meta, ct);
            return PublishOutcome.Created;
        }
        // The classic row first: its transaction refuses a concurrent duplicate. The OCI write then takes the row over
        // (same name), giving it the OCI properties (still with "chart") and files manifest.json + the .tgz.
        var result = await artifacts.Store.PublishAsync(new PublishRequest
        {
            RegistryId = registry.Id, PackageName = meta.Name!, Version = meta.Version!, Overwrite = overwrite,
            ReplaceVersion = overwrite, VersionProperties = meta.ToPropertiesJson(),
            Files = [new NewFile(meta.FileName, blob.Digest.ToString(), blob.Size, ChartContentType, blob.Sha1, blob.Md5)],
        }, ct);
        // Chart names OCI cannot carry (upper case, say) stay classic-only.
        if (result.Outcome != PublishOutcome.Conflict && ociNameValid) await PublishAsOciAsync(registry, blob, meta, ct);
        return result.Outcome;
    }

    /// <summary>
    /// Stores the chart as an OCI artifact exactly as `helm push` writes it: config = the Chart.yaml metadata as JSON
    /// (application/vnd.cncf.helm.config.v1+json), one layer = the archive (application/vnd.cncf.helm.chart.content.v1.tar+gzip),
    /// the org.opencontainers.image.* annotations helm sets, tag = the version with '+' written as '_'.
    /// </summary>
    private async Task PublishAsOciAsync(Registry registry, BlobWriteResult chartBlob, ChartMetadata meta, CancellationToken ct)
    {
        var config = JsonSerializer.SerializeToUtf8Bytes(meta, ChartMetadata.Json);
        var configBlob = await artifacts.StoreBlobAsync(new MemoryStream(config, writable: false), new BlobWriteOptions(), ct);
        var manifest = new JsonObject
        {
            ["schemaVersion"] = 2,
            ["mediaType"] = OciMediaTypes.OciManifest,
            ["config"] = new JsonObject { ["mediaType"] = OciMediaTypes.HelmConfig, ["digest"] = configBlob.Digest.ToString(), ["size"] = configBlob.Size },
            ["layers"] = new JsonArray(new JsonObject { ["mediaType"] = OciMediaTypes.HelmChart, ["digest"] = chartBlob.Digest.ToString(), ["size"] = chartBlob.Size }),
            ["annotations"] = OciAnnotations(meta),
        };
        await oci.PutManifestAsync(registry, meta.Name!, OciTag(meta.Version!), Encoding.UTF8.GetBytes(manifest.ToJsonString()), OciMediaTypes.OciManifest, ct);
    }

    /// <summary>The annotations `helm push` derives from Chart.yaml.</summary>
    private static JsonObject OciAnnotations(ChartMetadata meta)
    {
        var a = new JsonObject();
        if (meta.Annotations is not null)
            foreach (var (k, v) in meta.Annotations) a[k] = v;
        if (!string.IsNullOrEmpty(meta.Description)) a["org.opencontainers.image.description"] = meta.Description;
        if (!string.IsNullOrEmpty(meta.Home)) a["org.opencontainers.image.url"] = meta.Home;
        if (meta.Sources is { Count: > 0 } sources) a["org.opencontainers.image.source"] = sources[0];
        if (meta.Maintainers is { Count: > 0 } maintainers)
            a["org.opencontainers.image.authors"] = string.Join(", ", maintainers.Select(m => string.IsNullOrEmpty(m.Email) ? m.Name : $"{m.Name} ({m.Email})"));
        a["org.opencontainers.image.title"] = meta.Name;
        a["org.opencontainers.image.version"] = meta.Version;
        a["org.opencontainers.image.created"] = DateTimeOffset.UtcNow.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'");
        return a;
    }

    /// <summary>The OCI tag `helm push` uses for a chart version.</summary>
    public static string OciTag(string chartVersion) => chartVersion.Replace('+', '_');

    /// <summary>True when the registry has any version record under this name and version (a chart or not).</summary>
    public async Task<bool> VersionExistsAsync(Registry registry, string name, string version, CancellationToken ct)
    {
        var pkg = await artifacts.Store.GetPackageAsync(registry.Id, name, ct);
        return pkg is not null && (await artifacts.Store.GetVersionAsync(pkg.Id, version, ct) is not null
                                   || await artifacts.Store.GetVersionAsync(pkg.Id, OciTag(version), ct) is not null);
    }

    public async Task<StoredChart?> FindAsync(Registry registry, string name, string version, CancellationToken ct)
    {
        var store = artifacts.Store;
        var pkg = await store.GetPackageAsync(registry.Id, name, ct);
        if (pkg is null) return null;
        // A chart pushed over OCI is recorded under its tag, where `helm push` writes '+' (not allowed in tags) as '_'.
        var ver = await store.GetVersionAsync(pkg.Id, version, ct)
                  ?? (version.Contains('+') ? await store.GetVersionAsync(pkg.Id, OciTag(version), ct) : null);
        return ver is null ? null : await ToChartAsync(pkg, ver, ct);
    }

    /// <summary>Every chart of the registry, grouped by name, newest version first (the order of index.yaml).</summary>
    public async Task<SortedDictionary<string, List<StoredChart>>> ListAsync(Registry registry, string? onlyName, CancellationToken ct)
    {
        var store = artifacts.Store;
        var result = new SortedDictionary<string, List<StoredChart>>(StringComparer.Ordinal);
        var packages = new List<Package>();
        if (onlyName is not null)
        {
            if (await store.GetPackageAsync(registry.Id, onlyName, ct) is { } p) packages.Add(p);
        }
        else
        {
            for (var page = 1; ; page++)
            {
                var batch = await store.ListPackagesAsync(registry.Id, null, new PageRequest(page, PageRequest.MaxPageSize), ct);
                packages.AddRange(batch.Items);
                if (batch.Items.Count < PageRequest.MaxPageSize) break;
            }
        }
        foreach (var pkg in packages)
        {
            var charts = new List<StoredChart>();
            for (var page = 1; ; page++)
            {
                var batch = await store.ListVersionsAsync(pkg.Id, new PageRequest(page, PageRequest.MaxPageSize), ct);
                foreach (var v in batch.Items)
                    if (await ToChartAsync(pkg, v, ct) is { } chart && !charts.Any(c => c.Metadata.Version == chart.Metadata.Version))
                        charts.Add(chart);
                if (batch.Items.Count < PageRequest.MaxPageSize) break;
            }
            if (charts.Count == 0) continue;
            charts.Sort((a, b) => CompareVersions(b.Metadata.Version, a.Metadata.Version));
            result[pkg.Name] = charts;
        }
        return result;
    }

    private static int CompareVersions(string? a, string? b)
    {
        var okA = SemVer2.TryParse(a, out var va);
        var okB = SemVer2.TryParse(b, out var vb);
        if (okA && okB) return va.CompareTo(vb);
        return okA.CompareTo(okB) is var c and not 0 ? c : string.CompareOrdinal(a, b);
    }

    private async Task<StoredChart?> ToChartAsync(Package pkg, PackageVersion version, CancellationToken ct)
    {
        var meta = ChartMetadata.FromProperties(version.Properties);
        if (meta is null) return null;
        meta.Name ??= pkg.Name;
        meta.Version ??= version.Version;
        var file = await artifacts.Store.GetFileAsync(version.Id, $"{pkg.Name}-{version.Version}.tgz", ct);
        if (file is null)
        {
            var files = await artifacts.Store.ListFilesAsync(version.Id, ct);
            file = files.FirstOrDefault(f => f.Path.EndsWith(".tgz", StringComparison.Ordinal));
        }
        return file is null ? null : new StoredChart(pkg, version, meta, file);
    }
}
