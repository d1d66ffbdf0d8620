using Arca.Storage.Sql;

namespace Arca.Storage.Sqlite;

/// <summary>The OCI tables in the embedded SQLite database: the shared <see cref="SqlOciStore"/> over a
/// <see cref="SqliteMetadataStore"/>.</summary>
public sealed class SqliteOciStore(SqliteMetadataStore store) : SqlOciStore(store);
