using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text.Json;
using Arca.Tests.Infrastructure;

namespace Arca.Tests.Clients.Replication;

internal static class ReplicationTestSupport
{
    public static async Task CreateEndpointAsync(TestServer arca, string name, string url, string? username = null, string? password = null)
    {
        var r = await arca.Admin.PostAsJsonAsync("api/v1/endpoints?ping=false",
            new { name, provider = "docker-registry", url, username, password });
        Assert.True(r.IsSuccessStatusCode, $"create endpoint: {(int)r.StatusCode} {await r.Content.ReadAsStringAsync()}");
    }

    public static async Task<JsonElement> ExecutionAsync(TestServer arca, long id) =>
        JsonDocument.Parse(await arca.Admin.GetStringAsync($"api/v1/replication/executions/{id}?tasks=true")).RootElement;

    public static async Task<List<JsonElement>> ExecutionsAsync(TestServer arca, string rule) =>
        JsonDocument.Parse(await arca.Admin.GetStringAsync($"api/v1/replication/executions?rule={rule}")).RootElement
            .GetProperty("items").EnumerateArray().ToList();

    /// <summary>Waits until the execution is no longer running and returns it with its tasks.</summary>
    public static async Task<JsonElement> WaitFinishedAsync(TestServer arca, long id, TimeSpan? timeout = null)
    {
        var deadline = DateTime.UtcNow + (timeout ?? TimeSpan.FromSeconds(60));
        while (true)
        {
            var e = await ExecutionAsync(arca, id);
            if (e.GetProperty("status").GetString() != "running") return e;
            Assert.True(DateTime.UtcNow < deadline, $"execution {id} still running: {e}");
            await Task.Delay(200);
        }
    }

    /// <summary>sha256 of the manifest bytes Arca serves for repository:reference.</summary>
    public static async Task<string?> ArcaManifestDigestAsync(TestServer arca, string repository, string reference)
    {
        using var http = arca.CreateClient(arca.AdminToken);
        var request = new HttpRequestMessage(HttpMethod.Get, $"v2/{repository}/manifests/{reference}");
        request.Headers.Accept.ParseAdd("application/vnd.oci.image.index.v1+json");
        request.Headers.Accept.ParseAdd("application/vnd.oci.image.manifest.v1+json");
        using var response = await http.SendAsync(request);
        if (!response.IsSuccessStatusCode) return null;
        return "sha256:" + Convert.ToHexStringLower(SHA256.HashData(await response.Content.ReadAsByteArrayAsync()));
    }

    public static Task<ProcResult> ArcaRun(TestServer arca, params string[] args) => ArcaCli.RunAsync(arca, args);
}
