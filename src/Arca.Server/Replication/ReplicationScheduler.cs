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
    private const string SchedulerLock = "replication-scheduler";
    private readonly Dictionary<string, (string Cron, DateTimeOffset Due)> _due = new();
    private IClusterLease? _lease;

    public override async Task StartAsync(CancellationToken cancellationToken)
    {
        var interrupted = await store.FailInterruptedExecutionsAsync("the server stopped while this execution was running", cancellationToken);
        if (interrupted > 0) logger.LogWarning("marked {Count} interrupted replication execution(s) as failed", interrupted);
        await base.StartAsync(cancellationToken);
    }

    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        await base.StopAsync(cancellationToken);
        await runner.StopAllAsync().WaitAsync(cancellationToken);
        if (_lease is not null) await _lease.DisposeAsync();
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
        _lease = await locks.TryLockAsync(SchedulerLock, ct);
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
