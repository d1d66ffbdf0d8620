using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Arca.Core.Auth;
using Arca.Core.Model;
using Arca.Core.Storage;
using Arca.Server.Api;
using Arca.Server.Auth;
using Arca.Server.Hosting;
using Arca.Server.Services;

namespace Arca.Server.Formats.Npm;

/// <summary>Request handling of the npm protocol (see <see cref="NpmModule"/>). Storage model: package = npm name,
/// version = semver, one file per version (the tarball, "&lt;unscoped&gt;-&lt;version&gt;.tgz"); the version's
/// properties hold its package.json manifest (with dist integrity/shasum), the package's properties hold dist-tags,
/// description and readme.</summary>
public sealed class NpmHandler(RegistryAccess access, ArtifactService artifacts, ServerOptions options)
{
    private const string AbbreviatedMediaType = "application/vnd.npm.install-v1+json";
    private const int MaxReadmeChars = 64 * 1024;
    private IMetadataStore Store => artifacts.Store;

    private static readonly JsonSerializerOptions JsonOut = new() { WriteIndented = false };

    // Fields npm install needs from each version (the abbreviated "corgi" document).
    private static readonly string[] AbbreviatedFields =
    [
        "name", "version", "deprecated", "dependencies", "optionalDependencies", "devDependencies", "bundleDependencies",
        "bundledDependencies", "peerDependencies", "peerDependenciesMeta", "acceptDependencies", "bin", "directories",
        "dist", "engines", "cpu", "os", "libc", "funding", "license", "_hasShrinkwrap", "hasInstallScript",
    ];

    public async Task HandleAsync(HttpContext ctx, string registry, string rest)
    {
        // npm escapes the '/' of scoped names ("@scope%2fname"); the router leaves %2F encoded.
        var path = rest.Replace("%2F", "/", StringComparison.OrdinalIgnoreCase).Trim('/');
        var segments = path.Length == 0 ? [] : path.Split('/');
        var method = ctx.Request.Method;

        if (segments.Length == 0)
        {
            await access.RequireAsync(ctx, registry, TokenScope.Read, PackageTypes.Npm);
            await WriteJsonAsync(ctx, new JsonObject { ["db_name"] = "registry" });
            return;
        }
        if (segments[0] == "-")
        {
            await HandleSpecialAsync(ctx, registry, segments, method);
            return;
        }

        var (name, tail) = SplitName(segments);
        NpmNames.ValidateName(name);
        switch (tail.Length)
        {
            case 0 when HttpMethods.IsGet(method) || HttpMethods.IsHead(method):
                await GetPackumentAsync(ctx, registry, name); return;
            case 0 when HttpMethods.IsPut(method):
            case 2 when tail[0] == "-rev" && HttpMethods.IsPut(method):
                await PutPackageAsync(ctx, registry, name); return;
            case 2 when tail[0] == "-rev" && HttpMethods.IsDelete(method):
                await DeletePackageAsync(ctx, registry, name); return;
            case 2 when tail[0] == "-" && (HttpMethods.IsGet(method) || HttpMethods.IsHead(method)):
                await GetTarballAsync(ctx, registry, name, tail[1]); return;
            case 4 when tail[0] == "-" && tail[2] == "-rev" && HttpMethods.IsDelete(method):
                await DeleteTarballAsync(ctx, registry, name, tail[1]); return;
            case 1 when HttpMethods.IsGet(method) || HttpMethods.IsHead(method):
                await GetVersionAsync(ctx, registry, name, tail[0]); return;
        }
        throw new ArcaException(405, "METHOD_NOT_ALLOWED", $"{method} is not supported on /{path}");
    }

    private static (string Name, string[] Tail) SplitName(string[] segments)
    {
        if (segments[0].StartsWith('@'))
        {
            if (segments.Length < 2) throw ArcaException.BadRequest($"invalid scoped package name '{NpmNames.Printable(segments[0])}'", "INVALID_NAME");
            return ($"{segments[0]}/{segments[1]}", segments[2..]);
        }
        return (segments[0], segments[1..]);
    }

    // ---------------- /-/... endpoints ----------------

    private async Task HandleSpecialAsync(HttpContext ctx, string registry, string[] s, string method)
    {
        if (s.Length == 2 && s[1] == "whoami" && HttpMethods.IsGet(method))
        {
            await access.RequireAsync(ctx, registry, TokenScope.Read, PackageTypes.Npm);
            var principal = ctx.Principal();
            if (!principal.IsAuthenticated) throw ArcaException.Unauthorized("not logged in: configure a token for this registry");
            await WriteJsonAsync(ctx, new JsonObject { ["username"] = principal.Name });
            return;
        }
        if (s.Length == 2 && s[1] == "ping")
        {
            await access.RequireAsync(ctx, registry, TokenScope.Read, PackageTypes.Npm);
            await WriteJsonAsync(ctx, new JsonObject());
            return;
        }
        if (s.Length == 3 && s[1] == "user" && s[2].StartsWith("org.couchdb.user:", StringComparison.Ordinal) && HttpMethods.IsPut(method))
        {
            await LoginAsync(ctx, registry, s[2]["org.couchdb.user:".Length..]);
            return;
        }
        if (s.Length == 3 && s[1] == "v1" && s[2] == "search" && HttpMethods.IsGet(method))
        {
            await SearchAsync(ctx, registry);
            return;
        }
        if (s.Length >= 3 && s[1] == "npm" && s[2] == "v1" && HttpMethods.IsPost(method))
        {
            // npm audit endpoints: Arca keeps no advisory database, so there is nothing to report.
            await access.RequireAsync(ctx, registry, TokenScope.Read, PackageTypes.Npm);
            await WriteJsonAsync(ctx, new JsonObject());
            return;
        }
        if (s.Length >= 4 && s[1] == "package")
        {
            var (name, tail) = SplitName(s[2..]);
            NpmNames.ValidateName(name);
            if (tail.Length >= 1 && tail[0] == "dist-tags")
            {
                await DistTagsAsync(ctx, registry, name, tail.Length == 2 ? tail[1] : null, method);
                return;
            }
        }
        throw ArcaException.NotFound($"no such npm endpoint: {method} /-/{string.Join('/', s.Skip(1))}");
    }

    private async Task LoginAsync(HttpContext ctx, string registry, string user)
    {
        var reg = await Store.GetRegistryAsync(registry, ctx.RequestAborted);
        if (reg is null || reg.PackageType != PackageTypes.Npm) throw ArcaException.NotFound($"npm registry '{registry}' not found", "REGISTRY_NOT_FOUND");
        var body = await ReadJsonBodyAsync(ctx, 64 * 1024);
        var password = Str((body as JsonObject)?["password"]);
        var principal = string.IsNullOrEmpty(password) ? null : await AuthenticationMiddleware.ResolveTokenAsync(Store, password, ctx.RequestAborted);
        // Arca has no npm user accounts: "logging in" means presenting an Arca token as the password.
        if (principal is null || !principal.Has(TokenScope.Read, reg.Id))
            throw ArcaException.Unauthorized("login failed: use an Arca API token (with access to this registry) as the password");
        await WriteJsonAsync(ctx, new JsonObject { ["ok"] = true, ["id"] = $"org.couchdb.user:{user}", ["token"] = password }, 201);
    }

    private async Task SearchAsync(HttpContext ctx, string registry)
    {
        var reg = await access.RequireAsync(ctx, registry, TokenScope.Read, PackageTypes.Npm);
        var text = ctx.Request.Query["text"].ToString().Trim();
        var size = int.TryParse(ctx.Request.Query["size"], out var sz) ? Math.Clamp(sz, 1, 250) : 20;
        var from = int.TryParse(ctx.Request.Query["from"], out var f) ? Math.Max(f, 0) : 0;
        var page = await Store.ListPackagesAsync(reg.Id, text.Length == 0 ? null : text, new PageRequest(from / size + 1, size), ctx.RequestAborted);
        var objects = new JsonArray();
        foreach (var pkg in page.Items)
        {
            var props = ParseObject(pkg.Properties);
            var latest = (props["dist-tags"] as JsonObject)?["latest"]?.GetValue<string>();
            objects.Add(new JsonObject
            {
                ["package"] = new JsonObject
                {
                    ["name"] = pkg.Name,
                    ["version"] = latest,
                    ["description"] = props["description"]?.DeepClone(),
                    ["keywords"] = props["keywords"]?.DeepClone(),
                    ["date"] = Iso(pkg.UpdatedAt),
                    ["links"] = new JsonObject(),
                    ["publisher"] = new JsonObject { ["username"] = "arca" },
                    ["maintainers"] = new JsonArray(),
                },
                ["score"] = new JsonObject { ["final"] = 1.0, ["detail"] = new JsonObject { ["quality"] = 1.0, ["popularity"] = 1.0, ["maintenance"] = 1.0 } },
                ["searchScore"] = 1.0,
            });
        }
        await WriteJsonAsync(ctx, new JsonObject { ["objects"] = objects, ["total"] = page.Total, ["time"] = Iso(DateTimeOffset.UtcNow) });
    }

    private async Task DistTagsAsync(HttpContext ctx, string registry, string name, string? tag, string method)
    {
        var isRead = HttpMethods.IsGet(method) || HttpMethods.IsHead(method);
        var reg = await access.RequireAsync(ctx, registry, isRead ? TokenScope.Read : TokenScope.Write, PackageTypes.Npm);
        var pkg = await RequirePackageAsync(reg, name, ctx.RequestAborted);
        var versions = await ListVersionsAsync(pkg, ctx.RequestAborted);
        var props = ParseObject(pkg.Properties);
        var tags = EffectiveDistTags(props, versions);
        if (isRead && tag is null)
        {
            await WriteJsonAsync(ctx, tags);
            return;
        }
        if (tag is null) throw new ArcaException(405, "METHOD_NOT_ALLOWED", $"{method} needs a tag: /-/package/<name>/dist-tags/<tag>");
        NpmNames.ValidateTag(tag);
        if (HttpMethods.IsPut(method) || HttpMethods.IsPost(method))
        {
            var body = await ReadJsonBodyAsync(ctx, 4096);
            var version = body is JsonValue v && v.TryGetValue<string>(out var s) ? s : null;
            if (version is null) throw ArcaException.BadRequest("the body must be a JSON string: the version to tag", "INVALID_BODY");
            if (!versions.Any(x => x.Version == version))
                throw ArcaException.NotFound($"version {NpmNames.Printable(version)} of {name} not found", "VERSION_NOT_FOUND");
            tags[tag] = version;
        }
        else if (HttpMethods.IsDelete(method))
        {
            if (tag == "latest") throw ArcaException.BadRequest("the latest dist-tag cannot be removed", "INVALID_TAG");
            if (!tags.Remove(tag)) throw ArcaException.NotFound($"dist-tag '{tag}' not found on {name}", "TAG_NOT_FOUND");
        }
        else throw new ArcaException(405, "METHOD_NOT_ALLOWED", $"{method} is not supported on dist-tags");
        props["dist-tags"] = tags.DeepClone();
        await Store.SetPackagePropertiesAsync(pkg.Id, props.ToJsonString(), ctx.RequestAborted);
        await WriteJsonAsync(ctx, new JsonObject { ["ok"] = true, ["id"] = name, ["dist-tags"] = tags });
    }

    // ---------------- Reading ----------------

    private async Task GetPackumentAsync(HttpContext ctx, string registry, string name)
    {
        var reg = await access.RequireAsync(ctx, registry, TokenScope.Read, PackageTypes.Npm);
        var pkg = await RequirePackageAsync(reg, name, ctx.RequestAborted);
        var versions = await ListVersionsAsync(pkg, ctx.RequestAborted);
        if (versions.Count == 0) throw ArcaException.NotFound($"package {name} not found", "PACKAGE_NOT_FOUND");
        var abbreviated = ctx.Request.Headers.Accept.ToString().Contains(AbbreviatedMediaType, StringComparison.OrdinalIgnoreCase)
                          && ctx.Request.Query["write"] != "true";
        var doc = BuildPackument(ctx, reg, pkg, versions, abbreviated);
        await WriteJsonAsync(ctx, doc, 200, abbreviated ? AbbreviatedMediaType : "application/json");
    }

    private JsonObject BuildPackument(HttpContext ctx, Registry reg, Package pkg, List<PackageVersion> versions, bool abbreviated)
    {
        var props = ParseObject(pkg.Properties);
        var tags = EffectiveDistTags(props, versions);
        var versionDocs = new JsonObject();
        foreach (var v in versions)
        {
            var manifest = VersionManifest(ctx, reg, pkg.Name, v);
            if (abbreviated)
            {
                var small = new JsonObject();
                foreach (var field in AbbreviatedFields)
                    if (manifest[field] is { } value) small[field] = value.DeepClone();
                manifest = small;
            }
            versionDocs[v.Version] = manifest;
        }
        var modified = Iso(versions.Max(v => v.UpdatedAt) is var m && m > pkg.UpdatedAt ? m : pkg.UpdatedAt);
        if (abbreviated)
            return new JsonObject { ["name"] = pkg.Name, ["modified"] = modified, ["dist-tags"] = tags, ["versions"] = versionDocs };

        var time = new JsonObject { ["created"] = Iso(pkg.CreatedAt), ["modified"] = modified };
        foreach (var v in versions) time[v.Version] = Iso(v.CreatedAt);
        var doc = new JsonObject
        {
            ["_id"] = pkg.Name,
            ["_rev"] = Revision(pkg, versions),
            ["name"] = pkg.Name,
            ["dist-tags"] = tags,
            ["versions"] = versionDocs,
            ["time"] = time,
        };
        foreach (var field in new[] { "description", "readme", "keywords", "license", "homepage", "repository", "author" })
            if (props[field] is { } value) doc[field] = value.DeepClone();
        return doc;
    }

    private JsonObject VersionManifest(HttpContext ctx, Registry reg, string name, PackageVersion v)
    {
        var manifest = ParseObject(v.Properties);
        manifest["name"] = name;
        manifest["version"] = v.Version;
        manifest["_id"] = $"{name}@{v.Version}";
        var dist = manifest["dist"] as JsonObject ?? new JsonObject();
        dist["tarball"] = TarballUrl(ctx, reg, name, v.Version);
        manifest["dist"] = dist;
        return manifest;
    }

    private static string TarballUrl(HttpContext ctx, Registry reg, string name, string version) =>
        $"{ApiSupport.BaseUrl(ctx)}/pkg/{reg.Name}/npm/{name}/-/{NpmNames.TarballFileName(name, version)}";

    private async Task GetVersionAsync(HttpContext ctx, string registry, string name, string versionOrTag)
    {
        var reg = await access.RequireAsync(ctx, registry, TokenScope.Read, PackageTypes.Npm);
        var pkg = await RequirePackageAsync(reg, name, ctx.RequestAborted);
        var version = versionOrTag;
        if (!NpmNames.IsVersion(versionOrTag))
        {
            var tags = EffectiveDistTags(ParseObject(pkg.Properties), await ListVersionsAsync(pkg, ctx.RequestAborted));
            version = tags[versionOrTag]?.GetValue<string>() ?? throw ArcaException.NotFound($"{name}@{NpmNames.Printable(versionOrTag)} not found", "VERSION_NOT_FOUND");
        }
        var ver = await Store.GetVersionAsync(pkg.Id, version, ctx.RequestAborted)
                  ?? throw ArcaException.NotFound($"{name}@{NpmNames.Printable(version)} not found", "VERSION_NOT_FOUND");
        await WriteJsonAsync(ctx, VersionManifest(ctx, reg, name, ver));
    }

    private async Task GetTarballAsync(HttpContext ctx, string registry, string name, string file)
    {
        var reg = await access.RequireAsync(ctx, registry, TokenScope.Read, PackageTypes.Npm);
        var (pkg, ver) = await FindTarballVersionAsync(reg, name, file, ctx.RequestAborted);
        var stored = ver is null ? null : await Store.GetFileAsync(ver.Id, file, ctx.RequestAborted);
        if (pkg is null || stored is null) throw ArcaException.NotFound($"tarball {NpmNames.Printable(file)} of {name} not found", "FILE_NOT_FOUND");
        var stream = await artifacts.OpenFileAsync(stored, ctx.RequestAborted);
        await Results.File(stream, "application/octet-stream", lastModified: stored.CreatedAt,
            entityTag: new Microsoft.Net.Http.Headers.EntityTagHeaderValue($"\"{stored.Sha256}\""), enableRangeProcessing: true).ExecuteAsync(ctx);
    }

    /// <summary>Maps "util-1.0.0.tgz" back to its version of "@acme/util".</summary>
    private async Task<(Package?, PackageVersion?)> FindTarballVersionAsync(Registry reg, string name, string file, CancellationToken ct)
    {
        var prefix = NpmNames.Unscoped(name) + "-";
        if (!file.StartsWith(prefix, StringComparison.Ordinal) || !file.EndsWith(".tgz", StringComparison.Ordinal))
            throw ArcaException.NotFound($"tarball {NpmNames.Printable(file)} of {name} not found", "FILE_NOT_FOUND");
        var version = file[prefix.Length..^4];
        if (!NpmNames.IsVersion(version)) throw ArcaException.NotFound($"tarball {NpmNames.Printable(file)} of {name} not found", "FILE_NOT_FOUND");
        var pkg = await Store.GetPackageAsync(reg.Id, name, ct);
        var ver = pkg is null ? null : await Store.GetVersionAsync(pkg.Id, version, ct);
        return (pkg, ver);
    }

    // ---------------- Writing ----------------

    /// <summary>PUT of a packument: a publish when it carries attachments, else a metadata update (deprecate,
    /// dist-tags, and the first step of npm's unpublish of one version: versions left out of the document).</summary>
    private async Task PutPackageAsync(HttpContext ctx, string registry, string name)
    {
        var reg = await access.RequireAsync(ctx, registry, TokenScope.Write, PackageTypes.Npm);
        var maxTarball = options.MaxUploadBytes ?? long.MaxValue;
        if (options.MaxUploadBytes is { } max && ctx.Request.ContentLength is { } declared && declared > max / 3 * 4 + 4 + MaxMetadataBytes)
            throw ArcaException.TooLarge($"the publish document is larger than allowed (tarballs up to {max} bytes)");
        var (body, attachment) = await new NpmPublishReader(MaxMetadataBytes, maxTarball).ReadAsync(ctx.Request.Body, ctx.RequestAborted);
        await using (attachment)
        {
            if (body["name"] is JsonValue bodyName && bodyName.TryGetValue<string>(out var n) && n != name)
                throw ArcaException.BadRequest($"the package name in the body ('{NpmNames.Printable(n)}') does not match the URL ('{name}')", "NAME_MISMATCH");
            if (attachment is not null)
                await PublishAsync(ctx, reg, name, body, attachment);
            else if (body["_attachments"] is JsonObject { Count: > 0 })
                throw ArcaException.BadRequest("the attachment has no data", "INVALID_BODY");
            else
                await UpdateMetadataAsync(ctx, reg, name, body);
        }
    }

    /// <summary>Everything of a publish but the tarball: manifest, dist-tags, readme.</summary>
    private const long MaxMetadataBytes = 16 << 20;

    private async Task PublishAsync(HttpContext ctx, Registry reg, string name, JsonObject body, NpmAttachment attachment)
    {
        var ct = ctx.RequestAborted;
        if (body["versions"] is not JsonObject { Count: 1 } versions)
            throw ArcaException.BadRequest("a publish must contain exactly one version", "INVALID_BODY");
        var (version, manifestNode) = versions.First();
        NpmNames.ValidateVersion(version);
        if (manifestNode is not JsonObject manifest) throw ArcaException.BadRequest($"versions[{version}] must be an object", "INVALID_BODY");
        if (Str(manifest["name"]) != name || Str(manifest["version"]) != version)
            throw ArcaException.BadRequest($"the manifest of version {version} names {NpmNames.Printable(Str(manifest["name"]))}@{NpmNames.Printable(Str(manifest["version"]))}, not {name}@{version}", "NAME_MISMATCH");
        if (body["_attachments"] is not JsonObject { Count: 1 })
            throw ArcaException.BadRequest("a publish must contain exactly one attachment (the tarball)", "INVALID_BODY");
        if (attachment.Name != $"{name}-{version}.tgz" && attachment.Name != NpmNames.TarballFileName(name, version))
            throw ArcaException.BadRequest($"the attachment '{NpmNames.Printable(attachment.Name)}' does not match {name}@{version}", "NAME_MISMATCH");

        var pkg = await Store.GetPackageAsync(reg.Id, name, ct);
        var existing = pkg is null ? null : await Store.GetVersionAsync(pkg.Id, version, ct);
        if (existing is not null && !reg.AllowOverwrite)
            throw ArcaException.Conflict($"cannot publish over the previously published version {name}@{version}", "ALREADY_EXISTS");

        if (body["_attachments"]![attachment.Name]?["length"] is JsonValue lengthNode && lengthNode.TryGetValue<long>(out var length) && length != attachment.Length)
            throw ArcaException.BadRequest($"the attachment is {attachment.Length} bytes, but its length says {length}", "INVALID_TARBALL");

        // The client's integrity (sha512) and shasum (sha1) must describe exactly these bytes.
        var dist = manifest["dist"] as JsonObject ?? new JsonObject();
        var integrity = "sha512-" + Convert.ToBase64String(attachment.Sha512);
        if (Str(dist["integrity"]) is { Length: > 0 } claimed)
        {
            var sha512Claims = claimed.Split(' ', StringSplitOptions.RemoveEmptyEntries).Where(c => c.StartsWith("sha512-", StringComparison.Ordinal)).ToList();
            if (sha512Claims.Count > 0 && !sha512Claims.Contains(integrity))
                throw ArcaException.BadRequest($"the tarball does not match dist.integrity (got {integrity})", "CHECKSUM_MISMATCH");
        }
        var sha1 = attachment.Sha1Hex;
        if (Str(dist["shasum"]) is { Length: > 0 } shasum && !shasum.Equals(sha1, StringComparison.OrdinalIgnoreCase))
            throw ArcaException.BadRequest($"the tarball does not match dist.shasum (got {sha1})", "CHECKSUM_MISMATCH");

        JsonObject packed;
        await using (var tgz = attachment.OpenRead())
            packed = await NpmTarball.ReadPackageJsonAsync(tgz, ct);
        if (Str(packed["name"]) != name || Str(packed["version"]) != version)
            throw ArcaException.BadRequest($"package.json in the tarball says {NpmNames.Printable(Str(packed["name"]))}@{NpmNames.Printable(Str(packed["version"]))}, not {name}@{version}", "NAME_MISMATCH");

        BlobWriteResult blob;
        await using (var tgz = attachment.OpenRead())
            blob = await artifacts.StoreBlobAsync(tgz, new BlobWriteOptions
            {
                ComputeLegacyChecksums = true, ExpectedSha1 = sha1, ExpectedSize = attachment.Length, MaxSize = options.MaxUploadBytes,
            }, ct);

        dist.Remove("tarball");
        dist["integrity"] = integrity;
        dist["shasum"] = sha1;
        manifest["dist"] = dist.DeepClone();
        manifest.Remove("_attachments");
        var readme = Str(manifest["readme"]) ?? Str(body["readme"]);
        manifest.Remove("readme");

        var props = ParseObject(pkg?.Properties);
        var tags = props["dist-tags"] as JsonObject ?? new JsonObject();
        if (body["dist-tags"] is JsonObject requested)
            foreach (var (tag, target) in requested)
                if (Str(target) == version) tags[NpmNames.ValidateTag(tag)] = version;
        if (tags["latest"] is null) tags["latest"] = version;
        props["dist-tags"] = tags.DeepClone();
        if (Str(tags["latest"]) == version)
        {
            foreach (var field in new[] { "description", "keywords", "license", "homepage", "repository", "author" })
                if (manifest[field] is { } value) props[field] = value.DeepClone(); else props.Remove(field);
            if (readme is not null) props["readme"] = readme.Length > MaxReadmeChars ? readme[..MaxReadmeChars] : readme;
        }

        var file = NpmNames.TarballFileName(name, version);
        var result = await Store.PublishAsync(new PublishRequest
        {
            RegistryId = reg.Id, PackageName = name, Version = version, Overwrite = reg.AllowOverwrite, ReplaceVersion = true,
            Files = [new NewFile(file, blob.Digest.ToString(), blob.Size, "application/octet-stream", blob.Sha1, blob.Md5)],
            VersionProperties = manifest.ToJsonString(), PackageProperties = props.ToJsonString(),
        }, ct);
        if (result.Outcome == PublishOutcome.Conflict)
            throw ArcaException.Conflict($"cannot publish over the previously published version {name}@{version}", "ALREADY_EXISTS");
        await WriteJsonAsync(ctx, new JsonObject { ["ok"] = true, ["id"] = name, ["rev"] = Revision(result.Package, [result.Version]) }, 201);
    }

    private async Task UpdateMetadataAsync(HttpContext ctx, Registry reg, string name, JsonObject body)
    {
        var ct = ctx.RequestAborted;
        var pkg = await RequirePackageAsync(reg, name, ct);
        var versions = await ListVersionsAsync(pkg, ct);
        var removed = new List<PackageVersion>();
        if (body["versions"] is JsonObject bodyVersions)
        {
            removed = versions.Where(v => !bodyVersions.ContainsKey(v.Version)).ToList();
            if (removed.Count > 0) AccessControl.Require(ctx.Principal(), reg, TokenScope.Delete);
            if (removed.Count == versions.Count)
                throw ArcaException.BadRequest("a packument update cannot remove every version: unpublish the package instead", "INVALID_BODY");
            foreach (var v in versions.Except(removed))
            {
                // Deprecation is the one per-version field npm changes this way ("" un-deprecates).
                if (bodyVersions[v.Version] is not JsonObject updated || !updated.ContainsKey("deprecated")) continue;
                var manifest = ParseObject(v.Properties);
                var wanted = Str(updated["deprecated"]);
                if (string.IsNullOrEmpty(wanted)) { if (!manifest.Remove("deprecated")) continue; }
                else if (Str(manifest["deprecated"]) == wanted) continue;
                else manifest["deprecated"] = wanted.Length > 1024 ? wanted[..1024] : wanted;
                await Store.SetVersionPropertiesAsync(v.Id, manifest.ToJsonString(), ct);
            }
        }

        var remaining = versions.Except(removed).ToList();
        var props = ParseObject(pkg.Properties);
        if (body["dist-tags"] is JsonObject requestedTags)
        {
            var tags = new JsonObject();
            foreach (var (tag, target) in requestedTags)
                if (Str(target) is { } t && remaining.Any(v => v.Version == t)) tags[NpmNames.ValidateTag(tag)] = t;
            props["dist-tags"] = tags;
        }
        props["dist-tags"] = EffectiveDistTags(props, remaining);
        await Store.SetPackagePropertiesAsync(pkg.Id, props.ToJsonString(), ct);
        foreach (var v in removed) await artifacts.DeleteVersionAsync(pkg, v, ct);
        await WriteJsonAsync(ctx, new JsonObject { ["ok"] = true, ["id"] = name });
    }

    private async Task DeletePackageAsync(HttpContext ctx, string registry, string name)
    {
        var reg = await access.RequireAsync(ctx, registry, TokenScope.Delete, PackageTypes.Npm);
        var pkg = await RequirePackageAsync(reg, name, ctx.RequestAborted);
        await Store.DeletePackageAsync(pkg.Id, ctx.RequestAborted);
        await WriteJsonAsync(ctx, new JsonObject { ["ok"] = true, ["id"] = name });
    }

    /// <summary>Last step of npm's unpublish of one version. The version is normally gone already (removed by the
    /// packument PUT); deleting the tarball of a live version removes that version.</summary>
    private async Task DeleteTarballAsync(HttpContext ctx, string registry, string name, string file)
    {
        var reg = await access.RequireAsync(ctx, registry, TokenScope.Delete, PackageTypes.Npm);
        var (pkg, ver) = await FindTarballVersionAsync(reg, name, file, ctx.RequestAborted);
        if (pkg is null) throw ArcaException.NotFound($"package {name} not found", "PACKAGE_NOT_FOUND");
        if (ver is not null)
        {
            var props = ParseObject(pkg.Properties);
            var remaining = (await ListVersionsAsync(pkg, ctx.RequestAborted)).Where(v => v.Id != ver.Id).ToList();
            props["dist-tags"] = EffectiveDistTags(props, remaining);
            await Store.SetPackagePropertiesAsync(pkg.Id, props.ToJsonString(), ctx.RequestAborted);
            await artifacts.DeleteVersionAsync(pkg, ver, ctx.RequestAborted);
        }
        await WriteJsonAsync(ctx, new JsonObject { ["ok"] = true });
    }

    // ---------------- Helpers ----------------

    private async Task<Package> RequirePackageAsync(Registry reg, string name, CancellationToken ct) =>
        await Store.GetPackageAsync(reg.Id, name, ct) ?? throw ArcaException.NotFound($"package {name} not found", "PACKAGE_NOT_FOUND");

    private async Task<List<PackageVersion>> ListVersionsAsync(Package pkg, CancellationToken ct)
    {
        var all = new List<PackageVersion>();
        for (var page = 1; ; page++)
        {
            var batch = await Store.ListVersionsAsync(pkg.Id, new PageRequest(page, PageRequest.MaxPageSize), ct);
            all.AddRange(batch.Items);
            if (batch.Items.Count < PageRequest.MaxPageSize) break;
        }
        all.Sort((a, b) => NpmNames.Compare(a.Version, b.Version));
        return all;
    }

    /// <summary>Stored dist-tags restricted to versions that still exist; "latest" falls back to the highest release.</summary>
    internal static JsonObject EffectiveDistTags(JsonObject props, IReadOnlyList<PackageVersion> versions)
    {
        var tags = new JsonObject();
        if (props["dist-tags"] is JsonObject stored)
            foreach (var (tag, target) in stored)
                if (Str(target) is { } t && versions.Any(v => v.Version == t)) tags[tag] = t;
        if (tags["latest"] is null && versions.Count > 0)
        {
            var releases = versions.Where(v => !v.Version.Contains('-')).ToList();
            tags["latest"] = (releases.Count > 0 ? releases : versions).Select(v => v.Version).Max(Comparer<string>.Create(NpmNames.Compare));
        }
        return tags;
    }

    private static string Revision(Package pkg, IReadOnlyList<PackageVersion> versions)
    {
        var stamp = $"{pkg.Id}:{pkg.UpdatedAt.UtcTicks}:{string.Join(',', versions.Select(v => v.Version))}";
        return $"{versions.Count}-{Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(stamp)))[..16]}";
    }

    internal static JsonObject ParseObject(string? json)
    {
        if (string.IsNullOrEmpty(json)) return new JsonObject();
        try { return JsonNode.Parse(json) as JsonObject ?? new JsonObject(); }
        catch (JsonException) { return new JsonObject(); }
    }

    private static string? Str(JsonNode? node) => node is JsonValue v && v.TryGetValue<string>(out var s) ? s : null;

    private static string Iso(DateTimeOffset t) => t.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", System.Globalization.CultureInfo.InvariantCulture);

    /// <summary>Reads a JSON body of at most <paramref name="limit"/> bytes (npm publish carries the tarball inside it).</summary>
    private static async Task<JsonNode?> ReadJsonBodyAsync(HttpContext ctx, long limit)
    {
        if (ctx.Request.ContentLength is { } declared && declared > limit)
            throw ArcaException.TooLarge($"the request body is larger than {limit} bytes");
        using var buffer = new MemoryStream();
        var chunk = new byte[81920];
        int read;
        while ((read = await ctx.Request.Body.ReadAsync(chunk, ctx.RequestAborted)) > 0)
        {
            if (buffer.Length + read > limit) throw ArcaException.TooLarge($"the request body is larger than {limit} bytes");
            buffer.Write(chunk, 0, read);
        }
        if (buffer.Length == 0) throw ArcaException.BadRequest("the request body is empty", "INVALID_BODY");
        try { return NpmNames.ParseClientJson(buffer.GetBuffer().AsSpan(0, (int)buffer.Length)); }
        catch (JsonException e) { throw ArcaException.BadRequest($"the body is not valid JSON: {e.Message}", "INVALID_BODY"); }
    }

    private static async Task WriteJsonAsync(HttpContext ctx, JsonNode doc, int status = 200, string contentType = "application/json")
    {
        ctx.Response.StatusCode = status;
        ctx.Response.ContentType = contentType + "; charset=utf-8";
        ctx.Response.Headers.CacheControl = "no-cache";
        if (HttpMethods.IsHead(ctx.Request.Method)) return;
        await using var writer = new Utf8JsonWriter(ctx.Response.Body);
        doc.WriteTo(writer, JsonOut);
    }
}
