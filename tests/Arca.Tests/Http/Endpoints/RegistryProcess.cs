using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;
using Arca.Tests.Infrastructure;

namespace Arca.Tests.Http.Endpoints;

/// <summary>
/// Debian's docker-registry (CNCF distribution 2.8) on a free 127.0.0.1 port, as the remote an endpoint points at:
/// optionally with htpasswd Basic auth and/or TLS with a freshly made self-signed certificate (SAN IP:127.0.0.1).
/// </summary>
public sealed class RegistryProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly string _dir;
    private readonly StringBuilder _log;

    public string Url { get; }
    public int Port { get; }
    /// <summary>The self-signed certificate (PEM) when TLS is on.</summary>
    public string? CertificatePath { get; }

    private RegistryProcess(Process process, string dir, StringBuilder log, string url, int port, string? certificatePath)
    {
        _process = process; _dir = dir; _log = log; Url = url; Port = port; CertificatePath = certificatePath;
    }

    public static async Task<RegistryProcess> StartAsync(string? username = null, string? password = null, bool tls = false)
    {
        // The free port may be taken by someone else before docker-registry binds it: then try another one.
        for (var attempt = 1; ; attempt++)
        {
            try { return await StartOnceAsync(username, password, tls); }
            catch (RegistryStartException) when (attempt < 3) { }
        }
    }

    private sealed class RegistryStartException(string message) : Exception(message);

    private static async Task<RegistryProcess> StartOnceAsync(string? username, string? password, bool tls)
    {
        var registry = Proc.Tool("docker-registry");
        var dir = TempDir.Create("docker-registry");
        var port = FreePort();
        var config = new StringBuilder($"""
            version: 0.1
            log:
              level: warn
              accesslog:
                disabled: true
            storage:
              filesystem:
                rootdirectory: {Path.Combine(dir, "data")}
              delete:
                enabled: true
            http:
              addr: 127.0.0.1:{port}
              secret: arca-test-secret

            """);
        string? certificate = null;
        if (tls)
        {
            certificate = Path.Combine(dir, "cert.pem");
            var key = Path.Combine(dir, "key.pem");
            (await Proc.RunAsync(Proc.Tool("openssl"), ["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out", certificate,
                "-days", "2", "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1"])).AssertOk("openssl req");
            config.Append($"""
                  tls:
                    certificate: {certificate}
                    key: {key}

                """);
        }
        if (username is not null)
        {
            var htpasswd = Path.Combine(dir, "htpasswd");
            (await Proc.RunAsync(Proc.Tool("htpasswd"), ["-Bbc", htpasswd, username, password ?? ""])).AssertOk("htpasswd");
            config.Append($"""
                auth:
                  htpasswd:
                    realm: arca-test
                    path: {htpasswd}

                """);
        }
        var configPath = Path.Combine(dir, "config.yml");
        await File.WriteAllTextAsync(configPath, config.ToString());

        var psi = new ProcessStartInfo(registry) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        psi.ArgumentList.Add("serve");
        psi.ArgumentList.Add(configPath);
        var process = Process.Start(psi) ?? throw new InvalidOperationException("cannot start docker-registry");
        var log = new StringBuilder();
        process.OutputDataReceived += (_, e) => { if (e.Data is not null) lock (log) log.AppendLine(e.Data); };
        process.ErrorDataReceived += (_, e) => { if (e.Data is not null) lock (log) log.AppendLine(e.Data); };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();

        var url = $"{(tls ? "https" : "http")}://127.0.0.1:{port}";
        var started = new RegistryProcess(process, dir, log, url, port, certificate);
        await started.WaitUntilServingAsync();
        return started;
    }

    private async Task WaitUntilServingAsync()
    {
        using var http = new HttpClient(new HttpClientHandler { ServerCertificateCustomValidationCallback = (_, _, _, _) => true })
            { Timeout = TimeSpan.FromSeconds(2) };
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (DateTime.UtcNow < deadline)
        {
            if (_process.HasExited) break;
            try
            {
                using var r = await http.GetAsync($"{Url}/v2/");
                if (r.StatusCode is HttpStatusCode.OK or HttpStatusCode.Unauthorized) return;
            }
            catch (HttpRequestException) { }
            catch (TaskCanceledException) { }
            await Task.Delay(200);
        }
        string log;
        lock (_log) log = _log.ToString();
        await DisposeAsync();
        throw new RegistryStartException($"docker-registry did not start on {Url}:\n{log}");
    }

    /// <summary>A port that was free a moment ago (the OS picks it).</summary>
    public static int FreePort()
    {
        var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        return port;
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            if (!_process.HasExited)
            {
                _process.Kill(entireProcessTree: true);
                await _process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(10));
            }
        }
        catch (InvalidOperationException) { }
        catch (TimeoutException) { }
        _process.Dispose();
        TempDir.TryDelete(_dir);
    }
}
