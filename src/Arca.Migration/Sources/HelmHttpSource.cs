using System.Runtime.CompilerServices;
using Arca.Migration.Config;
using Arca.Migration.Destinations;
using Arca.Migration.Engine;
using YamlDotNet.RepresentationModel;

namespace Arca.Migration.Sources;

/// <summary>
/// A classic Helm chart repository (ChartMuseum, a static host, GitHub pages...): <c>&lt;endpoint&gt;/&lt;sourceRegistry&gt;/index.yaml</c>.
/// One item per chart version; chart URLs may be relative to the index or absolute; the index's <c>digest</c> (sha256 of
/// the .tgz) is used to skip and verify, and the bytes are hashed when it is missing. include/excludePatterns match the
/// chart name. The index is a metadata document and is read whole (bounded).
/// </summary>
public sealed class HelmHttpSource(EndpointConfig endpoint, HttpClient? sharedHttp = null) : IMigrationSource
{
    // sharedHttp: the client of a product source that serves this protocol under a path (its auth, its lifetime).
    private readonly HttpClient _http = sharedHttp ?? MigrationHttp.CreateClient(endpoint);

    public IReadOnlyCollection<string> SupportedArtifactTypes => ["HELM_LEGACY"];

    public async IAsyncEnumerable<MigrationItem> ListAsync(MappingConfig mapping, PackageFilter filter, [EnumeratorCancellation] CancellationToken ct)
    {
        var repo = new Uri(_http.BaseAddress!, mapping.SourceRegistry.Trim('/') is { Length: > 0 } r ? NativeSources.EscapePath(r) + "/" : "");
        var indexUrl = new Uri(repo, "index.yaml");
        var yaml = new YamlStream();
        yaml.Load(new StringReader(await NativeSources.GetStringAsync(_http, indexUrl, ct)));
        if (yaml.Documents.Count == 0 || yaml.Documents[0].RootNode is not YamlMappingNode root
            || !root.Children.TryGetValue("entries", out var entriesNode) || entriesNode is not YamlMappingNode entries)
            throw new InvalidDataException($"{indexUrl} is not a Helm repository index (no entries)");

        foreach (var (nameNode, versionsNode) in entries.Children)
        {
            var name = ((YamlScalarNode)nameNode).Value ?? "";
            if (!filter.Selects(name) || versionsNode is not YamlSequenceNode versions) continue;
            foreach (var v in versions.Children.OfType<YamlMappingNode>())
            {
                var version = Scalar(v, "version") ?? throw new InvalidDataException($"{indexUrl}: a version of {name} has no version");
                var url = v.Children.TryGetValue("urls", out var urls) && urls is YamlSequenceNode list
                    ? list.Children.OfType<YamlScalarNode>().Select(u => u.Value).FirstOrDefault(u => !string.IsNullOrEmpty(u))
                    : null;
                if (url is null) throw new InvalidDataException($"{indexUrl}: {name} {version} has no url");
                var chartUri = new Uri(repo, url); // relative URLs resolve against the repository (the index's directory)
                var digest = Scalar(v, "digest");
                yield return new HelmChartItem
                {
                    Key = $"{mapping.Index}|HELM_LEGACY|{name}|{version}", Package = name, Version = version, Display = $"{name}-{version}",
                    Sha256 = digest is { Length: 64 } && digest.All(Uri.IsHexDigit) ? digest.ToLowerInvariant() : null,
                    Open = token => NativeSources.OpenAsync(_http, chartUri, token),
                    Fingerprint = token => NativeSources.FingerprintAsync(_http, chartUri, token), // used only when the index has no digest
                };
            }
        }
    }

    private static string? Scalar(YamlMappingNode node, string key) =>
        node.Children.TryGetValue(key, out var v) && v is YamlScalarNode s ? s.Value : null;

    public void Dispose()
    {
        if (sharedHttp is null) _http.Dispose();
    }
}
