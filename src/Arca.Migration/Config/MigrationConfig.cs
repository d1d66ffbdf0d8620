namespace Arca.Migration.Config;

/// <summary>The `hc registry migrate` YAML (PRODUCT.md "Migration config") plus Arca's extensions.</summary>
public sealed record MigrationConfig
{
    public string Version { get; init; } = "1.0.0";
    public int Concurrency { get; init; } = 5;
    public bool Overwrite { get; init; }
    public bool DryRun { get; init; }
    public bool Summary { get; init; } = true;
    /// <summary>Extension: create missing destination registries instead of failing.</summary>
    public bool CreateRegistries { get; init; }
    /// <summary>Extension: where resumable state is kept (default: &lt;config&gt;.state.jsonl next to the config file).</summary>
    public string? StateFile { get; init; }
    /// <summary>Extension: per-item timeout; large blobs get more (see the engine).</summary>
    public TimeSpan ItemTimeout { get; init; } = TimeSpan.FromMinutes(30);
    /// <summary>Extension: attempts per item for transient failures (429, 5xx, network).</summary>
    public int Retries { get; init; } = 4;
    public required EndpointConfig Source { get; init; }
    public required EndpointConfig Destination { get; init; }
    public IReadOnlyList<MappingConfig> Mappings { get; init; } = [];
}

public sealed record EndpointConfig
{
    public required string Endpoint { get; init; }
    public required string Type { get; init; }
    public string? Username { get; init; }
    public string? Password { get; init; }
    public bool Insecure { get; init; }
    /// <summary>Extension (DOCKER_REGISTRY source): authenticate with AWS ECR in this region whatever the host; ECR
    /// host names get ECR authentication without it (region from the name).</summary>
    public string? AwsRegion { get; init; }
}

public sealed record MappingConfig
{
    public required string ArtifactType { get; init; }
    public string SourceRegistry { get; init; } = "";
    public required string DestinationRegistry { get; init; }
    public IReadOnlyList<string> IncludePatterns { get; init; } = [];
    public IReadOnlyList<string> ExcludePatterns { get; init; } = [];
    public string? SourcePackageHostname { get; init; }
    /// <summary>Lookups a source may run at once while listing (e.g. resolving each tag's manifest); the engine sets
    /// it to the run's concurrency, at least <c>MigrationEngine.MinListLookups</c>. Not part of the YAML.</summary>
    public int ListConcurrency { get; init; } = 1;
    /// <summary>Keys the state file records as finished (<c>--resume</c>): a source may list such an item without the
    /// lookups that only matter for moving it (the engine skips it anyway). Set by the engine; not part of the YAML.</summary>
    public Func<string, bool>? AlreadyDone { get; init; }
    /// <summary>Position in the config, for messages ("mappings[2]").</summary>
    public int Index { get; init; }
    public string Name => $"{SourceRegistry}->{DestinationRegistry} ({ArtifactType})";
}

public static class KnownTypes
{
    public static readonly IReadOnlyList<string> Sources = ["NEXUS", "JFROG", "HARBOR", "DOCKER_REGISTRY", "ARCA", "HAR", "NPM_REGISTRY", "PYPI", "MAVEN", "HELM_HTTP", "NUGET"];
    public static readonly IReadOnlyList<string> Destinations = ["ARCA", "HAR"];
    public static readonly IReadOnlyList<string> ArtifactTypes = ["DOCKER", "HELM", "HELM_LEGACY", "GENERIC", "PYTHON", "MAVEN", "NPM", "NUGET", "RPM", "GO", "CONDA", "CARGO", "COMPOSER", "DART"];
}
