using System.Net;
using System.Net.Http.Headers;
using System.Runtime.CompilerServices;
using System.Text;
using System.Text.Json;
using Polly;

namespace Arca.Client.Oci;

public sealed class OciClientOptions
{
    /// <summary>Allow plain HTTP and unverified TLS for this registry.</summary>
    public bool Insecure { get; init; }
    public IRegistryCredentialProvider? Credentials { get; init; }
    public int MaxRetries { get; init; } = 4;
    public TimeSpan RetryBaseDelay { get; init; } = TimeSpan.FromMilliseconds(500);
    public TimeSpan MaxRetryDelay { get; init; } = TimeSpan.FromSeconds(30);
    /// <summary>Upload blobs in PATCH chunks of this size (bounded memory); null uploads monolithically in one streamed PUT.</summary>
    public int? UploadChunkSize { get; init; }
    public string UserAgent { get; init; } = "arca/1.0";
    /// <summary>Told about every retry (for verbose output).</summary>
    public Action<string>? OnRetry { get; init; }
    /// <summary>For tests: replaces the socket handler.</summary>
    public HttpMessageHandler? Handler { get; init; }
    /// <summary>
    /// A path the registry API lives under instead of the host root (Nexus <c>repository/R</c>, Artifactory
    /// <c>artifactory/api/docker/R</c>): requests go to <c>/&lt;BasePath&gt;/v2/...</c>. Empty: the host root.
    /// </summary>
    public string BasePath { get; init; } = "";
    /// <summary>Send Basic credentials before any challenge: for a registry known to take them directly (Arca takes its
    /// API tokens as Basic passwords), which saves the token round trip for every repository. A registry that refuses
    /// them answers 401 with its challenge, which the client then follows as usual.</summary>
    public bool PreemptiveBasic { get; init; }
}

/// <summary>A streamed blob download. Dispose to release the connection.</summary>
public sealed class BlobDownload(HttpResponseMessage response, Stream content, long length) : IDisposable
{
    public Stream Content { get; } = content;
    public long Length { get; } = length;
    public void Dispose() { Content.Dispose(); response.Dispose(); }
}

/// <summary>Result of a cross-repository mount: mounted, or an upload session the blob must be uploaded into.</summary>
public sealed record MountResult(bool Mounted, Uri? UploadLocation);

public sealed record PutManifestResult(string Digest, bool SubjectProcessed);

/// <summary>Referrers of a manifest, and whether they came from the tag-schema fallback.</summary>
public sealed record ReferrersResult(IReadOnlyList<OciDescriptor> Referrers, bool FromFallbackTag);

/// <summary>
/// Client of one OCI distribution registry (spec v1.1): manifests, blobs (streamed), mounts, tags, catalog and
/// referrers, with anonymous/Basic/token-flow auth, retries of idempotent calls and per-registry "insecure".
/// Thread-safe; reuse one instance per registry.
/// </summary>
public sealed class OciRegistryClient : IDisposable
{
    public string Registry { get; }
    private readonly string _apiHost;
    private readonly OciClientOptions _options;
    private readonly HttpClient _http;
    private readonly ResiliencePipeline<HttpResponseMessage> _retry;
    private readonly SemaphoreSlim _setupLock = new(1, 1);
    private readonly Dictionary<string, (string Token, DateTimeOffset Expires)> _tokens = new();
    private readonly object _tokensLock = new();
    private Uri? _base;
    private AuthChallenge? _challenge;
    private RegistryCredential? _credential;
    private bool _credentialLoaded;
    private readonly Dictionary<string, bool> _referrersApi = new();

    /// <param name="registry">host[:port] as in an image reference ("docker.io" is Docker Hub).</param>
    public OciRegistryClient(string registry, OciClientOptions? options = null)
    {
        Registry = registry;
        _apiHost = registry == ImageReference.DockerHubName ? ImageReference.DockerHubApiHost : registry;
        _options = options ?? new OciClientOptions();
        var handler = _options.Handler ?? CreateHandler(_options.Insecure);
        _http = new HttpClient(handler) { Timeout = Timeout.InfiniteTimeSpan };
        _http.DefaultRequestHeaders.UserAgent.ParseAdd(_options.UserAgent);
        _retry = OciRetry.ForHttp(_options);
    }

    public OciClientOptions Options => _options;

    private static SocketsHttpHandler CreateHandler(bool insecure)
    {
        var handler = new SocketsHttpHandler
        {
            PooledConnectionLifetime = TimeSpan.FromMinutes(5),
            ConnectTimeout = TimeSpan.FromSeconds(30),
            AllowAutoRedirect = true, // blob GETs may redirect to storage; .NET drops Authorization on redirect
        };
        if (insecure)
            handler.SslOptions.RemoteCertificateValidationCallback = (_, _, _, _) => true;
        return handler;
    }

    public static string PullScope(string repository) => $"repository:{repository}:pull";
    public static string PushScope(string repository) => $"repository:{repository}:pull,push";
    public const string CatalogScope = "registry:catalog:*";

    // ---------------------------------------------------------------- setup and auth

    /// <summary>Resolves the scheme (HTTPS; plain HTTP only when insecure and HTTPS fails) and learns the auth challenge.</summary>
    private async Task<Uri> BaseAsync(CancellationToken ct)
    {
        if (_base is not null) return _base;
        await _setupLock.WaitAsync(ct);
        try
        {
            if (_base is not null) return _base;
            var prefix = _options.BasePath.Trim('/') is { Length: > 0 } p ? p + "/" : "";
            var https = new Uri($"https://{_apiHost}/{prefix}");
            HttpResponseMessage ping;
            try
            {
                ping = await _http.GetAsync(new Uri(https, "v2/"), ct);
                _base = https;
            }
            catch (HttpRequestException) when (_options.Insecure)
            {
                var http = new Uri($"http://{_apiHost}/{prefix}");
                ping = await _http.GetAsync(new Uri(http, "v2/"), ct);
                _base = http;
            }
            using (ping)
                if (ping.StatusCode == HttpStatusCode.Unauthorized)
                    _challenge = AuthChallenge.Parse(ping.Headers.WwwAuthenticate.FirstOrDefault()?.ToString());
            return _base;
        }
        catch (HttpRequestException e)
        {
            throw new OciException($"cannot reach registry {Registry}: {e.Message}" + (_options.Insecure ? "" : " (use insecure for plain HTTP or unverified TLS)"), null, null, e);
        }
        finally { _setupLock.Release(); }
    }

    /// <summary>Checks that the registry answers /v2/ and the credentials (if any) are accepted.</summary>
    public async Task PingAsync(CancellationToken ct = default)
    {
        using var response = await SendAsync(b => new HttpRequestMessage(HttpMethod.Get, new Uri(b, "v2/")), [], true, HttpCompletionOption.ResponseContentRead, ct);
        await EnsureSuccessAsync(response, "ping", ct);
    }

    private async ValueTask<RegistryCredential?> CredentialAsync(CancellationToken ct)
    {
        if (_credentialLoaded) return _credential;
        _credential = _options.Credentials is null ? null : await _options.Credentials.GetAsync(Registry, ct);
        _credentialLoaded = true;
        return _credential;
    }

    /// <summary>With <see cref="OciClientOptions.PreemptiveBasic"/>: true once the registry refused Basic (401 with a challenge).</summary>
    private bool? _basicRefused;

    private async Task AuthorizeAsync(HttpRequestMessage request, string[] scopes, CancellationToken ct)
    {
        var credential = await CredentialAsync(ct);
        if (credential?.BearerToken is { Length: > 0 } bearer)
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", bearer);
            return;
        }
        if (_options.PreemptiveBasic && _basicRefused is not true && credential is { HasBasic: true })
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("Basic", credential.BasicHeaderValue);
            return;
        }
        var challenge = _challenge;
        if (challenge is null) return; // anonymous registry: never send credentials unasked
        if (challenge.IsBasic && credential is { HasBasic: true })
            request.Headers.Authorization = new AuthenticationHeaderValue("Basic", credential.BasicHeaderValue);
        else if (challenge.IsBearer)
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", await TokenAsync(challenge, credential, scopes, ct));
    }

    /// <summary>The registry token flow: GET realm?service=&amp;scope= (Basic with the credentials, or anonymous), or
    /// the OAuth2 refresh-token POST for an identity token. Tokens are cached per scope set until they expire.</summary>
    private async Task<string> TokenAsync(AuthChallenge challenge, RegistryCredential? credential, string[] scopes, CancellationToken ct)
    {
        var key = string.Join(' ', scopes.Order(StringComparer.Ordinal));
        lock (_tokensLock)
            if (_tokens.TryGetValue(key, out var cached) && cached.Expires > DateTimeOffset.UtcNow) return cached.Token;
        if (challenge.Realm is not { Length: > 0 } realm || !Uri.TryCreate(realm, UriKind.Absolute, out var realmUri))
            throw new OciException($"registry {Registry} sent a Bearer challenge without a usable realm", HttpStatusCode.Unauthorized);

        var allScopes = scopes.Length > 0 ? scopes : challenge.Scope is { Length: > 0 } s ? s.Split(' ') : [];
        HttpRequestMessage BuildTokenRequest()
        {
            if (credential?.IdentityToken is { Length: > 0 } refresh)
            {
                var form = new List<KeyValuePair<string, string>>
                {
                    new("grant_type", "refresh_token"), new("refresh_token", refresh), new("client_id", "arca"),
                };
                if (challenge.Service is { } service) form.Add(new("service", service));
                if (allScopes.Length > 0) form.Add(new("scope", string.Join(' ', allScopes)));
                return new HttpRequestMessage(HttpMethod.Post, realmUri) { Content = new FormUrlEncodedContent(form) };
            }
            var query = new StringBuilder(realmUri.Query.Length > 1 ? realmUri.Query[1..] : "");
            void Add(string k, string v) => query.Append(query.Length > 0 ? "&" : "").Append(k).Append('=').Append(Uri.EscapeDataString(v));
            if (challenge.Service is { } svc) Add("service", svc);
            foreach (var scope in allScopes) Add("scope", scope);
            if (credential is { HasBasic: true }) Add("account", credential.Username!);
            var request = new HttpRequestMessage(HttpMethod.Get, new UriBuilder(realmUri) { Query = query.ToString() }.Uri);
            if (credential is { HasBasic: true })
                request.Headers.Authorization = new AuthenticationHeaderValue("Basic", credential.BasicHeaderValue);
            return request;
        }

        using var response = await _retry.ExecuteAsync(async token => await _http.SendAsync(BuildTokenRequest(), token), ct);
        var body = await response.Content.ReadAsStringAsync(ct);
        if (!response.IsSuccessStatusCode)
            throw new OciException($"token request to {realmUri.GetLeftPart(UriPartial.Path)} for {Registry} failed: {(int)response.StatusCode} {ErrorText(body)}",
                response.StatusCode is HttpStatusCode.Forbidden ? HttpStatusCode.Forbidden : HttpStatusCode.Unauthorized);
        using var doc = JsonDocument.Parse(body);
        var root = doc.RootElement;
        var tokenValue = (root.TryGetProperty("token", out var t) ? t.GetString() : null)
                         ?? (root.TryGetProperty("access_token", out var a) ? a.GetString() : null)
                         ?? throw new OciException($"token endpoint of {Registry} returned no token", HttpStatusCode.Unauthorized);
        var lifetime = root.TryGetProperty("expires_in", out var e) && e.TryGetInt32(out var seconds) && seconds > 0 ? seconds : 60;
        lock (_tokensLock)
            _tokens[key] = (tokenValue, DateTimeOffset.UtcNow.AddSeconds(Math.Max(lifetime - 10, 5)));
        return tokenValue;
    }

    /// <summary>
    /// Sends a request built by <paramref name="build"/> (called again for every retry, so the content must be
    /// replayable unless <paramref name="idempotent"/> is false). Idempotent calls are retried on transient failures;
    /// idempotent or <paramref name="replayable"/> ones are sent again once after a 401 taught a new challenge.
    /// </summary>
    internal async Task<HttpResponseMessage> SendAsync(Func<Uri, HttpRequestMessage> build, string[] scopes, bool idempotent,
        HttpCompletionOption completion, CancellationToken ct, bool replayable = false)
    {
        var baseUri = await BaseAsync(ct);
        for (var attempt = 0; ; attempt++)
        {
            HttpResponseMessage response;
            try
            {
                if (idempotent)
                    response = await _retry.ExecuteAsync(async token =>
                    {
                        var request = build(baseUri);
                        await AuthorizeAsync(request, scopes, token);
                        return await _http.SendAsync(request, completion, token);
                    }, ct);
                else
                {
                    var request = build(baseUri);
                    await AuthorizeAsync(request, scopes, ct);
                    response = await _http.SendAsync(request, completion, ct);
                }
            }
            catch (HttpRequestException e)
            {
                throw new OciException($"{Registry}: {e.Message}", null, null, e);
            }
            if (response.StatusCode == HttpStatusCode.Unauthorized && attempt == 0 && (idempotent || replayable))
            {
                var challenge = AuthChallenge.Parse(response.Headers.WwwAuthenticate.FirstOrDefault()?.ToString());
                if (challenge is not null)
                {
                    // Preemptive Basic was refused: from now on follow the registry's challenge like any client.
                    if (_options.PreemptiveBasic && _basicRefused is null) _basicRefused = true;
                    _challenge = challenge;
                    lock (_tokensLock) _tokens.Remove(string.Join(' ', scopes.Order(StringComparer.Ordinal)));
                    response.Dispose();
                    continue;
                }
            }
            return response;
        }
    }

    private static string ErrorText(string body)
    {
        try
        {
            using var doc = JsonDocument.Parse(body);
            if (doc.RootElement.TryGetProperty("errors", out var errors) && errors.ValueKind == JsonValueKind.Array && errors.GetArrayLength() > 0)
                return string.Join("; ", errors.EnumerateArray().Select(e =>
                    $"{(e.TryGetProperty("code", out var c) ? c.GetString() : "")}: {(e.TryGetProperty("message", out var m) ? m.GetString() : "")}"));
            if (doc.RootElement.TryGetProperty("error", out var err))
                return err.ValueKind == JsonValueKind.String ? err.GetString() ?? "" : err.ToString();
        }
        catch (JsonException) { }
        return body.Length > 300 ? body[..300] + "..." : body.Trim();
    }

    private async Task EnsureSuccessAsync(HttpResponseMessage response, string what, CancellationToken ct)
    {
        if (response.IsSuccessStatusCode) return;
        var body = response.RequestMessage?.Method == HttpMethod.Head ? "" : await ReadBoundedStringAsync(response, 64 * 1024, ct);
        string? code = null;
        try
        {
            using var doc = JsonDocument.Parse(body);
            if (doc.RootElement.TryGetProperty("errors", out var errors) && errors.GetArrayLength() > 0 && errors[0].TryGetProperty("code", out var c))
                code = c.GetString();
        }
        catch (JsonException) { }
        var hint = response.StatusCode switch
        {
            HttpStatusCode.Unauthorized => " (authentication required or credentials rejected)",
            HttpStatusCode.Forbidden => " (access denied)",
            _ => "",
        };
        throw new OciException($"{Registry}: {what}: {(int)response.StatusCode} {response.ReasonPhrase}{hint} {ErrorText(body)}".TrimEnd(), response.StatusCode, code);
    }

    private static async Task<string> ReadBoundedStringAsync(HttpResponseMessage response, int max, CancellationToken ct)
    {
        var bytes = await ReadBoundedAsync(response, max, ct, truncate: true);
        return Encoding.UTF8.GetString(bytes);
    }

    private static async Task<byte[]> ReadBoundedAsync(HttpResponseMessage response, int max, CancellationToken ct, bool truncate = false)
    {
        await using var stream = await response.Content.ReadAsStreamAsync(ct);
        using var buffer = new MemoryStream();
        var chunk = new byte[16 * 1024];
        int read;
        while ((read = await stream.ReadAsync(chunk, ct)) > 0)
        {
            if (buffer.Length + read > max)
            {
                if (truncate) { buffer.Write(chunk, 0, (int)(max - buffer.Length)); break; }
                throw new OciException($"document larger than {max} bytes", HttpStatusCode.RequestEntityTooLarge);
            }
            buffer.Write(chunk, 0, read);
        }
        return buffer.ToArray();
    }

    private static string RepoPath(string repository, string rest) => $"v2/{repository}/{rest}";

    // ---------------------------------------------------------------- manifests

    private static void AcceptManifests(HttpRequestMessage request)
    {
        foreach (var type in OciMediaTypes.AllManifests) request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue(type));
    }

    /// <summary>HEAD a manifest by tag or digest; null when it does not exist.</summary>
    public async Task<OciDescriptor?> HeadManifestAsync(string repository, string reference, CancellationToken ct = default)
    {
        using var response = await SendAsync(b =>
        {
            var r = new HttpRequestMessage(HttpMethod.Head, new Uri(b, RepoPath(repository, $"manifests/{reference}")));
            AcceptManifests(r);
            return r;
        }, [PullScope(repository)], true, HttpCompletionOption.ResponseHeadersRead, ct);
        if (response.StatusCode == HttpStatusCode.NotFound) return null;
        await EnsureSuccessAsync(response, $"HEAD manifest {repository}:{reference}", ct);
        var digest = response.Headers.TryGetValues("Docker-Content-Digest", out var values) ? values.FirstOrDefault() : null;
        if (digest is null)
        {
            // Some registries omit the digest on HEAD; the manifest itself is small.
            var manifest = await GetManifestAsync(repository, reference, ct);
            return manifest?.ToDescriptor();
        }
        return new OciDescriptor(response.Content.Headers.ContentType?.MediaType ?? "", digest, response.Content.Headers.ContentLength ?? 0);
    }

    /// <summary>GET a manifest by tag or digest (bytes kept exactly); null when it does not exist.</summary>
    public async Task<OciManifest?> GetManifestAsync(string repository, string reference, CancellationToken ct = default)
    {
        using var response = await SendAsync(b =>
        {
            var r = new HttpRequestMessage(HttpMethod.Get, new Uri(b, RepoPath(repository, $"manifests/{reference}")));
            AcceptManifests(r);
            return r;
        }, [PullScope(repository)], true, HttpCompletionOption.ResponseHeadersRead, ct);
        if (response.StatusCode == HttpStatusCode.NotFound) return null;
        await EnsureSuccessAsync(response, $"GET manifest {repository}:{reference}", ct);
        var bytes = await ReadBoundedAsync(response, OciManifest.MaxSize, ct);
        var manifest = new OciManifest(bytes, response.Content.Headers.ContentType?.MediaType);
        if (reference.StartsWith("sha256:", StringComparison.Ordinal) && manifest.Digest != reference)
            throw new OciException($"{Registry}: manifest {repository}@{reference} has digest {manifest.Digest}: content does not match");
        return manifest;
    }

    /// <summary>PUT a manifest under a tag or its digest. <see cref="PutManifestResult.SubjectProcessed"/> tells whether the
    /// registry indexed the subject itself (OCI-Subject header); if not, referrers need the tag-schema fallback.</summary>
    public async Task<PutManifestResult> PutManifestAsync(string repository, string reference, OciManifest manifest, CancellationToken ct = default)
    {
        using var response = await SendAsync(b =>
        {
            var content = new ByteArrayContent(manifest.Bytes);
            content.Headers.ContentType = new MediaTypeHeaderValue(manifest.MediaType);
            return new HttpRequestMessage(HttpMethod.Put, new Uri(b, RepoPath(repository, $"manifests/{reference}"))) { Content = content };
        }, [PushScope(repository)], true, HttpCompletionOption.ResponseContentRead, ct);
        await EnsureSuccessAsync(response, $"PUT manifest {repository}:{reference}", ct);
        var digest = response.Headers.TryGetValues("Docker-Content-Digest", out var d) ? d.First() : manifest.Digest;
        if (digest != manifest.Digest)
            throw new OciException($"{Registry}: stored manifest {repository}:{reference} as {digest}, expected {manifest.Digest}");
        return new PutManifestResult(digest, response.Headers.Contains("OCI-Subject"));
    }

    public async Task DeleteManifestAsync(string repository, string digest, CancellationToken ct = default)
    {
        using var response = await SendAsync(b => new HttpRequestMessage(HttpMethod.Delete, new Uri(b, RepoPath(repository, $"manifests/{digest}"))),
            [$"repository:{repository}:delete", PushScope(repository)], true, HttpCompletionOption.ResponseContentRead, ct);
        await EnsureSuccessAsync(response, $"DELETE manifest {repository}@{digest}", ct);
    }

    // ---------------------------------------------------------------- blobs

    /// <summary>HEAD a blob; its size, or null when absent.</summary>
    public async Task<long?> HeadBlobAsync(string repository, string digest, CancellationToken ct = default)
    {
        using var response = await SendAsync(b => new HttpRequestMessage(HttpMethod.Head, new Uri(b, RepoPath(repository, $"blobs/{digest}"))),
            [PullScope(repository)], true, HttpCompletionOption.ResponseHeadersRead, ct);
        if (response.StatusCode == HttpStatusCode.NotFound) return null;
        await EnsureSuccessAsync(response, $"HEAD blob {repository}@{digest}", ct);
        return response.Content.Headers.ContentLength ?? 0;
    }

    /// <summary>Opens a blob as a stream (nothing is buffered).</summary>
    public async Task<BlobDownload> GetBlobAsync(string repository, string digest, CancellationToken ct = default)
    {
        var response = await SendAsync(b => new HttpRequestMessage(HttpMethod.Get, new Uri(b, RepoPath(repository, $"blobs/{digest}"))),
            [PullScope(repository)], true, HttpCompletionOption.ResponseHeadersRead, ct);
        try
        {
            await EnsureSuccessAsync(response, $"GET blob {repository}@{digest}", ct);
            var stream = await response.Content.ReadAsStreamAsync(ct);
            return new BlobDownload(response, stream, response.Content.Headers.ContentLength ?? -1);
        }
        catch
        {
            response.Dispose();
            throw;
        }
    }

    /// <summary>Cross-repository mount (POST ?mount=&amp;from=). When the registry declines (202), the returned upload
    /// session is used to upload the blob instead.</summary>
    public async Task<MountResult> MountBlobAsync(string repository, string digest, string fromRepository, CancellationToken ct = default)
    {
        using var response = await SendAsync(b => new HttpRequestMessage(HttpMethod.Post,
                new Uri(b, RepoPath(repository, $"blobs/uploads/?mount={Uri.EscapeDataString(digest)}&from={Uri.EscapeDataString(fromRepository)}"))),
            [PushScope(repository), PullScope(fromRepository)], false, HttpCompletionOption.ResponseContentRead, ct, replayable: true);
        if (response.StatusCode == HttpStatusCode.Created) return new MountResult(true, null);
        await EnsureSuccessAsync(response, $"mount {digest} from {fromRepository} into {repository}", ct);
        return new MountResult(false, UploadLocation(response));
    }

    private Uri UploadLocation(HttpResponseMessage response)
    {
        var location = response.Headers.Location ?? throw new OciException($"{Registry}: upload session without Location");
        return location.IsAbsoluteUri ? location : new Uri(_base!, location);
    }

    /// <summary>POST to open an upload session.</summary>
    public async Task<Uri> StartUploadAsync(string repository, CancellationToken ct = default)
    {
        using var response = await SendAsync(b => new HttpRequestMessage(HttpMethod.Post, new Uri(b, RepoPath(repository, "blobs/uploads/"))),
            [PushScope(repository)], false, HttpCompletionOption.ResponseContentRead, ct, replayable: true);
        await EnsureSuccessAsync(response, $"start upload to {repository}", ct);
        return UploadLocation(response);
    }

    private static Uri WithQuery(Uri location, string query) =>
        new(location + (string.IsNullOrEmpty(location.Query) ? "?" : "&") + query);

    /// <summary>
    /// Uploads <paramref name="size"/> bytes from <paramref name="source"/> as blob <paramref name="digest"/>, streamed
    /// (monolithic PUT, or PATCH chunks of <see cref="OciClientOptions.UploadChunkSize"/>). The registry verifies the digest.
    /// </summary>
    public async Task UploadBlobAsync(string repository, string digest, Stream source, long size, IProgress<long>? progress = null,
        Uri? session = null, CancellationToken ct = default)
    {
        var location = session ?? await StartUploadAsync(repository, ct);
        if (_options.UploadChunkSize is { } chunkSize && chunkSize > 0)
        {
            var buffer = new byte[Math.Min(chunkSize, Math.Max(size, 1))];
            long offset = 0;
            while (offset < size)
            {
                var filled = 0;
                int read;
                while (filled < buffer.Length && (read = await source.ReadAsync(buffer.AsMemory(filled), ct)) > 0) filled += read;
                if (filled == 0) throw new OciException($"source blob {digest} ended after {offset} of {size} bytes");
                var start = offset;
                var uri = location;
                using var patch = await SendAsync(_ =>
                {
                    var content = new ByteArrayContent(buffer, 0, filled);
                    content.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
                    content.Headers.TryAddWithoutValidation("Content-Range", $"{start}-{start + filled - 1}");
                    return new HttpRequestMessage(HttpMethod.Patch, uri) { Content = content };
                }, [PushScope(repository)], false, HttpCompletionOption.ResponseContentRead, ct, replayable: true);
                await EnsureSuccessAsync(patch, $"upload chunk of {digest} to {repository}", ct);
                location = UploadLocation(patch);
                offset += filled;
                progress?.Report(offset);
            }
            using var finish = await SendAsync(_ => new HttpRequestMessage(HttpMethod.Put, WithQuery(location, "digest=" + Uri.EscapeDataString(digest)))
                { Content = new ByteArrayContent([]) }, [PushScope(repository)], false, HttpCompletionOption.ResponseContentRead, ct);
            await EnsureSuccessAsync(finish, $"complete upload of {digest} to {repository}", ct);
            return;
        }
        using var put = await SendAsync(_ => new HttpRequestMessage(HttpMethod.Put, WithQuery(location, "digest=" + Uri.EscapeDataString(digest)))
        {
            Content = new BlobStreamContent(source, size, progress),
        }, [PushScope(repository)], false, HttpCompletionOption.ResponseContentRead, ct);
        await EnsureSuccessAsync(put, $"upload {digest} to {repository}", ct);
    }

    // ---------------------------------------------------------------- tags, catalog, referrers

    /// <summary>All tags of a repository (follows Link pagination).</summary>
    public IAsyncEnumerable<string> ListTagsAsync(string repository, int pageSize = 1000, CancellationToken ct = default) =>
        PagedAsync(RepoPath(repository, $"tags/list?n={pageSize}"), "tags", [PullScope(repository)], ct);

    /// <summary>All repositories (follows Link pagination).</summary>
    public IAsyncEnumerable<string> CatalogAsync(int pageSize = 1000, CancellationToken ct = default) =>
        PagedAsync($"v2/_catalog?n={pageSize}", "repositories", [CatalogScope], ct);

    private async IAsyncEnumerable<string> PagedAsync(string firstPath, string property, string[] scopes, [EnumeratorCancellation] CancellationToken ct)
    {
        var baseUri = await BaseAsync(ct);
        Uri? next = new(baseUri, firstPath);
        var seen = new HashSet<string>();
        while (next is not null)
        {
            var page = next;
            using var response = await SendAsync(_ => new HttpRequestMessage(HttpMethod.Get, page), scopes, true, HttpCompletionOption.ResponseContentRead, ct);
            if (response.StatusCode == HttpStatusCode.NotFound && property == "tags") yield break;
            await EnsureSuccessAsync(response, $"GET {page.AbsolutePath}", ct);
            var json = await ReadBoundedAsync(response, 32 * 1024 * 1024, ct);
            using (var doc = JsonDocument.Parse(json))
                if (doc.RootElement.TryGetProperty(property, out var items) && items.ValueKind == JsonValueKind.Array)
                    foreach (var item in items.EnumerateArray())
                        if (item.GetString() is { } s && seen.Add(s)) yield return s;
            next = NextLink(response, baseUri);
            if (next is not null && next == page) break;
        }
    }

    /// <summary>The rel="next" target of an RFC 5988 Link header, resolved against the registry.</summary>
    internal static Uri? NextLink(HttpResponseMessage response, Uri baseUri)
    {
        if (!response.Headers.TryGetValues("Link", out var links)) return null;
        foreach (var link in links.SelectMany(l => l.Split(',')))
        {
            var open = link.IndexOf('<');
            var close = link.IndexOf('>');
            if (open < 0 || close < open) continue;
            if (!link[close..].Replace(" ", "").Contains("rel=\"next\"", StringComparison.OrdinalIgnoreCase)
                && !link[close..].Replace(" ", "").Contains("rel=next", StringComparison.OrdinalIgnoreCase)) continue;
            var target = link[(open + 1)..close].Trim();
            // Behind a base path, registries answer Link paths rooted at "/v2/..." without the prefix (or relative
            // "v2/..."): both belong under the base path.
            if (target.StartsWith("/v2/", StringComparison.Ordinal) && baseUri.AbsolutePath != "/") target = target[1..];
            return new Uri(baseUri, target);
        }
        return null;
    }

    /// <summary>The tag that holds referrers of <paramref name="digest"/> when the registry lacks the referrers API.</summary>
    public static string FallbackTag(string digest) => digest.Replace(':', '-');

    /// <summary>
    /// Referrers of a manifest: the referrers API (paginated), or — when the registry answers 404 for it — the index
    /// stored under the tag-schema fallback tag.
    /// </summary>
    public async Task<ReferrersResult> GetReferrersAsync(string repository, string digest, CancellationToken ct = default)
    {
        var baseUri = await BaseAsync(ct);
        var referrers = new List<OciDescriptor>();
        Uri? next = new(baseUri, RepoPath(repository, $"referrers/{digest}"));
        var first = true;
        while (next is not null)
        {
            var page = next;
            using var response = await SendAsync(_ =>
            {
                var r = new HttpRequestMessage(HttpMethod.Get, page);
                r.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue(OciMediaTypes.ImageIndex));
                return r;
            }, [PullScope(repository)], true, HttpCompletionOption.ResponseContentRead, ct);
            if (first && response.StatusCode is HttpStatusCode.NotFound or HttpStatusCode.MethodNotAllowed or HttpStatusCode.BadRequest)
            {
                lock (_referrersApi) _referrersApi[repository] = false;
                var index = await GetManifestAsync(repository, FallbackTag(digest), ct);
                return new ReferrersResult(index?.Manifests ?? [], true);
            }
            await EnsureSuccessAsync(response, $"GET referrers of {repository}@{digest}", ct);
            var manifest = new OciManifest(await ReadBoundedAsync(response, OciManifest.MaxSize, ct), response.Content.Headers.ContentType?.MediaType);
            referrers.AddRange(manifest.Manifests);
            lock (_referrersApi) _referrersApi[repository] = true;
            next = NextLink(response, baseUri);
            first = false;
        }
        return new ReferrersResult(referrers, false);
    }

    /// <summary>
    /// Makes <paramref name="referrer"/> discoverable as a referrer of <paramref name="subjectDigest"/> on a registry
    /// without the referrers API: adds it to the fallback tag's index (read-modify-write). Returns true when the index changed.
    /// </summary>
    public async Task<bool> AddToFallbackTagAsync(string repository, string subjectDigest, OciDescriptor referrer, CancellationToken ct = default)
    {
        var tag = FallbackTag(subjectDigest);
        var existing = await GetManifestAsync(repository, tag, ct);
        var entries = existing?.Manifests.ToList() ?? [];
        if (entries.Any(e => e.Digest == referrer.Digest)) return false;
        entries.Add(referrer with { Platform = null });
        var index = new OciManifest(OciManifest.BuildIndex(entries), OciMediaTypes.ImageIndex);
        await PutManifestAsync(repository, tag, index, ct);
        return true;
    }

    public void Dispose()
    {
        _http.Dispose();
        _setupLock.Dispose();
    }
}

/// <summary>Request body that streams a blob from another response, reporting progress; never buffers it.</summary>
internal sealed class BlobStreamContent : HttpContent
{
    private readonly Stream _source;
    private readonly long _length;
    private readonly IProgress<long>? _progress;

    public BlobStreamContent(Stream source, long length, IProgress<long>? progress)
    {
        _source = source;
        _length = length;
        _progress = progress;
        Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
    }

    protected override async Task SerializeToStreamAsync(Stream stream, TransportContext? context) =>
        await SerializeToStreamAsync(stream, context, CancellationToken.None);

    protected override async Task SerializeToStreamAsync(Stream stream, TransportContext? context, CancellationToken ct)
    {
        var buffer = new byte[128 * 1024];
        long sent = 0;
        int read;
        while ((read = await _source.ReadAsync(buffer, ct)) > 0)
        {
            await stream.WriteAsync(buffer.AsMemory(0, read), ct);
            sent += read;
            _progress?.Report(sent);
        }
        if (sent != _length) throw new IOException($"source blob ended after {sent} of {_length} bytes");
    }

    protected override bool TryComputeLength(out long length)
    {
        length = _length;
        return _length >= 0;
    }
}
