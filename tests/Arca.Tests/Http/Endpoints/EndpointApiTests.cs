using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Arca.Tests.Infrastructure;

namespace Arca.Tests.Http.Endpoints;

/// <summary>The /api/v1/endpoints management API: validation, secrecy of credentials, URL/credential binding, deletion.</summary>
public sealed class EndpointApiTests : IAsyncLifetime
{
    private TestServer _server = null!;
    public async Task InitializeAsync() => _server = await TestServer.StartAsync();
    public async Task DisposeAsync() => await _server.DisposeAsync();

    private static string NewSecret() => "S3cret-" + Guid.NewGuid().ToString("N");

    private async Task<(HttpStatusCode Status, string Body)> SendAsync(HttpMethod method, string path, object? body = null, HttpClient? client = null)
    {
        using var request = new HttpRequestMessage(method, path);
        if (body is not null) request.Content = JsonContent.Create(body);
        using var response = await (client ?? _server.Admin).SendAsync(request);
        return (response.StatusCode, await response.Content.ReadAsStringAsync());
    }

    private static JsonElement Json(string body) => JsonDocument.Parse(body).RootElement.Clone();

    [Fact]
    public async Task Credentials_are_never_returned_and_never_stored_in_clear_text()
    {
        var password = NewSecret();
        var (status, body) = await SendAsync(HttpMethod.Post, "api/v1/endpoints?ping=false", new
        {
            name = "remote-one", provider = "docker-registry", url = "http://127.0.0.1:1", username = "alice", password, description = "test remote",
        });
        Assert.Equal(HttpStatusCode.Created, status);
        var created = Json(body);
        Assert.True(created.GetProperty("hasCredentials").GetBoolean());
        Assert.Equal("alice", created.GetProperty("username").GetString());
        Assert.Equal("docker-registry", created.GetProperty("provider").GetString());
        Assert.False(created.TryGetProperty("ping", out _)); // ?ping=false
        Assert.DoesNotContain(password, body);

        foreach (var path in new[] { "api/v1/endpoints", "api/v1/endpoints/remote-one" })
        {
            var (s, b) = await SendAsync(HttpMethod.Get, path);
            Assert.Equal(HttpStatusCode.OK, s);
            Assert.Contains("\"hasCredentials\":true", b);
            Assert.DoesNotContain(password, b);
        }
        var (patchStatus, patched) = await SendAsync(HttpMethod.Patch, "api/v1/endpoints/remote-one", new { description = "changed" });
        Assert.Equal(HttpStatusCode.OK, patchStatus);
        Assert.DoesNotContain(password, patched);
        var (_, pinged) = await SendAsync(HttpMethod.Post, "api/v1/endpoints/remote-one/ping");
        Assert.DoesNotContain(password, pinged);

        // Neither the database nor its WAL holds the password (or its base64 form) in clear text.
        var needles = new[] { Encoding.UTF8.GetBytes(password), Encoding.UTF8.GetBytes(Convert.ToBase64String(Encoding.UTF8.GetBytes(password))),
            Encoding.Unicode.GetBytes(password) };
        var dbFiles = Directory.GetFiles(_server.DataDir, "arca.db*");
        Assert.Contains(dbFiles, f => f.EndsWith("arca.db", StringComparison.Ordinal));
        foreach (var file in dbFiles)
        {
            var bytes = await File.ReadAllBytesAsync(file);
            foreach (var needle in needles)
                Assert.True(bytes.AsSpan().IndexOf(needle) < 0, $"{Path.GetFileName(file)} contains the password in clear text");
        }
        // ... but it does hold the username and an encrypted secret, and the key is private to the server's user.
        var db = await File.ReadAllBytesAsync(Path.Combine(_server.DataDir, "arca.db"));
        var wal = File.Exists(Path.Combine(_server.DataDir, "arca.db-wal")) ? await File.ReadAllBytesAsync(Path.Combine(_server.DataDir, "arca.db-wal")) : [];
        Assert.True(db.AsSpan().IndexOf("v1:"u8) >= 0 || wal.AsSpan().IndexOf("v1:"u8) >= 0, "no encrypted secret stored");
        var keyFile = Path.Combine(_server.DataDir, "endpoint-key");
        Assert.True(File.Exists(keyFile));
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(keyFile));
    }

    [Theory]
    [InlineData("bad-provider", "artifactory-x", "http://127.0.0.1:5000", "INVALID_PROVIDER")]
    [InlineData("bad-url-1", "docker-registry", "not a url", "INVALID_URL")]
    [InlineData("bad-url-2", "docker-registry", "ftp://127.0.0.1/x", "INVALID_URL")]
    [InlineData("bad-url-3", "docker-registry", "/relative/path", "INVALID_URL")]
    [InlineData("bad-url-4", "docker-registry", "http://user:pw@127.0.0.1:5000", "INVALID_URL")]
    [InlineData("bad-url-5", "npm", "", "INVALID_URL")]
    [InlineData("Bad_Name!", "docker-registry", "http://127.0.0.1:5000", "INVALID_IDENTIFIER")]
    [InlineData("x", "docker-registry", "http://127.0.0.1:5000", "INVALID_IDENTIFIER")]
    public async Task Invalid_definitions_are_rejected_with_a_json_error(string name, string provider, string url, string code)
    {
        var (status, body) = await SendAsync(HttpMethod.Post, "api/v1/endpoints", new { name, provider, url });
        Assert.Equal(HttpStatusCode.BadRequest, status);
        var error = Json(body).GetProperty("error");
        Assert.Equal(code, error.GetProperty("code").GetString());
        Assert.False(string.IsNullOrWhiteSpace(error.GetProperty("message").GetString()));
        var (getStatus, _) = await SendAsync(HttpMethod.Get, $"api/v1/endpoints/{Uri.EscapeDataString(name)}");
        Assert.Equal(HttpStatusCode.NotFound, getStatus);
    }

    [Fact]
    public async Task Unsaved_ping_validates_like_create()
    {
        var (status, body) = await SendAsync(HttpMethod.Post, "api/v1/endpoints/ping", new { provider = "svn", url = "http://127.0.0.1:1" });
        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Equal("INVALID_PROVIDER", Json(body).GetProperty("error").GetProperty("code").GetString());
    }

    [Fact]
    public async Task Username_without_password_and_malformed_json_are_400()
    {
        var (s1, b1) = await SendAsync(HttpMethod.Post, "api/v1/endpoints", new { name = "half-creds", provider = "npm", url = "http://127.0.0.1:1", username = "bob" });
        Assert.Equal(HttpStatusCode.BadRequest, s1);
        Assert.Equal("INVALID_CREDENTIALS", Json(b1).GetProperty("error").GetProperty("code").GetString());
        using var bad = await _server.Admin.PostAsync("api/v1/endpoints", new StringContent("{not json", Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);
        Assert.Equal("INVALID_BODY", Json(await bad.Content.ReadAsStringAsync()).GetProperty("error").GetProperty("code").GetString());
    }

    [Fact]
    public async Task Duplicate_name_is_409_and_delete_is_204()
    {
        var def = new { name = "dup", provider = "maven", url = "http://127.0.0.1:1/maven2" };
        Assert.Equal(HttpStatusCode.Created, (await SendAsync(HttpMethod.Post, "api/v1/endpoints?ping=false", def)).Status);
        var (s, b) = await SendAsync(HttpMethod.Post, "api/v1/endpoints?ping=false", def);
        Assert.Equal(HttpStatusCode.Conflict, s);
        Assert.Equal("ALREADY_EXISTS", Json(b).GetProperty("error").GetProperty("code").GetString());

        Assert.Equal(HttpStatusCode.NoContent, (await SendAsync(HttpMethod.Delete, "api/v1/endpoints/dup")).Status);
        Assert.Equal(HttpStatusCode.NotFound, (await SendAsync(HttpMethod.Get, "api/v1/endpoints/dup")).Status);
        Assert.Equal(HttpStatusCode.NotFound, (await SendAsync(HttpMethod.Delete, "api/v1/endpoints/dup")).Status);
    }

    [Fact]
    public async Task Scopes_read_lists_admin_changes()
    {
        Assert.Equal(HttpStatusCode.Created, (await SendAsync(HttpMethod.Post, "api/v1/endpoints?ping=false",
            new { name = "scoped", provider = "pypi", url = "http://127.0.0.1:1/" })).Status);
        using var reader = _server.CreateClient(await _server.CreateTokenAsync("read"));
        using var writer = _server.CreateClient(await _server.CreateTokenAsync("write"));
        Assert.Equal(HttpStatusCode.OK, (await SendAsync(HttpMethod.Get, "api/v1/endpoints", client: reader)).Status);
        Assert.Equal(HttpStatusCode.OK, (await SendAsync(HttpMethod.Get, "api/v1/endpoints/scoped", client: reader)).Status);
        Assert.Equal(HttpStatusCode.Forbidden, (await SendAsync(HttpMethod.Post, "api/v1/endpoints",
            new { name = "nope", provider = "pypi", url = "http://127.0.0.1:1/" }, reader)).Status);
        Assert.Equal(HttpStatusCode.Forbidden, (await SendAsync(HttpMethod.Patch, "api/v1/endpoints/scoped", new { description = "x" }, writer)).Status);
        Assert.Equal(HttpStatusCode.Forbidden, (await SendAsync(HttpMethod.Delete, "api/v1/endpoints/scoped", client: writer)).Status);
        Assert.Equal(HttpStatusCode.Forbidden, (await SendAsync(HttpMethod.Post, "api/v1/endpoints/ping",
            new { provider = "pypi", url = "http://127.0.0.1:1/" }, writer)).Status);
        Assert.Equal(HttpStatusCode.Forbidden, (await SendAsync(HttpMethod.Post, "api/v1/endpoints/scoped/ping", client: reader)).Status);
        Assert.Equal(HttpStatusCode.Unauthorized, (await SendAsync(HttpMethod.Get, "api/v1/endpoints", client: _server.Anonymous)).Status);
    }

    [Fact]
    public async Task Changing_the_url_drops_stored_credentials_unless_new_ones_are_given()
    {
        Assert.Equal(HttpStatusCode.Created, (await SendAsync(HttpMethod.Post, "api/v1/endpoints?ping=false",
            new { name = "moving", provider = "npm", url = "http://127.0.0.1:1/npm/", username = "u1", password = NewSecret() })).Status);

        // Same URL: changing other fields keeps the credentials.
        var kept = Json((await SendAsync(HttpMethod.Patch, "api/v1/endpoints/moving", new { description = "d", verifyRemoteCert = false })).Body);
        Assert.True(kept.GetProperty("hasCredentials").GetBoolean());
        Assert.False(kept.GetProperty("verifyRemoteCert").GetBoolean());
        Assert.Equal("u1", kept.GetProperty("username").GetString());

        // New URL without new credentials: they are dropped, so they can never be sent to the new host.
        var moved = Json((await SendAsync(HttpMethod.Patch, "api/v1/endpoints/moving", new { url = "http://127.0.0.2:1/npm/" })).Body);
        Assert.False(moved.GetProperty("hasCredentials").GetBoolean());
        Assert.False(moved.TryGetProperty("username", out _));
        Assert.Equal("http://127.0.0.2:1/npm/", moved.GetProperty("url").GetString());

        // A username alone cannot be attached to a new URL.
        var (s, b) = await SendAsync(HttpMethod.Patch, "api/v1/endpoints/moving", new { url = "http://127.0.0.3:1/npm/", username = "u2" });
        Assert.Equal(HttpStatusCode.BadRequest, s);
        Assert.Equal("INVALID_CREDENTIALS", Json(b).GetProperty("error").GetProperty("code").GetString());

        // New URL with new credentials keeps them.
        var both = Json((await SendAsync(HttpMethod.Patch, "api/v1/endpoints/moving",
            new { url = "http://127.0.0.3:1/npm/", username = "u2", password = NewSecret() })).Body);
        Assert.True(both.GetProperty("hasCredentials").GetBoolean());
        Assert.Equal("u2", both.GetProperty("username").GetString());

        var cleared = Json((await SendAsync(HttpMethod.Patch, "api/v1/endpoints/moving", new { clearCredentials = true })).Body);
        Assert.False(cleared.GetProperty("hasCredentials").GetBoolean());

        var (badStatus, badBody) = await SendAsync(HttpMethod.Patch, "api/v1/endpoints/moving", new { url = "gopher://x" });
        Assert.Equal(HttpStatusCode.BadRequest, badStatus);
        Assert.Equal("INVALID_URL", Json(badBody).GetProperty("error").GetProperty("code").GetString());
    }
}
