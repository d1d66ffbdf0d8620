using System.Formats.Tar;
using System.IO.Compression;
using System.Net;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;

namespace Arca.Tests.Http.Oci;

/// <summary>A content descriptor (the JSON object manifests use to point at blobs and manifests).</summary>
public sealed record Descriptor(string MediaType, string Digest, long Size, byte[] Bytes)
{
    public JsonObject ToJson(JsonObject? platform = null, string? artifactType = null)
    {
        var o = new JsonObject { ["mediaType"] = MediaType, ["digest"] = Digest, ["size"] = Size };
        if (platform is not null) o["platform"] = platform;
        if (artifactType is not null) o["artifactType"] = artifactType;
        return o;
    }
}

/// <summary>Builds OCI content (layers, configs, manifests, indexes, Helm charts) in test code, byte for byte.</summary>
public static class OciTestContent
{
    public const string OciManifest = "application/vnd.oci.image.manifest.v1+json";
    public const string OciIndex = "application/vnd.oci.image.index.v1+json";
    public const string OciConfig = "application/vnd.oci.image.config.v1+json";
    public const string OciLayer = "application/vnd.oci.image.layer.v1.tar+gzip";
    public const string HelmConfig = "application/vnd.cncf.helm.config.v1+json";
    public const string HelmChart = "application/vnd.cncf.helm.chart.content.v1.tar+gzip";

    public static string Sha256(byte[] data) => "sha256:" + Convert.ToHexStringLower(SHA256.HashData(data));

    public static Descriptor Describe(string mediaType, byte[] bytes) => new(mediaType, Sha256(bytes), bytes.Length, bytes);

    public static byte[] TarGz(params (string Path, string Content)[] files)
    {
        var output = new MemoryStream();
        using (var gzip = new GZipStream(output, CompressionLevel.Fastest, leaveOpen: true))
        using (var tar = new TarWriter(gzip, TarEntryFormat.Pax, leaveOpen: false))
            foreach (var (path, content) in files)
            {
                var entry = new PaxTarEntry(TarEntryType.RegularFile, path)
                {
                    DataStream = new MemoryStream(Encoding.UTF8.GetBytes(content)),
                    ModificationTime = new DateTimeOffset(2024, 1, 1, 0, 0, 0, TimeSpan.Zero),
                };
                tar.WriteEntry(entry);
            }
        return output.ToArray();
    }

    public static byte[] Uncompressed(byte[] gz)
    {
        using var input = new GZipStream(new MemoryStream(gz), CompressionMode.Decompress);
        var output = new MemoryStream();
        input.CopyTo(output);
        return output.ToArray();
    }

    /// <summary>A one-layer image for a platform: (config, layer, manifest).</summary>
    public static (Descriptor Config, Descriptor Layer, Descriptor Manifest) Image(string os, string arch, string fileContent,
        Descriptor? extraLayer = null, Descriptor? subject = null)
    {
        var layer = Describe(OciLayer, TarGz(("hello.txt", fileContent)));
        var layers = extraLayer is null ? new[] { layer } : new[] { extraLayer, layer };
        var diffIds = new JsonArray(layers.Select(l => (JsonNode)Sha256(Uncompressed(l.Bytes))).ToArray());
        var config = Describe(OciConfig, Encoding.UTF8.GetBytes(new JsonObject
        {
            ["architecture"] = arch, ["os"] = os,
            ["rootfs"] = new JsonObject { ["type"] = "layers", ["diff_ids"] = diffIds },
            ["config"] = new JsonObject(),
        }.ToJsonString()));
        var manifest = new JsonObject
        {
            ["schemaVersion"] = 2, ["mediaType"] = OciManifest, ["config"] = config.ToJson(),
            ["layers"] = new JsonArray(layers.Select(l => (JsonNode)l.ToJson()).ToArray()),
        };
        if (subject is not null) manifest["subject"] = subject.ToJson();
        return (config, layer, Describe(OciManifest, Encoding.UTF8.GetBytes(manifest.ToJsonString())));
    }

    public static Descriptor Index(params (Descriptor Manifest, string Os, string Arch)[] entries) =>
        Describe(OciIndex, Encoding.UTF8.GetBytes(new JsonObject
        {
            ["schemaVersion"] = 2, ["mediaType"] = OciIndex,
            ["manifests"] = new JsonArray(entries.Select(e => (JsonNode)e.Manifest.ToJson(new JsonObject { ["architecture"] = e.Arch, ["os"] = e.Os })).ToArray()),
        }.ToJsonString()));

    /// <summary>An artifact manifest (e.g. an SBOM) with its own artifactType, pointing at <paramref name="subject"/>.</summary>
    public static (Descriptor Config, Descriptor Blob, Descriptor Manifest) Artifact(string artifactType, string content, Descriptor subject)
    {
        var config = Describe("application/vnd.oci.empty.v1+json", "{}"u8.ToArray());
        var blob = Describe("application/json", Encoding.UTF8.GetBytes(content));
        var manifest = new JsonObject
        {
            ["schemaVersion"] = 2, ["mediaType"] = OciManifest, ["artifactType"] = artifactType,
            ["config"] = config.ToJson(), ["layers"] = new JsonArray(blob.ToJson()), ["subject"] = subject.ToJson(),
            ["annotations"] = new JsonObject { ["org.example.kind"] = artifactType },
        };
        return (config, blob, Describe(OciManifest, Encoding.UTF8.GetBytes(manifest.ToJsonString())));
    }

    /// <summary>A Helm chart as `helm push` stores it: chart config JSON and the chart .tgz as the content layer.</summary>
    public static (Descriptor Config, Descriptor Chart, Descriptor Manifest) HelmChartArtifact(string name, string version, string appVersion)
    {
        var chartTgz = TarGz(
            ($"{name}/Chart.yaml", $"apiVersion: v2\nname: {name}\nversion: {version}\nappVersion: \"{appVersion}\"\ndescription: A test chart\ntype: application\n"),
            ($"{name}/values.yaml", "replicas: 1\n"),
            ($"{name}/templates/cm.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: test\n"));
        var chart = Describe(HelmChart, chartTgz);
        var config = Describe(HelmConfig, Encoding.UTF8.GetBytes(new JsonObject
        {
            ["name"] = name, ["version"] = version, ["appVersion"] = appVersion, ["description"] = "A test chart",
            ["apiVersion"] = "v2", ["type"] = "application",
        }.ToJsonString()));
        var manifest = Describe(OciManifest, Encoding.UTF8.GetBytes(new JsonObject
        {
            ["schemaVersion"] = 2, ["mediaType"] = OciManifest, ["config"] = config.ToJson(), ["layers"] = new JsonArray(chart.ToJson()),
            ["annotations"] = new JsonObject { ["org.opencontainers.image.title"] = name, ["org.opencontainers.image.version"] = version },
        }.ToJsonString()));
        return (config, chart, manifest);
    }

    /// <summary>Writes an OCI image layout (oci-layout, index.json, blobs) that skopeo reads as <c>oci:DIR:TAG</c>.</summary>
    public static void WriteLayout(string dir, IEnumerable<Descriptor> blobs, params (Descriptor Root, string Tag)[] refs)
    {
        Directory.CreateDirectory(Path.Combine(dir, "blobs", "sha256"));
        File.WriteAllText(Path.Combine(dir, "oci-layout"), "{\"imageLayoutVersion\":\"1.0.0\"}");
        foreach (var b in blobs.Concat(refs.Select(r => r.Root)))
            File.WriteAllBytes(Path.Combine(dir, "blobs", "sha256", b.Digest[7..]), b.Bytes);
        var index = new JsonObject
        {
            ["schemaVersion"] = 2, ["mediaType"] = OciIndex,
            ["manifests"] = new JsonArray(refs.Select(r =>
            {
                var d = r.Root.ToJson();
                d["annotations"] = new JsonObject { ["org.opencontainers.image.ref.name"] = r.Tag };
                return (JsonNode)d;
            }).ToArray()),
        };
        File.WriteAllText(Path.Combine(dir, "index.json"), index.ToJsonString());
    }
}

/// <summary>Raw distribution-API calls for HTTP-level tests.</summary>
public sealed class OciHttp(HttpClient client)
{
    public HttpClient Client => client;

    public async Task PushBlobAsync(string name, Descriptor blob)
    {
        var r = await client.PostAsync($"v2/{name}/blobs/uploads/?digest={blob.Digest}", new ByteArrayContent(blob.Bytes));
        Assert.True(r.StatusCode == HttpStatusCode.Created, $"push blob {blob.Digest}: {(int)r.StatusCode} {await r.Content.ReadAsStringAsync()}");
    }

    public Task<HttpResponseMessage> PutManifestAsync(string name, string reference, Descriptor manifest) =>
        PutManifestAsync(name, reference, manifest.Bytes, manifest.MediaType);

    public async Task<HttpResponseMessage> PutManifestAsync(string name, string reference, byte[] bytes, string mediaType)
    {
        var content = new ByteArrayContent(bytes);
        content.Headers.ContentType = new MediaTypeHeaderValue(mediaType);
        return await client.PutAsync($"v2/{name}/manifests/{reference}", content);
    }

    /// <summary>Pushes an image (blobs, then manifest) and asserts 201.</summary>
    public async Task PushImageAsync(string name, string reference, Descriptor manifest, params Descriptor[] blobs)
    {
        foreach (var b in blobs) await PushBlobAsync(name, b);
        var r = await PutManifestAsync(name, reference, manifest);
        Assert.True(r.StatusCode == HttpStatusCode.Created, $"put manifest {name}:{reference}: {(int)r.StatusCode} {await r.Content.ReadAsStringAsync()}");
    }

    /// <summary>Asserts the status and the spec error code of a response.</summary>
    public static async Task AssertErrorAsync(HttpResponseMessage r, HttpStatusCode status, string code)
    {
        var body = await r.Content.ReadAsStringAsync();
        Assert.True(r.StatusCode == status, $"expected {(int)status} {code}, got {(int)r.StatusCode}: {body}");
        if (r.RequestMessage?.Method == HttpMethod.Head) return;
        var errors = JsonNode.Parse(body)!["errors"]!.AsArray();
        Assert.Equal(code, errors[0]!["code"]!.GetValue<string>());
        Assert.NotNull(errors[0]!["message"]);
    }
}
