using System.Runtime.CompilerServices;
using Arca.Client.Npm;
using Arca.Migration.Config;
using Arca.Migration.Engine;

namespace Arca.Migration.Sources;

/// <summary>NPM and PYTHON from another Arca: packages listed through the management API page by page, each
/// package read from Arca's own npm endpoint (packument) or simple index (PEP 691 JSON).</summary>
public sealed partial class ArcaSource
{
    private SourceDownload? _download;
    private SourceDownload Download => _download ??= new SourceDownload(_http, endpoint);

    private async IAsyncEnumerable<MigrationItem> ListNpmAsync(MappingConfig mapping, PackageFilter filter, [EnumeratorCancellation] CancellationToken ct)
    {
        var reg = Uri.EscapeDataString(mapping.SourceRegistry);
        await foreach (var package in PagesAsync($"api/v1/registries/{reg}/packages", ct))
        {
            var name = package.GetProperty("name").GetString()!;
            if (!filter.Selects(name)) continue;
            await foreach (var item in NpmPackuments.ItemsAsync(_http, $"pkg/{reg}/npm/{NpmPublish.EscapeName(name)}", name, mapping, Download, ct))
                yield return item;
        }
    }

    private async IAsyncEnumerable<MigrationItem> ListPythonAsync(MappingConfig mapping, PackageFilter filter, [EnumeratorCancellation] CancellationToken ct)
    {
        var reg = Uri.EscapeDataString(mapping.SourceRegistry);
        await foreach (var package in PagesAsync($"api/v1/registries/{reg}/packages", ct))
        {
            var name = package.GetProperty("name").GetString()!;
            if (!filter.Selects(name)) continue;
            var url = new Uri(_http.BaseAddress!, $"pkg/{reg}/python/simple/{Uri.EscapeDataString(name)}/");
            await foreach (var item in SimpleIndex.ItemsAsync(url, name, mapping, Download, ct))
                yield return item;
        }
    }
}
