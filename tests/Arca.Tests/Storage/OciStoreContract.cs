using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Arca.Core.Model;
using Arca.Core.Storage;
using Arca.Storage.Sqlite;
using Arca.Tests.Infrastructure;

namespace Arca.Tests.Storage;

/// <summary>The behaviour every <see cref="IOciMetadataStore"/> must have (tags, manifests, references, derived
/// versions, referrers, pruning, blob links); subclass it per storage engine.</summary>
public abstract class OciStoreContract : IAsyncLifetime
{
    protected IMetadataStore Meta { get; private set; } = null!;
    protected IOciMetadataStore Oci { get; private set; } = null!;
    private long _registry;
    protected abstract Task<IMetadataStore> CreateStoreAsync();
    protected abstract IOciMetadataStore CreateOciStore(IMetadataStore store);
    protected virtual Task CleanupAsync() => Task.CompletedTask;

    public async Task InitializeAsync()
    {
        Meta = await CreateStoreAsync();
        await Meta.MigrateAsync();
        Oci = CreateOciStore(Meta);
        _registry = (await Meta.CreateRegistryAsync(new Registry { Name = "images", PackageType = PackageTypes.Docker })).Id;
    }

    public Task DisposeAsync() => CleanupAsync();

    private static string Digest(string seed) => "sha256:" + Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(seed)));

    private static OciManifest Manifest(string seed, string? subject = null, string? annotations = null) => new()
    {
        Digest = Digest(seed), MediaType = "application/vnd.oci.image.manifest.v1+json", Size = 500, SubjectDigest = subject,
        ArtifactType = subject is null ? null : "application/vnd.example.sbom", Annotations = annotations,
        // Deliberately not in canonical key order: the store must give back exactly this text.
        VersionProperties = $$"""{"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": "{{Digest(seed)}}", "seed": "{{seed}}"}""",
        VersionFiles = JsonSerializer.Serialize(new[] { new NewFile("manifest.json", Digest(seed), 500, "application/vnd.oci.image.manifest.v1+json", null, null) }),
    };

    private Task Put(string repo, OciManifest m, string? tag = null, params OciReference[] refs) =>
        Oci.PutManifestAsync(new OciManifestWrite { RegistryId = _registry, Repository = repo, Manifest = m, Tag = tag, References = refs });

    private async Task<List<string>> Versions(string repo)
    {
        var package = await Meta.GetPackageAsync(_registry, repo);
        return package is null ? [] : (await Meta.ListVersionsAsync(package.Id, new PageRequest(1, 100))).Items.Select(v => v.Version).Order(StringComparer.Ordinal).ToList();
    }

    [Fact]
    public async Task Tags_become_versions_and_list_in_byte_order_with_paging()
    {
        var m = Manifest("one");
        foreach (var tag in new[] { "b", "B", "a_1", "a-1", "a", "Z" }) await Put("app", m, tag, new OciReference(Digest("layer"), false));
        Assert.Equal(["B", "Z", "a", "a-1", "a_1", "b"], await Oci.ListTagsAsync(_registry, "app", null, 100));
        Assert.Equal(["a-1", "a_1"], await Oci.ListTagsAsync(_registry, "app", "a", 2));
        Assert.Null(await Oci.ListTagsAsync(_registry, "missing", null, 100));
        Assert.Equal(m.Digest, await Oci.ResolveTagAsync(_registry, "app", "a-1"));

        var stored = (await Oci.GetManifestAsync(_registry, "app", m.Digest))!;
        Assert.Equal(m.VersionProperties, stored.VersionProperties);
        Assert.Equal(m.VersionFiles, stored.VersionFiles);
        var package = (await Meta.GetPackageAsync(_registry, "app"))!;
        var version = (await Meta.GetVersionAsync(package.Id, "a"))!;
        Assert.Equal(m.VersionProperties, version.Properties);
        Assert.Equal(["manifest.json"], (await Meta.ListFilesAsync(version.Id)).Select(f => f.Path));
        Assert.Equal([new OciReference(Digest("layer"), false)], await Oci.ListReferencesAsync(package.Id, m.Digest));
        Assert.Equal(6, (await Oci.ListTagDigestsAsync(package.Id)).Count);

        // Blobs referenced by a manifest are linked to the repository and referenced for GC.
        Assert.True(await Oci.IsBlobLinkedAsync(_registry, "app", Digest("layer")));
        Assert.True(await Meta.IsBlobReferencedAsync(Digest("layer")));
        Assert.True(await Meta.IsBlobReferencedAsync(m.Digest));
        var referenced = new List<string>();
        await foreach (var d in Meta.ListReferencedDigestsAsync()) referenced.Add(d);
        Assert.Contains(Digest("layer"), referenced);
        Assert.Equal(referenced.Distinct().Count(), referenced.Count);

        // Untagging every tag leaves the manifest as a version named by its digest.
        foreach (var tag in new[] { "b", "B", "a_1", "a-1", "a", "Z" }) Assert.True(await Oci.DeleteTagAsync(_registry, "app", tag));
        Assert.False(await Oci.DeleteTagAsync(_registry, "app", "a"));
        Assert.Equal([m.Digest], await Versions("app"));
    }

    [Fact]
    public async Task Index_children_are_not_versions_and_go_with_their_index()
    {
        var amd = Manifest("amd");
        var arm = Manifest("arm");
        var index = Manifest("index");
        await Put("multi", amd, null, new OciReference(Digest("amd-layer"), false));
        await Put("multi", arm, null, new OciReference(Digest("arm-layer"), false));
        await Put("multi", index, "v1", new OciReference(amd.Digest, true), new OciReference(arm.Digest, true));
        Assert.Equal(["v1"], await Versions("multi"));

        Assert.True(await Oci.DeleteManifestAsync(_registry, "multi", index.Digest, cascadeChildren: true));
        Assert.Null(await Oci.GetManifestAsync(_registry, "multi", amd.Digest));
        Assert.Null(await Oci.GetManifestAsync(_registry, "multi", arm.Digest));
        Assert.Null(await Oci.ResolveTagAsync(_registry, "multi", "v1"));
        Assert.Null(await Meta.GetPackageAsync(_registry, "multi")); // an emptied repository disappears
        Assert.False(await Oci.DeleteManifestAsync(_registry, "multi", index.Digest, cascadeChildren: true));
    }

    [Fact]
    public async Task Referrers_are_listed_by_subject_and_pruning_keeps_what_is_needed()
    {
        var image = Manifest("image");
        var sbom = Manifest("sbom", subject: Digest("image"), annotations: """{"org.example.kind": "sbom", "a": "1"}""");
        var orphan = Manifest("orphan");
        await Put("app", image, "v1");
        await Put("app", sbom);
        await Put("app", orphan);
        var referrers = await Oci.ListReferrersAsync(_registry, "app", image.Digest);
        var referrer = Assert.Single(referrers);
        Assert.Equal((sbom.Digest, "application/vnd.example.sbom", sbom.Annotations), (referrer.Digest, referrer.ArtifactType, referrer.Annotations));

        // Only the orphan is prunable: the referrer's subject exists.
        Assert.Equal(1, await Oci.PruneUntaggedAsync(dryRun: true));
        Assert.NotNull(await Oci.GetManifestAsync(_registry, "app", orphan.Digest));
        Assert.Equal(1, await Oci.PruneUntaggedAsync(dryRun: false));
        Assert.Null(await Oci.GetManifestAsync(_registry, "app", orphan.Digest));
        Assert.NotNull(await Oci.GetManifestAsync(_registry, "app", sbom.Digest));

        // Without its subject the referrer goes too.
        Assert.True(await Oci.DeleteManifestAsync(_registry, "app", image.Digest, cascadeChildren: false));
        Assert.Equal(1, await Oci.PruneUntaggedAsync(dryRun: false));
        Assert.Empty(await Oci.ListReferrersAsync(_registry, "app", image.Digest));
        Assert.Equal(0, await Oci.PruneUntaggedAsync(dryRun: false));
    }

    [Fact]
    public async Task Blob_links_are_per_repository()
    {
        var blob = Digest("uploaded");
        await Oci.LinkBlobAsync(_registry, "a/one", blob);
        await Oci.LinkBlobAsync(_registry, "a/one", blob); // idempotent
        Assert.True(await Oci.IsBlobLinkedAsync(_registry, "a/one", blob));
        Assert.False(await Oci.IsBlobLinkedAsync(_registry, "a/two", blob));
        Assert.True(await Oci.IsBlobInRegistryAsync(_registry, blob));
        Assert.True(await Oci.UnlinkBlobAsync(_registry, "a/one", blob));
        Assert.False(await Oci.UnlinkBlobAsync(_registry, "a/one", blob));
        await Oci.LinkBlobAsync(_registry, "a/one", blob);
        await Oci.DeleteRepositoryLinksAsync(_registry, "a/one");
        Assert.False(await Oci.IsBlobInRegistryAsync(_registry, blob));
    }
}

public sealed class SqliteOciStoreTests : OciStoreContract
{
    private readonly string _dir = TempDir.Create("sqlite-oci");
    protected override Task<IMetadataStore> CreateStoreAsync() => Task.FromResult<IMetadataStore>(new SqliteMetadataStore(Path.Combine(_dir, "arca.db")));
    protected override IOciMetadataStore CreateOciStore(IMetadataStore store) => new SqliteOciStore((SqliteMetadataStore)store);
    protected override Task CleanupAsync()
    {
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        TempDir.TryDelete(_dir);
        return Task.CompletedTask;
    }
}
