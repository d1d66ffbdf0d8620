using System.Collections.Concurrent;
using System.Text.Json.Serialization;
using System.Text.RegularExpressions;
using Polly;

namespace Arca.Client.Oci;

public sealed class ImageCopyOptions
{
    /// <summary>Copy only this platform's manifest out of an index (the destination tag then names that manifest).</summary>
    public OciPlatform? Platform { get; init; }
    /// <summary>Copy referrers (signatures, SBOMs, attestations) along, recursively up to <see cref="MaxReferrerDepth"/>.</summary>
    public bool IncludeReferrers { get; init; } = true;
    public int MaxReferrerDepth { get; init; } = 4;
    /// <summary>Replace a destination tag that names a different manifest (otherwise that is a conflict and nothing is copied).</summary>
    public bool Overwrite { get; init; }
    /// <summary>Blobs transferred in parallel.</summary>
    public int Concurrency { get; init; } = 3;
    /// <summary>Creates a progress sink for one blob transfer (description, total bytes).</summary>
    public Func<string, long, IProgress<long>>? StartProgress { get; init; }
    public Action<string>? Log { get; init; }
    /// <summary>Blob digest → a destination repository known to hold it, shared between copiers (e.g. one per
    /// migrated tag) so later images mount blobs that earlier ones uploaded instead of transferring them again.</summary>
    public ConcurrentDictionary<string, string>? SharedBlobHomes { get; init; }
}

/// <summary>One tag (or digest) copied.</summary>
public sealed record ImageCopyResult(
    [property: JsonPropertyName("source")] string Source,
    [property: JsonPropertyName("destination")] string Destination,
    [property: JsonPropertyName("digest")] string Digest,
    [property: JsonPropertyName("status")] string Status);

/// <summary>What a copy did; "bytes" counts blob bytes actually uploaded.</summary>
public sealed class ImageCopySummary
{
    private long _manifestsCopied, _manifestsSkipped, _blobsCopied, _blobsSkipped, _blobsMounted, _bytes, _referrersCopied, _referrersSkipped;

    [JsonPropertyName("manifestsCopied")] public long ManifestsCopied => _manifestsCopied;
    [JsonPropertyName("manifestsSkipped")] public long ManifestsSkipped => _manifestsSkipped;
    [JsonPropertyName("blobsCopied")] public long BlobsCopied => _blobsCopied;
    [JsonPropertyName("blobsSkipped")] public long BlobsSkipped => _blobsSkipped;
    [JsonPropertyName("blobsMounted")] public long BlobsMounted => _blobsMounted;
    [JsonPropertyName("bytesCopied")] public long BytesCopied => _bytes;
    [JsonPropertyName("referrersCopied")] public long ReferrersCopied => _referrersCopied;
    [JsonPropertyName("referrersSkipped")] public long ReferrersSkipped => _referrersSkipped;
    [JsonPropertyName("images")] public List<ImageCopyResult> Images { get; } = [];

    internal void ManifestCopied() => Interlocked.Increment(ref _manifestsCopied);
    internal void ManifestSkipped() => Interlocked.Increment(ref _manifestsSkipped);
    internal void BlobCopied(long bytes) { Interlocked.Increment(ref _blobsCopied); Interlocked.Add(ref _bytes, bytes); }
    internal void BlobSkipped() => Interlocked.Increment(ref _blobsSkipped);
    internal void BlobMounted() => Interlocked.Increment(ref _blobsMounted);
    internal void ReferrerCopied() => Interlocked.Increment(ref _referrersCopied);
    internal void ReferrerSkipped() => Interlocked.Increment(ref _referrersSkipped);
}

/// <summary>
/// Copies images between two registries keeping digests: whole indexes (or one platform), blobs skipped by HEAD or
/// mounted across repositories, referrers via the referrers API or its tag-schema fallback on either side.
/// A destination tag naming another manifest is a conflict unless overwriting; conflicts are checked for every
/// requested tag before anything is written.
/// </summary>
public sealed partial class ImageCopier(OciRegistryClient source, OciRegistryClient destination, ImageCopyOptions options)
{
    private readonly ImageCopySummary _summary = new();
    private readonly ResiliencePipeline _blobRetry = OciRetry.ForOperation(destination.Options);
    private readonly ConcurrentDictionary<string, Task> _blobs = new();
    private readonly ConcurrentDictionary<string, Task> _manifests = new();
    private readonly ConcurrentDictionary<string, string> _blobHomes = options.SharedBlobHomes ?? new(); // digest -> a destination repository holding it
    private readonly HashSet<string> _referrersDone = [];

    public ImageCopySummary Summary => _summary;

    [GeneratedRegex("^sha256-[a-f0-9]{64}(\\..*)?$")]
    private static partial Regex FallbackTagPattern();

    /// <summary>True for tags that are referrers fallback indexes (copied as referrers, not as tags).</summary>
    public static bool IsReferrersFallbackTag(string tag) => FallbackTagPattern().IsMatch(tag);

    /// <summary>Copies one image. The destination tag defaults to the source tag (or only the digest for a digest reference).</summary>
    public Task<ImageCopySummary> CopyAsync(ImageReference src, ImageReference dest, CancellationToken ct = default) =>
        CopyManyAsync([(src, dest)], ct);

    /// <summary>Copies every tag of the source repository into the destination repository.</summary>
    public async Task<ImageCopySummary> CopyAllTagsAsync(ImageReference srcRepository, ImageReference destRepository, CancellationToken ct = default)
    {
        var pairs = new List<(ImageReference, ImageReference)>();
        await foreach (var tag in source.ListTagsAsync(srcRepository.Repository, ct: ct))
            if (!IsReferrersFallbackTag(tag))
                pairs.Add((srcRepository.WithTag(tag), destRepository.WithTag(tag)));
        if (pairs.Count == 0) throw new OciException($"{srcRepository.Registry}/{srcRepository.Repository} has no tags");
        return await CopyManyAsync(pairs, ct);
    }

    private sealed record Plan(ImageReference Source, ImageReference Destination, string DestReference, OciManifest Manifest, OciDescriptor? Existing);

    public async Task<ImageCopySummary> CopyManyAsync(IReadOnlyList<(ImageReference Source, ImageReference Destination)> pairs, CancellationToken ct = default)
    {
        // Plan and check conflicts first, so a conflict leaves the destination untouched.
        var plans = new List<Plan>();
        var conflicts = new List<string>();
        foreach (var (src, dest) in pairs)
        {
            var plan = await PlanAsync(src, dest, ct);
            if (plan.Existing is { } existing && existing.Digest != plan.Manifest.Digest && !options.Overwrite)
                conflicts.Add($"{dest.Registry}/{dest.Repository}:{plan.DestReference} is {existing.Digest}, source is {plan.Manifest.Digest}");
            plans.Add(plan);
        }
        if (conflicts.Count > 0)
            throw new OciTagConflictException($"destination tag differs (use --overwrite to replace): {string.Join("; ", conflicts)}");

        foreach (var plan in plans)
        {
            var target = $"{plan.Destination.Registry}/{plan.Destination.Repository}" +
                         (plan.DestReference.Contains(':') ? "@" : ":") + plan.DestReference;
            string status;
            if (plan.Existing?.Digest == plan.Manifest.Digest)
            {
                options.Log?.Invoke($"{target} is up to date ({plan.Manifest.Digest})");
                _summary.ManifestSkipped();
                status = "skipped";
            }
            else
            {
                await CopyTreeAsync(plan.Source.Repository, plan.Destination.Repository, plan.Manifest, ct);
                await destination.PutManifestAsync(plan.Destination.Repository, plan.DestReference, plan.Manifest, ct);
                _summary.ManifestCopied();
                status = plan.Existing is null ? "copied" : "overwritten";
                options.Log?.Invoke($"{target} {status} ({plan.Manifest.Digest})");
            }
            if (options.IncludeReferrers)
                await CopyReferrersOfTreeAsync(plan.Source.Repository, plan.Destination.Repository, plan.Manifest, 0, ct);
            lock (_summary.Images)
                _summary.Images.Add(new ImageCopyResult(plan.Source.ToString(), target, plan.Manifest.Digest, status));
        }
        return _summary;
    }

    private async Task<Plan> PlanAsync(ImageReference src, ImageReference dest, CancellationToken ct)
    {
        var reference = src.Reference ?? throw new OciException($"source {src} needs a tag or digest (or use --all-tags)");
        var manifest = await source.GetManifestAsync(src.Repository, reference, ct)
                       ?? throw new OciException($"source image {src} not found", System.Net.HttpStatusCode.NotFound, "MANIFEST_UNKNOWN");
        if (options.Platform is { } platform && manifest.IsIndex)
        {
            var child = manifest.Manifests.FirstOrDefault(m => m.Platform is { } p && p.Matches(platform))
                        ?? throw new OciException($"{src} has no manifest for platform {platform} (has: {string.Join(", ", manifest.Manifests.Select(m => m.Platform?.ToString() ?? "?"))})",
                            System.Net.HttpStatusCode.NotFound, "MANIFEST_UNKNOWN");
            manifest = await source.GetManifestAsync(src.Repository, child.Digest, ct)
                       ?? throw new OciException($"{src}: platform manifest {child.Digest} is missing", System.Net.HttpStatusCode.NotFound);
        }
        if (dest.Digest is { } wantedDigest && wantedDigest != manifest.Digest)
            throw new OciException($"destination {dest} names digest {wantedDigest}, but the source is {manifest.Digest}");
        var destReference = dest.Tag ?? (dest.Digest is null && src.Digest is null ? src.Tag : null) ?? manifest.Digest;
        var existing = await destination.HeadManifestAsync(dest.Repository, destReference, ct);
        return new Plan(src, dest, destReference, manifest, existing);
    }

    /// <summary>Makes sure the destination has everything <paramref name="manifest"/> references (not the manifest itself).</summary>
    private async Task CopyTreeAsync(string srcRepo, string destRepo, OciManifest manifest, CancellationToken ct)
    {
        if (manifest.IsIndex)
        {
            foreach (var child in manifest.Manifests)
                await CopyManifestByDigestAsync(srcRepo, destRepo, child.Digest, ct);
            return;
        }
        await Parallel.ForEachAsync(manifest.Blobs.Where(IsDistributable),
            new ParallelOptions { MaxDegreeOfParallelism = Math.Max(1, options.Concurrency), CancellationToken = ct },
            async (blob, token) => await CopyBlobOnceAsync(srcRepo, destRepo, blob, token));
    }

    /// <summary>Copies a manifest (and its tree) by digest, unless the destination already has it.</summary>
    private Task CopyManifestByDigestAsync(string srcRepo, string destRepo, string digest, CancellationToken ct) =>
        _manifests.GetOrAdd($"{destRepo}@{digest}", _ => CopyManifestCoreAsync(srcRepo, destRepo, digest, ct));

    private async Task CopyManifestCoreAsync(string srcRepo, string destRepo, string digest, CancellationToken ct)
    {
        if (await destination.HeadManifestAsync(destRepo, digest, ct) is not null)
        {
            _summary.ManifestSkipped();
            return;
        }
        var manifest = await source.GetManifestAsync(srcRepo, digest, ct)
                       ?? throw new OciException($"{source.Registry}/{srcRepo}@{digest} is referenced but missing", System.Net.HttpStatusCode.NotFound);
        await CopyTreeAsync(srcRepo, destRepo, manifest, ct);
        await destination.PutManifestAsync(destRepo, digest, manifest, ct);
        _summary.ManifestCopied();
    }

    /// <summary>Foreign (non-distributable) layers stay where their URLs point.</summary>
    private static bool IsDistributable(OciDescriptor blob) =>
        !blob.MediaType.Contains("foreign", StringComparison.Ordinal) && !blob.MediaType.Contains("nondistributable", StringComparison.Ordinal);

    private Task CopyBlobOnceAsync(string srcRepo, string destRepo, OciDescriptor blob, CancellationToken ct) =>
        _blobs.GetOrAdd($"{destRepo}@{blob.Digest}", _ => CopyBlobAsync(srcRepo, destRepo, blob, ct));

    private async Task CopyBlobAsync(string srcRepo, string destRepo, OciDescriptor blob, CancellationToken ct)
    {
        if (await destination.HeadBlobAsync(destRepo, blob.Digest, ct) is not null)
        {
            _summary.BlobSkipped();
            _blobHomes.TryAdd(blob.Digest, destRepo);
            return;
        }
        Uri? session = null;
        // Mount instead of transferring: from the source repository when both sides are the same registry, or
        // from another destination repository this run already filled.
        var mountFrom = source.Registry == destination.Registry && srcRepo != destRepo ? srcRepo
            : _blobHomes.TryGetValue(blob.Digest, out var home) && home != destRepo ? home : null;
        if (mountFrom is not null)
        {
            var mount = await destination.MountBlobAsync(destRepo, blob.Digest, mountFrom, ct);
            if (mount.Mounted)
            {
                _summary.BlobMounted();
                _blobHomes.TryAdd(blob.Digest, destRepo);
                options.Log?.Invoke($"mounted {blob.Digest} from {mountFrom}");
                return;
            }
            session = mount.UploadLocation;
        }
        await _blobRetry.ExecuteAsync(async token =>
        {
            var progress = options.StartProgress?.Invoke($"{ShortDigest(blob.Digest)} {destRepo}", blob.Size);
            using var download = await source.GetBlobAsync(srcRepo, blob.Digest, token);
            var size = download.Length >= 0 ? download.Length : blob.Size;
            var useSession = session;
            session = null; // an upload session is single-use; a retry opens a new one
            await destination.UploadBlobAsync(destRepo, blob.Digest, download.Content, size, progress, useSession, token);
            _summary.BlobCopied(size);
        }, ct);
        _blobHomes.TryAdd(blob.Digest, destRepo);
    }

    private static string ShortDigest(string digest) => digest.Length > 19 ? digest[..19] : digest;

    private async Task CopyReferrersOfTreeAsync(string srcRepo, string destRepo, OciManifest manifest, int depth, CancellationToken ct)
    {
        await CopyReferrersAsync(srcRepo, destRepo, manifest.Digest, depth, ct);
        foreach (var child in manifest.Manifests)
            await CopyReferrersAsync(srcRepo, destRepo, child.Digest, depth, ct);
    }

    /// <summary>Copies the referrers of <paramref name="subject"/> and makes them discoverable at the destination
    /// (its referrers API, or the fallback tag when it has none); then their referrers, recursively.</summary>
    private async Task CopyReferrersAsync(string srcRepo, string destRepo, string subject, int depth, CancellationToken ct)
    {
        lock (_referrersDone)
            if (!_referrersDone.Add($"{destRepo}@{subject}")) return;
        var found = await source.GetReferrersAsync(srcRepo, subject, ct);
        if (found.Referrers.Count == 0) return;

        foreach (var referrer in found.Referrers)
        {
            if (await destination.HeadManifestAsync(destRepo, referrer.Digest, ct) is not null)
                _summary.ReferrerSkipped();
            else
            {
                var manifest = await source.GetManifestAsync(srcRepo, referrer.Digest, ct)
                               ?? throw new OciException($"referrer {referrer.Digest} of {subject} is listed but missing", System.Net.HttpStatusCode.NotFound);
                await CopyTreeAsync(srcRepo, destRepo, manifest, ct);
                await destination.PutManifestAsync(destRepo, referrer.Digest, manifest, ct);
                _summary.ManifestCopied();
                _summary.ReferrerCopied();
                options.Log?.Invoke($"referrer {referrer.Digest} ({referrer.ArtifactType ?? referrer.MediaType}) of {ShortDigest(subject)} copied");
            }
        }

        // Registries with the referrers API index subjects themselves; for the others, maintain the fallback tag.
        var listed = await destination.GetReferrersAsync(destRepo, subject, ct);
        if (listed.FromFallbackTag)
            foreach (var referrer in found.Referrers)
                if (listed.Referrers.All(r => r.Digest != referrer.Digest))
                    await destination.AddToFallbackTagAsync(destRepo, subject, referrer, ct);

        if (depth + 1 < options.MaxReferrerDepth)
            foreach (var referrer in found.Referrers)
                await CopyReferrersAsync(srcRepo, destRepo, referrer.Digest, depth + 1, ct);
    }
}
