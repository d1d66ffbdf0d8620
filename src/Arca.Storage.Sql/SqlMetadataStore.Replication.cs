using System.Data.Common;
using System.Text.Json;
using Arca.Core.Model;
using Arca.Core.Replication;
using Dapper;

namespace Arca.Storage.Sql;

public abstract partial class SqlMetadataStore : IReplicationStore
{
    private sealed class RuleRow
    {
        public long Id { get; set; }
        public string Name { get; set; } = "";
        public string Endpoint { get; set; } = "";
        public string Direction { get; set; } = "";
        public string SourceFilter { get; set; } = "";
        public string? TagFilter { get; set; }
        public string Labels { get; set; } = "[]";
        public string? DestinationRegistry { get; set; }
        public string? DestinationNamespace { get; set; }
        public long DestinationNamespaceReplaceCount { get; set; }
        public bool Override { get; set; }
        public string? Cron { get; set; }
        public bool Enabled { get; set; }
        public DateTimeOffset CreatedAt { get; set; }
        public DateTimeOffset UpdatedAt { get; set; }

        public ReplicationRule ToModel() => new()
        {
            Id = Id, Name = Name, Endpoint = Endpoint, Direction = Direction, SourceFilter = SourceFilter, TagFilter = TagFilter,
            Labels = JsonSerializer.Deserialize<List<string>>(Labels) ?? [], DestinationRegistry = DestinationRegistry,
            DestinationNamespace = DestinationNamespace, DestinationNamespaceReplaceCount = (int)DestinationNamespaceReplaceCount,
            Override = Override, Cron = Cron, Enabled = Enabled, CreatedAt = CreatedAt, UpdatedAt = UpdatedAt,
        };
    }

    private sealed class ExecutionRow
    {
        public long Id { get; set; }
        public string Rule { get; set; } = "";
        public string Trigger { get; set; } = "";
        public string Status { get; set; } = "";
        public DateTimeOffset StartedAt { get; set; }
        public DateTimeOffset? EndedAt { get; set; }
        public long Total { get; set; }
        public long Succeeded { get; set; }
        public long Failed { get; set; }
        public long Skipped { get; set; }
        public long Bytes { get; set; }
        public string? Error { get; set; }

        public ReplicationExecution ToModel() => new()
        {
            Id = Id, Rule = Rule, Trigger = Trigger, Status = Status, StartedAt = StartedAt, EndedAt = EndedAt, Total = (int)Total,
            Succeeded = (int)Succeeded, Failed = (int)Failed, Skipped = (int)Skipped, Bytes = Bytes, Error = Error,
        };
    }

    private sealed class TaskRow
    {
        public long Id { get; set; }
        public long ExecutionId { get; set; }
        public string Source { get; set; } = "";
        public string Destination { get; set; } = "";
        public string Status { get; set; } = "";
        public string? Digest { get; set; }
        public DateTimeOffset? StartedAt { get; set; }
        public DateTimeOffset? EndedAt { get; set; }
        public long Bytes { get; set; }
        public string? Error { get; set; }

        public ReplicationTask ToModel() => new()
        {
            Id = Id, ExecutionId = ExecutionId, Source = Source, Destination = Destination, Status = Status, Digest = Digest,
            StartedAt = StartedAt, EndedAt = EndedAt, Bytes = Bytes, Error = Error,
        };
    }

    /// <summary>Every column of replication_rules, labels (JSON) read as text.</summary>
    private string RuleSelect => $"""
        SELECT id, name, endpoint, direction, source_filter, tag_filter, labels{Dialect.TextCast} AS labels, destination_registry,
            destination_namespace, destination_namespace_replace_count, override, cron, enabled, created_at, updated_at
        FROM replication_rules
        """;

    private object RuleParameters(ReplicationRule r) => new
    {
        r.Id, r.Name, r.Endpoint, r.Direction, r.SourceFilter, r.TagFilter, Labels = JsonSerializer.Serialize(r.Labels),
        r.DestinationRegistry, r.DestinationNamespace, r.DestinationNamespaceReplaceCount, r.Override, r.Cron,
        r.Enabled, now = Now(),
    };

    public async Task<ReplicationRule> CreateRuleAsync(ReplicationRule rule, CancellationToken ct = default)
    {
        await using var c = await OpenAsync(ct);
        try
        {
            var id = await c.ExecuteScalarAsync<long>($"""
                INSERT INTO replication_rules(name, endpoint, direction, source_filter, tag_filter, labels, destination_registry,
                    destination_namespace, destination_namespace_replace_count, override, cron, enabled, created_at, updated_at)
                VALUES (@Name, @Endpoint, @Direction, @SourceFilter, @TagFilter, @Labels{Dialect.JsonbCast}, @DestinationRegistry, @DestinationNamespace,
                    @DestinationNamespaceReplaceCount, @Override, @Cron, @Enabled, @now, @now)
                RETURNING id
                """, RuleParameters(rule));
            return (await c.QuerySingleAsync<RuleRow>($"{RuleSelect} WHERE id = @id", new { id })).ToModel();
        }
        catch (DbException ex) when (Dialect.IsUniqueViolation(ex))
        {
            throw ArcaException.Conflict($"replication rule '{rule.Name}' already exists", "ALREADY_EXISTS");
        }
    }

    public async Task<ReplicationRule?> GetRuleAsync(string name, CancellationToken ct = default)
    {
        await using var c = await OpenAsync(ct);
        return (await c.QuerySingleOrDefaultAsync<RuleRow>($"{RuleSelect} WHERE name = @name", new { name }))?.ToModel();
    }

    public async Task<IReadOnlyList<ReplicationRule>> ListRulesAsync(CancellationToken ct = default)
    {
        await using var c = await OpenAsync(ct);
        return (await c.QueryAsync<RuleRow>($"{RuleSelect} ORDER BY name{Dialect.BinaryCollation}")).Select(r => r.ToModel()).ToList();
    }

    public async Task<ReplicationRule> UpdateRuleAsync(ReplicationRule rule, CancellationToken ct = default)
    {
        await using var c = await OpenAsync(ct);
        await c.ExecuteAsync($"""
            UPDATE replication_rules SET endpoint = @Endpoint, direction = @Direction, source_filter = @SourceFilter,
                tag_filter = @TagFilter, labels = @Labels{Dialect.JsonbCast}, destination_registry = @DestinationRegistry,
                destination_namespace = @DestinationNamespace, destination_namespace_replace_count = @DestinationNamespaceReplaceCount,
                override = @Override, cron = @Cron, enabled = @Enabled, updated_at = @now
            WHERE id = @Id
            """, RuleParameters(rule));
        return (await c.QuerySingleOrDefaultAsync<RuleRow>($"{RuleSelect} WHERE id = @Id", new { rule.Id }))?.ToModel()
            ?? throw ArcaException.NotFound($"replication rule '{rule.Name}' not found", "RULE_NOT_FOUND");
    }

    public async Task<bool> DeleteRuleAsync(long id, CancellationToken ct = default)
    {
        await using var c = await OpenAsync(ct);
        return await c.ExecuteAsync("DELETE FROM replication_rules WHERE id = @id", new { id }) > 0;
    }

    private object ExecutionParameters(ReplicationExecution e) => new
    {
        e.Id, e.Rule, e.Trigger, e.Status, StartedAt = Dialect.Timestamp(e.StartedAt), EndedAt = Dialect.Timestamp(e.EndedAt),
        e.Total, e.Succeeded, e.Failed, e.Skipped, e.Bytes, e.Error,
    };

    public async Task<ReplicationExecution> CreateExecutionAsync(ReplicationExecution execution, CancellationToken ct = default)
    {
        await using var c = await OpenAsync(ct);
        var id = await c.ExecuteScalarAsync<long>("""
            INSERT INTO replication_executions(rule, trigger, status, started_at, ended_at, total, succeeded, failed, skipped, bytes, error)
            VALUES (@Rule, @Trigger, @Status, @StartedAt, @EndedAt, @Total, @Succeeded, @Failed, @Skipped, @Bytes, @Error)
            RETURNING id
            """, ExecutionParameters(execution));
        return execution with { Id = id };
    }

    public async Task<ReplicationExecution?> GetExecutionAsync(long id, CancellationToken ct = default)
    {
        await using var c = await OpenAsync(ct);
        return (await c.QuerySingleOrDefaultAsync<ExecutionRow>("SELECT * FROM replication_executions WHERE id = @id", new { id }))?.ToModel();
    }

    public async Task<IReadOnlyList<ReplicationExecution>> ListExecutionsAsync(string? rule, int limit, CancellationToken ct = default)
    {
        await using var c = await OpenAsync(ct);
        return (await c.QueryAsync<ExecutionRow>(
                "SELECT * FROM replication_executions WHERE (@rule IS NULL OR rule = @rule) ORDER BY id DESC LIMIT @limit", new { rule, limit }))
            .Select(r => r.ToModel()).ToList();
    }

    public async Task UpdateExecutionAsync(ReplicationExecution execution, CancellationToken ct = default)
    {
        await using var c = await OpenAsync(ct);
        await c.ExecuteAsync("""
            UPDATE replication_executions SET status = @Status, ended_at = @EndedAt, total = @Total, succeeded = @Succeeded,
                failed = @Failed, skipped = @Skipped, bytes = @Bytes, error = @Error
            WHERE id = @Id
            """, ExecutionParameters(execution));
    }

    public async Task<int> FailInterruptedExecutionsAsync(string reason, CancellationToken ct = default)
    {
        await using var c = await OpenAsync(ct);
        await using var tx = await c.BeginTransactionAsync(ct);
        var now = Now();
        await c.ExecuteAsync("""
            UPDATE replication_tasks SET status = 'failed', ended_at = @now, error = @reason
            WHERE status IN ('pending', 'running') AND execution_id IN (SELECT id FROM replication_executions WHERE status = 'running')
            """, new { now, reason }, tx);
        var n = await c.ExecuteAsync(
            "UPDATE replication_executions SET status = 'failed', ended_at = @now, error = @reason WHERE status = 'running'", new { now, reason }, tx);
        await tx.CommitAsync(ct);
        return n;
    }

    public async Task<IReadOnlyList<ReplicationTask>> CreateTasksAsync(long executionId, IReadOnlyList<ReplicationTask> tasks, CancellationToken ct = default)
    {
        await using var c = await OpenAsync(ct);
        await using var tx = await c.BeginTransactionAsync(ct);
        var created = new List<ReplicationTask>(tasks.Count);
        foreach (var t in tasks)
        {
            var id = await c.ExecuteScalarAsync<long>("""
                INSERT INTO replication_tasks(execution_id, source, destination, status, bytes) VALUES (@executionId, @Source, @Destination, @Status, 0)
                RETURNING id
                """, new { executionId, t.Source, t.Destination, t.Status }, tx);
            created.Add(t with { Id = id, ExecutionId = executionId });
        }
        await tx.CommitAsync(ct);
        return created;
    }

    public async Task UpdateTaskAsync(ReplicationTask task, CancellationToken ct = default)
    {
        await using var c = await OpenAsync(ct);
        await c.ExecuteAsync("""
            UPDATE replication_tasks SET status = @Status, digest = @Digest, started_at = @StartedAt, ended_at = @EndedAt, bytes = @Bytes, error = @Error
            WHERE id = @Id
            """, new
        {
            task.Id, task.Status, task.Digest, StartedAt = Dialect.Timestamp(task.StartedAt),
            EndedAt = Dialect.Timestamp(task.EndedAt), task.Bytes, task.Error,
        });
    }

    public async Task<IReadOnlyList<ReplicationTask>> ListTasksAsync(long executionId, CancellationToken ct = default)
    {
        await using var c = await OpenAsync(ct);
        return (await c.QueryAsync<TaskRow>("SELECT * FROM replication_tasks WHERE execution_id = @executionId ORDER BY id", new { executionId }))
            .Select(r => r.ToModel()).ToList();
    }
}
