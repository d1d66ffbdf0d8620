using Arca.Core.Auth;
using Arca.Core.Model;
using Arca.Core.Storage;
using Arca.Core.Validation;
using Arca.Server.Auth;

namespace Arca.Server.Services;

/// <summary>Finds a registry for a request and checks the caller's access and the registry's package type.</summary>
public sealed class RegistryAccess(IMetadataStore store)
{
    /// <summary>Returns the registry when the caller has <paramref name="needed"/> on it. A private registry the caller
    /// cannot read answers 401/403 rather than 404, so that its existence is not revealed to anonymous callers.</summary>
    public Task<Registry> RequireAsync(HttpContext ctx, string name, TokenScope needed, params string[] packageTypes) =>
        RequireAsync(ctx, ctx.Principal(), name, needed, packageTypes);

    /// <summary>The same check for an explicit principal (a format that narrows the caller's rights per request).</summary>
    public async Task<Registry> RequireAsync(HttpContext ctx, Principal principal, string name, TokenScope needed, string[] packageTypes)
    {
        if (!Identifiers.IsValidRegistryName(name)) Identifiers.ValidateRegistryName(name);
        var registry = await store.GetRegistryAsync(name, ctx.RequestAborted);
        if (registry is null)
        {
            if (!principal.IsAuthenticated) throw ArcaException.Unauthorized();
            throw ArcaException.NotFound($"registry '{name}' not found", "REGISTRY_NOT_FOUND");
        }
        AccessControl.Require(principal, registry, needed);
        if (packageTypes.Length > 0 && !packageTypes.Contains(registry.PackageType))
            throw ArcaException.BadRequest($"registry '{name}' holds {registry.PackageType} packages, not {string.Join("/", packageTypes)}", "WRONG_PACKAGE_TYPE");
        return registry;
    }
}
