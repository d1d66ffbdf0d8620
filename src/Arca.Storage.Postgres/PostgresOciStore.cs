using Arca.Storage.Sql;

namespace Arca.Storage.Postgres;

/// <summary>The OCI tables in PostgreSQL: the shared <see cref="SqlOciStore"/> over a
/// <see cref="PostgresMetadataStore"/> (writes to one repository lock its package row).</summary>
public sealed class PostgresOciStore(PostgresMetadataStore store) : SqlOciStore(store);
