namespace Arca.Server.Hosting;

/// <summary>Settings of <c>arca serve</c> (flags and ARCA_* environment variables, PRODUCT.md "Running it").</summary>
public sealed record ServerOptions
{
    public string Listen { get; init; } = "http://127.0.0.1:8080";
    public string DataDirectory { get; init; } = "./arca-data";
    /// <summary>Metadata database: empty for SQLite in the data directory, or a PostgreSQL connection string.</summary>
    public string? Database { get; init; }
    /// <summary>Blob store URI: empty for files in the data directory, or s3://bucket?endpoint=...</summary>
    public string? BlobStore { get; init; }
    /// <summary>Admin token to bootstrap (ARCA_ADMIN_TOKEN); generated when absent on first start.</summary>
    public string? AdminToken { get; init; }
    /// <summary>Externally visible base URL used in client-facing URLs; derived from the request when unset.</summary>
    public string? PublicUrl { get; init; }
    /// <summary>Largest accepted upload in bytes (null: unlimited).</summary>
    public long? MaxUploadBytes { get; init; }
    /// <summary>Run garbage collection periodically (null: never).</summary>
    public TimeSpan? GcInterval { get; init; }
    /// <summary>Unreferenced blobs younger than this survive GC, so uploads in flight are never collected.</summary>
    public TimeSpan GcGracePeriod { get; init; } = TimeSpan.FromHours(1);
    /// <summary>Chunked-upload sessions untouched for this long are abandoned and removed.</summary>
    public TimeSpan UploadSessionMaxAge { get; init; } = TimeSpan.FromHours(24);
    /// <summary>How often abandoned upload sessions are looked for (besides at start-up).</summary>
    public TimeSpan UploadCleanupInterval { get; init; } = TimeSpan.FromHours(1);
    /// <summary>Least severe log level written (tests use Warning to keep CI output readable).</summary>
    public LogLevel MinimumLogLevel { get; init; } = LogLevel.Information;
    /// <summary>Write request logs as JSON lines instead of plain text.</summary>
    public bool JsonLogs { get; init; }
}
