using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using Arca.Tests.Infrastructure;

namespace Arca.Tests.Migration;

/// <summary>`python3 -m http.server` over a directory on a free 127.0.0.1 port: a real static HTTP host with the HTML
/// directory listings it generates (what a static Maven, Helm or NuGet repository looks like to a migration).</summary>
public sealed class StaticHttpServer : IAsyncDisposable
{
    private readonly Process _process;
    public string BaseUrl { get; }
    public string Root { get; }
    /// <summary>Request lines the server logged ("GET /path HTTP/1.1"), in order.</summary>
    public System.Collections.Concurrent.ConcurrentQueue<string> Requests { get; } = new();

    private StaticHttpServer(Process process, string baseUrl, string root) { _process = process; BaseUrl = baseUrl; Root = root; }

    public static async Task<StaticHttpServer> StartAsync(string root)
    {
        Directory.CreateDirectory(root);
        var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        var psi = new ProcessStartInfo(Proc.Tool("python3"))
        {
            UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true,
            ArgumentList = { "-m", "http.server", port.ToString(), "--bind", "127.0.0.1", "--directory", root },
        };
        var process = Process.Start(psi) ?? throw new InvalidOperationException("cannot start python3 -m http.server");
        process.OutputDataReceived += (_, _) => { };
        var server = new StaticHttpServer(process, $"http://127.0.0.1:{port}", root);
        // The request log goes to stderr: 127.0.0.1 - - [date] "GET /path HTTP/1.1" 200 -
        process.ErrorDataReceived += (_, e) =>
        {
            if (e.Data is { } line && line.IndexOf('"') is var start and >= 0 && line.IndexOf('"', start + 1) is var end and > 0)
                server.Requests.Enqueue(line[(start + 1)..end]);
        };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        using var http = new HttpClient();
        for (var i = 0; ; i++)
        {
            try { using var _ = await http.GetAsync(server.BaseUrl + "/"); return server; } // any answer: it is listening
            catch (HttpRequestException) when (i < 100 && !process.HasExited) { await Task.Delay(100); }
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited) { _process.Kill(); await _process.WaitForExitAsync(); }
        _process.Dispose();
    }
}

/// <summary>Runs `arca registry migrate` with a config written to disk (destination token from the environment).</summary>
public static class MigrateCli
{
    public static string WriteConfig(string dir, string sourceUrl, string sourceType, string? sourceToken, string destinationUrl, string mappings)
    {
        var path = Path.Combine(dir, $"migrate-{Guid.NewGuid():N}.yaml");
        var credentials = sourceToken is null ? "" : $"\n  credentials: {{ username: x, password: {sourceToken} }}";
        File.WriteAllText(path, $"""
            version: 1.0.0
            concurrency: 3
            createRegistries: true
            source:
              endpoint: {sourceUrl}
              type: {sourceType}{credentials}
            destination:
              endpoint: {destinationUrl}
              type: HAR
              credentials: {"{"} username: admin, password: ${"{"}DEST_TOKEN{"}"} {"}"}
            mappings:
            {mappings}
            """);
        return path;
    }

    public static Task<ProcResult> RunAsync(string config, string destinationToken, string workDir, params string[] args) =>
        ArcaCli.RunAsync(null, null, ["registry", "migrate", "--config", config, "--format", "json", .. args], workDir,
            new Dictionary<string, string?> { ["DEST_TOKEN"] = destinationToken }, TimeSpan.FromMinutes(5));

    /// <summary>The summary of mapping <paramref name="index"/> from the JSON the command prints.</summary>
    public static System.Text.Json.JsonElement Summary(ProcResult result, int index = 0) =>
        System.Text.Json.JsonDocument.Parse(result.Stdout).RootElement.GetProperty("mappings")[index];
}
