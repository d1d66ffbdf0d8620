using System.Text.RegularExpressions;
using Arca.Core.Auth;
using Arca.Core.Model;
using Arca.Core.Storage;
using Arca.Server.Auth;
using static Arca.Server.Api.ApiSupport;

namespace Arca.Server.Api;

public static partial class TokenEndpoints
{
    [GeneratedRegex("^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")]
    private static partial Regex NamePattern();

    public static void Map(RouteGroupBuilder api)
    {
        var g = api.MapGroup("/tokens").WithTags("Tokens");

        g.MapPost("", async (HttpContext ctx, IMetadataStore store) =>
        {
            var principal = ctx.Principal();
            var req = await ReadJsonAsync<CreateTokenRequest>(ctx.Request);
            if (req.Name is null || !NamePattern().IsMatch(req.Name))
                throw ArcaException.BadRequest($"invalid token name '{req.Name}': 1-64 characters A-Z, a-z, 0-9, '.', '_' or '-'", "INVALID_NAME");
            if (!TokenSecrets.TryParseScope(req.Scope, out var scope))
                throw ArcaException.BadRequest($"invalid scope '{req.Scope}': use read, write, delete or admin", "INVALID_SCOPE");
            Registry? registry = null;
            if (!string.IsNullOrEmpty(req.Registry))
                registry = await store.GetRegistryAsync(req.Registry, ctx.RequestAborted)
                    ?? throw ArcaException.NotFound($"registry '{req.Registry}' not found", "REGISTRY_NOT_FOUND");
            // Admins of a registry may mint tokens for it; only server admins mint server-wide tokens.
            AccessControl.Require(principal, registry, TokenScope.Admin);
            DateTimeOffset? expires = req.ExpiresIn is null ? null : DateTimeOffset.UtcNow + ParseDuration(req.ExpiresIn);
            var secret = TokenSecrets.NewSecret();
            var token = await store.CreateTokenAsync(new ApiToken
            {
                Name = req.Name, Hash = TokenSecrets.Hash(secret), Scope = scope, RegistryId = registry?.Id, ExpiresAt = expires,
            }, ctx.RequestAborted);
            return Results.Created($"/api/v1/tokens/{token.Name}", TokenDto.From(token, secret));
        }).WithName("CreateToken");

        g.MapGet("", async (HttpContext ctx, IMetadataStore store) =>
        {
            var principal = ctx.Principal();
            if (!principal.IsAuthenticated) throw ArcaException.Unauthorized();
            var all = await store.ListTokensAsync(ctx.RequestAborted);
            var visible = all.Where(t => principal.IsServerAdmin
                || (principal.Token!.Scope == TokenScope.Admin && t.RegistryId == principal.Token.RegistryId)
                || t.Id == principal.Token!.Id);
            return Results.Ok(new { items = visible.Select(t => TokenDto.From(t)).ToList() });
        }).WithName("ListTokens");

        g.MapDelete("/{nameOrId}", async (HttpContext ctx, string nameOrId, IMetadataStore store) =>
        {
            var principal = ctx.Principal();
            if (!principal.IsAuthenticated) throw ArcaException.Unauthorized();
            var all = await store.ListTokensAsync(ctx.RequestAborted);
            var token = all.FirstOrDefault(t => t.Name == nameOrId) ?? all.FirstOrDefault(t => t.Id.ToString() == nameOrId)
                ?? throw ArcaException.NotFound($"token '{nameOrId}' not found", "TOKEN_NOT_FOUND");
            var own = token.Id == principal.Token!.Id;
            if (!own) AccessControl.Require(principal, token.RegistryId is { } rid ? await store.GetRegistryByIdAsync(rid, ctx.RequestAborted) : null, TokenScope.Admin);
            await store.RevokeTokenAsync(token.Id, ctx.RequestAborted);
            return Results.NoContent();
        }).WithName("RevokeToken");
    }

    /// <summary>Parses "30d", "12h", "90m", "3600s" or a plain number of days.</summary>
    public static TimeSpan ParseDuration(string text)
    {
        var t = text.Trim().ToLowerInvariant();
        if (t.Length >= 2 && long.TryParse(t[..^1], out var n) && n > 0)
            switch (t[^1])
            {
                case 'd': return TimeSpan.FromDays(n);
                case 'h': return TimeSpan.FromHours(n);
                case 'm': return TimeSpan.FromMinutes(n);
                case 's': return TimeSpan.FromSeconds(n);
                case 'w': return TimeSpan.FromDays(7 * n);
                case 'y': return TimeSpan.FromDays(365 * n);
            }
        if (long.TryParse(t, out var days) && days > 0) return TimeSpan.FromDays(days);
        throw ArcaException.BadRequest($"invalid duration '{text}': use e.g. 30d, 12h, 90m", "INVALID_DURATION");
    }
}
