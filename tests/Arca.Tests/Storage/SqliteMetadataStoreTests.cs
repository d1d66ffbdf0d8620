using Arca.Core.Storage;
using Arca.Storage.Sqlite;
using Arca.Tests.Infrastructure;

namespace Arca.Tests.Storage;

public sealed class SqliteMetadataStoreTests : MetadataStoreContract
{
    private readonly string _dir = TempDir.Create("sqlite");
    protected override Task<IMetadataStore> CreateStoreAsync() => Task.FromResult<IMetadataStore>(new SqliteMetadataStore(Path.Combine(_dir, "arca.db")));
    protected override Task CleanupAsync()
    {
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        TempDir.TryDelete(_dir);
        return Task.CompletedTask;
    }
}
