using System.CommandLine;
using Arca.Server.Hosting;

namespace Arca.Cli.Commands;

public static class ServeCommand
{
    public static Command Create()
    {
        var listen = new Option<string>("--listen") { Description = "URL to listen on (env ARCA_LISTEN)", DefaultValueFactory = _ => Env("ARCA_LISTEN") ?? "http://127.0.0.1:8080" };
        var data = new Option<string>("--data") { Description = "Data directory: SQLite metadata and blob files (env ARCA_DATA)", DefaultValueFactory = _ => Env("ARCA_DATA") ?? "./arca-data" };
        var database = new Option<string?>("--database") { Description = "Metadata database (env ARCA_DATABASE): PostgreSQL as postgres://user:password@host:5432/db?sslmode=require or Host=...;Database=...;Username=...; sqlite:PATH; default: SQLite in the data directory. Instances sharing one PostgreSQL database (and blob store) can run side by side behind a load balancer" };
        var blobStore = new Option<string?>("--blob-store") { Description = "Blob store (env ARCA_BLOB_STORE): file:/path, or s3://bucket[/prefix]?endpoint=URL&region=R (AWS credentials from the environment); default: files in the data directory" };
        var publicUrl = new Option<string?>("--public-url") { Description = "External base URL shown to clients (env ARCA_PUBLIC_URL); default: from each request" };
        var maxUpload = new Option<string?>("--max-upload-size") { Description = "Largest accepted upload, e.g. 10G, 500M (env ARCA_MAX_UPLOAD_SIZE); default: unlimited" };
        var gcInterval = new Option<string?>("--gc-interval") { Description = "Run garbage collection periodically, e.g. 24h (env ARCA_GC_INTERVAL); default: never" };
        var gcGrace = new Option<string?>("--gc-grace") { Description = "Keep unreferenced blobs younger than this, e.g. 1h (env ARCA_GC_GRACE); default: 1h" };
        var uploadMaxAge = new Option<string?>("--upload-max-age") { Description = "Remove chunked-upload sessions idle longer than this, e.g. 24h (env ARCA_UPLOAD_MAX_AGE); default: 24h" };
        var jsonLogs = new Option<bool>("--json-logs") { Description = "Write logs as JSON lines (env ARCA_JSON_LOGS=1)" };

        var cmd = new Command("serve", "Run the Arca server") { listen, data, database, blobStore, publicUrl, maxUpload, gcInterval, gcGrace, uploadMaxAge, jsonLogs };
        cmd.SetAction(async (parse, ct) =>
        {
            var options = new ServerOptions
            {
                Listen = parse.GetValue(listen)!,
                DataDirectory = parse.GetValue(data)!,
                Database = parse.GetValue(database) ?? Env("ARCA_DATABASE"),
                BlobStore = parse.GetValue(blobStore) ?? Env("ARCA_BLOB_STORE"),
                PublicUrl = parse.GetValue(publicUrl) ?? Env("ARCA_PUBLIC_URL"),
                AdminToken = Env("ARCA_ADMIN_TOKEN"),
                MaxUploadBytes = Sizes.ParseOrNull(parse.GetValue(maxUpload) ?? Env("ARCA_MAX_UPLOAD_SIZE")),
                GcInterval = Durations.ParseOrNull(parse.GetValue(gcInterval) ?? Env("ARCA_GC_INTERVAL")),
                GcGracePeriod = Durations.ParseOrNull(parse.GetValue(gcGrace) ?? Env("ARCA_GC_GRACE")) ?? TimeSpan.FromHours(1),
                UploadSessionMaxAge = Durations.ParseOrNull(parse.GetValue(uploadMaxAge) ?? Env("ARCA_UPLOAD_MAX_AGE")) ?? TimeSpan.FromHours(24),
                JsonLogs = parse.GetValue(jsonLogs) || Env("ARCA_JSON_LOGS") is "1" or "true",
            };
            try
            {
                var app = await ArcaServer.BuildAsync(options);
                Console.Error.WriteLine($"arca serving on {options.Listen} (data: {Path.GetFullPath(options.DataDirectory)})");
                await app.RunAsync(); // stops gracefully on SIGINT/SIGTERM: in-flight requests finish, then exit
                return 0;
            }
            catch (Exception e) when (e is InvalidOperationException or IOException or UnauthorizedAccessException)
            {
                Console.Error.WriteLine($"error: {e.Message}");
                return 1;
            }
        });
        return cmd;
    }

    private static string? Env(string name) => Environment.GetEnvironmentVariable(name) is { Length: > 0 } v ? v : null;
}

public static class Sizes
{
    public static long? ParseOrNull(string? text)
    {
        if (string.IsNullOrWhiteSpace(text)) return null;
        var t = text.Trim().ToUpperInvariant().TrimEnd('B').TrimEnd('I');
        long mult = 1;
        if (t.EndsWith('K')) mult = 1L << 10; else if (t.EndsWith('M')) mult = 1L << 20; else if (t.EndsWith('G')) mult = 1L << 30; else if (t.EndsWith('T')) mult = 1L << 40;
        if (mult > 1) t = t[..^1];
        return long.TryParse(t, out var n) && n > 0 ? n * mult : throw new ArgumentException($"invalid size '{text}' (e.g. 500M, 10G)");
    }
}

public static class Durations
{
    public static TimeSpan? ParseOrNull(string? text) =>
        string.IsNullOrWhiteSpace(text) ? null : text.Trim() == "0" ? TimeSpan.Zero : Arca.Server.Api.TokenEndpoints.ParseDuration(text);
}
