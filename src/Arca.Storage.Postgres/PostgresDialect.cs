using System.Data.Common;
using Arca.Storage.Sql;
using Dapper;
using Npgsql;

namespace Arca.Storage.Postgres;

/// <summary>PostgreSQL's side of the shared SQL stores: timestamptz bound as UTC DateTime, real booleans, casts that
/// type NULL parameters and read json as its stored text, COLLATE "C" for SQLite's byte order, ILIKE for SQLite's
/// case-insensitive LIKE, and row locks (FOR UPDATE) so writers on several servers serialize per item.</summary>
internal sealed class PostgresDialect : SqlDialect
{
    public static readonly PostgresDialect Instance = new();
    private const string UniqueViolation = "23505";

    /// <summary>A UTC DateTime truncated to PostgreSQL's microseconds.</summary>
    internal static DateTime Utc(DateTimeOffset t) => new(t.UtcTicks - t.UtcTicks % 10, DateTimeKind.Utc);
    internal static DateTime? Utc(DateTimeOffset? t) => t is { } v ? Utc(v) : null;

    public override object Timestamp(DateTimeOffset t) => Utc(t);
    public override string IsTrue(string column) => column;
    public override string TextCast => "::text";
    public override string IntegerCast => "::integer";
    public override string BigintCast => "::bigint";
    public override string JsonCast => "::json";
    public override string JsonbCast => "::jsonb";
    public override string BinaryCollation => " COLLATE \"C\"";
    public override string CaseInsensitiveLike => "ILIKE";
    public override string ForUpdate => " FOR UPDATE";

    public override async Task LockRowsAsync(DbConnection c, DbTransaction tx, string table, IReadOnlyCollection<long> ids)
    {
        // In id order, so two transactions locking overlapping sets cannot deadlock.
        if (ids.Count == 1)
            await c.ExecuteAsync($"SELECT 1 FROM {table} WHERE id = @id FOR UPDATE", new { id = ids.First() }, tx);
        else if (ids.Count > 1)
            await c.ExecuteAsync($"SELECT 1 FROM {table} WHERE id = ANY(@ids) ORDER BY id FOR UPDATE", new { ids = ids.ToArray() }, tx);
    }

    public override string InsertIgnoringDuplicates(string insert) => insert + " ON CONFLICT DO NOTHING";

    public override bool IsUniqueViolation(DbException e) => e is PostgresException { SqlState: UniqueViolation };
}
