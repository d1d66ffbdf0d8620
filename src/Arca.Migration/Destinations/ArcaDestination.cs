using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Arca.Migration.Config;
using Arca.Migration.Engine;
using Arca.Migration.Sources;

namespace Arca.Migration.Destinations;

/// <summary>An Arca server as the destination: registries through its management API, content through its
/// format endpoints (the same ones the real clients use).</summary>
/// <param name="checksumMemo">sha256 sums of source files without published checksums, kept across runs (null: none).</param>
public sealed partial class ArcaDestination(EndpointConfig endpoint, SourceChecksumMemo? checksumMemo = null) : IDisposable
{
    private readonly HttpClient _http = MigrationHttp.CreateClient(endpoint);

    /// <summary>The registry package type each artifact type lands in.</summary>
    public static string RegistryTypeFor(string artifactType) => artifactType switch
    {
        "HELM_LEGACY" => "HELM",
        _ => artifactType,
    };

    internal HttpClient Http => _http;

    /// <summary>One writer per artifact type, each in its own file in Destinations/.</summary>
    public IItemWriter? WriterFor(string artifactType) => artifactType switch
    {
        "GENERIC" => new GenericWriter(_http),
        "DOCKER" or "HELM" => OciWriter,
        "MAVEN" => new MavenWriter(_http, checksumMemo),
        "HELM_LEGACY" => HelmLegacyWriter.For(_http, endpoint, checksumMemo),
        "NUGET" => new NuGetWriter(_http, endpoint.Password, checksumMemo),
        "NPM" => new NpmWriter(_http),
        "PYTHON" => new PythonWriter(_http),
        "GO" => new GoWriter(_http),
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
}
