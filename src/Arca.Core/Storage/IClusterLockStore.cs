namespace Arca.Core.Storage;

/// <summary>
/// Named locks held across every instance sharing the metadata database, for work exactly one instance must do at a
/// time (e.g. firing scheduled replication rules). Implemented by stores meant to be shared (PostgreSQL advisory
/// locks); with an embedded store there is only one instance, so callers that find no implementation just proceed.
/// </summary>
public interface IClusterLockStore
{
    /// <summary>Takes the lock without waiting; null when another instance holds it. Dispose the lease to release it.</summary>
    Task<IClusterLease?> TryLockAsync(string name, CancellationToken ct = default);
}

public interface IClusterLease : IAsyncDisposable
{
    /// <summary>False once the lock is lost (e.g. the database connection holding it broke): stop acting as its holder.</summary>
    Task<bool> IsHeldAsync(CancellationToken ct = default);
}
