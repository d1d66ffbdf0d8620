using Arca.Core.Auth;
using Arca.Core.Model;

namespace Arca.Server.Auth;

/// <summary>The one place that decides who may do what. 401 when the caller is anonymous (authenticating could help),
/// 403 when the caller is known but lacks the scope or the registry.</summary>
public static class AccessControl
{
    public static bool CanRead(Principal p, Registry r) => r.Public || p.Has(TokenScope.Read, r.Id);

    public static void Require(Principal p, Registry? r, TokenScope needed)
    {
        if (needed == TokenScope.Read && r is { Public: true }) return;
        if (p.Has(needed, r?.Id)) return;
        if (!p.IsAuthenticated) throw ArcaException.Unauthorized();
        var where = r is null ? "server-wide" : $"on registry '{r.Name}'";
        throw ArcaException.Forbidden($"token '{p.Name}' lacks the {TokenSecrets.ScopeName(needed)} scope {where}");
    }

    public static Principal Principal(this HttpContext ctx) => AuthenticationMiddleware.GetPrincipal(ctx);
}
