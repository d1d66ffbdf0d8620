using System.Formats.Tar;
using System.IO.Compression;
using System.Text;
using System.Text.RegularExpressions;
using Arca.Core.Model;

namespace Arca.Server.Formats.PyPI;

/// <summary>Checks that an uploaded distribution is the archive its name says (a zip for wheels, a gzip tar for
/// .tar.gz sdists), reading every entry so corruption is caught, and returns its core metadata
/// (METADATA / PKG-INFO headers) when present.</summary>
public static partial class PyPIArchive
{
    private const int MaxMetadataBytes = 1 << 20;

    [GeneratedRegex(@"^[^/]+\.dist-info/METADATA$")]
    private static partial Regex WheelMetadataPath();

    [GeneratedRegex(@"^[^/]+/PKG-INFO$")]
    private static partial Regex SdistMetadataPath();

    public static async Task<IReadOnlyDictionary<string, string>> ReadMetadataAsync(Stream content, PyPINames.DistributionKind kind, CancellationToken ct)
    {
        try
        {
            return kind == PyPINames.DistributionKind.SdistTarGz
                ? await ReadTarGzAsync(content, ct)
                : await ReadZipAsync(content, kind == PyPINames.DistributionKind.Wheel, ct);
        }
        catch (Exception e) when (e is InvalidDataException or FormatException or EndOfStreamException or ArgumentException or NotSupportedException)
        {
            var what = kind == PyPINames.DistributionKind.SdistTarGz ? "a valid gzip-compressed tar archive" : "a valid zip archive";
            throw ArcaException.BadRequest($"the uploaded file is not {what}: {e.Message}", "INVALID_ARCHIVE");
        }
    }

    private static async Task<IReadOnlyDictionary<string, string>> ReadZipAsync(Stream content, bool wheel, CancellationToken ct)
    {
        Dictionary<string, string>? metadata = null;
        await using var zip = await ZipArchive.CreateAsync(content, ZipArchiveMode.Read, leaveOpen: true, entryNameEncoding: null, ct);
        foreach (var entry in zip.Entries)
        {
            await using var data = await entry.OpenAsync(ct);
            var isMetadata = metadata is null && (wheel ? WheelMetadataPath() : SdistMetadataPath()).IsMatch(entry.FullName);
            if (isMetadata) metadata = await ParseHeadersAsync(data, ct);
            else await data.CopyToAsync(Stream.Null, ct); // decompress (and CRC-check) every entry
        }
        if (wheel && metadata is null) throw new InvalidDataException("the wheel has no *.dist-info/METADATA");
        return metadata ?? new Dictionary<string, string>();
    }

    private static async Task<IReadOnlyDictionary<string, string>> ReadTarGzAsync(Stream content, CancellationToken ct)
    {
        Dictionary<string, string>? metadata = null;
        await using var gzip = new GZipStream(content, CompressionMode.Decompress, leaveOpen: true);
        await using var tar = new TarReader(gzip, leaveOpen: true);
        var entries = 0;
        TarEntry? entry;
        while ((entry = await tar.GetNextEntryAsync(copyData: false, ct)) is not null)
        {
            entries++;
            if (metadata is null && entry.DataStream is { } data && SdistMetadataPath().IsMatch(entry.Name.TrimStart('.', '/')))
                metadata = await ParseHeadersAsync(data, ct);
        }
        if (entries == 0) throw new InvalidDataException("the archive is empty");
        return metadata ?? new Dictionary<string, string>();
    }

    /// <summary>Core metadata is RFC 822 style: "Key: value" lines (continuations indented) up to a blank line.</summary>
    private static async Task<Dictionary<string, string>> ParseHeadersAsync(Stream data, CancellationToken ct)
    {
        var buffer = new byte[MaxMetadataBytes];
        var total = 0;
        int read;
        while (total < buffer.Length && (read = await data.ReadAsync(buffer.AsMemory(total), ct)) > 0) total += read;
        var text = Encoding.UTF8.GetString(buffer, 0, total);
        var headers = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        string? last = null;
        foreach (var line in text.Split('\n'))
        {
            var l = line.TrimEnd('\r');
            if (l.Length == 0) break;
            if ((l[0] == ' ' || l[0] == '\t') && last is not null) { headers[last] += "\n" + l.Trim(); continue; }
            var colon = l.IndexOf(':');
            if (colon <= 0) continue;
            last = l[..colon].Trim();
            var value = l[(colon + 1)..].Trim();
            if (!headers.ContainsKey(last)) headers[last] = value; // first occurrence of repeated fields is enough here
        }
        return headers;
    }
}
