using System.Text;
using Arca.Migration.Engine;

namespace Arca.Migration.Sources;

/// <summary>HTTP helpers shared by the native-repository sources (MAVEN, HELM_HTTP, NUGET).</summary>
internal static class NativeSources
{
    /// <summary>Listings and index documents are metadata: read whole, but never more than this.</summary>
    public const int MaxDocumentBytes = 64 * 1024 * 1024;

    public static string EscapePath(string path) => string.Join('/', path.Split('/').Select(Uri.EscapeDataString));

    public static async Task<Stream> OpenAsync(HttpClient http, Uri url, CancellationToken ct)
    {
        var response = await http.GetAsync(url, HttpCompletionOption.ResponseHeadersRead, ct);
        try { await MigrationHttp.EnsureSuccessAsync(response, $"GET {url}", ct); }
        catch { response.Dispose(); throw; }
        return await response.Content.ReadAsStreamAsync(ct);
    }

    /// <summary>The file's length and validators from a HEAD; null when the server does not answer HEAD.</summary>
    public static async Task<SourceFingerprint?> FingerprintAsync(HttpClient http, Uri url, CancellationToken ct)
    {
        using var response = await http.SendAsync(new HttpRequestMessage(HttpMethod.Head, url), ct);
        if (!response.IsSuccessStatusCode) return null; // 405/501 or an error: the file is simply read and hashed
        return new SourceFingerprint(response.Headers.ETag?.ToString(),
            response.Content.Headers.LastModified?.ToString("R"), response.Content.Headers.ContentLength);
    }

    public static async Task<string> ReadBoundedStringAsync(HttpResponseMessage response, CancellationToken ct)
    {
        if (response.Content.Headers.ContentLength > MaxDocumentBytes) throw new InvalidDataException($"{response.RequestMessage?.RequestUri} is larger than {MaxDocumentBytes} bytes");
        await using var stream = await response.Content.ReadAsStreamAsync(ct);
        var buffer = new MemoryStream();
        var chunk = new byte[81920];
        int n;
        while ((n = await stream.ReadAsync(chunk, ct)) > 0)
        {
            if (buffer.Length + n > MaxDocumentBytes) throw new InvalidDataException($"{response.RequestMessage?.RequestUri} is larger than {MaxDocumentBytes} bytes");
            buffer.Write(chunk, 0, n);
        }
        return Encoding.UTF8.GetString(buffer.GetBuffer(), 0, (int)buffer.Length);
    }

    public static async Task<string> GetStringAsync(HttpClient http, Uri url, CancellationToken ct)
    {
        using var response = await http.GetAsync(url, HttpCompletionOption.ResponseHeadersRead, ct);
        await MigrationHttp.EnsureSuccessAsync(response, $"GET {url}", ct);
        return await ReadBoundedStringAsync(response, ct);
    }

    /// <summary>A checksum sidecar ("hex" or "hex  filename"); null when absent.</summary>
    public static async Task<string?> ReadChecksumAsync(HttpClient http, Uri url, CancellationToken ct)
    {
        using var response = await http.GetAsync(url, ct);
        if (response.StatusCode == System.Net.HttpStatusCode.NotFound) return null;
        await MigrationHttp.EnsureSuccessAsync(response, $"GET {url}", ct);
        var text = await response.Content.ReadAsStringAsync(ct);
        var hex = text.Split((char[])[' ', '\t', '\r', '\n'], StringSplitOptions.RemoveEmptyEntries).FirstOrDefault();
        return hex is not null && hex.Length is 32 or 40 or 64 or 128 && hex.All(Uri.IsHexDigit) ? hex.ToLowerInvariant() : null;
    }
}
