namespace Arca.Core.Endpoints;

/// <summary>The remote registry kinds an endpoint can name (PRODUCT.md "Endpoints and replication").</summary>
public static class EndpointProviders
{
    public static readonly IReadOnlyList<string> All =
    [
        "arca", "harbor", "docker-hub", "docker-registry", "ecr", "acr", "gar", "gcr", "quay", "gitlab",
        "jfrog-artifactory", "nexus", "helm-http", "oci-helm", "npm", "pypi", "maven", "nuget",
    ];

    /// <summary>Providers that speak the OCI distribution API, whose health check is <c>GET /v2/</c>.</summary>
    private static readonly HashSet<string> Oci =
        ["arca", "harbor", "docker-hub", "docker-registry", "ecr", "acr", "gar", "gcr", "quay", "gitlab", "oci-helm"];

    /// <summary>The canonical provider name (case-insensitive match), or null when unknown.</summary>
    public static string? Normalize(string? provider)
    {
        if (string.IsNullOrWhiteSpace(provider)) return null;
        var p = provider.Trim().ToLowerInvariant();
        return All.Contains(p) ? p : null;
    }

    public static bool IsOci(string provider) => Oci.Contains(provider);

    /// <summary>
    /// The URL whose answer tells whether the remote is up and the credentials work, as Harbor's Test Connection checks:
    /// the OCI base <c>/v2/</c> at the host root, otherwise the format's index or the product's ping resource relative
    /// to the endpoint URL (so a repository or context path in the URL is kept).
    /// </summary>
    public static Uri HealthUrl(string provider, Uri endpointUrl)
    {
        if (IsOci(provider)) return new Uri(endpointUrl, "/v2/");
        var path = endpointUrl.AbsolutePath.TrimEnd('/');
        // An index URL given in full (…/simple/, …/index.yaml, …/index.json) is checked as is.
        bool Ends(string suffix) => path.EndsWith(suffix, StringComparison.Ordinal);
        string? relative = provider switch
        {
            "npm" => "-/ping",
            "pypi" => Ends("/simple") ? "" : "simple/",
            "helm-http" => Ends("/index.yaml") ? null : "index.yaml",
            "nuget" => Ends("/index.json") ? null : "index.json",
            "nexus" => "service/rest/v1/status",
            "jfrog-artifactory" => "api/system/ping",
            _ => "", // maven: the repository root
        };
        if (relative is null) return endpointUrl;
        var baseUrl = new Uri(endpointUrl.GetLeftPart(UriPartial.Path).TrimEnd('/') + "/"); // endpoint URLs carry no query
        return new Uri(baseUrl, relative);
    }
}
