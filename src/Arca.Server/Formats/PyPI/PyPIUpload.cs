using System.Text;
using System.Text.Json.Nodes;
using Arca.Core.Auth;
using Arca.Core.Model;
using Arca.Core.Storage;
using Arca.Server.Hosting;
using Arca.Server.Services;
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.Net.Http.Headers;

namespace Arca.Server.Formats.PyPI;

/// <summary>
/// The legacy upload API (what twine and `python -m build` tooling use): a multipart form with
/// <c>:action=file_upload</c>, <c>name</c>, <c>version</c>, digests and the <c>content</c> file part. The file part
/// streams into the blob store (hashed while written); nothing is committed until the digests, the file name and
/// the archive itself check out. Storage: package = normalized project name, version as uploaded, one file per
/// distribution; version properties keep summary, requires-python, yank state and per-file attributes.
/// </summary>
public sealed class PyPIUpload(RegistryAccess access, ArtifactService artifacts, ServerOptions options)
{
    private const int MaxFieldBytes = 1 << 20;
    private const int MaxFields = 200;
    private IMetadataStore Store => artifacts.Store;

    public async Task HandleAsync(HttpContext ctx, string registry)
    {
        var ct = ctx.RequestAborted;
        var reg = await access.RequireAsync(ctx, registry, TokenScope.Write, PackageTypes.Python);
        if (!MediaTypeHeaderValue.TryParse(ctx.Request.ContentType, out var contentType) || !contentType.MediaType.Equals("multipart/form-data", StringComparison.OrdinalIgnoreCase))
            throw ArcaException.BadRequest("expected a multipart/form-data upload (:action=file_upload)", "INVALID_UPLOAD");
        var boundary = HeaderUtilities.RemoveQuotes(contentType.Boundary).Value;
        if (string.IsNullOrEmpty(boundary) || boundary.Length > 200) throw ArcaException.BadRequest("the multipart boundary is missing or too long", "INVALID_UPLOAD");

        var fields = new Dictionary<string, string>(StringComparer.Ordinal);
        var reader = new MultipartReader(boundary, ctx.Request.Body) { HeadersLengthLimit = 16 * 1024, BodyLengthLimit = null };
        BlobWriteResult? blob = null;
        string? fileName = null;
        string? blake2 = null; // BLAKE2b-256 of the file part, computed while it streams
        var sections = 0;
        try
        {
            await ReadAndCommitAsync();
        }
        catch
        {
            // A refused upload leaves no blob behind (unless something else references the same content).
            if (blob is not null) await ForgetOrphanAsync(blob);
            throw;
        }

        async Task ReadAndCommitAsync()
        {
            try
            {
                MultipartSection? section;
                while ((section = await reader.ReadNextSectionAsync(ct)) is not null)
                {
                    if (++sections > MaxFields) throw ArcaException.BadRequest("too many form fields", "INVALID_UPLOAD");
                    if (!ContentDispositionHeaderValue.TryParse(section.ContentDisposition, out var disposition)) continue;
                    var fieldName = HeaderUtilities.RemoveQuotes(disposition.Name).Value ?? "";
                    var partFileName = HeaderUtilities.RemoveQuotes(disposition.FileNameStar.HasValue ? disposition.FileNameStar : disposition.FileName).Value;
                    if (fieldName == "content" && partFileName is not null)
                    {
                        if (blob is not null) throw ArcaException.BadRequest("only one file can be uploaded at a time", "INVALID_UPLOAD");
                        fileName = partFileName;
                        await RefuseEarlyAsync(reg, fields, fileName, ct);
                        var blake = new Blake2b(32);
                        blob = await artifacts.StoreBlobAsync(new Blake2bReadStream(section.Body, blake), new BlobWriteOptions
                        {
                            ComputeLegacyChecksums = true,
                            ExpectedSha256 = Hex(fields, "sha256_digest"),
                            ExpectedMd5 = Hex(fields, "md5_digest"),
                            MaxSize = options.MaxUploadBytes,
                        }, ct);
                        blake2 = Convert.ToHexStringLower(blake.Finish());
                    }
                    else if (fieldName.Length > 0)
                    {
                        var value = await ReadFieldAsync(section.Body, ct);
                        // Repeated fields (classifiers, requires_dist...) are kept joined; only single-valued ones matter here.
                        fields[fieldName] = fields.TryGetValue(fieldName, out var prev) ? prev + "\n" + value : value;
                    }
                }
            }
            catch (InvalidDataException e)
            {
                throw ArcaException.BadRequest($"malformed multipart upload: {e.Message}", "INVALID_UPLOAD");
            }

            var action = fields.GetValueOrDefault(":action");
            if (action is "submit" && blob is null)
            {
                // Legacy "register" step some tools send before uploading: nothing to record.
                await ctx.Response.WriteAsync("OK\n", ct);
                return;
            }
            if (action != "file_upload") throw ArcaException.BadRequest($"unsupported :action '{PyPINames.Printable(action)}' (expected file_upload)", "INVALID_UPLOAD");
            if (blob is null || fileName is null) throw ArcaException.BadRequest("the upload has no 'content' file part", "INVALID_UPLOAD");
            await CommitAsync(ctx, reg, fields, fileName, blob, blake2!);
        }
    }

    private async Task CommitAsync(HttpContext ctx, Registry reg, Dictionary<string, string> fields, string fileName, BlobWriteResult blob, string blake2)
    {
        var ct = ctx.RequestAborted;
        var (project, version) = RequireNameAndVersion(fields);
        // Digests sent after the file part could not be checked while streaming; check them now.
        if (Hex(fields, "sha256_digest") is { } sha256 && sha256 != blob.Sha256Hex)
            throw ArcaException.BadRequest($"sha256_digest does not match the uploaded file (got {blob.Sha256Hex})", "CHECKSUM_MISMATCH");
        if (Hex(fields, "md5_digest") is { } md5 && md5 != blob.Md5)
            throw ArcaException.BadRequest($"md5_digest does not match the uploaded file (got {blob.Md5})", "CHECKSUM_MISMATCH");
        if (Hex(fields, "blake2_256_digest") is { } expectedBlake2 && expectedBlake2 != blake2)
            throw ArcaException.BadRequest($"blake2_256_digest does not match the uploaded file (got {blake2})", "CHECKSUM_MISMATCH");
        var kind = PyPINames.ValidateFileName(fileName, project, version);

        IReadOnlyDictionary<string, string> metadata;
        await using (var stored = await OpenSeekableAsync(blob.Digest, ct))
            metadata = await PyPIArchive.ReadMetadataAsync(stored, kind, ct);
        if (metadata.TryGetValue("Name", out var metaName) && PyPINames.Normalize(metaName) != PyPINames.Normalize(project))
            throw ArcaException.BadRequest($"the archive's metadata names project '{PyPINames.Printable(metaName)}', not '{project}'", "NAME_MISMATCH");
        if (metadata.TryGetValue("Version", out var metaVersion) && PyPINames.LooseVersion(metaVersion) != PyPINames.LooseVersion(version))
            throw ArcaException.BadRequest($"the archive's metadata says version '{PyPINames.Printable(metaVersion)}', not '{version}'", "VERSION_MISMATCH");

        var normalized = PyPINames.Normalize(project);
        var pkg = await Store.GetPackageAsync(reg.Id, normalized, ct);
        var existing = pkg is null ? null : await Store.GetVersionAsync(pkg.Id, version, ct);
        var versionProps = ParseObject(existing?.Properties);
        var requiresPython = Field(fields, "requires_python") ?? metadata.GetValueOrDefault("Requires-Python");
        var summary = Field(fields, "summary") ?? metadata.GetValueOrDefault("Summary");
        if (summary is not null) versionProps["summary"] = Truncate(summary, 512);
        var files = versionProps["files"] as JsonObject ?? new JsonObject();
        files[fileName] = new JsonObject
        {
            ["requires_python"] = requiresPython is null ? null : Truncate(requiresPython, 256),
            ["packagetype"] = Field(fields, "filetype") ?? (kind == PyPINames.DistributionKind.Wheel ? "bdist_wheel" : "sdist"),
            ["python_version"] = Field(fields, "pyversion") is { } py ? Truncate(py, 64) : null,
        };
        versionProps["files"] = files.DeepClone();
        var packageProps = ParseObject(pkg?.Properties);
        packageProps["name"] = metaName is not null && PyPINames.Normalize(metaName) == normalized ? metaName : project;

        var result = await Store.PublishAsync(new PublishRequest
        {
            RegistryId = reg.Id, PackageName = normalized, Version = version, Overwrite = reg.AllowOverwrite,
            Files = [new NewFile(fileName, blob.Digest.ToString(), blob.Size, ContentTypeOf(kind), blob.Sha1, blob.Md5)],
            VersionProperties = versionProps.ToJsonString(), PackageProperties = packageProps.ToJsonString(),
        }, ct);
        if (result.Outcome == PublishOutcome.Conflict) throw FileExists(fileName);
        await ctx.Response.WriteAsync("OK\n", ct);
    }

    /// <summary>Refuses a duplicate before its bytes are streamed, when the form fields came first (twine sends them first).</summary>
    private async Task RefuseEarlyAsync(Registry reg, Dictionary<string, string> fields, string fileName, CancellationToken ct)
    {
        if (reg.AllowOverwrite || Field(fields, "name") is not { } project || Field(fields, "version") is not { } version) return;
        PyPINames.ValidateProject(project);
        PyPINames.ValidateVersion(version);
        PyPINames.ValidateFileName(fileName, project, version);
        var pkg = await Store.GetPackageAsync(reg.Id, PyPINames.Normalize(project), ct);
        var ver = pkg is null ? null : await Store.GetVersionAsync(pkg.Id, version, ct);
        if (ver is not null && await Store.GetFileAsync(ver.Id, fileName, ct) is not null) throw FileExists(fileName);
    }

    private static ArcaException FileExists(string fileName) =>
        ArcaException.Conflict($"File already exists: {fileName} (a file cannot be replaced; upload a new version)", "ALREADY_EXISTS");

    /// <summary>PEP 592: a yanked version stays installable by exact pin but is skipped by version ranges.</summary>
    public async Task YankAsync(HttpContext ctx, string registry, string project, string version, bool yank)
    {
        var reg = await access.RequireAsync(ctx, registry, TokenScope.Write, PackageTypes.Python);
        PyPINames.ValidateProject(project);
        var pkg = await Store.GetPackageAsync(reg.Id, PyPINames.Normalize(project), ctx.RequestAborted);
        var ver = pkg is null ? null : await Store.GetVersionAsync(pkg.Id, version, ctx.RequestAborted)
                  ?? throw ArcaException.NotFound($"{project} {PyPINames.Printable(version)} not found", "VERSION_NOT_FOUND");
        if (ver is null) throw ArcaException.NotFound($"project {project} not found", "PACKAGE_NOT_FOUND");
        var props = ParseObject(ver.Properties);
        props["yanked"] = yank;
        var reason = ctx.Request.Query["reason"].ToString();
        if (yank && reason.Length > 0) props["yanked_reason"] = Truncate(reason, 512); else props.Remove("yanked_reason");
        await Store.SetVersionPropertiesAsync(ver.Id, props.ToJsonString(), ctx.RequestAborted);
        ctx.Response.StatusCode = 200;
        await ctx.Response.WriteAsync(yank ? "yanked\n" : "un-yanked\n", ctx.RequestAborted);
    }

    private static (string Project, string Version) RequireNameAndVersion(Dictionary<string, string> fields)
    {
        var project = Field(fields, "name") ?? throw ArcaException.BadRequest("the upload has no 'name' field", "INVALID_UPLOAD");
        var version = Field(fields, "version") ?? throw ArcaException.BadRequest("the upload has no 'version' field", "INVALID_UPLOAD");
        return (PyPINames.ValidateProject(project), PyPINames.ValidateVersion(version));
    }

    /// <summary>Archives are read with random access (zip); a non-seekable backend is spooled to a temp file first.</summary>
    private async Task<Stream> OpenSeekableAsync(Digest digest, CancellationToken ct)
    {
        var stream = await artifacts.Blobs.OpenReadAsync(digest, ct) ?? throw ArcaException.NotFound("uploaded content vanished", "BLOB_MISSING");
        if (stream.CanSeek) return stream;
        var temp = new FileStream(Path.GetTempFileName(), FileMode.Open, FileAccess.ReadWrite, FileShare.None, 1 << 16, FileOptions.DeleteOnClose);
        await using (stream) await stream.CopyToAsync(temp, ct);
        temp.Position = 0;
        return temp;
    }

    private async Task ForgetOrphanAsync(BlobWriteResult blob)
    {
        if (blob.AlreadyExisted) return;
        var key = blob.Digest.ToString();
        if (await Store.IsBlobReferencedAsync(key, CancellationToken.None)) return;
        await artifacts.Blobs.DeleteAsync(blob.Digest, CancellationToken.None);
        await Store.ForgetBlobAsync(key, CancellationToken.None);
    }

    private static async Task<string> ReadFieldAsync(Stream body, CancellationToken ct)
    {
        var buffer = new MemoryStream();
        var chunk = new byte[16 * 1024];
        int read;
        while ((read = await body.ReadAsync(chunk, ct)) > 0)
        {
            if (buffer.Length + read > MaxFieldBytes) throw ArcaException.TooLarge($"a form field is larger than {MaxFieldBytes} bytes");
            buffer.Write(chunk, 0, read);
        }
        return Encoding.UTF8.GetString(buffer.GetBuffer(), 0, (int)buffer.Length);
    }

    private static string? Field(Dictionary<string, string> fields, string name) =>
        fields.TryGetValue(name, out var v) && !string.IsNullOrWhiteSpace(v) ? v.Trim() : null;

    private static string? Hex(Dictionary<string, string> fields, string name) => Field(fields, name)?.ToLowerInvariant();

    private static string Truncate(string s, int max) => s.Length > max ? s[..max] : s;

    private static string ContentTypeOf(PyPINames.DistributionKind kind) => kind switch
    {
        PyPINames.DistributionKind.SdistTarGz => "application/gzip",
        _ => "application/zip",
    };

    internal static JsonObject ParseObject(string? json)
    {
        if (string.IsNullOrEmpty(json)) return new JsonObject();
        try { return JsonNode.Parse(json) as JsonObject ?? new JsonObject(); }
        catch (System.Text.Json.JsonException) { return new JsonObject(); }
    }
}
