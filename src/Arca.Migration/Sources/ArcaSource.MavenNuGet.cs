using System.Runtime.CompilerServices;
using System.Text.Json;
using Arca.Migration.Config;
using Arca.Migration.Destinations;
using Arca.Migration.Engine;

namespace Arca.Migration.Sources;

/// <summary>MAVEN and NUGET from another Arca: listed through the management API, read from the format endpoints.</summary>
public sealed partial class ArcaSource
{
    /// <summary>One item per stored Maven file; packages are <c>groupId:artifactId</c> (what include patterns match).
    /// Arca stores no checksum sidecars or maven-metadata.xml as files, so every file listed is an artifact file.</summary>
    private async IAsyncEnumerable<MigrationItem> ListMavenAsync(MappingConfig mapping, PackageFilter filter, [EnumeratorCancellation] CancellationToken ct)
    {
        var reg = Escape(mapping.SourceRegistry);
        await foreach (var package in PagesAsync($"api/v1/registries/{reg}/packages", ct))
        {
            var name = package.GetProperty("name").GetString()!;
            if (!filter.Selects(name) || name.Split(':') is not [var groupId, var artifactId]) continue;
            await foreach (var version in PagesAsync($"api/v1/registries/{reg}/versions?package={Escape(name)}", ct))
            {
                var v = version.GetProperty("version").GetString()!;
                await foreach (var file in PagesAsync($"api/v1/registries/{reg}/files?package={Escape(name)}&version={Escape(v)}", ct))
                {
                    var path = $"{groupId.Replace('.', '/')}/{artifactId}/{v}/{file.GetProperty("path").GetString()}";
                    yield return new MavenFileItem
                    {
                        Key = $"{mapping.Index}|MAVEN|{path}", Package = name, Version = v, Path = path, Display = path,
                        Size = file.GetProperty("size").GetInt64(),
                        Sha256 = file.GetProperty("sha256").GetString(),
                        Sha1 = file.TryGetProperty("sha1", out var sha1) && sha1.ValueKind == JsonValueKind.String ? sha1.GetString() : null,
                        Open = token => OpenAsync($"pkg/{reg}/maven/{EscapePath(path)}", token),
                    };
                }
            }
        }
    }

    /// <summary>One item per NuGet version (its .nupkg); the listed flag comes from the version's properties.</summary>
    private async IAsyncEnumerable<MigrationItem> ListNuGetAsync(MappingConfig mapping, PackageFilter filter, [EnumeratorCancellation] CancellationToken ct)
    {
        var reg = Escape(mapping.SourceRegistry);
        await foreach (var package in PagesAsync($"api/v1/registries/{reg}/packages", ct))
        {
            var name = package.GetProperty("name").GetString()!;
            if (!filter.Selects(name)) continue;
            await foreach (var version in PagesAsync($"api/v1/registries/{reg}/versions?package={Escape(name)}", ct))
            {
                var v = version.GetProperty("version").GetString()!;
                var props = version.TryGetProperty("properties", out var p) && p.ValueKind == JsonValueKind.Object ? p : default;
                bool? listed = props.ValueKind == JsonValueKind.Object && props.TryGetProperty("listed", out var l) && l.ValueKind is JsonValueKind.False or JsonValueKind.True
                    ? l.GetBoolean() : null;
                var id = props.ValueKind == JsonValueKind.Object && props.TryGetProperty("id", out var i) && i.ValueKind == JsonValueKind.String ? i.GetString()! : name;
                var nupkgName = $"{name}.{v}.nupkg";
                JsonElement? nupkg = null;
                await foreach (var file in PagesAsync($"api/v1/registries/{reg}/files?package={Escape(name)}&version={Escape(v)}", ct))
                    if (file.GetProperty("path").GetString() == nupkgName) nupkg = file;
                if (nupkg is not { } f) continue; // not a package version (nothing to restore)
                yield return new NuGetPackageItem
                {
                    Key = $"{mapping.Index}|NUGET|{name}|{v}", Package = id, Version = v, Display = $"{id} {v}",
                    Size = f.GetProperty("size").GetInt64(), Sha256 = f.GetProperty("sha256").GetString(),
                    IsListed = _ => Task.FromResult(listed),
                    Open = token => OpenAsync($"pkg/{reg}/nuget/v3-flatcontainer/{Escape(name)}/{Escape(v)}/{Escape(nupkgName)}", token),
                };
            }
        }
    }
}
