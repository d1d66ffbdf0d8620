namespace Arca.Core.Endpoints;

/// <summary>
/// A named remote registry (Harbor's "endpoint", a connector) that replication and migration talk to.
/// The secret is only ever held encrypted here; <see cref="EncryptedSecret"/> is opaque to everything but the
/// server's credential protector.
/// </summary>
public sealed record RemoteEndpoint
{
    public long Id { get; init; }
    public required string Name { get; init; }
    public required string Provider { get; init; }
    public required string Url { get; init; }
    public string? Username { get; init; }
    /// <summary>The password or token, encrypted with the server key; null when the endpoint has no credentials.</summary>
    public string? EncryptedSecret { get; init; }
    public bool VerifyRemoteCert { get; init; } = true;
    public string? Description { get; init; }
    public DateTimeOffset CreatedAt { get; init; }
    public DateTimeOffset UpdatedAt { get; init; }

    public bool HasCredentials => EncryptedSecret is not null;
}
