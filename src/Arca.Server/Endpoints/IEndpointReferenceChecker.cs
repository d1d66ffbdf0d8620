namespace Arca.Server.Endpoints;

/// <summary>
/// Something that uses endpoints (replication rules) and must veto their deletion. Register any number of these in
/// DI; DELETE /api/v1/endpoints/{name} answers 409 naming every referencing rule. With none registered, nothing
/// references an endpoint.
/// </summary>
public interface IEndpointReferenceChecker
{
    /// <summary>The names of the rules (or other objects) that reference the endpoint; empty when none do.</summary>
    Task<IReadOnlyList<string>> GetReferencesAsync(string endpointName, CancellationToken ct);
}
