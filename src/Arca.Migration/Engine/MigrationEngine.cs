using System.Threading.Channels;
using Arca.Migration.Config;

namespace Arca.Migration.Engine;

/// <summary>
/// Runs a migration with ONE global, bounded pool: `concurrency` items in flight in total, whatever the number of
/// mappings. A producer streams source listings into a bounded channel (so listings are never held whole), workers
/// move items with retries and per-item timeouts, and every outcome goes to the state file and the report.
/// </summary>
public sealed class MigrationEngine(
    MigrationConfig config,
    IMigrationSource source,
    Func<string, IItemWriter?> writerFor,
    StateFile? state,
    MigrationReport report,
    Action<int, ItemResult>? onResult = null,
    Action<int, MigrationItem>? onListed = null)
{
    /// <summary>Listing lookups (a manifest per tag) in flight at least: small reads, not transfers, so even a run with
    /// concurrency 1 does not wait for them one by one.</summary>
    public const int MinListLookups = 4;

    /// <summary>Refuses mappings whose artifact type the source or destination cannot handle, before anything moves.</summary>
    public static IReadOnlyList<string> Validate(MigrationConfig config, IMigrationSource source, Func<string, IItemWriter?> writerFor)
    {
        var problems = new List<string>();
        foreach (var m in config.Mappings)
        {
            if (!source.SupportedArtifactTypes.Contains(m.ArtifactType))
                problems.Add($"mappings[{m.Index}]: artifact type {m.ArtifactType} is not supported from a {config.Source.Type} source yet (supported: {string.Join(", ", source.SupportedArtifactTypes)})");
            else if (writerFor(m.ArtifactType) is null)
                problems.Add($"mappings[{m.Index}]: artifact type {m.ArtifactType} cannot be written to the destination yet");
        }
        return problems;
    }

    public async Task RunAsync(bool dryRun, bool overwrite, int concurrency, CancellationToken ct)
    {
        var channel = Channel.CreateBounded<(int Mapping, MigrationItem Item)>(new BoundedChannelOptions(Math.Max(1, concurrency) * 4)
        {
            SingleWriter = true, FullMode = BoundedChannelFullMode.Wait,
        });

        var producer = Task.Run(async () =>
        {
            try
            {
                foreach (var mapping in config.Mappings)
                {
                    var filter = new PackageFilter(mapping.IncludePatterns, mapping.ExcludePatterns);
                    try
                    {
                        await foreach (var item in source.ListAsync(mapping with
                        {
                            ListConcurrency = Math.Max(MinListLookups, concurrency),
                            AlreadyDone = state is null ? null : state.IsDone,
                        }, filter, ct))
                        {
                            onListed?.Invoke(mapping.Index, item);
                            if (state?.IsDone(item.Key) == true)
                            {
                                Complete(mapping.Index, new ItemResult(item, ItemStatus.Skipped, 0, null), record: false);
                                continue;
                            }
                            await channel.Writer.WriteAsync((mapping.Index, item), ct);
                        }
                    }
                    catch (Exception e) when (e is not OperationCanceledException || !ct.IsCancellationRequested)
                    {
                        report.AddMappingError(mapping.Index, $"listing {mapping.Name} failed: {e.Message}");
                    }
                }
            }
            finally { channel.Writer.TryComplete(); }
        }, ct);

        // Lookups before the transfer pool: items the destination already has exactly are settled here, several at a
        // time, and only the rest wait for a transfer slot.
        var transfers = Channel.CreateBounded<(int Mapping, MigrationItem Item)>(new BoundedChannelOptions(Math.Max(1, concurrency) * 4)
        {
            FullMode = BoundedChannelFullMode.Wait,
        });
        var checkers = Enumerable.Range(0, MinListLookups).Select(_ => Task.Run(async () =>
        {
            await foreach (var (mappingIndex, item) in channel.Reader.ReadAllAsync(ct))
            {
                if (!dryRun && !overwrite && item.ListingError is null && await IsUpToDateAsync(item, config.Mappings[mappingIndex], ct))
                {
                    Complete(mappingIndex, new ItemResult(item, ItemStatus.Skipped, 0));
                    continue;
                }
                await transfers.Writer.WriteAsync((mappingIndex, item), ct);
            }
        }, ct)).ToList();
        var checked_ = Task.WhenAll(checkers).ContinueWith(t => transfers.Writer.TryComplete(t.Exception), TaskScheduler.Default);

        var workers = Enumerable.Range(0, Math.Max(1, concurrency)).Select(_ => Task.Run(async () =>
        {
            await foreach (var (mappingIndex, item) in transfers.Reader.ReadAllAsync(ct))
            {
                var mapping = config.Mappings[mappingIndex];
                if (item.ListingError is { } listingError) // not migratable as listed: fails in a dry run too
                {
                    Complete(mappingIndex, new ItemResult(item, ItemStatus.Failed, 0, listingError));
                    continue;
                }
                if (dryRun)
                {
                    Complete(mappingIndex, new ItemResult(await WithSizeAsync(item, ct), ItemStatus.DryRun, 0));
                    continue;
                }
                var result = await MoveWithRetriesAsync(item, mapping, overwrite, ct);
                Complete(mappingIndex, result);
            }
        }, ct)).ToList();

        try { await Task.WhenAll(workers.Append(producer).Concat(checkers).Append(checked_)); }
        catch (OperationCanceledException) when (ct.IsCancellationRequested) { /* Ctrl-C: finished items are in the state file */ }
    }

    /// <summary>The writer's quick check, when it has one; a failing lookup just sends the item on to the pool.</summary>
    private async Task<bool> IsUpToDateAsync(MigrationItem item, MappingConfig mapping, CancellationToken ct)
    {
        if (writerFor(mapping.ArtifactType) is not IUpToDateCheck check) return false;
        try { return await check.IsUpToDateAsync(item, mapping, ct); }
        catch (Exception e) when (e is not OperationCanceledException || !ct.IsCancellationRequested) { return false; }
    }

    /// <summary>A dry run shows sizes: ask the source (HEAD) when the listing did not say. A failing HEAD leaves it unknown.</summary>
    private static async Task<MigrationItem> WithSizeAsync(MigrationItem item, CancellationToken ct)
    {
        if (item.Size is not null || item.Fingerprint is null) return item;
        try { return (await item.Fingerprint(ct))?.Length is { } length ? item with { Size = length } : item; }
        catch (Exception e) when (e is HttpRequestException or IOException or TransientException or InvalidOperationException
                                  || (e is OperationCanceledException && !ct.IsCancellationRequested)) { return item; }
    }

    private void Complete(int mapping, ItemResult result, bool record = true)
    {
        if (record) state?.Record(result);
        report.Add(mapping, result);
        onResult?.Invoke(mapping, result);
    }

    private async Task<ItemResult> MoveWithRetriesAsync(MigrationItem item, MappingConfig mapping, bool overwrite, CancellationToken ct)
    {
        var writer = writerFor(mapping.ArtifactType)!;
        // Sized for multi-GB blobs: the configured base plus one minute per 256 MiB.
        var timeout = config.ItemTimeout + TimeSpan.FromMinutes((item.Size ?? 0) / (256.0 * 1024 * 1024));
        for (var attempt = 0; ; attempt++)
        {
            using var itemCts = CancellationTokenSource.CreateLinkedTokenSource(ct);
            itemCts.CancelAfter(timeout);
            try
            {
                var (status, bytes) = await writer.WriteAsync(item, mapping, overwrite, itemCts.Token);
                return new ItemResult(item, status, bytes);
            }
            catch (OperationCanceledException) when (ct.IsCancellationRequested) { throw; }
            catch (Exception e) when (IsTransient(e, out var retryAfter) && attempt < config.Retries)
            {
                var backoff = retryAfter ?? TimeSpan.FromMilliseconds(Math.Min(30_000, 250 * Math.Pow(2, attempt)) * (0.8 + Random.Shared.NextDouble() * 0.4));
                try { await Task.Delay(backoff, ct); } catch (OperationCanceledException) { throw; }
            }
            catch (Exception e)
            {
                var message = e is OperationCanceledException ? $"timed out after {timeout.TotalMinutes:0.#} min" : e.Message;
                return new ItemResult(item, ItemStatus.Failed, 0, message);
            }
        }
    }

    private static bool IsTransient(Exception e, out TimeSpan? retryAfter)
    {
        retryAfter = null;
        switch (e)
        {
            case TransientException t: retryAfter = t.RetryAfter; return true;
            case HttpRequestException: return true;
            case IOException: return true;
            case OperationCanceledException: return true; // the per-item timeout fired: try again
            default: return false;
        }
    }
}
