using System.Data.Common;
using System.Globalization;
using Arca.Storage.Sql;
using Microsoft.Data.Sqlite;

namespace Arca.Storage.Sqlite;

/// <summary>SQLite's side of the shared SQL stores: text timestamps, 0/1 booleans, no casts, byte-order (BINARY)
/// collation by default, and no row locks (SQLite has one writer at a time: transactions begin IMMEDIATE).</summary>
internal sealed class SqliteDialect : SqlDialect
{
    public static readonly SqliteDialect Instance = new();

    /// <summary>Timestamps are stored as ISO-8601 UTC text with 7 fractional digits, which sorts chronologically.</summary>
    internal static string Ts(DateTimeOffset t) => t.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fffffff'Z'", CultureInfo.InvariantCulture);

    public override object Timestamp(DateTimeOffset t) => Ts(t);
    public override string IsTrue(string column) => $"{column} = 1";
    public override string TextCast => "";
    public override string IntegerCast => "";
    public override string BigintCast => "";
    public override string JsonCast => "";
    public override string JsonbCast => "";
    public override string BinaryCollation => "";
    public override string CaseInsensitiveLike => "LIKE";
    public override string ForUpdate => "";
    public override Task LockRowsAsync(DbConnection c, DbTransaction tx, string table, IReadOnlyCollection<long> ids) => Task.CompletedTask;

    public override string InsertIgnoringDuplicates(string insert) =>
        insert.StartsWith("INSERT ", StringComparison.Ordinal)
            ? "INSERT OR IGNORE " + insert["INSERT ".Length..]
            : throw new ArgumentException("not an INSERT statement", nameof(insert));

    /// <summary>SQLITE_CONSTRAINT (19): SQLite reports a unique violation under the general constraint code.</summary>
    public override bool IsUniqueViolation(DbException e) => e is SqliteException { SqliteErrorCode: 19 };
}
