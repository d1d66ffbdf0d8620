using Arca.Core.Model;
using Arca.Core.Storage;
using Arca.Server.Auth;
using Arca.Server.Hosting;
using Arca.Server.Services;
using Arca.Storage.Postgres;
using Arca.Storage.Sqlite;

namespace Arca.Server.Formats.Oci;

/// <summary>
/// DOCKER and HELM registries over the OCI distribution spec v1.1 at <c>/v2/&lt;registry&gt;/&lt;name...&gt;/...</c>,
/// plus <c>/v2/_catalog</c> and the token endpoint <c>/v2/token</c>.
/// </summary>
public sealed class OciModule : IFormatModule
{
    public string Name => "oci";
    public IReadOnlyList<string> PackageTypes => [Core.Model.PackageTypes.Docker, Core.Model.PackageTypes.Helm];

    public void AddServices(IServiceCollection services)
    {
        services.AddSingleton<IOciMetadataStore>(sp => sp.GetRequiredService<IMetadataStore>() switch
        {
            SqliteMetadataStore sqlite => new SqliteOciStore(sqlite),
            PostgresMetadataStore postgres => new PostgresOciStore(postgres),
            var other => throw new InvalidOperationException($"the OCI module has no table store for {other.GetType().Name}"),
        });
        services.AddSingleton<OciManifestService>();
        services.AddSingleton<OciManifestCache>();
        services.AddSingleton<OciTokenService>();
        services.AddSingleton<IBearerTokenReader>(sp => sp.GetRequiredService<OciTokenService>());
        services.AddSingleton<OciEndpoints>();
        services.AddSingleton<IArtifactLifecycle>(sp => ActivatorUtilities.CreateInstance<OciArtifactLifecycle>(sp, Core.Model.PackageTypes.Docker));
        services.AddSingleton<IArtifactLifecycle>(sp => ActivatorUtilities.CreateInstance<OciArtifactLifecycle>(sp, Core.Model.PackageTypes.Helm));
        services.AddSingleton<IUntaggedManifestPruner, OciUntaggedPruner>();
        services.AddHostedService<OciUploadCleanupService>();
    }

    public void MapEndpoints(IEndpointRouteBuilder app)
    {
        app.MapMethods("/v2/", [HttpMethods.Get, HttpMethods.Head], (HttpContext ctx, OciEndpoints e) => e.BaseAsync(ctx)).ExcludeFromDescription();
        app.MapGet("/v2/token", (HttpContext ctx, OciEndpoints e) => e.TokenAsync(ctx)).ExcludeFromDescription();
        app.MapGet("/v2/_catalog", (HttpContext ctx, OciEndpoints e) => e.CatalogAsync(ctx)).ExcludeFromDescription();
        app.Map("/v2/{**rest}", (HttpContext ctx, OciEndpoints e) => e.DispatchAsync(ctx)).ExcludeFromDescription();
    }

    /// <summary>PRODUCT.md: the OCI client URL is <c>host:port/registry</c> (images are <c>host:port/registry/image:tag</c>).</summary>
    public string? ClientUrl(Registry registry, string baseUrl) => $"{new Uri(baseUrl).Authority}/{registry.Name}";

    public bool OwnsPath(PathString path) => path.StartsWithSegments("/v2");

    public Task WriteErrorAsync(HttpContext ctx, ArcaException error) => OciErrors.WriteAsync(ctx, error);

    public static string BaseUrl(HttpContext ctx, ServerOptions options) =>
        !string.IsNullOrEmpty(options.PublicUrl) ? options.PublicUrl.TrimEnd('/') : $"{ctx.Request.Scheme}://{ctx.Request.Host}";
}

/// <summary>`arca gc --delete-untagged`: removes untagged manifests nothing needs.</summary>
public sealed class OciUntaggedPruner(IOciMetadataStore oci) : IUntaggedManifestPruner
{
    public Task<int> PruneAsync(bool dryRun, CancellationToken ct) => oci.PruneUntaggedAsync(dryRun, ct);
}
