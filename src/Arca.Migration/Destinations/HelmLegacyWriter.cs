using System.Net;
using System.Runtime.CompilerServices;
using System.Text.Json;
using System.Text.RegularExpressions;
using Arca.Client.Oci;
using Arca.Migration.Config;
using Arca.Migration.Engine;

namespace Arca.Migration.Destinations;

/// <summary>One chart version of a classic (index.yaml) Helm repository: the .tgz and the digest the index gives.</summary>
public sealed record HelmChartItem : MigrationItem
{
    /// <summary>sha256 of the .tgz when the source index states it.</summary>
    public string? Sha256 { get; init; }
    public required Func<CancellationToken, Task<Stream>> Open { get; init; }
}

/// <summary>
/// Moves a classic chart into Arca through its ChartMuseum API (<c>POST /pkg/&lt;reg&gt;/helm/api/charts</c>). Arca stores
/// every uploaded chart twice, in the classic view and as an OCI artifact exactly as `helm push` writes it (config = the
/// Chart.yaml metadata as JSON with the helm config media type, one chart-content layer, the org.opencontainers.image.*
/// annotations, tag = version with '+' as '_'), so one upload gives both. The writer then checks the OCI view with the
/// OCI client: manifest media types, the layer digest and the config's name/version.
/// </summary>
internal sealed partial class HelmLegacyWriter(HttpClient http, EndpointConfig endpoint, SourceChecksumMemo? memo) : IItemWriter
{
    public const string HelmConfigMediaType = "application/vnd.cncf.helm.config.v1+json";
    public const string HelmChartMediaType = "application/vnd.cncf.helm.chart.content.v1.tar+gzip";

    // WriterFor is asked per item; one writer (and one OCI client with its token cache) per destination client.
    private static readonly ConditionalWeakTable<HttpClient, HelmLegacyWriter> Writers = new();
    public static HelmLegacyWriter For(HttpClient http, EndpointConfig endpoint, SourceChecksumMemo? memo) => Writers.GetValue(http, h => new HelmLegacyWriter(h, endpoint, memo));

    private readonly Lazy<OciRegistryClient> _oci = new(() =>
    {
        var uri = new Uri(endpoint.Endpoint);
        return new OciRegistryClient(uri.Authority, new OciClientOptions
        {
            // Plain HTTP endpoints are reached as such; TLS is verified unless the config says insecure.
            Insecure = endpoint.Insecure || uri.Scheme == Uri.UriSchemeHttp,
            Credentials = new StaticCredentialProvider(string.IsNullOrEmpty(endpoint.Password) ? null
                : RegistryCredential.Basic(endpoint.Username ?? "migrate", endpoint.Password)),
            UserAgent = "arca-migrate/1.0",
        });
    });

    public async Task<(ItemStatus, long)> WriteAsync(MigrationItem item, MappingConfig mapping, bool overwrite, CancellationToken ct)
    {
        var chart = (HelmChartItem)item;
        var reg = Uri.EscapeDataString(mapping.DestinationRegistry);
        var existing = await DigestAtAsync(reg, chart, ct);
        // Without a digest in the index, the chart's sha256 is only needed to compare with one the destination has
        // (memo or download); a new chart is hashed while it uploads.
        var sha256 = chart.Sha256 ?? (existing is null ? null : await ContentHash.SourceSha256Async(chart, chart.Open, memo, ct));
        if (existing is not null && ContentHash.Same(existing, sha256)) return (ItemStatus.Skipped, 0);
        if (existing is not null && !overwrite)
            throw new HttpStatusException(HttpStatusCode.Conflict, $"{chart.Display} exists at the destination with a different digest (use overwrite)");

        long moved;
        var fingerprint = sha256 is null ? await ContentHash.FingerprintBeforeReadAsync(chart, memo, ct) : null;
        // The index's digest (or the one hashed above) is checked while streaming; a mismatch aborts the (chunked) upload before it completes.
        await using (var content = new CountingStream(await chart.Open(ct), sha256, hash: true))
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, $"pkg/{reg}/helm/api/charts" + (overwrite ? "?force=true" : ""))
            { Content = new StreamContent(content, 128 * 1024) };
            request.Content.Headers.ContentType = new("application/gzip");
            request.Headers.TransferEncodingChunked = true; // no Content-Length, so an aborted stream never completes the upload
            try
            {
                using var response = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, ct);
                await MigrationHttp.EnsureSuccessAsync(response, $"upload {chart.Display}", ct);
            }
            catch (Exception e) when (content.MismatchedSha256 is { } actual && e is HttpRequestException or InvalidDataException)
            {
                throw new InvalidDataException($"{chart.Display}: the source chart has sha256 {actual}, expected {sha256}{(chart.Sha256 is null ? "" : " (from its index)")}; nothing was stored");
            }
            moved = content.BytesRead;
            sha256 ??= content.Sha256 ?? throw new InvalidOperationException($"{chart.Display}: the upload ended before the whole chart was read");
        }
        ContentHash.Remember(chart, fingerprint, memo, sha256);

        var stored = await DigestAtAsync(reg, chart, ct);
        if (!ContentHash.Same(stored, sha256))
            throw new InvalidOperationException($"{chart.Display}: destination digest {stored ?? "(missing)"} differs from source {sha256}");
        if (OciRepositoryName().IsMatch(chart.Package)) await VerifyOciAsync(mapping, chart, sha256, ct);
        return (ItemStatus.Succeeded, moved);
    }

    /// <summary>The digest of the chart version in the destination's classic view, null when absent.</summary>
    private async Task<string?> DigestAtAsync(string reg, HelmChartItem chart, CancellationToken ct)
    {
        using var response = await http.GetAsync($"pkg/{reg}/helm/api/charts/{Uri.EscapeDataString(chart.Package)}/{Uri.EscapeDataString(chart.Version)}", ct);
        if (response.StatusCode == HttpStatusCode.NotFound) return null;
        await MigrationHttp.EnsureSuccessAsync(response, $"GET chart {chart.Display}", ct);
        using var doc = JsonDocument.Parse(await response.Content.ReadAsStringAsync(ct));
        return doc.RootElement.TryGetProperty("digest", out var d) ? d.GetString() : null;
    }

    private async Task VerifyOciAsync(MappingConfig mapping, HelmChartItem chart, string sha256, CancellationToken ct)
    {
        var repository = $"{mapping.DestinationRegistry}/{chart.Package}";
        var tag = chart.Version.Replace('+', '_');
        var oci = _oci.Value;
        var manifest = await oci.GetManifestAsync(repository, tag, ct)
                       ?? throw new InvalidOperationException($"{chart.Display}: no OCI chart {repository}:{tag} at the destination");
        if (manifest.Config?.MediaType != HelmConfigMediaType || manifest.Layers.Count != 1 || manifest.Layers[0].MediaType != HelmChartMediaType
            || manifest.Layers[0].Digest != "sha256:" + sha256.ToLowerInvariant())
            throw new InvalidOperationException($"{chart.Display}: the OCI chart {repository}:{tag} is not the chart as helm push writes it");
        using var config = await oci.GetBlobAsync(repository, manifest.Config.Digest, ct);
        using var json = await JsonDocument.ParseAsync(config.Content, cancellationToken: ct);
        var name = json.RootElement.TryGetProperty("name", out var n) ? n.GetString() : null;
        var version = json.RootElement.TryGetProperty("version", out var v) ? v.GetString() : null;
        if (name != chart.Package || version != chart.Version)
            throw new InvalidOperationException($"{chart.Display}: the OCI chart config says {name} {version}");
    }

    [GeneratedRegex("^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$")]
    private static partial Regex OciRepositoryName();
}
