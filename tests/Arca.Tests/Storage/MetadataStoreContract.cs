using Arca.Core.Auth;
using Arca.Core.Model;
using Arca.Core.Storage;

namespace Arca.Tests.Storage;

/// <summary>
/// The behaviour every IMetadataStore must have. Each implementation (SQLite, PostgreSQL) gets a
/// subclass that only says how to create a fresh, migrated store.
/// </summary>
public abstract class MetadataStoreContract : IAsyncLifetime
{
    protected IMetadataStore Store { get; private set; } = null!;
    protected abstract Task<IMetadataStore> CreateStoreAsync();
    protected virtual Task CleanupAsync() => Task.CompletedTask;

    public async Task InitializeAsync()
    {
        Store = await CreateStoreAsync();
        await Store.MigrateAsync();
        await Store.MigrateAsync(); // migrations are idempotent
    }

    public Task DisposeAsync() => CleanupAsync();

    private Task<Registry> NewRegistry(string name, string type = PackageTypes.Generic) =>
        Store.CreateRegistryAsync(new Registry { Name = name, PackageType = type, Labels = ["x"] });

    private static NewFile File(string path, string digest = "sha256:" + "ab12ab12ab12ab12ab12ab12ab12ab12ab12ab12ab12ab12ab12ab12ab12ab12", long size = 10) =>
        new(path, digest, size, "application/octet-stream", null, null);

    [Fact]
    public async Task Registries_are_unique_and_round_trip()
    {
        var r = await NewRegistry("alpha");
        Assert.True(r.Id > 0);
        var again = await Assert.ThrowsAsync<ArcaException>(() => NewRegistry("alpha"));
        Assert.Equal(409, again.Status);
        var got = await Store.GetRegistryAsync("alpha");
        Assert.Equal(["x"], got!.Labels);
        var updated = await Store.UpdateRegistryAsync(got with { Public = true, Description = "d", Labels = ["a", "b"] });
        Assert.True(updated.Public);
        Assert.Equal(["a", "b"], updated.Labels);
        Assert.Null(await Store.GetRegistryAsync("missing"));
    }

    [Fact]
    public async Task Registry_listing_filters_and_pages()
    {
        for (var i = 0; i < 7; i++) await NewRegistry($"gen-{i}");
        await NewRegistry("npm-a", PackageTypes.Npm);
        var page = await Store.ListRegistriesAsync(new RegistryQuery(PackageTypes.Generic) { Page = new PageRequest(2, 3) });
        Assert.Equal(7, page.Total);
        Assert.Equal(["gen-3", "gen-4", "gen-5"], page.Items.Select(r => r.Name));
        Assert.Single((await Store.ListRegistriesAsync(new RegistryQuery(PackageTypes.Npm))).Items);
        Assert.Equal(1, (await Store.ListRegistriesAsync(new RegistryQuery(Search: "gen-1") { Page = new PageRequest(1, 50) })).Total);
    }

    [Fact]
    public async Task Publish_is_atomic_and_conflicts_without_overwrite()
    {
        var r = await NewRegistry("pub");
        var first = await Store.PublishAsync(new PublishRequest { RegistryId = r.Id, PackageName = "p", Version = "1", Files = [File("a"), File("b")] });
        Assert.Equal(PublishOutcome.Created, first.Outcome);
        Assert.Equal(2, first.Version.FileCount);

        // One conflicting file rolls back the whole request: "c" must not appear.
        var conflict = await Store.PublishAsync(new PublishRequest { RegistryId = r.Id, PackageName = "p", Version = "1", Files = [File("c"), File("a")] });
        Assert.Equal(PublishOutcome.Conflict, conflict.Outcome);
        Assert.Equal("a", conflict.ConflictingPath);
        Assert.Equal(["a", "b"], (await Store.ListFilesAsync(first.Version.Id)).Select(f => f.Path));

        var replaced = await Store.PublishAsync(new PublishRequest { RegistryId = r.Id, PackageName = "p", Version = "1", Files = [File("a", size: 99)], Overwrite = true });
        Assert.Equal(PublishOutcome.Replaced, replaced.Outcome);
        Assert.Equal(99, (await Store.GetFileAsync(first.Version.Id, "a"))!.Size);

        var whole = await Store.PublishAsync(new PublishRequest { RegistryId = r.Id, PackageName = "p", Version = "1", Files = [File("z")], ReplaceVersion = true });
        Assert.Equal(PublishOutcome.Conflict, whole.Outcome);
        var wholeOk = await Store.PublishAsync(new PublishRequest { RegistryId = r.Id, PackageName = "p", Version = "1", Files = [File("z")], ReplaceVersion = true, Overwrite = true, VersionProperties = "{\"k\":1}" });
        Assert.Equal(["z"], (await Store.ListFilesAsync(wholeOk.Version.Id)).Select(f => f.Path));
        Assert.Equal("{\"k\":1}", (await Store.GetVersionAsync(wholeOk.Package.Id, "1"))!.Properties);
    }

    [Fact]
    public async Task Concurrent_publishes_of_the_same_version_do_not_corrupt()
    {
        var r = await NewRegistry("race");
        var results = await Task.WhenAll(Enumerable.Range(0, 20).Select(i =>
            Store.PublishAsync(new PublishRequest { RegistryId = r.Id, PackageName = "p", Version = "1", Files = [File($"f{i % 5}")] })));
        Assert.Equal(5, results.Count(x => x.Outcome != PublishOutcome.Conflict));
        var pkg = await Store.GetPackageAsync(r.Id, "p");
        Assert.Equal(1, pkg!.VersionCount);
        Assert.Equal(5, (await Store.ListFilesAsync((await Store.GetVersionAsync(pkg.Id, "1"))!.Id)).Count);
    }

    [Fact]
    public async Task Packages_versions_listing_and_deletes_cascade()
    {
        var r = await NewRegistry("tree");
        foreach (var (p, v) in new[] { ("a", "1"), ("a", "2"), ("b", "1") })
            await Store.PublishAsync(new PublishRequest { RegistryId = r.Id, PackageName = p, Version = v, Files = [File("f", size: 5)] });
        var pkgs = await Store.ListPackagesAsync(r.Id, null, new PageRequest());
        Assert.Equal(["a", "b"], pkgs.Items.Select(p => p.Name));
        Assert.Equal(10, pkgs.Items[0].TotalSize);
        var a = pkgs.Items[0];
        Assert.Equal(["1", "2"], (await Store.ListVersionsAsync(a.Id, new PageRequest())).Items.Select(v => v.Version));
        await Store.SetMetadataAsync(new MetadataOwner(MetadataLevel.Package, a.Id), new Dictionary<string, string> { ["k"] = "v" });
        Assert.True(await Store.DeletePackageAsync(a.Id));
        Assert.Null(await Store.GetPackageAsync(r.Id, "a"));
        Assert.Empty(await Store.GetMetadataAsync(new MetadataOwner(MetadataLevel.Package, a.Id)));
        Assert.True(await Store.DeleteRegistryAsync(r.Id));
        Assert.Equal(0, (await Store.ListPackagesAsync(null, null, new PageRequest())).Total);
    }

    [Fact]
    public async Task Metadata_set_get_delete()
    {
        var r = await NewRegistry("meta");
        var owner = new MetadataOwner(MetadataLevel.Registry, r.Id);
        await Store.SetMetadataAsync(owner, new Dictionary<string, string> { ["a"] = "1", ["b"] = "2" });
        await Store.SetMetadataAsync(owner, new Dictionary<string, string> { ["a"] = "3" });
        Assert.Equal("3", (await Store.GetMetadataAsync(owner))["a"]);
        Assert.Equal(1, await Store.DeleteMetadataAsync(owner, ["a"]));
        Assert.Equal(["b"], (await Store.GetMetadataAsync(owner)).Keys);
        Assert.Equal(1, await Store.DeleteMetadataAsync(owner, null));
    }

    [Fact]
    public async Task Referenced_digests_follow_files()
    {
        var r = await NewRegistry("refs");
        const string d = "sha256:" + "cd34cd34cd34cd34cd34cd34cd34cd34cd34cd34cd34cd34cd34cd34cd34cd34";
        var pub = await Store.PublishAsync(new PublishRequest { RegistryId = r.Id, PackageName = "p", Version = "1", Files = [File("f", d)] });
        Assert.True(await Store.IsBlobReferencedAsync(d));
        var all = new List<string>();
        await foreach (var x in Store.ListReferencedDigestsAsync()) all.Add(x);
        Assert.Contains(d, all);
        await Store.DeleteVersionAsync(pub.Version.Id);
        Assert.False(await Store.IsBlobReferencedAsync(d));
    }

    [Fact]
    public async Task Tokens_are_found_by_hash_and_revoked()
    {
        var r = await NewRegistry("tok");
        var t = await Store.CreateTokenAsync(new ApiToken { Name = "ci", Hash = TokenSecrets.Hash("s3cret"), Scope = TokenScope.Write, RegistryId = r.Id, ExpiresAt = DateTimeOffset.UtcNow.AddDays(1) });
        var found = await Store.FindTokenByHashAsync(TokenSecrets.Hash("s3cret"));
        Assert.Equal("ci", found!.Name);
        Assert.Equal("tok", found.RegistryName);
        Assert.Equal(TokenScope.Write, found.Scope);
        Assert.False(found.IsExpired(DateTimeOffset.UtcNow));
        await Assert.ThrowsAsync<ArcaException>(() => Store.CreateTokenAsync(new ApiToken { Name = "ci", Hash = "other", Scope = TokenScope.Read }));
        Assert.False(await Store.AnyAdminTokenAsync());
        Assert.True(await Store.RevokeTokenAsync(t.Id));
        Assert.Null(await Store.FindTokenByHashAsync(TokenSecrets.Hash("s3cret")));
    }
}
