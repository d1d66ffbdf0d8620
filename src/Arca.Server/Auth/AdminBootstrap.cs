using Arca.Core.Auth;
using Arca.Core.Model;
using Arca.Core.Storage;

namespace Arca.Server.Auth;

/// <summary>Creates the admin token on first start (PRODUCT.md): from ARCA_ADMIN_TOKEN, or generated, printed once
/// and written to &lt;data&gt;/admin-token with mode 0600.</summary>
public static class AdminBootstrap
{
    public static async Task RunAsync(IMetadataStore store, string dataDirectory, string? configuredToken, ILogger logger, CancellationToken ct = default)
    {
        if (!string.IsNullOrEmpty(configuredToken))
        {
            var hash = TokenSecrets.Hash(configuredToken);
            if (await store.FindTokenByHashAsync(hash, ct) is not null) return;
            // Instances sharing a database may start together: when another one took the name meanwhile, take a
            // distinct name once more; when it stored this very token, there is nothing left to do.
            for (var attempt = 0; ; attempt++)
            {
                var name = attempt == 0 && !await store.AnyAdminTokenAsync(ct) ? "admin"
                    : $"admin-env-{DateTime.UtcNow:yyyyMMddHHmmss}{(attempt == 0 ? "" : "-" + hash[..6])}";
                try
                {
                    await store.CreateTokenAsync(new ApiToken { Name = name, Hash = hash, Scope = TokenScope.Admin }, ct);
                    logger.LogInformation("Admin token {Name} taken from ARCA_ADMIN_TOKEN", name);
                    return;
                }
                catch (ArcaException e) when (e.Status == 409 && attempt == 0)
                {
                    if (await store.FindTokenByHashAsync(hash, ct) is not null) return;
                }
            }
        }
        if (await store.AnyAdminTokenAsync(ct)) return;

        var secret = TokenSecrets.NewSecret();
        try { await store.CreateTokenAsync(new ApiToken { Name = "admin", Hash = TokenSecrets.Hash(secret), Scope = TokenScope.Admin }, ct); }
        catch (ArcaException e) when (e.Status == 409)
        {
            // Another instance on the same database created the admin token first; it printed and saved that one.
            if (await store.AnyAdminTokenAsync(ct)) return;
            throw;
        }
        var path = Path.Combine(dataDirectory, "admin-token");
        await File.WriteAllTextAsync(path, secret + "\n", ct);
        if (!OperatingSystem.IsWindows())
            File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        Console.WriteLine($"Admin token (shown once, also saved to {path}): {secret}");
    }
}
