namespace Arca.Core.Storage;

/// <summary>
/// Named locks held across every instance sharing the metadata database, for work exactly one instance must do at a
/// time (e.g. firing scheduled replication rules). Implemented by stores meant to be shared (PostgreSQL advisory
/// locks); with an embedded store there is only one instance, so callers that find no implementation just proceed.
/// </summary>
public interface IClusterLockStore
{
    /// <summary>Takes the lock without waiting; null when another instance holds it (exclusively, or at all when
    /// <paramref name="shared"/> is false). Shared holders do not exclude each other. Dispose the lease to release it.</summary>
    Task<IClusterLease?> TryLockAsync(string name, bool shared = false, CancellationToken ct = default);
}

public interface IClusterLease : IAsyncDisposable
{
    /// <summary>False once the lock is lost (e.g. the database connection holding it broke): stop acting as its holder.</summary>
    Task<bool> IsHeldAsync(CancellationToken ct = default);

    /// <summary>For a shared lease: true when no other instance holds the lock, shared or not.</summary>
    Task<bool> IsSoleHolderAsync(CancellationToken ct = default);
}
