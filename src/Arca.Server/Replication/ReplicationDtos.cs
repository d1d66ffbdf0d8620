using Arca.Core.Replication;

namespace Arca.Server.Replication;

public sealed record CreateReplicationRuleRequest(
    string? Name, string? Endpoint, string? Direction, string? SourceFilter, string? TagFilter, IReadOnlyList<string>? Labels,
    string? DestinationRegistry, string? DestinationNamespace, int? DestinationNamespaceReplaceCount, bool? Override,
    string? Cron, bool? Enabled);

/// <summary>PATCH body: absent fields keep their value; an empty string clears an optional text field (cron "" = manual).</summary>
public sealed record UpdateReplicationRuleRequest(
    string? Endpoint, string? Direction, string? SourceFilter, string? TagFilter, IReadOnlyList<string>? Labels,
    string? DestinationRegistry, string? DestinationNamespace, int? DestinationNamespaceReplaceCount, bool? Override,
    string? Cron, bool? Enabled);

public sealed record ReplicationRuleDto(
    string Name, string Endpoint, string Direction, string SourceFilter, string? TagFilter, IReadOnlyList<string> Labels,
    string? DestinationRegistry, string? DestinationNamespace, int DestinationNamespaceReplaceCount, bool Override,
    string Trigger, string? Cron, bool Enabled, DateTimeOffset? NextRun, DateTimeOffset CreatedAt, DateTimeOffset UpdatedAt)
{
    public static ReplicationRuleDto From(ReplicationRule r) => new(
        r.Name, r.Endpoint, r.Direction, r.SourceFilter, r.TagFilter, r.Labels, r.DestinationRegistry, r.DestinationNamespace,
        r.DestinationNamespaceReplaceCount, r.Override, r.Cron is null ? "manual" : "scheduled", r.Cron, r.Enabled,
        r.Cron is not null && r.Enabled ? CronSchedule.Parse(r.Cron).GetNextOccurrence(DateTimeOffset.UtcNow) : null,
        r.CreatedAt, r.UpdatedAt);
}

public sealed record ReplicationTaskDto(
    long Id, string Source, string Destination, string Status, string? Digest, DateTimeOffset? StartedAt, DateTimeOffset? EndedAt,
    long Bytes, string? Error)
{
    public static ReplicationTaskDto From(ReplicationTask t) =>
        new(t.Id, t.Source, t.Destination, t.Status, t.Digest, t.StartedAt, t.EndedAt, t.Bytes, t.Error);
}

public sealed record ReplicationExecutionDto(
    long Id, string Rule, string Trigger, string Status, DateTimeOffset StartedAt, DateTimeOffset? EndedAt, int Total, int Succeeded,
    int Failed, int Skipped, long Bytes, string? Error, IReadOnlyList<ReplicationTaskDto>? Tasks)
{
    public static ReplicationExecutionDto From(ReplicationExecution e, IReadOnlyList<ReplicationTask>? tasks = null) =>
        new(e.Id, e.Rule, e.Trigger, e.Status, e.StartedAt, e.EndedAt, e.Total, e.Succeeded, e.Failed, e.Skipped, e.Bytes, e.Error,
            tasks?.Select(ReplicationTaskDto.From).ToList());
}
