using System.IO.Compression;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Arca.Core.Auth;
using Arca.Core.Model;
using Arca.Core.Storage;
using Arca.Server.Hosting;
using Arca.Server.Services;
using Microsoft.Net.Http.Headers;

namespace Arca.Server.Formats.Maven;

/// <summary>
/// Maven repository layout at <c>/pkg/&lt;registry&gt;/maven/&lt;group path&gt;/&lt;artifactId&gt;/&lt;version&gt;/&lt;file&gt;</c>.
/// Package = "groupId:artifactId", version = the version directory (SNAPSHOTs keep their timestamped files under the
/// base version), files = the file names. Checksum sidecars and maven-metadata.xml are computed by the server.
/// </summary>
public sealed class MavenModule : IFormatModule
{
    private const string Type = Core.Model.PackageTypes.Maven;
    /// <summary>Extensions that are zip archives and must open as one (a tampered jar is refused).</summary>
    private static readonly HashSet<string> ZipExtensions = ["jar", "war", "ear", "aar", "zip", "rar", "hpi", "jpi", "kar", "nar"];
    private const int MaxSidecarBytes = 1024;
    private const long MaxClientMetadataBytes = 4 * 1024 * 1024;

    public string Name => "maven";
    public IReadOnlyList<string> PackageTypes => [Type];

    public string? ClientUrl(Registry registry, string baseUrl) => $"{baseUrl}/pkg/{registry.Name}/maven";

    public void MapEndpoints(IEndpointRouteBuilder app)
    {
        const string route = "/pkg/{registry}/maven/{**path}";
        app.MapPut(route, PutAsync).ExcludeFromDescription();
        app.MapMethods(route, [HttpMethods.Get, HttpMethods.Head], GetAsync).ExcludeFromDescription();
    }

    // ---------------- PUT ----------------

    private static async Task<IResult> PutAsync(HttpContext ctx, string registry, string? path,
        RegistryAccess access, ArtifactService artifacts, ServerOptions options)
    {
        var reg = await access.RequireAsync(ctx, registry, TokenScope.Write, Type);
        var mp = MavenPath.Parse(path);
        var ct = ctx.RequestAborted;

        if (mp.Kind != MavenPathKind.ArtifactFile)
        {
            // The server generates maven-metadata.xml (and its checksums) itself; what deployers send is accepted and dropped.
            await DrainAsync(ctx.Request.Body, MaxClientMetadataBytes, ct);
            return Results.Created($"/pkg/{reg.Name}/maven/{path}", null);
        }
        if (mp.ChecksumAlgorithm is not null)
            return await VerifySidecarAsync(ctx, reg, mp, path!, artifacts);

        var store = artifacts.Store;
        // SNAPSHOTs are mutable by definition; releases are not unless the registry allows overwrite.
        var overwrite = reg.AllowOverwrite || mp.IsSnapshot;
        var existing = await FindFileAsync(store, reg, mp.PackageName, mp.Version!, mp.FileName, ct);
        if (existing is not null && !overwrite) throw AlreadyExists(mp);

        var h = ctx.Request.Headers;
        var blob = await artifacts.StoreBlobAsync(ctx.Request.Body, new BlobWriteOptions
        {
            ComputeLegacyChecksums = true,
            ExpectedSha256 = Header(h, "X-Checksum-Sha256"),
            ExpectedSha1 = Header(h, "X-Checksum-Sha1"),
            ExpectedMd5 = Header(h, "X-Checksum-Md5"),
            ExpectedSize = ctx.Request.ContentLength,
            MaxSize = options.MaxUploadBytes,
        }, ct);

        string? versionProperties = null, packageProperties = null;
        if (ZipExtensions.Contains(mp.Extension!)) await RequireZipAsync(artifacts, blob.Digest, mp.FileName, ct);
        if (mp.IsMainPom)
        {
            MavenPom pom;
            await using (var s = await artifacts.Blobs.OpenReadAsync(blob.Digest, ct) ?? throw new IOException("stored POM vanished"))
                pom = MavenPom.Parse(s);
            pom.RequireCoordinates(mp);
            versionProperties = JsonSerializer.Serialize(new
            {
                groupId = mp.GroupId, artifactId = mp.ArtifactId, version = mp.Version, packaging = pom.Packaging,
                name = pom.Name, description = pom.Description,
            });
            packageProperties = JsonSerializer.Serialize(new { groupId = mp.GroupId, artifactId = mp.ArtifactId, name = pom.Name, description = pom.Description });
        }

        var result = await store.PublishAsync(new PublishRequest
        {
            RegistryId = reg.Id, PackageName = mp.PackageName, Version = mp.Version!, Overwrite = overwrite,
            Files = [new NewFile(mp.FileName, blob.Digest.ToString(), blob.Size, ContentTypeOf(mp.Extension!), blob.Sha1, blob.Md5)],
            VersionProperties = versionProperties, PackageProperties = packageProperties,
        }, ct);
        if (result.Outcome == PublishOutcome.Conflict) throw AlreadyExists(mp);

        SetChecksumHeaders(ctx.Response, blob.Sha256Hex, blob.Sha1, blob.Md5);
        return Results.Created($"/pkg/{reg.Name}/maven/{path}", null);
    }

    /// <summary>A checksum sidecar uploaded by the client is checked against the stored file, never stored itself.</summary>
    private static async Task<IResult> VerifySidecarAsync(HttpContext ctx, Registry reg, MavenPath mp, string path, ArtifactService artifacts)
    {
        var ct = ctx.RequestAborted;
        var text = await ReadSmallAsync(ctx.Request.Body, MaxSidecarBytes, ct);
        // Sidecars are "hex" or "hex  filename"; only the hex part counts.
        var claimed = text.Split((char[])[' ', '\t', '\r', '\n'], StringSplitOptions.RemoveEmptyEntries).FirstOrDefault() ?? "";
        var file = await FindFileAsync(artifacts.Store, reg, mp.PackageName, mp.Version!, mp.FileName, ct)
            ?? throw ArcaException.NotFound($"{mp.FileName} has not been uploaded, so its {mp.ChecksumAlgorithm} cannot be checked", "FILE_NOT_FOUND");
        var actual = await ChecksumAsync(artifacts, file, mp.ChecksumAlgorithm!, ct);
        if (!string.Equals(claimed, actual, StringComparison.OrdinalIgnoreCase))
            throw ArcaException.BadRequest($"{mp.ChecksumAlgorithm} of {mp.FileName} is {actual}, the uploaded checksum says '{Truncate(claimed)}'", "CHECKSUM_MISMATCH");
        return Results.Created($"/pkg/{reg.Name}/maven/{path}", null);
    }

    // ---------------- GET / HEAD ----------------

    private static async Task<IResult> GetAsync(HttpContext ctx, string registry, string? path, RegistryAccess access, ArtifactService artifacts)
    {
        var reg = await access.RequireAsync(ctx, registry, TokenScope.Read, Type);
        var mp = MavenPath.Parse(path);
        var ct = ctx.RequestAborted;
        var store = artifacts.Store;
        var pkg = await store.GetPackageAsync(reg.Id, mp.PackageName, ct) ?? throw NotFound(path!);

        if (mp.Kind == MavenPathKind.ArtifactMetadata)
        {
            var versions = await artifacts.ListAllVersionsAsync(pkg.Id, ct);
            if (versions.Count == 0) throw NotFound(path!);
            return Document(MavenMetadata.ForArtifact(mp.GroupId, mp.ArtifactId, versions), mp.ChecksumAlgorithm);
        }

        var version = await store.GetVersionAsync(pkg.Id, mp.Version!, ct) ?? throw NotFound(path!);
        if (mp.Kind == MavenPathKind.SnapshotMetadata)
        {
            var files = await store.ListFilesAsync(version.Id, ct);
            if (files.Count == 0) throw NotFound(path!);
            return Document(MavenMetadata.ForSnapshot(mp.GroupId, mp.ArtifactId, mp.Version!, files), mp.ChecksumAlgorithm);
        }

        var file = await store.GetFileAsync(version.Id, mp.FileName, ct)
                   ?? await LatestSnapshotFileAsync(store, version, mp, ct)
                   ?? throw NotFound(path!);
        if (mp.ChecksumAlgorithm is not null)
            return Results.Text(await ChecksumAsync(artifacts, file, mp.ChecksumAlgorithm, ct), "text/plain");

        var stream = await artifacts.OpenFileAsync(file, ct);
        SetChecksumHeaders(ctx.Response, file.Sha256, file.Sha1, file.Md5);
        return Results.File(stream, file.ContentType ?? "application/octet-stream", lastModified: file.CreatedAt,
            entityTag: new EntityTagHeaderValue($"\"{file.Sha256}\""), enableRangeProcessing: true);
    }

    /// <summary>"util-1.0-SNAPSHOT.jar" asked for literally resolves to the newest timestamped file of that kind.</summary>
    private static async Task<PackageFile?> LatestSnapshotFileAsync(IMetadataStore store, PackageVersion version, MavenPath mp, CancellationToken ct)
    {
        if (!mp.IsSnapshot || mp.SnapshotTimestamp is not null) return null;
        PackageFile? best = null;
        (int Build, string Stamp) bestKey = (-1, "");
        foreach (var f in await store.ListFilesAsync(version.Id, ct))
        {
            (string? Classifier, string Extension, string? Timestamp, int? Build) p;
            try { p = MavenPath.ParseFileName(mp.ArtifactId, mp.Version!, f.Path); }
            catch (ArcaException) { continue; }
            if (p.Timestamp is null || p.Classifier != mp.Classifier || p.Extension != mp.Extension) continue;
            var key = (p.Build!.Value, p.Timestamp);
            if (key.Value > bestKey.Build || (key.Value == bestKey.Build && string.CompareOrdinal(key.Timestamp, bestKey.Stamp) > 0))
                (best, bestKey) = (f, key);
        }
        return best;
    }

    private static IResult Document(byte[] xml, string? checksumAlgorithm) =>
        checksumAlgorithm is null
            ? Results.Bytes(xml, "application/xml")
            : Results.Text(Convert.ToHexStringLower(HashOf(checksumAlgorithm, xml)), "text/plain");

    // ---------------- helpers ----------------

    private static async Task<PackageFile?> FindFileAsync(IMetadataStore store, Registry reg, string package, string version, string fileName, CancellationToken ct)
    {
        var pkg = await store.GetPackageAsync(reg.Id, package, ct);
        var ver = pkg is null ? null : await store.GetVersionAsync(pkg.Id, version, ct);
        return ver is null ? null : await store.GetFileAsync(ver.Id, fileName, ct);
    }

    /// <summary>md5/sha1/sha256 come from the file record; sha512 (and legacy values a record lacks) are hashed from the blob.</summary>
    private static async Task<string> ChecksumAsync(ArtifactService artifacts, PackageFile file, string algorithm, CancellationToken ct)
    {
        var known = algorithm switch { "sha256" => file.Sha256, "sha1" => file.Sha1, "md5" => file.Md5, _ => null };
        if (!string.IsNullOrEmpty(known)) return known.ToLowerInvariant();
        await using var stream = await artifacts.OpenFileAsync(file, ct);
        using var hash = IncrementalHash.CreateHash(AlgorithmName(algorithm));
        var buffer = new byte[81920];
        int read;
        while ((read = await stream.ReadAsync(buffer, ct)) > 0) hash.AppendData(buffer, 0, read);
        return Convert.ToHexStringLower(hash.GetHashAndReset());
    }

    private static HashAlgorithmName AlgorithmName(string algorithm) => algorithm switch
    {
        "md5" => HashAlgorithmName.MD5, "sha1" => HashAlgorithmName.SHA1, "sha256" => HashAlgorithmName.SHA256, _ => HashAlgorithmName.SHA512,
    };

    private static byte[] HashOf(string algorithm, byte[] data)
    {
        using var hash = IncrementalHash.CreateHash(AlgorithmName(algorithm));
        hash.AppendData(data);
        return hash.GetHashAndReset();
    }

    private static async Task RequireZipAsync(ArtifactService artifacts, Digest digest, string fileName, CancellationToken ct)
    {
        await using var stream = await artifacts.Blobs.OpenReadAsync(digest, ct) ?? throw new IOException("stored archive vanished");
        try
        {
            // Reading the central directory is enough to tell a zip from a tampered or truncated file.
            using var zip = new ZipArchive(stream, ZipArchiveMode.Read, leaveOpen: true);
            _ = zip.Entries.Count;
        }
        catch (InvalidDataException e)
        {
            throw ArcaException.BadRequest($"{fileName} is not a valid zip archive: {e.Message}", "INVALID_ARCHIVE");
        }
    }

    private static string ContentTypeOf(string extension) => extension switch
    {
        "pom" or "xml" => "application/xml",
        "jar" or "war" or "ear" => "application/java-archive",
        "module" or "json" => "application/json",
        _ => "application/octet-stream",
    };

    private static async Task DrainAsync(Stream body, long max, CancellationToken ct)
    {
        var buffer = new byte[16384];
        long total = 0;
        int read;
        while ((read = await body.ReadAsync(buffer, ct)) > 0)
            if ((total += read) > max) throw ArcaException.TooLarge($"maven-metadata.xml larger than {max} bytes");
    }

    private static async Task<string> ReadSmallAsync(Stream body, int max, CancellationToken ct)
    {
        var buffer = new byte[max + 1];
        var total = 0;
        int read;
        while (total < buffer.Length && (read = await body.ReadAsync(buffer.AsMemory(total), ct)) > 0) total += read;
        if (total > max) throw ArcaException.BadRequest($"a checksum file must be at most {max} bytes", "INVALID_CHECKSUM");
        return Encoding.ASCII.GetString(buffer, 0, total);
    }

    private static string Truncate(string s) => s.Length <= 128 ? s : s[..128] + "...";

    private static ArcaException AlreadyExists(MavenPath mp) =>
        ArcaException.Conflict($"{mp.PackageName}:{mp.Version} already has {mp.FileName} (the registry does not allow overwrite)", "ALREADY_EXISTS");

    private static ArcaException NotFound(string path) => ArcaException.NotFound($"{path} not found", "FILE_NOT_FOUND");

    private static string? Header(IHeaderDictionary h, string name) => h[name] is { Count: > 0 } v && !string.IsNullOrWhiteSpace(v[0]) ? v[0]!.Trim() : null;

    private static void SetChecksumHeaders(HttpResponse response, string sha256, string? sha1, string? md5)
    {
        response.Headers["X-Checksum-Sha256"] = sha256;
        if (sha1 is not null) response.Headers["X-Checksum-Sha1"] = sha1;
        if (md5 is not null) response.Headers["X-Checksum-Md5"] = md5;
    }
}
