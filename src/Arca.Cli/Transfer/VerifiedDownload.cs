using System.Security.Cryptography;
using Arca.Client;

namespace Arca.Cli.Transfer;

/// <summary>Streams a download to a temporary file next to the destination, checks its digest while writing, and only
/// then moves it into place (so a failed pull never leaves a partial file).</summary>
public static class VerifiedDownload
{
    /// <summary>Checks the server's X-Checksum-Sha256 (when sent).</summary>
    /// <returns>The path written (the destination, or destination/fileName when it is a directory).</returns>
    public static Task<string> ToFileAsync(TransferContext ctx, string url, string destination, string fileName, CancellationToken ct) =>
        DownloadAsync(ctx, url, destination, fileName, null, ct);

    /// <summary>Checks a digest the caller knows from the format's index (e.g. npm's sha512 integrity).</summary>
    public static Task<string> ToFileAsync(TransferContext ctx, string url, string destination, string fileName,
        HashAlgorithmName algorithm, string? expectedHex, CancellationToken ct) =>
        DownloadAsync(ctx, url, destination, fileName, (algorithm, expectedHex), ct);

    private static async Task<string> DownloadAsync(TransferContext ctx, string url, string destination, string fileName,
        (HashAlgorithmName Algorithm, string? Hex)? known, CancellationToken ct)
    {
        using var response = await ctx.Http.GetAsync(url, HttpCompletionOption.ResponseHeadersRead, ct);
        await ArcaApiClient.EnsureSuccessAsync(response, ct);
        if (Directory.Exists(destination)) destination = Path.Combine(destination, fileName);
        var (algorithm, expected) = known
            ?? (HashAlgorithmName.SHA256, response.Headers.TryGetValues("X-Checksum-Sha256", out var v) ? v.FirstOrDefault() : null);
        var total = response.Content.Headers.ContentLength ?? 0;
        var tmp = destination + ".arca-part";
        try
        {
            await ctx.Output.ProgressAsync(async progress =>
            {
                var report = progress.Start(fileName, total);
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
                if (expected is not null && !expected.Equals(actual, StringComparison.OrdinalIgnoreCase))
                    throw new IOException($"checksum mismatch for {fileName}: expected {algorithm.Name} {expected}, received {actual}");
                return 0;
            });
            File.Move(tmp, destination, overwrite: true);
        }
        finally
        {
            if (File.Exists(tmp)) File.Delete(tmp);
        }
        return destination;
    }
}
