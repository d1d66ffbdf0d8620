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
}
