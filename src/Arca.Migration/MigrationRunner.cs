using Arca.Migration.Config;
using Arca.Migration.Destinations;
using Arca.Migration.Engine;
using Arca.Migration.Sources;

namespace Arca.Migration;

public sealed record RunOptions
{
    public bool DryRun { get; init; }
    public bool Overwrite { get; init; }
    public bool Resume { get; init; }
    public int Concurrency { get; init; }
    public string? ReportPath { get; init; }
    public string? StatePath { get; init; }
}

/// <summary>Wires a config to its source adapter and the Arca destination, validates everything that can be
/// checked before a byte moves, then runs the engine.</summary>
public static class MigrationRunner
{
    public static readonly IReadOnlyList<string> SupportedSources = ["ARCA", "DOCKER_REGISTRY", "HARBOR", "MAVEN", "HELM_HTTP", "NUGET", "NPM_REGISTRY", "PYPI", "NEXUS", "JFROG"];

    public static IMigrationSource CreateSource(EndpointConfig source) => source.Type switch
    {
        "ARCA" => new ArcaSource(source),
        "DOCKER_REGISTRY" => new DockerRegistrySource(source),
        "HARBOR" => new HarborSource(source),
        "MAVEN" => new MavenHttpSource(source),
        "HELM_HTTP" => new HelmHttpSource(source),
        "NUGET" => new NuGetFeedSource(source),
        "NPM_REGISTRY" => new NpmRegistrySource(source),
        "PYPI" => new PyPISource(source),
        "NEXUS" => new NexusSource(source),
        "JFROG" => new ArtifactorySource(source),
        _ => throw new ConfigException($"source type {source.Type} is not supported yet (supported: {string.Join(", ", SupportedSources)})"),
    };

    public static async Task<MigrationReport> RunAsync(MigrationConfig config, RunOptions options, Action<int, ItemResult>? onResult, CancellationToken ct,
        Action<int, MigrationItem>? onListed = null)
    {
        using var source = CreateSource(config.Source);
        using var memo = options.DryRun || options.StatePath is null ? null : SourceChecksumMemo.OpenBeside(options.StatePath);
        using var destination = new ArcaDestination(config.Destination, memo);
        var problems = MigrationEngine.Validate(config, source, destination.WriterFor).ToList();
        if (problems.Count == 0)
            problems.AddRange(await destination.PrepareRegistriesAsync(config, config.CreateRegistries, options.DryRun, ct));
        if (problems.Count > 0) throw new ConfigException(string.Join(Environment.NewLine, problems));

        using var state = options.DryRun ? null : StateFile.Open(options.StatePath!, options.Resume);
        var report = new MigrationReport(config, options.ReportPath, options.DryRun);
        try
        {
            var engine = new MigrationEngine(config, source, destination.WriterFor, state, report, onResult, onListed);
            await engine.RunAsync(options.DryRun, options.Overwrite, options.Concurrency, ct);
        }
        finally { report.Dispose(); }
        return report;
    }
}
