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
/// Every tag's manifest is read while listing (bounded parallelism), which gives digests, real sizes and the kind:
/// a HELM mapping takes the OCI Helm charts, a DOCKER mapping everything else.
/// <para>Auth: AWS ECR hosts (<c>ACCOUNT.dkr.ecr.REGION.amazonaws.com</c>), or any host with <c>source.awsRegion</c>,
/// take the AWS access key id / secret access key as username / password (else AWS_ACCESS_KEY_ID,
/// AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN) and get registry credentials from ECR's GetAuthorizationToken
/// (<see cref="OciClientPool"/>). Azure ACR (admin user, service principal or token), Google Artifact Registry / GCR
/// (<c>_json_key</c> / <c>oauth2accesstoken</c>), Quay (robot account) and GitLab (deploy token or PAT) need nothing
/// special: their username/password go as Basic and through the standard registry token flow.</para>
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
    /// <para>Each tag is resolved while listing: its manifest is fetched (for an index, its child manifests too) so the
    /// item carries the digest the writer copies and the size a dry run shows, and so the mapping can take only its
    /// kind: HELM takes Helm charts (config media type <see cref="OciMediaTypes.HelmConfig"/>), DOCKER everything
    /// else, like Harbor's artifact types. Resolution runs <see cref="MappingConfig.ListConcurrency"/> tags at a
    /// time in an ordered sliding window, so only that many manifests are ever in memory.</para>
    /// </summary>
    internal static async IAsyncEnumerable<MigrationItem> ListImagesAsync(OciRegistryClient lister, MappingConfig mapping, string prefix, PackageFilter filter,
        [EnumeratorCancellation] CancellationToken ct, OciRegistryClient? puller = null)
    {
        var width = Math.Max(1, mapping.ListConcurrency);
        var window = new Queue<Task<MigrationItem?>>();
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(ct);
        try
        {
            await foreach (var repository in lister.CatalogAsync(PageSize, ct))
            {
                if (StripPrefix(repository, prefix) is not { } name || !filter.Selects(name)) continue;
                await foreach (var tag in lister.ListTagsAsync(repository, PageSize, ct))
                {
                    if (ImageCopier.IsReferrersFallbackTag(tag)) continue;
                    window.Enqueue(ResolveTagAsync(lister, puller ?? lister, mapping, repository, name, tag, stop.Token));
                    if (window.Count >= width && await window.Dequeue() is { } item) yield return item;
                }
            }
            while (window.Count > 0)
                if (await window.Dequeue() is { } item) yield return item;
        }
        finally
        {
            // The consumer stopped early (or listing failed): let resolutions still in flight end before returning.
            stop.Cancel();
            foreach (var pending in window)
                try { await pending; } catch (Exception) { /* abandoned */ }
        }
    }

    /// <summary>One tag as an item of this mapping's kind, null when it is of the other kind or vanished since tags/list;
    /// a tag whose manifest cannot be read is a failed item (the listing goes on).</summary>
    private static async Task<MigrationItem?> ResolveTagAsync(OciRegistryClient lister, OciRegistryClient puller, MappingConfig mapping,
        string repository, string name, string tag, CancellationToken ct)
    {
        try
        {
            var manifest = await lister.GetManifestAsync(repository, tag, ct);
            if (manifest is null) return null; // deleted between the tag list and now: nothing to migrate
            if (IsHelmChart(manifest) != (mapping.ArtifactType == "HELM")) return null;
            var size = await ImageSizeAsync(lister, repository, manifest, ct);
            return OciImageItem.Create(mapping, puller, repository, name, tag, manifest.Digest, size);
        }
        catch (Exception e) when (e is OciException or HttpRequestException or IOException)
        {
            return new RejectedItem
            {
                Key = $"{mapping.Index}|{mapping.ArtifactType}|{repository}|{tag}", Package = name, Version = tag, Display = $"{repository}:{tag}",
                ListingError = $"{repository}:{tag}: reading its manifest failed: {e.Message}",
            };
        }
    }

    /// <summary>A Helm chart pushed with <c>helm push</c>: an image manifest whose config is Helm's.</summary>
    internal static bool IsHelmChart(OciManifest manifest) => !manifest.IsIndex && manifest.Config?.MediaType == OciMediaTypes.HelmConfig;

    /// <summary>
    /// Bytes of an image: its manifest, plus config and layers; for an index, the index plus every child manifest
    /// (fetched) with its config and layers. A blob shared by several children counts once (it moves once); referrers
    /// are not counted.
    /// </summary>
    internal static async Task<long> ImageSizeAsync(OciRegistryClient client, string repository, OciManifest manifest, CancellationToken ct)
    {
        var counted = new HashSet<string>(StringComparer.Ordinal);
        long size = 0;
        async Task AddAsync(OciManifest m, int depth)
        {
            size += m.Size;
            foreach (var blob in m.Blobs)
                if (counted.Add(blob.Digest)) size += blob.Size;
            if (!m.IsIndex || depth > 2) return; // an index of indexes is legal but rare; deeper nesting is not followed
            foreach (var child in m.Manifests)
            {
                if (!counted.Add(child.Digest)) continue;
                var childManifest = await client.GetManifestAsync(repository, child.Digest, ct)
                    ?? throw new OciException($"{repository}@{m.Digest} references {child.Digest}, which the registry does not have");
                await AddAsync(childManifest, depth + 1);
            }
        }
        await AddAsync(manifest, 0);
        return size;
    }

    /// <summary>The repository name below <paramref name="prefix"/>, or null when it is not under it.</summary>
    internal static string? StripPrefix(string repository, string prefix) =>
        prefix.Length == 0 ? repository
        : repository.StartsWith(prefix + "/", StringComparison.Ordinal) ? repository[(prefix.Length + 1)..]
        : null;

    public void Dispose() => _clients.Dispose();
}
