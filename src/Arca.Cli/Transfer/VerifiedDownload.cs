using System.Security.Cryptography;
using Arca.Client;

namespace Arca.Cli.Transfer;

/// <summary>Streams a download to a temporary file next to the destination, checks the server's X-Checksum-Sha256
/// (when sent) while writing, and only then moves it into place.</summary>
public static class VerifiedDownload
{
    /// <returns>The path written (the destination, or destination/fileName when it is a directory).</returns>
    public static async Task<string> ToFileAsync(TransferContext ctx, string url, string destination, string fileName, CancellationToken ct)
    {
        using var response = await ctx.Http.GetAsync(url, HttpCompletionOption.ResponseHeadersRead, ct);
        await ArcaApiClient.EnsureSuccessAsync(response, ct);
        if (Directory.Exists(destination)) destination = Path.Combine(destination, fileName);
        var expected = response.Headers.TryGetValues("X-Checksum-Sha256", out var v) ? v.FirstOrDefault() : null;
        var total = response.Content.Headers.ContentLength ?? 0;
        var tmp = destination + ".arca-part";
        try
        {
            await ctx.Output.ProgressAsync(async progress =>
            {
                var report = progress.Start(fileName, total);
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
                var actual = Convert.ToHexStringLower(hash.GetHashAndReset());
                if (expected is not null && !expected.Equals(actual, StringComparison.OrdinalIgnoreCase))
                    throw new IOException($"checksum mismatch for {fileName}: server says {expected}, received {actual}");
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
