using Arca.Core.Storage;
using Arca.Server.Hosting;

namespace Arca.Server.Formats.Oci;

/// <summary>Removes abandoned chunked-upload sessions (and leftovers of interrupted writes) older than
/// <see cref="ServerOptions.UploadSessionMaxAge"/>, every <see cref="ServerOptions.UploadCleanupInterval"/>, so a
/// long-running server does not accumulate the partial uploads of clients that gave up.</summary>
public sealed class OciUploadCleanupService(IBlobStore blobs, ServerOptions options, ILogger<OciUploadCleanupService> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (options.UploadCleanupInterval <= TimeSpan.Zero) return;
        using var timer = new PeriodicTimer(options.UploadCleanupInterval);
        while (await timer.WaitForNextTickAsync(stoppingToken))
        {
            try { await blobs.CleanupTemporaryAsync(options.UploadSessionMaxAge, stoppingToken); }
            catch (Exception e) when (e is not OperationCanceledException) { logger.LogError(e, "Upload session cleanup failed"); }
        }
    }
}
