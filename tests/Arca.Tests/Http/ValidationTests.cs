using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using Arca.Tests.Infrastructure;

namespace Arca.Tests.Http;

/// <summary>Path traversal and invalid identifiers: 400 with a JSON error, nothing written outside the data dir.</summary>
public sealed class ValidationTests : IAsyncLifetime
{
    private TestServer _s = null!;
    public async Task InitializeAsync() { _s = await TestServer.StartAsync(); await _s.CreateRegistryAsync("files", "GENERIC"); }
    public async Task DisposeAsync() => await _s.DisposeAsync();

    /// <summary>Sends the request target exactly as given (HttpClient would normalize dot segments).</summary>
    private async Task<(int Status, string Body)> RawAsync(string method, string target, string body = "x")
    {
        var uri = new Uri(_s.BaseUrl);
        using var tcp = new TcpClient();
        await tcp.ConnectAsync(uri.Host, uri.Port);
        await using var stream = tcp.GetStream();
        var request = $"{method} {target} HTTP/1.1\r\nHost: {uri.Authority}\r\nAuthorization: Bearer {_s.AdminToken}\r\nContent-Length: {body.Length}\r\nConnection: close\r\n\r\n{body}";
        await stream.WriteAsync(Encoding.ASCII.GetBytes(request));
        var response = await new StreamReader(stream).ReadToEndAsync();
        var status = int.Parse(response.Split(' ')[1]);
        var i = response.IndexOf("\r\n\r\n", StringComparison.Ordinal);
        return (status, i >= 0 ? response[(i + 4)..] : "");
    }

    [Theory]
    [InlineData("/pkg/files/generic/p/1.0/../../../../etc/passwd")]
    [InlineData("/pkg/files/generic/p/1.0/%2e%2e/%2e%2e/x")]
    [InlineData("/pkg/files/generic/p/1.0/%2E%2E%2Fescape")]
    [InlineData("/pkg/files/generic/p/1.0/a/./b")]
    [InlineData("/pkg/files/generic/p/1.0/a\\..\\b")]
    [InlineData("/pkg/files/generic/p/1.0/a%5c..%5cb")]
    [InlineData("/pkg/files/generic/p/1.0//etc/passwd")]
    [InlineData("/pkg/files/generic/p/1.0/a%2fb")]
    [InlineData("/pkg/files/generic/p/1.0/%252e%252e/x")]
    [InlineData("/pkg/files/generic/../1.0/x")]
    [InlineData("/pkg/files/generic/p/%2e%2e/x")]
    public async Task Traversal_attempts_get_400_json_and_write_nothing(string target)
    {
        var (status, body) = await RawAsync("PUT", target);
        Assert.True(status == 400, $"{target}: expected 400, got {status}: {body}");
        if (body.Length > 0 && !body.StartsWith('0'))
        {
            var json = body.Contains('{') ? body[body.IndexOf('{')..body.LastIndexOf('}')] + "}" : body;
            Assert.Contains("error", JsonDocument.Parse(json).RootElement.EnumerateObject().Select(p => p.Name));
        }
        AssertNothingStored();
    }

    [Fact]
    public async Task Nul_in_the_url_is_refused_with_400()
    {
        // Kestrel's HTTP parser refuses a NUL in the request target before the app sees it (400, empty body).
        var (status, _) = await RawAsync("PUT", "/pkg/files/generic/p/1.0/a%00b");
        Assert.Equal(400, status);
        AssertNothingStored();
    }

    private void AssertNothingStored()
    {
        var blobs = Path.Combine(_s.DataDir, "blobs");
        Assert.Empty(Directory.Exists(blobs) ? Directory.GetFiles(blobs, "*", SearchOption.AllDirectories) : []);
        Assert.False(File.Exists("/etc/passwd.arca"), "nothing outside the data dir");
    }

    [Theory]
    [InlineData("pkg/files/generic/-bad/1.0/f")]
    [InlineData("pkg/files/generic/p/ver%20sion/f")]
    [InlineData("pkg/files/generic/p%3Bx/1.0/f")]
    [InlineData("pkg/NOPE/generic/p/1.0/f")]
    public async Task Invalid_identifiers_get_400_json(string path)
    {
        var r = await _s.Admin.PutAsync(path, new StringContent("x"));
        var body = await r.Content.ReadAsStringAsync();
        Assert.True(r.StatusCode == HttpStatusCode.BadRequest, $"{path}: {(int)r.StatusCode} {body}");
        Assert.NotNull(JsonDocument.Parse(body).RootElement.GetProperty("error").GetProperty("code").GetString());
    }

    [Theory]
    [InlineData("""{"identifier":"UPPER","packageType":"GENERIC"}""", "INVALID_IDENTIFIER")]
    [InlineData("""{"identifier":"a","packageType":"GENERIC"}""", "INVALID_IDENTIFIER")]
    [InlineData("""{"identifier":"../x","packageType":"GENERIC"}""", "INVALID_IDENTIFIER")]
    [InlineData("""{"identifier":"ok-name","packageType":"FLOPPY"}""", "INVALID_PACKAGE_TYPE")]
    [InlineData("""{"identifier":"ok-name"}""", "INVALID_PACKAGE_TYPE")]
    [InlineData("""not json""", "INVALID_BODY")]
    [InlineData("""{"identifier":"rpm-local","packageType":"RPM"}""", "UNSUPPORTED_PACKAGE_TYPE")]
    public async Task Invalid_registry_definitions_get_400_with_code(string json, string code)
    {
        var r = await _s.Admin.PostAsync("api/v1/registries", new StringContent(json, Encoding.UTF8, "application/json"));
        var body = await r.Content.ReadAsStringAsync();
        Assert.True(r.StatusCode == HttpStatusCode.BadRequest, body);
        Assert.Equal(code, JsonDocument.Parse(body).RootElement.GetProperty("error").GetProperty("code").GetString());
    }

    [Fact]
    public async Task Unknown_route_is_a_json_404()
    {
        var r = await _s.Admin.GetAsync("api/v1/nothing-here");
        Assert.Equal(HttpStatusCode.NotFound, r.StatusCode);
        Assert.Equal("NOT_FOUND", JsonDocument.Parse(await r.Content.ReadAsStringAsync()).RootElement.GetProperty("error").GetProperty("code").GetString());
    }
}
