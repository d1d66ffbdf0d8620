namespace Arca.Migration.Engine;

/// <summary>
/// One unit of transfer (a file, a package version, an image): what the state file records and the report lists.
/// <see cref="Key"/> is stable across runs so `--resume` can recognise finished work.
/// </summary>
public abstract record MigrationItem
{
    public required string Key { get; init; }
    public required string Package { get; init; }
    public required string Version { get; init; }
    /// <summary>What the item is, for people ("p/1.0/file.bin", "team/app:1.2").</summary>
    public required string Display { get; init; }
    /// <summary>Bytes to move when known from the listing (dry-run sizes, progress).</summary>
    public long? Size { get; init; }
    /// <summary>Set when the source listed something it cannot migrate (e.g. a path that maps to no package): the item
    /// fails with this message instead of reaching a writer, and the rest of the listing continues.</summary>
    public string? ListingError { get; init; }
    /// <summary>Asks the source (HEAD) for the file's length and validators: the size a dry run shows when the listing
    /// has none, and, for content without a published checksum, what lets a sha256 hashed in an earlier run be reused
    /// (<see cref="SourceChecksumMemo"/>) instead of downloading the file again.</summary>
    public Func<CancellationToken, Task<SourceFingerprint?>>? Fingerprint { get; init; }
}

public enum ItemStatus { Succeeded, Skipped, Failed, DryRun }

public sealed record ItemResult(MigrationItem Item, ItemStatus Status, long Bytes, string? Error = null);

/// <summary>A failure worth retrying (network, 429, 5xx), with an optional server-requested delay.</summary>
public sealed class TransientException(string message, TimeSpan? retryAfter = null, Exception? inner = null) : Exception(message, inner)
{
    public TimeSpan? RetryAfter { get; } = retryAfter;
}
