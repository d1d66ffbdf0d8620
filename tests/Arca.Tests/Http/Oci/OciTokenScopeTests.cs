using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json.Nodes;
using Arca.Tests.Infrastructure;
using static Arca.Tests.Http.Oci.OciTestContent;

namespace Arca.Tests.Http.Oci;

/// <summary>A registry token carries only the repository and actions it was granted, whatever its API token could do.</summary>
public sealed class OciTokenScopeTests : IAsyncLifetime
{
    private TestServer _server = null!;
    private string _deleteToken = null!;

    public async Task InitializeAsync()
    {
        _server = await TestServer.StartAsync();
        await _server.CreateRegistryAsync("private", "DOCKER");
        await _server.CreateRegistryAsync("second", "DOCKER");
        await _server.CreateRegistryAsync("open", "DOCKER", isPublic: true);
        var oci = new OciHttp(_server.Admin);
        foreach (var name in new[] { "private/a", "private/b", "second/a", "open/a" })
        {
            var (config, layer, manifest) = Image("linux", "amd64", name);
            await oci.PushImageAsync(name, "v1", manifest, config, layer);
        }
        _deleteToken = await _server.CreateTokenAsync("delete"); // server-wide: could do anything on any registry
    }

    public async Task DisposeAsync() => await _server.DisposeAsync();

    private async Task<string> FetchTokenAsync(string apiToken, params string[] scopes)
    {
        using var client = new HttpClient { BaseAddress = new Uri(_server.BaseUrl + "/") };
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes($"u:{apiToken}")));
        var query = string.Join('&', scopes.Select(s => "scope=" + Uri.EscapeDataString(s)));
        var r = await client.GetAsync($"v2/token?service={_server.HostPort}&{query}");
        Assert.Equal(HttpStatusCode.OK, r.StatusCode);
        return JsonNode.Parse(await r.Content.ReadAsStringAsync())!["token"]!.GetValue<string>();
    }

    private static void AssertInsufficientScope(HttpResponseMessage r, string expectedScope)
    {
        Assert.Equal(HttpStatusCode.Unauthorized, r.StatusCode);
        var challenge = r.Headers.WwwAuthenticate.ToString();
        Assert.StartsWith("Bearer realm=", challenge);
        Assert.Contains($"scope=\"{expectedScope}\"", challenge);
        Assert.Contains("error=\"insufficient_scope\"", challenge);
    }

    [Fact]
    public async Task Pull_only_registry_token_cannot_push_or_delete_even_if_its_api_token_could()
    {
        using var client = _server.CreateClient(await FetchTokenAsync(_deleteToken, "repository:private/a:pull"));
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("v2/private/a/manifests/v1")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("v2/private/a/tags/list")).StatusCode);

        var blob = "scoped"u8.ToArray();
        var post = await client.PostAsync($"v2/private/a/blobs/uploads/?digest={Sha256(blob)}", new ByteArrayContent(blob));
        AssertInsufficientScope(post, "repository:private/a:pull,push");
        await OciHttp.AssertErrorAsync(post, HttpStatusCode.Unauthorized, "UNAUTHORIZED");
        AssertInsufficientScope(await client.DeleteAsync("v2/private/a/manifests/v1"), "repository:private/a:delete");
        Assert.Equal(HttpStatusCode.NotFound, (await _server.Admin.GetAsync($"v2/private/a/blobs/{Sha256(blob)}")).StatusCode);

        // Re-auth for the new scope (what skopeo does on insufficient_scope) then succeeds.
        using var pusher = _server.CreateClient(await FetchTokenAsync(_deleteToken, "repository:private/a:pull,push"));
        Assert.Equal(HttpStatusCode.Created, (await pusher.PostAsync($"v2/private/a/blobs/uploads/?digest={Sha256(blob)}", new ByteArrayContent(blob))).StatusCode);
    }

    [Fact]
    public async Task Registry_token_for_one_repository_does_not_open_another()
    {
        using var client = _server.CreateClient(await FetchTokenAsync(_deleteToken, "repository:private/a:pull,push,delete"));
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("v2/private/a/manifests/v1")).StatusCode);
        AssertInsufficientScope(await client.GetAsync("v2/private/b/manifests/v1"), "repository:private/b:pull");
        AssertInsufficientScope(await client.GetAsync("v2/second/a/tags/list"), "repository:second/a:pull");
        AssertInsufficientScope(await client.PostAsync("v2/private/b/blobs/uploads/", null), "repository:private/b:pull,push");
        // Public repositories stay readable, as for anyone.
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("v2/open/a/manifests/v1")).StatusCode);
        AssertInsufficientScope(await client.PostAsync("v2/open/a/blobs/uploads/", null), "repository:open/a:pull,push");

        // A token with both scopes works on both.
        using var both = _server.CreateClient(await FetchTokenAsync(_deleteToken, "repository:private/a:pull", "repository:private/b:pull"));
        Assert.Equal(HttpStatusCode.OK, (await both.GetAsync("v2/private/a/manifests/v1")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await both.GetAsync("v2/private/b/manifests/v1")).StatusCode);
    }

    [Fact]
    public async Task Registry_token_is_not_an_api_token_and_cannot_widen_itself()
    {
        var bearer = await FetchTokenAsync(_deleteToken, "repository:private/a:pull");
        using var client = _server.CreateClient(bearer);
        Assert.Equal(HttpStatusCode.Unauthorized, (await client.GetAsync("api/v1/tokens")).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await client.DeleteAsync("api/v1/registries/private")).StatusCode);

        // Asking the token endpoint with the registry token itself grants nothing beyond what it holds.
        var r = await client.GetAsync($"v2/token?service={_server.HostPort}&scope={Uri.EscapeDataString("repository:private/a:pull,push,delete")}&scope={Uri.EscapeDataString("repository:private/b:pull")}");
        Assert.Equal(HttpStatusCode.OK, r.StatusCode);
        var token = JsonNode.Parse(await r.Content.ReadAsStringAsync())!["token"]!.GetValue<string>();
        var payload = token.Split('.')[1].Replace('-', '+').Replace('_', '/');
        var access = JsonNode.Parse(Convert.FromBase64String(payload.PadRight(payload.Length + (4 - payload.Length % 4) % 4, '=')))!["access"]!.AsArray();
        Assert.Equal(["pull"], access[0]!["actions"]!.AsArray().Select(a => a!.GetValue<string>()));
        Assert.Empty(access[1]!["actions"]!.AsArray());
        // ... and what it does grant still works.
        using var renewed = _server.CreateClient(token);
        Assert.Equal(HttpStatusCode.OK, (await renewed.GetAsync("v2/private/a/manifests/v1")).StatusCode);
        AssertInsufficientScope(await renewed.GetAsync("v2/private/b/manifests/v1"), "repository:private/b:pull");
    }

    [Fact]
    public async Task Api_tokens_still_work_directly_as_bearer_and_basic()
    {
        using var bearer = _server.CreateClient(_deleteToken);
        Assert.Equal(HttpStatusCode.OK, (await bearer.GetAsync("v2/private/b/manifests/v1")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await bearer.GetAsync("v2/second/a/tags/list")).StatusCode);
        using var basic = new HttpClient { BaseAddress = new Uri(_server.BaseUrl + "/") };
        basic.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes($"x:{_deleteToken}")));
        var blob = "direct"u8.ToArray();
        Assert.Equal(HttpStatusCode.Created, (await basic.PostAsync($"v2/second/a/blobs/uploads/?digest={Sha256(blob)}", new ByteArrayContent(blob))).StatusCode);
    }
}
