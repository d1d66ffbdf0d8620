using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json.Nodes;
using Arca.Tests.Infrastructure;
using static Arca.Tests.Http.Oci.OciTestContent;

namespace Arca.Tests.Http.Oci;

/// <summary>The Docker token flow, anonymous pull on public registries, and scope checks.</summary>
public sealed class OciAuthTests : IAsyncLifetime
{
    private TestServer _server = null!;

    public async Task InitializeAsync()
    {
        _server = await TestServer.StartAsync();
        await _server.CreateRegistryAsync("private", "DOCKER");
        await _server.CreateRegistryAsync("public", "DOCKER", isPublic: true);
        var oci = new OciHttp(_server.Admin);
        foreach (var reg in new[] { "private", "public" })
        {
            var (config, layer, manifest) = Image("linux", "amd64", reg);
            await oci.PushImageAsync($"{reg}/app", "v1", manifest, config, layer);
        }
    }

    public async Task DisposeAsync() => await _server.DisposeAsync();

    private static Dictionary<string, string> ParseChallenge(string header)
    {
        Assert.StartsWith("Bearer ", header);
        return header[7..].Split("\",").Select(p => p.Split('=', 2))
            .ToDictionary(p => p[0].Trim(), p => p[1].Trim('"'));
    }

    private async Task<string> FetchTokenAsync(string? basicPassword, string scope)
    {
        using var client = new HttpClient { BaseAddress = new Uri(_server.BaseUrl + "/") };
        if (basicPassword is not null)
            client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes($"someone:{basicPassword}")));
        var r = await client.GetAsync($"v2/token?service={_server.HostPort}&scope={Uri.EscapeDataString(scope)}");
        var body = await r.Content.ReadAsStringAsync();
        Assert.True(r.StatusCode == HttpStatusCode.OK, body);
        var json = JsonNode.Parse(body)!;
        Assert.Equal(json["token"]!.GetValue<string>(), json["access_token"]!.GetValue<string>());
        Assert.True(json["expires_in"]!.GetValue<int>() > 0);
        Assert.NotNull(json["issued_at"]);
        return json["token"]!.GetValue<string>();
    }

    [Fact]
    public async Task Anonymous_request_to_private_registry_gets_bearer_challenge_then_token_flow_succeeds()
    {
        var anon = await _server.Anonymous.GetAsync("v2/private/app/tags/list");
        await OciHttp.AssertErrorAsync(anon, HttpStatusCode.Unauthorized, "UNAUTHORIZED");
        var challenge = ParseChallenge(anon.Headers.WwwAuthenticate.ToString());
        Assert.Equal($"{_server.BaseUrl}/v2/token", challenge["realm"]);
        Assert.Equal(_server.HostPort, challenge["service"]);
        Assert.Equal("repository:private/app:pull", challenge["scope"]);

        var push = await _server.Anonymous.PostAsync("v2/private/app/blobs/uploads/", null);
        Assert.Equal("repository:private/app:pull,push", ParseChallenge(push.Headers.WwwAuthenticate.ToString())["scope"]);

        var readToken = await _server.CreateTokenAsync("read", "private");
        var bearer = await FetchTokenAsync(readToken, challenge["scope"]);
        using var client = _server.CreateClient(bearer);
        var tags = await client.GetAsync("v2/private/app/tags/list");
        Assert.Equal(HttpStatusCode.OK, tags.StatusCode);
        Assert.Equal(["v1"], JsonNode.Parse(await tags.Content.ReadAsStringAsync())!["tags"]!.AsArray().Select(t => t!.GetValue<string>()));
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("v2/")).StatusCode);
    }

    [Fact]
    public async Task Read_only_token_cannot_push_directly_or_through_the_token_flow()
    {
        var readToken = await _server.CreateTokenAsync("read", "private");
        var (config, _, _) = Image("linux", "amd64", "ro");
        // The API token itself is known and lacks the scope: 403. The registry token was only granted pull: 401 with
        // error="insufficient_scope", the token flow's way of saying "this token does not cover the request".
        foreach (var (credential, status, code) in new[]
        {
            (readToken, HttpStatusCode.Forbidden, "DENIED"),
            (await FetchTokenAsync(readToken, "repository:private/app:pull,push"), HttpStatusCode.Unauthorized, "UNAUTHORIZED"),
        })
        {
            using var client = _server.CreateClient(credential);
            var post = await client.PostAsync($"v2/private/app/blobs/uploads/?digest={config.Digest}", new ByteArrayContent(config.Bytes));
            await OciHttp.AssertErrorAsync(post, status, code);
            var put = await new OciHttp(client).PutManifestAsync("private/app", "v2", "{}"u8.ToArray(), OciManifest);
            await OciHttp.AssertErrorAsync(put, status, code);
            await OciHttp.AssertErrorAsync(await client.DeleteAsync("v2/private/app/manifests/v1"), status, code);
        }

        // The token endpoint grants only what the API token allows.
        var token = await FetchTokenAsync(readToken, "repository:private/app:pull,push");
        var payload = token.Split('.')[1].Replace('-', '+').Replace('_', '/');
        var claims = JsonNode.Parse(Convert.FromBase64String(payload.PadRight(payload.Length + (4 - payload.Length % 4) % 4, '=')))!;
        Assert.Equal(["pull"], claims["access"]![0]!["actions"]!.AsArray().Select(a => a!.GetValue<string>()));
    }

    [Fact]
    public async Task Write_token_pushes_with_basic_bearer_and_registry_token()
    {
        var writeToken = await _server.CreateTokenAsync("write", "private");
        var (config, layer, manifest) = Image("linux", "arm64", "writer");
        using var basic = new HttpClient { BaseAddress = new Uri(_server.BaseUrl + "/") };
        basic.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes($"x:{writeToken}")));
        await new OciHttp(basic).PushImageAsync("private/app", "basic", manifest, config, layer);
        using var registryToken = _server.CreateClient(await FetchTokenAsync(writeToken, "repository:private/app:pull,push"));
        Assert.Equal(HttpStatusCode.Created, (await new OciHttp(registryToken).PutManifestAsync("private/app", "viatoken", manifest)).StatusCode);
        // A token limited to the private registry may not read elsewhere unless public.
        Assert.Equal(HttpStatusCode.OK, (await registryToken.GetAsync("v2/public/app/manifests/v1")).StatusCode);
    }

    [Fact]
    public async Task Public_registry_allows_anonymous_pull_but_not_push()
    {
        var anonToken = await FetchTokenAsync(null, "repository:public/app:pull,push");
        using var client = _server.CreateClient(anonToken);
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("v2/")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("v2/public/app/manifests/v1")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await _server.Anonymous.GetAsync("v2/public/app/tags/list")).StatusCode);
        await OciHttp.AssertErrorAsync(await client.PostAsync("v2/public/app/blobs/uploads/", null), HttpStatusCode.Unauthorized, "UNAUTHORIZED");
        // An anonymous registry token does not open a private registry.
        await OciHttp.AssertErrorAsync(await client.GetAsync("v2/private/app/tags/list"), HttpStatusCode.Unauthorized, "UNAUTHORIZED");
    }

    [Fact]
    public async Task Invalid_and_revoked_tokens_are_refused()
    {
        using var bogus = _server.CreateClient("arcaoci.e30.AAAA");
        await OciHttp.AssertErrorAsync(await bogus.GetAsync("v2/private/app/tags/list"), HttpStatusCode.Unauthorized, "UNAUTHORIZED");

        var readToken = await _server.CreateTokenAsync("read", "private", name: "short-lived");
        var bearer = await FetchTokenAsync(readToken, "repository:private/app:pull");
        using var client = _server.CreateClient(bearer);
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("v2/private/app/tags/list")).StatusCode);
        Assert.Equal(HttpStatusCode.NoContent, (await _server.Admin.DeleteAsync("api/v1/tokens/short-lived")).StatusCode);
        await OciHttp.AssertErrorAsync(await client.GetAsync("v2/private/app/tags/list"), HttpStatusCode.Unauthorized, "UNAUTHORIZED");
    }
}
