using Arca.Core.IO;
using Arca.Migration.Config;
using Arca.Migration.Engine;

namespace Arca.Migration.Sources;

/// <summary>
/// Downloads of URLs a source's index names (tarballs, distribution files). Credentials go only to the source's own
/// origin: an index may point at another host (a CDN, files.pythonhosted.org), which gets an anonymous request.
/// </summary>
internal sealed class SourceDownload(HttpClient authenticated, EndpointConfig endpoint) : IDisposable
{
    private readonly Lazy<HttpClient> _anonymous = new(() => MigrationHttp.CreateClient(endpoint with { Username = null, Password = null }));

    /// <summary>The client for <paramref name="url"/>: with credentials on the source's origin, anonymous elsewhere.</summary>
    public HttpClient ClientFor(Uri url) =>
        Uri.Compare(url, authenticated.BaseAddress!, UriComponents.SchemeAndServer, UriFormat.Unescaped, StringComparison.OrdinalIgnoreCase) == 0
            ? authenticated : _anonymous.Value;

    public async Task<(Stream Stream, long? Length)> OpenAsync(Uri url, CancellationToken ct)
    {
        var response = await ClientFor(url).GetAsync(url, HttpCompletionOption.ResponseHeadersRead, ct);
        try
        {
            await MigrationHttp.EnsureSuccessAsync(response, $"GET {url}", ct);
            return (new OwningStream(await response.Content.ReadAsStreamAsync(ct), response), response.Content.Headers.ContentLength);
        }
        catch
        {
            response.Dispose();
            throw;
        }
    }

    /// <summary>HEAD of <paramref name="url"/> with the right client: size for dry runs, validators for the checksum memo.</summary>
    public Task<SourceFingerprint?> FingerprintAsync(Uri url, CancellationToken ct) => NativeSources.FingerprintAsync(ClientFor(url), url, ct);

    public void Dispose()
    {
        if (_anonymous.IsValueCreated) _anonymous.Value.Dispose();
    }

    /// <summary>Keeps the response alive while its body is read, and releases it with the stream.</summary>
    private sealed class OwningStream(Stream inner, HttpResponseMessage response) : ForwardOnlyReadStream
    {
        public override int Read(byte[] buffer, int offset, int count) => inner.Read(buffer, offset, count);
        public override int Read(Span<byte> buffer) => inner.Read(buffer);
        public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken ct = default) => inner.ReadAsync(buffer, ct);
        public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken ct) => inner.ReadAsync(buffer, offset, count, ct);
        protected override void Dispose(bool disposing)
        {
            if (disposing) { inner.Dispose(); response.Dispose(); }
            base.Dispose(disposing);
        }
    }
}
