using System.Data.Common;
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
using Arca.Storage.Postgres;
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
        try
        {
            await store.MigrateAsync();
            if (store is ISharedKeyStore sharedKeys) await SharedKeyFiles.SyncAsync(sharedKeys, dataDir, app.Logger);
        }
        catch (DbException e) when (store is PostgresMetadataStore)
        {
            // One line for the operator (`arca serve` prints the message), not a driver stack trace.
            throw new InvalidOperationException($"cannot use the PostgreSQL database {PostgresConnection.Describe(options.Database!)}: {OneLine(e)}");
        }
        var blobs = app.Services.GetRequiredService<IBlobStore>();
        if (blobs is S3BlobStore s3) await s3.CheckAccessAsync(); // a wrong bucket or credentials: one clear line at start-up
        // Leftovers of a crash are removed at start-up; but instances sharing a database share the blob store too, and
        // its temporary files may be other instances' uploads in flight: then only what is abandoned goes.
        try { await blobs.CleanupTemporaryAsync(store is ISharedKeyStore ? options.UploadSessionMaxAge : TimeSpan.Zero); }
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

    /// <summary>SQLite in the data directory by default, <c>sqlite:PATH</c>, or PostgreSQL for a postgres:// or
    /// postgresql:// URI or an Npgsql keyword string (Host=...;Database=...).</summary>
    private static IMetadataStore CreateMetadataStore(ServerOptions o)
    {
        if (string.IsNullOrWhiteSpace(o.Database))
            return new SqliteMetadataStore(Path.Combine(o.DataDirectory, "arca.db"));
        if (o.Database.StartsWith("sqlite:", StringComparison.OrdinalIgnoreCase))
            return new SqliteMetadataStore(o.Database["sqlite:".Length..]);
        if (PostgresConnection.IsPostgres(o.Database))
        {
            try { return new PostgresMetadataStore(o.Database); }
            catch (ArgumentException e) { throw new InvalidOperationException($"--database: {e.Message}"); }
        }
        throw new InvalidOperationException(
            "--database: expected a PostgreSQL connection string (postgres://user:password@host:5432/arca or Host=...;Database=...) or sqlite:PATH");
    }

    /// <summary>The exception's message without the driver's multi-line details (first line, inner cause appended).</summary>
    private static string OneLine(Exception e)
    {
        var message = e.Message.Split('\n')[0].Trim();
        if (e.InnerException is { } inner && !message.Contains(inner.Message.Split('\n')[0], StringComparison.Ordinal))
            message += $" ({inner.Message.Split('\n')[0].Trim()})";
        return message;
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
