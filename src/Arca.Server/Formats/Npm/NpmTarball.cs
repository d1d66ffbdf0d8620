using System.Formats.Tar;
using System.IO.Compression;
using System.Text.Json;
using System.Text.Json.Nodes;
using Arca.Core.Model;

namespace Arca.Server.Formats.Npm;

/// <summary>Reads an npm package tarball (gzip tar with a single top folder, normally "package/") as a stream.</summary>
public static class NpmTarball
{
    private const int MaxPackageJsonBytes = 1 << 20;

    /// <summary>Walks the whole archive (so a truncated or corrupt one is refused) and returns its package.json.</summary>
    public static async Task<JsonObject> ReadPackageJsonAsync(Stream tgz, CancellationToken ct)
    {
        JsonObject? manifest = null;
        try
        {
            await using var gzip = new GZipStream(tgz, CompressionMode.Decompress, leaveOpen: true);
            await using var tar = new TarReader(gzip, leaveOpen: true);
            TarEntry? entry;
            while ((entry = await tar.GetNextEntryAsync(copyData: false, ct)) is not null)
            {
                var name = entry.Name.TrimStart('.', '/');
                var slash = name.IndexOf('/');
                if (manifest is null && slash > 0 && name[(slash + 1)..] == "package.json" && entry.DataStream is { } data
                    && entry.EntryType is TarEntryType.RegularFile or TarEntryType.V7RegularFile)
                {
                    if (entry.Length > MaxPackageJsonBytes) throw ArcaException.BadRequest("package.json in the tarball is too large", "INVALID_TARBALL");
                    var bytes = new byte[entry.Length];
                    await data.ReadExactlyAsync(bytes, ct);
                    manifest = NpmNames.ParseClientJson(bytes) as JsonObject;
                }
            }
        }
        catch (Exception e) when (e is InvalidDataException or FormatException or EndOfStreamException or JsonException or ArgumentException)
        {
            throw ArcaException.BadRequest($"the package tarball is not a valid gzip-compressed tar archive: {e.Message}", "INVALID_TARBALL");
        }
        return manifest ?? throw ArcaException.BadRequest("the package tarball contains no package/package.json", "INVALID_TARBALL");
    }
}
