using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using Arca.Tests.Infrastructure;

namespace Arca.Tests.Http;

/// <summary>401 vs 403, token scopes, per-registry tokens, Basic and Bearer, public registries.</summary>
public sealed class AuthTests : IAsyncLifetime
{
    private TestServer _s = null!;
    public async Task InitializeAsync()
    {
        _s = await TestServer.StartAsync();
        await _s.CreateRegistryAsync("reg-a", "GENERIC");
        await _s.CreateRegistryAsync("reg-b", "GENERIC");
        await _s.CreateRegistryAsync("open", "GENERIC", isPublic: true);
        (await _s.Admin.PutAsync("pkg/reg-a/generic/p/1/f.txt", new StringContent("hello"))).EnsureSuccessStatusCode();
        (await _s.Admin.PutAsync("pkg/open/generic/p/1/f.txt", new StringContent("public"))).EnsureSuccessStatusCode();
    }
    public async Task DisposeAsync() => await _s.DisposeAsync();

    private static async Task AssertError(HttpResponseMessage r, HttpStatusCode status, string? code = null)
    {
        var body = await r.Content.ReadAsStringAsync();
        Assert.True(status == r.StatusCode, $"expected {status}, got {(int)r.StatusCode}: {body}");
        if (r.RequestMessage?.Method == HttpMethod.Head) return;
        var error = JsonDocument.Parse(body).RootElement.GetProperty("error");
        Assert.False(string.IsNullOrEmpty(error.GetProperty("message").GetString()));
        if (code is not null) Assert.Equal(code, error.GetProperty("code").GetString());
    }

    [Fact]
    public async Task Anonymous_on_private_registry_gets_401_with_challenge()
    {
        var r = await _s.Anonymous.GetAsync("pkg/reg-a/generic/p/1/f.txt");
        await AssertError(r, HttpStatusCode.Unauthorized, "UNAUTHORIZED");
        Assert.Contains("Basic", r.Headers.WwwAuthenticate.ToString());
        await AssertError(await _s.Anonymous.GetAsync("api/v1/registries/reg-a"), HttpStatusCode.Unauthorized);
        await AssertError(await _s.Anonymous.PostAsync("api/v1/registries", new StringContent("{}", Encoding.UTF8, "application/json")), HttpStatusCode.Unauthorized);
    }

    [Fact]
    public async Task Invalid_token_gets_401_even_on_public_registry()
    {
        using var bad = _s.CreateClient("arca_not_a_real_token");
        await AssertError(await bad.GetAsync("pkg/open/generic/p/1/f.txt"), HttpStatusCode.Unauthorized);
    }

    [Fact]
    public async Task Public_registry_allows_anonymous_read_but_not_write()
    {
        Assert.Equal("public", await _s.Anonymous.GetStringAsync("pkg/open/generic/p/1/f.txt"));
        await AssertError(await _s.Anonymous.PutAsync("pkg/open/generic/p/1/g.txt", new StringContent("x")), HttpStatusCode.Unauthorized);
    }

    [Fact]
    public async Task Read_token_gets_403_on_put_and_delete()
    {
        using var reader = _s.CreateClient(await _s.CreateTokenAsync("read"));
        Assert.Equal("hello", await reader.GetStringAsync("pkg/reg-a/generic/p/1/f.txt"));
        await AssertError(await reader.PutAsync("pkg/reg-a/generic/p/1/g.txt", new StringContent("x")), HttpStatusCode.Forbidden, "FORBIDDEN");
        await AssertError(await reader.DeleteAsync("pkg/reg-a/generic/p/1/f.txt"), HttpStatusCode.Forbidden);
        Assert.Equal(HttpStatusCode.NotFound, (await _s.Admin.GetAsync("pkg/reg-a/generic/p/1/g.txt")).StatusCode);
    }

    [Fact]
    public async Task Write_token_cannot_delete_or_create_registries()
    {
        using var writer = _s.CreateClient(await _s.CreateTokenAsync("write"));
        Assert.Equal(HttpStatusCode.Created, (await writer.PutAsync("pkg/reg-a/generic/p/2/f.txt", new StringContent("x"))).StatusCode);
        await AssertError(await writer.DeleteAsync("pkg/reg-a/generic/p/2/f.txt"), HttpStatusCode.Forbidden);
        await AssertError(await writer.PostAsync("api/v1/registries", new StringContent("""{"identifier":"zz","packageType":"GENERIC"}""", Encoding.UTF8, "application/json")), HttpStatusCode.Forbidden);
    }

    [Fact]
    public async Task Token_for_registry_A_gets_403_on_registry_B()
    {
        var token = await _s.CreateTokenAsync("write", "reg-a");
        using var c = _s.CreateClient(token);
        Assert.Equal(HttpStatusCode.Created, (await c.PutAsync("pkg/reg-a/generic/p/3/f.txt", new StringContent("x"))).StatusCode);
        await AssertError(await c.PutAsync("pkg/reg-b/generic/p/3/f.txt", new StringContent("x")), HttpStatusCode.Forbidden);
        await AssertError(await c.GetAsync("pkg/reg-b/generic/p/1/f.txt"), HttpStatusCode.Forbidden);
        // It sees only its registry (plus public ones) in listings.
        var list = JsonDocument.Parse(await c.GetStringAsync("api/v1/registries")).RootElement.GetProperty("items")
            .EnumerateArray().Select(e => e.GetProperty("identifier").GetString()).ToList();
        Assert.Contains("reg-a", list);
        Assert.Contains("open", list);
        Assert.DoesNotContain("reg-b", list);
    }

    [Fact]
    public async Task Basic_auth_with_token_as_password_and_any_user_works()
    {
        using var c = new HttpClient { BaseAddress = new Uri(_s.BaseUrl + "/") };
        c.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes($"whoever:{_s.AdminToken}")));
        Assert.Equal("hello", await c.GetStringAsync("pkg/reg-a/generic/p/1/f.txt"));
    }

    [Fact]
    public async Task Revoked_and_expired_tokens_stop_working()
    {
        var token = await _s.CreateTokenAsync("read", name: "short");
        using var c = _s.CreateClient(token);
        Assert.Equal(HttpStatusCode.OK, (await c.GetAsync("pkg/reg-a/generic/p/1/f.txt")).StatusCode);
        Assert.Equal(HttpStatusCode.NoContent, (await _s.Admin.DeleteAsync("api/v1/tokens/short")).StatusCode);
        await AssertError(await c.GetAsync("pkg/reg-a/generic/p/1/f.txt"), HttpStatusCode.Unauthorized);
        // Secrets are stored hashed: the token's text is nowhere in the database file.
        var db = await File.ReadAllBytesAsync(Path.Combine(_s.DataDir, "arca.db"));
        Assert.DoesNotContain(token, Encoding.UTF8.GetString(db));
    }

    [Fact]
    public async Task Admin_token_file_is_written_with_mode_0600_when_generated()
    {
        await using var s = await TestServer.StartAsync(o => o with { AdminToken = null });
        var path = Path.Combine(s.DataDir, "admin-token");
        Assert.True(File.Exists(path));
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(path));
        using var c = s.CreateClient((await File.ReadAllTextAsync(path)).Trim());
        Assert.Equal(HttpStatusCode.OK, (await c.GetAsync("api/v1/registries")).StatusCode);
    }
}
