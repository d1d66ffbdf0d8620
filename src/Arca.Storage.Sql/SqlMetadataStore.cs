using System.Data.Common;
using Dapper;

namespace Arca.Storage.Sql;

/// <summary>
/// The metadata store over any SQL engine, written once: the engine projects (Arca.Storage.Sqlite,
/// Arca.Storage.Postgres) derive from it and supply only how to open a connection, their schema migrations, the
/// <see cref="SqlDialect"/> fragments, and features only their engine has. The contract suites in
/// tests/Arca.Tests/Storage run against every engine.
/// </summary>
public abstract partial class SqlMetadataStore
{
    protected SqlMetadataStore(SqlDialect dialect)
    {
        Dialect = dialect;
    }

    static SqlMetadataStore()
    {
        DefaultTypeMap.MatchNamesWithUnderscores = true;
    }

    public SqlDialect Dialect { get; }

    /// <summary>An open connection to the engine; the caller disposes it.</summary>
    protected internal abstract Task<DbConnection> OpenAsync(CancellationToken ct);

    private object Now() => Dialect.Now();

    /// <summary>Inserts the package unless it exists. Under READ COMMITTED (PostgreSQL) the INSERT waits for a
    /// concurrent insert of the same name to commit, so the SELECT after it always finds the row.</summary>
    internal async Task<long> EnsurePackageAsync(DbConnection c, DbTransaction? tx, long registryId, string name)
    {
        var now = Now();
        await c.ExecuteAsync("""
            INSERT INTO packages(registry_id, name, created_at, updated_at) VALUES (@registryId, @name, @now, @now)
            ON CONFLICT (registry_id, name) DO NOTHING
            """, new { registryId, name, now }, tx);
        return await c.ExecuteScalarAsync<long>("SELECT id FROM packages WHERE registry_id = @registryId AND name = @name", new { registryId, name }, tx);
    }

    internal async Task<(long Id, bool Created)> EnsureVersionAsync(DbConnection c, DbTransaction tx, long packageId, string version)
    {
        var now = Now();
        var inserted = await c.ExecuteAsync("""
            INSERT INTO versions(package_id, version, created_at, updated_at) VALUES (@packageId, @version, @now, @now)
            ON CONFLICT (package_id, version) DO NOTHING
            """, new { packageId, version, now }, tx);
        var id = await c.ExecuteScalarAsync<long>("SELECT id FROM versions WHERE package_id = @packageId AND version = @version", new { packageId, version }, tx);
        return (id, inserted > 0);
    }
}
