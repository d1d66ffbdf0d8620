using System.Net;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using Arca.Core.IO;
using Arca.Migration.Config;
using Arca.Migration.Engine;

namespace Arca.Migration.Destinations;

/// <summary>One Python distribution file (wheel or sdist) with what the source's simple index says about it.</summary>
public sealed record PythonFileItem : MigrationItem
{
    /// <summary>The project name as the source spells it (<see cref="MigrationItem.Package"/> is its PEP 503 form).</summary>
    public required string Project { get; init; }
    public required string FileName { get; init; }
    public string? Sha256 { get; init; }
    public string? RequiresPython { get; init; }
    public bool Yanked { get; init; }
    public string? YankedReason { get; init; }
    public required Func<CancellationToken, Task<(Stream Stream, long? Length)>> Open { get; init; }
}

/// <summary>
/// Python files through Arca's upload API, as twine sends them (multipart <c>:action=file_upload</c> with
/// sha256_digest, streamed). Skips a file the destination's simple index (PEP 691 JSON) lists with the same sha256;
/// checks the index again after the upload; carries requires-python and yanking over.
/// </summary>
internal sealed class PythonWriter(HttpClient http) : IItemWriter
{
    private const string SimpleJson = "application/vnd.pypi.simple.v1+json";

    public async Task<(ItemStatus, long)> WriteAsync(MigrationItem item, MappingConfig mapping, bool overwrite, CancellationToken ct)
    {
        var f = (PythonFileItem)item;
        var kind = PythonFileNames.KindOf(f.FileName)
                   ?? throw new HttpStatusException(HttpStatusCode.UnsupportedMediaType, $"{f.Display}: Arca stores wheels and sdists (.whl, .tar.gz, .zip) only");
        var reg = Uri.EscapeDataString(mapping.DestinationRegistry);
        var projectUrl = $"pkg/{reg}/python/simple/{Uri.EscapeDataString(f.Package)}/";
        // The destination updates a version's attributes read-modify-write: one upload per version at a time.
        using var _ = await KeyedLock.AcquireAsync($"python\n{http.BaseAddress}\n{mapping.DestinationRegistry}\n{f.Package}\n{f.Version}", ct);

        var existing = await FindAsync(projectUrl, f.FileName, ct);
        long moved = 0;
        var changed = false;
        if (existing is null || f.Sha256 is null || !f.Sha256.Equals(existing.Sha256, StringComparison.OrdinalIgnoreCase))
        {
            if (existing is not null && f.Sha256 is not null && !overwrite)
                throw new HttpStatusException(HttpStatusCode.Conflict, $"{f.Display} exists at the destination with different content (sha256 {existing.Sha256})");
            var (sha256, bytes) = await UploadOrCompareAsync(f, kind, reg, f.Sha256 is null ? existing : null, ct);
            moved = bytes;
            changed = bytes > 0;
            existing = await FindAsync(projectUrl, f.FileName, ct);
            if (existing is null || !existing.Sha256.Equals(sha256, StringComparison.OrdinalIgnoreCase))
                throw new InvalidOperationException($"{f.Display}: destination sha256 {existing?.Sha256 ?? "(missing)"} differs from the source ({sha256})");
        }

        if (f.Yanked && !existing.Yanked)
        {
            var reason = string.IsNullOrEmpty(f.YankedReason) ? "" : "?reason=" + Uri.EscapeDataString(f.YankedReason);
            using var response = await http.PutAsync($"pkg/{reg}/python/yank/{Uri.EscapeDataString(f.Package)}/{Uri.EscapeDataString(f.Version)}{reason}", null, ct);
            await MigrationHttp.EnsureSuccessAsync(response, $"yank {f.Package} {f.Version}", ct);
            changed = true;
        }
        return (changed ? ItemStatus.Succeeded : ItemStatus.Skipped, moved);
    }

    /// <summary>Uploads the file (hashing it on the way), or, when the destination has a file of that name but the
    /// source gave no sha256 to compare with, only hashes the source to see whether it is the same file.</summary>
    private async Task<(string Sha256, long Bytes)> UploadOrCompareAsync(PythonFileItem f, PythonFileNames.Kind kind, string reg, Listed? existing, CancellationToken ct)
    {
        var (source, length) = await f.Open(ct);
        await using var hashing = new HashingStream(source);
        if (existing is not null)
        {
            await hashing.CopyToAsync(Stream.Null, ct);
            var sha = hashing.Sha256Hex();
            if (sha.Equals(existing.Sha256, StringComparison.OrdinalIgnoreCase)) return (sha, 0);
            throw new HttpStatusException(HttpStatusCode.Conflict, $"{f.Display} exists at the destination with different content (sha256 {existing.Sha256})");
        }

        using var form = new MultipartFormDataContent();
        void Field(string key, string? value) { if (value is not null) form.Add(new StringContent(value, Encoding.UTF8), key); }
        Field(":action", "file_upload");
        Field("protocol_version", "1");
        Field("name", f.Project);
        Field("version", f.Version);
        Field("filetype", kind == PythonFileNames.Kind.Wheel ? "bdist_wheel" : "sdist");
        Field("pyversion", kind == PythonFileNames.Kind.Wheel ? f.FileName.Split('-')[^3] : "source");
        Field("requires_python", f.RequiresPython);
        Field("sha256_digest", f.Sha256?.ToLowerInvariant()); // the destination refuses bytes that do not match
        var file = new StreamContent(hashing, 128 * 1024);
        file.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
        if (length is { } l) file.Headers.ContentLength = l;
        form.Add(file, "content", f.FileName);
        using var response = await http.PostAsync($"pkg/{reg}/python/", form, ct);
        await MigrationHttp.EnsureSuccessAsync(response, $"upload {f.Display}", ct);
        return (hashing.Sha256Hex(), hashing.BytesRead);
    }

    private sealed record Listed(string Sha256, bool Yanked);

    private async Task<Listed?> FindAsync(string projectUrl, string fileName, CancellationToken ct)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, projectUrl);
        request.Headers.Accept.ParseAdd(SimpleJson);
        using var response = await http.SendAsync(request, ct);
        if (response.StatusCode == HttpStatusCode.NotFound) return null;
        await MigrationHttp.EnsureSuccessAsync(response, $"GET {projectUrl}", ct);
        var doc = JsonNode.Parse(await response.Content.ReadAsStringAsync(ct));
        foreach (var file in doc?["files"] as JsonArray ?? [])
            if (file?["filename"]?.GetValue<string>() == fileName)
                return new Listed(file["hashes"]?["sha256"]?.GetValue<string>() ?? "",
                    file["yanked"] is JsonValue y && (y.TryGetValue<bool>(out var b) ? b : y.TryGetValue<string>(out _)));
        return null;
    }
}

/// <summary>Distribution file names: which kind a file is, and the version it names (PEP 427 wheels, sdists).</summary>
public static class PythonFileNames
{
    public enum Kind { Wheel, Sdist }

    public static Kind? KindOf(string fileName) =>
        fileName.EndsWith(".whl", StringComparison.Ordinal) ? Kind.Wheel
        : fileName.EndsWith(".tar.gz", StringComparison.Ordinal) || fileName.EndsWith(".zip", StringComparison.Ordinal) ? Kind.Sdist
        : null;

    /// <summary>The version a file name carries: a wheel's second field, an sdist's text after the last '-'.</summary>
    public static string? VersionOf(string fileName)
    {
        if (fileName.EndsWith(".whl", StringComparison.Ordinal))
        {
            var parts = fileName[..^4].Split('-');
            return parts.Length is 5 or 6 ? parts[1] : null;
        }
        var stem = fileName.EndsWith(".tar.gz", StringComparison.Ordinal) ? fileName[..^7]
            : fileName.EndsWith(".zip", StringComparison.Ordinal) ? fileName[..^4] : null;
        var dash = stem?.LastIndexOf('-') ?? -1;
        return dash > 0 ? stem![(dash + 1)..] : null;
    }

    /// <summary>Versions compared the way file names spell them (a wheel writes '-' in a version as '_').</summary>
    public static string Loose(string version) => version.ToLowerInvariant().Replace('_', '-').TrimStart('v');

    /// <summary>PEP 503 normalization.</summary>
    public static string Normalize(string name) => System.Text.RegularExpressions.Regex.Replace(name, "[-_.]+", "-").ToLowerInvariant();
}

/// <summary>A read-only pass-through that hashes (sha256) and counts what is read.</summary>
internal sealed class HashingStream(Stream inner) : ForwardOnlyReadStream
{
    private readonly IncrementalHash _sha256 = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
    private long _length;
    public long BytesRead => _length;
    private string? _finalHex; // kept at the end of the stream: the upload disposes the stream when it is sent
    public string Sha256Hex() => _finalHex ?? Convert.ToHexStringLower(_sha256.GetCurrentHash());

    private int Seen(ReadOnlySpan<byte> data)
    {
        if (data.Length == 0) _finalHex ??= Convert.ToHexStringLower(_sha256.GetCurrentHash());
        else { _sha256.AppendData(data); _length += data.Length; }
        return data.Length;
    }

    public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));
    public override int Read(Span<byte> buffer)
    {
        var n = inner.Read(buffer);
        return Seen(buffer[..n]);
    }
    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken ct = default)
    {
        var n = await inner.ReadAsync(buffer, ct);
        return Seen(buffer.Span[..n]);
    }
    public override long Position { get => _length; set => throw new NotSupportedException(); }

    protected override void Dispose(bool disposing)
    {
        if (disposing) { inner.Dispose(); _sha256.Dispose(); }
        base.Dispose(disposing);
    }
}
