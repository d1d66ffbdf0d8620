using System.Security.Cryptography;

namespace Arca.Migration.Destinations;

/// <summary>Hashes a source stream without keeping it: for sources that publish no checksum, so the writer can still
/// skip what the destination already has and verify what it uploads.</summary>
internal static class ContentHash
{
    public static async Task<string> Sha256Async(Func<CancellationToken, Task<Stream>> open, CancellationToken ct)
    {
        await using var stream = await open(ct);
        return Convert.ToHexStringLower(await SHA256.HashDataAsync(stream, ct));
    }

    public static bool Same(string? a, string? b) => a is not null && b is not null && a.Trim().Equals(b.Trim(), StringComparison.OrdinalIgnoreCase);
}
