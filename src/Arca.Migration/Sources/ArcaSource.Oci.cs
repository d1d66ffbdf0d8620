using System.Runtime.CompilerServices;
using System.Text.Json;
using Arca.Client.Oci;
using Arca.Migration.Config;
using Arca.Migration.Engine;

namespace Arca.Migration.Sources;

/// <summary>DOCKER and HELM (OCI) from another Arca: repositories and tags from the management API (a package is a
/// repository, its versions are tags or digests, version properties carry the manifest digest), content pulled from
/// <c>/v2/&lt;registry&gt;/&lt;repository&gt;</c> with the OCI client (Arca's token flow, the token as password).</summary>
public sealed partial class ArcaSource
{
    private OciClientPool? _ociClients;

    private OciRegistryClient OciClient(MappingConfig mapping)
    {
        lock (_http) _ociClients ??= new OciClientPool(Endpoint, preemptiveBasic: true); // another Arca takes its token as Basic
        return _ociClients.For(mapping.SourcePackageHostname);
    }

    private async IAsyncEnumerable<MigrationItem> ListOciAsync(MappingConfig mapping, PackageFilter filter, [EnumeratorCancellation] CancellationToken ct)
    {
        var client = OciClient(mapping);
        var reg = Escape(mapping.SourceRegistry);
        await foreach (var package in PagesAsync($"api/v1/registries/{reg}/packages", ct))
        {
            var name = package.GetProperty("name").GetString()!;
            if (!filter.Selects(name)) continue;
            await foreach (var version in PagesAsync($"api/v1/registries/{reg}/versions?package={Escape(name)}", ct))
            {
                var tag = version.GetProperty("version").GetString()!;
                // Untagged manifests (versions named by digest) and referrers fallback tags travel with their tags.
                if (tag.Contains(':') || ImageCopier.IsReferrersFallbackTag(tag)) continue;
                long? size = version.TryGetProperty("size", out var s) && s.ValueKind == JsonValueKind.Number ? s.GetInt64() : null;
                yield return OciImageItem.Create(mapping, client, $"{mapping.SourceRegistry}/{name}", name, tag, DigestOf(version), size);
            }
        }
    }

    private static string? DigestOf(JsonElement version)
    {
        if (!version.TryGetProperty("properties", out var props)) return null;
        if (props.ValueKind == JsonValueKind.String)
        {
            try { props = JsonDocument.Parse(props.GetString()!).RootElement; }
            catch (JsonException) { return null; }
        }
        return props.ValueKind == JsonValueKind.Object && props.TryGetProperty("digest", out var d) && d.ValueKind == JsonValueKind.String
            ? d.GetString() : null;
    }
}
