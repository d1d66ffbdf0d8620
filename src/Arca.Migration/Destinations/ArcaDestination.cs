using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Arca.Migration.Config;
using Arca.Migration.Engine;
using Arca.Migration.Sources;

namespace Arca.Migration.Destinations;

/// <summary>An Arca server as the destination: registries through its management API, content through its
/// format endpoints (the same ones the real clients use).</summary>
public sealed class ArcaDestination(EndpointConfig endpoint) : IDisposable
{
    private readonly HttpClient _http = MigrationHttp.CreateClient(endpoint);

    /// <summary>The registry package type each artifact type lands in.</summary>
    public static string RegistryTypeFor(string artifactType) => artifactType switch
    {
        "HELM_LEGACY" => "HELM",
        _ => artifactType,
    };

    public IItemWriter? WriterFor(string artifactType) => artifactType switch
    {
        "GENERIC" => new GenericWriter(_http),
        _ => null,
    };

    /// <summary>Checks every destination registry exists with the right type; creates it when allowed.
    /// Returns problems (empty when all is well).</summary>
    public async Task<IReadOnlyList<string>> PrepareRegistriesAsync(MigrationConfig config, bool create, bool dryRun, CancellationToken ct)
    {
        var problems = new List<string>();
        foreach (var m in config.Mappings.DistinctBy(m => m.DestinationRegistry))
        {
            var wanted = RegistryTypeFor(m.ArtifactType);
            using var r = await _http.GetAsync($"api/v1/registries/{Uri.EscapeDataString(m.DestinationRegistry)}", ct);
            if (r.StatusCode == HttpStatusCode.NotFound)
            {
                if (!create) { problems.Add($"mappings[{m.Index}]: destination registry '{m.DestinationRegistry}' does not exist (create it, or set createRegistries: true)"); continue; }
                if (dryRun) continue;
                using var c = await _http.PostAsJsonAsync("api/v1/registries", new { identifier = m.DestinationRegistry, packageType = wanted, description = "created by arca registry migrate" }, ct);
                if (!c.IsSuccessStatusCode) problems.Add($"creating registry '{m.DestinationRegistry}': {(int)c.StatusCode} {await c.Content.ReadAsStringAsync(ct)}");
                continue;
            }
            if (!r.IsSuccessStatusCode) { problems.Add($"destination registry '{m.DestinationRegistry}': {(int)r.StatusCode} {await r.Content.ReadAsStringAsync(ct)}"); continue; }
            var type = JsonDocument.Parse(await r.Content.ReadAsStringAsync(ct)).RootElement.GetProperty("packageType").GetString();
            if (type != wanted) problems.Add($"mappings[{m.Index}]: destination registry '{m.DestinationRegistry}' holds {type}, not {wanted}");
        }
        return problems;
    }

    public void Dispose() => _http.Dispose();

    /// <summary>Generic files: skip when the destination has the same sha256; else stream, then verify.</summary>
    private sealed class GenericWriter(HttpClient http) : IItemWriter
    {
        public async Task<(ItemStatus, long)> WriteAsync(MigrationItem item, MappingConfig mapping, bool overwrite, CancellationToken ct)
        {
            var f = (GenericFileItem)item;
            var url = $"pkg/{Uri.EscapeDataString(mapping.DestinationRegistry)}/generic/{Uri.EscapeDataString(f.Package)}/{Uri.EscapeDataString(f.Version)}/"
                + string.Join('/', f.Path.Split('/').Select(Uri.EscapeDataString));
            var existing = await Sha256AtAsync(url, ct);
            if (existing is not null && existing.Equals(f.Sha256, StringComparison.OrdinalIgnoreCase)) return (ItemStatus.Skipped, 0);
            if (existing is not null && !overwrite)
                throw new HttpStatusException(HttpStatusCode.Conflict, $"{f.Display} exists at the destination with different content (use overwrite)");

            await using var content = await f.Open(ct);
            using var request = new HttpRequestMessage(HttpMethod.Put, url + (overwrite ? "?overwrite=true" : "")) { Content = new StreamContent(content, 128 * 1024) };
            if (f.Size is { } size) request.Content.Headers.ContentLength = size;
            request.Content.Headers.ContentType = new("application/octet-stream");
            request.Headers.Add("X-Checksum-Sha256", f.Sha256); // the destination refuses bytes that do not match
            using var response = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, ct);
            await MigrationHttp.EnsureSuccessAsync(response, $"PUT {f.Display}", ct);

            var stored = await Sha256AtAsync(url, ct);
            if (!string.Equals(stored, f.Sha256, StringComparison.OrdinalIgnoreCase))
                throw new InvalidOperationException($"{f.Display}: destination checksum {stored ?? "(missing)"} differs from source {f.Sha256}");
            return (ItemStatus.Succeeded, f.Size ?? 0);
        }

        private async Task<string?> Sha256AtAsync(string url, CancellationToken ct)
        {
            using var head = await http.SendAsync(new HttpRequestMessage(HttpMethod.Head, url), ct);
            if (head.StatusCode == HttpStatusCode.NotFound) return null;
            await MigrationHttp.EnsureSuccessAsync(head, $"HEAD {url}", ct);
            return head.Headers.TryGetValues("X-Checksum-Sha256", out var v) ? v.FirstOrDefault() : null;
        }
    }
}
