using System.Net;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Arca.Tests.Http.Oci;
using Arca.Tests.Infrastructure;

namespace Arca.Tests.Migration;

/// <summary>Shared pieces of the DOCKER/HELM migration tests: configs, running the CLI, pushing raw OCI content and
/// reading digests back over the distribution API.</summary>
internal static class OciMigrationSupport
{
    public static string WriteConfig(string work, string yaml)
    {
        var path = Path.Combine(work, $"migrate-{Guid.NewGuid():N}.yaml");
        File.WriteAllText(path, yaml);
        return path;
    }

    public static Task<ProcResult> MigrateAsync(string work, string config, IDictionary<string, string?> env, params string[] args) =>
        ArcaCli.RunAsync(null, null, ["registry", "migrate", "--config", config, .. args], work, env, TimeSpan.FromMinutes(5));

    public static JsonElement Mapping(ProcResult result, int index) =>
        JsonDocument.Parse(result.Stdout).RootElement.GetProperty("mappings")[index];

    public static List<JsonElement> ReportItems(string reportPath) =>
        JsonDocument.Parse(File.ReadAllText(reportPath)).RootElement.GetProperty("items").EnumerateArray().ToList();

    public static HttpClient BasicClient(string baseUrl, string? user, string? password)
    {
        var http = new HttpClient { BaseAddress = new Uri(baseUrl.TrimEnd('/') + "/") };
        if (user is not null)
            http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes($"{user}:{password}")));
        return http;
    }

    /// <summary>Pushes blobs (POST then PUT ?digest=, which every registry supports) and the manifest under each reference.</summary>
    public static async Task PushAsync(HttpClient http, string repository, Descriptor manifest, Descriptor[] blobs, params string[] references)
    {
        foreach (var blob in blobs)
        {
            using var start = await http.PostAsync($"v2/{repository}/blobs/uploads/", null);
            Assert.True(start.StatusCode == HttpStatusCode.Accepted, $"start upload: {(int)start.StatusCode}");
            var location = start.Headers.Location!;
            var uri = location.IsAbsoluteUri ? location : new Uri(http.BaseAddress!, location);
            using var put = await http.PutAsync(uri + (uri.Query.Length > 0 ? "&" : "?") + "digest=" + blob.Digest, new ByteArrayContent(blob.Bytes));
            Assert.True(put.IsSuccessStatusCode, $"blob {blob.Digest}: {(int)put.StatusCode} {await put.Content.ReadAsStringAsync()}");
        }
        foreach (var reference in references.DefaultIfEmpty(manifest.Digest))
        {
            var content = new ByteArrayContent(manifest.Bytes);
            content.Headers.ContentType = new MediaTypeHeaderValue(manifest.MediaType);
            using var put = await http.PutAsync($"v2/{repository}/manifests/{reference}", content);
            Assert.True(put.IsSuccessStatusCode, $"manifest {repository}:{reference}: {(int)put.StatusCode} {await put.Content.ReadAsStringAsync()}");
        }
    }

    /// <summary>A single-platform image: config and <paramref name="layers"/> layers of <paramref name="layerBytes"/>
    /// random bytes each (registries do not look inside layers; random bytes keep every digest unique).</summary>
    public static (Descriptor Manifest, Descriptor[] Blobs) RandomImage(string seed, int layerBytes, int layers = 2)
    {
        var random = new Random(seed.GetHashCode());
        var layerDescriptors = Enumerable.Range(0, layers).Select(_ =>
        {
            var bytes = new byte[layerBytes];
            random.NextBytes(bytes);
            return OciTestContent.Describe(OciTestContent.OciLayer, bytes);
        }).ToArray();
        var config = OciTestContent.Describe(OciTestContent.OciConfig, JsonSerializer.SerializeToUtf8Bytes(new
        {
            architecture = "amd64", os = "linux", config = new { Env = new[] { "SEED=" + seed } },
            rootfs = new { type = "layers", diff_ids = layerDescriptors.Select(l => l.Digest).ToArray() },
        }));
        var manifest = OciTestContent.Describe(OciTestContent.OciManifest, JsonSerializer.SerializeToUtf8Bytes(new
        {
            schemaVersion = 2, mediaType = OciTestContent.OciManifest,
            config = new { mediaType = config.MediaType, digest = config.Digest, size = config.Size },
            layers = layerDescriptors.Select(l => new { mediaType = l.MediaType, digest = l.Digest, size = l.Size }).ToArray(),
        }));
        return (manifest, [config, .. layerDescriptors]);
    }

    /// <summary>sha256 of the manifest bytes served for repository:reference (null when missing), checked against the
    /// Docker-Content-Digest header.</summary>
    public static async Task<string?> ManifestDigestAsync(HttpClient http, string repository, string reference)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, $"v2/{repository}/manifests/{reference}");
        foreach (var type in new[] { OciTestContent.OciIndex, OciTestContent.OciManifest, "application/vnd.docker.distribution.manifest.v2+json", "application/vnd.docker.distribution.manifest.list.v2+json" })
            request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue(type));
        using var r = await http.SendAsync(request);
        if (r.StatusCode == HttpStatusCode.NotFound) return null;
        Assert.True(r.IsSuccessStatusCode, $"GET manifest {repository}:{reference}: {(int)r.StatusCode}");
        var digest = "sha256:" + Convert.ToHexStringLower(SHA256.HashData(await r.Content.ReadAsByteArrayAsync()));
        Assert.Equal(digest, r.Headers.GetValues("Docker-Content-Digest").Single());
        return digest;
    }

    /// <summary>Digests listed by the registry's referrers API for <paramref name="subject"/>.</summary>
    public static async Task<List<string>> ReferrersAsync(HttpClient http, string repository, string subject)
    {
        var doc = JsonDocument.Parse(await http.GetStringAsync($"v2/{repository}/referrers/{subject}")).RootElement;
        return doc.GetProperty("manifests").EnumerateArray().Select(m => m.GetProperty("digest").GetString()!).ToList();
    }

    public static async Task<List<string>> TagsAsync(HttpClient http, string repository)
    {
        var doc = JsonDocument.Parse(await http.GetStringAsync($"v2/{repository}/tags/list")).RootElement;
        return doc.GetProperty("tags").EnumerateArray().Select(t => t.GetString()!).Order(StringComparer.Ordinal).ToList();
    }
}
