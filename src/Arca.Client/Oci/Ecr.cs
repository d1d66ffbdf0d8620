using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;

namespace Arca.Client.Oci;

public sealed record AwsCredentials(string AccessKeyId, string SecretAccessKey, string? SessionToken = null)
{
    public override string ToString() => $"AwsCredentials({AccessKeyId}, secret hidden)";
}

/// <summary>An ECR authorization token: base64("AWS:password") valid until <see cref="ExpiresAt"/>.</summary>
public sealed record EcrAuthorizationToken(string Token, DateTimeOffset ExpiresAt)
{
    /// <summary>Decodes the token into the Basic credentials a registry accepts.</summary>
    public RegistryCredential ToCredential()
    {
        string decoded;
        try { decoded = Encoding.UTF8.GetString(Convert.FromBase64String(Token)); }
        catch (FormatException) { throw new OciException("ECR authorization token is not base64"); }
        var i = decoded.IndexOf(':');
        if (i <= 0) throw new OciException("ECR authorization token is not base64(user:password)");
        return new RegistryCredential(decoded[..i], decoded[(i + 1)..]);
    }
}

/// <summary>ECR's GetAuthorizationToken call (behind an interface so credential derivation is testable).</summary>
public interface IEcrAuthorizationClient
{
    Task<EcrAuthorizationToken> GetAuthorizationTokenAsync(AwsCredentials credentials, string region, CancellationToken ct);
}

/// <summary>
/// Calls ECR's JSON API <c>GetAuthorizationToken</c> signed with AWS Signature Version 4.
/// (The AWSSDK.ECR package is not available from this project's NuGet mirror; the call is one signed POST.)
/// </summary>
public sealed class EcrAuthorizationClient(HttpClient http, Func<string, Uri>? endpointForRegion = null) : IEcrAuthorizationClient
{
    private const string Target = "AmazonEC2ContainerRegistry_V20150921.GetAuthorizationToken";

    /// <summary>The regional endpoint; AWS_ENDPOINT_URL_ECR / AWS_ENDPOINT_URL override it (as in the AWS SDKs).</summary>
    public static Uri DefaultEndpoint(string region) =>
        Environment.GetEnvironmentVariable("AWS_ENDPOINT_URL_ECR") is { Length: > 0 } e ? new Uri(e)
        : Environment.GetEnvironmentVariable("AWS_ENDPOINT_URL") is { Length: > 0 } g ? new Uri(g)
        : new Uri($"https://api.ecr.{region}.amazonaws.com/");

    public async Task<EcrAuthorizationToken> GetAuthorizationTokenAsync(AwsCredentials credentials, string region, CancellationToken ct)
    {
        var endpoint = (endpointForRegion ?? DefaultEndpoint)(region);
        var body = "{}"u8.ToArray();
        using var request = new HttpRequestMessage(HttpMethod.Post, endpoint) { Content = new ByteArrayContent(body) };
        var headers = new SortedDictionary<string, string>(StringComparer.Ordinal)
        {
            ["content-type"] = "application/x-amz-json-1.1",
            ["host"] = endpoint.IsDefaultPort ? endpoint.Host : endpoint.Authority,
            ["x-amz-target"] = Target,
        };
        var authorization = AwsSigV4.Sign("POST", endpoint, headers, body, credentials, region, "ecr", DateTimeOffset.UtcNow);
        foreach (var (name, value) in headers)
        {
            if (name is "host" or "content-type") continue;
            request.Headers.TryAddWithoutValidation(name, value);
        }
        request.Content.Headers.TryAddWithoutValidation("Content-Type", headers["content-type"]);
        request.Headers.TryAddWithoutValidation("Authorization", authorization);
        using var response = await http.SendAsync(request, ct);
        var text = await response.Content.ReadAsStringAsync(ct);
        if (!response.IsSuccessStatusCode)
            throw new OciException($"ECR GetAuthorizationToken ({region}) failed: {(int)response.StatusCode} {Truncate(text)}", response.StatusCode);
        using var doc = JsonDocument.Parse(text);
        if (!doc.RootElement.TryGetProperty("authorizationData", out var data) || data.GetArrayLength() == 0)
            throw new OciException("ECR GetAuthorizationToken returned no authorizationData");
        var first = data[0];
        var token = first.GetProperty("authorizationToken").GetString() ?? throw new OciException("ECR returned an empty token");
        var expires = first.TryGetProperty("expiresAt", out var e) && e.TryGetDouble(out var seconds)
            ? DateTimeOffset.FromUnixTimeMilliseconds((long)(seconds * 1000)) : DateTimeOffset.UtcNow.AddHours(12);
        return new EcrAuthorizationToken(token, expires);
    }

    private static string Truncate(string s) => s.Length > 300 ? s[..300] + "..." : s;
}

/// <summary>AWS Signature Version 4 for a request whose headers are all signed.</summary>
public static class AwsSigV4
{
    /// <summary>
    /// Adds <c>x-amz-date</c> (and <c>x-amz-security-token</c>) to <paramref name="headers"/> (lower-case names) and
    /// returns the Authorization header value.
    /// </summary>
    public static string Sign(string method, Uri uri, SortedDictionary<string, string> headers, byte[] payload,
        AwsCredentials credentials, string region, string service, DateTimeOffset now)
    {
        var amzDate = now.UtcDateTime.ToString("yyyyMMdd'T'HHmmss'Z'", CultureInfo.InvariantCulture);
        var date = amzDate[..8];
        headers["x-amz-date"] = amzDate;
        if (credentials.SessionToken is { Length: > 0 } session) headers["x-amz-security-token"] = session;

        var canonicalHeaders = string.Concat(headers.Select(h => $"{h.Key}:{Regex.Replace(h.Value.Trim(), " +", " ")}\n"));
        var signedHeaders = string.Join(';', headers.Keys);
        var canonicalRequest = string.Join('\n',
            method,
            CanonicalPath(uri),
            CanonicalQuery(uri),
            canonicalHeaders,
            signedHeaders,
            Hex(SHA256.HashData(payload)));
        var scope = $"{date}/{region}/{service}/aws4_request";
        var stringToSign = $"AWS4-HMAC-SHA256\n{amzDate}\n{scope}\n{Hex(SHA256.HashData(Encoding.UTF8.GetBytes(canonicalRequest)))}";
        var key = Hmac(Encoding.UTF8.GetBytes("AWS4" + credentials.SecretAccessKey), date);
        key = Hmac(key, region);
        key = Hmac(key, service);
        key = Hmac(key, "aws4_request");
        var signature = Hex(Hmac(key, stringToSign));
        return $"AWS4-HMAC-SHA256 Credential={credentials.AccessKeyId}/{scope}, SignedHeaders={signedHeaders}, Signature={signature}";
    }

    private static string CanonicalPath(Uri uri)
    {
        var path = uri.AbsolutePath;
        return path.Length == 0 ? "/" : string.Join('/', path.Split('/').Select(s => Uri.EscapeDataString(Uri.UnescapeDataString(s))));
    }

    private static string CanonicalQuery(Uri uri)
    {
        var query = uri.Query.TrimStart('?');
        if (query.Length == 0) return "";
        return string.Join('&', query.Split('&')
            .Select(p => p.Split('=', 2))
            .Select(kv => (K: Uri.EscapeDataString(Uri.UnescapeDataString(kv[0])), V: kv.Length > 1 ? Uri.EscapeDataString(Uri.UnescapeDataString(kv[1])) : ""))
            .OrderBy(kv => kv.K, StringComparer.Ordinal).ThenBy(kv => kv.V, StringComparer.Ordinal)
            .Select(kv => $"{kv.K}={kv.V}"));
    }

    private static byte[] Hmac(byte[] key, string data) => HMACSHA256.HashData(key, Encoding.UTF8.GetBytes(data));
    private static string Hex(byte[] bytes) => Convert.ToHexStringLower(bytes);
}

/// <summary>
/// Credentials for ECR hosts (<c>ACCOUNT.dkr.ecr.REGION.amazonaws.com</c>): exchanges the AWS key pair for an
/// authorization token (cached until shortly before it expires). Other hosts get null.
/// </summary>
public sealed partial class EcrCredentialProvider(IEcrAuthorizationClient client, AwsCredentials credentials, string? region = null)
    : IRegistryCredentialProvider
{
    private readonly SemaphoreSlim _lock = new(1, 1);
    private readonly Dictionary<string, EcrAuthorizationToken> _tokens = new();

    [GeneratedRegex(@"^\d+\.dkr\.ecr(?:-fips)?\.([a-z0-9-]+)\.amazonaws\.com(?:\.cn)?(?::\d+)?$")]
    private static partial Regex EcrHost();

    /// <summary>The region encoded in an ECR host name, or null when the host is not ECR.</summary>
    public static string? RegionOf(string host) => EcrHost().Match(host.ToLowerInvariant()) is { Success: true } m ? m.Groups[1].Value : null;

    public static bool IsEcrHost(string host) => RegionOf(host) is not null;

    /// <param name="registryHost">An ECR host, or any host when an explicit region was configured.</param>
    public async ValueTask<RegistryCredential?> GetAsync(string registryHost, CancellationToken ct)
    {
        var effectiveRegion = region ?? RegionOf(registryHost);
        if (effectiveRegion is null) return null;
        await _lock.WaitAsync(ct);
        try
        {
            if (!_tokens.TryGetValue(effectiveRegion, out var token) || token.ExpiresAt <= DateTimeOffset.UtcNow.AddMinutes(5))
                _tokens[effectiveRegion] = token = await client.GetAuthorizationTokenAsync(credentials, effectiveRegion, ct);
            return token.ToCredential();
        }
        finally { _lock.Release(); }
    }
}
