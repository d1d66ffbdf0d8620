using Arca.Client.Oci;
using Arca.Core.Endpoints;
using Arca.Core.Model;
using Arca.Core.Replication;
using Arca.Core.Storage;
using Arca.Core.Validation;
using Arca.Server.Endpoints;

namespace Arca.Server.Replication;

/// <summary>Validation and storage of replication rules.</summary>
public sealed class ReplicationRuleService(IReplicationStore store, IMetadataStore metadata, EndpointService endpoints)
{
    public const string Pull = "pull", Push = "push";
    private const int MaxLabels = 32, MaxLabelLength = 128, MaxReplaceCount = 32;

    public async Task<ReplicationRule> RequireAsync(string name, CancellationToken ct) =>
        (Identifiers.IsValidRegistryName(name) ? await store.GetRuleAsync(name, ct) : null)
        ?? throw ArcaException.NotFound($"replication rule '{Printable(name)}' not found", "RULE_NOT_FOUND");

    public Task<IReadOnlyList<ReplicationRule>> ListAsync(CancellationToken ct) => store.ListRulesAsync(ct);

    public async Task<ReplicationRule> CreateAsync(CreateReplicationRuleRequest req, CancellationToken ct)
    {
        if (!Identifiers.IsValidRegistryName(req.Name))
            throw ArcaException.BadRequest(
                $"invalid rule name '{Printable(req.Name)}': use 2-63 characters a-z, 0-9, '.', '_' or '-', starting with a letter or digit",
                "INVALID_IDENTIFIER");
        var rule = new ReplicationRule
        {
            Name = req.Name!, Endpoint = req.Endpoint ?? "", Direction = (req.Direction ?? "").Trim().ToLowerInvariant(),
            SourceFilter = req.SourceFilter ?? "", TagFilter = Empty(req.TagFilter), Labels = req.Labels ?? [],
            DestinationRegistry = Empty(req.DestinationRegistry), DestinationNamespace = Empty(req.DestinationNamespace),
            DestinationNamespaceReplaceCount = req.DestinationNamespaceReplaceCount ?? -1, Override = req.Override ?? false,
            Cron = Empty(req.Cron), Enabled = req.Enabled ?? true,
        };
        return await store.CreateRuleAsync(await ValidateAsync(rule, ct), ct);
    }

    public async Task<ReplicationRule> UpdateAsync(string name, UpdateReplicationRuleRequest req, CancellationToken ct)
    {
        var current = await RequireAsync(name, ct);
        var rule = current with
        {
            Endpoint = req.Endpoint ?? current.Endpoint,
            Direction = req.Direction?.Trim().ToLowerInvariant() ?? current.Direction,
            SourceFilter = req.SourceFilter ?? current.SourceFilter,
            TagFilter = req.TagFilter is null ? current.TagFilter : Empty(req.TagFilter),
            Labels = req.Labels ?? current.Labels,
            DestinationRegistry = req.DestinationRegistry is null ? current.DestinationRegistry : Empty(req.DestinationRegistry),
            DestinationNamespace = req.DestinationNamespace is null ? current.DestinationNamespace : Empty(req.DestinationNamespace),
            DestinationNamespaceReplaceCount = req.DestinationNamespaceReplaceCount ?? current.DestinationNamespaceReplaceCount,
            Override = req.Override ?? current.Override,
            Cron = req.Cron is null ? current.Cron : Empty(req.Cron),
            Enabled = req.Enabled ?? current.Enabled,
        };
        return await store.UpdateRuleAsync(await ValidateAsync(rule, ct), ct);
    }

    public async Task DeleteAsync(string name, CancellationToken ct)
    {
        var rule = await RequireAsync(name, ct);
        await store.DeleteRuleAsync(rule.Id, ct); // executions stay as history
    }

    private async Task<ReplicationRule> ValidateAsync(ReplicationRule rule, CancellationToken ct)
    {
        if (string.IsNullOrEmpty(rule.Endpoint)) throw ArcaException.BadRequest("endpoint is required", "INVALID_ENDPOINT");
        var endpoint = await endpoints.RequireAsync(rule.Endpoint, ct);
        if (!EndpointProviders.IsOci(endpoint.Provider))
            throw ArcaException.BadRequest(
                $"endpoint '{endpoint.Name}' is a {endpoint.Provider} endpoint: replication rules support OCI providers ({string.Join(", ", EndpointProviders.All.Where(EndpointProviders.IsOci))})",
                "UNSUPPORTED_PROVIDER");
        if (rule.Direction is not (Pull or Push))
            throw ArcaException.BadRequest($"invalid direction '{Printable(rule.Direction)}': use pull or push", "INVALID_DIRECTION");
        ReplicationPatterns.ValidateFilter(rule.SourceFilter, "source filter", required: true);
        ReplicationPatterns.ValidateFilter(rule.TagFilter, "tag filter", required: false);

        var labels = rule.Labels.Select(l => l?.Trim() ?? "").ToList();
        if (labels.Count > MaxLabels || labels.Any(l => l.Length == 0 || l.Length > MaxLabelLength || l.Any(char.IsControl)))
            throw ArcaException.BadRequest($"invalid labels: at most {MaxLabels}, each 1-{MaxLabelLength} printable characters", "INVALID_LABEL");

        if (rule.Direction == Pull)
        {
            if (labels.Count > 0)
                throw ArcaException.BadRequest("labels select Arca registries to push from: they apply to push rules only", "INVALID_LABEL");
            if (rule.DestinationRegistry is null)
                throw ArcaException.BadRequest("a pull rule needs a destination registry (an Arca DOCKER or HELM registry)", "INVALID_DESTINATION");
            var registry = (Identifiers.IsValidRegistryName(rule.DestinationRegistry) ? await metadata.GetRegistryAsync(rule.DestinationRegistry, ct) : null)
                ?? throw ArcaException.NotFound($"registry '{Printable(rule.DestinationRegistry)}' not found", "REGISTRY_NOT_FOUND");
            if (registry.PackageType is not (PackageTypes.Docker or PackageTypes.Helm))
                throw ArcaException.BadRequest($"registry '{registry.Name}' is a {registry.PackageType} registry: a pull rule needs a DOCKER or HELM registry", "INVALID_DESTINATION");
        }
        else if (rule.DestinationRegistry is not null)
            throw ArcaException.BadRequest(
                "a push rule takes its images from Arca: the source filter matches <registry>/<repository>; use --dest-namespace for the remote side",
                "INVALID_DESTINATION");

        if (rule.DestinationNamespace is { } ns && !ImageReference.IsValidRepository(ns))
            throw ArcaException.BadRequest($"invalid destination namespace '{Printable(ns)}': use a repository path such as team or team/mirror", "INVALID_NAMESPACE");
        if (rule.DestinationNamespaceReplaceCount is < -1 or > MaxReplaceCount)
            throw ArcaException.BadRequest($"destination namespace replace count must be between -1 and {MaxReplaceCount}", "INVALID_NAMESPACE_REPLACE_COUNT");
        if (rule.Cron is not null) CronSchedule.Parse(rule.Cron);
        return rule with { Labels = labels, Cron = rule.Cron is null ? null : CronSchedule.Parse(rule.Cron).Expression };
    }

    private static string? Empty(string? s) => string.IsNullOrWhiteSpace(s) ? null : s.Trim();

    private static string Printable(string? s) => s is null ? "" : new string(s.Select(c => char.IsControl(c) ? '?' : c).ToArray());
}

/// <summary>Vetoes deleting an endpoint that a rule uses (kept apart from the rule service, which itself needs the endpoint service).</summary>
public sealed class ReplicationEndpointReferences(IReplicationStore store) : IEndpointReferenceChecker
{
    public async Task<IReadOnlyList<string>> GetReferencesAsync(string endpointName, CancellationToken ct) =>
        (await store.ListRulesAsync(ct)).Where(r => r.Endpoint == endpointName).Select(r => r.Name).ToList();
}
