using Arca.Core.Storage;
using Arca.Server.Endpoints;
using Arca.Server.Formats.Oci;

namespace Arca.Server.Hosting;

/// <summary>
/// Makes the server keys kept in the data directory (OCI token signing key, endpoint secret key) the same on every
/// instance sharing a database. At start-up each key file is published to the database when the database has none
/// yet (an existing installation keeps its key), and the database's key is written back to the data directory.
/// The services keep reading their files, so a single SQLite instance works exactly as before. Several instances
/// behind a load balancer then accept each other's registry tokens and upload sessions, and decrypt the same
/// endpoint secrets, without sharing a data directory.
/// </summary>
public static class SharedKeyFiles
{
    private static readonly (string FileName, Func<byte[]> NewContent)[] Keys =
    [
        (OciTokenService.KeyFileName, OciTokenService.NewKeyFileContent),
        (CredentialProtector.KeyFileName, CredentialProtector.NewKeyFileContent),
    ];

    public static async Task SyncAsync(ISharedKeyStore store, string dataDirectory, ILogger logger, CancellationToken ct = default)
    {
        foreach (var (fileName, newContent) in Keys)
        {
            var path = Path.Combine(dataDirectory, fileName);
            var local = File.Exists(path) ? await File.ReadAllBytesAsync(path, ct) : null;
            var shared = await store.GetOrAddKeyAsync(fileName, local ?? newContent(), ct);
            if (local is not null && local.AsSpan().SequenceEqual(shared)) continue;
            if (local is not null)
                logger.LogWarning("{Path} differs from the key shared in the database; using the database's key", path);
            var tmp = $"{path}.{Guid.NewGuid():N}.tmp";
            var options = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write };
            if (!OperatingSystem.IsWindows()) options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
            await using (var fs = new FileStream(tmp, options))
            {
                await fs.WriteAsync(shared, ct);
                await fs.FlushAsync(ct);
            }
            File.Move(tmp, path, overwrite: true);
        }
    }
}
