using System.Text.Json;
using System.Text.Json.Nodes;
using Arca.Core.Model;
using Arca.Core.Storage;
using Arca.Server.Services;

namespace Arca.Server.Formats.Oci;

public static class OciMediaTypes
{
    public const string OciManifest = "application/vnd.oci.image.manifest.v1+json";
    public const string OciIndex = "application/vnd.oci.image.index.v1+json";
    public const string DockerManifest = "application/vnd.docker.distribution.manifest.v2+json";
    public const string DockerList = "application/vnd.docker.distribution.manifest.list.v2+json";
    public const string OciEmpty = "application/vnd.oci.empty.v1+json";
    public const string HelmConfig = "application/vnd.cncf.helm.config.v1+json";
    public const string HelmChart = "application/vnd.cncf.helm.chart.content.v1.tar+gzip";
    public const string HelmProvenance = "application/vnd.cncf.helm.chart.provenance.v1.prov";

    public static bool IsIndex(string mediaType) => mediaType is OciIndex or DockerList;
    public static bool IsImageManifest(string mediaType) => mediaType is OciManifest or DockerManifest;
}

/// <summary>The result of storing a manifest.</summary>
public sealed record OciPutResult(Digest Digest, string MediaType, string? Subject);

/// <summary>
/// Validates and stores OCI manifests (image manifests, indexes, Docker schema 2 and lists, any artifactType):
/// checks that every referenced blob and child manifest exists, keeps the bytes unchanged in the blob store, and
/// records tags, references and the package version rows in one transaction. Other modules (classic Helm) call
/// <see cref="PutManifestAsync"/> to publish charts as OCI artifacts.
/// </summary>
public sealed class OciManifestService(IOciMetadataStore oci, ArtifactService artifacts)
{
    public const int MaxManifestBytes = 4 * 1024 * 1024;
    private const int MaxConfigBytes = 1024 * 1024;

    public IOciMetadataStore Store => oci;

    /// <summary>Stores a manifest under <paramref name="reference"/> (a tag, or its digest). Server-side callers may
    /// leave <paramref name="requireLinkedBlobs"/> false: then referenced blobs only have to exist in the blob store
    /// (they are linked to the repository as part of the write).</summary>
    public async Task<OciPutResult> PutManifestAsync(Registry registry, string repository, string reference, byte[] bytes,
        string? contentType, CancellationToken ct, bool requireLinkedBlobs = false)
    {
        if (!OciPath.IsValidRepository(repository)) throw OciErrors.NameInvalid($"invalid repository name '{repository}'");
        if (bytes.Length > MaxManifestBytes) throw OciErrors.ManifestInvalid($"manifest exceeds {MaxManifestBytes} bytes", 413);

        string? tag = null;
        Digest digest;
        if (Digest.TryParse(reference, out var byDigest))
        {
            digest = ComputeDigest(bytes, byDigest.Algorithm);
            if (digest != byDigest) throw OciErrors.DigestInvalid($"manifest digest is {digest}, not {byDigest}");
        }
        else if (reference.Contains(':'))
            throw OciErrors.DigestInvalid($"unsupported or malformed digest '{reference}'");
        else
        {
            if (!OciPath.IsValidTag(reference)) throw OciErrors.ManifestInvalid($"invalid tag '{reference}'");
            tag = reference;
            digest = ComputeDigest(bytes, "sha256");
        }

        var parsed = Parse(bytes, contentType);

        foreach (var (blob, declaredSize) in parsed.Blobs)
        {
            var size = await artifacts.Blobs.GetSizeAsync(Digest.Parse(blob), ct);
            if (size is null || (requireLinkedBlobs && !await oci.IsBlobLinkedAsync(registry.Id, repository, blob, ct)))
                throw OciErrors.ManifestBlobUnknown(blob);
            if (size != declaredSize) throw OciErrors.SizeInvalid($"descriptor of {blob} says {declaredSize} bytes, the blob has {size}");
        }
        foreach (var (child, declaredSize) in parsed.Children)
        {
            var childManifest = await oci.GetManifestAsync(registry.Id, repository, child, ct) ?? throw OciErrors.ManifestBlobUnknown(child);
            if (childManifest.Size != declaredSize) throw OciErrors.SizeInvalid($"descriptor of {child} says {declaredSize} bytes, the manifest has {childManifest.Size}");
        }

        var existing = await oci.GetManifestAsync(registry.Id, repository, digest.ToString(), ct);
        var chart = parsed.ConfigMediaType == OciMediaTypes.HelmConfig && parsed.ConfigDigest is { } cfg
            ? await ReadChartConfigAsync(cfg, ct) : null;
        var (properties, files) = BuildVersion(digest, bytes.Length, parsed, chart, existing?.CreatedAt);

        var stored = await artifacts.StoreBlobAsync(new MemoryStream(bytes, writable: false),
            new BlobWriteOptions { Expected = digest, ExpectedSize = bytes.Length }, ct);

        await oci.PutManifestAsync(new OciManifestWrite
        {
            RegistryId = registry.Id,
            Repository = repository,
            Tag = tag,
            References = [.. parsed.Blobs.Select(b => new OciReference(b.Digest, false)), .. parsed.Children.Select(c => new OciReference(c.Digest, true))],
            Manifest = new OciManifest
            {
                Digest = stored.Digest.ToString(), MediaType = parsed.MediaType, ArtifactType = parsed.ArtifactType,
                SubjectDigest = parsed.Subject, Size = bytes.Length, Annotations = parsed.Annotations,
                VersionProperties = properties, VersionFiles = files,
            },
        }, ct);
        return new OciPutResult(digest, parsed.MediaType, parsed.Subject);
    }

    public static Digest ComputeDigest(byte[] bytes, string algorithm)
    {
        using var h = new Digest(algorithm, "").CreateHash();
        h.AppendData(bytes);
        return new Digest(algorithm, Convert.ToHexStringLower(h.GetHashAndReset()));
    }

    /// <summary>Resolves a tag or digest reference to a stored manifest, or null.</summary>
    public async Task<OciManifest?> ResolveAsync(Registry registry, string repository, string reference, CancellationToken ct)
    {
        if (Digest.TryParse(reference, out _)) return await oci.GetManifestAsync(registry.Id, repository, reference, ct);
        var digest = await oci.ResolveTagAsync(registry.Id, repository, reference, ct);
        return digest is null ? null : await oci.GetManifestAsync(registry.Id, repository, digest, ct);
    }

    private sealed record Descriptor(string MediaType, string Digest, long Size, JsonElement? Platform, bool Foreign);

    internal sealed record ParsedManifest(string MediaType, string? ArtifactType, string? Subject, string? Annotations,
        List<(string Digest, long Size)> Blobs, List<(string Digest, long Size)> Children, string? ConfigMediaType, string? ConfigDigest, long ConfigSize,
        List<(string MediaType, string Digest, long Size)> Layers, List<string> Platforms);

    internal static ParsedManifest Parse(byte[] bytes, string? contentType)
    {
        JsonDocument doc;
        try { doc = JsonDocument.Parse(bytes); }
        catch (JsonException e) { throw OciErrors.ManifestInvalid($"manifest is not valid JSON: {e.Message}"); }
        using var document = doc;
        var root = doc.RootElement;
        if (root.ValueKind != JsonValueKind.Object) throw OciErrors.ManifestInvalid("manifest must be a JSON object");
        if (!root.TryGetProperty("schemaVersion", out var sv) || sv.ValueKind != JsonValueKind.Number || sv.GetInt32() != 2)
            throw OciErrors.ManifestInvalid("only schemaVersion 2 manifests are supported");

        var declared = root.TryGetProperty("mediaType", out var mt) && mt.ValueKind == JsonValueKind.String ? mt.GetString() : null;
        var header = contentType?.Split(';')[0].Trim();
        if (header is "" or "application/octet-stream" or "application/json") header = null;
        if (declared is not null && header is not null && declared != header)
            throw OciErrors.ManifestInvalid($"Content-Type {header} does not match the manifest mediaType {declared}");
        var mediaType = declared ?? header ?? (root.TryGetProperty("manifests", out _) ? OciMediaTypes.OciIndex : OciMediaTypes.OciManifest);
        if (!OciMediaTypes.IsIndex(mediaType) && !OciMediaTypes.IsImageManifest(mediaType))
            throw OciErrors.Unsupported($"manifest media type {mediaType} is not supported", 415);

        var artifactType = root.TryGetProperty("artifactType", out var at) && at.ValueKind == JsonValueKind.String ? at.GetString() : null;
        string? subject = null;
        if (root.TryGetProperty("subject", out var subj) && subj.ValueKind != JsonValueKind.Null)
            subject = ReadDescriptor(subj, "subject").Digest;
        var annotations = root.TryGetProperty("annotations", out var ann) && ann.ValueKind == JsonValueKind.Object ? ann.GetRawText() : null;

        var blobs = new List<(string Digest, long Size)>();
        var children = new List<(string Digest, long Size)>();
        var layers = new List<(string, string, long)>();
        var platforms = new List<string>();
        string? configMediaType = null, configDigest = null;
        long configSize = 0;
        if (OciMediaTypes.IsIndex(mediaType))
        {
            if (!root.TryGetProperty("manifests", out var list) || list.ValueKind != JsonValueKind.Array)
                throw OciErrors.ManifestInvalid("an index needs a manifests array");
            foreach (var item in list.EnumerateArray())
            {
                var d = ReadDescriptor(item, "manifests[]");
                if (!children.Any(x => x.Digest == d.Digest)) children.Add((d.Digest, d.Size));
                if (d.Platform is { ValueKind: JsonValueKind.Object } p)
                {
                    var os = p.TryGetProperty("os", out var o) ? o.GetString() : null;
                    var arch = p.TryGetProperty("architecture", out var a) ? a.GetString() : null;
                    var variant = p.TryGetProperty("variant", out var v) ? v.GetString() : null;
                    platforms.Add(variant is null ? $"{os}/{arch}" : $"{os}/{arch}/{variant}");
                }
            }
        }
        else
        {
            if (!root.TryGetProperty("config", out var config) || config.ValueKind != JsonValueKind.Object)
                throw OciErrors.ManifestInvalid("an image manifest needs a config descriptor");
            var c = ReadDescriptor(config, "config");
            configMediaType = c.MediaType;
            configDigest = c.Digest;
            configSize = c.Size;
            blobs.Add((c.Digest, c.Size));
            if (root.TryGetProperty("layers", out var ls))
            {
                if (ls.ValueKind != JsonValueKind.Array) throw OciErrors.ManifestInvalid("layers must be an array");
                foreach (var item in ls.EnumerateArray())
                {
                    var d = ReadDescriptor(item, "layers[]");
                    if (d.Foreign) continue; // non-distributable layers live elsewhere (urls)
                    layers.Add((d.MediaType, d.Digest, d.Size));
                    if (!blobs.Any(x => x.Digest == d.Digest)) blobs.Add((d.Digest, d.Size));
                }
            }
            // Per the referrers rules, an image manifest without artifactType is typed by its config.
            artifactType ??= configMediaType;
        }
        return new ParsedManifest(mediaType, artifactType, subject, annotations, blobs, children, configMediaType, configDigest, configSize, layers, platforms);
    }

    private static Descriptor ReadDescriptor(JsonElement e, string where)
    {
        if (e.ValueKind != JsonValueKind.Object) throw OciErrors.ManifestInvalid($"{where} must be a descriptor object");
        var digestText = e.TryGetProperty("digest", out var d) && d.ValueKind == JsonValueKind.String ? d.GetString() : null;
        if (!Digest.TryParse(digestText, out var digest)) throw OciErrors.ManifestInvalid($"{where} has an invalid digest '{digestText}'");
        if (!e.TryGetProperty("size", out var s) || s.ValueKind != JsonValueKind.Number || !s.TryGetInt64(out var size) || size < 0)
            throw OciErrors.ManifestInvalid($"{where} needs a non-negative size");
        var mediaType = e.TryGetProperty("mediaType", out var m) && m.ValueKind == JsonValueKind.String ? m.GetString()! : "";
        var foreign = e.TryGetProperty("urls", out var u) && u.ValueKind == JsonValueKind.Array && u.GetArrayLength() > 0;
        JsonElement? platform = e.TryGetProperty("platform", out var p) ? p.Clone() : null;
        return new Descriptor(mediaType, digest.ToString(), size, platform, foreign);
    }

    private async Task<JsonObject?> ReadChartConfigAsync(string configDigest, CancellationToken ct)
    {
        await using var stream = await artifacts.Blobs.OpenReadAsync(Digest.Parse(configDigest), ct);
        if (stream is null) return null;
        var buffer = new MemoryStream();
        var chunk = new byte[16 * 1024];
        int read;
        while ((read = await stream.ReadAsync(chunk, ct)) > 0)
        {
            buffer.Write(chunk, 0, read);
            if (buffer.Length > MaxConfigBytes) throw OciErrors.ManifestInvalid("the Helm chart config is too large");
        }
        try { return JsonNode.Parse(buffer.ToArray()) as JsonObject; }
        catch (JsonException e) { throw OciErrors.ManifestInvalid($"the Helm chart config is not valid JSON: {e.Message}"); }
    }

    /// <summary>Version properties and files: manifest.json plus the config and layers as blobs/&lt;alg&gt;/&lt;hex&gt;,
    /// or for a Helm chart the chart archive as &lt;name&gt;-&lt;version&gt;.tgz (the classic Helm module's contract).</summary>
    private static (string Properties, string Files) BuildVersion(Digest digest, long size, ParsedManifest m, JsonObject? chart, DateTimeOffset? createdBefore)
    {
        var props = new JsonObject
        {
            ["digest"] = digest.ToString(),
            ["mediaType"] = m.MediaType,
            ["size"] = size,
        };
        if (m.ArtifactType is not null) props["artifactType"] = m.ArtifactType;
        if (m.Platforms.Count > 0) props["platforms"] = new JsonArray([.. m.Platforms.Select(p => (JsonNode)p)]);
        if (m.Subject is not null) props["subject"] = m.Subject;
        string? created = null;
        if (m.Annotations is not null && JsonNode.Parse(m.Annotations) is JsonObject ann && ann["org.opencontainers.image.created"] is JsonValue cv)
            created = cv.ToString();
        props["created"] = created ?? (createdBefore ?? DateTimeOffset.UtcNow).UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'");

        var files = new List<NewFile> { new("manifest.json", digest.ToString(), size, m.MediaType, null, null) };
        var chartArchive = m.Layers.FirstOrDefault(l => l.MediaType == OciMediaTypes.HelmChart);
        if (chart is not null)
        {
            props["chart"] = chart.DeepClone();
            var name = chart["name"]?.ToString();
            var version = chart["version"]?.ToString();
            if (string.IsNullOrEmpty(name) || string.IsNullOrEmpty(version) || !SafeFileStem(name) || !SafeFileStem(version))
                throw OciErrors.ManifestInvalid("the Helm chart config needs a valid name and version");
            if (chartArchive.Digest is not null)
                files.Add(new NewFile($"{name}-{version}.tgz", chartArchive.Digest, chartArchive.Size, "application/gzip", null, null));
            var prov = m.Layers.FirstOrDefault(l => l.MediaType == OciMediaTypes.HelmProvenance);
            if (prov.Digest is not null)
                files.Add(new NewFile($"{name}-{version}.tgz.prov", prov.Digest, prov.Size, "application/octet-stream", null, null));
        }
        else
        {
            var seen = new HashSet<string> { "manifest.json" };
            void AddBlob(string d, long s, string mt)
            {
                var path = "blobs/" + d.Replace(':', '/');
                if (seen.Add(path)) files.Add(new NewFile(path, d, s, mt, null, null));
            }
            if (m.ConfigDigest is not null) AddBlob(m.ConfigDigest, m.ConfigSize, m.ConfigMediaType ?? "application/octet-stream");
            foreach (var l in m.Layers) AddBlob(l.Digest, l.Size, l.MediaType);
        }
        return (props.ToJsonString(), JsonSerializer.Serialize(files));
    }

    private static bool SafeFileStem(string s) =>
        s.Length <= 200 && s.All(c => char.IsAsciiLetterOrDigit(c) || c is '.' or '-' or '_' or '+') && !s.StartsWith('.') && !s.Contains("..");
}
