using System.Net;
using System.Net.Http.Headers;
using System.Text;
using Arca.Migration.Config;

namespace Arca.Migration.Engine;

/// <summary>HTTP plumbing shared by sources and the destination: credentials, TLS verification (on unless
/// `insecure: true`), and turning 429/5xx into retryable errors that honour Retry-After.</summary>
public static class MigrationHttp
{
    public static HttpClient CreateClient(EndpointConfig endpoint)
    {
        var handler = new SocketsHttpHandler
        {
            PooledConnectionLifetime = TimeSpan.FromMinutes(5),
            MaxConnectionsPerServer = 64,
            AutomaticDecompression = DecompressionMethods.None, // checksums are over the bytes as stored
        };
        if (endpoint.Insecure)
            handler.SslOptions.RemoteCertificateValidationCallback = (_, _, _, _) => true;
        var client = new HttpClient(handler) { BaseAddress = new Uri(endpoint.Endpoint.TrimEnd('/') + "/"), Timeout = Timeout.InfiniteTimeSpan };
        client.DefaultRequestHeaders.UserAgent.ParseAdd("arca-migrate/1.0");
        if (!string.IsNullOrEmpty(endpoint.Password))
            client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Basic",
                Convert.ToBase64String(Encoding.UTF8.GetBytes($"{endpoint.Username ?? "migrate"}:{endpoint.Password}")));
        return client;
    }

    /// <summary>Throws <see cref="TransientException"/> for 429/5xx, a plain error for other failures.</summary>
    public static async Task EnsureSuccessAsync(HttpResponseMessage response, string what, CancellationToken ct)
    {
        if (response.IsSuccessStatusCode) return;
        var status = (int)response.StatusCode;
        var body = await response.Content.ReadAsStringAsync(ct);
        if (body.Length > 300) body = body[..300];
        var message = $"{what}: {status} {response.ReasonPhrase} {body}".Trim();
        if (status == 429 || status >= 500)
        {
            TimeSpan? after = response.Headers.RetryAfter?.Delta ??
                (response.Headers.RetryAfter?.Date is { } d ? d - DateTimeOffset.UtcNow : null);
            throw new TransientException(message, after is { } a && a > TimeSpan.Zero ? (a > TimeSpan.FromMinutes(5) ? TimeSpan.FromMinutes(5) : a) : null);
        }
        throw new HttpStatusException(response.StatusCode, message);
    }
}

/// <summary>A non-retryable HTTP failure.</summary>
public sealed class HttpStatusException(HttpStatusCode status, string message) : Exception(message)
{
    public HttpStatusCode Status { get; } = status;
}
