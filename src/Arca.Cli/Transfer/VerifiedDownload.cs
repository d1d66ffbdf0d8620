using System.Security.Cryptography;
using Arca.Client;

namespace Arca.Cli.Transfer;

/// <summary>Streams a download to a temporary file next to the destination, hashing as it goes, and moves it into
/// place only when the hash matches what the index promised (so a failed pull never leaves a partial file).</summary>
internal static class VerifiedDownload
{
    /// <param name="expectedHex">Expected digest (hex) of <paramref name="algorithm"/>, or null to skip the check.</param>
    public static async Task<string> ToFileAsync(TransferContext ctx, string url, string destination, string defaultFileName,
        HashAlgorithmName algorithm, string? expectedHex, CancellationToken ct)
    {
        using var response = await ctx.Http.GetAsync(url, HttpCompletionOption.ResponseHeadersRead, ct);
        await ArcaApiClient.EnsureSuccessAsync(response, ct);
        if (Directory.Exists(destination) || destination.EndsWith('/')) destination = Path.Combine(destination, defaultFileName);
        var dir = Path.GetDirectoryName(Path.GetFullPath(destination));
        if (dir is not null) Directory.CreateDirectory(dir);
        var tmp = destination + ".arca-part";
        var total = response.Content.Headers.ContentLength ?? 0;
        try
        {
            await ctx.Output.ProgressAsync(async progress =>
            {
                var report = progress.Start(Path.GetFileName(destination), total);
                await using var body = await response.Content.ReadAsStreamAsync(ct);
                await using var file = new FileStream(tmp, FileMode.Create, FileAccess.Write, FileShare.None, 1 << 16);
                using var hash = IncrementalHash.CreateHash(algorithm);
                var buffer = new byte[128 * 1024];
                long done = 0;
                int read;
                while ((read = await body.ReadAsync(buffer, ct)) > 0)
                {
                    hash.AppendData(buffer, 0, read);
                    await file.WriteAsync(buffer.AsMemory(0, read), ct);
                    report.Report(done += read);
                }
                var actual = Convert.ToHexStringLower(hash.GetHashAndReset());
                if (expectedHex is not null && !expectedHex.Equals(actual, StringComparison.OrdinalIgnoreCase))
                    throw new IOException($"checksum mismatch for {url}: expected {algorithm.Name} {expectedHex}, received {actual}");
                return 0;
            });
        }
        catch
        {
            File.Delete(tmp);
            throw;
        }
        File.Move(tmp, destination, overwrite: true);
        return destination;
    }
}
