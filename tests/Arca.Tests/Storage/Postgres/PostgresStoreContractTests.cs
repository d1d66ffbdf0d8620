using Arca.Core.Storage;
using Arca.Storage.Postgres;
using Arca.Tests.Storage.Endpoints;

namespace Arca.Tests.Storage.Postgres;

/// <summary>The shared metadata store contract against PostgreSQL (a fresh database per test).</summary>
public sealed class PostgresMetadataStoreTests : MetadataStoreContract
{
    private readonly PostgresDatabase _db = new("meta");
    protected override Task<IMetadataStore> CreateStoreAsync() => _db.CreateStoreAsync();
    protected override Task CleanupAsync() => _db.DisposeAsync().AsTask();
}

/// <summary>The endpoint store contract against PostgreSQL.</summary>
public sealed class PostgresEndpointStoreTests : EndpointStoreContract
{
    private readonly PostgresDatabase _db = new("endpoints");
    protected override Task<IMetadataStore> CreateStoreAsync() => _db.CreateStoreAsync();
    protected override Task CleanupAsync() => _db.DisposeAsync().AsTask();
}

/// <summary>The replication store contract against PostgreSQL.</summary>
public sealed class PostgresReplicationStoreTests : ReplicationStoreContract
{
    private readonly PostgresDatabase _db = new("replication");
    protected override Task<IMetadataStore> CreateStoreAsync() => _db.CreateStoreAsync();
    protected override Task CleanupAsync() => _db.DisposeAsync().AsTask();
}

/// <summary>The OCI table store contract against PostgreSQL.</summary>
public sealed class PostgresOciStoreTests : OciStoreContract
{
    private readonly PostgresDatabase _db = new("oci");
    protected override Task<IMetadataStore> CreateStoreAsync() => _db.CreateStoreAsync();
    protected override IOciMetadataStore CreateOciStore(IMetadataStore store) => new PostgresOciStore((PostgresMetadataStore)store);
    protected override Task CleanupAsync() => _db.DisposeAsync().AsTask();
}

/// <summary>One throwaway database of the shared cluster and the store on it.</summary>
public sealed class PostgresDatabase(string prefix) : IAsyncDisposable
{
    private PostgresCluster? _cluster;
    private PostgresMetadataStore? _store;
    public string ConnectionString { get; private set; } = "";

    public async Task<IMetadataStore> CreateStoreAsync()
    {
        _cluster = await PostgresCluster.GetAsync();
        ConnectionString = await _cluster.CreateDatabaseAsync(prefix);
        return _store = new PostgresMetadataStore(ConnectionString);
    }

    public async ValueTask DisposeAsync()
    {
        if (_store is not null) await _store.DisposeAsync();
        if (_cluster is not null && ConnectionString.Length > 0) await _cluster.DropDatabaseAsync(ConnectionString);
    }
}
