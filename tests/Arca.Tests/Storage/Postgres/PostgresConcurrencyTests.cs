using Arca.Core.Model;
using Arca.Core.Storage;
using Arca.Storage.Postgres;
using Npgsql;

namespace Arca.Tests.Storage.Postgres;

/// <summary>
/// What SQLite gets from its single writer, PostgreSQL must get from locks: several store instances (as in several
/// servers) on one database, writing the same things at the same moment.
/// </summary>
public sealed class PostgresConcurrencyTests : IAsyncLifetime
{
    private const int Instances = 4;
    private readonly PostgresDatabase _db = new("concurrency");
    private readonly List<PostgresMetadataStore> _stores = [];

    public async Task InitializeAsync()
    {
        await _db.CreateStoreAsync(); // the database only: migrating is what the first test races
        for (var i = 0; i < Instances; i++) _stores.Add(new PostgresMetadataStore(_db.ConnectionString));
    }

    public async Task DisposeAsync()
    {
        foreach (var s in _stores) await s.DisposeAsync();
        await _db.DisposeAsync();
    }

    private Task MigrateAllAsync() => Task.WhenAll(_stores.Select(s => s.MigrateAsync()));

    private static NewFile File(string path, string content) =>
        new(path, "sha256:" + Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(content))), content.Length, null, null, null);

    [Fact]
    public async Task Instances_starting_together_apply_each_migration_step_once()
    {
        await MigrateAllAsync();
        await MigrateAllAsync();
        await using var c = new NpgsqlConnection(_db.ConnectionString);
        await c.OpenAsync();
        await using var cmd = new NpgsqlCommand("SELECT COUNT(*), COUNT(DISTINCT version) FROM schema_version", c);
        await using var reader = await cmd.ExecuteReaderAsync();
        Assert.True(await reader.ReadAsync());
        Assert.Equal(reader.GetInt64(1), reader.GetInt64(0));
        Assert.True(reader.GetInt64(0) >= 5);
    }

    [Fact]
    public async Task Concurrent_publishes_of_one_file_into_an_existing_version_have_one_winner()
    {
        await MigrateAllAsync();
        var registry = await _stores[0].CreateRegistryAsync(new Registry { Name = "race", PackageType = PackageTypes.Generic });
        for (var round = 0; round < 10; round++)
        {
            var version = $"{round}.0";
            // The version exists already, so the unique index on versions does not serialize the publishes below.
            Assert.Equal(PublishOutcome.Created, (await _stores[0].PublishAsync(new PublishRequest
                { RegistryId = registry.Id, PackageName = "pkg", Version = version, Files = [File("readme.txt", "hello")] })).Outcome);
            var publishes = Enumerable.Range(0, 16).Select(i => Task.Run(() => _stores[i % Instances].PublishAsync(new PublishRequest
                { RegistryId = registry.Id, PackageName = "pkg", Version = version, Files = [File("artifact.bin", $"writer {i}")] }))).ToList();
            var results = await Task.WhenAll(publishes);
            Assert.Equal(15, results.Count(r => r.Outcome == PublishOutcome.Conflict));
            var winner = Assert.Single(results, r => r.Outcome != PublishOutcome.Conflict);
            var files = await _stores[1].ListFilesAsync(winner.Version.Id);
            Assert.Equal(["artifact.bin", "readme.txt"], files.Select(f => f.Path));
        }
    }

    [Fact]
    public async Task Concurrent_tag_pushes_to_one_repository_all_become_versions()
    {
        await MigrateAllAsync();
        var registry = await _stores[0].CreateRegistryAsync(new Registry { Name = "images", PackageType = PackageTypes.Docker });
        var oci = _stores.Select(s => new PostgresOciStore(s)).ToList();
        var pushes = Enumerable.Range(0, 24).Select(i => Task.Run(() =>
        {
            var digest = "sha256:" + Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(BitConverter.GetBytes(i)));
            return oci[i % Instances].PutManifestAsync(new OciManifestWrite
            {
                RegistryId = registry.Id, Repository = "app", Tag = $"t{i:00}",
                Manifest = new OciManifest
                {
                    Digest = digest, MediaType = "application/vnd.oci.image.manifest.v1+json", Size = 100,
                    VersionProperties = $$"""{"digest":"{{digest}}","mediaType":"application/vnd.oci.image.manifest.v1+json"}""",
                    VersionFiles = $$"""[{"Path":"manifest.json","BlobDigest":"{{digest}}","Size":100,"ContentType":null,"Sha1":null,"Md5":null}]""",
                },
            });
        })).ToList();
        await Task.WhenAll(pushes);
        var package = await _stores[2].GetPackageAsync(registry.Id, "app");
        var versions = await _stores[3].ListVersionsAsync(package!.Id, new PageRequest(1, 100));
        Assert.Equal(Enumerable.Range(0, 24).Select(i => $"t{i:00}"), versions.Items.Select(v => v.Version).Order(StringComparer.Ordinal));
        Assert.All(versions.Items, v => Assert.Equal(1, v.FileCount));
        Assert.Equal(24, (await oci[0].ListTagsAsync(registry.Id, "app", null, 100))!.Count);
    }
}

/// <summary>Cluster locks (advisory locks) between store instances, as between servers.</summary>
public sealed class PostgresClusterLockTests : IAsyncLifetime
{
    private readonly PostgresDatabase _db = new("locks");
    private PostgresMetadataStore _one = null!, _two = null!;

    public async Task InitializeAsync()
    {
        _one = (PostgresMetadataStore)await _db.CreateStoreAsync();
        _two = new PostgresMetadataStore(_db.ConnectionString);
    }

    public async Task DisposeAsync()
    {
        await _two.DisposeAsync();
        await _db.DisposeAsync();
    }

    [Fact]
    public async Task An_exclusive_lock_has_one_holder_until_released()
    {
        var held = await _one.TryLockAsync("job");
        Assert.NotNull(held);
        Assert.True(await held.IsHeldAsync());
        Assert.Null(await _two.TryLockAsync("job"));
        Assert.NotNull(await _two.TryLockAsync("other-job"));
        await held.DisposeAsync();
        await using var next = await _two.TryLockAsync("job");
        Assert.NotNull(next);
    }

    [Fact]
    public async Task Shared_holders_know_whether_they_are_alone()
    {
        await using var first = await _one.TryLockAsync("instances", shared: true);
        Assert.NotNull(first);
        Assert.True(await first.IsSoleHolderAsync());
        var second = await _two.TryLockAsync("instances", shared: true);
        Assert.NotNull(second);
        Assert.False(await first.IsSoleHolderAsync());
        Assert.False(await second.IsSoleHolderAsync());
        Assert.Null(await _two.TryLockAsync("instances")); // exclusive: not while shared holders exist
        await second.DisposeAsync();
        Assert.True(await first.IsSoleHolderAsync());
        Assert.True(await first.IsHeldAsync()); // checking did not give the shared hold away
        Assert.Null(await _two.TryLockAsync("instances"));
    }
}
