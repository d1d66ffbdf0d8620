using System.CommandLine;
using System.Formats.Tar;
using System.IO.Compression;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text;
using Arca.Client;

namespace Arca.Cli.Transfer;

/// <summary>Python distributions through the upload API twine uses (multipart <c>:action=file_upload</c>, streamed
/// from disk) and the download URLs of the simple index. Name and version come from the archive's own metadata.</summary>
public sealed class PythonTransfer : IArtifactTransfer
{
    public string Type => "python";
    public string Description => "Python wheels and sdists: push FILE.whl|FILE.tar.gz|FILE.zip; pull PROJECT/VERSION/FILENAME DEST";
    public IReadOnlyList<Option> PushOptions => [];

    public async Task<int> PushAsync(TransferContext ctx, string path, ParseResult parse, CancellationToken ct)
    {
        if (!File.Exists(path)) throw new CliUsageException($"'{path}' is not a file: push a wheel (.whl) or an sdist (.tar.gz, .zip)");
        var fileName = Path.GetFileName(path);
        var metadata = await ReadMetadataAsync(path, ct);
        var name = metadata.GetValueOrDefault("Name") ?? throw new CliUsageException($"{path}: the distribution's metadata has no Name");
        var version = metadata.GetValueOrDefault("Version") ?? throw new CliUsageException($"{path}: the distribution's metadata has no Version");

        string sha256, md5;
        long size;
        await using (var file = File.OpenRead(path))
        {
            using var h256 = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
            using var hmd5 = IncrementalHash.CreateHash(HashAlgorithmName.MD5);
            var buffer = new byte[128 * 1024];
            int read;
            while ((read = await file.ReadAsync(buffer, ct)) > 0) { h256.AppendData(buffer, 0, read); hmd5.AppendData(buffer, 0, read); }
            (sha256, md5, size) = (Convert.ToHexStringLower(h256.GetHashAndReset()), Convert.ToHexStringLower(hmd5.GetHashAndReset()), file.Length);
        }

        var isWheel = fileName.EndsWith(".whl", StringComparison.OrdinalIgnoreCase);
        await ctx.Output.ProgressAsync(async progress =>
        {
            using var form = new MultipartFormDataContent();
            void Field(string key, string? value) { if (value is not null) form.Add(new StringContent(value, Encoding.UTF8), key); }
            Field(":action", "file_upload");
            Field("protocol_version", "1");
            Field("metadata_version", metadata.GetValueOrDefault("Metadata-Version"));
            Field("name", name);
            Field("version", version);
            Field("filetype", isWheel ? "bdist_wheel" : "sdist");
            Field("pyversion", isWheel ? fileName.Split('-')[^3] : "source");
            Field("summary", metadata.GetValueOrDefault("Summary"));
            Field("requires_python", metadata.GetValueOrDefault("Requires-Python"));
            Field("sha256_digest", sha256);
            Field("md5_digest", md5);
            var content = new ProgressStreamContent(new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16, FileOptions.SequentialScan),
                progress.Start(fileName, size));
            content.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
            content.Headers.ContentLength = size;
            form.Add(content, "content", fileName);
            using var response = await ctx.Http.PostAsync(ctx.FormatPath("python"), form, ct);
            await EnsureSuccessAsync(response, ct);
            return 0;
        });
        ctx.Output.Info($"pushed {name} {version}: {fileName} ({size} bytes, sha256 {sha256})");
        return 0;
    }

    public async Task<int> PullAsync(TransferContext ctx, string reference, string destination, ParseResult parse, CancellationToken ct)
    {
        var parts = reference.Split('/');
        if (parts.Length != 3 || parts.Any(p => p.Length == 0))
            throw new CliUsageException($"expected <project>/<version>/<filename>, got '{reference}'");
        var url = ctx.FormatPath("python") + $"files/{Uri.EscapeDataString(parts[0])}/{Uri.EscapeDataString(parts[1])}/{Uri.EscapeDataString(parts[2])}";
        // The server sends the stored sha256 (X-Checksum-Sha256); VerifiedDownload checks the bytes against it.
        var written = await VerifiedDownload.ToFileAsync(ctx, url, destination, parts[2], ct);
        ctx.Output.Info($"pulled {reference} -> {written}");
        return 0;
    }

    /// <summary>Arca answers Python errors as plain text (the message is also the reason phrase).</summary>
    private static async Task EnsureSuccessAsync(HttpResponseMessage response, CancellationToken ct)
    {
        if (response.IsSuccessStatusCode) return;
        var text = (await response.Content.ReadAsStringAsync(ct)).Trim();
        var message = text.Length is > 0 and < 1000 && !text.StartsWith('<') ? text : response.ReasonPhrase;
        throw new ArcaClientException($"{(int)response.StatusCode}: {message}", response.StatusCode);
    }

    /// <summary>Core metadata headers of a wheel (*.dist-info/METADATA) or an sdist (*/PKG-INFO).</summary>
    internal static async Task<Dictionary<string, string>> ReadMetadataAsync(string path, CancellationToken ct)
    {
        try
        {
            if (path.EndsWith(".tar.gz", StringComparison.OrdinalIgnoreCase))
            {
                await using var file = File.OpenRead(path);
                await using var gzip = new GZipStream(file, CompressionMode.Decompress);
                await using var tar = new TarReader(gzip);
                TarEntry? entry;
                while ((entry = await tar.GetNextEntryAsync(copyData: false, ct)) is not null)
                    if (IsMetadataPath(entry.Name.TrimStart('.', '/'), "PKG-INFO") && entry.DataStream is { } data)
                        return ParseHeaders(await new StreamReader(data).ReadToEndAsync(ct));
            }
            else if (path.EndsWith(".whl", StringComparison.OrdinalIgnoreCase) || path.EndsWith(".zip", StringComparison.OrdinalIgnoreCase))
            {
                using var zip = ZipFile.OpenRead(path);
                foreach (var entry in zip.Entries)
                    if (IsMetadataPath(entry.FullName, "METADATA") && entry.FullName.Split('/')[0].EndsWith(".dist-info", StringComparison.Ordinal)
                        || IsMetadataPath(entry.FullName, "PKG-INFO"))
                    {
                        await using var data = entry.Open();
                        return ParseHeaders(await new StreamReader(data).ReadToEndAsync(ct));
                    }
            }
            else throw new CliUsageException($"{path}: not a Python distribution (.whl, .tar.gz or .zip)");
        }
        catch (Exception e) when (e is InvalidDataException or FormatException or EndOfStreamException)
        {
            throw new CliUsageException($"{path} is not a valid archive: {e.Message}");
        }
        throw new CliUsageException($"{path} has no METADATA / PKG-INFO");
    }

    private static bool IsMetadataPath(string entryPath, string fileName)
    {
        var parts = entryPath.Split('/');
        return parts.Length == 2 && parts[1] == fileName;
    }

    private static Dictionary<string, string> ParseHeaders(string text)
    {
        var headers = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        foreach (var raw in text.Split('\n'))
        {
            var line = raw.TrimEnd('\r');
            if (line.Length == 0) break;
            var colon = line.IndexOf(':');
            if (colon <= 0 || line[0] is ' ' or '\t') continue;
            headers.TryAdd(line[..colon].Trim(), line[(colon + 1)..].Trim());
        }
        return headers;
    }
}
