using System.Security.Cryptography;
using Arca.Client;

namespace Arca.Cli.Transfer;

/// <summary>Streams one file from the server to disk with a progress bar, verifying X-Checksum-Sha256 when the server
/// sends it; the destination only appears once the download is complete and verified.</summary>
internal static class TransferDownload
{
    public static async Task<string> DownloadAsync(TransferContext ctx, string url, string destinationFile, string label, CancellationToken ct)
    {
        using var response = await ctx.Http.GetAsync(url, HttpCompletionOption.ResponseHeadersRead, ct);
        await ArcaApiClient.EnsureSuccessAsync(response, ct);
        var expected = response.Headers.TryGetValues("X-Checksum-Sha256", out var v) ? v.FirstOrDefault() : null;
        var total = response.Content.Headers.ContentLength ?? 0;
        var tmp = destinationFile + ".arca-part";
        var actual = await ctx.Output.ProgressAsync(async progress =>
        {
            var report = progress.Start(Path.GetFileName(destinationFile), total);
            await using var body = await response.Content.ReadAsStreamAsync(ct);
            await using var file = new FileStream(tmp, FileMode.Create, FileAccess.Write, FileShare.None, 1 << 16);
            using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
            var buffer = new byte[128 * 1024];
            long done = 0;
            int read;
            while ((read = await body.ReadAsync(buffer, ct)) > 0)
            {
                hash.AppendData(buffer, 0, read);
                await file.WriteAsync(buffer.AsMemory(0, read), ct);
                report.Report(done += read);
            }
            return Convert.ToHexStringLower(hash.GetHashAndReset());
        });
        if (expected is not null && !expected.Equals(actual, StringComparison.OrdinalIgnoreCase))
        {
            File.Delete(tmp);
            throw new IOException($"checksum mismatch for {label}: server says {expected}, received {actual}");
        }
        File.Move(tmp, destinationFile, overwrite: true);
        return actual;
    }

    public static async Task<string> Sha256OfFileAsync(string path, CancellationToken ct)
    {
        await using var s = File.OpenRead(path);
        return Convert.ToHexStringLower(await SHA256.HashDataAsync(s, ct));
    }
}
