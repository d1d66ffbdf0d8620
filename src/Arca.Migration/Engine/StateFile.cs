using System.Text.Json;

namespace Arca.Migration.Engine;

/// <summary>
/// Resumable state: one JSON line per finished item, appended and flushed as each item completes, so a crash,
/// Ctrl-C or a dead source loses at most the items in flight. `--resume` skips every key recorded as done.
/// </summary>
public sealed class StateFile : IDisposable
{
    private readonly StreamWriter _writer;
    private readonly HashSet<string> _done = new(StringComparer.Ordinal);
    private readonly object _lock = new();
    public string Path { get; }
    public int ResumedCount => _done.Count;

    private StateFile(string path, bool resume)
    {
        Path = path;
        if (resume && File.Exists(path))
            foreach (var line in File.ReadLines(path))
            {
                if (string.IsNullOrWhiteSpace(line)) continue;
                try
                {
                    var e = JsonSerializer.Deserialize<Entry>(line);
                    if (e is { Status: "succeeded" or "skipped" }) _done.Add(e.Key);
                }
                catch (JsonException) { /* a line cut by a crash: that item simply runs again */ }
            }
        Directory.CreateDirectory(System.IO.Path.GetDirectoryName(System.IO.Path.GetFullPath(path))!);
        _writer = new StreamWriter(new FileStream(path, resume ? FileMode.Append : FileMode.Create, FileAccess.Write, FileShare.Read));
        if (resume) EndCutLine(path, _writer);
    }

    /// <summary>A crash can leave the last line cut: start appending on a fresh line, so the next entry is not glued to it.</summary>
    internal static void EndCutLine(string path, StreamWriter writer)
    {
        using (var read = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite))
        {
            if (read.Length == 0) return;
            read.Seek(-1, SeekOrigin.End);
            if (read.ReadByte() == '\n') return;
        }
        writer.WriteLine();
        writer.Flush();
    }

    public static StateFile Open(string path, bool resume) => new(path, resume);

    public bool IsDone(string key) { lock (_lock) return _done.Contains(key); }

    public void Record(ItemResult r)
    {
        if (r.Status == ItemStatus.DryRun) return;
        var line = JsonSerializer.Serialize(new Entry(r.Item.Key, r.Status.ToString().ToLowerInvariant(), r.Bytes, DateTimeOffset.UtcNow));
        lock (_lock)
        {
            _writer.WriteLine(line);
            _writer.Flush();
            if (r.Status is ItemStatus.Succeeded or ItemStatus.Skipped) _done.Add(r.Item.Key);
        }
    }

    public void Dispose() { lock (_lock) _writer.Dispose(); }

    private sealed record Entry(string Key, string Status, long Bytes, DateTimeOffset At);
}
