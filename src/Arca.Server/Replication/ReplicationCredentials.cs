using System.Collections.Concurrent;
using Arca.Core.Auth;
using Arca.Server.Auth;

namespace Arca.Server.Replication;

/// <summary>
/// Short-lived internal credentials with which a replication execution talks to this server's own /v2 API over
/// loopback. They live only in this process's memory (never in the database, never printed), carry the least scope the
/// execution needs (write on the pull destination registry, read for push sources), and are revoked when the execution
/// ends; a hard lifetime bounds them even if revocation were missed.
/// </summary>
public sealed class ReplicationCredentials : IBearerTokenReader
{
    private const string Prefix = "arcarepl_";
    public static readonly TimeSpan MaxLifetime = TimeSpan.FromHours(24);
    private readonly ConcurrentDictionary<string, (Principal Principal, DateTimeOffset ExpiresAt)> _issued = new(StringComparer.Ordinal);

    public string Issue(string ruleName, TokenScope scope, long? registryId)
    {
        var secret = Prefix + Convert.ToHexStringLower(System.Security.Cryptography.RandomNumberGenerator.GetBytes(32));
        var token = new ApiToken
        {
            Id = -1, Name = $"replication:{ruleName}", Hash = TokenSecrets.Hash(secret), Scope = scope, RegistryId = registryId,
            CreatedAt = DateTimeOffset.UtcNow, ExpiresAt = DateTimeOffset.UtcNow + MaxLifetime,
        };
        _issued[secret] = (new Principal(token), token.ExpiresAt.Value);
        return secret;
    }

    public void Revoke(string secret) => _issued.TryRemove(secret, out _);

    public Task<Principal?> TryReadAsync(string bearer, CancellationToken ct)
    {
        if (!bearer.StartsWith(Prefix, StringComparison.Ordinal) || !_issued.TryGetValue(bearer, out var issued))
            return Task.FromResult<Principal?>(null);
        if (issued.ExpiresAt <= DateTimeOffset.UtcNow)
        {
            _issued.TryRemove(bearer, out _);
            return Task.FromResult<Principal?>(null);
        }
        return Task.FromResult<Principal?>(issued.Principal);
    }
}
