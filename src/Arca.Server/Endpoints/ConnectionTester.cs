using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Authentication;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using System.Text.Json;
using Arca.Core.Endpoints;

namespace Arca.Server.Endpoints;

/// <summary>What Test Connection is asked to check: a saved endpoint's settings, or an unsaved definition.</summary>
public sealed record ConnectionTestRequest(string Provider, Uri Url, string? Username, string? Password, bool VerifyRemoteCert)
{
    public bool HasCredentials => !string.IsNullOrEmpty(Password);
}

/// <summary>The answer of Test Connection. <see cref="Code"/> is a stable machine-readable outcome.</summary>
public sealed record PingResult(bool Reachable, bool Authenticated, int? Status, string? Reason, long DurationMs, string Url, string Code);

/// <summary>Stable values of <see cref="PingResult.Code"/>.</summary>
public static class PingCodes
{
    public const string Ok = "ok";
    public const string NoCredentials = "no_credentials";
    public const string AuthenticationFailed = "authentication_failed";
    public const string UnexpectedStatus = "unexpected_status";
    public const string RedirectRefused = "redirect_refused";
    public const string Dns = "dns";
    public const string ConnectionRefused = "connection_refused";
    public const string Timeout = "timeout";
    public const string Tls = "tls";
    public const string Network = "network";
}

/// <summary>
/// Harbor-style Test Connection: GET the provider's health URL and judge reachability and authentication.
/// Without credentials a 401/403 still proves the remote is there. With credentials, OCI registries go through their
/// challenge (Bearer token flow or Basic); other formats get Basic (or Bearer for a password-only token) up front.
/// Redirects are followed only within the same origin (scheme, host, port) or from http to https on the same host, at most
/// 3 times, so credentials are never carried to another host.
/// </summary>
public sealed class ConnectionTester(ILogger<ConnectionTester> logger)
{
    public static readonly TimeSpan Timeout = TimeSpan.FromSeconds(10);
    private const int MaxRedirects = 3;
    private const int MaxTokenResponseBytes = 256 * 1024;

    public async Task<PingResult> TestAsync(ConnectionTestRequest request, CancellationToken ct)
    {
        var clock = Stopwatch.StartNew();
        var healthUrl = EndpointProviders.HealthUrl(request.Provider, request.Url);
        var probe = new Probe(request, healthUrl, clock);
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
        timeout.CancelAfter(Timeout);
        PingResult result;
        try
        {
            result = await probe.RunAsync(timeout.Token);
        }
        catch (OperationCanceledException) when (!ct.IsCancellationRequested)
        {
            result = probe.Fail(PingCodes.Timeout, $"timed out: no answer from {healthUrl.Authority} within {Timeout.TotalSeconds:0} s");
        }
        catch (HttpRequestException e)
        {
            result = probe.Classify(e);
        }
        finally
        {
            probe.Dispose();
        }
        logger.LogInformation("Test connection {Provider} {Url}: reachable={Reachable} authenticated={Authenticated} status={Status} code={Code}",
            request.Provider, healthUrl, result.Reachable, result.Authenticated, result.Status, result.Code);
        return result;
    }

    /// <summary>One connection test: its own handler, so the certificate check of this endpoint applies only here.</summary>
    private sealed class Probe : IDisposable
    {
        private readonly ConnectionTestRequest _request;
        private readonly Uri _healthUrl;
        private readonly Stopwatch _clock;
        private readonly HttpClient _http;
        private string? _certificateProblem;

        public Probe(ConnectionTestRequest request, Uri healthUrl, Stopwatch clock)
        {
            _request = request; _healthUrl = healthUrl; _clock = clock;
            var handler = new SocketsHttpHandler
            {
                AllowAutoRedirect = false, // followed by hand, same origin only
                UseCookies = false,
                ConnectTimeout = Timeout,
                PooledConnectionLifetime = TimeSpan.FromSeconds(30),
            };
            handler.SslOptions.RemoteCertificateValidationCallback = ValidateCertificate;
            _http = new HttpClient(handler) { Timeout = System.Threading.Timeout.InfiniteTimeSpan };
            _http.DefaultRequestHeaders.UserAgent.ParseAdd("arca-endpoint-ping/1.0");
        }

        private bool ValidateCertificate(object sender, X509Certificate? certificate, X509Chain? chain, SslPolicyErrors errors)
        {
            if (!_request.VerifyRemoteCert || errors == SslPolicyErrors.None) return true;
            var details = new List<string>();
            if (errors.HasFlag(SslPolicyErrors.RemoteCertificateNotAvailable)) details.Add("the server sent no certificate");
            if (errors.HasFlag(SslPolicyErrors.RemoteCertificateNameMismatch)) details.Add($"the certificate does not match the host name '{_healthUrl.Host}'");
            if (errors.HasFlag(SslPolicyErrors.RemoteCertificateChainErrors))
            {
                var status = chain?.ChainStatus.Select(s => s.Status).Distinct().ToList() ?? [];
                details.Add(status.Contains(X509ChainStatusFlags.UntrustedRoot) || status.Contains(X509ChainStatusFlags.PartialChain)
                    ? "the certificate is not trusted (self-signed or unknown issuer)"
                    : $"the certificate chain is invalid ({string.Join(", ", status)})");
            }
            _certificateProblem = string.Join("; ", details);
            return false;
        }

        public async Task<PingResult> RunAsync(CancellationToken ct)
        {
            var oci = EndpointProviders.IsOci(_request.Provider);
            // OCI registries announce how to authenticate in their 401 challenge, so the first request is anonymous.
            var firstAuth = oci || !_request.HasCredentials ? null : CredentialsHeader();
            var (response, refused) = await GetAsync(_healthUrl, firstAuth, ct);
            if (refused is not null) return refused;
            using (response)
            {
                var status = (int)response!.StatusCode;
                if (IsSuccess(status))
                    return oci && _request.HasCredentials
                        ? Result(true, true, status, "the registry allows anonymous access; the credentials were not needed", PingCodes.Ok)
                        : Success(status);
                if (status is 401 or 403)
                {
                    if (!_request.HasCredentials)
                        return Result(true, false, status, "no credentials", PingCodes.NoCredentials);
                    if (!oci) return AuthFailed(status);
                    return await AuthenticateOciAsync(response, ct);
                }
                return Unexpected(status, response);
            }
        }

        private async Task<PingResult> AuthenticateOciAsync(HttpResponseMessage challengeResponse, CancellationToken ct)
        {
            var challenge = challengeResponse.Headers.WwwAuthenticate.FirstOrDefault(h => h.Scheme.Equals("Bearer", StringComparison.OrdinalIgnoreCase));
            AuthenticationHeaderValue authorization;
            if (challenge is not null && ParseChallenge(challenge.Parameter) is { } parameters && parameters.TryGetValue("realm", out var realm))
            {
                var token = await RequestTokenAsync(realm, parameters, ct);
                if (token.Failure is not null) return token.Failure;
                authorization = new AuthenticationHeaderValue("Bearer", token.Token);
            }
            else
            {
                authorization = CredentialsHeader();
            }
            var (response, refused) = await GetAsync(_healthUrl, authorization, ct);
            if (refused is not null) return refused;
            using (response)
            {
                var status = (int)response!.StatusCode;
                if (IsSuccess(status)) return Success(status);
                if (status is 401 or 403) return AuthFailed(status);
                return Unexpected(status, response);
            }
        }

        /// <summary>The Docker token flow: GET the realm with Basic credentials, read <c>token</c> or <c>access_token</c>.</summary>
        private async Task<(string? Token, PingResult? Failure)> RequestTokenAsync(string realm, Dictionary<string, string> parameters, CancellationToken ct)
        {
            if (!Uri.TryCreate(realm, UriKind.Absolute, out var realmUrl) || realmUrl.Scheme is not ("http" or "https"))
                return (null, Result(true, false, 401, $"the registry's token realm '{realm}' is not an http(s) URL", PingCodes.AuthenticationFailed));
            // The token service may live on another host (Docker Hub does that), but credentials go there only over TLS.
            if (!SameOrigin(realmUrl, _healthUrl) && realmUrl.Scheme != "https")
                return (null, Result(true, false, 401,
                    $"the registry's token service {realmUrl.GetLeftPart(UriPartial.Authority)} is on another host over plain HTTP; credentials were not sent",
                    PingCodes.RedirectRefused));
            var query = new StringBuilder(realmUrl.Query.TrimStart('?'));
            void Add(string key, string value) { if (query.Length > 0) query.Append('&'); query.Append(key).Append('=').Append(Uri.EscapeDataString(value)); }
            if (parameters.TryGetValue("service", out var service)) Add("service", service);
            if (!string.IsNullOrEmpty(_request.Username)) Add("account", _request.Username);
            var tokenUrl = new UriBuilder(realmUrl) { Query = query.ToString() }.Uri;

            var (response, refused) = await GetAsync(tokenUrl, CredentialsHeader(), ct);
            if (refused is not null) return (null, refused);
            using (response)
            {
                var status = (int)response!.StatusCode;
                if (status is 401 or 403) return (null, AuthFailed(status));
                if (!IsSuccess(status))
                    return (null, Result(true, false, status, $"the token service {tokenUrl.GetLeftPart(UriPartial.Path)} answered {status} {response.ReasonPhrase}", PingCodes.UnexpectedStatus));
                var body = await ReadBoundedAsync(response, ct);
                try
                {
                    var root = JsonDocument.Parse(body).RootElement;
                    foreach (var name in new[] { "token", "access_token" })
                        if (root.ValueKind == JsonValueKind.Object && root.TryGetProperty(name, out var t) && t.ValueKind == JsonValueKind.String && t.GetString() is { Length: > 0 } token)
                            return (token, null);
                }
                catch (JsonException) { }
                return (null, Result(true, false, status, "the token service's answer holds no token", PingCodes.UnexpectedStatus));
            }
        }

        /// <summary>GET that follows redirects within the same origin only (at most <see cref="MaxRedirects"/>).
        /// A redirect elsewhere is not followed and becomes the result.</summary>
        private async Task<(HttpResponseMessage? Response, PingResult? Refused)> GetAsync(Uri url, AuthenticationHeaderValue? authorization, CancellationToken ct)
        {
            var current = url;
            for (var hop = 0; ; hop++)
            {
                using var message = new HttpRequestMessage(HttpMethod.Get, current);
                message.Headers.Authorization = authorization;
                var response = await _http.SendAsync(message, HttpCompletionOption.ResponseHeadersRead, ct);
                var status = (int)response.StatusCode;
                if (status is not (301 or 302 or 303 or 307 or 308) || response.Headers.Location is null) return (response, null);
                var target = response.Headers.Location.IsAbsoluteUri ? response.Headers.Location : new Uri(current, response.Headers.Location);
                response.Dispose();
                if (!SameOrigin(target, current) && !IsUpgradeToTls(current, target))
                    return (null, Result(true, false, status,
                        $"{current.GetLeftPart(UriPartial.Path)} redirects to another host or origin ({target.GetLeftPart(UriPartial.Authority)}); not followed so that credentials stay with the endpoint's host",
                        PingCodes.RedirectRefused));
                if (hop + 1 >= MaxRedirects)
                    return (null, Result(true, false, status, $"too many redirects (more than {MaxRedirects}) from {url.GetLeftPart(UriPartial.Path)}", PingCodes.RedirectRefused));
                current = target;
            }
        }

        /// <summary>http://host → https://host: the same host, now with its identity checked by TLS, so still safe.</summary>
        private static bool IsUpgradeToTls(Uri from, Uri to) =>
            from.Scheme == "http" && to.Scheme == "https" && from.Host.Equals(to.Host, StringComparison.OrdinalIgnoreCase);

        private static bool SameOrigin(Uri a, Uri b) =>
            a.Scheme.Equals(b.Scheme, StringComparison.OrdinalIgnoreCase) && a.Host.Equals(b.Host, StringComparison.OrdinalIgnoreCase) && a.Port == b.Port;

        private AuthenticationHeaderValue CredentialsHeader() =>
            string.IsNullOrEmpty(_request.Username)
                ? new AuthenticationHeaderValue("Bearer", _request.Password) // a bare token (npm, registry tokens)
                : new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes($"{_request.Username}:{_request.Password}")));

        /// <summary>Parses <c>realm="...",service="...",scope="..."</c> (quoted values may contain commas).</summary>
        internal static Dictionary<string, string>? ParseChallenge(string? parameter)
        {
            if (string.IsNullOrWhiteSpace(parameter)) return null;
            var result = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
            var i = 0;
            while (i < parameter.Length)
            {
                while (i < parameter.Length && (parameter[i] == ',' || char.IsWhiteSpace(parameter[i]))) i++;
                var eq = parameter.IndexOf('=', i);
                if (eq < 0) break;
                var key = parameter[i..eq].Trim();
                i = eq + 1;
                string value;
                if (i < parameter.Length && parameter[i] == '"')
                {
                    var sb = new StringBuilder();
                    for (i++; i < parameter.Length && parameter[i] != '"'; i++)
                    {
                        if (parameter[i] == '\\' && i + 1 < parameter.Length) i++;
                        sb.Append(parameter[i]);
                    }
                    i++;
                    value = sb.ToString();
                }
                else
                {
                    var end = parameter.IndexOf(',', i);
                    if (end < 0) end = parameter.Length;
                    value = parameter[i..end].Trim();
                    i = end;
                }
                if (key.Length > 0) result[key] = value;
            }
            return result;
        }

        private static async Task<string> ReadBoundedAsync(HttpResponseMessage response, CancellationToken ct)
        {
            await using var stream = await response.Content.ReadAsStreamAsync(ct);
            var buffer = new MemoryStream();
            var chunk = new byte[16 * 1024];
            int read;
            while ((read = await stream.ReadAsync(chunk, ct)) > 0)
            {
                if (buffer.Length + read > MaxTokenResponseBytes) break; // a token answer is small; ignore the rest
                buffer.Write(chunk, 0, read);
            }
            return Encoding.UTF8.GetString(buffer.GetBuffer(), 0, (int)buffer.Length);
        }

        private static bool IsSuccess(int status) => status is >= 200 and < 300;

        private PingResult Success(int status) => Result(true, true, status, null, PingCodes.Ok);

        private PingResult AuthFailed(int status) => Result(true, false, status, $"authentication failed ({status})", PingCodes.AuthenticationFailed);

        private PingResult Unexpected(int status, HttpResponseMessage response) =>
            Result(true, false, status, $"{_healthUrl} answered {status} {response.ReasonPhrase}" + (status == 404 ? $" (is this a {_request.Provider} endpoint?)" : ""),
                PingCodes.UnexpectedStatus);

        public PingResult Fail(string code, string reason) => Result(false, false, null, reason, code);

        private PingResult Result(bool reachable, bool authenticated, int? status, string? reason, string code) =>
            new(reachable, authenticated, status, reason, _clock.ElapsedMilliseconds, _healthUrl.ToString(), code);

        /// <summary>Turns a transport failure into "DNS", "refused", "TLS", ... with the host it concerns.</summary>
        public PingResult Classify(HttpRequestException e)
        {
            var authority = _healthUrl.Authority;
            if (_certificateProblem is not null)
                return Fail(PingCodes.Tls, $"TLS error: {_certificateProblem} ({authority}; turn verify-remote-cert off to accept it)");
            var socket = FindInner<SocketException>(e);
            if (e.HttpRequestError == HttpRequestError.NameResolutionError || socket?.SocketErrorCode is SocketError.HostNotFound or SocketError.NoData or SocketError.TryAgain)
                return Fail(PingCodes.Dns, $"DNS lookup failed: host '{_healthUrl.Host}' not found");
            if (socket?.SocketErrorCode == SocketError.ConnectionRefused)
                return Fail(PingCodes.ConnectionRefused, $"connection refused by {authority} (nothing listening on that port?)");
            if (socket?.SocketErrorCode == SocketError.TimedOut)
                return Fail(PingCodes.Timeout, $"timed out connecting to {authority}");
            if (e.HttpRequestError == HttpRequestError.SecureConnectionError || FindInner<AuthenticationException>(e) is not null)
                return Fail(PingCodes.Tls, $"TLS error talking to {authority}: {Innermost(e).Message}");
            if (socket is not null)
                return Fail(PingCodes.Network, $"cannot connect to {authority}: {socket.Message}");
            return Fail(PingCodes.Network, $"network error talking to {authority}: {Innermost(e).Message}");
        }

        private static T? FindInner<T>(Exception e) where T : Exception
        {
            for (Exception? x = e; x is not null; x = x.InnerException)
                if (x is T t) return t;
            return null;
        }

        private static Exception Innermost(Exception e)
        {
            while (e.InnerException is not null) e = e.InnerException;
            return e;
        }

        public void Dispose() => _http.Dispose();
    }
}
