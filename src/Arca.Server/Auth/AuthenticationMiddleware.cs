using System.Text;
using Arca.Core.Auth;
using Arca.Core.Storage;

namespace Arca.Server.Auth;

/// <summary>
/// Turns the credentials of a request into a <see cref="Principal"/>: <c>Authorization: Bearer T</c>,
/// HTTP Basic with the token as password (any user name), or <c>X-NuGet-ApiKey</c>. Credentials that are
/// present but wrong answer 401 at once; no credentials means anonymous (each endpoint decides).
/// </summary>
public sealed class AuthenticationMiddleware(RequestDelegate next, IMetadataStore store, IEnumerable<IBearerTokenReader> bearerReaders)
{
    private const string ItemKey = "arca.principal";

    public static Principal GetPrincipal(HttpContext ctx) => ctx.Items[ItemKey] as Principal ?? Principal.Anonymous;

    public async Task InvokeAsync(HttpContext ctx)
    {
        var secret = ExtractSecret(ctx.Request, out var isBearer);
        if (secret is null)
        {
            ctx.Items[ItemKey] = Principal.Anonymous;
            await next(ctx);
            return;
        }

        Principal? principal = null;
        if (isBearer)
            foreach (var reader in bearerReaders)
                if ((principal = await reader.TryReadAsync(secret, ctx.RequestAborted)) is not null) break;
        principal ??= await ResolveTokenAsync(store, secret, ctx.RequestAborted);
        if (principal is null)
        {
            await ErrorWriter.WriteAsync(ctx, Core.Model.ArcaException.Unauthorized("invalid or expired token"));
            return;
        }
        ctx.Items[ItemKey] = principal;
        await next(ctx);
    }

    public static async Task<Principal?> ResolveTokenAsync(IMetadataStore store, string secret, CancellationToken ct)
    {
        var token = await store.FindTokenByHashAsync(TokenSecrets.Hash(secret), ct);
        if (token is null || token.IsExpired(DateTimeOffset.UtcNow)) return null;
        if (token.LastUsedAt is null || token.LastUsedAt < DateTimeOffset.UtcNow.AddMinutes(-1))
            await store.TouchTokenAsync(token.Id, DateTimeOffset.UtcNow, ct); // at most once a minute per token
        return new Principal(token);
    }

    internal static string? ExtractSecret(HttpRequest request, out bool isBearer)
    {
        isBearer = false;
        var header = request.Headers.Authorization.ToString();
        if (header.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase))
        {
            isBearer = true;
            var t = header[7..].Trim();
            return t.Length == 0 ? null : t;
        }
        if (header.StartsWith("Basic ", StringComparison.OrdinalIgnoreCase))
        {
            try
            {
                var decoded = Encoding.UTF8.GetString(Convert.FromBase64String(header[6..].Trim()));
                var i = decoded.IndexOf(':');
                var password = i >= 0 ? decoded[(i + 1)..] : decoded;
                // Some clients (e.g. npm's legacy _auth) put the token in the user name with an empty password.
                if (password.Length == 0 && i > 0) password = decoded[..i];
                return password.Length == 0 ? null : password;
            }
            catch (FormatException) { return "\0invalid"; }
        }
        var apiKey = request.Headers["X-NuGet-ApiKey"].ToString();
        if (apiKey.Length > 0) return apiKey;
        return null;
    }
}

/// <summary>Lets a format module accept its own bearer tokens (e.g. short-lived OCI registry tokens).</summary>
public interface IBearerTokenReader
{
    Task<Principal?> TryReadAsync(string bearer, CancellationToken ct);
}
