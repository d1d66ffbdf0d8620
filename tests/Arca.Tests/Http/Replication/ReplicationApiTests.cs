using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Arca.Core.Replication;
using Arca.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;

namespace Arca.Tests.Http.Replication;

/// <summary>The replication management API: validation, scopes, the endpoint deletion veto, and crash recovery.</summary>
public sealed class ReplicationApiTests : IAsyncLifetime
{
    private TestServer _arca = null!;

    public async Task InitializeAsync()
    {
        _arca = await TestServer.StartAsync();
        await _arca.CreateRegistryAsync("docker-dest", "DOCKER");
        await _arca.CreateRegistryAsync("generic-dest", "GENERIC");
        var r = await _arca.Admin.PostAsJsonAsync("api/v1/endpoints?ping=false", new { name = "remote", provider = "docker-registry", url = "http://127.0.0.1:1" });
        r.EnsureSuccessStatusCode();
        var npm = await _arca.Admin.PostAsJsonAsync("api/v1/endpoints?ping=false", new { name = "npm-remote", provider = "npm", url = "http://127.0.0.1:1" });
        npm.EnsureSuccessStatusCode();
    }

    public async Task DisposeAsync() => await _arca.DisposeAsync();

    private static object PullRule(string name, string? cron = null) => new
    {
        name, endpoint = "remote", direction = "pull", sourceFilter = "library/*", tagFilter = "1.*", destinationRegistry = "docker-dest", cron,
    };

    private static async Task<(HttpStatusCode Status, JsonElement Body)> ReadAsync(HttpResponseMessage r)
    {
        var text = await r.Content.ReadAsStringAsync();
        return (r.StatusCode, text.Length == 0 ? default : JsonDocument.Parse(text).RootElement);
    }

    [Fact]
    public async Task Rule_crud_with_cron_and_next_run()
    {
        var (status, created) = await ReadAsync(await _arca.Admin.PostAsJsonAsync("api/v1/replication/rules", PullRule("every-minute", "0 * * * * *")));
        Assert.Equal(HttpStatusCode.Created, status);
        Assert.Equal("scheduled", created.GetProperty("trigger").GetString());
        var next = created.GetProperty("nextRun").GetDateTimeOffset();
        Assert.Equal(0, next.Second);
        Assert.InRange(next - DateTimeOffset.UtcNow, TimeSpan.Zero, TimeSpan.FromSeconds(61));
        Assert.Equal(-1, created.GetProperty("destinationNamespaceReplaceCount").GetInt32());

        var (s2, updated) = await ReadAsync(await _arca.Admin.PatchAsJsonAsync("api/v1/replication/rules/every-minute", new { cron = "", @override = true }));
        Assert.Equal(HttpStatusCode.OK, s2);
        Assert.Equal("manual", updated.GetProperty("trigger").GetString());
        Assert.True(updated.GetProperty("override").GetBoolean());
        Assert.Equal("1.*", updated.GetProperty("tagFilter").GetString());

        var list = JsonDocument.Parse(await _arca.Admin.GetStringAsync("api/v1/replication/rules")).RootElement.GetProperty("items");
        Assert.Contains(list.EnumerateArray(), r => r.GetProperty("name").GetString() == "every-minute");
        Assert.Equal(HttpStatusCode.Conflict, (await _arca.Admin.PostAsJsonAsync("api/v1/replication/rules", PullRule("every-minute"))).StatusCode);
        Assert.Equal(HttpStatusCode.NoContent, (await _arca.Admin.DeleteAsync("api/v1/replication/rules/every-minute")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await _arca.Admin.GetAsync("api/v1/replication/rules/every-minute")).StatusCode);
    }

    public static TheoryData<string, string> InvalidRules => new()
    {
        { """{"name":"r1","endpoint":"remote","direction":"sideways","sourceFilter":"a/*","destinationRegistry":"docker-dest"}""", "INVALID_DIRECTION" },
        { """{"name":"r1","endpoint":"remote","direction":"pull","sourceFilter":"a/*","destinationRegistry":"docker-dest","cron":"* * * * *"}""", "INVALID_CRON" },
        { """{"name":"r1","endpoint":"remote","direction":"pull","sourceFilter":"a/*"}""", "INVALID_DESTINATION" },
        { """{"name":"r1","endpoint":"remote","direction":"pull","sourceFilter":"a/*","destinationRegistry":"generic-dest"}""", "INVALID_DESTINATION" },
        { """{"name":"r1","endpoint":"remote","direction":"push","sourceFilter":"a/*","destinationRegistry":"docker-dest"}""", "INVALID_DESTINATION" },
        { """{"name":"r1","endpoint":"remote","direction":"pull","sourceFilter":"","destinationRegistry":"docker-dest"}""", "INVALID_FILTER" },
        { """{"name":"r1","endpoint":"remote","direction":"pull","sourceFilter":"a/*","destinationRegistry":"docker-dest","destinationNamespace":"Bad NS"}""", "INVALID_NAMESPACE" },
        { """{"name":"r1","endpoint":"remote","direction":"pull","sourceFilter":"a/*","destinationRegistry":"docker-dest","destinationNamespaceReplaceCount":-2}""", "INVALID_NAMESPACE_REPLACE_COUNT" },
        { """{"name":"r1","endpoint":"npm-remote","direction":"pull","sourceFilter":"a/*","destinationRegistry":"docker-dest"}""", "UNSUPPORTED_PROVIDER" },
        { """{"name":"../x","endpoint":"remote","direction":"pull","sourceFilter":"a/*","destinationRegistry":"docker-dest"}""", "INVALID_IDENTIFIER" },
    };

    [Theory]
    [MemberData(nameof(InvalidRules))]
    public async Task Invalid_rules_are_400_with_a_code(string json, string code)
    {
        var r = await _arca.Admin.PostAsync("api/v1/replication/rules", new StringContent(json, System.Text.Encoding.UTF8, "application/json"));
        var (status, body) = await ReadAsync(r);
        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Equal(code, body.GetProperty("error").GetProperty("code").GetString());
    }

    [Fact]
    public async Task Unknown_endpoint_is_404()
    {
        var r = await _arca.Admin.PostAsJsonAsync("api/v1/replication/rules", new
        {
            name = "r404", endpoint = "nope", direction = "pull", sourceFilter = "a/*", destinationRegistry = "docker-dest",
        });
        Assert.Equal(HttpStatusCode.NotFound, r.StatusCode);
    }

    [Fact]
    public async Task Deleting_an_endpoint_used_by_a_rule_is_409_naming_the_rules()
    {
        (await _arca.Admin.PostAsJsonAsync("api/v1/endpoints?ping=false", new { name = "in-use", provider = "docker-registry", url = "http://127.0.0.1:2" })).EnsureSuccessStatusCode();
        foreach (var name in new[] { "uses-a", "uses-b" })
            (await _arca.Admin.PostAsJsonAsync("api/v1/replication/rules", new
            {
                name, endpoint = "in-use", direction = "push", sourceFilter = "docker-dest/**",
            })).EnsureSuccessStatusCode();
        var (status, body) = await ReadAsync(await _arca.Admin.DeleteAsync("api/v1/endpoints/in-use"));
        Assert.Equal(HttpStatusCode.Conflict, status);
        var message = body.GetProperty("error").GetProperty("message").GetString()!;
        Assert.Contains("'uses-a'", message);
        Assert.Contains("'uses-b'", message);
        Assert.Equal("ENDPOINT_IN_USE", body.GetProperty("error").GetProperty("code").GetString());

        // Once no rule uses it, it can go.
        await _arca.Admin.DeleteAsync("api/v1/replication/rules/uses-a");
        await _arca.Admin.DeleteAsync("api/v1/replication/rules/uses-b");
        Assert.Equal(HttpStatusCode.NoContent, (await _arca.Admin.DeleteAsync("api/v1/endpoints/in-use")).StatusCode);
    }

    [Fact]
    public async Task Read_token_lists_but_cannot_change_or_run()
    {
        (await _arca.Admin.PostAsJsonAsync("api/v1/replication/rules", PullRule("scoped"))).EnsureSuccessStatusCode();
        using var reader = _arca.CreateClient(await _arca.CreateTokenAsync("read"));
        Assert.Equal(HttpStatusCode.OK, (await reader.GetAsync("api/v1/replication/rules")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await reader.GetAsync("api/v1/replication/executions?rule=scoped")).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await reader.PostAsJsonAsync("api/v1/replication/rules", PullRule("scoped2"))).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await reader.PostAsync("api/v1/replication/rules/scoped/run", null)).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await reader.DeleteAsync("api/v1/replication/rules/scoped")).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await _arca.Anonymous.GetAsync("api/v1/replication/rules")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await _arca.Admin.GetAsync("api/v1/replication/executions/999999")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await _arca.Admin.GetAsync("api/v1/replication/executions/abc")).StatusCode);
    }

    [Fact]
    public async Task A_failing_endpoint_fails_the_execution_with_the_reason()
    {
        (await _arca.Admin.PostAsJsonAsync("api/v1/replication/rules", PullRule("unreachable"))).EnsureSuccessStatusCode();
        var (status, started) = await ReadAsync(await _arca.Admin.PostAsync("api/v1/replication/rules/unreachable/run", null));
        Assert.Equal(HttpStatusCode.Accepted, status);
        var id = started.GetProperty("id").GetInt64();
        JsonElement e;
        var deadline = DateTime.UtcNow.AddSeconds(60);
        do
        {
            await Task.Delay(200);
            e = JsonDocument.Parse(await _arca.Admin.GetStringAsync($"api/v1/replication/executions/{id}")).RootElement;
        } while (e.GetProperty("status").GetString() == "running" && DateTime.UtcNow < deadline);
        Assert.Equal("failed", e.GetProperty("status").GetString());
        Assert.Contains("127.0.0.1:1", e.GetProperty("error").GetString());
    }

    [Fact]
    public async Task Executions_left_running_by_a_crash_are_failed_at_start_up()
    {
        var dir = TempDir.Create("arca-data");
        var first = await TestServer.StartAsync(o => o with { DataDirectory = dir });
        var store = first.App.Services.GetRequiredService<IReplicationStore>();
        var orphan = await store.CreateExecutionAsync(new ReplicationExecution
        {
            Rule = "gone", Trigger = "scheduled", Status = ReplicationStatus.Running, StartedAt = DateTimeOffset.UtcNow,
        });
        await store.CreateTasksAsync(orphan.Id, [new ReplicationTask { Source = "a:1", Destination = "b:1" }]);
        // Stop the first process's host without deleting its data: the execution row stays "running", as after a crash.
        await first.App.StopAsync();
        await first.App.DisposeAsync();

        var second = await TestServer.StartAsync(o => o with { DataDirectory = dir });
        try
        {
            var e = JsonDocument.Parse(await second.Admin.GetStringAsync($"api/v1/replication/executions/{orphan.Id}?tasks=true")).RootElement;
            Assert.Equal("failed", e.GetProperty("status").GetString());
            Assert.Contains("server stopped", e.GetProperty("error").GetString());
            Assert.Equal("failed", e.GetProperty("tasks")[0].GetProperty("status").GetString());
        }
        finally { await second.DisposeAsync(); }
    }

    [Fact]
    public async Task A_scheduled_run_is_skipped_while_the_previous_run_is_still_running()
    {
        // A remote that accepts connections and never answers keeps the first execution running.
        using var silent = new System.Net.Sockets.TcpListener(IPAddress.Loopback, 0);
        silent.Start();
        var held = new List<System.Net.Sockets.TcpClient>();
        _ = Task.Run(async () => { try { while (true) held.Add(await silent.AcceptTcpClientAsync()); } catch (Exception) { } });
        var port = ((IPEndPoint)silent.LocalEndpoint).Port;
        (await _arca.Admin.PostAsJsonAsync("api/v1/endpoints?ping=false", new { name = "silent", provider = "docker-registry", url = $"http://127.0.0.1:{port}" })).EnsureSuccessStatusCode();
        (await _arca.Admin.PostAsJsonAsync("api/v1/replication/rules", new
        {
            name = "every-second", endpoint = "silent", direction = "pull", sourceFilter = "library/*", destinationRegistry = "docker-dest",
            cron = "* * * * * *",
        })).EnsureSuccessStatusCode();

        async Task<List<JsonElement>> Executions() =>
            JsonDocument.Parse(await _arca.Admin.GetStringAsync("api/v1/replication/executions?rule=every-second")).RootElement
                .GetProperty("items").EnumerateArray().ToList();
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while ((await Executions()).Count == 0 && DateTime.UtcNow < deadline) await Task.Delay(100);
        await Task.Delay(TimeSpan.FromSeconds(3.5)); // three more due times pass while the first run hangs
        var executions = await Executions();
        var only = Assert.Single(executions);
        Assert.Equal("running", only.GetProperty("status").GetString());

        (await _arca.Admin.PatchAsJsonAsync("api/v1/replication/rules/every-second", new { enabled = false })).EnsureSuccessStatusCode();
        Assert.Equal(HttpStatusCode.Accepted, (await _arca.Admin.PostAsync($"api/v1/replication/executions/{only.GetProperty("id").GetInt64()}/stop", null)).StatusCode);
        deadline = DateTime.UtcNow.AddSeconds(20);
        while ((await Executions())[0].GetProperty("status").GetString() == "running" && DateTime.UtcNow < deadline) await Task.Delay(100);
        Assert.Equal("stopped", (await Executions())[0].GetProperty("status").GetString());
        foreach (var c in held) c.Dispose();
    }
}
