using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using Arca.Server.Hosting;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Arca.Tests.Infrastructure;

/// <summary>
/// A real Arca server (Kestrel on 127.0.0.1, a free port, a temp data dir) hosted in the test process.
/// Real clients (skopeo, npm, pip...) talk to <see cref="BaseUrl"/> like to any server.
/// </summary>
public sealed class TestServer : IAsyncDisposable
{
    public WebApplication App { get; }
    public string BaseUrl { get; }
    public string DataDir { get; }
    public string AdminToken { get; }
    public HttpClient Admin { get; }
    public HttpClient Anonymous { get; }
    /// <summary>host:port, e.g. for OCI image references.</summary>
    public string HostPort => new Uri(BaseUrl).Authority;

    private TestServer(WebApplication app, string baseUrl, string dataDir, string adminToken)
    {
        App = app; BaseUrl = baseUrl; DataDir = dataDir; AdminToken = adminToken;
        Admin = CreateClient(adminToken);
        Anonymous = CreateClient(null);
    }

    /// <param name="services">Extra service registrations (e.g. a test double of an extension point).</param>
    public static async Task<TestServer> StartAsync(Func<ServerOptions, ServerOptions>? configure = null, Action<IServiceCollection>? services = null)
    {
        var dataDir = TempDir.Create("arca-data");
        var token = "arca_test_admin_" + Guid.NewGuid().ToString("N");
        var options = new ServerOptions
        {
            Listen = "http://127.0.0.1:0", DataDirectory = dataDir, AdminToken = token,
            MinimumLogLevel = Environment.GetEnvironmentVariable("ARCA_TEST_LOGS") == "1" ? LogLevel.Information : LogLevel.Warning,
        };
        if (configure is not null) options = configure(options);
        var app = await ArcaServer.BuildAsync(options, configureServices: services);
        await app.StartAsync();
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        return new TestServer(app, address.TrimEnd('/'), dataDir, token);
    }

    public HttpClient CreateClient(string? token)
    {
        var c = new HttpClient { BaseAddress = new Uri(BaseUrl + "/"), Timeout = TimeSpan.FromMinutes(10) };
        if (token is not null) c.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
        return c;
    }

    /// <summary>Creates a registry through the management API (asserts success).</summary>
    public async Task<JsonElement> CreateRegistryAsync(string name, string packageType, bool isPublic = false, bool allowOverwrite = false)
    {
        var r = await Admin.PostAsJsonAsync("api/v1/registries", new { identifier = name, packageType, @public = isPublic, allowOverwrite });
        var body = await r.Content.ReadAsStringAsync();
        Assert.True(r.IsSuccessStatusCode, $"create registry {name}: {(int)r.StatusCode} {body}");
        return JsonDocument.Parse(body).RootElement.Clone();
    }

    /// <summary>Creates a token and returns its secret. <paramref name="scope"/>: read, write, delete or admin.</summary>
    public async Task<string> CreateTokenAsync(string scope, string? registry = null, string? name = null)
    {
        var r = await Admin.PostAsJsonAsync("api/v1/tokens", new { name = name ?? $"t-{Guid.NewGuid():N}", scope, registry });
        var body = await r.Content.ReadAsStringAsync();
        Assert.True(r.IsSuccessStatusCode, $"create token: {(int)r.StatusCode} {body}");
        return JsonDocument.Parse(body).RootElement.GetProperty("token").GetString()!;
    }

    public async ValueTask DisposeAsync()
    {
        Admin.Dispose();
        Anonymous.Dispose();
        await App.StopAsync();
        await App.DisposeAsync();
        TempDir.TryDelete(DataDir);
    }
}
