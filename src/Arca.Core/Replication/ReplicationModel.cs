namespace Arca.Core.Replication;

/// <summary>Harbor-style replication rule: copies OCI repositories from an endpoint into Arca (pull) or out of Arca to it (push).</summary>
public sealed record ReplicationRule
{
    public long Id { get; init; }
    public required string Name { get; init; }
    public required string Endpoint { get; init; }
    /// <summary>"pull" (endpoint → Arca) or "push" (Arca → endpoint).</summary>
    public required string Direction { get; init; }
    /// <summary>Repository name glob (<c>*</c> within a path segment, <c>**</c> across segments).</summary>
    public required string SourceFilter { get; init; }
    public string? TagFilter { get; init; }
    /// <summary>Push only: replicate only from Arca registries carrying all of these labels.</summary>
    public IReadOnlyList<string> Labels { get; init; } = [];
    /// <summary>Pull only: the Arca DOCKER/HELM registry that receives the images.</summary>
    public string? DestinationRegistry { get; init; }
    public string? DestinationNamespace { get; init; }
    /// <summary>Harbor's dest_namespace_replace_count: -1 legacy (namespace/last segment), 0 prefix, N replace first N segments.</summary>
    public int DestinationNamespaceReplaceCount { get; init; } = -1;
    public bool Override { get; init; }
    /// <summary>Six-field cron (seconds first); null for a manual rule.</summary>
    public string? Cron { get; init; }
    public bool Enabled { get; init; } = true;
    public DateTimeOffset CreatedAt { get; init; }
    public DateTimeOffset UpdatedAt { get; init; }
}

public static class ReplicationStatus
{
    public const string Pending = "pending", Running = "running", Succeeded = "succeeded", Failed = "failed", Stopped = "stopped", Skipped = "skipped";
}

public sealed record ReplicationExecution
{
    public long Id { get; init; }
    public required string Rule { get; init; }
    /// <summary>"manual" or "scheduled".</summary>
    public required string Trigger { get; init; }
    public string Status { get; init; } = ReplicationStatus.Running;
    public DateTimeOffset StartedAt { get; init; }
    public DateTimeOffset? EndedAt { get; init; }
    public int Total { get; init; }
    public int Succeeded { get; init; }
    public int Failed { get; init; }
    public int Skipped { get; init; }
    public long Bytes { get; init; }
    /// <summary>Why the execution failed as a whole (e.g. the endpoint could not be listed).</summary>
    public string? Error { get; init; }
}

/// <summary>One tag of one repository copied by an execution.</summary>
public sealed record ReplicationTask
{
    public long Id { get; init; }
    public long ExecutionId { get; init; }
    public required string Source { get; init; }
    public required string Destination { get; init; }
    public string Status { get; init; } = ReplicationStatus.Pending;
    public string? Digest { get; init; }
    public DateTimeOffset? StartedAt { get; init; }
    public DateTimeOffset? EndedAt { get; init; }
    public long Bytes { get; init; }
    public string? Error { get; init; }
}

public interface IReplicationStore
{
    Task<ReplicationRule> CreateRuleAsync(ReplicationRule rule, CancellationToken ct = default);
    Task<ReplicationRule?> GetRuleAsync(string name, CancellationToken ct = default);
    Task<IReadOnlyList<ReplicationRule>> ListRulesAsync(CancellationToken ct = default);
    Task<ReplicationRule> UpdateRuleAsync(ReplicationRule rule, CancellationToken ct = default);
    Task<bool> DeleteRuleAsync(long id, CancellationToken ct = default);

    Task<ReplicationExecution> CreateExecutionAsync(ReplicationExecution execution, CancellationToken ct = default);
    Task<ReplicationExecution?> GetExecutionAsync(long id, CancellationToken ct = default);
    Task<IReadOnlyList<ReplicationExecution>> ListExecutionsAsync(string? rule, int limit, CancellationToken ct = default);
    Task UpdateExecutionAsync(ReplicationExecution execution, CancellationToken ct = default);
    /// <summary>Marks executions left running by a previous process as failed; returns how many.</summary>
    Task<int> FailInterruptedExecutionsAsync(string reason, CancellationToken ct = default);

    Task<IReadOnlyList<ReplicationTask>> CreateTasksAsync(long executionId, IReadOnlyList<ReplicationTask> tasks, CancellationToken ct = default);
    Task UpdateTaskAsync(ReplicationTask task, CancellationToken ct = default);
    Task<IReadOnlyList<ReplicationTask>> ListTasksAsync(long executionId, CancellationToken ct = default);
}
