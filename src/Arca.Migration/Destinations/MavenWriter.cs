using System.Net;
using Arca.Migration.Config;
using Arca.Migration.Engine;

namespace Arca.Migration.Destinations;

/// <summary>One file of a Maven repository (POM, jar, classifier file) at its layout path
/// <c>group/path/artifact/version/file</c>. Checksum sidecars and maven-metadata.xml are never items: the
/// destination computes sidecars and regenerates metadata itself.</summary>
public sealed record MavenFileItem : MigrationItem
{
    /// <summary>Repository-relative layout path.</summary>
    public required string Path { get; init; }
    public string? Sha256 { get; init; }
    public string? Sha1 { get; init; }
    /// <summary>Reads a checksum the source publishes separately (a ".sha1" sidecar), or null; called only when needed.</summary>
    public Func<string, CancellationToken, Task<string?>>? SourceChecksum { get; init; }
    public required Func<CancellationToken, Task<Stream>> Open { get; init; }
}

/// <summary>PUTs each file to <c>/pkg/&lt;reg&gt;/maven/&lt;path&gt;</c> with the checksums the source knows (the server refuses
/// bytes that do not match), skips files whose destination sidecar equals the source's, and re-reads the destination
/// sidecar after every upload. The server has no ordering constraint (POM and jar may arrive in any order).</summary>
internal sealed class MavenWriter(HttpClient http, SourceChecksumMemo? memo) : IItemWriter
{
    public async Task<(ItemStatus, long)> WriteAsync(MigrationItem item, MappingConfig mapping, bool overwrite, CancellationToken ct)
    {
        var f = (MavenFileItem)item;
        var url = $"pkg/{Uri.EscapeDataString(mapping.DestinationRegistry)}/maven/" + string.Join('/', f.Path.Split('/').Select(Uri.EscapeDataString));

        var sha256 = f.Sha256 ?? (f.SourceChecksum is null ? null : await f.SourceChecksum("sha256", ct));
        var sha1 = sha256 is not null ? f.Sha1 : f.Sha1 ?? (f.SourceChecksum is null ? null : await f.SourceChecksum("sha1", ct));
        // Without any published checksum, the sha256 is only needed to compare with a file the destination has (memo or
        // download); a new file is hashed while it uploads and checked against the destination's sidecar afterwards.
        var unpublished = sha256 is null && sha1 is null;
        var algorithm = sha1 is not null && sha256 is null ? "sha1" : "sha256";
        var existing = await SidecarAsync(url, algorithm, ct);
        if (unpublished && existing is not null) sha256 = await ContentHash.SourceSha256Async(f, f.Open, memo, ct);
        var expected = algorithm == "sha1" ? sha1 : sha256;
        if (existing is not null && ContentHash.Same(existing, expected)) return (ItemStatus.Skipped, 0);
        // SNAPSHOT files are mutable at the destination; releases answer 409 there unless the registry allows overwrite.
        if (existing is not null && !overwrite && !f.Version.EndsWith("-SNAPSHOT", StringComparison.Ordinal))
            throw new HttpStatusException(HttpStatusCode.Conflict, $"{f.Display} exists at the destination with different content (use overwrite)");

        long moved;
        var fingerprint = expected is null ? await ContentHash.FingerprintBeforeReadAsync(f, memo, ct) : null;
        await using (var content = new CountingStream(await f.Open(ct), hash: expected is null))
        {
            using var request = new HttpRequestMessage(HttpMethod.Put, url) { Content = new StreamContent(content, 128 * 1024) };
            if (f.Size is { } size) request.Content.Headers.ContentLength = size;
            request.Content.Headers.ContentType = new("application/octet-stream");
            if (sha256 is not null) request.Headers.Add("X-Checksum-Sha256", sha256.Trim());
            if (sha1 is not null) request.Headers.Add("X-Checksum-Sha1", sha1.Trim());
            using var response = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, ct);
            await MigrationHttp.EnsureSuccessAsync(response, $"PUT {f.Display}", ct);
            moved = content.BytesRead;
            if (expected is null)
            {
                expected = content.Sha256 ?? throw new InvalidOperationException($"{f.Display}: the upload ended before the whole file was read");
                ContentHash.Remember(f, fingerprint, memo, expected);
            }
        }

        var stored = await SidecarAsync(url, algorithm, ct);
        if (!ContentHash.Same(stored, expected))
            throw new InvalidOperationException($"{f.Display}: destination {algorithm} {stored ?? "(missing)"} differs from source {expected}");
        return (ItemStatus.Succeeded, moved);
    }

    private async Task<string?> SidecarAsync(string url, string algorithm, CancellationToken ct)
    {
        using var response = await http.GetAsync($"{url}.{algorithm}", ct);
        if (response.StatusCode == HttpStatusCode.NotFound) return null;
        await MigrationHttp.EnsureSuccessAsync(response, $"GET {url}.{algorithm}", ct);
        var text = await response.Content.ReadAsStringAsync(ct);
        return text.Split((char[])[' ', '\t', '\r', '\n'], StringSplitOptions.RemoveEmptyEntries).FirstOrDefault();
    }
}
