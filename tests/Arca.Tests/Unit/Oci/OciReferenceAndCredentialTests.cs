using System.Text;
using Arca.Client.Oci;

namespace Arca.Tests.Unit.Oci;

public sealed class OciReferenceAndCredentialTests
{
    [Theory]
    [InlineData("nginx", "docker.io", "library/nginx", null, null)]
    [InlineData("nginx:1.25", "docker.io", "library/nginx", "1.25", null)]
    [InlineData("docker.io/bitnami/redis:7", "docker.io", "bitnami/redis", "7", null)]
    [InlineData("index.docker.io/alpine", "docker.io", "library/alpine", null, null)]
    [InlineData("localhost/app", "localhost", "app", null, null)]
    [InlineData("127.0.0.1:5000/team/app:v1", "127.0.0.1:5000", "team/app", "v1", null)]
    [InlineData("registry.example.com:443/a/b/c@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
        "registry.example.com:443", "a/b/c", null, "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef")]
    [InlineData("docker://ghcr.io/org/img:tag@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
        "ghcr.io", "org/img", "tag", "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef")]
    [InlineData("123456789012.dkr.ecr.eu-west-1.amazonaws.com/app:1", "123456789012.dkr.ecr.eu-west-1.amazonaws.com", "app", "1", null)]
    public void Parses_references(string input, string registry, string repository, string? tag, string? digest)
    {
        var r = ImageReference.Parse(input);
        Assert.Equal(registry, r.Registry);
        Assert.Equal(repository, r.Repository);
        Assert.Equal(tag, r.Tag);
        Assert.Equal(digest, r.Digest);
        Assert.Equal(digest ?? tag, r.Reference);
    }

    [Fact]
    public void Docker_hub_uses_its_api_host() => Assert.Equal("registry-1.docker.io", ImageReference.Parse("nginx").ApiHost);

    [Theory]
    [InlineData("")]
    [InlineData("host:5000/Upper/case")]
    [InlineData("host:5000/app:bad tag")]
    [InlineData("host:5000/app@sha256:zz")]
    [InlineData("host:5000/a//b")]
    [InlineData("host:5000/app:" + "0123456789012345678901234567890123456789012345678901234567890123456789012345678901234567890123456789012345678901234567890123456789")]
    public void Rejects_bad_references(string input) => Assert.False(ImageReference.TryParse(input, out _, out _));

    [Fact]
    public void Parses_platforms()
    {
        var p = OciPlatform.Parse("linux/arm/v7");
        Assert.Equal(("linux", "arm", "v7"), (p.Os, p.Architecture, p.Variant));
        Assert.True(new OciPlatform("linux", "arm", "v7").Matches(OciPlatform.Parse("linux/arm")));
        Assert.False(new OciPlatform("linux", "arm", "v6").Matches(p));
        Assert.Throws<FormatException>(() => OciPlatform.Parse("linux"));
    }

    [Fact]
    public void Parses_bearer_challenge()
    {
        var c = AuthChallenge.Parse("Bearer realm=\"https://auth.example.com/token\",service=\"registry.example.com\",scope=\"repository:a/b:pull,push\"")!;
        Assert.True(c.IsBearer);
        Assert.Equal("https://auth.example.com/token", c.Realm);
        Assert.Equal("registry.example.com", c.Service);
        Assert.Equal("repository:a/b:pull,push", c.Scope);
        var basic = AuthChallenge.Parse("Basic realm=\"test-registry\"")!;
        Assert.True(basic.IsBasic);
        Assert.Equal("test-registry", basic.Realm);
        Assert.Null(AuthChallenge.Parse(""));
    }

    private static string B64(string s) => Convert.ToBase64String(Encoding.UTF8.GetBytes(s));

    [Fact]
    public async Task Docker_config_auths_resolve_by_host()
    {
        var config = new DockerConfigCredentialProvider($$$"""
            {"auths": {
              "https://index.docker.io/v1/": {"auth": "{{{B64("hubuser:hub:pass")}}}"},
              "registry.example.com:5000": {"auth": "{{{B64("u:p")}}}"},
              "https://gar.example.com": {"username": "x", "password": "y"},
              "idp.example.com": {"identitytoken": "refresh-me"}
            }}
            """);
        var hub = await config.GetAsync("docker.io", default);
        Assert.Equal(("hubuser", "hub:pass"), (hub!.Username, hub.Password));
        Assert.Equal("u", (await config.GetAsync("registry.example.com:5000", default))!.Username);
        Assert.Equal("y", (await config.GetAsync("gar.example.com", default))!.Password);
        Assert.Equal("refresh-me", (await config.GetAsync("idp.example.com", default))!.IdentityToken);
        Assert.Null(await config.GetAsync("other.example.com", default));
        Assert.Throws<FormatException>(() => new DockerConfigCredentialProvider("""{"auths":{"h":{"auth":"!!notbase64"}}}"""));
    }

    [Fact]
    public void Google_access_token_is_basic_with_oauth2accesstoken_user()
    {
        var c = RegistryCredential.ForGoogleAccessToken("ya29.token");
        Assert.Equal("oauth2accesstoken", c.Username);
        Assert.Equal("ya29.token", c.Password);
        Assert.Equal(B64("oauth2accesstoken:ya29.token"), c.BasicHeaderValue);
        Assert.DoesNotContain("ya29", c.ToString());
    }

    private sealed class FakeEcr : IEcrAuthorizationClient
    {
        public List<(AwsCredentials Credentials, string Region)> Calls { get; } = [];
        public TimeSpan Lifetime { get; set; } = TimeSpan.FromHours(12);

        public Task<EcrAuthorizationToken> GetAuthorizationTokenAsync(AwsCredentials credentials, string region, CancellationToken ct)
        {
            Calls.Add((credentials, region));
            return Task.FromResult(new EcrAuthorizationToken(B64($"AWS:pw-{region}-{Calls.Count}"), DateTimeOffset.UtcNow + Lifetime));
        }
    }

    [Fact]
    public async Task Ecr_credentials_come_from_the_authorization_token_and_are_cached()
    {
        var fake = new FakeEcr();
        var aws = new AwsCredentials("AKIA1", "secret");
        var provider = new EcrCredentialProvider(fake, aws);
        var c = await provider.GetAsync("123456789012.dkr.ecr.eu-west-1.amazonaws.com", default);
        Assert.Equal(("AWS", "pw-eu-west-1-1"), (c!.Username, c.Password));
        Assert.Equal("eu-west-1", fake.Calls.Single().Region);
        Assert.Same(aws, fake.Calls.Single().Credentials);
        await provider.GetAsync("123456789012.dkr.ecr.eu-west-1.amazonaws.com", default);
        Assert.Single(fake.Calls); // cached while valid
        Assert.Null(await provider.GetAsync("registry.example.com", default)); // not an ECR host, no region given

        var shortLived = new FakeEcr { Lifetime = TimeSpan.FromMinutes(1) };
        var refreshing = new EcrCredentialProvider(shortLived, aws, "us-east-2");
        await refreshing.GetAsync("anything", default);
        await refreshing.GetAsync("anything", default);
        Assert.Equal(2, shortLived.Calls.Count); // about to expire: fetched again
        Assert.Equal("us-east-2", shortLived.Calls[0].Region);
    }

    [Fact]
    public void Ecr_host_names_carry_the_region()
    {
        Assert.Equal("us-east-1", EcrCredentialProvider.RegionOf("123456789012.dkr.ecr.us-east-1.amazonaws.com"));
        Assert.Equal("cn-north-1", EcrCredentialProvider.RegionOf("123456789012.dkr.ecr.cn-north-1.amazonaws.com.cn"));
        Assert.Null(EcrCredentialProvider.RegionOf("ecr.example.com"));
    }

    [Fact]
    public void SigV4_matches_the_aws_reference_signatures()
    {
        var credentials = new AwsCredentials("AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY");
        var at = new DateTimeOffset(2015, 8, 30, 12, 36, 0, TimeSpan.Zero);
        // AWS SigV4 test suite "get-vanilla-query-order-key-case".
        var headers = new SortedDictionary<string, string>(StringComparer.Ordinal) { ["host"] = "example.amazonaws.com" };
        Assert.Equal("AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, SignedHeaders=host;x-amz-date, Signature=b97d918cfa904a5beff61c982a1b6f458b799221646efd99d3219ec94cdf2500",
            AwsSigV4.Sign("GET", new Uri("https://example.amazonaws.com/?Param2=value2&Param1=value1"), headers, [], credentials, "us-east-1", "service", at));
        // The ECR call itself (expected value computed with botocore's SigV4Auth).
        var ecr = new SortedDictionary<string, string>(StringComparer.Ordinal)
        {
            ["content-type"] = "application/x-amz-json-1.1", ["host"] = "api.ecr.us-east-1.amazonaws.com",
            ["x-amz-target"] = "AmazonEC2ContainerRegistry_V20150921.GetAuthorizationToken",
        };
        Assert.Equal("AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/ecr/aws4_request, SignedHeaders=content-type;host;x-amz-date;x-amz-target, Signature=527a2155e9afc2426cb4c659023df9c031e8103458f349819615ff25111f5de0",
            AwsSigV4.Sign("POST", new Uri("https://api.ecr.us-east-1.amazonaws.com/"), ecr, "{}"u8.ToArray(), credentials, "us-east-1", "ecr", at));
    }

    [Fact]
    public async Task Ecr_client_posts_a_signed_GetAuthorizationToken()
    {
        HttpRequestMessage? seen = null;
        string? body = null;
        var handler = new FakeHandler(async r =>
        {
            seen = r;
            body = await r.Content!.ReadAsStringAsync();
            return FakeHandler.Json(System.Net.HttpStatusCode.OK, $$"""{"authorizationData":[{"authorizationToken":"{{B64("AWS:secret-pw")}}","expiresAt":1.9E9,"proxyEndpoint":"https://1.dkr.ecr.eu-central-1.amazonaws.com"}]}""");
        });
        var client = new EcrAuthorizationClient(new HttpClient(handler));
        var token = await client.GetAuthorizationTokenAsync(new AwsCredentials("AKIA2", "s3cr3t", "session"), "eu-central-1", default);
        Assert.Equal(("AWS", "secret-pw"), (token.ToCredential().Username, token.ToCredential().Password));
        Assert.Equal(DateTimeOffset.FromUnixTimeSeconds(1_900_000_000), token.ExpiresAt);
        Assert.Equal("https://api.ecr.eu-central-1.amazonaws.com/", seen!.RequestUri!.ToString());
        Assert.Equal(HttpMethod.Post, seen.Method);
        Assert.Equal("{}", body);
        Assert.Equal("AmazonEC2ContainerRegistry_V20150921.GetAuthorizationToken", seen.Headers.GetValues("x-amz-target").Single());
        Assert.Equal("session", seen.Headers.GetValues("x-amz-security-token").Single());
        var auth = seen.Headers.GetValues("Authorization").Single();
        Assert.StartsWith("AWS4-HMAC-SHA256 Credential=AKIA2/", auth);
        Assert.Contains("/eu-central-1/ecr/aws4_request", auth);
        Assert.Contains("x-amz-security-token", auth);

        var denied = new EcrAuthorizationClient(new HttpClient(new FakeHandler(_ =>
            Task.FromResult(FakeHandler.Json(System.Net.HttpStatusCode.BadRequest, """{"__type":"UnrecognizedClientException"}""")))));
        var e = await Assert.ThrowsAsync<OciException>(() => denied.GetAuthorizationTokenAsync(new AwsCredentials("a", "b"), "us-east-1", default));
        Assert.Contains("UnrecognizedClientException", e.Message);
    }
}
