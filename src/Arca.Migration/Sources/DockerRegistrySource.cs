using System.Runtime.CompilerServices;
using Arca.Client.Oci;
using Arca.Migration.Config;
using Arca.Migration.Engine;

namespace Arca.Migration.Sources;

/// <summary>
/// Any OCI distribution registry (type DOCKER_REGISTRY): repositories from <c>/v2/_catalog</c>, tags from
/// <c>tags/list</c>, both paged, through the one OCI client (anonymous, Basic or the token flow).
/// <c>sourceRegistry</c> is a leading path of repository names: <c>team</c> selects <c>team/app</c>, which lands as
/// <c>&lt;destinationRegistry&gt;/app</c>; empty selects everything and keeps names whole. Include/exclude patterns
/// apply to the name after that prefix. Referrers fallback tags (<c>sha256-…</c>) are not items: they travel as referrers.
/// </summary>
public sealed class DockerRegistrySource(EndpointConfig endpoint) : IMigrationSource
{
    private const int PageSize = 100;
    private readonly OciClientPool _clients = new(endpoint);

    public IReadOnlyCollection<string> SupportedArtifactTypes => ["DOCKER", "HELM"];

    public async IAsyncEnumerable<MigrationItem> ListAsync(MappingConfig mapping, PackageFilter filter, [EnumeratorCancellation] CancellationToken ct)
    {
        // sourcePackageHostname: the host images are pulled from, when it differs from the API endpoint.
        await foreach (var item in ListImagesAsync(_clients.For(), mapping, mapping.SourceRegistry.Trim('/'), filter, ct, _clients.For(mapping.SourcePackageHostname)))
            yield return item;
    }

    /// <summary>
    /// Every tag of every repository of a registry's catalog (names under <paramref name="prefix"/>, the prefix cut),
    /// as image items pulled through <paramref name="puller"/> (default: the lister). Also used by sources that serve
    /// a registry API under a path (Nexus, Artifactory).
    /// </summary>
    internal static async IAsyncEnumerable<MigrationItem> ListImagesAsync(OciRegistryClient lister, MappingConfig mapping, string prefix, PackageFilter filter,
        [EnumeratorCancellation] CancellationToken ct, OciRegistryClient? puller = null)
    {
        await foreach (var repository in lister.CatalogAsync(PageSize, ct))
        {
            if (StripPrefix(repository, prefix) is not { } name || !filter.Selects(name)) continue;
            await foreach (var tag in lister.ListTagsAsync(repository, PageSize, ct))
            {
                if (ImageCopier.IsReferrersFallbackTag(tag)) continue;
                yield return OciImageItem.Create(mapping, puller ?? lister, repository, name, tag, null, null);
            }
        }
    }

    /// <summary>The repository name below <paramref name="prefix"/>, or null when it is not under it.</summary>
    internal static string? StripPrefix(string repository, string prefix) =>
        prefix.Length == 0 ? repository
        : repository.StartsWith(prefix + "/", StringComparison.Ordinal) ? repository[(prefix.Length + 1)..]
        : null;

    public void Dispose() => _clients.Dispose();
}
