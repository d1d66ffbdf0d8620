namespace Arca.Core.Storage;

/// <summary>
/// Server keys kept in the metadata database rather than in the data directory, so every instance sharing that
/// database (several `arca serve` behind a load balancer) signs and decrypts with the same key. Implemented by
/// stores meant to be shared (PostgreSQL); the embedded SQLite store keeps keys as files next to its database.
/// </summary>
public interface ISharedKeyStore
{
    /// <summary>Returns the key stored under <paramref name="name"/>; when there is none, stores
    /// <paramref name="candidate"/> first. Concurrent callers all get the one value that won.</summary>
    Task<byte[]> GetOrAddKeyAsync(string name, byte[] candidate, CancellationToken ct = default);
}
