using Arca.Core.Validation;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using Arca.Migration.Config;
using Arca.Migration.Engine;

namespace Arca.Migration.Destinations;

/// <summary>One Go module version: its module zip (streamed), go.mod and .info (small documents).</summary>
public sealed record GoModuleItem : MigrationItem
{
    /// <summary>The module path as written in go.mod (not case-encoded).</summary>
    public required string Module { get; init; }
    /// <summary>The zip's sha256 when the source lists it, so an unchanged version is skipped without reading it.</summary>
    public string? Sha256 { get; init; }
    public required Func<CancellationToken, Task<Stream>> OpenZip { get; init; }
    /// <summary>The .mod and .info documents (bounded, read whole); null when the source has none.</summary>
    public required Func<CancellationToken, Task<byte[]?>> ReadMod { get; init; }
    public required Func<CancellationToken, Task<byte[]?>> ReadInfo { get; init; }
}

/// <summary>
/// Go module versions through Arca's Go endpoint: <c>PUT &lt;module&gt;/@v/&lt;version&gt;</c> multipart (zip streamed,
/// mod, info so the version keeps its original time). Skips a version whose destination zip has the same sha256
/// (HEAD answers X-Checksum-Sha256); verifies the zip's sha256 after the upload.
/// </summary>
internal sealed class GoWriter(HttpClient http) : IItemWriter
{
    public async Task<(ItemStatus, long)> WriteAsync(MigrationItem item, MappingConfig mapping, bool overwrite, CancellationToken ct)
    {
        var m = (GoModuleItem)item;
        var versionUrl = $"pkg/{Uri.EscapeDataString(mapping.DestinationRegistry)}/go/{GoCaseEncoding.Encode(m.Module)}/@v/{GoCaseEncoding.Encode(m.Version)}";
        var existing = await ZipSha256Async(versionUrl, ct);
        if (existing is not null && m.Sha256 is not null)
        {
            if (existing.Equals(m.Sha256, StringComparison.OrdinalIgnoreCase)) return (ItemStatus.Skipped, 0);
            if (!overwrite) throw Differs(m, existing);
        }

        var mod = await m.ReadMod(ct);
        var info = await m.ReadInfo(ct);
        await using var hashing = new HashingStream(await m.OpenZip(ct));
        if (existing is not null && m.Sha256 is null)
        {
            // The source gave no checksum: hash its zip to learn whether the destination already has it.
            await hashing.CopyToAsync(Stream.Null, ct);
            if (hashing.Sha256Hex().Equals(existing, StringComparison.OrdinalIgnoreCase)) return (ItemStatus.Skipped, 0);
            if (!overwrite) throw Differs(m, existing);
            await using var again = new HashingStream(await m.OpenZip(ct));
            return (ItemStatus.Succeeded, await UploadAndVerifyAsync(m, versionUrl, again, mod, info, existing is not null, ct));
        }
        return (ItemStatus.Succeeded, await UploadAndVerifyAsync(m, versionUrl, hashing, mod, info, existing is not null, ct));
    }

    private async Task<long> UploadAndVerifyAsync(GoModuleItem m, string versionUrl, HashingStream zip, byte[]? mod, byte[]? info, bool replace, CancellationToken ct)
    {
        using var form = new MultipartFormDataContent();
        var zipContent = new StreamContent(zip, 128 * 1024);
        zipContent.Headers.ContentType = new MediaTypeHeaderValue("application/zip");
        if (m.Size is { } size) zipContent.Headers.ContentLength = size;
        form.Add(zipContent, "zip", $"{m.Version}.zip");
        if (mod is not null) form.Add(new ByteArrayContent(mod), "mod", $"{m.Version}.mod");
        if (info is not null) form.Add(new ByteArrayContent(info), "info", $"{m.Version}.info");
        using var request = new HttpRequestMessage(HttpMethod.Put, versionUrl + (replace ? "?overwrite=true" : "")) { Content = form };
        // The destination refuses a zip that does not match the source's checksum, and stores nothing.
        if (m.Sha256 is not null) request.Headers.Add("X-Checksum-Sha256", m.Sha256.ToLowerInvariant());
        using var response = await http.SendAsync(request, ct);
        await MigrationHttp.EnsureSuccessAsync(response, $"upload {m.Display}", ct);

        var sent = zip.Sha256Hex();
        var stored = await ZipSha256Async(versionUrl, ct);
        if (!sent.Equals(stored, StringComparison.OrdinalIgnoreCase))
            throw new InvalidOperationException($"{m.Display}: destination zip sha256 {stored ?? "(missing)"} differs from the source ({sent})");
        return zip.BytesRead + (mod?.Length ?? 0) + (info?.Length ?? 0);
    }

    /// <summary>The sha256 of the destination's module zip (HEAD, no body), or null when the version is not there.</summary>
    private async Task<string?> ZipSha256Async(string versionUrl, CancellationToken ct)
    {
        using var request = new HttpRequestMessage(HttpMethod.Head, versionUrl + ".zip");
        using var response = await http.SendAsync(request, ct);
        if (response.StatusCode is HttpStatusCode.NotFound or HttpStatusCode.Gone) return null;
        await MigrationHttp.EnsureSuccessAsync(response, $"HEAD {versionUrl}.zip", ct);
        return response.Headers.TryGetValues("X-Checksum-Sha256", out var values) ? values.FirstOrDefault()
            : throw new InvalidOperationException($"HEAD {versionUrl}.zip: the destination sent no X-Checksum-Sha256");
    }

    private static HttpStatusException Differs(GoModuleItem m, string existing) =>
        new(HttpStatusCode.Conflict, $"{m.Display} exists at the destination with a different zip (sha256 {existing})");
}
