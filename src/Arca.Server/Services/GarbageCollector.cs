using Arca.Core.Model;
using Arca.Core.Storage;

namespace Arca.Server.Services;

public sealed record GcReport(bool DryRun, int BlobsScanned, int BlobsDeleted, long BytesFreed, int UntaggedManifestsDeleted, IReadOnlyList<string> Deleted);

/// <summary>
/// Mark and sweep over the shared blob store: a blob survives when any file or manifest references it, or when it
/// is younger than the grace period (so a push in flight, whose metadata is not committed yet, is never collected).
/// </summary>
public sealed class GarbageCollector(IMetadataStore store, IBlobStore blobs, IEnumerable<IUntaggedManifestPruner> pruners, ILogger<GarbageCollector> logger)
{
    private readonly SemaphoreSlim _running = new(1, 1);

    public async Task<GcReport> RunAsync(bool dryRun, bool deleteUntagged, TimeSpan grace, CancellationToken ct)
    {
        await _running.WaitAsync(ct);
        try
        {
            var untagged = 0;
            if (deleteUntagged)
                foreach (var p in pruners) untagged += await p.PruneAsync(dryRun, ct);

            var referenced = new HashSet<string>(StringComparer.Ordinal);
            await foreach (var d in store.ListReferencedDigestsAsync(ct)) referenced.Add(d);

            var cutoff = DateTimeOffset.UtcNow - grace;
            int scanned = 0, deleted = 0;
            long freed = 0;
            var names = new List<string>();
            await foreach (var blob in blobs.ListAsync(ct))
            {
                scanned++;
                var key = blob.Digest.ToString();
                if (referenced.Contains(key) || blob.LastModified > cutoff) continue;
                if (!dryRun)
                {
                    // Re-check right before deleting: a publish may have referenced it since the mark phase.
                    if (await store.IsBlobReferencedAsync(key, ct)) continue;
                    await blobs.DeleteAsync(blob.Digest, ct);
                    await store.ForgetBlobAsync(key, ct);
                }
                deleted++;
                freed += blob.Size;
                if (names.Count < 1000) names.Add(key);
            }
            logger.LogInformation("GC {Mode}: scanned {Scanned} blobs, {Deleted} unreferenced, {Bytes} bytes, {Untagged} untagged manifests",
                dryRun ? "dry run" : "run", scanned, deleted, freed, untagged);
            return new GcReport(dryRun, scanned, deleted, freed, untagged, names);
        }
        finally { _running.Release(); }
    }
}

/// <summary>Formats with untagged manifests (OCI) implement this to let `arca gc --delete-untagged` remove them.</summary>
public interface IUntaggedManifestPruner
{
    Task<int> PruneAsync(bool dryRun, CancellationToken ct);
}

/// <summary>Runs GC periodically when `arca serve --gc-interval` is set.</summary>
public sealed class PeriodicGcService(GarbageCollector gc, Hosting.ServerOptions options, ILogger<PeriodicGcService> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (options.GcInterval is not { } interval) return;
        using var timer = new PeriodicTimer(interval);
        while (await timer.WaitForNextTickAsync(stoppingToken))
        {
            try { await gc.RunAsync(false, false, options.GcGracePeriod, stoppingToken); }
            catch (Exception e) when (e is not OperationCanceledException) { logger.LogError(e, "Periodic GC failed"); }
        }
    }
}
