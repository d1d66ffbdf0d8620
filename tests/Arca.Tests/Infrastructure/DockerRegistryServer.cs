using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.RegularExpressions;

namespace Arca.Tests.Infrastructure;

/// <summary>
/// A real Debian `docker-registry` (CNCF distribution 2.8) on 127.0.0.1, a free port and a temp storage dir, optionally
/// behind htpasswd Basic auth. Its request log is captured, so tests can count what clients really sent.
/// No referrers API (2.8 predates it): referrers live under tag-schema fallback tags there.
/// </summary>
public sealed partial class DockerRegistryServer : IAsyncDisposable
{
    private Process _process;
    private readonly StringBuilder _log = new();
    public string Dir { get; }
    public int Port { get; }
    /// <summary>host:port for image references.</summary>
    public string HostPort => $"127.0.0.1:{Port}";
    public bool Tls { get; }
    public string BaseUrl => $"{(Tls ? "https" : "http")}://{HostPort}";
    public string? Username { get; }
    public string? Password { get; }

    private DockerRegistryServer(Process process, string dir, int port, string? username, string? password, bool tls)
    {
        _process = process; Dir = dir; Port = port; Username = username; Password = password; Tls = tls;
    }

    /// <param name="username">With a user name, the registry requires Basic auth (htpasswd, bcrypt).</param>
    /// <param name="tls">Serve HTTPS with a fresh self-signed certificate (SAN IP:127.0.0.1).</param>
    public static async Task<DockerRegistryServer> StartAsync(string? username = null, string? password = null, bool tls = false)
    {
        var binary = Proc.Tool("docker-registry");
        var dir = TempDir.Create("docker-registry");
        var storage = Path.Combine(dir, "storage");
        Directory.CreateDirectory(storage);
        var auth = "";
        if (username is not null)
        {
            var htpasswd = Path.Combine(dir, "htpasswd");
            (await Proc.RunAsync(Proc.Tool("htpasswd"), ["-Bbc", htpasswd, username, password ?? ""])).AssertOk("htpasswd");
            auth = $"auth:\n  htpasswd:\n    realm: test-registry\n    path: {htpasswd}\n";
        }
        var tlsConfig = "";
        if (tls)
        {
            var cert = Path.Combine(dir, "cert.pem");
            var key = Path.Combine(dir, "key.pem");
            (await Proc.RunAsync(Proc.Tool("openssl"), ["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=127.0.0.1",
                "-addext", "subjectAltName=IP:127.0.0.1", "-keyout", key, "-out", cert])).AssertOk("openssl self-signed certificate");
            tlsConfig = $"  tls:\n    certificate: {cert}\n    key: {key}\n";
        }
        for (var attempt = 0; ; attempt++)
        {
            var port = FreePort();
            var config = Path.Combine(dir, "config.yml");
            await File.WriteAllTextAsync(config,
                "version: 0.1\n" +
                "log:\n  level: info\n  formatter: text\n  accesslog:\n    disabled: true\n" +
                $"storage:\n  filesystem:\n    rootdirectory: {storage}\n  delete:\n    enabled: true\n" +
                $"http:\n  addr: 127.0.0.1:{port}\n  secret: test-secret\n" + tlsConfig + auth);
            var server = new DockerRegistryServer(null!, dir, port, username, password, tls);
            server._process = server.Launch(binary, config);
            if (await server.WaitReadyAsync()) return server;
            var log = server.Log;
            await server.DisposeAsync(keepDir: true);
            if (attempt >= 2) throw new InvalidOperationException($"docker-registry did not start:\n{log}");
        }
    }

    private Process Launch(string binary, string config)
    {
        var psi = new ProcessStartInfo(binary) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        psi.ArgumentList.Add("serve");
        psi.ArgumentList.Add(config);
        psi.Environment["OTEL_TRACES_EXPORTER"] = "none";
        var process = Process.Start(psi)!;
        process.OutputDataReceived += (_, e) => Append(e.Data);
        process.ErrorDataReceived += (_, e) => Append(e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return process;
    }

    /// <summary>Kills the registry abruptly (SIGKILL), e.g. to make a client fail mid-transfer. Storage is kept.</summary>
    public async Task KillAsync()
    {
        if (_process.HasExited) return;
        _process.Kill(entireProcessTree: true);
        await _process.WaitForExitAsync();
    }

    /// <summary>Starts the registry again on the same port with the same storage and config, after <see cref="KillAsync"/>.</summary>
    public async Task RestartAsync()
    {
        await KillAsync();
        _process.Dispose();
        _process = Launch(Proc.Tool("docker-registry"), Path.Combine(Dir, "config.yml"));
        if (!await WaitReadyAsync()) throw new InvalidOperationException($"docker-registry did not restart on port {Port}:\n{Log}");
    }

    private void Append(string? line)
    {
        if (line is null) return;
        lock (_log) _log.AppendLine(line);
    }

    public string Log { get { lock (_log) return _log.ToString(); } }

    private async Task<bool> WaitReadyAsync()
    {
        using var handler = new HttpClientHandler { ServerCertificateCustomValidationCallback = (_, _, _, _) => true };
        using var http = new HttpClient(handler) { Timeout = TimeSpan.FromSeconds(2) };
        for (var i = 0; i < 100; i++)
        {
            if (_process.HasExited) return false;
            try
            {
                using var r = await http.GetAsync($"{BaseUrl}/v2/");
                if (r.StatusCode is HttpStatusCode.OK or HttpStatusCode.Unauthorized) return true;
            }
            catch (HttpRequestException) { }
            catch (TaskCanceledException) { }
            await Task.Delay(100);
        }
        return false;
    }

    [GeneratedRegex("http\\.request\\.method=(\\S+) .*?http\\.request\\.uri=(\"[^\"]*\"|\\S+)")]
    private static partial Regex RequestLine();

    /// <summary>Requests the registry logged as completed ("response completed"): (method, uri).</summary>
    public IReadOnlyList<(string Method, string Uri)> Requests() =>
        Log.Split('\n')
            .Where(l => l.Contains("response completed", StringComparison.Ordinal))
            .Select(l => RequestLine().Match(l))
            .Where(m => m.Success)
            .Select(m => (m.Groups[1].Value, m.Groups[2].Value.Trim('"')))
            .ToList();

    /// <summary>Blob uploads the registry received (POST/PATCH/PUT under /blobs/uploads/ that are not mounts).</summary>
    public int BlobUploadRequestCount() =>
        Requests().Count(r => r.Uri.Contains("/blobs/uploads/", StringComparison.Ordinal) && r.Method is "PUT" or "PATCH");

    /// <summary>Forgets the log so far (e.g. before a re-run whose requests are counted).</summary>
    public void ClearLog() { lock (_log) _log.Clear(); }

    public static int FreePort()
    {
        var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        return port;
    }

    public ValueTask DisposeAsync() => DisposeAsync(keepDir: false);

    private async ValueTask DisposeAsync(bool keepDir)
    {
        try
        {
            if (!_process.HasExited)
            {
                _process.Kill(entireProcessTree: true);
                await _process.WaitForExitAsync();
            }
        }
        catch (InvalidOperationException) { }
        _process.Dispose();
        if (!keepDir) TempDir.TryDelete(Dir);
    }
}
