using System.Text.Json;
using Arca.Tests.Http.Endpoints;
using Arca.Tests.Infrastructure;

namespace Arca.Tests.Clients.Endpoints;

/// <summary>Runs `arca endpoint ...` as a process (optionally feeding stdin, for --password-stdin).</summary>
internal static class EndpointCli
{
    public static Task<ProcResult> RunAsync(TestServer server, string[] args, string? stdin = null) =>
        Proc.RunAsync("dotnet", [ArcaCli.DllPath, .. args], env: new Dictionary<string, string?>
        {
            ["ARCA_SERVER"] = server.BaseUrl, ["ARCA_TOKEN"] = server.AdminToken,
            ["ARCA_CONFIG_DIR"] = TempDir.Create("arca-config"), ["NO_COLOR"] = "1",
        }, timeout: TimeSpan.FromMinutes(2), stdin: stdin);
}

/// <summary>`arca endpoint` against Debian's docker-registry with htpasswd auth over plain HTTP.</summary>
public sealed class EndpointCliTests : IAsyncLifetime
{
    private const string User = "mirror", Password = "Pa55-word-for-mirror";
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

    private Task<ProcResult> Arca(params string[] args) => EndpointCli.RunAsync(_server, args);

    [Fact]
    public async Task Ping_reports_reachable_and_authenticated_for_good_credentials()
    {
        var created = (await EndpointCli.RunAsync(_server,
            ["endpoint", "create", "hub-good", "--provider", "docker-registry", "--url", _registry.Url, "--username", User, "--password-stdin"],
            stdin: Password + "\n")).AssertOk("endpoint create");
        Assert.Contains("ok (reachable, authenticated)", created.Stdout);
        Assert.DoesNotContain(Password, created.All);

        var ping = (await Arca("endpoint", "ping", "hub-good")).AssertOk("endpoint ping");
        Assert.Contains("Reachable", ping.Stdout);
        Assert.DoesNotContain("no", ping.Stdout.Split('\n').Single(l => l.Contains("Authenticated")));

        var json = (await Arca("--format", "json", "endpoint", "ping", "hub-good")).AssertOk("endpoint ping json");
        var result = JsonDocument.Parse(json.Stdout).RootElement;
        Assert.True(result.GetProperty("reachable").GetBoolean());
        Assert.True(result.GetProperty("authenticated").GetBoolean());
        Assert.Equal(200, result.GetProperty("status").GetInt32());
    }

    [Fact]
    public async Task Ping_reports_an_authentication_failure_for_bad_credentials()
    {
        var created = (await Arca("endpoint", "create", "hub-bad", "--provider", "docker-registry", "--url", _registry.Url,
            "--username", User, "--password", "not-the-password")).AssertOk("endpoint create (a failed ping does not block creation)");
        Assert.Contains("authentication failed (401)", created.Stderr);

        var ping = await Arca("endpoint", "ping", "hub-bad");
        Assert.Equal(1, ping.ExitCode);
        Assert.Contains("error: authentication failed (401)", ping.Stderr);

        // Test before saving: the same answers for an unsaved definition.
        var unsavedBad = await Arca("endpoint", "ping", "--provider", "docker-registry", "--url", _registry.Url, "--username", User, "--password", "nope");
        Assert.Equal(1, unsavedBad.ExitCode);
        Assert.Contains("authentication failed (401)", unsavedBad.Stderr);
        (await EndpointCli.RunAsync(_server, ["endpoint", "ping", "--provider", "docker-registry", "--url", _registry.Url, "--username", User, "--password-stdin"],
            stdin: Password)).AssertOk("unsaved ping with good credentials");

        // No credentials at all: reachable, but not authenticated.
        (await Arca("endpoint", "create", "hub-anon", "--provider", "docker-registry", "--url", _registry.Url, "--no-ping")).AssertOk("create anon");
        var anon = await Arca("endpoint", "ping", "hub-anon");
        Assert.Equal(1, anon.ExitCode);
        Assert.Contains("no credentials", anon.Stderr);
    }

    [Fact]
    public async Task Ping_reports_a_network_error_for_a_closed_port()
    {
        var closed = $"http://127.0.0.1:{RegistryProcess.FreePort()}";
        var created = (await Arca("endpoint", "create", "closed", "--provider", "docker-registry", "--url", closed, "--no-ping")).AssertOk("create --no-ping");
        Assert.DoesNotContain("warning", created.Stderr);
        var ping = await Arca("endpoint", "ping", "closed");
        Assert.Equal(1, ping.ExitCode);
        Assert.Contains("connection refused", ping.Stderr);
        var json = await Arca("--format", "json", "endpoint", "ping", "closed");
        Assert.Equal(1, json.ExitCode);
        var result = JsonDocument.Parse(json.Stdout).RootElement;
        Assert.False(result.GetProperty("reachable").GetBoolean());
        Assert.Equal("connection_refused", result.GetProperty("code").GetString());
    }

    [Fact]
    public async Task List_get_update_delete_round_trip_without_revealing_the_password()
    {
        (await Arca("endpoint", "create", "crud", "--provider", "docker-registry", "--url", _registry.Url, "--username", User,
            "--password", Password, "--description", "round trip", "--no-ping")).AssertOk("create");

        var table = (await Arca("endpoint", "list")).AssertOk("list");
        Assert.Contains("crud", table.Stdout);
        var list = (await Arca("--format", "json", "endpoint", "list")).AssertOk("list json");
        var listed = JsonDocument.Parse(list.Stdout).RootElement.GetProperty("items").EnumerateArray().Single(x => x.GetProperty("name").GetString() == "crud");
        Assert.Equal("round trip", listed.GetProperty("description").GetString());
        Assert.DoesNotContain(Password, list.Stdout);

        var get = (await Arca("--format", "json", "endpoint", "get", "crud")).AssertOk("get");
        Assert.DoesNotContain(Password, get.Stdout);
        var e = JsonDocument.Parse(get.Stdout).RootElement;
        Assert.True(e.GetProperty("hasCredentials").GetBoolean());
        Assert.Equal(User, e.GetProperty("username").GetString());
        Assert.True(e.GetProperty("verifyRemoteCert").GetBoolean());

        var yaml = (await Arca("--format", "yaml", "endpoint", "get", "crud")).AssertOk("get yaml");
        Assert.Contains("hasCredentials: true", yaml.Stdout);

        // Pointing it elsewhere drops the credentials (they were entered for the old URL).
        var moved = (await Arca("--format", "json", "endpoint", "update", "crud", "--url", "http://127.0.0.1:9/", "--no-verify-cert")).AssertOk("update");
        var m = JsonDocument.Parse(moved.Stdout).RootElement;
        Assert.False(m.GetProperty("hasCredentials").GetBoolean());
        Assert.False(m.GetProperty("verifyRemoteCert").GetBoolean());
        Assert.Contains("credentials were dropped", moved.Stderr);

        (await Arca("endpoint", "update", "crud", "--url", _registry.Url, "--username", User, "--password", Password)).AssertOk("update with creds");
        (await Arca("endpoint", "ping", "crud")).AssertOk("ping after update");

        var badProvider = await Arca("endpoint", "create", "nope", "--provider", "svn", "--url", _registry.Url);
        Assert.NotEqual(0, badProvider.ExitCode);
        Assert.Contains("unknown provider", badProvider.Stderr);

        (await Arca("endpoint", "delete", "crud")).AssertOk("delete");
        var gone = await Arca("endpoint", "get", "crud");
        Assert.Equal(4, gone.ExitCode);
        Assert.Contains("not found", gone.Stderr);
    }
}

/// <summary>`arca endpoint ping` against a docker-registry serving HTTPS with a self-signed certificate.</summary>
public sealed class EndpointCliTlsTests : IAsyncLifetime
{
    private const string User = "tls-user", Password = "tls-pass-123";
    private TestServer _server = null!;
    private RegistryProcess _registry = null!;

    public async Task InitializeAsync()
    {
        _server = await TestServer.StartAsync();
        _registry = await RegistryProcess.StartAsync(User, Password, tls: true);
    }

    public async Task DisposeAsync()
    {
        await _registry.DisposeAsync();
        await _server.DisposeAsync();
    }

    [Fact]
    public async Task Self_signed_certificate_is_a_tls_error_unless_verification_is_off()
    {
        Assert.StartsWith("https://", _registry.Url);
        (await EndpointCli.RunAsync(_server, ["endpoint", "create", "tls-strict", "--provider", "docker-registry", "--url", _registry.Url,
            "--username", User, "--password", Password, "--no-ping"])).AssertOk("create strict");
        var strict = await EndpointCli.RunAsync(_server, ["endpoint", "ping", "tls-strict"]);
        Assert.Equal(1, strict.ExitCode);
        Assert.Contains("TLS error", strict.Stderr);
        Assert.Contains("not trusted", strict.Stderr);

        var lax = (await EndpointCli.RunAsync(_server, ["endpoint", "create", "tls-lax", "--provider", "docker-registry", "--url", _registry.Url,
            "--username", User, "--password", Password, "--no-verify-cert"])).AssertOk("create lax");
        Assert.Contains("ok (reachable, authenticated)", lax.Stdout);
        (await EndpointCli.RunAsync(_server, ["endpoint", "ping", "tls-lax"])).AssertOk("ping lax");

        // Bad credentials over TLS are an authentication failure, not a TLS error.
        (await EndpointCli.RunAsync(_server, ["endpoint", "update", "tls-lax", "--password", "wrong"])).AssertOk("update password");
        var wrong = await EndpointCli.RunAsync(_server, ["endpoint", "ping", "tls-lax"]);
        Assert.Equal(1, wrong.ExitCode);
        Assert.Contains("authentication failed (401)", wrong.Stderr);
    }
}
