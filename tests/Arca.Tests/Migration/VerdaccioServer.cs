using System.Diagnostics;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Arca.Tests.Infrastructure;

namespace Arca.Tests.Migration;

/// <summary>A background process (verdaccio) on a free loopback port, killed on dispose.</summary>
public abstract class BackgroundServer : IAsyncDisposable
{
    private Process? _process;
    private readonly StringBuilder _log = new();
    public int Port { get; } = DockerRegistryServer.FreePort();
    public string BaseUrl => $"http://127.0.0.1:{Port}";
    public string Log { get { lock (_log) return _log.ToString(); } }

    protected async Task StartAsync(string file, IEnumerable<string> args, string workDir, string readyPath)
    {
        var psi = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false, WorkingDirectory = workDir };
        foreach (var a in args) psi.ArgumentList.Add(a);
        _process = Process.Start(psi)!;
        _process.OutputDataReceived += (_, e) => { if (e.Data is not null) lock (_log) _log.AppendLine(e.Data); };
        _process.ErrorDataReceived += (_, e) => { if (e.Data is not null) lock (_log) _log.AppendLine(e.Data); };
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(5) };
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (true)
        {
            Assert.False(_process.HasExited, $"{file} exited: {Log}");
            try { if ((await http.GetAsync(BaseUrl + readyPath)).IsSuccessStatusCode) return; }
            catch (HttpRequestException) { }
            catch (TaskCanceledException) { }
            Assert.True(DateTime.UtcNow < deadline, $"{file} did not start: {Log}");
            await Task.Delay(200);
        }
    }

    public virtual async ValueTask DisposeAsync()
    {
        if (_process is { HasExited: false })
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync();
        }
        _process?.Dispose();
    }
}

/// <summary>verdaccio 6.8 (from scripts/node-tools) with local storage only, and a user to publish as.</summary>
public sealed class VerdaccioServer : BackgroundServer
{
    private readonly string _dir = TempDir.Create("verdaccio");
    public string Token { get; private set; } = "";

    public static async Task<VerdaccioServer> StartAsync()
    {
        var server = new VerdaccioServer();
        File.WriteAllText(Path.Combine(server._dir, "config.yaml"), $"""
            storage: {server._dir}/storage
            listen: 127.0.0.1:{server.Port}
            uplinks: {"{}"}
            auth:
              htpasswd:
                file: {server._dir}/htpasswd
                max_users: 10
            packages:
              '@*/*':
                access: $all
                publish: $authenticated
              '**':
                access: $all
                publish: $authenticated
            log: {"{"} type: stdout, format: pretty, level: warn {"}"}
            """);
        await server.StartAsync(Proc.Tool("verdaccio"), ["--config", Path.Combine(server._dir, "config.yaml")], server._dir, "/-/ping");
        using var http = new HttpClient();
        var created = await http.PutAsJsonAsync($"{server.BaseUrl}/-/user/org.couchdb.user:publisher", new { name = "publisher", password = "publisher-secret" });
        Assert.True(created.IsSuccessStatusCode, await created.Content.ReadAsStringAsync());
        server.Token = JsonDocument.Parse(await created.Content.ReadAsStringAsync()).RootElement.GetProperty("token").GetString()!;
        return server;
    }

    /// <summary>Where verdaccio keeps a package's tarballs.</summary>
    public string StorageDir(string package) => Path.Combine(_dir, "storage", package);

    public override async ValueTask DisposeAsync()
    {
        await base.DisposeAsync();
        TempDir.TryDelete(_dir);
    }
}

/// <summary>Runs `arca registry migrate` (see <see cref="MigrateCli"/>), requires success, returns the per-mapping summaries.</summary>
public static class MigrateCliExtensions
{
    public static async Task<JsonElement[]> MigrateOkAsync(this TestServer dest, string config, string workDir, params string[] args)
    {
        var r = (await MigrateCli.RunAsync(config, dest.AdminToken, workDir, args)).AssertOk("arca registry migrate");
        return JsonDocument.Parse(r.Stdout).RootElement.GetProperty("mappings").EnumerateArray().ToArray();
    }
}
