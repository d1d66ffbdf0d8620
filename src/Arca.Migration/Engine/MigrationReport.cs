using System.Text.Json;
using Arca.Migration.Config;

namespace Arca.Migration.Engine;

public sealed class MappingTotals
{
    public required string Name { get; init; }
    public long Succeeded, Skipped, Failed, Listed, Bytes, PlannedBytes;
    /// <summary>Why the mapping's listing failed (e.g. a source repository refused), for the console; null when it did not.</summary>
    public string? ListingError { get; set; }
}

/// <summary>
/// The JSON report: every item with its status and error, streamed to the file as items finish (a huge migration
/// never holds the item list in memory), then per-mapping totals.
/// </summary>
public sealed class MigrationReport : IDisposable
{
    private readonly Utf8JsonWriter? _json;
    private readonly FileStream? _file;
    private readonly object _lock = new();
    public IReadOnlyList<MappingTotals> Mappings { get; }
    public DateTimeOffset StartedAt { get; } = DateTimeOffset.UtcNow;
    public long Failed => Mappings.Sum(m => m.Failed);

    public MigrationReport(MigrationConfig config, string? path, bool dryRun)
    {
        Mappings = config.Mappings.Select(m => new MappingTotals { Name = m.Name }).ToList();
        if (path is null) return;
        _file = new FileStream(path, FileMode.Create, FileAccess.Write, FileShare.Read);
        _json = new Utf8JsonWriter(_file, new JsonWriterOptions { Indented = true });
        _json.WriteStartObject();
        _json.WriteString("startedAt", StartedAt);
        _json.WriteBoolean("dryRun", dryRun);
        _json.WriteString("source", config.Source.Endpoint);
        _json.WriteString("destination", config.Destination.Endpoint);
        _json.WriteStartArray("items");
    }

    public void Add(int mapping, ItemResult r)
    {
        var t = Mappings[mapping];
        lock (_lock)
        {
            switch (r.Status)
            {
                case ItemStatus.Succeeded: t.Succeeded++; t.Bytes += r.Bytes; break;
                case ItemStatus.Skipped: t.Skipped++; break;
                case ItemStatus.Failed: t.Failed++; break;
                case ItemStatus.DryRun: t.Listed++; t.PlannedBytes += r.Item.Size ?? 0; break;
            }
            if (_json is null) return;
            _json.WriteStartObject();
            _json.WriteString("mapping", t.Name);
            _json.WriteString("key", r.Item.Key);
            _json.WriteString("item", r.Item.Display);
            _json.WriteString("package", r.Item.Package);
            _json.WriteString("version", r.Item.Version);
            _json.WriteString("status", r.Status == ItemStatus.DryRun ? "planned" : r.Status.ToString().ToLowerInvariant());
            if (r.Item.Size is { } size) _json.WriteNumber("size", size);
            _json.WriteNumber("bytesTransferred", r.Bytes);
            if (r.Error is not null) _json.WriteString("error", r.Error);
            _json.WriteEndObject();
            _json.Flush();
        }
    }

    /// <summary>A mapping-level failure (listing failed, registry missing) that is not tied to one item.</summary>
    public void AddMappingError(int mapping, string error)
    {
        lock (_lock)
        {
            Mappings[mapping].Failed++;
            Mappings[mapping].ListingError = error;
            if (_json is null) return;
            _json.WriteStartObject();
            _json.WriteString("mapping", Mappings[mapping].Name);
            _json.WriteString("status", "failed");
            _json.WriteString("error", error);
            _json.WriteEndObject();
            _json.Flush();
        }
    }

    public void Dispose()
    {
        if (_json is null) return;
        lock (_lock)
        {
            _json.WriteEndArray();
            _json.WriteString("finishedAt", DateTimeOffset.UtcNow);
            _json.WriteStartArray("mappings");
            foreach (var m in Mappings)
            {
                _json.WriteStartObject();
                _json.WriteString("name", m.Name);
                _json.WriteNumber("succeeded", m.Succeeded);
                _json.WriteNumber("skipped", m.Skipped);
                _json.WriteNumber("failed", m.Failed);
                _json.WriteNumber("planned", m.Listed);
                _json.WriteNumber("bytes", m.Bytes);
                _json.WriteNumber("plannedBytes", m.PlannedBytes);
                _json.WriteEndObject();
            }
            _json.WriteEndArray();
            _json.WriteEndObject();
            _json.Dispose();
            _file!.Dispose();
        }
    }
}
