using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace Arca.Tests.Infrastructure;

/// <summary>
/// `arca serve` as a separate OS process (the real executable), for what an in-process server cannot show:
/// its own RSS, `kill -9`, restart on the same data directory.
/// </summary>
public sealed class ServerProcess : IAsyncDisposable
{
    private Process? _process;
    public string DataDir { get; }
    public string AdminToken { get; }
    public int Port { get; }
    public string BaseUrl => $"http://127.0.0.1:{Port}";
    public int Pid => _process?.Id ?? throw new InvalidOperationException("not running");
    private readonly System.Text.StringBuilder _log = new();
    public string Log { get { lock (_log) return _log.ToString(); } }

    /// <summary>More `arca serve` arguments (e.g. --blob-store) and environment variables for the process.</summary>
    public List<string> ExtraArgs { get; } = [];
    public Dictionary<string, string> ExtraEnvironment { get; } = [];

    public ServerProcess(string? dataDir = null, int? port = null)
    {
        DataDir = dataDir ?? TempDir.Create("arca-proc");
        AdminToken = "arca_proc_admin_" + Guid.NewGuid().ToString("N");
        Port = port ?? FreePort();
    }

    public static int FreePort()
    {
        var l = new TcpListener(IPAddress.Loopback, 0);
        l.Start();
        var port = ((IPEndPoint)l.LocalEndpoint).Port;
        l.Stop();
        return port;
    }

    public async Task StartAsync()
    {
        var psi = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in new[] { ArcaCli.DllPath, "serve", "--listen", BaseUrl, "--data", DataDir }) psi.ArgumentList.Add(a);
        foreach (var a in ExtraArgs) psi.ArgumentList.Add(a);
        psi.Environment["ARCA_ADMIN_TOKEN"] = AdminToken;
        foreach (var (k, v) in ExtraEnvironment) psi.Environment[k] = v;
        _process = Process.Start(psi)!;
        _process.OutputDataReceived += (_, e) => { if (e.Data is not null) lock (_log) _log.AppendLine(e.Data); };
        _process.ErrorDataReceived += (_, e) => { if (e.Data is not null) lock (_log) _log.AppendLine(e.Data); };
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(2) };
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (DateTime.UtcNow < deadline)
        {
            if (_process.HasExited)
            {
                _process.WaitForExit(); // lets the asynchronous readers take the last lines of its output first
                throw new InvalidOperationException($"arca serve exited {_process.ExitCode}:\n{Log}");
            }
            try
            {
                if ((await http.GetAsync($"{BaseUrl}/healthz")).IsSuccessStatusCode) return;
            }
            catch (HttpRequestException) { }
            catch (TaskCanceledException) { }
            await Task.Delay(100);
        }
        throw new TimeoutException($"arca serve did not become healthy:\n{Log}");
    }

    /// <summary>Resident set size of the server process in bytes (from /proc).</summary>
    public long ReadRssBytes()
    {
        foreach (var line in File.ReadLines($"/proc/{Pid}/status"))
            if (line.StartsWith("VmRSS:", StringComparison.Ordinal))
                return long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1]) * 1024;
        return 0;
    }

    /// <summary>SIGKILL: no shutdown hooks run, like a power cut for the process.</summary>
    public void Kill9()
    {
        if (_process is null || _process.HasExited) return;
        Process.Start("kill", ["-9", _process.Id.ToString()])!.WaitForExit();
        _process.WaitForExit(10_000);
    }

    public HttpClient CreateClient(string? token = null)
    {
        var c = new HttpClient { BaseAddress = new Uri(BaseUrl + "/"), Timeout = TimeSpan.FromMinutes(10) };
        c.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", token ?? AdminToken);
        return c;
    }

    public async ValueTask DisposeAsync()
    {
        if (_process is { HasExited: false })
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync();
        }
        _process?.Dispose();
    }
}
