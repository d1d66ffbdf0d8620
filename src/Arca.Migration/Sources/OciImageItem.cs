using System.Collections.Concurrent;
using Arca.Client.Oci;
using Arca.Migration.Config;
using Arca.Migration.Engine;

namespace Arca.Migration.Sources;

/// <summary>One source image tag (DOCKER or HELM over OCI): copied with its whole index and referrers.</summary>
public sealed record OciImageItem : MigrationItem
{
    /// <summary>The client of the registry the image is pulled from (shared by every item of that registry).</summary>
    public required OciRegistryClient Source { get; init; }
    public required string SourceRepository { get; init; }
    /// <summary>Repository inside the destination registry (the part after &lt;destinationRegistry&gt;/).</summary>
    public required string DestinationRepository { get; init; }
    public required string Tag { get; init; }
    /// <summary>The source manifest digest when the listing tells it (Harbor, Arca); else resolved when needed.</summary>
    public string? Digest { get; init; }

    public static OciImageItem Create(MappingConfig mapping, OciRegistryClient source, string sourceRepository, string destinationRepository,
        string tag, string? digest, long? size) => new()
    {
        Key = $"{mapping.Index}|{mapping.ArtifactType}|{sourceRepository}|{tag}",
        Package = destinationRepository, Version = tag, Display = $"{sourceRepository}:{tag}",
        Source = source, SourceRepository = sourceRepository, DestinationRepository = destinationRepository,
        Tag = tag, Digest = digest, Size = size,
    };
}

/// <summary>
/// OCI registry clients for migration endpoints, one per registry host (token caches are per client). An endpoint
/// may be a URL ("http://host:5000" means plain HTTP) or a bare host[:port].
/// </summary>
public sealed class OciClientPool(EndpointConfig endpoint) : IDisposable
{
    private readonly ConcurrentDictionary<string, Lazy<OciRegistryClient>> _clients = new(StringComparer.OrdinalIgnoreCase);

    /// <summary>The client for the endpoint's own host, or for <paramref name="hostOverride"/> (sourcePackageHostname).</summary>
    public OciRegistryClient For(string? hostOverride = null)
    {
        var (host, plainHttp) = HostOf(string.IsNullOrWhiteSpace(hostOverride) ? endpoint.Endpoint : hostOverride);
        return _clients.GetOrAdd(host, h => new Lazy<OciRegistryClient>(() => Create(endpoint, h, plainHttp))).Value;
    }

    /// <summary>
    /// The client for a registry API served under a path of the endpoint (Nexus <c>repository/R</c>, Artifactory
    /// <c>api/docker/R</c>), after the endpoint's own path (<c>https://host/artifactory</c>).
    /// </summary>
    public OciRegistryClient ForBasePath(string subPath)
    {
        var (host, plainHttp) = HostOf(endpoint.Endpoint);
        var endpointPath = endpoint.Endpoint.Contains("://", StringComparison.Ordinal) ? new Uri(endpoint.Endpoint).AbsolutePath.Trim('/') : "";
        var basePath = string.Join('/', new[] { endpointPath, subPath.Trim('/') }.Where(p => p.Length > 0));
        return _clients.GetOrAdd($"{host}/{basePath}", _ => new Lazy<OciRegistryClient>(() => Create(endpoint, host, plainHttp, basePath))).Value;
    }

    public static (string Host, bool PlainHttp) HostOf(string endpointOrHost)
    {
        var value = endpointOrHost.Trim();
        if (value.Contains("://", StringComparison.Ordinal))
        {
            var uri = new Uri(value);
            return (uri.IsDefaultPort ? uri.Host : $"{uri.Host}:{uri.Port}", uri.Scheme == Uri.UriSchemeHttp);
        }
        return (value.TrimEnd('/'), false);
    }

    private static OciRegistryClient Create(EndpointConfig endpoint, string host, bool plainHttp, string basePath = "")
    {
        var providers = new List<IRegistryCredentialProvider>();
        if (!string.IsNullOrEmpty(endpoint.Password))
            providers.Add(new StaticCredentialProvider(new RegistryCredential(string.IsNullOrEmpty(endpoint.Username) ? "migrate" : endpoint.Username, endpoint.Password)));
        else if (DockerConfigCredentialProvider.DefaultPath() is { } authFile)
            providers.Add(DockerConfigCredentialProvider.Load(authFile)); // like docker/skopeo: the user's logins
        return new OciRegistryClient(host, new OciClientOptions
        {
            // An http:// endpoint asks for plain HTTP, which the client only falls back to when insecure.
            Insecure = endpoint.Insecure || plainHttp,
            Credentials = new ChainedCredentialProvider([.. providers]),
            MaxRetries = 2, // the migration engine retries whole items on top
            UserAgent = "arca-migrate/1.0",
            BasePath = basePath,
        });
    }

    public void Dispose()
    {
        foreach (var client in _clients.Values.Where(l => l.IsValueCreated)) client.Value.Dispose();
    }
}
