using Arca.Core.Endpoints;

namespace Arca.Server.Endpoints;

// JSON shapes of /api/v1/endpoints (camelCase). Secrets are write-only: no DTO ever carries one back.

public sealed record EndpointDto(string Name, string Provider, string Url, string? Username, bool HasCredentials,
    bool VerifyRemoteCert, string? Description, DateTimeOffset CreatedAt, DateTimeOffset UpdatedAt, PingResult? Ping = null)
{
    public static EndpointDto From(RemoteEndpoint e, PingResult? ping = null) =>
        new(e.Name, e.Provider, e.Url, e.Username, e.HasCredentials, e.VerifyRemoteCert, e.Description, e.CreatedAt, e.UpdatedAt, ping);
}

/// <summary>Body of create, and of ping for an unsaved definition (where <see cref="Name"/> is optional).</summary>
public sealed record CreateEndpointRequest(string? Name, string? Provider, string? Url, string? Username, string? Password,
    bool? VerifyRemoteCert, string? Description);

/// <summary>PATCH body: absent fields keep their value. Changing the URL drops the stored credentials unless a new
/// password comes with it; <see cref="ClearCredentials"/> drops them explicitly.</summary>
public sealed record UpdateEndpointRequest(string? Provider, string? Url, string? Username, string? Password,
    bool? VerifyRemoteCert, string? Description, bool? ClearCredentials);

/// <summary>Decrypted credentials of a saved endpoint, for the server's own outbound calls (replication).</summary>
public sealed record EndpointCredentials(string? Username, string Password);
