using System.Net;
using System.Net.Http.Json;
using System.Net.Sockets;
using System.Text.Json;
using Arca.Tests.Clients.ImageCopy;
using Arca.Tests.Infrastructure;
using static Arca.Tests.Clients.Replication.ReplicationTestSupport;

namespace Arca.Tests.Clients.Replication;

/// <summary>
/// Replication rules against Debian's docker-registry as the remote endpoint, driven through the real `arca` CLI:
/// a cron pull rule with name and tag filters, a re-run that skips everything, a push rule, override off, and stop.
/// </summary>
public sealed class ReplicationTests : IAsyncLifetime
{
    private DockerRegistryServer _remote = null!;
    private TestServer _arca = null!;
    private OciTestImage _a = null!, _b = null!;

    public async Task InitializeAsync()
    {
        _remote = await DockerRegistryServer.StartAsync("rita", "remote-pw");
        _arca = await TestServer.StartAsync();
        await _arca.CreateRegistryAsync("docker-mirror", "DOCKER");
        var seed = Guid.NewGuid().ToString("N");
        _a = OciTestImage.Create("1.0", "repl-a-" + seed, largeLayerBytes: 64 * 1024);
        _b = OciTestImage.Create("1.0", "repl-b-" + seed, largeLayerBytes: 32 * 1024);
        await _a.PushWithSkopeoAsync(_remote, "library/app", "1.0");
        await _b.PushWithSkopeoAsync(_remote, "library/app", "1.1");
        await _b.PushWithSkopeoAsync(_remote, "library/app", "2.0");
        await _a.PushWithSkopeoAsync(_remote, "library/tool", "1.5");
        await _b.PushWithSkopeoAsync(_remote, "other/app", "1.0");
        await CreateEndpointAsync(_arca, "remote", _remote.BaseUrl, "rita", "remote-pw");
    }

    public async Task DisposeAsync()
    {
        await _arca.DisposeAsync();
        await _remote.DisposeAsync();
        TempDir.TryDelete(_a.LayoutDir);
        TempDir.TryDelete(_b.LayoutDir);
    }

    [Fact]
    public async Task Cron_pull_rule_copies_exactly_the_matching_tags_and_a_second_run_skips_them()
    {
        (await ArcaRun(_arca, "replication", "rule", "create", "pull-lib", "--endpoint", "remote", "--direction", "pull",
            "--source-filter", "library/*", "--tag-filter", "1.*", "--destination-registry", "docker-mirror",
            "--cron", "*/5 * * * * *")).AssertOk("create cron rule");

        // The scheduler starts it within five seconds.
        List<JsonElement> executions = [];
        for (var i = 0; i < 100 && executions.Count == 0; i++)
        {
            await Task.Delay(200);
            executions = await ExecutionsAsync(_arca, "pull-lib");
        }
        var first = executions.Last();
        Assert.Equal("scheduled", first.GetProperty("trigger").GetString());
        // Stop further scheduled runs, and let any run already started finish.
        (await ArcaRun(_arca, "replication", "rule", "update", "pull-lib", "--disable")).AssertOk("disable");
        var finished = await WaitFinishedAsync(_arca, first.GetProperty("id").GetInt64());
        Assert.Equal("succeeded", finished.GetProperty("status").GetString());
        foreach (var e in await ExecutionsAsync(_arca, "pull-lib")) await WaitFinishedAsync(_arca, e.GetProperty("id").GetInt64());

        var tasks = finished.GetProperty("tasks").EnumerateArray().ToList();
        Assert.Equal(["library/app:1.0", "library/app:1.1", "library/tool:1.5"], tasks.Select(t => t.GetProperty("source").GetString()).Order().ToList());
        Assert.Equal(3, finished.GetProperty("total").GetInt32());
        Assert.Equal(3, finished.GetProperty("succeeded").GetInt32() + finished.GetProperty("skipped").GetInt32());
        Assert.True(finished.GetProperty("bytes").GetInt64() > 0);
        foreach (var (repository, tag, image) in new[] { ("library/app", "1.0", _a), ("library/app", "1.1", _b), ("library/tool", "1.5", _a) })
        {
            Assert.Equal(image.IndexDigest, await OciTestImage.RemoteManifestDigestAsync(_remote, repository, tag));
            Assert.Equal(image.IndexDigest, await ArcaManifestDigestAsync(_arca, $"docker-mirror/{repository}", tag));
            foreach (var platform in image.PlatformManifestDigests)
                Assert.Equal(platform, await ArcaManifestDigestAsync(_arca, $"docker-mirror/{repository}", platform));
        }
        Assert.Null(await ArcaManifestDigestAsync(_arca, "docker-mirror/library/app", "2.0"));
        Assert.Null(await ArcaManifestDigestAsync(_arca, "docker-mirror/other/app", "1.0"));

        // Second run (manual, waits for the outcome): every task skipped, no blob bytes moved, nothing uploaded.
        var run = await ArcaRun(_arca, "replication", "rule", "run", "pull-lib", "--format", "json");
        run.AssertOk("second run");
        var second = JsonDocument.Parse(run.Stdout).RootElement;
        Assert.Equal("succeeded", second.GetProperty("status").GetString());
        Assert.Equal("manual", second.GetProperty("trigger").GetString());
        Assert.Equal(3, second.GetProperty("skipped").GetInt32());
        Assert.Equal(0, second.GetProperty("bytes").GetInt64());
        Assert.All(second.GetProperty("tasks").EnumerateArray(), t => Assert.Equal("skipped", t.GetProperty("status").GetString()));

        var list = await ArcaRun(_arca, "replication", "executions", "--rule", "pull-lib", "--format", "json");
        list.AssertOk("list executions");
        var triggers = JsonDocument.Parse(list.Stdout).RootElement.GetProperty("items").EnumerateArray()
            .Select(e => e.GetProperty("trigger").GetString()).ToList();
        Assert.Contains("scheduled", triggers);
        Assert.Equal("manual", triggers[0]); // newest first
        var get = await ArcaRun(_arca, "replication", "execution", "get", second.GetProperty("id").GetInt64().ToString(), "--tasks", "--format", "yaml");
        get.AssertOk("execution get --tasks");
        Assert.Contains("library/tool:1.5", get.Stdout);
    }

    [Fact]
    public async Task Push_rule_copies_an_arca_image_to_the_docker_registry_with_a_flattened_namespace()
    {
        // Put an image into Arca (with the image copy the CLI offers), then push it back out under another name.
        (await ImageCopyTests.Arca("image", "copy", "--src-insecure", "--dest-insecure", "--src-creds", "rita:remote-pw",
            "--dest-creds", $"admin:{_arca.AdminToken}",
            $"{_remote.HostPort}/library/app:1.0", $"{_arca.HostPort}/docker-mirror/pushme/app:1.0")).AssertOk("seed arca");
        (await ArcaRun(_arca, "replication", "rule", "create", "push-out", "--endpoint", "remote", "--direction", "push",
            "--source-filter", "docker-mirror/pushme/**", "--dest-namespace", "mirror", "--dest-namespace-replace-count", "1")).AssertOk("create push rule");

        var run = await ArcaRun(_arca, "replication", "rule", "run", "push-out", "--format", "json");
        run.AssertOk("push run");
        var execution = JsonDocument.Parse(run.Stdout).RootElement;
        var task = Assert.Single(execution.GetProperty("tasks").EnumerateArray());
        Assert.Equal("docker-mirror/pushme/app:1.0", task.GetProperty("source").GetString());
        Assert.Equal("mirror/pushme/app:1.0", task.GetProperty("destination").GetString());
        Assert.Equal("succeeded", task.GetProperty("status").GetString());
        Assert.Equal(_a.IndexDigest, task.GetProperty("digest").GetString());
        Assert.Equal(_a.IndexDigest, await OciTestImage.RemoteManifestDigestAsync(_remote, "mirror/pushme/app", "1.0"));
    }

    [Fact]
    public async Task Override_off_fails_the_task_for_a_differing_tag_and_changes_nothing()
    {
        await _arca.CreateRegistryAsync("docker-conflict", "DOCKER");
        // Arca already holds another image under library/app:1.0.
        (await ImageCopyTests.Arca("image", "copy", "--src-insecure", "--dest-insecure", "--src-creds", "rita:remote-pw",
            "--dest-creds", $"admin:{_arca.AdminToken}",
            $"{_remote.HostPort}/other/app:1.0", $"{_arca.HostPort}/docker-conflict/library/app:1.0")).AssertOk("seed conflicting tag");
        (await ArcaRun(_arca, "replication", "rule", "create", "no-override", "--endpoint", "remote", "--direction", "pull",
            "--source-filter", "library/app", "--tag-filter", "1.0", "--destination-registry", "docker-conflict")).AssertOk("create rule");

        var run = await ArcaRun(_arca, "replication", "rule", "run", "no-override", "--format", "json");
        Assert.Equal(1, run.ExitCode);
        var execution = JsonDocument.Parse(run.Stdout).RootElement;
        Assert.Equal("failed", execution.GetProperty("status").GetString());
        var task = Assert.Single(execution.GetProperty("tasks").EnumerateArray());
        Assert.Equal("failed", task.GetProperty("status").GetString());
        Assert.Contains("differs", task.GetProperty("error").GetString());
        Assert.Equal(_b.IndexDigest, await ArcaManifestDigestAsync(_arca, "docker-conflict/library/app", "1.0"));
        foreach (var platform in _a.PlatformManifestDigests)
            Assert.Null(await ArcaManifestDigestAsync(_arca, "docker-conflict/library/app", platform));
    }

    [Fact]
    public async Task Stopping_a_running_execution_marks_it_stopped()
    {
        // A remote that accepts connections and never answers keeps the execution running until it is stopped.
        using var silent = new TcpListener(IPAddress.Loopback, 0);
        silent.Start();
        var held = new List<TcpClient>();
        _ = Task.Run(async () => { try { while (true) held.Add(await silent.AcceptTcpClientAsync()); } catch (Exception) { } });
        var port = ((IPEndPoint)silent.LocalEndpoint).Port;
        await CreateEndpointAsync(_arca, "silent", $"http://127.0.0.1:{port}");
        (await ArcaRun(_arca, "replication", "rule", "create", "hangs", "--endpoint", "silent", "--direction", "pull",
            "--source-filter", "library/*", "--destination-registry", "docker-mirror")).AssertOk("create rule");

        var started = await ArcaRun(_arca, "replication", "rule", "run", "hangs", "--no-wait", "--format", "json");
        started.AssertOk("run --no-wait");
        var id = JsonDocument.Parse(started.Stdout).RootElement.GetProperty("id").GetInt64();
        await Task.Delay(500);
        Assert.Equal("running", (await ExecutionAsync(_arca, id)).GetProperty("status").GetString());

        (await ArcaRun(_arca, "replication", "execution", "stop", id.ToString())).AssertOk("stop");
        var stopped = await WaitFinishedAsync(_arca, id, TimeSpan.FromSeconds(20));
        Assert.Equal("stopped", stopped.GetProperty("status").GetString());
        Assert.True(stopped.TryGetProperty("endedAt", out _));
        var again = await _arca.Admin.PostAsync($"api/v1/replication/executions/{id}/stop", null);
        Assert.Equal(HttpStatusCode.Conflict, again.StatusCode);
        foreach (var c in held) c.Dispose();
    }
}
