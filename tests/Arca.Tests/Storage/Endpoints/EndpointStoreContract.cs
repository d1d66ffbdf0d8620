using Arca.Core.Endpoints;
using Arca.Core.Model;
using Arca.Core.Storage;
using Arca.Storage.Sqlite;
using Arca.Tests.Infrastructure;

namespace Arca.Tests.Storage.Endpoints;

/// <summary>The behaviour every <see cref="IEndpointStore"/> must have; subclass it per storage engine.</summary>
public abstract class EndpointStoreContract : IAsyncLifetime
{
    protected IEndpointStore Store { get; private set; } = null!;
    protected abstract Task<IMetadataStore> CreateStoreAsync();
    protected virtual Task CleanupAsync() => Task.CompletedTask;

    public async Task InitializeAsync()
    {
        var store = await CreateStoreAsync();
        await store.MigrateAsync();
        Store = Assert.IsAssignableFrom<IEndpointStore>(store);
    }

    public Task DisposeAsync() => CleanupAsync();

    [Fact]
    public async Task Endpoints_are_unique_round_trip_update_and_delete()
    {
        var created = await Store.CreateEndpointAsync(new RemoteEndpoint
        {
            Name = "remote", Provider = "harbor", Url = "https://harbor.example.com/", Username = "robot", EncryptedSecret = "v1:opaque",
            VerifyRemoteCert = false, Description = "d",
        });
        Assert.True(created.Id > 0);
        Assert.True(created.HasCredentials);
        Assert.False(created.VerifyRemoteCert);
        Assert.Equal(409, (await Assert.ThrowsAsync<ArcaException>(() => Store.CreateEndpointAsync(created with { Id = 0 }))).Status);

        var got = await Store.GetEndpointAsync("remote");
        Assert.Equal(("harbor", "https://harbor.example.com/", "robot", "v1:opaque", "d"), (got!.Provider, got.Url, got.Username, got.EncryptedSecret, got.Description));

        var updated = await Store.UpdateEndpointAsync(got with { Url = "https://other.example.com/", Username = null, EncryptedSecret = null, VerifyRemoteCert = true });
        Assert.False(updated.HasCredentials);
        Assert.True(updated.VerifyRemoteCert);
        Assert.Equal("https://other.example.com/", updated.Url);
        Assert.True(updated.UpdatedAt >= updated.CreatedAt);

        await Store.CreateEndpointAsync(new RemoteEndpoint { Name = "another", Provider = "npm", Url = "http://npm.example.com/" });
        Assert.Equal(["another", "remote"], (await Store.ListEndpointsAsync()).Select(e => e.Name));

        Assert.True(await Store.DeleteEndpointAsync(updated.Id));
        Assert.False(await Store.DeleteEndpointAsync(updated.Id));
        Assert.Null(await Store.GetEndpointAsync("remote"));
    }
}

public sealed class SqliteEndpointStoreTests : EndpointStoreContract
{
    private readonly string _dir = TempDir.Create("sqlite-endpoints");
    protected override Task<IMetadataStore> CreateStoreAsync() => Task.FromResult<IMetadataStore>(new SqliteMetadataStore(Path.Combine(_dir, "arca.db")));
    protected override Task CleanupAsync()
    {
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        TempDir.TryDelete(_dir);
        return Task.CompletedTask;
    }
}
