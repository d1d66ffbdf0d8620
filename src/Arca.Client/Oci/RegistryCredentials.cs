using System.Text;
using System.Text.Json;

namespace Arca.Client.Oci;

/// <summary>
/// Credentials for one registry: user name + password (Basic, also sent to the token endpoint), an OAuth2 refresh
/// token (docker config.json "identitytoken"), or a ready bearer token.
/// </summary>
public sealed record RegistryCredential(string? Username, string? Password, string? IdentityToken = null, string? BearerToken = null)
{
    /// <summary>Google Artifact Registry / Container Registry: an OAuth2 access token as the password of user "oauth2accesstoken".</summary>
    public const string GoogleAccessTokenUser = "oauth2accesstoken";

    public static RegistryCredential Basic(string username, string password) => new(username, password);

    public static RegistryCredential ForGoogleAccessToken(string accessToken) => new(GoogleAccessTokenUser, accessToken);

    /// <summary>Parses "user:password" (the password may contain colons).</summary>
    public static RegistryCredential ParseUserPassword(string value)
    {
        var i = value.IndexOf(':');
        if (i <= 0) throw new FormatException("credentials must be USER:PASSWORD");
        return new RegistryCredential(value[..i], value[(i + 1)..]);
    }

    public bool HasBasic => !string.IsNullOrEmpty(Username) && Password is not null;

    public string BasicHeaderValue => Convert.ToBase64String(Encoding.UTF8.GetBytes($"{Username}:{Password}"));

    public override string ToString() => $"RegistryCredential({Username ?? "-"}, secret hidden)"; // never print secrets
}

/// <summary>Supplies credentials for a registry host (e.g. from flags, docker config.json or AWS ECR), on demand.</summary>
public interface IRegistryCredentialProvider
{
    /// <returns>Credentials for <paramref name="registryHost"/>, or null for anonymous access.</returns>
    ValueTask<RegistryCredential?> GetAsync(string registryHost, CancellationToken ct);
}

public sealed class StaticCredentialProvider(RegistryCredential? credential) : IRegistryCredentialProvider
{
    public ValueTask<RegistryCredential?> GetAsync(string registryHost, CancellationToken ct) => ValueTask.FromResult(credential);
}

/// <summary>Asks each provider in turn; the first that has credentials wins.</summary>
public sealed class ChainedCredentialProvider(params IRegistryCredentialProvider[] providers) : IRegistryCredentialProvider
{
    public async ValueTask<RegistryCredential?> GetAsync(string registryHost, CancellationToken ct)
    {
        foreach (var provider in providers)
            if (await provider.GetAsync(registryHost, ct) is { } credential) return credential;
        return null;
    }
}

/// <summary>
/// Docker's <c>config.json</c> (<c>auths</c>: base64 "user:password" in <c>auth</c>, or <c>username</c>/<c>password</c>,
/// or an OAuth2 <c>identitytoken</c>; <c>registrytoken</c> as a bearer token). Credential helpers are not run.
/// </summary>
public sealed class DockerConfigCredentialProvider : IRegistryCredentialProvider
{
    private readonly Dictionary<string, RegistryCredential> _byHost = new(StringComparer.OrdinalIgnoreCase);

    public DockerConfigCredentialProvider(string json)
    {
        using var doc = JsonDocument.Parse(json);
        if (!doc.RootElement.TryGetProperty("auths", out var auths) || auths.ValueKind != JsonValueKind.Object) return;
        foreach (var entry in auths.EnumerateObject())
        {
            if (entry.Value.ValueKind != JsonValueKind.Object) continue;
            string? user = Str(entry.Value, "username"), password = Str(entry.Value, "password");
            if (Str(entry.Value, "auth") is { Length: > 0 } auth)
            {
                string decoded;
                try { decoded = Encoding.UTF8.GetString(Convert.FromBase64String(auth)); }
                catch (FormatException) { throw new FormatException($"docker config: 'auth' of '{entry.Name}' is not base64"); }
                var i = decoded.IndexOf(':');
                if (i < 0) throw new FormatException($"docker config: 'auth' of '{entry.Name}' is not base64(user:password)");
                user = decoded[..i];
                password = decoded[(i + 1)..];
            }
            var credential = new RegistryCredential(user, password, Str(entry.Value, "identitytoken"), Str(entry.Value, "registrytoken"));
            _byHost[NormalizeHost(entry.Name)] = credential;
        }
    }

    public static DockerConfigCredentialProvider Load(string path) => new(File.ReadAllText(path));

    /// <summary>$DOCKER_CONFIG/config.json or ~/.docker/config.json, when it exists.</summary>
    public static string? DefaultPath()
    {
        var dir = Environment.GetEnvironmentVariable("DOCKER_CONFIG") is { Length: > 0 } d
            ? d : Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".docker");
        var path = Path.Combine(dir, "config.json");
        return File.Exists(path) ? path : null;
    }

    public ValueTask<RegistryCredential?> GetAsync(string registryHost, CancellationToken ct) =>
        ValueTask.FromResult(_byHost.TryGetValue(NormalizeHost(registryHost), out var c) ? c : null);

    /// <summary>"https://index.docker.io/v1/", "registry-1.docker.io" and "docker.io" all mean Docker Hub.</summary>
    internal static string NormalizeHost(string key)
    {
        var host = key.Trim();
        var scheme = host.IndexOf("://", StringComparison.Ordinal);
        if (scheme >= 0) host = host[(scheme + 3)..];
        var slash = host.IndexOf('/');
        if (slash >= 0) host = host[..slash];
        host = host.ToLowerInvariant();
        return host is "index.docker.io" or ImageReference.DockerHubApiHost ? ImageReference.DockerHubName : host;
    }

    private static string? Str(JsonElement e, string name) =>
        e.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString() : null;
}
