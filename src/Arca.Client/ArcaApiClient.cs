using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;

namespace Arca.Client;

/// <summary>An error answered by an Arca server (or a failure to reach it), with the server's message.</summary>
public sealed class ArcaClientException(string message, HttpStatusCode? status = null, string? code = null) : Exception(message)
{
    public HttpStatusCode? Status { get; } = status;
    public string? Code { get; } = code;
}

/// <summary>
/// Client of Arca's management API (/api/v1). Returns the server's JSON unchanged so callers (the CLI's --format json,
/// migration) see the same stable field names the API documents.
/// </summary>
public sealed class ArcaApiClient : IDisposable
{
    public HttpClient Http { get; }
    public Uri BaseUrl { get; }

    public ArcaApiClient(string serverUrl, string? token, HttpMessageHandler? handler = null)
    {
        if (!Uri.TryCreate(serverUrl.TrimEnd('/') + "/", UriKind.Absolute, out var baseUrl) || baseUrl.Scheme is not ("http" or "https"))
            throw new ArcaClientException($"invalid server URL '{serverUrl}' (expected http://host:port)");
        BaseUrl = baseUrl;
        Http = new HttpClient(handler ?? new SocketsHttpHandler { PooledConnectionLifetime = TimeSpan.FromMinutes(5) })
        {
            BaseAddress = baseUrl,
            Timeout = Timeout.InfiniteTimeSpan, // large transfers; callers pass cancellation tokens
        };
        Http.DefaultRequestHeaders.UserAgent.ParseAdd("arca-cli/1.0");
        if (!string.IsNullOrEmpty(token))
            Http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
    }

    public Task<JsonElement> GetAsync(string path, CancellationToken ct = default) => SendAsync(HttpMethod.Get, path, null, ct);
    public Task<JsonElement> PostAsync(string path, object? body, CancellationToken ct = default) => SendAsync(HttpMethod.Post, path, body, ct);
    public Task<JsonElement> PutAsync(string path, object? body, CancellationToken ct = default) => SendAsync(HttpMethod.Put, path, body, ct);
    public Task<JsonElement> PatchAsync(string path, object? body, CancellationToken ct = default) => SendAsync(HttpMethod.Patch, path, body, ct);
    public Task<JsonElement> DeleteAsync(string path, CancellationToken ct = default) => SendAsync(HttpMethod.Delete, path, null, ct);

    public async Task<JsonElement> SendAsync(HttpMethod method, string path, object? body, CancellationToken ct = default)
    {
        using var request = new HttpRequestMessage(method, path.TrimStart('/'));
        if (body is not null) request.Content = JsonContent.Create(body);
        using var response = await SendRawAsync(request, ct);
        await EnsureSuccessAsync(response, ct);
        if (response.StatusCode == HttpStatusCode.NoContent) return JsonDocument.Parse("{}").RootElement.Clone();
        var text = await response.Content.ReadAsStringAsync(ct);
        return text.Length == 0 ? JsonDocument.Parse("{}").RootElement.Clone() : JsonDocument.Parse(text).RootElement.Clone();
    }

    /// <summary>Sends a request, turning connection failures into a readable error.</summary>
    public async Task<HttpResponseMessage> SendRawAsync(HttpRequestMessage request, CancellationToken ct = default, HttpCompletionOption completion = HttpCompletionOption.ResponseContentRead)
    {
        try
        {
            return await Http.SendAsync(request, completion, ct);
        }
        catch (HttpRequestException e)
        {
            throw new ArcaClientException($"cannot reach {BaseUrl}: {e.Message}");
        }
    }

    /// <summary>Throws <see cref="ArcaClientException"/> with the server's message for a non-success response.</summary>
    public static async Task EnsureSuccessAsync(HttpResponseMessage response, CancellationToken ct = default)
    {
        if (response.IsSuccessStatusCode) return;
        var text = await response.Content.ReadAsStringAsync(ct);
        string? code = null, message = null;
        try
        {
            var root = JsonDocument.Parse(text).RootElement;
            if (root.TryGetProperty("error", out var err) && err.ValueKind == JsonValueKind.Object)
            {
                code = err.TryGetProperty("code", out var c) ? c.GetString() : null;
                message = err.TryGetProperty("message", out var m) ? m.GetString() : null;
            }
            else if (root.TryGetProperty("errors", out var errs) && errs.ValueKind == JsonValueKind.Array && errs.GetArrayLength() > 0)
            {
                code = errs[0].TryGetProperty("code", out var c) ? c.GetString() : null;
                message = errs[0].TryGetProperty("message", out var m) ? m.GetString() : null;
            }
            else if (root.TryGetProperty("error", out var e2) && e2.ValueKind == JsonValueKind.String) message = e2.GetString();
        }
        catch (JsonException) { message = text.Length > 300 ? text[..300] : text; }
        var status = (int)response.StatusCode;
        var hint = status switch
        {
            401 => " (log in with `arca login --server URL --token T`, or set ARCA_TOKEN)",
            _ => "",
        };
        throw new ArcaClientException($"{status} {response.ReasonPhrase}: {(string.IsNullOrWhiteSpace(message) ? "no details" : message)}{hint}", response.StatusCode, code);
    }

    public static string Q(string value) => Uri.EscapeDataString(value);

    public void Dispose() => Http.Dispose();
}
