using System.Text.Json;
using System.Text.Json.Serialization;
using Arca.Core.Model;
using Arca.Core.Storage;
using Arca.Server.Api;
using Arca.Server.Auth;
using Arca.Server.Endpoints;
using Arca.Server.Formats;
using Arca.Server.Replication;
using Arca.Server.Services;
using Arca.Storage.FileSystem;
using Arca.Storage.S3;
using Arca.Storage.Sqlite;
using Microsoft.AspNetCore.Http.Json;

namespace Arca.Server.Hosting;

/// <summary>Builds the server: storage from options, auth, management API, and every format module.</summary>
public static class ArcaServer
{
    /// <param name="configureServices">Extra registrations applied last (tests, embedding hosts).</param>
    public static async Task<WebApplication> BuildAsync(ServerOptions options, string[]? args = null, Action<IServiceCollection>? configureServices = null)
    {
        var dataDir = Path.GetFullPath(options.DataDirectory);
        Directory.CreateDirectory(dataDir);
        options = options with { DataDirectory = dataDir };

        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { Args = args ?? [], ContentRootPath = AppContext.BaseDirectory });
        builder.WebHost.UseUrls(options.Listen);
        builder.WebHost.ConfigureKestrel(k =>
        {
            k.Limits.MaxRequestBodySize = null; // formats enforce their own limits while streaming
            k.AddServerHeader = false;
        });
        builder.Logging.ClearProviders();
        if (options.JsonLogs) builder.Logging.AddJsonConsole(o => o.TimestampFormat = "O");
        else builder.Logging.AddSimpleConsole(o => { o.SingleLine = true; o.TimestampFormat = "yyyy-MM-ddTHH:mm:ss.fffZ "; o.UseUtcTimestamp = true; });
        builder.Logging.SetMinimumLevel(options.MinimumLogLevel);
        builder.Logging.AddFilter("Microsoft.AspNetCore", LogLevel.Warning);
        builder.Logging.AddFilter("Microsoft.Hosting.Lifetime", options.MinimumLogLevel);
        builder.Services.Configure<HostOptions>(o => o.ShutdownTimeout = TimeSpan.FromSeconds(15));

        builder.Services.Configure<JsonOptions>(o =>
        {
            o.SerializerOptions.PropertyNamingPolicy = JsonNamingPolicy.CamelCase;
            o.SerializerOptions.DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull;
            o.SerializerOptions.Converters.Add(new JsonStringEnumConverter(JsonNamingPolicy.CamelCase));
        });

        builder.Services.AddSingleton(options);
        builder.Services.AddSingleton(CreateMetadataStore(options));
        builder.Services.AddSingleton(CreateBlobStore(options));
        builder.Services.AddSingleton<RegistryAccess>();
        builder.Services.AddSingleton<ArtifactService>();
        builder.Services.AddSingleton<DefaultArtifactLifecycle>();
        builder.Services.AddSingleton<ArtifactLifecycles>();
        builder.Services.AddSingleton<GarbageCollector>();
        builder.Services.AddHostedService<PeriodicGcService>();
        EndpointApi.AddServices(builder.Services);
        ReplicationApi.AddServices(builder.Services);
        builder.Services.AddOpenApi("v1", o => o.ShouldInclude = d => d.RelativePath?.StartsWith("api/v1", StringComparison.Ordinal) == true);

        var modules = FormatModules.Create();
        builder.Services.AddSingleton<IEnumerable<IFormatModule>>(modules);
        foreach (var m in modules) m.AddServices(builder.Services);
        configureServices?.Invoke(builder.Services);

        var app = builder.Build();

        var store = app.Services.GetRequiredService<IMetadataStore>();
        await store.MigrateAsync();
        var blobs = app.Services.GetRequiredService<IBlobStore>();
        if (blobs is S3BlobStore s3) await s3.CheckAccessAsync(); // a wrong bucket or credentials: one clear line at start-up
        try { await blobs.CleanupTemporaryAsync(TimeSpan.Zero); }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            // Leftovers of interrupted writes are never visible; failing to remove them must not keep the server down.
            app.Logger.LogWarning(e, "removing leftovers of interrupted writes failed");
        }
        await AdminBootstrap.RunAsync(store, dataDir, options.AdminToken, app.Logger);

        app.UseMiddleware<RequestLoggingMiddleware>();
        app.UseMiddleware<ErrorHandlingMiddleware>();
        app.UseMiddleware<AuthenticationMiddleware>();

        SystemEndpoints.MapHealth(app);
        var api = app.MapGroup("/api/v1");
        RegistryEndpoints.Map(api);
        ArtifactEndpoints.Map(api);
        TokenEndpoints.Map(api);
        EndpointApi.Map(api);
        ReplicationApi.Map(api);
        SystemEndpoints.Map(api);
        app.MapOpenApi("/api/v1/openapi.json");
        foreach (var m in modules) m.MapEndpoints(app);

        // Unknown routes get the JSON error shape too.
        app.MapFallback((HttpContext ctx) => ErrorWriter.WriteAsync(ctx, ArcaException.NotFound($"no such endpoint: {ctx.Request.Method} {ctx.Request.Path}")))
            .ExcludeFromDescription();
        return app;
    }

    private static IMetadataStore CreateMetadataStore(ServerOptions o)
    {
        if (string.IsNullOrWhiteSpace(o.Database))
            return new SqliteMetadataStore(Path.Combine(o.DataDirectory, "arca.db"));
        if (o.Database.StartsWith("sqlite:", StringComparison.OrdinalIgnoreCase))
            return new SqliteMetadataStore(o.Database["sqlite:".Length..]);
        throw new InvalidOperationException("--database: only the embedded SQLite store is available in this build (PostgreSQL support is not implemented yet)");
    }

    private static IBlobStore CreateBlobStore(ServerOptions o)
    {
        if (string.IsNullOrWhiteSpace(o.BlobStore) || o.BlobStore.StartsWith("file:", StringComparison.OrdinalIgnoreCase))
        {
            var dir = string.IsNullOrWhiteSpace(o.BlobStore) ? o.DataDirectory : o.BlobStore["file:".Length..].TrimStart('/').Insert(0, "/");
            return new FileSystemBlobStore(dir);
        }
        if (o.BlobStore.StartsWith("s3:", StringComparison.OrdinalIgnoreCase))
        {
            try { return new S3BlobStore(S3BlobStoreOptions.Parse(o.BlobStore)); }
            catch (FormatException e) { throw new InvalidOperationException($"--blob-store: {e.Message}", e); }
        }
        throw new InvalidOperationException($"--blob-store '{o.BlobStore}': expected file:/path or s3://bucket[/prefix]?endpoint=URL&region=R");
    }
}
