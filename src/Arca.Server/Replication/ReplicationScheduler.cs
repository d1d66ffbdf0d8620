using Arca.Core.Replication;
using Arca.Core.Storage;

namespace Arca.Server.Replication;

/// <summary>
/// The background service of replication inside <c>arca serve</c>: at start-up it marks executions that a crash left
/// "running" as failed; then, once a second, it starts the cron rules that are due. A scheduled run is skipped (and
/// logged) while the previous execution of the same rule is still running. On shutdown running executions are stopped.
/// With several instances on one database (<see cref="IClusterLockStore"/>), only the instance holding the
/// scheduler lock fires cron rules; another one takes over when it stops or loses its database connection.
/// </summary>
public sealed class ReplicationScheduler(IReplicationStore store, ReplicationRunner runner, ILogger<ReplicationScheduler> logger) : BackgroundService
{
    public static readonly TimeSpan Tick = TimeSpan.FromSeconds(1);
    private const string SchedulerLock = "replication-scheduler", InstancesLock = "instances";
    private readonly Dictionary<string, (string Cron, DateTimeOffset Due)> _due = new();
    private IClusterLease? _lease, _presence;

    public override async Task StartAsync(CancellationToken cancellationToken)
    {
        if (await IsOnlyInstanceAsync(cancellationToken))
        {
            var interrupted = await store.FailInterruptedExecutionsAsync("the server stopped while this execution was running", cancellationToken);
            if (interrupted > 0) logger.LogWarning("marked {Count} interrupted replication execution(s) as failed", interrupted);
        }
        else logger.LogInformation("other instances are running: executions marked running are left to them");
        await base.StartAsync(cancellationToken);
    }

    /// <summary>
    /// Whether no other instance shares the database: only then are executions marked running surely orphaned (another
    /// live instance may be running them). Every instance holds the "instances" lock shared for its lifetime and is
    /// alone when nobody else holds it. Two instances starting together may both see the other: then neither marks
    /// anything, which errs on the safe side.
    /// </summary>
    private async Task<bool> IsOnlyInstanceAsync(CancellationToken ct)
    {
        if (store is not IClusterLockStore locks) return true;
        for (var attempt = 0; _presence is null && attempt < 50; attempt++)
        {
            // Another instance checking whether it is alone holds the lock exclusively for a moment.
            _presence = await locks.TryLockAsync(InstancesLock, shared: true, ct);
            if (_presence is null) await Task.Delay(100, ct);
        }
        return _presence is not null && await _presence.IsSoleHolderAsync(ct);
    }

    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        await base.StopAsync(cancellationToken);
        await runner.StopAllAsync().WaitAsync(cancellationToken);
        if (_lease is not null) await _lease.DisposeAsync();
        if (_presence is not null) await _presence.DisposeAsync();
    }

    /// <summary>Whether this instance fires the cron rules now (always, when the store is not shared).</summary>
    private async Task<bool> LeadsAsync(CancellationToken ct)
    {
        if (store is not IClusterLockStore locks) return true;
        if (_lease is not null)
        {
            if (await _lease.IsHeldAsync(ct)) return true;
            await _lease.DisposeAsync();
            _lease = null;
            logger.LogWarning("lost the replication scheduler lock; another instance fires scheduled rules");
        }
        _lease = await locks.TryLockAsync(SchedulerLock, shared: false, ct);
        if (_lease is not null) logger.LogInformation("this instance fires scheduled replication rules");
        return _lease is not null;
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(Tick);
        do
        {
            try { await RunDueRulesAsync(DateTimeOffset.UtcNow, stoppingToken); }
            catch (Exception e) when (!stoppingToken.IsCancellationRequested)
            {
                logger.LogError(e, "replication scheduler tick failed");
            }
        } while (await WaitAsync(timer, stoppingToken));
    }

    private static async Task<bool> WaitAsync(PeriodicTimer timer, CancellationToken ct)
    {
        try { return await timer.WaitForNextTickAsync(ct); }
        catch (OperationCanceledException) { return false; }
    }

    private async Task RunDueRulesAsync(DateTimeOffset now, CancellationToken ct)
    {
        if (!await LeadsAsync(ct))
        {
            _due.Clear(); // on taking over, schedules start afresh from the next occurrence (no burst of missed runs)
            return;
        }
        var rules = (await store.ListRulesAsync(ct)).Where(r => r.Enabled && r.Cron is not null).ToList();
        foreach (var gone in _due.Keys.Except(rules.Select(r => r.Name)).ToList()) _due.Remove(gone);
        foreach (var rule in rules)
        {
            if (!_due.TryGetValue(rule.Name, out var entry) || entry.Cron != rule.Cron)
            {
                // New or changed schedule: first run at the next occurrence from now.
                if (CronSchedule.Parse(rule.Cron).GetNextOccurrence(now) is { } first) _due[rule.Name] = (rule.Cron!, first);
                else _due.Remove(rule.Name);
                continue;
            }
            if (entry.Due > now) continue;
            _due[rule.Name] = (rule.Cron!, CronSchedule.Parse(rule.Cron).GetNextOccurrence(now) ?? DateTimeOffset.MaxValue);
            if (runner.IsRuleRunning(rule.Name))
            {
                logger.LogInformation("replication rule {Rule}: scheduled run skipped, the previous run is still running", rule.Name);
                continue;
            }
            var execution = await runner.StartAsync(rule, "scheduled", ct);
            logger.LogInformation("replication rule {Rule}: scheduled execution {Id} started", rule.Name, execution.Id);
        }
    }
}
