using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Arca.Server.Endpoints;
using Arca.Tests.Infrastructure;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;

namespace Arca.Tests.Http.Endpoints;

/// <summary>Test Connection over HTTP: a real docker-registry with htpasswd, redirect safety, the Bearer token flow.</summary>
public sealed class EndpointPingTests : IAsyncLifetime
{
    private const string User = "replicator", Password = "correct-horse-battery";
    private TestServer _server = null!;
    private RegistryProcess _registry = null!;

    public async Task InitializeAsync()
    {
        _server = await TestServer.StartAsync();
        _registry = await RegistryProcess.StartAsync(User, Password);
    }

    public async Task DisposeAsync()
    {
        await _registry.DisposeAsync();
        await _server.DisposeAsync();
    }

    private async Task<JsonElement> PostAsync(string path, object? body, HttpStatusCode expected)
    {
        using var response = await _server.Admin.PostAsync(path, body is null ? null : JsonContent.Create(body));
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == expected, $"{path}: {(int)response.StatusCode} {text}");
        return JsonDocument.Parse(text).RootElement.Clone();
    }

    private static void AssertPing(JsonElement ping, bool reachable, bool authenticated, string code, string? reasonPart = null)
    {
        Assert.True(ping.GetProperty("reachable").GetBoolean() == reachable, ping.ToString());
        Assert.True(ping.GetProperty("authenticated").GetBoolean() == authenticated, ping.ToString());
        Assert.True(ping.GetProperty("code").GetString() == code, ping.ToString());
        Assert.True(ping.GetProperty("durationMs").GetInt64() >= 0);
        if (reasonPart is not null) Assert.Contains(reasonPart, ping.GetProperty("reason").GetString());
    }

    [Fact]
    public async Task Create_pings_and_reports_the_result_without_blocking_creation()
    {
        var good = await PostAsync("api/v1/endpoints", new { name = "reg-good", provider = "docker-registry", url = _registry.Url, username = User, password = Password }, HttpStatusCode.Created);
        AssertPing(good.GetProperty("ping"), true, true, "ok");
        Assert.Equal(200, good.GetProperty("ping").GetProperty("status").GetInt32());
        Assert.Equal($"{_registry.Url}/v2/", good.GetProperty("ping").GetProperty("url").GetString());

        var bad = await PostAsync("api/v1/endpoints", new { name = "reg-bad", provider = "docker-registry", url = _registry.Url, username = User, password = "wrong" }, HttpStatusCode.Created);
        AssertPing(bad.GetProperty("ping"), true, false, "authentication_failed", "authentication failed (401)");
        Assert.True(bad.GetProperty("hasCredentials").GetBoolean());

        var saved = await PostAsync("api/v1/endpoints/reg-good/ping", null, HttpStatusCode.OK);
        AssertPing(saved, true, true, "ok");
        AssertPing(await PostAsync("api/v1/endpoints/reg-bad/ping", null, HttpStatusCode.OK), true, false, "authentication_failed", "(401)");
    }

    [Fact]
    public async Task Unsaved_definitions_can_be_tested_before_saving()
    {
        AssertPing(await PostAsync("api/v1/endpoints/ping", new { provider = "docker-registry", url = _registry.Url, username = User, password = Password }, HttpStatusCode.OK),
            true, true, "ok");
        // Without credentials the 401 still proves the registry is there.
        AssertPing(await PostAsync("api/v1/endpoints/ping", new { provider = "docker-registry", url = _registry.Url }, HttpStatusCode.OK),
            true, false, "no_credentials", "no credentials");
        AssertPing(await PostAsync("api/v1/endpoints/ping", new { provider = "harbor", url = $"http://127.0.0.1:{RegistryProcess.FreePort()}" }, HttpStatusCode.OK),
            false, false, "connection_refused", "connection refused");
        AssertPing(await PostAsync("api/v1/endpoints/ping", new { provider = "quay", url = "https://no-such-host.invalid" }, HttpStatusCode.OK),
            false, false, "dns", "DNS");
        // Nothing was saved.
        var list = JsonDocument.Parse(await _server.Admin.GetStringAsync("api/v1/endpoints")).RootElement;
        Assert.Equal(0, list.GetProperty("items").GetArrayLength());
    }

    [Fact]
    public async Task Open_registry_is_reachable_and_authenticated_with_or_without_credentials()
    {
        await using var open = await RegistryProcess.StartAsync();
        AssertPing(await PostAsync("api/v1/endpoints/ping", new { provider = "docker-registry", url = open.Url }, HttpStatusCode.OK), true, true, "ok");
        var withCredentials = await PostAsync("api/v1/endpoints/ping", new { provider = "docker-registry", url = open.Url, username = "any", password = "thing" }, HttpStatusCode.OK);
        AssertPing(withCredentials, true, true, "ok", "anonymous access");
    }

    [Fact]
    public async Task Credentials_are_never_carried_to_another_host_by_a_redirect()
    {
        await using var elsewhere = await LoopbackHttpServer.StartAsync((ctx, _) => { ctx.Response.StatusCode = 200; return Task.CompletedTask; });
        var expected = "Basic " + Convert.ToBase64String(Encoding.UTF8.GetBytes($"{User}:{Password}"));
        await using var remote = await LoopbackHttpServer.StartAsync((ctx, _) =>
        {
            var auth = ctx.Request.Headers.Authorization.ToString();
            switch (ctx.Request.Path.Value)
            {
                case "/v2/" when auth.Length == 0:
                    ctx.Response.StatusCode = 401;
                    ctx.Response.Headers.WWWAuthenticate = "Basic realm=\"remote\"";
                    break;
                case "/v2/": // authenticated: bounce to the other host
                case "/maven/":
                    ctx.Response.StatusCode = 302;
                    ctx.Response.Headers.Location = $"{elsewhere.BaseUrl}{ctx.Request.Path}";
                    break;
                case "/same/":
                    ctx.Response.StatusCode = 307;
                    ctx.Response.Headers.Location = "/same-moved/";
                    break;
                case "/same-moved/":
                    ctx.Response.StatusCode = auth == expected ? 200 : 401;
                    break;
                case "/loop/":
                    ctx.Response.StatusCode = 302;
                    ctx.Response.Headers.Location = "/loop/";
                    break;
                default:
                    ctx.Response.StatusCode = 404;
                    break;
            }
            return Task.CompletedTask;
        });

        // Saved OCI endpoint: the authenticated retry is redirected away, and is not followed.
        var oci = await PostAsync("api/v1/endpoints", new { name = "bouncer", provider = "docker-registry", url = remote.BaseUrl, username = User, password = Password }, HttpStatusCode.Created);
        AssertPing(oci.GetProperty("ping"), true, false, "redirect_refused", "another host");
        AssertPing(await PostAsync("api/v1/endpoints/bouncer/ping", null, HttpStatusCode.OK), true, false, "redirect_refused", "another host");
        Assert.Contains(remote.Requests, r => r.Path == "/v2/" && r.Authorization == expected);

        // A format that sends Basic up front (maven) is redirected away on the first request: same answer.
        var maven = await PostAsync("api/v1/endpoints", new { name = "bouncer-maven", provider = "maven", url = $"{remote.BaseUrl}/maven/", username = User, password = Password }, HttpStatusCode.Created);
        AssertPing(maven.GetProperty("ping"), true, false, "redirect_refused");
        Assert.Equal(302, maven.GetProperty("ping").GetProperty("status").GetInt32());

        Assert.Empty(elsewhere.Requests); // the other host never saw a request, let alone the credentials

        // Same-origin redirects are followed, credentials included; loops stop after 3 hops.
        var same = await PostAsync("api/v1/endpoints/ping", new { provider = "maven", url = $"{remote.BaseUrl}/same/", username = User, password = Password }, HttpStatusCode.OK);
        AssertPing(same, true, true, "ok");
        var loop = await PostAsync("api/v1/endpoints/ping", new { provider = "maven", url = $"{remote.BaseUrl}/loop/" }, HttpStatusCode.OK);
        AssertPing(loop, true, false, "redirect_refused", "too many redirects");
        Assert.Equal(3, remote.Requests.Count(r => r.Path == "/loop/"));
    }

    [Fact]
    public async Task Oci_bearer_token_flow_authenticates_with_the_realm()
    {
        var basic = "Basic " + Convert.ToBase64String(Encoding.UTF8.GetBytes($"{User}:{Password}"));
        await using var remote = await LoopbackHttpServer.StartAsync(async (ctx, self) =>
        {
            var auth = ctx.Request.Headers.Authorization.ToString();
            if (ctx.Request.Path == "/token")
            {
                if (auth != basic || ctx.Request.Query["service"] != "test-registry" || ctx.Request.Query["account"] != User) { ctx.Response.StatusCode = 401; return; }
                await ctx.Response.WriteAsJsonAsync(new { token = "issued-token-123", expires_in = 300 });
                return;
            }
            if (ctx.Request.Path == "/v2/" && auth == "Bearer issued-token-123") { ctx.Response.StatusCode = 200; return; }
            ctx.Response.StatusCode = 401;
            ctx.Response.Headers.WWWAuthenticate = $"Bearer realm=\"{self.BaseUrl}/token\",service=\"test-registry\"";
        });

        AssertPing(await PostAsync("api/v1/endpoints/ping", new { provider = "harbor", url = remote.BaseUrl, username = User, password = Password }, HttpStatusCode.OK),
            true, true, "ok");
        AssertPing(await PostAsync("api/v1/endpoints/ping", new { provider = "harbor", url = remote.BaseUrl, username = User, password = "nope" }, HttpStatusCode.OK),
            true, false, "authentication_failed", "authentication failed (401)");
        AssertPing(await PostAsync("api/v1/endpoints/ping", new { provider = "harbor", url = remote.BaseUrl }, HttpStatusCode.OK),
            true, false, "no_credentials");
    }
}

/// <summary>Deleting an endpoint that replication rules use answers 409 naming them (via IEndpointReferenceChecker).</summary>
public sealed class EndpointDeleteReferenceTests : IAsyncLifetime
{
    private sealed class FakeRules : IEndpointReferenceChecker
    {
        public Task<IReadOnlyList<string>> GetReferencesAsync(string endpointName, CancellationToken ct) =>
            Task.FromResult<IReadOnlyList<string>>(endpointName == "in-use" ? ["nightly-pull", "mirror-push"] : []);
    }

    private TestServer _server = null!;
    public async Task InitializeAsync() => _server = await TestServer.StartAsync(services: s => s.AddSingleton<IEndpointReferenceChecker, FakeRules>());
    public async Task DisposeAsync() => await _server.DisposeAsync();

    [Fact]
    public async Task Delete_of_a_referenced_endpoint_is_409_naming_the_rules()
    {
        foreach (var name in new[] { "in-use", "unused" })
            Assert.Equal(HttpStatusCode.Created, (await _server.Admin.PostAsJsonAsync("api/v1/endpoints?ping=false",
                new { name, provider = "docker-hub", url = "https://registry-1.docker.io" })).StatusCode);

        using var refused = await _server.Admin.DeleteAsync("api/v1/endpoints/in-use");
        Assert.Equal(HttpStatusCode.Conflict, refused.StatusCode);
        var error = JsonDocument.Parse(await refused.Content.ReadAsStringAsync()).RootElement.GetProperty("error");
        Assert.Equal("ENDPOINT_IN_USE", error.GetProperty("code").GetString());
        Assert.Contains("nightly-pull", error.GetProperty("message").GetString());
        Assert.Contains("mirror-push", error.GetProperty("message").GetString());
        Assert.Equal(HttpStatusCode.OK, (await _server.Admin.GetAsync("api/v1/endpoints/in-use")).StatusCode);

        Assert.Equal(HttpStatusCode.NoContent, (await _server.Admin.DeleteAsync("api/v1/endpoints/unused")).StatusCode);
    }
}

/// <summary>A remote that accepts the connection but never answers is reported as a timeout (after ~10 s).</summary>
public sealed class EndpointPingTimeoutTests : IAsyncLifetime
{
    private TestServer _server = null!;
    public async Task InitializeAsync() => _server = await TestServer.StartAsync();
    public async Task DisposeAsync() => await _server.DisposeAsync();

    [Fact]
    public async Task Silent_remote_times_out()
    {
        var listener = new System.Net.Sockets.TcpListener(IPAddress.Loopback, 0);
        listener.Start(); // the kernel completes handshakes into the backlog; nobody ever reads or answers
        try
        {
            var port = ((IPEndPoint)listener.LocalEndpoint).Port;
            using var response = await _server.Admin.PostAsJsonAsync("api/v1/endpoints/ping", new { provider = "docker-registry", url = $"http://127.0.0.1:{port}" });
            var ping = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            Assert.False(ping.GetProperty("reachable").GetBoolean());
            Assert.Equal("timeout", ping.GetProperty("code").GetString());
            Assert.Contains("timed out", ping.GetProperty("reason").GetString());
            Assert.InRange(ping.GetProperty("durationMs").GetInt64(), 9_000, 30_000);
        }
        finally { listener.Stop(); }
    }
}
