using System.Data;
using System.Data.Common;
using Arca.Core.Storage;
using Arca.Storage.Sql;
using Dapper;
using Npgsql;

namespace Arca.Storage.Postgres;

/// <summary>
/// The shared metadata store: a PostgreSQL database several stateless `arca serve` instances can use at once.
/// The store logic is the shared <see cref="SqlMetadataStore"/> (same behaviour as SQLite; tests/Arca.Tests/Storage/*Contract.cs
/// run against both) with <see cref="PostgresDialect"/>: unique constraints with ON CONFLICT, and row locks (FOR UPDATE)
/// on the version or repository being written, so concurrent writers on different servers still serialize per item.
/// This class adds what only PostgreSQL has: migrations under an advisory lock, shared server keys and cluster locks.
/// </summary>
public sealed partial class PostgresMetadataStore : SqlMetadataStore, ISharedKeyStore, IAsyncDisposable
{
    /// <summary>Advisory lock key held while migrating ("arca-mig"), so instances starting together take turns.</summary>
    private const long MigrationLockKey = 0x617263612D6D6967;
    private readonly NpgsqlDataSource _dataSource;

    static PostgresMetadataStore()
    {
        // Dapper type handlers are process-wide; the SQLite store registers its own (which also accept the
        // DateTime values Npgsql returns). Register ours only when nobody did, and never pass DateTimeOffset
        // parameters ourselves (always UTC DateTime, see SqlDialect.Timestamp), so whichever handler is active only has to read.
        if (!SqlMapper.HasTypeHandler(typeof(DateTimeOffset))) SqlMapper.AddTypeHandler(new DateTimeOffsetHandler());
        if (!SqlMapper.HasTypeHandler(typeof(DateTimeOffset?))) SqlMapper.AddTypeHandler(new NullableDateTimeOffsetHandler());
    }

    /// <param name="connectionString">A postgres:// URI or an Npgsql keyword connection string.</param>
    public PostgresMetadataStore(string connectionString) : base(PostgresDialect.Instance)
    {
        _dataSource = NpgsqlDataSource.Create(PostgresConnection.ToNpgsql(connectionString));
    }

    protected override async Task<DbConnection> OpenAsync(CancellationToken ct) => await OpenConnectionAsync(ct);

    internal async Task<NpgsqlConnection> OpenConnectionAsync(CancellationToken ct) => await _dataSource.OpenConnectionAsync(ct);

    public ValueTask DisposeAsync() => _dataSource.DisposeAsync();

    public override async Task MigrateAsync(CancellationToken ct = default)
    {
        await using var c = await OpenAsync(ct);
        // One transaction under an advisory lock: a second instance waits here, then finds every step applied.
        await using var tx = await c.BeginTransactionAsync(ct);
        await c.ExecuteAsync("SELECT pg_advisory_xact_lock(@key)", new { key = MigrationLockKey }, tx);
        await c.ExecuteAsync("CREATE TABLE IF NOT EXISTS schema_version (version integer PRIMARY KEY, applied_at timestamptz NOT NULL)", transaction: tx);
        await ApplyMissingStepsAsync(c, tx, PostgresMigrations.Steps, ct);
        await tx.CommitAsync(ct);
    }

    /// <summary>All keys in one statement (the base deletes them one by one).</summary>
    protected override async Task<int> DeleteMetadataKeysAsync(DbConnection c, string level, long ownerId, IReadOnlyCollection<string> keys) =>
        await c.ExecuteAsync("DELETE FROM metadata WHERE level = @level AND owner_id = @ownerId AND key = ANY(@keys)",
            new { level, ownerId, keys = keys.Distinct(StringComparer.Ordinal).ToArray() });

    // ---------------- Shared server keys ----------------

    public async Task<byte[]> GetOrAddKeyAsync(string name, byte[] candidate, CancellationToken ct = default)
    {
        await using var c = await OpenConnectionAsync(ct);
        await c.ExecuteAsync("INSERT INTO server_keys(name, value, created_at) VALUES (@name, @candidate, @now) ON CONFLICT (name) DO NOTHING",
            new { name, candidate, now = Now() });
        return await c.ExecuteScalarAsync<byte[]>("SELECT value FROM server_keys WHERE name = @name", new { name })
            ?? throw new InvalidOperationException($"server key '{name}' vanished");
    }

    /// <summary>Reads timestamptz (a UTC DateTime from Npgsql) into DateTimeOffset.</summary>
    internal static DateTimeOffset ToOffset(object value) => value switch
    {
        DateTimeOffset d => d,
        DateTime dt => new DateTimeOffset(DateTime.SpecifyKind(dt, DateTimeKind.Utc)),
        _ => throw new DataException($"cannot read {value.GetType().Name} as a timestamp"),
    };

    private sealed class DateTimeOffsetHandler : SqlMapper.TypeHandler<DateTimeOffset>
    {
        public override void SetValue(IDbDataParameter parameter, DateTimeOffset value) => parameter.Value = PostgresDialect.Utc(value);
        public override DateTimeOffset Parse(object value) => ToOffset(value);
    }

    private sealed class NullableDateTimeOffsetHandler : SqlMapper.TypeHandler<DateTimeOffset?>
    {
        public override void SetValue(IDbDataParameter parameter, DateTimeOffset? value) => parameter.Value = PostgresDialect.Utc(value) is { } v ? v : DBNull.Value;
        public override DateTimeOffset? Parse(object value) => value is DBNull ? null : ToOffset(value);
    }
}
