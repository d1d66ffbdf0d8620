using Arca.Migration.Config;

namespace Arca.Migration.Engine;

/// <summary>
/// A registry to migrate from. Listings are streamed page by page (never a whole repository in memory);
/// content is opened as a stream per item.
/// </summary>
public interface IMigrationSource : IDisposable
{
    /// <summary>Artifact types this source can list; others are refused before anything moves.</summary>
    IReadOnlyCollection<string> SupportedArtifactTypes { get; }

    /// <summary>Streams the items of one mapping, already filtered by its include/exclude patterns.</summary>
    IAsyncEnumerable<MigrationItem> ListAsync(MappingConfig mapping, PackageFilter filter, CancellationToken ct);
}

/// <summary>Writes items of one artifact type into the destination.</summary>
public interface IItemWriter
{
    /// <summary>Moves one item: skip when the destination already has it with the same checksum (unless overwrite),
    /// else stream it and verify the destination's checksum afterwards. Returns (status, bytes moved).</summary>
    Task<(ItemStatus Status, long Bytes)> WriteAsync(MigrationItem item, MappingConfig mapping, bool overwrite, CancellationToken ct);
}

/// <summary>
/// A writer that can tell cheaply (one lookup, no transfer) that the destination already has an item exactly as listed.
/// The engine asks it for many items at once before they queue for the transfer pool, so a rerun over a large,
/// unchanged source is not paced by `concurrency`, which bounds transfers, not lookups.
/// </summary>
public interface IUpToDateCheck
{
    /// <summary>True only when the destination certainly has the item as listed; false when unsure (the item then
    /// goes to <see cref="IItemWriter.WriteAsync"/>, which decides for good).</summary>
    Task<bool> IsUpToDateAsync(MigrationItem item, MappingConfig mapping, CancellationToken ct);
}

/// <summary>Compiled include/exclude patterns of a mapping.</summary>
public sealed class PackageFilter(IReadOnlyList<string> include, IReadOnlyList<string> exclude)
{
    private readonly Glob[] _include = include.Select(p => new Glob(p)).ToArray();
    private readonly Glob[] _exclude = exclude.Select(p => new Glob(p)).ToArray();

    public bool Selects(string name) =>
        (_include.Length == 0 || _include.Any(g => g.IsMatch(name))) && !_exclude.Any(g => g.IsMatch(name));
}
