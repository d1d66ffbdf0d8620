using System.Security.Cryptography;
using System.Text;

namespace Arca.Core.Auth;

/// <summary>Scopes are ordered: each one includes the ones before it (admin ⊃ delete ⊃ write ⊃ read).</summary>
public enum TokenScope { Read = 1, Write = 2, Delete = 3, Admin = 4 }

public sealed record ApiToken
{
    public long Id { get; init; }
    public required string Name { get; init; }
    /// <summary>SHA-256 of the secret (hex). Tokens are 256-bit random, so a fast hash is enough.</summary>
    public required string Hash { get; init; }
    public required TokenScope Scope { get; init; }
    /// <summary>When set, the token only works on this registry.</summary>
    public long? RegistryId { get; init; }
    public string? RegistryName { get; init; }
    public DateTimeOffset CreatedAt { get; init; }
    public DateTimeOffset? ExpiresAt { get; init; }
    public DateTimeOffset? LastUsedAt { get; init; }
    public bool IsExpired(DateTimeOffset now) => ExpiresAt is { } e && e <= now;
}

public static class TokenSecrets
{
    public const string Prefix = "arca_";

    public static string NewSecret() => Prefix + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(32));

    public static string Hash(string secret) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(secret)));

    public static bool TryParseScope(string? text, out TokenScope scope)
    {
        TokenScope? parsed = text?.Trim().ToLowerInvariant() switch
        {
            "read" => TokenScope.Read,
            "write" => TokenScope.Write,
            "delete" => TokenScope.Delete,
            "admin" => TokenScope.Admin,
            _ => null,
        };
        scope = parsed ?? default;
        return parsed is not null;
    }

    public static string ScopeName(TokenScope s) => s.ToString().ToLowerInvariant();
}
