using System.Security.Cryptography;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;

namespace Arca.Client.Oci;

/// <summary>A platform of an index entry: os/architecture[/variant].</summary>
public sealed record OciPlatform(
    [property: JsonPropertyName("os")] string Os,
    [property: JsonPropertyName("architecture")] string Architecture,
    [property: JsonPropertyName("variant"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? Variant = null)
{
    public override string ToString() => Variant is null ? $"{Os}/{Architecture}" : $"{Os}/{Architecture}/{Variant}";

    /// <summary>Parses "os/arch[/variant]".</summary>
    public static OciPlatform Parse(string value)
    {
        var parts = value.Split('/');
        if (parts.Length is < 2 or > 3 || parts.Any(p => p.Length == 0))
            throw new FormatException($"invalid platform '{value}' (expected os/arch[/variant])");
        return new OciPlatform(parts[0], parts[1], parts.Length == 3 ? parts[2] : null);
    }

    /// <summary>True when <paramref name="wanted"/> matches this platform (a wanted platform without variant matches any).</summary>
    public bool Matches(OciPlatform wanted) =>
        Os == wanted.Os && Architecture == wanted.Architecture && (wanted.Variant is null || Variant == wanted.Variant);
}

/// <summary>An OCI content descriptor.</summary>
public sealed record OciDescriptor(
    [property: JsonPropertyName("mediaType")] string MediaType,
    [property: JsonPropertyName("digest")] string Digest,
    [property: JsonPropertyName("size")] long Size)
{
    [JsonPropertyName("artifactType"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? ArtifactType { get; init; }
    [JsonPropertyName("platform"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public OciPlatform? Platform { get; init; }
    [JsonPropertyName("annotations"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public Dictionary<string, string>? Annotations { get; init; }
}

/// <summary>
/// A manifest exactly as the registry served it (<see cref="Bytes"/> are never re-serialized, so digests stay
/// identical), with the fields a copy needs parsed out of it.
/// </summary>
public sealed class OciManifest
{
    /// <summary>Manifests are small JSON documents; registries commonly cap them at 4 MiB.</summary>
    public const int MaxSize = 4 * 1024 * 1024;

    public byte[] Bytes { get; }
    public string MediaType { get; }
    public string Digest { get; }
    public string? ArtifactType { get; }
    public OciDescriptor? Config { get; }
    public IReadOnlyList<OciDescriptor> Layers { get; }
    /// <summary>Child manifests of an index.</summary>
    public IReadOnlyList<OciDescriptor> Manifests { get; }
    public OciDescriptor? Subject { get; }
    public Dictionary<string, string>? Annotations { get; }

    public bool IsIndex => OciMediaTypes.IsIndex(MediaType);
    public long Size => Bytes.LongLength;

    public OciManifest(byte[] bytes, string? contentType)
    {
        Bytes = bytes;
        Digest = "sha256:" + Convert.ToHexStringLower(SHA256.HashData(bytes));
        JsonElement root;
        try { root = JsonDocument.Parse(bytes).RootElement; }
        catch (JsonException e) { throw new OciException($"manifest {Digest} is not valid JSON: {e.Message}"); }
        var declared = root.TryGetProperty("mediaType", out var mt) && mt.ValueKind == JsonValueKind.String ? mt.GetString() : null;
        var isIndexShape = root.TryGetProperty("manifests", out var manifests) && manifests.ValueKind == JsonValueKind.Array;
        // The document's own mediaType is authoritative; some registries answer a generic Content-Type.
        MediaType = declared
            ?? (contentType is { Length: > 0 } ct && ct != "application/json" && ct != "application/octet-stream" ? ct
                : isIndexShape ? OciMediaTypes.ImageIndex : OciMediaTypes.ImageManifest);
        ArtifactType = root.TryGetProperty("artifactType", out var at) && at.ValueKind == JsonValueKind.String ? at.GetString() : null;
        Config = root.TryGetProperty("config", out var config) ? ReadDescriptor(config) : null;
        Layers = ReadList(root, MediaType == OciMediaTypes.ArtifactManifest ? "blobs" : "layers");
        Manifests = ReadList(root, "manifests");
        Subject = root.TryGetProperty("subject", out var subject) ? ReadDescriptor(subject) : null;
        Annotations = root.TryGetProperty("annotations", out var ann) ? ReadAnnotations(ann) : null;
    }

    /// <summary>Descriptor of this manifest, as it appears in an index or a referrers list.</summary>
    public OciDescriptor ToDescriptor() => new(MediaType, Digest, Size)
    {
        ArtifactType = ArtifactType ?? (MediaType == OciMediaTypes.ImageManifest && Config?.MediaType is { } cmt ? cmt : null),
        Annotations = Annotations,
    };

    /// <summary>All blobs an image manifest references (config first).</summary>
    public IEnumerable<OciDescriptor> Blobs => Config is null ? Layers : Layers.Prepend(Config);

    private static List<OciDescriptor> ReadList(JsonElement root, string name) =>
        root.TryGetProperty(name, out var list) && list.ValueKind == JsonValueKind.Array
            ? list.EnumerateArray().Select(ReadDescriptor).OfType<OciDescriptor>().ToList()
            : [];

    internal static OciDescriptor? ReadDescriptor(JsonElement e)
    {
        if (e.ValueKind != JsonValueKind.Object) return null;
        var digest = e.TryGetProperty("digest", out var d) ? d.GetString() : null;
        if (digest is null) return null;
        OciPlatform? platform = null;
        if (e.TryGetProperty("platform", out var p) && p.ValueKind == JsonValueKind.Object)
            platform = new OciPlatform(
                p.TryGetProperty("os", out var os) ? os.GetString() ?? "" : "",
                p.TryGetProperty("architecture", out var arch) ? arch.GetString() ?? "" : "",
                p.TryGetProperty("variant", out var v) ? v.GetString() : null);
        return new OciDescriptor(
            e.TryGetProperty("mediaType", out var mt) ? mt.GetString() ?? "" : "",
            digest,
            e.TryGetProperty("size", out var s) && s.TryGetInt64(out var size) ? size : 0)
        {
            ArtifactType = e.TryGetProperty("artifactType", out var at) ? at.GetString() : null,
            Platform = platform,
            Annotations = e.TryGetProperty("annotations", out var ann) ? ReadAnnotations(ann) : null,
        };
    }

    private static Dictionary<string, string>? ReadAnnotations(JsonElement e) =>
        e.ValueKind == JsonValueKind.Object
            ? e.EnumerateObject().Where(p => p.Value.ValueKind == JsonValueKind.String).ToDictionary(p => p.Name, p => p.Value.GetString()!)
            : null;

    /// <summary>Serializes an image index listing <paramref name="manifests"/> (used for referrers fallback tags).</summary>
    public static byte[] BuildIndex(IEnumerable<OciDescriptor> manifests)
    {
        var index = new JsonObject
        {
            ["schemaVersion"] = 2,
            ["mediaType"] = OciMediaTypes.ImageIndex,
            ["manifests"] = JsonSerializer.SerializeToNode(manifests.ToList()),
        };
        return JsonSerializer.SerializeToUtf8Bytes(index);
    }
}
