using Arca.Core.Endpoints;
using Arca.Core.Model;
using Arca.Core.Storage;
using Arca.Core.Validation;

namespace Arca.Server.Endpoints;

/// <summary>
/// Endpoint rules in one place: validation, encryption of credentials, the URL/credential binding, deletion vetoes,
/// and Test Connection. Replication uses <see cref="RequireAsync"/> and <see cref="GetCredentials"/>.
/// </summary>
public sealed class EndpointService(IEndpointStore store, CredentialProtector protector, ConnectionTester tester,
    IEnumerable<IEndpointReferenceChecker> referenceCheckers)
{
    private const int MaxUrlLength = 2048, MaxUsernameLength = 256, MaxPasswordLength = 16 * 1024, MaxDescriptionLength = 1024;

    public async Task<RemoteEndpoint> RequireAsync(string name, CancellationToken ct) =>
        (Identifiers.IsValidRegistryName(name) ? await store.GetEndpointAsync(name, ct) : null)
        ?? throw ArcaException.NotFound($"endpoint '{Printable(name)}' not found", "ENDPOINT_NOT_FOUND");

    public Task<IReadOnlyList<RemoteEndpoint>> ListAsync(CancellationToken ct) => store.ListEndpointsAsync(ct);

    public async Task<(RemoteEndpoint Endpoint, PingResult? Ping)> CreateAsync(CreateEndpointRequest req, bool ping, CancellationToken ct)
    {
        ValidateName(req.Name);
        var definition = ValidateDefinition(req);
        var created = await store.CreateEndpointAsync(new RemoteEndpoint
        {
            Name = req.Name!, Provider = definition.Provider, Url = definition.Url.AbsoluteUri,
            Username = definition.HasCredentials ? definition.Username : null,
            EncryptedSecret = definition.HasCredentials ? protector.Protect(definition.Password!, req.Name!, definition.Url.AbsoluteUri) : null,
            VerifyRemoteCert = definition.VerifyRemoteCert, Description = NormalizeDescription(req.Description),
        }, ct);
        // A failed ping does not block creation (the remote may come up later); the caller sees the result.
        var result = ping ? await tester.TestAsync(definition, ct) : null;
        return (created, result);
    }

    public async Task<RemoteEndpoint> UpdateAsync(string name, UpdateEndpointRequest req, CancellationToken ct)
    {
        var current = await RequireAsync(name, ct);
        var provider = req.Provider is null ? current.Provider : ValidateProvider(req.Provider);
        var url = req.Url is null ? current.Url : ValidateUrl(req.Url).AbsoluteUri;
        var urlChanged = !string.Equals(url, current.Url, StringComparison.Ordinal);
        ValidateCredentials(req.Username, req.Password);

        string? username = current.Username, secret = current.EncryptedSecret;
        if (req.Password is { Length: > 0 } password)
        {
            username = req.Username is null ? (urlChanged ? null : current.Username) : req.Username.Length == 0 ? null : req.Username;
            secret = protector.Protect(password, current.Name, url);
        }
        else if (req.ClearCredentials == true || urlChanged)
        {
            // Stored credentials belong to the URL they were entered for: a new URL never inherits them.
            if (urlChanged && !string.IsNullOrEmpty(req.Username) && req.ClearCredentials != true)
                throw ArcaException.BadRequest("changing the URL drops the stored credentials: give the password again together with the username", "INVALID_CREDENTIALS");
            username = null;
            secret = null;
        }
        else if (req.Username is not null)
        {
            if (secret is null && req.Username.Length > 0)
                throw ArcaException.BadRequest("a username needs a password", "INVALID_CREDENTIALS");
            username = req.Username.Length == 0 ? null : req.Username;
        }

        return await store.UpdateEndpointAsync(current with
        {
            Provider = provider, Url = url, Username = username, EncryptedSecret = secret,
            VerifyRemoteCert = req.VerifyRemoteCert ?? current.VerifyRemoteCert,
            Description = req.Description is null ? current.Description : NormalizeDescription(req.Description),
        }, ct);
    }

    public async Task DeleteAsync(string name, CancellationToken ct)
    {
        var endpoint = await RequireAsync(name, ct);
        var references = new List<string>();
        foreach (var checker in referenceCheckers)
            references.AddRange(await checker.GetReferencesAsync(endpoint.Name, ct));
        if (references.Count > 0)
            throw ArcaException.Conflict(
                $"endpoint '{endpoint.Name}' is used by replication rule(s) {string.Join(", ", references.Distinct().Order(StringComparer.Ordinal).Select(r => $"'{r}'"))}; delete or change them first",
                "ENDPOINT_IN_USE");
        await store.DeleteEndpointAsync(endpoint.Id, ct);
    }

    /// <summary>Test Connection of a saved endpoint, with its stored credentials, against its stored URL only.</summary>
    public async Task<PingResult> PingAsync(string name, CancellationToken ct)
    {
        var endpoint = await RequireAsync(name, ct);
        var credentials = GetCredentials(endpoint);
        return await tester.TestAsync(new ConnectionTestRequest(endpoint.Provider, new Uri(endpoint.Url), credentials?.Username,
            credentials?.Password, endpoint.VerifyRemoteCert), ct);
    }

    /// <summary>Test Connection of a definition that is not saved (Harbor's "Test Connection" before "OK").</summary>
    public Task<PingResult> PingUnsavedAsync(CreateEndpointRequest req, CancellationToken ct) =>
        tester.TestAsync(ValidateDefinition(req), ct);

    /// <summary>The clear credentials of a saved endpoint (null without). Only for the server's own outbound calls.</summary>
    public EndpointCredentials? GetCredentials(RemoteEndpoint endpoint)
    {
        if (endpoint.EncryptedSecret is null) return null;
        var password = protector.TryUnprotect(endpoint.EncryptedSecret, endpoint.Name, endpoint.Url)
            ?? throw ArcaException.Conflict(
                $"the stored credentials of endpoint '{endpoint.Name}' cannot be decrypted (server key or URL changed outside Arca); set them again with an update",
                "CREDENTIALS_UNREADABLE");
        return new EndpointCredentials(endpoint.Username, password);
    }

    private static ConnectionTestRequest ValidateDefinition(CreateEndpointRequest req)
    {
        var provider = ValidateProvider(req.Provider);
        var url = ValidateUrl(req.Url);
        ValidateCredentials(req.Username, req.Password);
        if (!string.IsNullOrEmpty(req.Username) && string.IsNullOrEmpty(req.Password))
            throw ArcaException.BadRequest("a username needs a password", "INVALID_CREDENTIALS");
        var hasPassword = !string.IsNullOrEmpty(req.Password);
        return new ConnectionTestRequest(provider, url, hasPassword && !string.IsNullOrEmpty(req.Username) ? req.Username : null,
            hasPassword ? req.Password : null, req.VerifyRemoteCert ?? true);
    }

    private static void ValidateName(string? name)
    {
        if (!Identifiers.IsValidRegistryName(name))
            throw ArcaException.BadRequest(
                $"invalid endpoint name '{Printable(name)}': use 2-63 characters a-z, 0-9, '.', '_' or '-', starting with a letter or digit",
                "INVALID_IDENTIFIER");
    }

    private static string ValidateProvider(string? provider) =>
        EndpointProviders.Normalize(provider)
        ?? throw ArcaException.BadRequest($"unknown provider '{Printable(provider)}': use one of {string.Join(", ", EndpointProviders.All)}", "INVALID_PROVIDER");

    public static Uri ValidateUrl(string? text)
    {
        if (string.IsNullOrWhiteSpace(text)) throw ArcaException.BadRequest("url is required", "INVALID_URL");
        text = text.Trim();
        if (text.Length > MaxUrlLength || !Uri.TryCreate(text, UriKind.Absolute, out var url) || url.Scheme is not ("http" or "https")
            || string.IsNullOrEmpty(url.Host) || text.Any(char.IsControl))
            throw ArcaException.BadRequest($"invalid url '{Printable(text)}': expected an absolute http:// or https:// URL", "INVALID_URL");
        if (url.UserInfo.Length > 0)
            throw ArcaException.BadRequest("the url must not contain credentials: give them as username and password (they are stored encrypted)", "INVALID_URL");
        if (url.Query.Length > 0 || url.Fragment.Length > 0)
            throw ArcaException.BadRequest("the url must not contain a query or a fragment", "INVALID_URL");
        return url;
    }

    private static void ValidateCredentials(string? username, string? password)
    {
        if (username is not null && (username.Length > MaxUsernameLength || username.Any(char.IsControl) || username.Contains(':')))
            throw ArcaException.BadRequest($"invalid username: at most {MaxUsernameLength} printable characters, no ':'", "INVALID_CREDENTIALS");
        if (password is not null && (password.Length > MaxPasswordLength || password.Any(char.IsControl)))
            throw ArcaException.BadRequest($"invalid password: at most {MaxPasswordLength} printable characters", "INVALID_CREDENTIALS");
    }

    private static string Printable(string? s) => s is null ? "" : new string(s.Select(c => char.IsControl(c) ? '?' : c).ToArray());

    private static string? NormalizeDescription(string? description)
    {
        if (string.IsNullOrWhiteSpace(description)) return null;
        if (description.Length > MaxDescriptionLength || description.Any(c => char.IsControl(c) && c is not ('\n' or '\t')))
            throw ArcaException.BadRequest($"invalid description: at most {MaxDescriptionLength} printable characters", "INVALID_DESCRIPTION");
        return description;
    }
}
