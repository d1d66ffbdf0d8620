using System.Net;
using Arca.Migration.Engine;

namespace Arca.Migration.Sources;

/// <summary>Reads a Go module version's .mod or .info document (small, read whole but bounded).</summary>
internal static class GoDocuments
{
    /// <summary>A .mod or .info larger than this is not a real one; refuse rather than buffer it.</summary>
    public const int MaxBytes = 16 * 1024 * 1024;

    /// <summary>The document at <paramref name="url"/> (absolute, or relative to the client's base); null when the source has none (404/410).</summary>
    public static async Task<byte[]?> ReadAsync(HttpClient http, string url, CancellationToken ct)
    {
        using var response = await http.GetAsync(url, HttpCompletionOption.ResponseHeadersRead, ct);
        if (response.StatusCode is HttpStatusCode.NotFound or HttpStatusCode.Gone) return null;
        await MigrationHttp.EnsureSuccessAsync(response, $"GET {url}", ct);
        if (response.Content.Headers.ContentLength > MaxBytes)
            throw new InvalidOperationException($"GET {url}: {response.Content.Headers.ContentLength} bytes is too large for a Go .mod/.info");
        await using var body = await response.Content.ReadAsStreamAsync(ct);
        using var buffer = new MemoryStream();
        var chunk = new byte[81920];
        int n;
        while ((n = await body.ReadAsync(chunk, ct)) > 0)
        {
            if (buffer.Length + n > MaxBytes) throw new InvalidOperationException($"GET {url}: too large for a Go .mod/.info");
            buffer.Write(chunk, 0, n);
        }
        return buffer.ToArray();
    }
}
