using System.Runtime.CompilerServices;
using Arca.Migration.Config;
using Arca.Migration.Destinations;
using Arca.Migration.Engine;

namespace Arca.Migration.Sources;

/// <summary>GO from another Arca: modules and versions listed through the management API, the zip's size and sha256
/// from the version's files, content read through the source's GOPROXY endpoints (.zip, .mod, .info).</summary>
public sealed partial class ArcaSource
{
    private async IAsyncEnumerable<MigrationItem> ListGoAsync(MappingConfig mapping, PackageFilter filter, [EnumeratorCancellation] CancellationToken ct)
    {
        var reg = Uri.EscapeDataString(mapping.SourceRegistry);
        await foreach (var package in PagesAsync($"api/v1/registries/{reg}/packages", ct))
        {
            var module = package.GetProperty("name").GetString()!;
            if (!filter.Selects(module)) continue;
            await foreach (var version in PagesAsync($"api/v1/registries/{reg}/versions?package={Escape(module)}", ct))
            {
                var v = version.GetProperty("version").GetString()!;
                long? size = null;
                string? sha256 = null;
                await foreach (var file in PagesAsync($"api/v1/registries/{reg}/files?package={Escape(module)}&version={Escape(v)}", ct))
                    if (file.GetProperty("path").GetString() == $"{v}.zip")
                        (size, sha256) = (file.GetProperty("size").GetInt64(), file.GetProperty("sha256").GetString());
                var versionUrl = $"pkg/{reg}/go/{Arca.Core.Validation.GoCaseEncoding.Encode(module)}/@v/{Arca.Core.Validation.GoCaseEncoding.Encode(v)}";
                yield return new GoModuleItem
                {
                    Key = $"{mapping.Index}|GO|{module}|{v}", Package = module, Version = v, Module = module,
                    Display = $"{module}@{v}", Size = size, Sha256 = sha256,
                    ListingError = sha256 is null ? $"{module}@{v} has no {v}.zip in the source registry" : null,
                    OpenZip = token => OpenAsync(versionUrl + ".zip", token),
                    ReadMod = token => ReadGoDocumentAsync(versionUrl + ".mod", token),
                    ReadInfo = token => ReadGoDocumentAsync(versionUrl + ".info", token),
                };
            }
        }
    }

    private Task<byte[]?> ReadGoDocumentAsync(string url, CancellationToken ct) => GoDocuments.ReadAsync(_http, url, ct);
}
