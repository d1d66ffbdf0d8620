using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;
using Arca.Core.Auth;
using Arca.Core.Storage;
using Arca.Server.Auth;
using Arca.Server.Hosting;

namespace Arca.Server.Formats.Oci;

/// <summary>
/// Short-lived registry tokens of the Docker token flow (<c>GET /v2/token</c>). A token is
/// <c>arcaoci.&lt;payload&gt;.&lt;HMAC-SHA256&gt;</c>, signed with a key kept in the data directory. It stands for
/// the API token that asked for it (identified by its hash, re-checked on every use, so revoking the API token
/// revokes it) or for an anonymous caller, narrowed to the repositories and actions it was granted: the principal it
/// yields carries only <see cref="ScopedAccess"/>, which <see cref="OciEndpoints"/> maps back per repository.
/// The same key signs upload-session ids, tying each session to its registry and repository.
/// </summary>
public sealed class OciTokenService(ServerOptions options, IMetadataStore store) : IBearerTokenReader
{
    public const string Prefix = "arcaoci.";
    /// <summary>The signing key file in the data directory (shared through the database by <see cref="SharedKeyFiles"/>).</summary>
    public const string KeyFileName = "oci-token.key";
    public static readonly TimeSpan Lifetime = TimeSpan.FromMinutes(15);
    private readonly Lock _keyLock = new();
    private byte[]? _key;

    /// <summary>Payload of a registry token. <see cref="TokenHash"/> is null for anonymous tokens.</summary>
    public sealed record Claims(
        [property: JsonPropertyName("th")] string? TokenHash,
        [property: JsonPropertyName("sub")] string Subject,
        [property: JsonPropertyName("access")] IReadOnlyList<Grant> Access,
        [property: JsonPropertyName("iat")] long IssuedAt,
        [property: JsonPropertyName("exp")] long ExpiresAt);

    public sealed record Grant(
        [property: JsonPropertyName("type")] string Type,
        [property: JsonPropertyName("name")] string Name,
        [property: JsonPropertyName("actions")] IReadOnlyList<string> Actions);

    public string Issue(Principal principal, IReadOnlyList<Grant> access, DateTimeOffset now)
    {
        // A registry token asking for another one (grants already cut to what it holds) keeps its API token.
        var holder = principal.Token ?? principal.Scoped?.Holder;
        var claims = new Claims(holder?.Hash, principal.Name, access, now.ToUnixTimeSeconds(), (now + Lifetime).ToUnixTimeSeconds());
        var payload = Base64Url(JsonSerializer.SerializeToUtf8Bytes(claims));
        return $"{Prefix}{payload}.{Base64Url(Sign(payload))}";
    }

    public async Task<Principal?> TryReadAsync(string bearer, CancellationToken ct)
    {
        if (!bearer.StartsWith(Prefix, StringComparison.Ordinal)) return null;
        var parts = bearer[Prefix.Length..].Split('.');
        if (parts.Length != 2) return null;
        byte[] signature;
        Claims? claims;
        try
        {
            signature = FromBase64Url(parts[1]);
            if (!CryptographicOperations.FixedTimeEquals(signature, Sign(parts[0]))) return null;
            claims = JsonSerializer.Deserialize<Claims>(FromBase64Url(parts[0]));
        }
        catch (Exception e) when (e is FormatException or JsonException) { return null; }
        if (claims is null || claims.ExpiresAt < DateTimeOffset.UtcNow.ToUnixTimeSeconds()) return null;
        var grants = (claims.Access ?? []).Select(g => new ScopedGrant(g.Type, g.Name, g.Actions ?? [])).ToList();
        if (claims.TokenHash is null) return new Principal((ApiToken?)null) { Scoped = new ScopedAccess(null, grants) };
        var token = await store.FindTokenByHashAsync(claims.TokenHash, ct);
        if (token is null || token.IsExpired(DateTimeOffset.UtcNow)) return null;
        return new Principal((ApiToken?)null) { Scoped = new ScopedAccess(token, grants) };
    }

    /// <summary>The id a client sees for an upload: the blob store's id plus a MAC over registry and repository, so
    /// a session cannot be continued in another repository (and ids cannot be guessed).</summary>
    public string UploadSessionId(long registryId, string repository, string storeUploadId) =>
        $"{storeUploadId}.{Base64Url(UploadMac(registryId, repository, storeUploadId))}";

    /// <summary>The blob store's upload id when <paramref name="sessionId"/> was issued for this repository, else null.</summary>
    public string? OpenUploadSession(long registryId, string repository, string sessionId)
    {
        var dot = sessionId.IndexOf('.');
        if (dot <= 0) return null;
        var storeId = sessionId[..dot];
        byte[] mac;
        try { mac = FromBase64Url(sessionId[(dot + 1)..]); }
        catch (FormatException) { return null; }
        return CryptographicOperations.FixedTimeEquals(mac, UploadMac(registryId, repository, storeId)) ? storeId : null;
    }

    private byte[] UploadMac(long registryId, string repository, string storeUploadId) =>
        HMACSHA256.HashData(Key(), Encoding.UTF8.GetBytes($"upload\n{registryId}\n{repository}\n{storeUploadId}"))[..16];

    private byte[] Sign(string payload) => HMACSHA256.HashData(Key(), Encoding.ASCII.GetBytes(payload));

    /// <summary>The signing key: created once (mode 0600) in the data directory, so tokens survive restarts.</summary>
    private byte[] Key()
    {
        if (_key is not null) return _key;
        lock (_keyLock)
        {
            if (_key is not null) return _key;
            var path = Path.Combine(options.DataDirectory, KeyFileName);
            if (!File.Exists(path))
            {
                var tmp = path + "." + Guid.NewGuid().ToString("N");
                File.WriteAllBytes(tmp, NewKeyFileContent());
                if (!OperatingSystem.IsWindows()) File.SetUnixFileMode(tmp, UnixFileMode.UserRead | UnixFileMode.UserWrite);
                try { File.Move(tmp, path, overwrite: false); }
                catch (IOException) { File.Delete(tmp); } // another instance won the race; use its key
            }
            var key = File.ReadAllBytes(path);
            if (key.Length < 32) throw new InvalidOperationException($"{path} is corrupt (expected 32 bytes)");
            return _key = key;
        }
    }

    /// <summary>Content of a new key file: 32 random bytes.</summary>
    public static byte[] NewKeyFileContent() => RandomNumberGenerator.GetBytes(32);

    private static string Base64Url(byte[] bytes) => Convert.ToBase64String(bytes).TrimEnd('=').Replace('+', '-').Replace('/', '_');

    private static byte[] FromBase64Url(string s)
    {
        var b = s.Replace('-', '+').Replace('_', '/');
        return Convert.FromBase64String(b.PadRight(b.Length + (4 - b.Length % 4) % 4, '='));
    }
}
