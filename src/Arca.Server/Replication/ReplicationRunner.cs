using System.Collections.Concurrent;
using Arca.Client.Oci;
using Arca.Core.Auth;
using Arca.Core.Endpoints;
using Arca.Core.Model;
using Arca.Core.Replication;
using Arca.Core.Storage;
using Arca.Server.Endpoints;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;

namespace Arca.Server.Replication;

/// <summary>
/// Runs replication executions in the background of <c>arca serve</c>. An execution lists the source (the endpoint's
/// catalog for pull, Arca's DOCKER/HELM registries for push), makes one task per repository+tag that passes the filters,
/// and copies each with the shared <see cref="ImageCopier"/> (skip by digest, blob skip/mount, referrers). Arca's own side
/// is reached through its /v2 API over loopback with an in-memory credential (<see cref="ReplicationCredentials"/>),
/// so every write goes through the same OCI code path, checks and registry policies as any client's push.
/// </summary>
public sealed class ReplicationRunner(
    IReplicationStore store, IMetadataStore metadata, EndpointService endpoints, ReplicationCredentials credentials,
    IServer server, ILogger<ReplicationRunner> logger) : IDisposable
{
    private const int TaskConcurrency = 2;
    private readonly ConcurrentDictionary<long, Running> _running = new();
    private readonly CancellationTokenSource _shutdown = new();

    private sealed record Running(string Rule, CancellationTokenSource Cancel, Task Completion);

    private sealed record PlannedTask(ReplicationTask Row, ImageReference Source, ImageReference Destination);

    public bool IsRuleRunning(string rule) => _running.Values.Any(r => r.Rule == rule);

    /// <summary>Starts an execution of the rule; returns it at once (status running).</summary>
    public async Task<ReplicationExecution> StartAsync(ReplicationRule rule, string trigger, CancellationToken ct)
    {
        var execution = await store.CreateExecutionAsync(new ReplicationExecution
        {
            Rule = rule.Name, Trigger = trigger, Status = ReplicationStatus.Running, StartedAt = DateTimeOffset.UtcNow,
        }, ct);
        var cancel = CancellationTokenSource.CreateLinkedTokenSource(_shutdown.Token);
        var gate = new TaskCompletionSource();
        var completion = Task.Run(async () =>
        {
            await gate.Task;
            try { await ExecuteAsync(rule, execution, cancel.Token); }
            catch (Exception e) { logger.LogError(e, "replication execution {Id} crashed", execution.Id); }
            finally { _running.TryRemove(execution.Id, out _); cancel.Dispose(); }
        }, CancellationToken.None);
        _running[execution.Id] = new Running(rule.Name, cancel, completion);
        gate.SetResult();
        return execution;
    }

    /// <summary>Cancels a running execution (its in-flight tasks end as stopped). False when it is not running.</summary>
    public bool Stop(long executionId)
    {
        if (!_running.TryGetValue(executionId, out var running)) return false;
        try { running.Cancel.Cancel(); } catch (ObjectDisposedException) { }
        return true;
    }

    /// <summary>Cancels every execution and waits for them to record their state (server shutdown).</summary>
    public async Task StopAllAsync()
    {
        await _shutdown.CancelAsync();
        await Task.WhenAll(_running.Values.Select(r => r.Completion));
    }

    private async Task ExecuteAsync(ReplicationRule rule, ReplicationExecution execution, CancellationToken ct)
    {
        string? secret = null;
        OciRegistryClient? remote = null, local = null;
        var counters = new Counters();
        try
        {
            var endpoint = await endpoints.RequireAsync(rule.Endpoint, ct);
            remote = CreateRemoteClient(endpoint);
            var pull = rule.Direction == ReplicationRuleService.Pull;
            long? destinationRegistryId = null;
            if (pull)
                destinationRegistryId = (await metadata.GetRegistryAsync(rule.DestinationRegistry!, ct)
                    ?? throw new InvalidOperationException($"destination registry '{rule.DestinationRegistry}' no longer exists")).Id;
            // Least privilege: write on the one destination registry for pull, read for push.
            secret = credentials.Issue(rule.Name, pull ? TokenScope.Write : TokenScope.Read, destinationRegistryId);
            local = new OciRegistryClient(LoopbackRegistry(), new OciClientOptions
            {
                Insecure = true, Credentials = new StaticCredentialProvider(new RegistryCredential(null, null, BearerToken: secret)),
            });

            var planned = pull ? await PlanPullAsync(rule, remote, local, ct) : await PlanPushAsync(rule, local, remote, ct);
            var rows = await store.CreateTasksAsync(execution.Id, planned.Select(p => p.Row).ToList(), ct);
            planned = planned.Zip(rows, (p, row) => p with { Row = row }).ToList();
            counters.Total = planned.Count;
            await store.UpdateExecutionAsync(counters.Apply(execution), ct);

            var (source, destination) = pull ? (remote, local) : (local, remote);
            await Parallel.ForEachAsync(planned, new ParallelOptions { MaxDegreeOfParallelism = TaskConcurrency, CancellationToken = CancellationToken.None },
                async (task, _) => await RunTaskAsync(rule, execution, task, source, destination, counters, ct));

            var status = ct.IsCancellationRequested ? ReplicationStatus.Stopped
                : counters.Failed > 0 ? ReplicationStatus.Failed : ReplicationStatus.Succeeded;
            await FinishAsync(counters.Apply(execution) with { Status = status }, null);
        }
        catch (Exception e) when (ct.IsCancellationRequested && e is OperationCanceledException or OciException or HttpRequestException)
        {
            await FinishAsync(counters.Apply(execution) with { Status = ReplicationStatus.Stopped }, _shutdown.IsCancellationRequested ? "the server shut down" : null);
        }
        catch (Exception e)
        {
            logger.LogWarning("replication execution {Id} of rule {Rule} failed: {Error}", execution.Id, rule.Name, e.Message);
            await FinishAsync(counters.Apply(execution) with { Status = ReplicationStatus.Failed }, e.Message);
        }
        finally
        {
            if (secret is not null) credentials.Revoke(secret);
            remote?.Dispose();
            local?.Dispose();
        }
    }

    private async Task FinishAsync(ReplicationExecution execution, string? error)
    {
        // Stop any tasks that never started (cancelled before their turn).
        foreach (var t in await store.ListTasksAsync(execution.Id, CancellationToken.None))
            if (t.Status is ReplicationStatus.Pending or ReplicationStatus.Running)
                await store.UpdateTaskAsync(t with { Status = ReplicationStatus.Stopped, EndedAt = DateTimeOffset.UtcNow }, CancellationToken.None);
        await store.UpdateExecutionAsync(execution with { EndedAt = DateTimeOffset.UtcNow, Error = error }, CancellationToken.None);
    }

    private async Task RunTaskAsync(ReplicationRule rule, ReplicationExecution execution, PlannedTask planned,
        OciRegistryClient source, OciRegistryClient destination, Counters counters, CancellationToken ct)
    {
        if (ct.IsCancellationRequested) return; // FinishAsync marks it stopped
        var row = planned.Row with { Status = ReplicationStatus.Running, StartedAt = DateTimeOffset.UtcNow };
        await store.UpdateTaskAsync(row, CancellationToken.None);
        var copier = new ImageCopier(source, destination, new ImageCopyOptions { Overwrite = rule.Override });
        try
        {
            var summary = await copier.CopyAsync(planned.Source, planned.Destination, ct);
            var skipped = summary.ManifestsCopied == 0;
            row = row with
            {
                Status = skipped ? ReplicationStatus.Skipped : ReplicationStatus.Succeeded, Bytes = summary.BytesCopied,
                Digest = summary.Images.FirstOrDefault()?.Digest,
            };
            counters.Done(row.Status, summary.BytesCopied);
        }
        catch (Exception) when (ct.IsCancellationRequested)
        {
            row = row with { Status = ReplicationStatus.Stopped, Bytes = copier.Summary.BytesCopied, Error = "stopped" };
            counters.Done(row.Status, copier.Summary.BytesCopied);
        }
        catch (Exception e)
        {
            row = row with { Status = ReplicationStatus.Failed, Bytes = copier.Summary.BytesCopied, Error = e.Message };
            counters.Done(row.Status, copier.Summary.BytesCopied);
        }
        await store.UpdateTaskAsync(row with { EndedAt = DateTimeOffset.UtcNow }, CancellationToken.None);
        await store.UpdateExecutionAsync(counters.Apply(execution), CancellationToken.None);
    }

    private static async Task<List<PlannedTask>> PlanPullAsync(ReplicationRule rule, OciRegistryClient remote, OciRegistryClient local, CancellationToken ct)
    {
        var repositoryFilter = ReplicationPatterns.Compile(rule.SourceFilter);
        var repositories = new List<string>();
        if (ReplicationPatterns.HasWildcards(rule.SourceFilter))
        {
            await foreach (var repository in remote.CatalogAsync(ct: ct))
                if (repositoryFilter.IsMatch(repository)) repositories.Add(repository);
        }
        else repositories.Add(rule.SourceFilter); // a plain name needs no catalog (Docker Hub has none)
        var planned = new List<PlannedTask>();
        foreach (var repository in repositories.Order(StringComparer.Ordinal))
        {
            var target = $"{rule.DestinationRegistry}/{ReplicationPatterns.ReplaceNamespace(repository, rule.DestinationNamespace, rule.DestinationNamespaceReplaceCount)}";
            foreach (var tag in await MatchingTagsAsync(remote, repository, rule.TagFilter, ct))
                planned.Add(Plan(remote, repository, local, target, tag));
        }
        return planned;
    }

    private async Task<List<PlannedTask>> PlanPushAsync(ReplicationRule rule, OciRegistryClient local, OciRegistryClient remote, CancellationToken ct)
    {
        var repositoryFilter = ReplicationPatterns.Compile(rule.SourceFilter);
        var planned = new List<PlannedTask>();
        foreach (var type in new[] { PackageTypes.Docker, PackageTypes.Helm })
        {
            for (var page = 1; ; page++)
            {
                var registries = await metadata.ListRegistriesAsync(new RegistryQuery(type) { Page = new PageRequest(page, PageRequest.MaxPageSize) }, ct);
                foreach (var registry in registries.Items.Where(r => rule.Labels.All(r.Labels.Contains)))
                    for (var packagePage = 1; ; packagePage++)
                    {
                        var packages = await metadata.ListPackagesAsync(registry.Id, null, new PageRequest(packagePage, PageRequest.MaxPageSize), ct);
                        foreach (var package in packages.Items)
                        {
                            var repository = $"{registry.Name}/{package.Name}";
                            if (!repositoryFilter.IsMatch(repository)) continue;
                            var target = ReplicationPatterns.ReplaceNamespace(repository, rule.DestinationNamespace, rule.DestinationNamespaceReplaceCount);
                            foreach (var tag in await MatchingTagsAsync(local, repository, rule.TagFilter, ct))
                                planned.Add(Plan(local, repository, remote, target, tag));
                        }
                        if (packages.Items.Count < PageRequest.MaxPageSize) break;
                    }
                if (registries.Items.Count < PageRequest.MaxPageSize) break;
            }
        }
        return planned;
    }

    private static async Task<List<string>> MatchingTagsAsync(OciRegistryClient client, string repository, string? tagFilter, CancellationToken ct)
    {
        var filter = tagFilter is null ? null : ReplicationPatterns.Compile(tagFilter);
        var tags = new List<string>();
        await foreach (var tag in client.ListTagsAsync(repository, ct: ct))
            if (!ImageCopier.IsReferrersFallbackTag(tag) && (filter is null || filter.IsMatch(tag))) tags.Add(tag);
        tags.Sort(StringComparer.Ordinal);
        return tags;
    }

    private static PlannedTask Plan(OciRegistryClient sourceClient, string sourceRepository, OciRegistryClient destinationClient, string destinationRepository, string tag)
    {
        var source = new ImageReference(sourceClient.Registry, sourceRepository, tag, null);
        var destination = new ImageReference(destinationClient.Registry, destinationRepository, tag, null);
        return new PlannedTask(new ReplicationTask { Source = $"{sourceRepository}:{tag}", Destination = $"{destinationRepository}:{tag}" }, source, destination);
    }

    /// <summary>An OCI client for the endpoint with its stored credentials (ECR keys become an authorization token).</summary>
    private OciRegistryClient CreateRemoteClient(RemoteEndpoint endpoint)
    {
        var url = new Uri(endpoint.Url);
        var registry = endpoint.Provider == "docker-hub" ? ImageReference.DockerHubName : url.Authority;
        var clear = endpoints.GetCredentials(endpoint);
        IRegistryCredentialProvider? provider = null;
        if (clear is not null)
            provider = endpoint.Provider == "ecr" && clear.Username is { } key
                ? new EcrCredentialProvider(new EcrAuthorizationClient(new HttpClient()), new AwsCredentials(key, clear.Password))
                : new StaticCredentialProvider(new RegistryCredential(clear.Username ?? "token", clear.Password));
        return new OciRegistryClient(registry, new OciClientOptions
        {
            // Plain HTTP only for an http:// endpoint URL; unverified TLS only when the endpoint says so.
            Insecure = url.Scheme == Uri.UriSchemeHttp || !endpoint.VerifyRemoteCert, Credentials = provider,
        });
    }

    /// <summary>host:port of this server's own listener, as reached over loopback.</summary>
    private string LoopbackRegistry()
    {
        var addresses = server.Features.Get<IServerAddressesFeature>()?.Addresses ?? [];
        foreach (var address in addresses.OrderBy(a => a.StartsWith("https", StringComparison.OrdinalIgnoreCase) ? 1 : 0))
        {
            var normalized = address.Replace("://+", "://localhost").Replace("://*", "://localhost");
            if (!Uri.TryCreate(normalized, UriKind.Absolute, out var uri)) continue;
            var host = uri.Host is "0.0.0.0" or "localhost" ? "127.0.0.1" : uri.Host is "[::]" or "::" ? "[::1]" : uri.HostNameType == UriHostNameType.IPv6 ? $"[{uri.Host.Trim('[', ']')}]" : uri.Host;
            return $"{host}:{uri.Port}";
        }
        throw new InvalidOperationException("the server has no listening address to replicate through");
    }

    public void Dispose() => _shutdown.Dispose();

    private sealed class Counters
    {
        private readonly Lock _lock = new();
        public int Total;
        public int Succeeded, Failed, Skipped;
        public long Bytes;

        public void Done(string status, long bytes)
        {
            lock (_lock)
            {
                Bytes += bytes;
                switch (status)
                {
                    case ReplicationStatus.Succeeded: Succeeded++; break;
                    case ReplicationStatus.Skipped: Skipped++; break;
                    case ReplicationStatus.Failed: Failed++; break;
                }
            }
        }

        public ReplicationExecution Apply(ReplicationExecution e)
        {
            lock (_lock) return e with { Total = Total, Succeeded = Succeeded, Failed = Failed, Skipped = Skipped, Bytes = Bytes };
        }
    }
}
