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
    /// <summary>The source manifest digest from the listing (registry APIs resolve each tag; Harbor and Arca list it);
    /// when absent it is resolved at copy time. The writer copies exactly this manifest.</summary>
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
/// may be a URL ("http://host:5000" means plain HTTP) or a bare host[:port]. Credentials: the configured
/// username/password (Basic, and for the registry token flow), AWS ECR authorization for ECR hosts or an endpoint with
/// <c>awsRegion</c>, else the user's docker config.json logins.
/// </summary>
/// <param name="accessTokenAsBearer">A password without a username is an access token sent as <c>Bearer</c> (Artifactory),
/// not Basic with a made-up user name (what registries with the token flow expect).</param>
/// <param name="preemptiveBasic">The endpoint is an Arca server, which takes Basic with its API token directly: no token
/// round trip per repository (<see cref="OciClientOptions.PreemptiveBasic"/>).</param>
public sealed class OciClientPool(EndpointConfig endpoint, bool accessTokenAsBearer = false, bool preemptiveBasic = false) : IDisposable
{
    private readonly ConcurrentDictionary<string, Lazy<OciRegistryClient>> _clients = new(StringComparer.OrdinalIgnoreCase);
    /// <summary>For ECR's GetAuthorizationToken API (only created when an endpoint is ECR).</summary>
    private readonly Lazy<HttpClient> _awsHttp = new(() => new HttpClient { Timeout = TimeSpan.FromSeconds(60) });

    /// <summary>The client for the endpoint's own host, or for <paramref name="hostOverride"/> (sourcePackageHostname).</summary>
    public OciRegistryClient For(string? hostOverride = null)
    {
        var (host, plainHttp) = HostOf(string.IsNullOrWhiteSpace(hostOverride) ? endpoint.Endpoint : hostOverride);
        return _clients.GetOrAdd(host, h => new Lazy<OciRegistryClient>(() => Create(h, plainHttp))).Value;
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
        return _clients.GetOrAdd($"{host}/{basePath}", _ => new Lazy<OciRegistryClient>(() => Create(host, plainHttp, basePath))).Value;
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

    private OciRegistryClient Create(string host, bool plainHttp, string basePath = "")
    {
        var providers = new List<IRegistryCredentialProvider>();
        if (EcrCredentials(host) is { } ecr)
            providers.Add(ecr);
        else if (!string.IsNullOrEmpty(endpoint.Password))
            providers.Add(new StaticCredentialProvider(accessTokenAsBearer && string.IsNullOrEmpty(endpoint.Username)
                ? new RegistryCredential(null, null, BearerToken: endpoint.Password)
                : new RegistryCredential(string.IsNullOrEmpty(endpoint.Username) ? "migrate" : endpoint.Username, endpoint.Password)));
        if (providers.Count == 0 && DockerConfigCredentialProvider.DefaultPath() is { } authFile)
            providers.Add(DockerConfigCredentialProvider.Load(authFile)); // like docker/skopeo: the user's logins
        return new OciRegistryClient(host, new OciClientOptions
        {
            // An http:// endpoint asks for plain HTTP, which the client only falls back to when insecure.
            Insecure = endpoint.Insecure || plainHttp,
            Credentials = new ChainedCredentialProvider([.. providers]),
            MaxRetries = 2, // the migration engine retries whole items on top
            UserAgent = "arca-migrate/1.0",
            BasePath = basePath,
            PreemptiveBasic = preemptiveBasic,
        });
    }

    /// <summary>
    /// AWS ECR: for an ECR host name (<c>ACCOUNT.dkr.ecr.REGION.amazonaws.com</c>), or any host when the endpoint sets
    /// <c>awsRegion</c>, the configured username/password are the AWS access key id / secret access key (without them:
    /// AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN from the environment), exchanged for registry
    /// credentials with GetAuthorizationToken (cached until shortly before they expire). Null when ECR does not apply
    /// or no AWS credentials are found (the docker config logins are then tried, e.g. after <c>docker login</c>).
    /// </summary>
    private EcrCredentialProvider? EcrCredentials(string host)
    {
        if (endpoint.AwsRegion is null && !EcrCredentialProvider.IsEcrHost(host)) return null;
        var region = endpoint.AwsRegion ?? EcrCredentialProvider.RegionOf(host) ?? Environment.GetEnvironmentVariable("AWS_REGION");
        var session = Environment.GetEnvironmentVariable("AWS_SESSION_TOKEN") is { Length: > 0 } s ? s : null;
        AwsCredentials? aws = null;
        if (!string.IsNullOrEmpty(endpoint.Password))
            aws = new AwsCredentials(!string.IsNullOrEmpty(endpoint.Username) ? endpoint.Username
                : throw new ConfigException($"{host} is authenticated with AWS ECR: credentials.username must be the AWS access key id"), endpoint.Password, session);
        else if (Environment.GetEnvironmentVariable("AWS_ACCESS_KEY_ID") is { Length: > 0 } key
                 && Environment.GetEnvironmentVariable("AWS_SECRET_ACCESS_KEY") is { Length: > 0 } secret)
            aws = new AwsCredentials(key, secret, session);
        if (aws is null) return null;
        return new EcrCredentialProvider(new EcrAuthorizationClient(_awsHttp.Value), aws, region);
    }

    public void Dispose()
    {
        foreach (var client in _clients.Values.Where(l => l.IsValueCreated)) client.Value.Dispose();
        if (_awsHttp.IsValueCreated) _awsHttp.Value.Dispose();
    }
}
