using System.Formats.Tar;
using System.IO.Compression;
using System.Text;

namespace Arca.Server.Formats.Helm;

/// <summary>
/// Reads a packaged chart (.tgz) as a stream, gzip → tar, without extracting it: finds "&lt;chart&gt;/Chart.yaml" (bounded
/// size), refuses entries that could escape the chart directory, and reads the archive to its very end so that a
/// truncated or tampered file (gzip CRC) is refused.
/// </summary>
public static class ChartArchive
{
    /// <summary>Bound on the files' total size, so a small "gzip bomb" cannot keep the server decompressing.</summary>
    public const long MaxUncompressedBytes = 1L << 30;

    public static async Task<ChartMetadata> ReadMetadataAsync(Stream tgz, CancellationToken ct)
    {
        string? chartYaml = null;
        long total = 0;
        try
        {
            await using var gzip = new GZipStream(tgz, CompressionMode.Decompress, leaveOpen: true);
            await using var tar = new TarReader(gzip, leaveOpen: true);
            while (await tar.GetNextEntryAsync(copyData: false, ct) is { } entry)
            {
                var name = entry.Name;
                if (entry.EntryType is TarEntryType.GlobalExtendedAttributes) continue;
                total += Math.Max(entry.Length, 0);
                if (total > MaxUncompressedBytes) throw ChartMetadata.Invalid($"the chart's files total more than {MaxUncompressedBytes >> 20} MiB");
                if (name.StartsWith('/') || name.Contains('\\') || name.Split('/').Any(s => s == ".."))
                    throw ChartMetadata.Invalid($"archive entry '{Printable(name)}' escapes the chart directory");
                var parts = name.TrimEnd('/').Split('/');
                if (chartYaml is null && parts.Length == 2 && parts[1] == "Chart.yaml"
                    && entry.EntryType is TarEntryType.RegularFile or TarEntryType.V7RegularFile)
                {
                    if (entry.Length > ChartMetadata.MaxChartYamlBytes) throw ChartMetadata.Invalid("Chart.yaml is larger than 1 MiB");
                    using var reader = new StreamReader(entry.DataStream ?? Stream.Null, Encoding.UTF8);
                    chartYaml = await reader.ReadToEndAsync(ct);
                }
            }
            // Reaching the gzip trailer makes the decompressor verify the CRC-32 and length of the whole archive.
            await gzip.CopyToAsync(Stream.Null, ct);
        }
        catch (InvalidDataException e) { throw ChartMetadata.Invalid($"not a valid gzip-compressed tar archive ({e.Message})"); }
        catch (FormatException e) { throw ChartMetadata.Invalid($"not a valid tar archive ({e.Message})"); }
        catch (EndOfStreamException) { throw ChartMetadata.Invalid("the archive is truncated"); }
        if (chartYaml is null) throw ChartMetadata.Invalid("the archive has no <chart>/Chart.yaml");
        return ChartMetadata.ParseYaml(chartYaml);
    }

    private static string Printable(string s) => new(s.Select(c => char.IsControl(c) ? '?' : c).ToArray());
}
