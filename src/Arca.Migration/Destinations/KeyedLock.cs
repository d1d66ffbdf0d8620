namespace Arca.Migration.Destinations;

/// <summary>
/// Serialises work on one key (a destination package) while other keys run in parallel. Needed where the
/// destination updates a package document read-modify-write (npm dist-tags, per-version Python file attributes):
/// two concurrent writes to the same package could otherwise lose one another's change.
/// </summary>
internal static class KeyedLock
{
    private sealed class Entry { public readonly SemaphoreSlim Gate = new(1, 1); public int Users; }
    private static readonly Dictionary<string, Entry> Entries = new(StringComparer.Ordinal);

    public static async Task<IDisposable> AcquireAsync(string key, CancellationToken ct)
    {
        Entry entry;
        lock (Entries)
        {
            if (!Entries.TryGetValue(key, out entry!)) Entries[key] = entry = new Entry();
            entry.Users++;
        }
        try { await entry.Gate.WaitAsync(ct); }
        catch { Release(key, entry, held: false); throw; }
        return new Releaser(() => Release(key, entry, held: true));
    }

    private static void Release(string key, Entry entry, bool held)
    {
        if (held) entry.Gate.Release();
        lock (Entries)
            if (--entry.Users == 0) Entries.Remove(key);
    }

    private sealed class Releaser(Action release) : IDisposable
    {
        private Action? _release = release;
        public void Dispose() => Interlocked.Exchange(ref _release, null)?.Invoke();
    }
}
