using Arca.Migration.Sources;

namespace Arca.Tests.Unit;

/// <summary>Small pure parts of the DOCKER/HELM migration sources: Harbor's Link header, repository prefixes, endpoint hosts.</summary>
public sealed class OciMigrationSourceTests
{
    [Theory]
    [InlineData("</api/v2.0/projects?page=1&page_size=10>; rel=\"prev\" , </api/v2.0/projects?page=3&page_size=10>; rel=\"next\"", "/api/v2.0/projects?page=3&page_size=10")]
    [InlineData("</api/v2.0/projects/p/repositories/a%252Fb/artifacts?page=2&page_size=2>; rel=\"next\"", "/api/v2.0/projects/p/repositories/a%252Fb/artifacts?page=2&page_size=2")]
    [InlineData("</api/v2.0/projects?page=1&page_size=10>; rel=\"prev\"", null)]
    public void Harbor_next_link_is_found_among_joined_links(string header, string? expected)
    {
        using var response = new HttpResponseMessage();
        response.Headers.TryAddWithoutValidation("Link", header);
        var next = HarborSource.NextLink(response, new Uri("https://harbor.example.com/api/v2.0/projects?page=2"));
        Assert.Equal(expected, next?.PathAndQuery);
    }

    [Theory]
    [InlineData("team/app", "team", "app")]
    [InlineData("team/tools/cli", "team", "tools/cli")]
    [InlineData("teams/app", "team", null)]
    [InlineData("team", "team", null)]
    [InlineData("team/app", "", "team/app")]
    [InlineData("a/b/c", "a/b", "c")]
    public void Docker_registry_prefix_selects_and_strips_the_first_segments(string repository, string prefix, string? expected) =>
        Assert.Equal(expected, DockerRegistrySource.StripPrefix(repository, prefix));

    [Theory]
    [InlineData("http://127.0.0.1:5000", "127.0.0.1:5000", true)]
    [InlineData("https://registry.example.com/", "registry.example.com", false)]
    [InlineData("https://registry.example.com:8443", "registry.example.com:8443", false)]
    [InlineData("registry.example.com:5000", "registry.example.com:5000", false)]
    public void Endpoint_hosts_and_plain_http_are_read_from_urls_or_bare_hosts(string endpoint, string host, bool plainHttp) =>
        Assert.Equal((host, plainHttp), OciClientPool.HostOf(endpoint));
}
