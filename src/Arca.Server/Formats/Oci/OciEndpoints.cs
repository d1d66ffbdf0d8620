using System.Collections.Concurrent;
using System.Text.Json;
using System.Text.Json.Nodes;
using Arca.Core.Auth;
using Arca.Core.Model;
using Arca.Core.Storage;
using Arca.Server.Auth;
using Arca.Server.Hosting;
using Arca.Server.Services;

namespace Arca.Server.Formats.Oci;

/// <summary>Request handlers of the distribution API. Blob bodies are streamed into the blob store, never buffered;
/// manifests are read bounded (<see cref="OciManifestService.MaxManifestBytes"/>).</summary>
public sealed class OciEndpoints(RegistryAccess access, ArtifactService artifacts, IOciMetadataStore oci,
    OciManifestService manifests, OciTokenService tokens, OciManifestCache manifestCache, ServerOptions options)
{
    private const string ApiVersionHeader = "Docker-Distribution-API-Version";
    private const int MaxListSize = 10_000;
    private static readonly string[] OciTypes = [PackageTypes.Docker, PackageTypes.Helm];

    // ---------------- base, token, catalog ----------------

    public Task BaseAsync(HttpContext ctx)
    {
        // An anonymous caller is challenged so that clients start the token flow; any credentials that reached this
        // point were accepted by the authentication middleware (an anonymous registry token included).
        if (!ctx.Principal().IsAuthenticated && ctx.Request.Headers.Authorization.Count == 0)
            throw ArcaException.Unauthorized("authentication required");
        ctx.Response.Headers[ApiVersionHeader] = "registry/2.0";
        ctx.Response.ContentType = "application/json";
        return HttpMethods.IsHead(ctx.Request.Method) ? Task.CompletedTask : ctx.Response.WriteAsync("{}");
    }

    /// <summary>Docker token endpoint: grants what the caller (Basic/Bearer API token, or anonymous) may do on each
    /// requested <c>repository:&lt;registry&gt;/&lt;name&gt;:&lt;actions&gt;</c> scope.</summary>
    public async Task TokenAsync(HttpContext ctx)
    {
        var principal = ctx.Principal();
        var grants = new List<OciTokenService.Grant>();
        var scopes = ctx.Request.Query["scope"].SelectMany(s => (s ?? "").Split(' ', StringSplitOptions.RemoveEmptyEntries));
        foreach (var scope in scopes)
        {
            var parts = scope.Split(':');
            if (parts is ["registry", "catalog", ..])
            {
                // The catalog lists what the caller may read anyway; the grant just lets a registry token ask.
                grants.Add(new OciTokenService.Grant("registry", "catalog", ["*"]));
                continue;
            }
            if (parts.Length < 3 || parts[0] != "repository") continue;
            var name = string.Join(':', parts[1..^1]);
            var requested = parts[^1].Split(',', StringSplitOptions.RemoveEmptyEntries);
            if (!OciPath.TrySplitName(name, out var regName, out _)) continue;
            var reg = await artifacts.Store.GetRegistryAsync(regName, ctx.RequestAborted);
            if (reg is null || !OciTypes.Contains(reg.PackageType)) continue;
            // A registry token asking for another token gets no more than it already holds.
            var allowed = requested.Where(a => a switch
            {
                "pull" => AccessControl.CanRead(Effective(principal, name, "pull"), reg),
                "push" => Effective(principal, name, "push").Has(TokenScope.Write, reg.Id),
                "delete" => Effective(principal, name, "delete").Has(TokenScope.Delete, reg.Id),
                "*" => Effective(principal, name, "*").Has(TokenScope.Delete, reg.Id),
                _ => false,
            }).Distinct().ToList();
            grants.Add(new OciTokenService.Grant("repository", name, allowed));
        }
        var now = DateTimeOffset.UtcNow;
        var token = tokens.Issue(principal, grants, now);
        ctx.Response.Headers.CacheControl = "no-store";
        await ctx.Response.WriteAsJsonAsync(new
        {
            token, access_token = token, expires_in = (int)OciTokenService.Lifetime.TotalSeconds,
            issued_at = now.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'"),
        });
    }

    public async Task CatalogAsync(HttpContext ctx)
    {
        var principal = Effective(ctx.Principal(), "catalog", "*", type: "registry");
        var (limit, last) = ReadPaging(ctx);
        var names = new List<string>();
        for (var page = 1; ; page++)
        {
            var regs = await artifacts.Store.ListRegistriesAsync(new RegistryQuery { Page = new PageRequest(page, PageRequest.MaxPageSize) }, ctx.RequestAborted);
            foreach (var reg in regs.Items.Where(r => OciTypes.Contains(r.PackageType) && AccessControl.CanRead(principal, r)))
                for (var pp = 1; ; pp++)
                {
                    var pkgs = await artifacts.Store.ListPackagesAsync(reg.Id, null, new PageRequest(pp, PageRequest.MaxPageSize), ctx.RequestAborted);
                    names.AddRange(pkgs.Items.Select(p => $"{reg.Name}/{p.Name}"));
                    if (pp * PageRequest.MaxPageSize >= pkgs.Total) break;
                }
            if (page * PageRequest.MaxPageSize >= regs.Total) break;
        }
        names.Sort(StringComparer.Ordinal);
        var selected = names.Where(n => last is null || string.CompareOrdinal(n, last) > 0).Take(limit + 1).ToList();
        var more = selected.Count > limit;
        if (more)
        {
            selected.RemoveAt(limit);
            ctx.Response.Headers.Link = $"</v2/_catalog?n={limit}&last={Uri.EscapeDataString(selected[^1])}>; rel=\"next\"";
        }
        ctx.Response.Headers[ApiVersionHeader] = "registry/2.0";
        await ctx.Response.WriteAsJsonAsync(new { repositories = selected });
    }

    private static (int Limit, string? Last) ReadPaging(HttpContext ctx)
    {
        var q = ctx.Request.Query;
        var limit = MaxListSize;
        if (q.TryGetValue("n", out var nText) && nText.Count > 0)
            if (!int.TryParse(nText[0], out limit) || limit < 0)
                throw OciErrors.Unsupported($"invalid page size n='{nText[0]}'");
        var last = q.TryGetValue("last", out var l) && !string.IsNullOrEmpty(l[0]) ? l[0] : null;
        return (Math.Min(limit, MaxListSize), last);
    }

    // ---------------- dispatch ----------------

    public async Task DispatchAsync(HttpContext ctx)
    {
        if (!OciPath.TryParse(ctx.Request.Path.Value ?? "", out var route))
            throw OciErrors.NameUnknown((ctx.Request.Path.Value ?? "")[Math.Min(4, ctx.Request.Path.Value?.Length ?? 0)..]);
        ctx.Response.Headers[ApiVersionHeader] = "registry/2.0";
        var method = ctx.Request.Method;
        var get = HttpMethods.IsGet(method) || HttpMethods.IsHead(method);
        switch (route.Kind)
        {
            case OciRouteKind.Manifest when get: await GetManifestAsync(ctx, route); return;
            case OciRouteKind.Manifest when HttpMethods.IsPut(method): await PutManifestAsync(ctx, route); return;
            case OciRouteKind.Manifest when HttpMethods.IsDelete(method): await DeleteManifestAsync(ctx, route); return;
            case OciRouteKind.Blob when get: await GetBlobAsync(ctx, route); return;
            case OciRouteKind.Blob when HttpMethods.IsDelete(method): await DeleteBlobAsync(ctx, route); return;
            case OciRouteKind.Upload when HttpMethods.IsPost(method) && route.Argument == "": await StartUploadAsync(ctx, route); return;
            case OciRouteKind.Upload when HttpMethods.IsPatch(method) && route.Argument != "": await PatchUploadAsync(ctx, route); return;
            case OciRouteKind.Upload when HttpMethods.IsPut(method) && route.Argument != "": await FinishUploadAsync(ctx, route); return;
            case OciRouteKind.Upload when HttpMethods.IsGet(method) && route.Argument != "": await UploadStatusAsync(ctx, route); return;
            case OciRouteKind.Upload when HttpMethods.IsDelete(method) && route.Argument != "": await CancelUploadAsync(ctx, route); return;
            case OciRouteKind.Tags when HttpMethods.IsGet(method): await ListTagsAsync(ctx, route); return;
            case OciRouteKind.Referrers when HttpMethods.IsGet(method): await ReferrersAsync(ctx, route); return;
            default: throw OciErrors.Unsupported($"{method} is not supported on {ctx.Request.Path}", 405);
        }
    }

    /// <summary>The rights of <paramref name="principal"/> on one repository: a registry token counts as its API token
    /// where it was granted the action and as anonymous elsewhere; an API token used directly keeps all its rights.</summary>
    private static Principal Effective(Principal principal, string name, string action, string type = "repository") =>
        principal.Scoped is { } scoped ? scoped.For(type, name, action) : principal;

    private static string ActionFor(TokenScope scope) => scope switch
    {
        TokenScope.Read => "pull",
        TokenScope.Write => "push",
        _ => "delete",
    };

    private async Task<Registry> RequireAsync(HttpContext ctx, OciRoute route, TokenScope scope)
    {
        OciPath.Validate(route);
        var principal = ctx.Principal();
        if (principal.Scoped is null) return await access.RequireAsync(ctx, principal, route.Registry, scope, OciTypes);
        var effective = Effective(principal, route.Name, ActionFor(scope));
        try
        {
            return await access.RequireAsync(ctx, effective, route.Registry, scope, OciTypes);
        }
        catch (ArcaException e) when (e.Status is 401 or 403 && !effective.IsAuthenticated)
        {
            // Not granted by this registry token: 401 with error="insufficient_scope" makes clients fetch a token
            // for the scope this request needs (OciErrors.Challenge).
            ctx.Items[OciErrors.InsufficientScopeKey] = true;
            throw new ArcaException(401, "UNAUTHORIZED", $"the registry token does not grant {ActionFor(scope)} on {route.Name}");
        }
    }

    private static Digest ParseDigest(string? text)
    {
        if (Digest.TryParse(text, out var d)) return d;
        throw OciErrors.DigestInvalid($"invalid or unsupported digest '{text}' (sha256 and sha512 are supported)");
    }

    // ---------------- manifests ----------------

    private async Task GetManifestAsync(HttpContext ctx, OciRoute route)
    {
        var reg = await RequireAsync(ctx, route, TokenScope.Read);
        var reference = route.Argument!;
        if (!Digest.TryParse(reference, out _) && !OciPath.IsValidTag(reference))
            throw reference.Contains(':') ? OciErrors.DigestInvalid($"invalid digest '{reference}'") : OciErrors.ManifestInvalid($"invalid tag '{reference}'");
        var manifest = await manifests.ResolveAsync(reg, route.Repository, reference, ctx.RequestAborted)
            ?? throw OciErrors.ManifestUnknown(reference);
        var r = ctx.Response;
        var head = HttpMethods.IsHead(ctx.Request.Method);
        var cached = head ? null : await manifestCache.GetAsync(manifest.Digest, manifest.Size, ctx.RequestAborted);
        Stream? stream = null;
        if (cached is null && !head)
            stream = await artifacts.Blobs.OpenReadAsync(Digest.Parse(manifest.Digest), ctx.RequestAborted)
                ?? throw OciErrors.ManifestUnknown(reference);
        await using var manifestStream = stream;
        r.ContentType = manifest.MediaType;
        r.ContentLength = manifest.Size;
        r.Headers["Docker-Content-Digest"] = manifest.Digest;
        r.Headers.ETag = $"\"{manifest.Digest}\"";
        if (head) return;
        if (cached is not null) await r.Body.WriteAsync(cached, ctx.RequestAborted);
        else await stream!.CopyToAsync(r.Body, ctx.RequestAborted);
    }

    private async Task PutManifestAsync(HttpContext ctx, OciRoute route)
    {
        var reg = await RequireAsync(ctx, route, TokenScope.Write);
        var bytes = await ReadBoundedAsync(ctx.Request, OciManifestService.MaxManifestBytes, ctx.RequestAborted);
        var result = await manifests.PutManifestAsync(reg, route.Repository, route.Argument!, bytes, ctx.Request.ContentType, ctx.RequestAborted, requireLinkedBlobs: true);
        var r = ctx.Response;
        r.StatusCode = StatusCodes.Status201Created;
        r.Headers.Location = $"/v2/{route.Name}/manifests/{result.Digest}";
        r.Headers["Docker-Content-Digest"] = result.Digest.ToString();
        if (result.Subject is not null) r.Headers["OCI-Subject"] = result.Subject;
        r.ContentLength = 0;
    }

    private static async Task<byte[]> ReadBoundedAsync(HttpRequest request, int max, CancellationToken ct)
    {
        if (request.ContentLength > max) throw OciErrors.ManifestInvalid($"manifest exceeds {max} bytes", 413);
        var buffer = new MemoryStream();
        var chunk = new byte[16 * 1024];
        int read;
        while ((read = await request.Body.ReadAsync(chunk, ct)) > 0)
        {
            buffer.Write(chunk, 0, read);
            if (buffer.Length > max) throw OciErrors.ManifestInvalid($"manifest exceeds {max} bytes", 413);
        }
        return buffer.ToArray();
    }

    private async Task DeleteManifestAsync(HttpContext ctx, OciRoute route)
    {
        var reg = await RequireAsync(ctx, route, TokenScope.Delete);
        var reference = route.Argument!;
        bool deleted;
        if (Digest.TryParse(reference, out _))
            deleted = await oci.DeleteManifestAsync(reg.Id, route.Repository, reference, cascadeChildren: false, ctx.RequestAborted);
        else if (reference.Contains(':'))
            throw OciErrors.DigestInvalid($"invalid digest '{reference}'");
        else
            deleted = await oci.DeleteTagAsync(reg.Id, route.Repository, reference, ctx.RequestAborted);
        if (!deleted) throw OciErrors.ManifestUnknown(reference);
        ctx.Response.StatusCode = StatusCodes.Status202Accepted;
        ctx.Response.ContentLength = 0;
    }

    // ---------------- blobs ----------------

    private async Task GetBlobAsync(HttpContext ctx, OciRoute route)
    {
        var reg = await RequireAsync(ctx, route, TokenScope.Read);
        var digest = ParseDigest(route.Argument);
        var key = digest.ToString();
        if (!await oci.IsBlobLinkedAsync(reg.Id, route.Repository, key, ctx.RequestAborted)) throw OciErrors.BlobUnknown(key);
        var r = ctx.Response;
        r.Headers["Docker-Content-Digest"] = key;
        r.Headers.ETag = $"\"{key}\"";
        if (HttpMethods.IsHead(ctx.Request.Method))
        {
            var size = await artifacts.Blobs.GetSizeAsync(digest, ctx.RequestAborted) ?? throw OciErrors.BlobUnknown(key);
            r.ContentType = "application/octet-stream";
            r.ContentLength = size;
            r.Headers.AcceptRanges = "bytes";
            return;
        }
        var stream = await artifacts.Blobs.OpenReadAsync(digest, ctx.RequestAborted) ?? throw OciErrors.BlobUnknown(key);
        if (ctx.Request.Headers.Range.Count == 0 && stream.CanSeek)
        {
            // Whole blob: large reads straight into the response (faster than the file result's small copy buffer).
            await using var blobStream = stream;
            r.ContentType = "application/octet-stream";
            r.ContentLength = stream.Length;
            r.Headers.AcceptRanges = "bytes";
            // Read straight into the response pipe's buffers: no intermediate copy.
            var writer = r.BodyWriter;
            while (true)
            {
                var memory = writer.GetMemory(256 * 1024);
                var read = await stream.ReadAsync(memory, ctx.RequestAborted);
                if (read == 0) break;
                writer.Advance(read);
                var flushed = await writer.FlushAsync(ctx.RequestAborted);
                if (flushed.IsCanceled || flushed.IsCompleted) break;
            }
            return;
        }
        // Range requests are answered by the file result (206 with Content-Range).
        await Results.File(stream, "application/octet-stream", enableRangeProcessing: true).ExecuteAsync(ctx);
    }

    private async Task DeleteBlobAsync(HttpContext ctx, OciRoute route)
    {
        var reg = await RequireAsync(ctx, route, TokenScope.Delete);
        var digest = ParseDigest(route.Argument).ToString();
        // The bytes stay until garbage collection finds nothing referencing them.
        if (!await oci.UnlinkBlobAsync(reg.Id, route.Repository, digest, ctx.RequestAborted)) throw OciErrors.BlobUnknown(digest);
        ctx.Response.StatusCode = StatusCodes.Status202Accepted;
        ctx.Response.ContentLength = 0;
    }

    // ---------------- uploads ----------------

    private string UploadLocation(OciRoute route, string sessionId) => $"/v2/{route.Name}/blobs/uploads/{sessionId}";

    /// <summary>Uploads a request is writing to right now. A second request on the same upload while one is in
    /// flight gets 416 (its chunk cannot continue an upload whose length is still changing) instead of racing it.</summary>
    private readonly ConcurrentDictionary<string, byte> _busyUploads = new(StringComparer.Ordinal);

    private sealed class UploadLease(ConcurrentDictionary<string, byte> busy, string id) : IDisposable
    {
        public void Dispose() => busy.TryRemove(id, out _);
    }

    private async Task BlobCreatedAsync(HttpContext ctx, Registry reg, OciRoute route, Digest digest)
    {
        await oci.LinkBlobAsync(reg.Id, route.Repository, digest.ToString(), ctx.RequestAborted);
        var r = ctx.Response;
        r.StatusCode = StatusCodes.Status201Created;
        r.Headers.Location = $"/v2/{route.Name}/blobs/{digest}";
        r.Headers["Docker-Content-Digest"] = digest.ToString();
        r.ContentLength = 0;
    }

    private async Task StartUploadAsync(HttpContext ctx, OciRoute route)
    {
        var reg = await RequireAsync(ctx, route, TokenScope.Write);
        var q = ctx.Request.Query;
        if (q.TryGetValue("mount", out var mount) && !string.IsNullOrEmpty(mount[0]))
        {
            var digest = ParseDigest(mount[0]);
            if (await CanMountAsync(ctx, reg, digest, q["from"].FirstOrDefault()))
            {
                await BlobCreatedAsync(ctx, reg, route, digest);
                return;
            }
            // Not mountable: fall through and open an ordinary upload session (202), as the spec allows.
        }
        else if (q.TryGetValue("digest", out var digestText))
        {
            var digest = ParseDigest(digestText.FirstOrDefault());
            var stored = await artifacts.StoreBlobAsync(ctx.Request.Body, new BlobWriteOptions
            {
                Expected = digest, ExpectedSize = ctx.Request.ContentLength, MaxSize = options.MaxUploadBytes,
            }, ctx.RequestAborted);
            await BlobCreatedAsync(ctx, reg, route, stored.Digest);
            return;
        }
        var upload = await artifacts.Blobs.StartUploadAsync(ctx.RequestAborted);
        await using (upload) { }
        var sessionId = tokens.UploadSessionId(reg.Id, route.Repository, upload.Id);
        var r = ctx.Response;
        r.StatusCode = StatusCodes.Status202Accepted;
        r.Headers.Location = UploadLocation(route, sessionId);
        r.Headers.Range = "0-0";
        r.Headers["Docker-Upload-UUID"] = sessionId;
        r.Headers["OCI-Chunk-Min-Length"] = "0";
        r.ContentLength = 0;
    }

    private async Task<bool> CanMountAsync(HttpContext ctx, Registry target, Digest digest, string? from)
    {
        var key = digest.ToString();
        if (await artifacts.Blobs.GetSizeAsync(digest, ctx.RequestAborted) is null) return false;
        if (string.IsNullOrEmpty(from)) return await oci.IsBlobInRegistryAsync(target.Id, key, ctx.RequestAborted);
        if (!OciPath.TrySplitName(from, out var fromRegistry, out var fromRepository)) return false;
        var source = fromRegistry == target.Name ? target : await artifacts.Store.GetRegistryAsync(fromRegistry, ctx.RequestAborted);
        // Mounting from another registry needs read access there; otherwise the client simply uploads.
        if (source is null || !OciTypes.Contains(source.PackageType) || !AccessControl.CanRead(Effective(ctx.Principal(), from, "pull"), source)) return false;
        return await oci.IsBlobLinkedAsync(source.Id, fromRepository, key, ctx.RequestAborted);
    }

    /// <summary>Re-opens the upload of the route's session id, which must have been issued for this repository.</summary>
    private async Task<IBlobUpload> ResumeAsync(HttpContext ctx, Registry reg, OciRoute route)
    {
        var sessionId = route.Argument!;
        var storeId = tokens.OpenUploadSession(reg.Id, route.Repository, sessionId) ?? throw OciErrors.BlobUploadUnknown(sessionId);
        return await artifacts.Blobs.ResumeUploadAsync(storeId, ctx.RequestAborted) ?? throw OciErrors.BlobUploadUnknown(sessionId);
    }

    /// <summary>Claims the upload for this request, or answers 416 with the upload's current status. A request that
    /// held it before may have committed or cancelled the session meanwhile: then BLOB_UPLOAD_UNKNOWN.</summary>
    private async Task<UploadLease> ClaimAsync(HttpContext ctx, OciRoute route, IBlobUpload upload)
    {
        if (!_busyUploads.TryAdd(upload.Id, 0))
        {
            SetUploadStatus(ctx.Response, route, upload);
            throw OciErrors.BlobUploadInvalid($"upload {route.Argument} is being written by another request", 416);
        }
        var lease = new UploadLease(_busyUploads, upload.Id);
        if (await artifacts.Blobs.ResumeUploadAsync(upload.Id, ctx.RequestAborted) is not null) return lease;
        lease.Dispose();
        throw OciErrors.BlobUploadUnknown(route.Argument!);
    }

    private static long SizeOf(IBlobUpload upload, OciRoute route)
    {
        try { return upload.Size; }
        catch (IOException e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            throw OciErrors.BlobUploadUnknown(route.Argument!); // finished or cancelled by a concurrent request
        }
    }

    private void SetUploadStatus(HttpResponse r, OciRoute route, IBlobUpload upload)
    {
        r.Headers.Location = UploadLocation(route, route.Argument!);
        var size = SizeOf(upload, route);
        r.Headers.Range = size == 0 ? "0-0" : $"0-{size - 1}";
        r.Headers["Docker-Upload-UUID"] = route.Argument!;
        r.ContentLength = 0;
    }

    /// <summary>Appends the request body to the upload, after checking that a Content-Range continues it.</summary>
    private async Task AppendChunkAsync(HttpContext ctx, OciRoute route, IBlobUpload upload)
    {
        using var lease = await ClaimAsync(ctx, route, upload);
        var range = ctx.Request.Headers.ContentRange.ToString();
        if (range.Length > 0)
        {
            var text = range.StartsWith("bytes ", StringComparison.OrdinalIgnoreCase) ? range[6..] : range;
            var slash = text.IndexOf('/');
            if (slash >= 0) text = text[..slash];
            var dash = text.IndexOf('-');
            if (dash <= 0 || !long.TryParse(text[..dash], out var start) || !long.TryParse(text[(dash + 1)..], out var end) || end < start)
                throw OciErrors.BlobUploadInvalid($"invalid Content-Range '{range}'", 416);
            if (start != SizeOf(upload, route))
            {
                SetUploadStatus(ctx.Response, route, upload);
                throw OciErrors.BlobUploadInvalid($"chunk starts at {start} but the upload has {SizeOf(upload, route)} bytes", 416);
            }
            if (ctx.Request.ContentLength is { } len && len != end - start + 1)
                throw OciErrors.BlobUploadInvalid($"Content-Range {range} does not match Content-Length {len}", 416);
        }
        var max = options.MaxUploadBytes;
        await upload.AppendAsync(ctx.Request.Body, max, ctx.RequestAborted);
    }

    private async Task PatchUploadAsync(HttpContext ctx, OciRoute route)
    {
        var reg = await RequireAsync(ctx, route, TokenScope.Write);
        var upload = await ResumeAsync(ctx, reg, route);
        await using var session = upload;
        await AppendChunkAsync(ctx, route, upload);
        ctx.Response.StatusCode = StatusCodes.Status202Accepted;
        SetUploadStatus(ctx.Response, route, upload);
    }

    private async Task FinishUploadAsync(HttpContext ctx, OciRoute route)
    {
        var reg = await RequireAsync(ctx, route, TokenScope.Write);
        var digest = ParseDigest(ctx.Request.Query["digest"].FirstOrDefault());
        var upload = await ResumeAsync(ctx, reg, route);
        await using var session = upload;
        var hasBody = ctx.Request.ContentLength is > 0 || ctx.Request.Headers.TransferEncoding.Count > 0;
        if (hasBody && SizeOf(upload, route) == 0 && ctx.Request.Headers.ContentRange.Count == 0)
        {
            // POST then one PUT with the whole blob (what docker and skopeo do): hash while writing, in one pass.
            var whole = await artifacts.StoreBlobAsync(ctx.Request.Body, new BlobWriteOptions
            {
                Expected = digest, ExpectedSize = ctx.Request.ContentLength, MaxSize = options.MaxUploadBytes,
            }, ctx.RequestAborted);
            using (await ClaimAsync(ctx, route, upload)) await upload.CancelAsync(ctx.RequestAborted);
            await BlobCreatedAsync(ctx, reg, route, whole.Digest);
            return;
        }
        if (hasBody) await AppendChunkAsync(ctx, route, upload);
        BlobWriteResult stored;
        using (await ClaimAsync(ctx, route, upload))
            stored = await upload.CommitAsync(digest, ctx.RequestAborted);
        await artifacts.Store.RecordBlobAsync(new BlobRecord(stored.Digest.ToString(), stored.Size, null, null, DateTimeOffset.UtcNow), ctx.RequestAborted);
        await BlobCreatedAsync(ctx, reg, route, stored.Digest);
    }

    private async Task UploadStatusAsync(HttpContext ctx, OciRoute route)
    {
        var reg = await RequireAsync(ctx, route, TokenScope.Write);
        var upload = await ResumeAsync(ctx, reg, route);
        await using var session = upload;
        ctx.Response.StatusCode = StatusCodes.Status204NoContent;
        SetUploadStatus(ctx.Response, route, upload);
    }

    private async Task CancelUploadAsync(HttpContext ctx, OciRoute route)
    {
        var reg = await RequireAsync(ctx, route, TokenScope.Write);
        var upload = await ResumeAsync(ctx, reg, route);
        await using var session = upload;
        using (await ClaimAsync(ctx, route, upload)) await upload.CancelAsync(ctx.RequestAborted);
        ctx.Response.StatusCode = StatusCodes.Status204NoContent;
    }

    // ---------------- tags, referrers ----------------

    private async Task ListTagsAsync(HttpContext ctx, OciRoute route)
    {
        var reg = await RequireAsync(ctx, route, TokenScope.Read);
        var (limit, last) = ReadPaging(ctx);
        var tags = await oci.ListTagsAsync(reg.Id, route.Repository, last, limit + 1, ctx.RequestAborted)
            ?? throw OciErrors.NameUnknown(route.Name);
        var page = tags.Take(limit).ToList();
        if (tags.Count > limit && limit > 0)
            ctx.Response.Headers.Link = $"</v2/{route.Name}/tags/list?n={limit}&last={Uri.EscapeDataString(page[^1])}>; rel=\"next\"";
        await ctx.Response.WriteAsJsonAsync(new { name = route.Name, tags = page });
    }

    private async Task ReferrersAsync(HttpContext ctx, OciRoute route)
    {
        var reg = await RequireAsync(ctx, route, TokenScope.Read);
        var subject = ParseDigest(route.Argument).ToString();
        var filter = ctx.Request.Query["artifactType"].FirstOrDefault();
        var referrers = await oci.ListReferrersAsync(reg.Id, route.Repository, subject, ctx.RequestAborted);
        var list = new JsonArray();
        foreach (var m in referrers)
        {
            if (!string.IsNullOrEmpty(filter) && m.ArtifactType != filter) continue;
            var d = new JsonObject { ["mediaType"] = m.MediaType, ["digest"] = m.Digest, ["size"] = m.Size };
            if (m.ArtifactType is not null) d["artifactType"] = m.ArtifactType;
            if (m.Annotations is not null) d["annotations"] = JsonNode.Parse(m.Annotations);
            list.Add(d);
        }
        if (!string.IsNullOrEmpty(filter)) ctx.Response.Headers["OCI-Filters-Applied"] = "artifactType";
        var index = new JsonObject { ["schemaVersion"] = 2, ["mediaType"] = OciMediaTypes.OciIndex, ["manifests"] = list };
        ctx.Response.ContentType = OciMediaTypes.OciIndex;
        await ctx.Response.WriteAsync(index.ToJsonString(), ctx.RequestAborted);
    }
}
