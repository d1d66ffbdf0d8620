using Arca.Core.Model;
using Arca.Core.Replication;
using Arca.Core.Storage;
using Arca.Storage.Sqlite;
using Arca.Tests.Infrastructure;

namespace Arca.Tests.Storage;

/// <summary>The behaviour every <see cref="IReplicationStore"/> must have; subclass it per storage engine.</summary>
public abstract class ReplicationStoreContract : IAsyncLifetime
{
    protected IReplicationStore Store { get; private set; } = null!;
    protected abstract Task<IMetadataStore> CreateStoreAsync();
    protected virtual Task CleanupAsync() => Task.CompletedTask;

    public async Task InitializeAsync()
    {
        var store = await CreateStoreAsync();
        await store.MigrateAsync();
        Store = Assert.IsAssignableFrom<IReplicationStore>(store);
    }

    public Task DisposeAsync() => CleanupAsync();

    private static ReplicationRule Rule(string name) => new()
    {
        Name = name, Endpoint = "hub", Direction = "pull", SourceFilter = "library/**", TagFilter = "v*", Labels = ["prod", "eu"],
        DestinationRegistry = "mirror", DestinationNamespace = "ns", DestinationNamespaceReplaceCount = 1, Override = true,
        Cron = "0 0 * * * *", Enabled = false,
    };

    [Fact]
    public async Task Rules_are_unique_round_trip_update_and_delete()
    {
        var created = await Store.CreateRuleAsync(Rule("nightly"));
        Assert.True(created.Id > 0);
        Assert.Equal(["prod", "eu"], created.Labels);
        Assert.True(created.Override);
        Assert.False(created.Enabled);
        Assert.Equal(1, created.DestinationNamespaceReplaceCount);
        Assert.Equal("0 0 * * * *", created.Cron);
        Assert.True(DateTimeOffset.UtcNow - created.CreatedAt < TimeSpan.FromMinutes(5));

        var duplicate = await Assert.ThrowsAsync<ArcaException>(() => Store.CreateRuleAsync(Rule("nightly")));
        Assert.Equal(409, duplicate.Status);

        await Store.CreateRuleAsync(Rule("Alpha") with { Labels = [] });
        await Store.CreateRuleAsync(Rule("beta"));
        Assert.Equal(["Alpha", "beta", "nightly"], (await Store.ListRulesAsync()).Select(r => r.Name)); // byte order

        var updated = await Store.UpdateRuleAsync(created with { Enabled = true, Override = false, Labels = ["x"], Cron = null, TagFilter = null });
        Assert.True(updated.Enabled);
        Assert.False(updated.Override);
        Assert.Equal(["x"], updated.Labels);
        Assert.Null(updated.Cron);
        var reread = (await Store.GetRuleAsync("nightly"))!;
        Assert.Equal((updated.Id, true, false, (string?)null, (string?)null), (reread.Id, reread.Enabled, reread.Override, reread.Cron, reread.TagFilter));
        Assert.Equal(["x"], reread.Labels);

        Assert.True(await Store.DeleteRuleAsync(created.Id));
        Assert.False(await Store.DeleteRuleAsync(created.Id));
        Assert.Null(await Store.GetRuleAsync("nightly"));
        var missing = await Assert.ThrowsAsync<ArcaException>(() => Store.UpdateRuleAsync(created));
        Assert.Equal(404, missing.Status);
    }

    [Fact]
    public async Task Executions_and_tasks_keep_their_history_and_interrupted_runs_fail()
    {
        var started = new DateTimeOffset(2026, 1, 2, 3, 4, 5, 123, TimeSpan.Zero);
        var first = await Store.CreateExecutionAsync(new ReplicationExecution { Rule = "r1", Trigger = "manual", StartedAt = started });
        var second = await Store.CreateExecutionAsync(new ReplicationExecution { Rule = "r2", Trigger = "scheduled", StartedAt = started.AddMinutes(1) });
        var third = await Store.CreateExecutionAsync(new ReplicationExecution { Rule = "r1", Trigger = "manual", StartedAt = started.AddMinutes(2) });
        Assert.True(first.Id > 0 && second.Id > first.Id && third.Id > second.Id);

        var tasks = await Store.CreateTasksAsync(first.Id, [
            new ReplicationTask { Source = "hub/library/a:v1", Destination = "mirror/a:v1" },
            new ReplicationTask { Source = "hub/library/b:v1", Destination = "mirror/b:v1" },
        ]);
        Assert.All(tasks, t => Assert.Equal(first.Id, t.ExecutionId));
        var done = tasks[0] with { Status = ReplicationStatus.Succeeded, Digest = "sha256:" + new string('a', 64), StartedAt = started, EndedAt = started.AddSeconds(3), Bytes = 1234 };
        await Store.UpdateTaskAsync(done);
        await Store.UpdateExecutionAsync(third with { Status = ReplicationStatus.Succeeded, EndedAt = started.AddMinutes(3), Total = 2, Succeeded = 1, Skipped = 1, Bytes = 99 });

        var read = await Store.ListTasksAsync(first.Id);
        Assert.Equal(tasks.Select(t => t.Id), read.Select(t => t.Id));
        Assert.Equal(done, read[0]);
        Assert.Equal([third.Id, first.Id], (await Store.ListExecutionsAsync("r1", 10)).Select(e => e.Id));
        Assert.Equal([third.Id], (await Store.ListExecutionsAsync(null, 1)).Select(e => e.Id));
        var finished = (await Store.GetExecutionAsync(third.Id))!;
        Assert.Equal((ReplicationStatus.Succeeded, 2, 1, 1, 99L, started.AddMinutes(3)), (finished.Status, finished.Total, finished.Succeeded, finished.Skipped, finished.Bytes, finished.EndedAt!.Value));
        Assert.Equal(started, (await Store.GetExecutionAsync(first.Id))!.StartedAt);

        // A restart finds first and second still running: both fail, and so do their unfinished tasks.
        Assert.Equal(2, await Store.FailInterruptedExecutionsAsync("server restarted"));
        var failed = (await Store.GetExecutionAsync(first.Id))!;
        Assert.Equal((ReplicationStatus.Failed, "server restarted"), (failed.Status, failed.Error));
        Assert.NotNull(failed.EndedAt);
        var afterRestart = await Store.ListTasksAsync(first.Id);
        Assert.Equal(ReplicationStatus.Succeeded, afterRestart[0].Status);
        Assert.Equal((ReplicationStatus.Failed, "server restarted"), (afterRestart[1].Status, afterRestart[1].Error));
        Assert.Equal(ReplicationStatus.Succeeded, (await Store.GetExecutionAsync(third.Id))!.Status);
        Assert.Null(await Store.GetExecutionAsync(third.Id + 100));
    }
}

public sealed class SqliteReplicationStoreTests : ReplicationStoreContract
{
    private readonly string _dir = TempDir.Create("sqlite-replication");
    protected override Task<IMetadataStore> CreateStoreAsync() => Task.FromResult<IMetadataStore>(new SqliteMetadataStore(Path.Combine(_dir, "arca.db")));
    protected override Task CleanupAsync()
    {
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        TempDir.TryDelete(_dir);
        return Task.CompletedTask;
    }
}
