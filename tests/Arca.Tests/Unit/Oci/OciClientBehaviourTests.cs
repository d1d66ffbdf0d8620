using System.Net;
using System.Text;
using Arca.Client.Oci;

namespace Arca.Tests.Unit.Oci;

/// <summary>Token flow, retries and pagination of <see cref="OciRegistryClient"/> against an in-memory registry.</summary>
public sealed class OciClientBehaviourTests
{
    private static OciClientOptions Options(FakeHandler handler, RegistryCredential? credential = null, int retries = 3) => new()
    {
        Handler = handler,
        Credentials = new StaticCredentialProvider(credential),
        MaxRetries = retries,
        RetryBaseDelay = TimeSpan.FromMilliseconds(1),
    };

    private const string Manifest = """{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a","size":2},"layers":[]}""";

    [Fact]
    public async Task Token_flow_uses_basic_at_the_realm_and_caches_tokens_per_scope()
    {
        var tokenRequests = new List<HttpRequestMessage>();
        var handler = new FakeHandler(r =>
        {
            var url = r.RequestUri!;
            if (url.Host == "auth.example.com")
            {
                tokenRequests.Add(r);
                return Task.FromResult(FakeHandler.Json(HttpStatusCode.OK, $$"""{"token":"tok-{{tokenRequests.Count}}","expires_in":300}"""));
            }
            if (r.Headers.Authorization is not { Scheme: "Bearer" })
            {
                var challenge = new HttpResponseMessage(HttpStatusCode.Unauthorized);
                challenge.Headers.WwwAuthenticate.ParseAdd("Bearer realm=\"https://auth.example.com/token\",service=\"reg.example.com\"");
                return Task.FromResult(challenge);
            }
            var ok = new HttpResponseMessage(HttpStatusCode.OK) { Content = new StringContent(Manifest) };
            ok.Content.Headers.ContentType = new("application/vnd.oci.image.manifest.v1+json");
            return Task.FromResult(ok);
        });
        using var client = new OciRegistryClient("reg.example.com", Options(handler, RegistryCredential.Basic("me", "pw")));
        var m = await client.GetManifestAsync("team/app", "1.0");
        Assert.Equal("application/vnd.oci.image.manifest.v1+json", m!.MediaType);
        await client.GetManifestAsync("team/app", "2.0");
        await client.GetManifestAsync("other/app", "1.0");

        Assert.Equal(2, tokenRequests.Count); // one per repository scope, reused for the second tag
        var first = tokenRequests[0];
        Assert.Equal("Basic", first.Headers.Authorization!.Scheme);
        Assert.Equal(Convert.ToBase64String(Encoding.UTF8.GetBytes("me:pw")), first.Headers.Authorization.Parameter);
        Assert.Contains("service=reg.example.com", first.RequestUri!.Query);
        Assert.Contains("scope=repository%3Ateam%2Fapp%3Apull", first.RequestUri.Query);
        Assert.Contains("scope=repository%3Aother%2Fapp%3Apull", tokenRequests[1].RequestUri!.Query);
        var manifestCalls = handler.Requests.Where(r => r.RequestUri!.AbsolutePath.Contains("/manifests/")).ToList();
        Assert.All(manifestCalls, r => Assert.Equal("Bearer", r.Headers.Authorization!.Scheme));
        Assert.Contains(manifestCalls[0].Headers.Accept, a => a.MediaType == OciMediaTypes.ImageIndex);
        Assert.Contains(manifestCalls[0].Headers.Accept, a => a.MediaType == OciMediaTypes.DockerManifestList);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task Preemptive_basic_skips_the_token_flow_where_basic_is_taken_and_falls_back_where_it_is_not(bool registryTakesBasic)
    {
        var tokenRequests = 0;
        var handler = new FakeHandler(r =>
        {
            if (r.RequestUri!.Host == "auth.example.com")
            {
                Interlocked.Increment(ref tokenRequests);
                return Task.FromResult(FakeHandler.Json(HttpStatusCode.OK, """{"token":"tok","expires_in":300}"""));
            }
            var accepted = r.Headers.Authorization is { Scheme: "Bearer", Parameter: "tok" }
                           || (registryTakesBasic && r.Headers.Authorization is { Scheme: "Basic" });
            if (!accepted)
            {
                var challenge = new HttpResponseMessage(HttpStatusCode.Unauthorized);
                challenge.Headers.WwwAuthenticate.ParseAdd("Bearer realm=\"https://auth.example.com/token\",service=\"reg.example.com\"");
                return Task.FromResult(challenge);
            }
            var ok = new HttpResponseMessage(HttpStatusCode.OK) { Content = new StringContent(Manifest) };
            ok.Content.Headers.ContentType = new("application/vnd.oci.image.manifest.v1+json");
            return Task.FromResult(ok);
        });
        var options = Options(handler, RegistryCredential.Basic("admin", "arca-token"));
        using var client = new OciRegistryClient("reg.example.com", new OciClientOptions
        {
            Handler = options.Handler, Credentials = options.Credentials, MaxRetries = 1, RetryBaseDelay = options.RetryBaseDelay, PreemptiveBasic = true,
        });
        foreach (var repository in new[] { "a/app", "b/app", "c/app" })
            Assert.NotNull(await client.GetManifestAsync(repository, "1.0"));

        if (registryTakesBasic)
        {
            Assert.Equal(0, tokenRequests); // no token round trip for any repository
            var manifestCalls = handler.Requests.Where(r => r.RequestUri!.AbsolutePath.Contains("/manifests/")).ToList();
            Assert.Equal(3, manifestCalls.Count); // one request each, no 401 first
            Assert.All(manifestCalls, r => Assert.Equal("Basic", r.Headers.Authorization!.Scheme));
        }
        else
        {
            // Refused once, then the usual flow: one token per repository, the first request replayed.
            Assert.Equal(3, tokenRequests);
            Assert.Single(handler.Requests, r => r.Headers.Authorization?.Scheme == "Basic" && r.RequestUri!.Host == "reg.example.com");
        }
    }

    [Fact]
    public async Task Anonymous_token_flow_sends_no_credentials_to_the_realm()
    {
        HttpRequestMessage? tokenRequest = null;
        var handler = new FakeHandler(r =>
        {
            if (r.RequestUri!.AbsolutePath == "/token")
            {
                tokenRequest = r;
                return Task.FromResult(FakeHandler.Json(HttpStatusCode.OK, """{"access_token":"anon"}"""));
            }
            if (r.Headers.Authorization is null)
            {
                var challenge = new HttpResponseMessage(HttpStatusCode.Unauthorized);
                challenge.Headers.WwwAuthenticate.ParseAdd("Bearer realm=\"https://reg.example.com/token\",service=\"reg\"");
                return Task.FromResult(challenge);
            }
            return Task.FromResult(new HttpResponseMessage(HttpStatusCode.OK) { Content = new StringContent("") });
        });
        using var client = new OciRegistryClient("reg.example.com", Options(handler));
        Assert.Equal(0, await client.HeadBlobAsync("lib/x", "sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a"));
        Assert.Null(tokenRequest!.Headers.Authorization);
        Assert.Equal("Bearer anon", handler.Requests.Last().Headers.Authorization!.ToString());
    }

    [Fact]
    public async Task Retries_429_and_503_honouring_Retry_After_then_succeeds()
    {
        var calls = 0;
        var handler = new FakeHandler(r =>
        {
            if (r.RequestUri!.AbsolutePath == "/v2/") return Task.FromResult(new HttpResponseMessage(HttpStatusCode.OK));
            calls++;
            if (calls == 1)
            {
                var busy = new HttpResponseMessage(HttpStatusCode.TooManyRequests);
                busy.Headers.RetryAfter = new System.Net.Http.Headers.RetryConditionHeaderValue(TimeSpan.FromSeconds(1));
                return Task.FromResult(busy);
            }
            if (calls == 2) return Task.FromResult(new HttpResponseMessage(HttpStatusCode.ServiceUnavailable));
            return Task.FromResult(FakeHandler.Json(HttpStatusCode.OK, """{"name":"a","tags":["1","2"]}"""));
        });
        using var client = new OciRegistryClient("reg.example.com", Options(handler));
        var started = DateTime.UtcNow;
        var tags = await client.ListTagsAsync("a").ToListAsync();
        Assert.Equal(["1", "2"], tags);
        Assert.Equal(3, calls);
        Assert.True(DateTime.UtcNow - started >= TimeSpan.FromSeconds(0.9), "Retry-After: 1 was not honoured");
    }

    [Fact]
    public async Task Gives_up_after_the_retry_budget_with_the_registry_error()
    {
        var handler = new FakeHandler(r => Task.FromResult(r.RequestUri!.AbsolutePath == "/v2/"
            ? new HttpResponseMessage(HttpStatusCode.OK)
            : FakeHandler.Json(HttpStatusCode.ServiceUnavailable, """{"errors":[{"code":"UNAVAILABLE","message":"down for maintenance"}]}""")));
        using var client = new OciRegistryClient("reg.example.com", Options(handler, retries: 2));
        var e = await Assert.ThrowsAsync<OciException>(() => client.GetManifestAsync("a", "1"));
        Assert.Equal(HttpStatusCode.ServiceUnavailable, e.Status);
        Assert.Contains("down for maintenance", e.Message);
        Assert.Equal(3, handler.Requests.Count(r => r.RequestUri!.AbsolutePath.Contains("manifests")));
    }

    [Fact]
    public async Task Tag_list_follows_Link_pagination()
    {
        var handler = new FakeHandler(r =>
        {
            var path = r.RequestUri!.PathAndQuery;
            if (path == "/v2/") return Task.FromResult(new HttpResponseMessage(HttpStatusCode.OK));
            if (!path.Contains("last="))
            {
                var first = FakeHandler.Json(HttpStatusCode.OK, """{"name":"a","tags":["1","2"]}""");
                first.Headers.TryAddWithoutValidation("Link", "</v2/a/tags/list?last=2&n=2>; rel=\"next\"");
                return Task.FromResult(first);
            }
            return Task.FromResult(FakeHandler.Json(HttpStatusCode.OK, """{"name":"a","tags":["3"]}"""));
        });
        using var client = new OciRegistryClient("reg.example.com", Options(handler));
        Assert.Equal(["1", "2", "3"], await client.ListTagsAsync("a", pageSize: 2).ToListAsync());
    }

    [Fact]
    public async Task Manifest_by_digest_must_match_its_content()
    {
        var handler = new FakeHandler(r => Task.FromResult(r.RequestUri!.AbsolutePath == "/v2/"
            ? new HttpResponseMessage(HttpStatusCode.OK)
            : FakeHandler.Json(HttpStatusCode.OK, Manifest)));
        using var client = new OciRegistryClient("reg.example.com", Options(handler));
        var wrong = "sha256:" + new string('0', 64);
        var e = await Assert.ThrowsAsync<OciException>(() => client.GetManifestAsync("a", wrong));
        Assert.Contains("does not match", e.Message);
    }
}
