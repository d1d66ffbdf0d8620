using System.Net;
using System.Net.Http.Headers;
using Arca.Migration.Config;
using Arca.Migration.Engine;

namespace Arca.Migration.Destinations;

/// <summary>One NuGet package version: its .nupkg. <see cref="MigrationItem.Package"/> is the id as the source spells
/// it, <see cref="MigrationItem.Version"/> the normalized version.</summary>
public sealed record NuGetPackageItem : MigrationItem
{
    public string? Sha256 { get; init; }
    /// <summary>Whether the source lists the version (null: the source cannot say, keep the destination's default).</summary>
    public required Func<CancellationToken, Task<bool?>> IsListed { get; init; }
    public required Func<CancellationToken, Task<Stream>> Open { get; init; }
}

/// <summary>Pushes a .nupkg as `dotnet nuget push` does (multipart PUT to <c>/pkg/&lt;reg&gt;/nuget/</c>, X-NuGet-ApiKey),
/// skips versions whose flat-container .nupkg has the same sha256, verifies the sha256 after the push, and unlists the
/// version when the source has it unlisted. Feeds publish no package hash, so the source's is computed while pushing,
/// or, for a version the destination already has, taken from the checksum memo when the source's validators say the
/// file is unchanged since an earlier run hashed it.</summary>
internal sealed class NuGetWriter(HttpClient http, string? apiKey, SourceChecksumMemo? memo) : IItemWriter
{
    public async Task<(ItemStatus, long)> WriteAsync(MigrationItem item, MappingConfig mapping, bool overwrite, CancellationToken ct)
    {
        var p = (NuGetPackageItem)item;
        var reg = Uri.EscapeDataString(mapping.DestinationRegistry);
        var id = p.Package.ToLowerInvariant();
        var version = p.Version.ToLowerInvariant();
        var nupkgUrl = $"pkg/{reg}/nuget/v3-flatcontainer/{Uri.EscapeDataString(id)}/{Uri.EscapeDataString(version)}/{Uri.EscapeDataString($"{id}.{version}.nupkg")}";

        var existing = await Sha256AtAsync(nupkgUrl, ct);
        var status = ItemStatus.Skipped;
        long bytes = 0;
        // Feeds publish no package hash: it is only needed to compare with a package the destination already has;
        // a new package is hashed while it streams to the destination (one download, not two).
        var sha256 = p.Sha256 ?? (existing is null ? null : await ContentHash.SourceSha256Async(p, p.Open, memo, ct));
        if (existing is null || !ContentHash.Same(existing, sha256))
        {
            if (existing is not null && !overwrite)
                throw new HttpStatusException(HttpStatusCode.Conflict, $"{p.Display} exists at the destination with different content (use overwrite)");
            var fingerprint = sha256 is null ? await ContentHash.FingerprintBeforeReadAsync(p, memo, ct) : null;
            var (moved, streamed) = await PushAsync(reg, p, ct);
            sha256 ??= streamed;
            var stored = await Sha256AtAsync(nupkgUrl, ct);
            if (!ContentHash.Same(stored, sha256))
                throw new InvalidOperationException($"{p.Display}: destination sha256 {stored ?? "(missing)"} differs from source {sha256}");
            ContentHash.Remember(p, fingerprint, memo, sha256!);
            (status, bytes) = (ItemStatus.Succeeded, moved);
        }

        // A push lists the version; keep the source's unlisted state (DELETE is NuGet's unlist, idempotent).
        if (await p.IsListed(ct) == false)
        {
            using var unlist = new HttpRequestMessage(HttpMethod.Delete, $"pkg/{reg}/nuget/api/v2/package/{Uri.EscapeDataString(id)}/{Uri.EscapeDataString(version)}");
            if (apiKey is not null) unlist.Headers.Add("X-NuGet-ApiKey", apiKey);
            using var r = await http.SendAsync(unlist, ct);
            await MigrationHttp.EnsureSuccessAsync(r, $"unlist {p.Display}", ct);
        }
        return (status, bytes);
    }

    /// <summary>Pushes the package; returns the bytes sent and their sha256.</summary>
    private async Task<(long Bytes, string? Sha256)> PushAsync(string reg, NuGetPackageItem p, CancellationToken ct)
    {
        await using var content = new CountingStream(await p.Open(ct), hash: true);
        var file = new StreamContent(content, 128 * 1024);
        file.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
        if (p.Size is { } size) file.Headers.ContentLength = size;
        using var form = new MultipartFormDataContent { { file, "package", "package.nupkg" } };
        using var request = new HttpRequestMessage(HttpMethod.Put, $"pkg/{reg}/nuget/") { Content = form };
        if (apiKey is not null) request.Headers.Add("X-NuGet-ApiKey", apiKey);
        using var response = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, ct);
        await MigrationHttp.EnsureSuccessAsync(response, $"push {p.Display}", ct);
        return (content.BytesRead, content.Sha256);
    }

    private async Task<string?> Sha256AtAsync(string url, CancellationToken ct)
    {
        using var head = await http.SendAsync(new HttpRequestMessage(HttpMethod.Head, url), ct);
        if (head.StatusCode == HttpStatusCode.NotFound) return null;
        await MigrationHttp.EnsureSuccessAsync(head, $"HEAD {url}", ct);
        return head.Headers.TryGetValues("X-Checksum-Sha256", out var v) ? v.FirstOrDefault() : null;
    }
}
