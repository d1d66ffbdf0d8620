using System.Text.Json;
using Arca.Tests.Infrastructure;

namespace Arca.Tests.Cli;

/// <summary>The `arca` executable as a user runs it: login, registries, artifacts, metadata, tokens; output parsed by jq.</summary>
public sealed class CliTests : IAsyncLifetime
{
    private TestServer _s = null!;
    private string _config = null!;
    private string _work = null!;
    public async Task InitializeAsync()
    {
        _s = await TestServer.StartAsync();
        _config = TempDir.Create("cfg");
        _work = TempDir.Create("cli");
    }
    public async Task DisposeAsync() { await _s.DisposeAsync(); TempDir.TryDelete(_work); }

    /// <summary>Runs arca with only the saved login (no ARCA_SERVER/ARCA_TOKEN), like a user after `arca login`.</summary>
    private Task<ProcResult> Arca(params string[] args) =>
        ArcaCli.RunAsync(null, null, args, _work, new Dictionary<string, string?> { ["ARCA_CONFIG_DIR"] = _config });

    private static async Task<string> Jq(string filter, string json)
    {
        var r = await Proc.RunAsync(Proc.Tool("jq"), ["-e", "-r", filter], stdin: json);
        r.AssertOk($"jq {filter} on {json}");
        return r.Stdout.Trim();
    }

    [Fact]
    public async Task New_user_tour_with_json_output_parsed_by_jq()
    {
        (await Arca("login", "--server", _s.BaseUrl, "--token", _s.AdminToken)).AssertOk("login");
        Assert.Contains(_s.BaseUrl, await File.ReadAllTextAsync(Path.Combine(_config, "config.json")));
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(Path.Combine(_config, "config.json")));

        (await Arca("reg", "create", "files", "--package-type", "GENERIC", "--description", "team files")).AssertOk("reg create");
        (await Arca("registry", "create", "npm-local", "--package-type", "npm", "--public")).AssertOk("registry create");

        var list = (await Arca("reg", "list", "--format", "json")).AssertOk("reg list").Stdout;
        Assert.Equal("files,npm-local", await Jq("[.items[].identifier] | join(\",\")", list));
        Assert.Equal("NPM", await Jq(".items[] | select(.identifier==\"npm-local\") | .packageType", (await Arca("reg", "list", "--package-type", "NPM", "--format", "json")).Stdout));

        var get = (await Arca("reg", "get", "files", "--format", "json")).AssertOk("reg get").Stdout;
        Assert.Equal($"{_s.BaseUrl}/pkg/files/generic", await Jq(".url", get));

        await File.WriteAllTextAsync(Path.Combine(_work, "a.txt"), "alpha");
        Directory.CreateDirectory(Path.Combine(_work, "dir", "sub"));
        await File.WriteAllTextAsync(Path.Combine(_work, "dir", "one.txt"), "1");
        await File.WriteAllTextAsync(Path.Combine(_work, "dir", "sub", "two.txt"), "22");
        (await Arca("art", "push", "generic", "files", "a.txt", "--package", "p", "--version", "1.0")).AssertOk("push file");
        (await Arca("art", "push", "generic", "files", "dir", "--package", "tree", "--version", "2")).AssertOk("push dir");
        var dup = await Arca("art", "push", "generic", "files", "a.txt", "--package", "p", "--version", "1.0");
        Assert.NotEqual(0, dup.ExitCode);
        Assert.Contains("already exists", dup.Stderr);
        Assert.Single(dup.Stderr.Trim().Split('\n')); // one-line error

        Assert.Equal("p,tree", await Jq("[.items[].name] | join(\",\")", (await Arca("art", "list", "--format", "json")).AssertOk("art list").Stdout));
        Assert.Equal("2", await Jq(".total", (await Arca("art", "list", "--registry", "files", "--format", "json")).Stdout));
        Assert.Equal("1", await Jq(".items[0].pageSize // .pageSize", (await Arca("art", "list", "--registry", "files", "--page-size", "1", "--format", "json")).Stdout));
        Assert.Equal("1.0", await Jq(".items[0].version", (await Arca("art", "list", "--registry", "files", "--package", "p", "--format", "json")).Stdout));
        Assert.Equal("one.txt,sub/two.txt", await Jq("[.items[].path] | join(\",\")",
            (await Arca("art", "list", "--registry", "files", "--package", "tree", "--version", "2", "--format", "json")).Stdout));

        (await Arca("art", "pull", "generic", "files", "tree/2/sub/two.txt", "out.txt")).AssertOk("pull");
        Assert.Equal("22", await File.ReadAllTextAsync(Path.Combine(_work, "out.txt")));

        // YAML output is parseable too (spot check a field).
        Assert.Contains("identifier: files", (await Arca("reg", "get", "files", "--format", "yaml")).Stdout);

        // Metadata at the three levels.
        foreach (var scope in new[] { new[] { "reg", "metadata" }, ["art", "metadata", "--package", "p"], ["art", "metadata", "--package", "p", "--version", "1.0"] })
        {
            (await Arca([.. scope.Take(2), "set", "--registry", "files", .. scope.Skip(2), "--metadata", "team:core,env:prod"])).AssertOk("metadata set");
            var m = (await Arca([.. scope.Take(2), "get", "--registry", "files", .. scope.Skip(2), "--format", "json"])).AssertOk("metadata get").Stdout;
            Assert.Equal("core", await Jq(".metadata.team", m));
            (await Arca([.. scope.Take(2), "delete", "--registry", "files", .. scope.Skip(2), "--metadata", "team"])).AssertOk("metadata delete");
            m = (await Arca([.. scope.Take(2), "get", "--registry", "files", .. scope.Skip(2), "--format", "json"])).Stdout;
            Assert.Equal("env", await Jq(".metadata | keys | join(\",\")", m));
        }

        (await Arca("art", "delete", "p", "--registry", "files", "--version", "1.0")).AssertOk("delete version");
        Assert.Equal("1", await Jq(".total", (await Arca("art", "list", "--registry", "files", "--format", "json")).Stdout));

        var token = (await Arca("token", "create", "--name", "ci", "--scope", "read", "--registry", "files", "--format", "json")).AssertOk("token create").Stdout;
        var secret = await Jq(".token", token);
        Assert.StartsWith("arca_", secret);
        var ro = await ArcaCli.RunAsync(_s.BaseUrl, secret, ["art", "push", "generic", "files", Path.Combine(_work, "a.txt"), "--package", "q", "--version", "1"], _work);
        Assert.NotEqual(0, ro.ExitCode);
        Assert.Contains("403", ro.Stderr);
        Assert.Equal("ci", await Jq(".items[] | select(.name==\"ci\") | .name", (await Arca("token", "list", "--format", "json")).Stdout));
        Assert.DoesNotContain(secret, (await Arca("token", "list", "--format", "json")).Stdout);
        (await Arca("token", "revoke", "ci")).AssertOk("revoke");

        (await Arca("logout")).AssertOk("logout");
        Assert.False(File.Exists(Path.Combine(_config, "config.json")));
    }

    [Fact]
    public async Task Errors_are_one_line_with_non_zero_exit()
    {
        var r = await ArcaCli.RunAsync(_s.BaseUrl, _s.AdminToken, ["reg", "get", "nope"]);
        Assert.NotEqual(0, r.ExitCode);
        Assert.StartsWith("error:", r.Stderr.Trim());
        var unauth = await ArcaCli.RunAsync(_s.BaseUrl, null, ["reg", "create", "x1", "--package-type", "GENERIC"]);
        Assert.NotEqual(0, unauth.ExitCode);
        Assert.Contains("401", unauth.Stderr);
        var down = await ArcaCli.RunAsync("http://127.0.0.1:1", "t", ["reg", "list"]);
        Assert.NotEqual(0, down.ExitCode);
        Assert.Contains("cannot reach", down.Stderr);
        var usage = await ArcaCli.RunAsync(_s.BaseUrl, _s.AdminToken, ["reg", "create", "x2"]);
        Assert.NotEqual(0, usage.ExitCode);
    }

    [Theory]
    [InlineData("--help")]
    [InlineData("serve --help")]
    [InlineData("reg --help")]
    [InlineData("registry list --help")]
    [InlineData("art push generic --help")]
    [InlineData("art pull generic --help")]
    [InlineData("art metadata set --help")]
    [InlineData("token create --help")]
    [InlineData("gc --help")]
    public async Task Help_is_available_everywhere(string args)
    {
        var r = await ArcaCli.RunAsync(null, null, args.Split(' '));
        r.AssertOk(args);
        Assert.Contains("Usage:", r.Stdout);
    }
}
