using System.Data;
using System.Data.Common;
using System.Globalization;
using Arca.Storage.Sql;
using Dapper;
using Microsoft.Data.Sqlite;

namespace Arca.Storage.Sqlite;

/// <summary>The embedded metadata store: one SQLite file in WAL mode. Writers are serialized by SQLite
/// (BEGIN IMMEDIATE); readers never block writers. The store logic is the shared <see cref="SqlMetadataStore"/>;
/// this class opens connections, migrates the schema (<see cref="Migrations"/>) and reads SQLite's text timestamps.</summary>
public sealed class SqliteMetadataStore : SqlMetadataStore
{
    private readonly string _connectionString;

    static SqliteMetadataStore()
    {
        SqlMapper.AddTypeHandler(new DateTimeOffsetHandler());
        SqlMapper.AddTypeHandler(new NullableDateTimeOffsetHandler());
    }

    public SqliteMetadataStore(string databasePath) : base(SqliteDialect.Instance)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(databasePath))!);
        _connectionString = new SqliteConnectionStringBuilder
        {
            DataSource = databasePath,
            Pooling = true,
            DefaultTimeout = 30, // also the busy timeout: SQLite retries locked writes for this long
            ForeignKeys = true,
        }.ToString();
    }

    protected override async Task<DbConnection> OpenAsync(CancellationToken ct)
    {
        var c = new SqliteConnection(_connectionString);
        await c.OpenAsync(ct);
        // Let SQLite itself wait for a concurrent writer, with its fine-grained backoff: without a busy timeout the
        // driver retries a busy statement only every 150 ms, which stalled concurrent uploads by that much.
        using (var pragma = c.CreateCommand())
        {
            pragma.CommandText = "PRAGMA busy_timeout = 30000;";
            await pragma.ExecuteNonQueryAsync(ct);
        }
        return c;
    }

    public override async Task MigrateAsync(CancellationToken ct = default)
    {
        await using var c = await OpenAsync(ct);
        await c.ExecuteAsync("PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;");
        await c.ExecuteAsync("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER PRIMARY KEY, applied_at TEXT NOT NULL)");
        await ApplyMissingStepsAsync(c, null, Migrations.Steps, ct); // a transaction per step
    }

    // Dapper's type handlers are process-wide: besides SQLite's text timestamps they also read the UTC DateTime
    // values other stores (PostgreSQL timestamptz) return, so both stores work in one process.
    private static DateTimeOffset ParseTimestamp(object value) => value switch
    {
        string s => DateTimeOffset.Parse(s, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal),
        DateTime dt => new DateTimeOffset(DateTime.SpecifyKind(dt, DateTimeKind.Utc)),
        DateTimeOffset d => d,
        _ => throw new DataException($"cannot read {value.GetType().Name} as a timestamp"),
    };

    private sealed class DateTimeOffsetHandler : SqlMapper.TypeHandler<DateTimeOffset>
    {
        public override void SetValue(IDbDataParameter parameter, DateTimeOffset value) => parameter.Value = SqliteDialect.Ts(value);
        public override DateTimeOffset Parse(object value) => ParseTimestamp(value);
    }

    private sealed class NullableDateTimeOffsetHandler : SqlMapper.TypeHandler<DateTimeOffset?>
    {
        public override void SetValue(IDbDataParameter parameter, DateTimeOffset? value) => parameter.Value = value is { } v ? SqliteDialect.Ts(v) : DBNull.Value;
        public override DateTimeOffset? Parse(object value) => value is null or DBNull ? null : ParseTimestamp(value);
    }
}
