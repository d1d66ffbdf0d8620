using Arca.Core.Endpoints;
using Arca.Server.Endpoints;
using Arca.Server.Hosting;
using Arca.Tests.Infrastructure;

namespace Arca.Tests.Unit.Endpoints;

public sealed class EndpointProvidersTests
{
    [Theory]
    [InlineData("docker-registry", "http://127.0.0.1:5000", "http://127.0.0.1:5000/v2/")]
    [InlineData("harbor", "https://harbor.example.com/some/path", "https://harbor.example.com/v2/")]
    [InlineData("oci-helm", "https://charts.example.com", "https://charts.example.com/v2/")]
    [InlineData("npm", "https://nexus.example.com/repository/npm-proxy/", "https://nexus.example.com/repository/npm-proxy/-/ping")]
    [InlineData("npm", "https://registry.example.com", "https://registry.example.com/-/ping")]
    [InlineData("pypi", "https://pypi.example.com", "https://pypi.example.com/simple/")]
    [InlineData("pypi", "https://pypi.example.com/simple/", "https://pypi.example.com/simple/")]
    [InlineData("pypi", "https://pypi.example.com/simple", "https://pypi.example.com/simple/")]
    [InlineData("maven", "https://repo.example.com/maven2", "https://repo.example.com/maven2/")]
    [InlineData("helm-http", "https://charts.example.com/stable", "https://charts.example.com/stable/index.yaml")]
    [InlineData("helm-http", "https://charts.example.com/stable/index.yaml", "https://charts.example.com/stable/index.yaml")]
    [InlineData("nuget", "https://nuget.example.com/v3", "https://nuget.example.com/v3/index.json")]
    [InlineData("nuget", "https://api.nuget.org/v3/index.json", "https://api.nuget.org/v3/index.json")]
    [InlineData("nexus", "https://nexus.example.com", "https://nexus.example.com/service/rest/v1/status")]
    [InlineData("nexus", "https://example.com/nexus", "https://example.com/nexus/service/rest/v1/status")]
    [InlineData("jfrog-artifactory", "https://example.jfrog.io/artifactory", "https://example.jfrog.io/artifactory/api/system/ping")]
    public void Health_url_per_provider(string provider, string url, string expected) =>
        Assert.Equal(expected, EndpointProviders.HealthUrl(provider, new Uri(url)).AbsoluteUri);

    [Fact]
    public void Every_provider_of_the_product_contract_is_known()
    {
        Assert.Equal(18, EndpointProviders.All.Count);
        Assert.Equal("docker-hub", EndpointProviders.Normalize(" Docker-Hub "));
        Assert.Null(EndpointProviders.Normalize("artifactory"));
        Assert.Null(EndpointProviders.Normalize(null));
        Assert.True(EndpointProviders.IsOci("gitlab"));
        Assert.False(EndpointProviders.IsOci("nexus"));
    }
}

public sealed class CredentialProtectorTests : IDisposable
{
    private readonly string _dir = TempDir.Create("endpoint-key");
    private readonly string _otherDir = TempDir.Create("endpoint-key-other");

    public void Dispose()
    {
        TempDir.TryDelete(_dir);
        TempDir.TryDelete(_otherDir);
    }

    [Fact]
    public void Secret_round_trips_only_for_its_endpoint_name_url_and_key()
    {
        var protector = new CredentialProtector(new ServerOptions { DataDirectory = _dir });
        const string secret = "hunter2-very-secret";
        var stored = protector.Protect(secret, "remote", "https://a.example.com/");
        Assert.DoesNotContain(secret, stored);
        Assert.NotEqual(stored, protector.Protect(secret, "remote", "https://a.example.com/")); // fresh nonce each time
        Assert.Equal(secret, protector.TryUnprotect(stored, "remote", "https://a.example.com/"));

        // Bound to the URL and the name: a URL edited in the database, or a secret copied to another row, does not decrypt.
        Assert.Null(protector.TryUnprotect(stored, "remote", "https://evil.example.com/"));
        Assert.Null(protector.TryUnprotect(stored, "other", "https://a.example.com/"));
        Assert.Null(protector.TryUnprotect(stored[..^4] + "AAA=", "remote", "https://a.example.com/"));
        Assert.Null(protector.TryUnprotect("garbage", "remote", "https://a.example.com/"));

        // The key persists in the data directory (mode 0600); another server's key cannot read it.
        var keyFile = Path.Combine(_dir, CredentialProtector.KeyFileName);
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(keyFile));
        Assert.Equal(secret, new CredentialProtector(new ServerOptions { DataDirectory = _dir }).TryUnprotect(stored, "remote", "https://a.example.com/"));
        var foreign = new CredentialProtector(new ServerOptions { DataDirectory = _otherDir });
        Assert.Null(foreign.TryUnprotect(stored, "remote", "https://a.example.com/"));
    }

    [Fact]
    public void A_corrupt_key_file_is_an_error_not_a_new_key()
    {
        File.WriteAllText(Path.Combine(_dir, CredentialProtector.KeyFileName), "too-short");
        var protector = new CredentialProtector(new ServerOptions { DataDirectory = _dir });
        Assert.Throws<InvalidOperationException>(() => protector.Protect("x", "remote", "https://a.example.com/"));
    }
}
