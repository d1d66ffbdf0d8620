using System.Collections.Concurrent;
using System.Text.Json;

namespace Arca.Migration.Engine;

/// <summary>What a source says of a file without sending it (HEAD): enough to tell whether it changed since it was hashed.</summary>
public sealed record SourceFingerprint(string? ETag, string? LastModified, long? Length)
{
    /// <summary>Only a validator (ETag or Last-Modified) identifies content; a length alone does not.</summary>
    public bool IdentifiesContent => ETag is not null || LastModified is not null;
}

/// <summary>
/// sha256 sums this machine computed for source files that come without a published checksum (NuGet feeds, charts
/// without a digest, Maven files without sidecars), keyed by item and the source's validators at the time. A rerun
/// whose HEAD at the source shows the same validators reuses the sum instead of downloading the file again to compare
/// it with the destination. One JSON line per sum, appended and flushed; unlike the state file it is read on every
/// run, because a validator that changed simply misses.
/// </summary>
public sealed class SourceChecksumMemo : IDisposable
{
    private readonly ConcurrentDictionary<string, Entry> _entries = new(StringComparer.Ordinal);
    private readonly StreamWriter _writer;
    private readonly object _lock = new();

    private SourceChecksumMemo(string path)
    {
        if (File.Exists(path))
            foreach (var line in File.ReadLines(path))
            {
                if (string.IsNullOrWhiteSpace(line)) continue;
                try
                {
                    if (JsonSerializer.Deserialize<Entry>(line) is { Key.Length: > 0, Sha256.Length: 64 } e) _entries[e.Key] = e;
                }
                catch (JsonException) { /* a line cut by a crash: that file is hashed again */ }
            }
        Directory.CreateDirectory(System.IO.Path.GetDirectoryName(System.IO.Path.GetFullPath(path))!);
        _writer = new StreamWriter(new FileStream(path, FileMode.Append, FileAccess.Write, FileShare.Read));
        StateFile.EndCutLine(path, _writer);
    }

    /// <summary>The memo kept beside a state file (<c>x.state.jsonl</c> → <c>x.checksums.jsonl</c>).</summary>
    public static SourceChecksumMemo OpenBeside(string statePath)
    {
        var full = System.IO.Path.GetFullPath(statePath);
        var name = System.IO.Path.GetFileName(full);
        var stem = name.EndsWith(".state.jsonl", StringComparison.Ordinal) ? name[..^".state.jsonl".Length] : name;
        return new SourceChecksumMemo(System.IO.Path.Combine(System.IO.Path.GetDirectoryName(full)!, stem + ".checksums.jsonl"));
    }

    public string? Lookup(string key, SourceFingerprint fingerprint) =>
        fingerprint.IdentifiesContent && _entries.TryGetValue(key, out var e)
        && e.ETag == fingerprint.ETag && e.LastModified == fingerprint.LastModified && e.Length == fingerprint.Length ? e.Sha256 : null;

    public void Record(string key, SourceFingerprint fingerprint, string sha256)
    {
        if (!fingerprint.IdentifiesContent) return;
        var entry = new Entry(key, fingerprint.ETag, fingerprint.LastModified, fingerprint.Length, sha256.ToLowerInvariant());
        if (_entries.TryGetValue(key, out var old) && old == entry) return;
        _entries[key] = entry;
        var line = JsonSerializer.Serialize(entry);
        lock (_lock)
        {
            _writer.WriteLine(line);
            _writer.Flush();
        }
    }

    public void Dispose() { lock (_lock) _writer.Dispose(); }

    private sealed record Entry(string Key, string? ETag, string? LastModified, long? Length, string Sha256);
}
