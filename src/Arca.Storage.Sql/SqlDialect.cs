using System.Data.Common;

namespace Arca.Storage.Sql;

/// <summary>
/// The few points where the SQL engines behind <see cref="SqlMetadataStore"/> differ. Everything else (the queries,
/// their order, conflict handling and transactions) is written once in the shared stores. Fragments are spliced into
/// the SQL text; an engine that needs nothing at a point returns "" there, so its SQL reads as if written for it alone.
/// </summary>
public abstract class SqlDialect
{
    /// <summary>How a timestamp is bound as a parameter (SQLite: ISO-8601 text; PostgreSQL: a UTC DateTime for
    /// timestamptz). Never bind DateTimeOffset itself: Dapper's type handlers are process-wide and engine-specific.</summary>
    public abstract object Timestamp(DateTimeOffset t);

    public object? Timestamp(DateTimeOffset? t) => t is { } v ? Timestamp(v) : null;

    /// <summary>"Now", bound the way <see cref="Timestamp(DateTimeOffset)"/> binds it.</summary>
    public object Now() => Timestamp(DateTimeOffset.UtcNow);

    /// <summary>A boolean column used as a condition: <c>is_manifest = 1</c> (SQLite integers) or <c>is_manifest</c>.</summary>
    public abstract string IsTrue(string column);

    /// <summary>Appended to a parameter or JSON column read as text (<c>::text</c>): gives NULL parameters a type and
    /// returns json columns as their stored text.</summary>
    public abstract string TextCast { get; }

    /// <summary>Appended to a COUNT(*) subquery read as int (<c>::integer</c>).</summary>
    public abstract string IntegerCast { get; }

    /// <summary>Appended to a SUM subquery or a NULL-able id parameter read as long (<c>::bigint</c>).</summary>
    public abstract string BigintCast { get; }

    /// <summary>Appended to a parameter written to a column holding JSON text kept byte for byte (<c>::json</c>).</summary>
    public abstract string JsonCast { get; }

    /// <summary>Appended to a parameter written to a JSON label array column (<c>::jsonb</c>).</summary>
    public abstract string JsonbCast { get; }

    /// <summary>Appended to a text column in ORDER BY or a comparison: byte-order collation (SQLite's BINARY default,
    /// PostgreSQL's <c>COLLATE "C"</c>), so every engine sorts and pages alike.</summary>
    public abstract string BinaryCollation { get; }

    /// <summary>The case-insensitive LIKE operator (SQLite's LIKE, PostgreSQL's ILIKE).</summary>
    public abstract string CaseInsensitiveLike { get; }

    /// <summary>Appended to a SELECT inside a write transaction to lock the rows it reads until commit ("" where the
    /// engine serializes writers anyway).</summary>
    public abstract string ForUpdate { get; }

    /// <summary>Locks rows of <paramref name="table"/> by id until the transaction ends, in id order; a no-op on an
    /// engine with a single writer (SQLite).</summary>
    public abstract Task LockRowsAsync(DbConnection c, DbTransaction tx, string table, IReadOnlyCollection<long> ids);

    /// <summary>The INSERT statement <paramref name="insert"/> made to skip rows that already exist (a unique
    /// constraint would reject them): SQLite's INSERT OR IGNORE, PostgreSQL's ON CONFLICT DO NOTHING.</summary>
    public abstract string InsertIgnoringDuplicates(string insert);

    /// <summary>Whether <paramref name="e"/> is the engine's "row already exists" error.</summary>
    public abstract bool IsUniqueViolation(DbException e);
}
