using System.Net;
using Arca.Migration.Config;
using Arca.Migration.Engine;
using Arca.Migration.Sources;

namespace Arca.Migration.Destinations;

/// <summary>Generic files: skip when the destination has the same sha256; else stream, then verify.</summary>
internal sealed class GenericWriter(HttpClient http) : IItemWriter
{
    public async Task<(ItemStatus, long)> WriteAsync(MigrationItem item, MappingConfig mapping, bool overwrite, CancellationToken ct)
    {
        var f = (GenericFileItem)item;
        var url = $"pkg/{Uri.EscapeDataString(mapping.DestinationRegistry)}/generic/{Uri.EscapeDataString(f.Package)}/{Uri.EscapeDataString(f.Version)}/"
            + string.Join('/', f.Path.Split('/').Select(Uri.EscapeDataString));
        var existing = await Sha256AtAsync(url, ct);
        if (existing is not null && existing.Equals(f.Sha256, StringComparison.OrdinalIgnoreCase)) return (ItemStatus.Skipped, 0);
        if (existing is not null && !overwrite)
            throw new HttpStatusException(HttpStatusCode.Conflict, $"{f.Display} exists at the destination with different content (use overwrite)");

        await using var content = await f.Open(ct);
        using var request = new HttpRequestMessage(HttpMethod.Put, url + (overwrite ? "?overwrite=true" : "")) { Content = new StreamContent(content, 128 * 1024) };
        if (f.Size is { } size) request.Content.Headers.ContentLength = size;
        request.Content.Headers.ContentType = new("application/octet-stream");
        request.Headers.Add("X-Checksum-Sha256", f.Sha256); // the destination refuses bytes that do not match
        using var response = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, ct);
        await MigrationHttp.EnsureSuccessAsync(response, $"PUT {f.Display}", ct);

        var stored = await Sha256AtAsync(url, ct);
        if (!string.Equals(stored, f.Sha256, StringComparison.OrdinalIgnoreCase))
            throw new InvalidOperationException($"{f.Display}: destination checksum {stored ?? "(missing)"} differs from source {f.Sha256}");
        return (ItemStatus.Succeeded, f.Size ?? 0);
    }

    private async Task<string?> Sha256AtAsync(string url, CancellationToken ct)
    {
        using var head = await http.SendAsync(new HttpRequestMessage(HttpMethod.Head, url), ct);
        if (head.StatusCode == HttpStatusCode.NotFound) return null;
        await MigrationHttp.EnsureSuccessAsync(head, $"HEAD {url}", ct);
        return head.Headers.TryGetValues("X-Checksum-Sha256", out var v) ? v.FirstOrDefault() : null;
    }
}
