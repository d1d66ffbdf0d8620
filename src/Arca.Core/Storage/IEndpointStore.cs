using Arca.Core.Endpoints;

namespace Arca.Core.Storage;

/// <summary>Persistence of replication endpoints. Implemented by the metadata store (same database).</summary>
public interface IEndpointStore
{
    /// <summary>Inserts the endpoint; a duplicate name is a 409 <see cref="Model.ArcaException"/>.</summary>
    Task<RemoteEndpoint> CreateEndpointAsync(RemoteEndpoint endpoint, CancellationToken ct = default);
    Task<RemoteEndpoint?> GetEndpointAsync(string name, CancellationToken ct = default);
    Task<IReadOnlyList<RemoteEndpoint>> ListEndpointsAsync(CancellationToken ct = default);
    /// <summary>Writes every mutable field (provider, URL, username, secret, verify flag, description).</summary>
    Task<RemoteEndpoint> UpdateEndpointAsync(RemoteEndpoint endpoint, CancellationToken ct = default);
    Task<bool> DeleteEndpointAsync(long id, CancellationToken ct = default);
}
