using System.Net;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using Arca.Client.Npm;
using Arca.Migration.Config;
using Arca.Migration.Engine;

namespace Arca.Migration.Destinations;

/// <summary>One npm package version: its manifest as the source serves it (deprecation included), the tarball's
/// source checksums, and the source dist-tags that point at this version.</summary>
public sealed record NpmVersionItem : MigrationItem
{
    public required JsonObject Manifest { get; init; }
    /// <summary>The source's dist.integrity (may list several algorithms) and dist.shasum (sha1 hex).</summary>
    public string? Integrity { get; init; }
    public string? Shasum { get; init; }
    public required IReadOnlyList<string> Tags { get; init; }
    /// <summary>Opens the tarball; the content length is passed back when the source sends it.</summary>
    public required Func<CancellationToken, Task<(Stream Stream, long? Length)>> OpenTarball { get; init; }
}

/// <summary>
/// npm versions through Arca's npm endpoint, the way `npm publish` sends them (streamed). Skips a version the
/// destination has with the same integrity; verifies the destination's integrity after publishing; then points
/// the source's dist-tags for this version at it (each tag is set by the item of the version it names, so tags end
/// equal to the source whatever order the items run in) and carries deprecation over.
/// </summary>
internal sealed class NpmWriter(HttpClient http) : IItemWriter
{
    public async Task<(ItemStatus, long)> WriteAsync(MigrationItem item, MappingConfig mapping, bool overwrite, CancellationToken ct)
    {
        var v = (NpmVersionItem)item;
        var reg = Uri.EscapeDataString(mapping.DestinationRegistry);
        var packageUrl = $"pkg/{reg}/npm/{NpmPublish.EscapeName(v.Package)}";
        // Publishing rewrites the package document (dist-tags); one writer per package at a time.
        using var _ = await KeyedLock.AcquireAsync($"npm\n{http.BaseAddress}\n{mapping.DestinationRegistry}\n{v.Package}", ct);

        var packument = await GetPackumentAsync(packageUrl, ct);
        var existing = packument?["versions"]?[v.Version] as JsonObject;
        long moved = 0;
        var changed = false;
        if (existing is null || !SameTarball(existing, v))
        {
            if (existing is not null && !overwrite)
                throw new HttpStatusException(HttpStatusCode.Conflict, $"{item.Display} exists at the destination with a different tarball (integrity {Dist(existing, "integrity")})");
            var sha512 = await PublishAsync(v, packageUrl, ct);
            moved = sha512.Bytes;
            changed = true;
            packument = await GetPackumentAsync(packageUrl, ct);
            var stored = packument?["versions"]?[v.Version] as JsonObject;
            var expected = "sha512-" + Convert.ToBase64String(sha512.Hash);
            if (stored is null || Dist(stored, "integrity") != expected)
                throw new InvalidOperationException($"{item.Display}: destination integrity {(stored is null ? "(missing)" : Dist(stored, "integrity"))} differs from the bytes sent ({expected})");
        }
        else if (Str(existing["deprecated"]) != Str(v.Manifest["deprecated"]))
        {
            await SetDeprecationAsync(packageUrl, v, ct);
            changed = true;
        }

        var destTags = packument?["dist-tags"] as JsonObject;
        foreach (var tag in v.Tags)
        {
            if (Str(destTags?[tag]) == v.Version) continue;
            using var request = new HttpRequestMessage(HttpMethod.Put, $"pkg/{reg}/npm/-/package/{NpmPublish.EscapeName(v.Package)}/dist-tags/{Uri.EscapeDataString(tag)}")
            {
                Content = new StringContent(System.Text.Json.JsonSerializer.Serialize(v.Version), Encoding.UTF8, "application/json"),
            };
            using var response = await http.SendAsync(request, ct);
            await MigrationHttp.EnsureSuccessAsync(response, $"set dist-tag {tag} of {v.Package}", ct);
            changed = true;
        }
        return (changed ? ItemStatus.Succeeded : ItemStatus.Skipped, moved);
    }

    /// <summary>Same tarball when the sha512 integrity matches (or, for sources that only give a sha1, the shasum).</summary>
    private static bool SameTarball(JsonObject existing, NpmVersionItem v)
    {
        var destIntegrity = Dist(existing, "integrity");
        var sourceSha512 = v.Integrity?.Split(' ', StringSplitOptions.RemoveEmptyEntries).FirstOrDefault(i => i.StartsWith("sha512-", StringComparison.Ordinal));
        if (sourceSha512 is not null && destIntegrity is not null) return sourceSha512 == destIntegrity;
        return v.Shasum is not null && string.Equals(Dist(existing, "shasum"), v.Shasum, StringComparison.OrdinalIgnoreCase);
    }

    private async Task<(byte[] Hash, long Bytes)> PublishAsync(NpmVersionItem v, string packageUrl, CancellationToken ct)
    {
        var manifest = (JsonObject)v.Manifest.DeepClone();
        var dist = new JsonObject();
        if (v.Integrity is not null) dist["integrity"] = v.Integrity;
        if (v.Shasum is not null) dist["shasum"] = v.Shasum;
        manifest["dist"] = dist; // the source's tarball URL means nothing at the destination
        manifest.Remove("_attachments");
        var document = NpmPublish.Document(v.Package, v.Version, manifest, v.Tags);

        using var sha512 = IncrementalHash.CreateHash(HashAlgorithmName.SHA512);
        using var sha1 = IncrementalHash.CreateHash(HashAlgorithmName.SHA1);
        byte[]? hash = null;
        long? length = null;
        Stream? opened = null;
        // Open first so the attachment can declare its length when the source sends one.
        (opened, length) = await v.OpenTarball(ct);
        try
        {
            var content = new NpmPublishContent(document, NpmPublish.AttachmentName(v.Package, v.Version),
                _ => Task.FromResult(Interlocked.Exchange(ref opened, null) ?? throw new InvalidOperationException("the tarball stream was already used")),
                length,
                chunk => { sha512.AppendData(chunk.Span); sha1.AppendData(chunk.Span); },
                () =>
                {
                    // Verify the source's own claims before the document is closed: a mismatch aborts the request.
                    hash = sha512.GetHashAndReset();
                    var actual = "sha512-" + Convert.ToBase64String(hash);
                    var shasum = Convert.ToHexStringLower(sha1.GetHashAndReset());
                    var claims = v.Integrity?.Split(' ', StringSplitOptions.RemoveEmptyEntries).Where(i => i.StartsWith("sha512-", StringComparison.Ordinal)).ToList() ?? [];
                    if (claims.Count > 0 && !claims.Contains(actual))
                        throw new InvalidDataException($"{v.Display}: the source tarball does not match its integrity ({actual})");
                    if (v.Shasum is not null && !v.Shasum.Equals(shasum, StringComparison.OrdinalIgnoreCase))
                        throw new InvalidDataException($"{v.Display}: the source tarball does not match its shasum ({shasum})");
                });
            content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
            using var request = new HttpRequestMessage(HttpMethod.Put, packageUrl) { Content = content };
            HttpResponseMessage response;
            try { response = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, ct); }
            catch (HttpRequestException e) when (e.InnerException is InvalidDataException bad) { throw bad; }
            using (response) await MigrationHttp.EnsureSuccessAsync(response, $"publish {v.Display}", ct);
            return (hash ?? throw new InvalidOperationException("the tarball was not sent"), content.BytesSent);
        }
        finally
        {
            if (opened is not null) await opened.DisposeAsync();
        }
    }

    /// <summary>`npm deprecate` does it the same way: the full document back with the version's message changed.</summary>
    private async Task SetDeprecationAsync(string packageUrl, NpmVersionItem v, CancellationToken ct)
    {
        var doc = await GetPackumentAsync(packageUrl + "?write=true", ct) ?? throw new InvalidOperationException($"{v.Package} vanished at the destination");
        if (doc["versions"]?[v.Version] is not JsonObject manifest) return;
        manifest["deprecated"] = Str(v.Manifest["deprecated"]) ?? "";
        using var response = await http.PutAsync(packageUrl, new StringContent(doc.ToJsonString(), Encoding.UTF8, "application/json"), ct);
        await MigrationHttp.EnsureSuccessAsync(response, $"deprecate {v.Display}", ct);
    }

    private async Task<JsonObject?> GetPackumentAsync(string url, CancellationToken ct)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, url);
        request.Headers.Accept.ParseAdd("application/json");
        using var response = await http.SendAsync(request, ct);
        if (response.StatusCode == HttpStatusCode.NotFound) return null;
        await MigrationHttp.EnsureSuccessAsync(response, $"GET {url}", ct);
        return JsonNode.Parse(await response.Content.ReadAsStringAsync(ct)) as JsonObject;
    }

    private static string? Dist(JsonObject manifest, string field) => Str(manifest["dist"]?[field]);
    private static string? Str(JsonNode? node) => node is JsonValue value && value.TryGetValue<string>(out var s) ? s : null;
}
