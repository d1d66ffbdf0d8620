using System.IO.Compression;
using System.Text;
using System.Text.RegularExpressions;
using Arca.Core.Model;

namespace Arca.Server.Formats.Go;

/// <summary>
/// Checks an uploaded module zip against the module zip rules that `go` enforces when it extracts one
/// (go.dev/ref/mod#zip-files): every file under "&lt;module&gt;@&lt;version&gt;/", valid file paths, no duplicate or
/// case-colliding names, size limits, and a go.mod whose module directive names the module. Every entry is fully
/// decompressed so that a corrupt or tampered archive is refused before anything is published.
/// </summary>
public static partial class GoModuleZip
{
    public const long MaxZipFile = 500L << 20;
    public const long MaxGoMod = 16L << 20;
    public const long MaxLicense = 16L << 20;

    /// <summary>Validates the zip and returns the go.mod content to serve (the one inside the zip, or for a module without
    /// one the synthesized "module &lt;path&gt;" that go itself would use).</summary>
    public static async Task<byte[]> ValidateAsync(Stream seekableZip, string module, string version, CancellationToken ct)
    {
        if (seekableZip.Length > MaxZipFile) throw Bad($"the module zip is larger than {MaxZipFile >> 20} MiB");
        var prefix = $"{module}@{version}/";
        byte[]? goMod = null;
        long total = 0;
        var seen = new HashSet<string>(StringComparer.Ordinal);
        ZipArchive archive;
        try { archive = new ZipArchive(seekableZip, ZipArchiveMode.Read, leaveOpen: true); }
        catch (InvalidDataException e) { throw Bad($"not a valid zip archive ({e.Message})"); }
        using (archive)
        {
            foreach (var entry in archive.Entries)
            {
                var name = entry.FullName;
                if (!name.StartsWith(prefix, StringComparison.Ordinal))
                    throw Bad($"file '{GoModulePath.Printable(name)}' is not under '{prefix}'");
                var rel = name[prefix.Length..];
                var isDir = rel.EndsWith('/');
                if (isDir) rel = rel[..^1];
                if (rel.Length == 0) continue; // the top directory itself
                CheckFilePath(rel);
                // go refuses names that differ only in case: they would collide on case-insensitive file systems.
                if (!seen.Add(rel.ToLowerInvariant()))
                    throw Bad($"file '{GoModulePath.Printable(rel)}' appears twice (names must be unique, ignoring case)");
                if (isDir) continue;

                var limit = rel switch { "go.mod" => MaxGoMod, "LICENSE" => MaxLicense, _ => MaxZipFile };
                var size = await DrainAsync(entry, limit, rel == "go.mod", ct);
                total += size.Length;
                if (total > MaxZipFile) throw Bad($"the module's files total more than {MaxZipFile >> 20} MiB uncompressed");
                if (rel == "go.mod") goMod = size.Content;
            }
        }

        if (goMod is null) return Encoding.UTF8.GetBytes($"module {QuoteIfNeeded(module)}\n");
        var declared = ModuleDirective(goMod);
        if (declared is null) throw Bad("go.mod has no module directive");
        if (declared != module) throw Bad($"go.mod declares module '{GoModulePath.Printable(declared)}', but the upload is for '{module}'");
        return goMod;
    }

    /// <summary>Reads an entry to its end (bounded) and checks its CRC-32, as go does when it extracts the zip
    /// (.NET's zip reader does not check it, so altered bytes in a stored entry would otherwise pass).</summary>
    private static async Task<(long Length, byte[]? Content)> DrainAsync(ZipArchiveEntry entry, long limit, bool keep, CancellationToken ct)
    {
        if (entry.Length > limit) throw Bad($"'{GoModulePath.Printable(entry.FullName)}' is larger than {limit >> 20} MiB");
        try
        {
            await using var s = await entry.OpenAsync(ct);
            var keepBuffer = keep ? new MemoryStream() : null;
            var buffer = new byte[81920];
            long read = 0;
            var crc = Crc32.Initial;
            int n;
            while ((n = await s.ReadAsync(buffer, ct)) > 0)
            {
                read += n;
                if (read > limit || read > entry.Length) throw Bad($"'{GoModulePath.Printable(entry.FullName)}' decompresses to more than its declared size");
                crc = Crc32.Append(crc, buffer.AsSpan(0, n));
                keepBuffer?.Write(buffer, 0, n);
            }
            if (read != entry.Length) throw Bad($"'{GoModulePath.Printable(entry.FullName)}' is truncated");
            if (Crc32.Finish(crc) != entry.Crc32) throw Bad($"'{GoModulePath.Printable(entry.FullName)}' does not match its CRC-32 (corrupt or altered)");
            return (read, keepBuffer?.ToArray());
        }
        catch (InvalidDataException e) { throw Bad($"'{GoModulePath.Printable(entry.FullName)}' is corrupt ({e.Message})"); }
    }

    /// <summary>The file path rules of module.CheckFilePath: slash-separated non-empty elements, no "." or "..",
    /// a restricted character set, and no names Windows reserves.</summary>
    public static void CheckFilePath(string rel)
    {
        if (rel.Length == 0 || rel.Length > 1024) throw Bad($"invalid file path '{GoModulePath.Printable(rel)}'");
        foreach (var elem in rel.Split('/'))
        {
            if (elem.Length == 0 || elem.All(c => c == '.'))
                throw Bad($"invalid file path '{GoModulePath.Printable(rel)}': empty, '.' or '..' element");
            foreach (var c in elem)
                if (!(char.IsAsciiLetterOrDigit(c) || "!#$%&()+,-.=@[]^_{}~ ".Contains(c) || (c > 127 && char.IsLetter(c))))
                    throw Bad($"invalid file path '{GoModulePath.Printable(rel)}': character '{(char.IsControl(c) ? '?' : c)}' is not allowed");
            var shortName = elem.Split('.')[0];
            if (WindowsReserved().IsMatch(shortName))
                throw Bad($"invalid file path '{GoModulePath.Printable(rel)}': '{shortName}' is a reserved file name on Windows");
        }
    }

    /// <summary>The path named by the first "module" directive of a go.mod (quoted or bare), or null.</summary>
    public static string? ModuleDirective(byte[] goMod)
    {
        foreach (var raw in Encoding.UTF8.GetString(goMod).Split('\n'))
        {
            var line = raw;
            var comment = line.IndexOf("//", StringComparison.Ordinal);
            if (comment >= 0) line = line[..comment];
            line = line.Trim();
            if (!line.StartsWith("module", StringComparison.Ordinal)) continue;
            var rest = line[6..];
            if (rest.Length == 0 || !char.IsWhiteSpace(rest[0]) && rest[0] != '"') continue;
            rest = rest.Trim();
            if (rest.Length >= 2 && (rest[0] == '"' || rest[0] == '`') && rest[^1] == rest[0]) rest = rest[1..^1];
            return rest;
        }
        return null;
    }

    private static string QuoteIfNeeded(string module) => module.Any(c => char.IsWhiteSpace(c) || c == '"') ? $"\"{module}\"" : module;

    private static ArcaException Bad(string why) => ArcaException.BadRequest($"invalid module zip: {why}", "INVALID_MODULE_ZIP");

    [GeneratedRegex("^(CON|PRN|AUX|NUL|COM[1-9]|LPT[1-9])$", RegexOptions.IgnoreCase)]
    private static partial Regex WindowsReserved();

    /// <summary>CRC-32 (IEEE 802.3, reflected polynomial 0xEDB88320), the checksum zip entries carry.</summary>
    internal static class Crc32
    {
        public const uint Initial = 0xFFFFFFFFu;
        private static readonly uint[] Table = BuildTable();

        private static uint[] BuildTable()
        {
            var table = new uint[256];
            for (uint i = 0; i < 256; i++)
            {
                var c = i;
                for (var k = 0; k < 8; k++) c = (c & 1) != 0 ? 0xEDB88320u ^ (c >> 1) : c >> 1;
                table[i] = c;
            }
            return table;
        }

        public static uint Append(uint crc, ReadOnlySpan<byte> data)
        {
            foreach (var b in data) crc = Table[(crc ^ b) & 0xFF] ^ (crc >> 8);
            return crc;
        }

        public static uint Finish(uint crc) => crc ^ 0xFFFFFFFFu;
    }
}
