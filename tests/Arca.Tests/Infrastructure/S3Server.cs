using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace Arca.Tests.Infrastructure;

/// <summary>
/// s3rver (an S3-compatible server from npm) on 127.0.0.1, a free port and a temp directory, with one bucket.
/// Credentials are s3rver's fixed S3RVER / S3RVER.
/// </summary>
public sealed class S3Server : IAsyncDisposable
{
    public const string AccessKey = "S3RVER";
    public const string SecretKey = "S3RVER";
    private readonly Process _process;
    public string Dir { get; }
    public string Endpoint { get; }
    public string Bucket { get; }

    private S3Server(Process process, string dir, string endpoint, string bucket) { _process = process; Dir = dir; Endpoint = endpoint; Bucket = bucket; }

    /// <summary>The --blob-store URI for this server's bucket under <paramref name="prefix"/>.</summary>
    public string BlobStoreUri(string prefix = "") =>
        $"s3://{Bucket}/{prefix}?endpoint={Uri.EscapeDataString(Endpoint)}&region=us-east-1&partSizeMiB=5";

    public static async Task<S3Server> StartAsync(string bucket = "arca-test")
    {
        var binary = Proc.Tool("s3rver");
        var dir = TempDir.Create("s3rver");
        var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        var psi = new ProcessStartInfo(binary)
        {
            UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true,
            ArgumentList = { "-d", dir, "-a", "127.0.0.1", "-p", port.ToString(), "--configure-bucket", bucket, "--no-vhost-buckets", "--silent" },
        };
        var process = Process.Start(psi) ?? throw new InvalidOperationException("cannot start s3rver");
        process.OutputDataReceived += (_, _) => { };
        process.ErrorDataReceived += (_, _) => { };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        var server = new S3Server(process, dir, $"http://127.0.0.1:{port}", bucket);
        using var http = new HttpClient();
        for (var i = 0; ; i++)
        {
            try { using var _ = await http.GetAsync(server.Endpoint + "/"); return server; }
            catch (HttpRequestException) when (i < 150 && !process.HasExited) { await Task.Delay(100); }
        }
    }

    /// <summary>
    /// s3rver reads <c>x-amz-copy-source</c> with decodeURI, which leaves the <c>%2F</c> the AWS SDK v4 writes between
    /// bucket and key encoded, so it finds no bucket. Real S3 takes the SDK's form. This client factory turns those
    /// <c>%2F</c> back into '/' after signing (s3rver does not check V4 signatures); production code never uses it.
    /// </summary>
    public static Amazon.Runtime.HttpClientFactory CopySourceFix { get; } = new CopySourceFixFactory();

    private sealed class CopySourceFixFactory : Amazon.Runtime.HttpClientFactory
    {
        public override HttpClient CreateHttpClient(Amazon.Runtime.IClientConfig clientConfig) => new(new CopySourceFixHandler(new HttpClientHandler()));
    }

    private sealed class CopySourceFixHandler(HttpMessageHandler inner) : DelegatingHandler(inner)
    {
        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken ct)
        {
            if (request.Headers.TryGetValues("x-amz-copy-source", out var values) && values.FirstOrDefault() is { } source)
            {
                request.Headers.Remove("x-amz-copy-source");
                request.Headers.TryAddWithoutValidation("x-amz-copy-source", source.Replace("%2F", "/", StringComparison.OrdinalIgnoreCase));
            }
            return base.SendAsync(request, ct);
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited) { _process.Kill(entireProcessTree: true); await _process.WaitForExitAsync(); }
        _process.Dispose();
        TempDir.TryDelete(Dir);
    }
}
