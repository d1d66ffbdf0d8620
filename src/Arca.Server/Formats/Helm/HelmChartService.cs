using Arca.Core.Model;
using Arca.Core.Storage;
using Arca.Core.Validation;
using Arca.Server.Services;

namespace Arca.Server.Formats.Helm;

/// <summary>A chart as the classic repository sees it: its version record, metadata and .tgz file.</summary>
public sealed record StoredChart(Package Package, PackageVersion Version, ChartMetadata Metadata, PackageFile File);

/// <summary>
/// Charts in a HELM registry, by the storage contract shared with the OCI module: package = chart name,
/// version = chart version, file "&lt;name&gt;-&lt;version&gt;.tgz" = the chart archive, version properties
/// <c>{"chart": {Chart.yaml fields}}</c>. Whatever wrote a version (ChartMuseum upload or `helm push` over OCI),
/// a version with a chart property and a .tgz file is a chart.
/// </summary>
public sealed class HelmChartService(ArtifactService artifacts)
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

    /// <summary>Publishes a validated chart archive. The outcome is Conflict when it exists and overwrite is off.</summary>
    public Task<PublishResult> PublishAsync(Registry registry, BlobWriteResult blob, ChartMetadata meta, bool overwrite, CancellationToken ct) =>
        artifacts.Store.PublishAsync(new PublishRequest
        {
            RegistryId = registry.Id, PackageName = meta.Name!, Version = meta.Version!, Overwrite = overwrite,
            ReplaceVersion = overwrite, VersionProperties = meta.ToPropertiesJson(),
            Files = [new NewFile(meta.FileName, blob.Digest.ToString(), blob.Size, ChartContentType, blob.Sha1, blob.Md5)],
        }, ct);

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
                    if (await ToChartAsync(pkg, v, ct) is { } chart) charts.Add(chart);
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
