using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using Arca.Tests.Infrastructure;
using static Arca.Tests.Http.Oci.OciTestContent;

namespace Arca.Tests.Storage.Postgres;

/// <summary>
/// Two real Arca servers (separate data directories, like two hosts behind a load balancer) sharing one PostgreSQL
/// database and one blob directory: whatever goes in through one comes out of the other, concurrent publishes of the
/// same version through both have exactly one winner, and registry tokens issued by one work on the other.
/// </summary>
public sealed class TwoServersOnePostgresTests : IAsyncLifetime
{
    private readonly PostgresDatabase _db = new("two_servers");
    private string _blobs = null!;
    private string _work = null!;
    private TestServer _a = null!;
    private TestServer _b = null!;

    public async Task InitializeAsync()
    {
        await _db.CreateStoreAsync(); // only for the database; each server opens its own store on it
        _blobs = TempDir.Create("shared-blobs");
        _work = TempDir.Create("two-servers");
        // Started together on an empty database: migrations and admin bootstrap must not trip over each other.
        var starts = new[] { StartAsync(), StartAsync() };
        await Task.WhenAll(starts);
        (_a, _b) = (starts[0].Result, starts[1].Result);
        await _a.CreateRegistryAsync("files", "GENERIC");
        await _a.CreateRegistryAsync("images", "DOCKER");
    }

    private Task<TestServer> StartAsync() =>
        TestServer.StartAsync(o => o with { Database = _db.ConnectionString, BlobStore = "file:" + _blobs });

    public async Task DisposeAsync()
    {
        if (_a is not null) await _a.DisposeAsync();
        if (_b is not null) await _b.DisposeAsync();
        await _db.DisposeAsync();
        TempDir.TryDelete(_blobs);
        TempDir.TryDelete(_work);
    }

    [Fact]
    public async Task A_file_pushed_through_one_server_is_read_and_listed_through_the_other()
    {
        Assert.NotEqual(_a.DataDir, _b.DataDir);
        var data = RandomNumberGenerator.GetBytes(200_000);
        var put = await _a.Admin.PutAsync("pkg/files/generic/tool/1.0/tool.bin", new ByteArrayContent(data));
        Assert.Equal(HttpStatusCode.Created, put.StatusCode);

        // The registry was created through A too: B knows it without a restart.
        var get = await _b.Admin.GetAsync("pkg/files/generic/tool/1.0/tool.bin");
        Assert.Equal(HttpStatusCode.OK, get.StatusCode);
        Assert.Equal(data, await get.Content.ReadAsByteArrayAsync());
        Assert.Equal(Convert.ToHexStringLower(SHA256.HashData(data)), get.Headers.GetValues("X-Checksum-Sha256").Single());

        var versions = JsonNode.Parse(await _b.Admin.GetStringAsync("api/v1/registries/files/versions?package=tool"))!["items"]!.AsArray();
        var v = Assert.Single(versions)!;
        Assert.Equal("1.0", v["version"]!.GetValue<string>());
        var files = await _b.Admin.GetStringAsync("api/v1/registries/files/files?package=tool&version=1.0");
        Assert.Contains("tool.bin", files);

        // Deleting through B is seen by A.
        Assert.True((await _b.Admin.DeleteAsync("pkg/files/generic/tool/1.0/tool.bin")).IsSuccessStatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await _a.Admin.GetAsync("pkg/files/generic/tool/1.0/tool.bin")).StatusCode);
    }

    [Fact]
    public async Task Concurrent_publishes_of_one_version_through_both_servers_have_exactly_one_winner()
    {
        for (var round = 0; round < 10; round++)
        {
            var path = $"pkg/files/generic/race/{round}.0/artifact.bin";
            var bodies = new[] { RandomNumberGenerator.GetBytes(50_000), RandomNumberGenerator.GetBytes(50_000) };
            using var gate = new SemaphoreSlim(0, 2);
            async Task<HttpResponseMessage> Publish(TestServer server, byte[] body)
            {
                await gate.WaitAsync();
                return await server.Admin.PutAsync(path, new ByteArrayContent(body));
            }
            var puts = new[] { Publish(_a, bodies[0]), Publish(_b, bodies[1]) };
            gate.Release(2);
            var responses = await Task.WhenAll(puts);
            var statuses = responses.Select(r => r.StatusCode).ToList();
            Assert.True(statuses.Count(s => s == HttpStatusCode.Created) == 1 && statuses.Count(s => s == HttpStatusCode.Conflict) == 1,
                $"round {round}: expected one 201 and one 409, got {string.Join(", ", statuses)}");

            // Both servers serve the winner's bytes, never a mix or the loser's.
            var winner = bodies[statuses.IndexOf(HttpStatusCode.Created)];
            Assert.Equal(winner, await _a.Admin.GetByteArrayAsync(path));
            Assert.Equal(winner, await _b.Admin.GetByteArrayAsync(path));
        }
    }

    private Task<ProcResult> SkopeoAsync(params string[] args) =>
        Proc.RunAsync(Proc.Tool("skopeo"), ["--insecure-policy", .. args], workDir: _work,
            env: new Dictionary<string, string?> { ["HOME"] = _work, ["XDG_RUNTIME_DIR"] = _work, ["REGISTRY_AUTH_FILE"] = Path.Combine(_work, "auth.json") });

    [Fact]
    public async Task An_image_pushed_with_skopeo_through_one_server_is_pulled_through_the_other()
    {
        var image = Image("linux", "amd64", "served by two instances");
        var source = Path.Combine(_work, "src-layout");
        WriteLayout(source, [image.Config, image.Layer, image.Manifest], (image.Manifest, "v1"));

        // skopeo uses the token flow: each server issues registry tokens with the key both share through the database.
        (await SkopeoAsync("copy", "--dest-tls-verify=false", "--dest-creds", $"admin:{_a.AdminToken}", $"oci:{source}:v1",
            $"docker://{_a.HostPort}/images/app:v1")).AssertOk("skopeo copy into server A");

        var raw = (await SkopeoAsync("inspect", "--raw", "--tls-verify=false", "--creds", $"admin:{_b.AdminToken}",
            $"docker://{_b.HostPort}/images/app:v1")).AssertOk("skopeo inspect through server B");
        Assert.Equal(Encoding.UTF8.GetString(image.Manifest.Bytes), raw.Stdout.TrimEnd('\n'));

        var target = Path.Combine(_work, "out-layout");
        (await SkopeoAsync("copy", "--src-tls-verify=false", "--src-creds", $"admin:{_b.AdminToken}",
            $"docker://{_b.HostPort}/images/app:v1", $"oci:{target}:v1")).AssertOk("skopeo copy out of server B");
        foreach (var blob in new[] { image.Config, image.Layer, image.Manifest })
            Assert.Equal(blob.Bytes, await File.ReadAllBytesAsync(Path.Combine(target, "blobs", "sha256", blob.Digest["sha256:".Length..])));

        var tags = JsonNode.Parse(await _b.Admin.GetStringAsync("v2/images/app/tags/list"))!["tags"]!.AsArray();
        Assert.Equal(["v1"], tags.Select(t => t!.GetValue<string>()));
    }

    [Fact]
    public async Task A_chunked_upload_started_on_one_server_survives_a_third_starting_and_finishes_on_the_other()
    {
        var chunks = new[] { RandomNumberGenerator.GetBytes(70_000), RandomNumberGenerator.GetBytes(30_000) };
        var whole = chunks[0].Concat(chunks[1]).ToArray();
        var digest = Sha256(whole);

        var start = await _a.Admin.PostAsync("v2/images/chunked/blobs/uploads/", null);
        Assert.Equal(HttpStatusCode.Accepted, start.StatusCode);
        var patch = new HttpRequestMessage(HttpMethod.Patch, start.Headers.Location) { Content = new ByteArrayContent(chunks[0]) };
        patch.Content.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
        patch.Content.Headers.TryAddWithoutValidation("Content-Range", $"0-{chunks[0].Length - 1}");
        var patched = await _a.Admin.SendAsync(patch);
        Assert.Equal(HttpStatusCode.Accepted, patched.StatusCode);

        // Another instance (re)starting on the same database and blob store must leave the upload alone.
        await using (var c = await StartAsync()) Assert.True((await c.Anonymous.GetAsync("healthz")).IsSuccessStatusCode);

        var location = patched.Headers.Location!;
        var rest = new HttpRequestMessage(HttpMethod.Patch, location) { Content = new ByteArrayContent(chunks[1]) };
        rest.Content.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
        rest.Content.Headers.TryAddWithoutValidation("Content-Range", $"{chunks[0].Length}-{whole.Length - 1}");
        var second = await _b.Admin.SendAsync(rest);
        Assert.Equal(HttpStatusCode.Accepted, second.StatusCode);
        var separator = second.Headers.Location!.OriginalString.Contains('?') ? '&' : '?';
        var put = await _b.Admin.PutAsync($"{second.Headers.Location!.OriginalString}{separator}digest={digest}", null);
        Assert.Equal(HttpStatusCode.Created, put.StatusCode);
        Assert.Equal(whole, await _a.Admin.GetByteArrayAsync($"v2/images/chunked/blobs/{digest}"));
    }

    [Fact]
    public async Task Only_one_server_fires_a_cron_rule_another_starting_leaves_its_run_alone_and_the_other_takes_over()
    {
        // A remote that accepts connections and never answers keeps each execution running.
        using var silent = new System.Net.Sockets.TcpListener(IPAddress.Loopback, 0);
        silent.Start();
        var held = new List<System.Net.Sockets.TcpClient>();
        _ = Task.Run(async () => { try { while (true) held.Add(await silent.AcceptTcpClientAsync()); } catch (Exception) { } });
        var port = ((IPEndPoint)silent.LocalEndpoint).Port;
        (await _a.Admin.PostAsJsonAsync("api/v1/endpoints?ping=false", new { name = "silent", provider = "docker-registry", url = $"http://127.0.0.1:{port}" })).EnsureSuccessStatusCode();
        (await _a.Admin.PostAsJsonAsync("api/v1/replication/rules", new
        {
            name = "every-second", endpoint = "silent", direction = "pull", sourceFilter = "library/*", destinationRegistry = "images",
            cron = "* * * * * *",
        })).EnsureSuccessStatusCode();

        async Task<List<JsonNode>> Executions(TestServer via) =>
            JsonNode.Parse(await via.Admin.GetStringAsync("api/v1/replication/executions?rule=every-second"))!["items"]!.AsArray().Select(e => e!).ToList();
        async Task<List<JsonNode>> WaitForExecutions(TestServer via, int count)
        {
            var deadline = DateTime.UtcNow.AddSeconds(15);
            while ((await Executions(via)).Count < count && DateTime.UtcNow < deadline) await Task.Delay(100);
            return await Executions(via);
        }

        await WaitForExecutions(_b, 1);
        await Task.Delay(TimeSpan.FromSeconds(3.5)); // several due times pass: each server would start its own run
        var first = Assert.Single(await Executions(_b));
        Assert.Equal("running", first["status"]!.GetValue<string>());

        // A third instance starting meanwhile must not take the live run for one a crash left behind.
        await using (var third = await StartAsync())
            Assert.Equal("running", (await Executions(third)).Single(e => e["id"]!.GetValue<long>() == first["id"]!.GetValue<long>())["status"]!.GetValue<string>());

        // The run lives on the server that fired it: that one can stop it.
        var id = first["id"]!.GetValue<long>();
        var leader = (await _a.Admin.PostAsync($"api/v1/replication/executions/{id}/stop", null)).StatusCode == HttpStatusCode.Accepted ? _a : _b;
        var follower = leader == _a ? _b : _a;
        if (leader == _b) Assert.Equal(HttpStatusCode.Accepted, (await _b.Admin.PostAsync($"api/v1/replication/executions/{id}/stop", null)).StatusCode);

        await leader.DisposeAsync();
        if (leader == _a) _a = null!; else _b = null!;
        var afterTakeOver = await WaitForExecutions(follower, 2);
        Assert.Equal(2, afterTakeOver.Count);
        Assert.Equal("running", afterTakeOver[0]["status"]!.GetValue<string>());
        Assert.Equal(HttpStatusCode.Accepted, (await follower.Admin.PostAsync($"api/v1/replication/executions/{afterTakeOver[0]["id"]!.GetValue<long>()}/stop", null)).StatusCode);
        (await follower.Admin.PatchAsJsonAsync("api/v1/replication/rules/every-second", new { enabled = false })).EnsureSuccessStatusCode();
        foreach (var c in held) c.Dispose();
    }

    [Fact]
    public async Task A_registry_token_issued_by_one_server_is_accepted_by_the_other()
    {
        var image = Image("linux", "arm64", "token test");
        var source = Path.Combine(_work, "token-layout");
        WriteLayout(source, [image.Config, image.Layer, image.Manifest], (image.Manifest, "t1"));
        (await SkopeoAsync("copy", "--dest-tls-verify=false", "--dest-creds", $"admin:{_a.AdminToken}", $"oci:{source}:t1",
            $"docker://{_a.HostPort}/images/tokened:t1")).AssertOk("skopeo copy into server A");

        // A load balancer may send the token request to A and the pull to B.
        var basic = new HttpRequestMessage(HttpMethod.Get, $"v2/token?service={_a.HostPort}&scope=repository:images/tokened:pull");
        basic.Headers.Authorization = new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes($"admin:{_a.AdminToken}")));
        var tokenResponse = await _a.Anonymous.SendAsync(basic);
        Assert.Equal(HttpStatusCode.OK, tokenResponse.StatusCode);
        var token = JsonNode.Parse(await tokenResponse.Content.ReadAsStringAsync())!["token"]!.GetValue<string>();

        var pull = new HttpRequestMessage(HttpMethod.Get, "v2/images/tokened/manifests/t1");
        pull.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        pull.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue(image.Manifest.MediaType));
        var manifest = await _b.Anonymous.SendAsync(pull);
        Assert.Equal(HttpStatusCode.OK, manifest.StatusCode);
        Assert.Equal(image.Manifest.Bytes, await manifest.Content.ReadAsByteArrayAsync());

        // Both data directories hold the one key the database shares.
        Assert.Equal(await File.ReadAllBytesAsync(Path.Combine(_a.DataDir, "oci-token.key")),
            await File.ReadAllBytesAsync(Path.Combine(_b.DataDir, "oci-token.key")));
    }
}
