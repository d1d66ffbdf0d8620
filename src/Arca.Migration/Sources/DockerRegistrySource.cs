using System.Net;
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
        // Tag lists of the next repositories are fetched ahead too (a registry with many small repositories would
        // otherwise wait for one tags/list after another); one repository's tag names are held at a time per slot.
        var repositories = new Queue<(string Repository, string Name, Task<List<string>> Tags)>();
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(ct);
        var named = NamedRepositories(mapping);
        var names = named is null ? CatalogAsync(lister, ct) : named.Select(n => prefix.Length == 0 ? n : $"{prefix}/{n}").ToAsyncEnumerable();
        await using var catalog = names.GetAsyncEnumerator(ct);
        try
        {
            var more = true;
            while (true)
            {
                while (more && repositories.Count < width && (more = await catalog.MoveNextAsync()))
                {
                    var repository = catalog.Current;
                    if (StripPrefix(repository, prefix) is not { } name || !filter.Selects(name)) continue;
                    repositories.Enqueue((repository, name, TagsAsync(lister, repository, stop.Token)));
                }
                if (repositories.Count == 0) break;
                var next = repositories.Dequeue();
                var tags = await next.Tags;
                foreach (var tag in tags)
                {
                    if (ImageCopier.IsReferrersFallbackTag(tag)) continue;
                    var finished = OciImageItem.Create(mapping, puller ?? lister, next.Repository, next.Name, tag, null, null);
                    // --resume: a tag the state file has as done needs no manifest read; the engine skips it.
                    window.Enqueue(mapping.AlreadyDone?.Invoke(finished.Key) == true ? Task.FromResult<MigrationItem?>(finished)
                        : ResolveTagAsync(lister, puller ?? lister, mapping, next.Repository, next.Name, tag, stop.Token));
                    if (window.Count >= width && await window.Dequeue() is { } item) yield return item;
                }
                // A repository named in the config that the source does not have is a mistake worth seeing.
                if (named is not null && tags.Count == 0)
                    yield return new RejectedItem
                    {
                        Key = $"{mapping.Index}|{mapping.ArtifactType}|{next.Repository}", Package = next.Name, Version = "", Display = next.Repository,
                        ListingError = $"{next.Repository}: the source has no such repository (or it has no tags)",
                    };
            }
            while (window.Count > 0)
                if (await window.Dequeue() is { } item) yield return item;
        }
        finally
        {
            // The consumer stopped early (or listing failed): let lookups still in flight end before returning.
            stop.Cancel();
            foreach (var pending in window)
                try { await pending; } catch (Exception) { /* abandoned */ }
            foreach (var pending in repositories)
                try { await pending.Tags; } catch (Exception) { /* abandoned */ }
        }
    }

    private static async Task<List<string>> TagsAsync(OciRegistryClient lister, string repository, CancellationToken ct)
    {
        var tags = new List<string>();
        await foreach (var tag in lister.ListTagsAsync(repository, PageSize, ct)) tags.Add(tag);
        return tags;
    }

    /// <summary>
    /// Repository names the mapping spells out: when every include pattern is a plain name (no <c>*</c> or <c>?</c>),
    /// those repositories are listed directly, without the catalog — registries such as Docker Hub, ECR or GitLab do not
    /// offer <c>/v2/_catalog</c> (or only to administrators), and a big catalog need not be walked for a few names.
    /// </summary>
    internal static IReadOnlyList<string>? NamedRepositories(MappingConfig mapping) =>
        mapping.IncludePatterns.Count > 0 && mapping.IncludePatterns.All(p => p.Length > 0 && p.IndexOfAny(['*', '?']) < 0)
            ? mapping.IncludePatterns.Select(p => p.Trim('/')).Distinct(StringComparer.Ordinal).ToList()
            : null;

    /// <summary>The catalog, with a refusal (Docker Hub, ECR, GitLab without admin rights...) explained.</summary>
    private static async IAsyncEnumerable<string> CatalogAsync(OciRegistryClient lister, [EnumeratorCancellation] CancellationToken ct)
    {
        await using var pages = lister.CatalogAsync(PageSize, ct).GetAsyncEnumerator(ct);
        while (true)
        {
            try
            {
                if (!await pages.MoveNextAsync()) yield break;
            }
            catch (OciException e) when (e.Status is HttpStatusCode.Unauthorized or HttpStatusCode.Forbidden or HttpStatusCode.NotFound
                                           or HttpStatusCode.MethodNotAllowed or HttpStatusCode.NotImplemented || e.Code == "UNSUPPORTED")
            {
                throw new OciException($"the registry does not let these credentials list its repositories (/v2/_catalog: {e.Message}); " +
                                       "name the repositories to migrate in includePatterns, without wildcards (e.g. [\"team/app\", \"team/web\"])",
                    e.Status, e.Code, e);
            }
            yield return pages.Current;
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
