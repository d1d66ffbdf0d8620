using System.Text.Json;
using Arca.Tests.Infrastructure;

namespace Arca.Tests.Clients.Npm;

/// <summary>The real npm 11 client against Arca: publish (scoped and not), install with a same-registry dependency,
/// dist-tags, view, deprecate, unpublish, whoami, and the refusals (duplicate, read-only token).</summary>
public sealed class NpmClientTests : IAsyncLifetime
{
    private const string Registry = "npm-local";
    private TestServer _server = null!;
    private string _work = null!;
    private string _registryUrl = null!;
    private string _token = null!;

    public async Task InitializeAsync()
    {
        _server = await TestServer.StartAsync();
        await _server.CreateRegistryAsync(Registry, "NPM");
        _token = await _server.CreateTokenAsync("delete", Registry, "npm-publisher");
        _work = TempDir.Create("npm-client");
        _registryUrl = $"{_server.BaseUrl}/pkg/{Registry}/npm/";
    }

    public async Task DisposeAsync()
    {
        await _server.DisposeAsync();
        TempDir.TryDelete(_work);
    }

    private string WriteNpmrc(string token, string name)
    {
        var path = Path.Combine(_work, name);
        var nerfDart = _registryUrl[_registryUrl.IndexOf("//", StringComparison.Ordinal)..];
        File.WriteAllText(path, $"registry={_registryUrl}\n@acme:registry={_registryUrl}\n{nerfDart}:_authToken={token}\nupdate-notifier=false\nfund=false\naudit=false\n");
        return path;
    }

    private Task<ProcResult> Npm(string npmrc, string dir, params string[] args) =>
        Proc.RunAsync(Proc.Tool("npm"), [.. args, "--userconfig", npmrc, "--cache", Path.Combine(_work, "cache-" + Guid.NewGuid().ToString("N")), "--registry", _registryUrl],
            dir, new Dictionary<string, string?> { ["NPM_CONFIG_USERCONFIG"] = npmrc, ["NO_COLOR"] = "1", ["npm_config_loglevel"] = "warn" },
            TimeSpan.FromMinutes(3));

    private string WritePackage(string name, string version, string? dependency = null)
    {
        var dir = Path.Combine(_work, "src-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(dir);
        var deps = dependency is null ? "" : $", \"dependencies\": {{ {dependency} }}";
        File.WriteAllText(Path.Combine(dir, "package.json"),
            $"{{ \"name\": \"{name}\", \"version\": \"{version}\", \"description\": \"{name} for tests\", \"main\": \"index.js\", \"license\": \"MIT\"{deps} }}");
        File.WriteAllText(Path.Combine(dir, "index.js"), $"module.exports = '{name}@{version}';\n");
        File.WriteAllText(Path.Combine(dir, "README.md"), $"# {name}\n");
        return dir;
    }

    [Fact]
    public async Task Publish_install_tag_view_deprecate_unpublish()
    {
        var npmrc = WriteNpmrc(_token, "npmrc");
        (await Npm(npmrc, _work, "whoami")).AssertOk("npm whoami").Stdout.Contains("npm-publisher");

        (await Npm(npmrc, WritePackage("@acme/util", "1.0.0"), "publish")).AssertOk("npm publish @acme/util");
        (await Npm(npmrc, WritePackage("app", "1.0.0", "\"@acme/util\": \"^1.0.0\""), "publish")).AssertOk("npm publish app");

        // Install into a clean project with a fresh cache: everything comes from Arca.
        var consumer = Path.Combine(_work, "consumer");
        Directory.CreateDirectory(consumer);
        File.WriteAllText(Path.Combine(consumer, "package.json"), "{ \"name\": \"consumer\", \"version\": \"0.0.0\", \"private\": true }");
        (await Npm(npmrc, consumer, "install", "app", "--no-audit", "--no-fund")).AssertOk("npm install app");
        Assert.Equal("module.exports = 'app@1.0.0';\n", File.ReadAllText(Path.Combine(consumer, "node_modules", "app", "index.js")));
        Assert.Equal("module.exports = '@acme/util@1.0.0';\n", File.ReadAllText(Path.Combine(consumer, "node_modules", "@acme", "util", "index.js")));
        var lockFile = File.ReadAllText(Path.Combine(consumer, "package-lock.json"));
        Assert.Contains($"{_registryUrl}@acme/util/-/util-1.0.0.tgz", lockFile);

        // dist-tags
        (await Npm(npmrc, _work, "dist-tag", "add", "@acme/util@1.0.0", "stable")).AssertOk("npm dist-tag add");
        var view = (await Npm(npmrc, _work, "view", "@acme/util", "dist-tags", "--json")).AssertOk("npm view dist-tags");
        var tags = JsonDocument.Parse(view.Stdout).RootElement;
        Assert.Equal("1.0.0", tags.GetProperty("stable").GetString());
        Assert.Equal("1.0.0", tags.GetProperty("latest").GetString());
        (await Npm(npmrc, _work, "dist-tag", "rm", "@acme/util", "stable")).AssertOk("npm dist-tag rm");
        var ls = (await Npm(npmrc, _work, "dist-tag", "ls", "@acme/util")).AssertOk("npm dist-tag ls");
        Assert.DoesNotContain("stable", ls.Stdout);

        // A second version, then unpublish it: the package keeps 1.0.0 only, latest goes back to it.
        (await Npm(npmrc, WritePackage("@acme/util", "1.1.0"), "publish")).AssertOk("npm publish @acme/util@1.1.0");
        var versions = (await Npm(npmrc, _work, "view", "@acme/util", "versions", "--json")).AssertOk("npm view versions");
        Assert.Equal(["1.0.0", "1.1.0"], JsonSerializer.Deserialize<string[]>(versions.Stdout)!);
        (await Npm(npmrc, _work, "unpublish", "@acme/util@1.1.0", "--force")).AssertOk("npm unpublish @acme/util@1.1.0");
        var after = (await Npm(npmrc, _work, "view", "@acme/util", "--json")).AssertOk("npm view after unpublish");
        var doc = JsonDocument.Parse(after.Stdout).RootElement;
        Assert.Equal("1.0.0", doc.GetProperty("dist-tags").GetProperty("latest").GetString());
        Assert.Equal(["1.0.0"], doc.GetProperty("versions").EnumerateArray().Select(v => v.GetString()!).ToArray());
        var gone = await _server.Admin.GetAsync($"pkg/{Registry}/npm/@acme/util/-/util-1.1.0.tgz");
        Assert.Equal(System.Net.HttpStatusCode.NotFound, gone.StatusCode);

        // deprecate
        (await Npm(npmrc, _work, "deprecate", "@acme/util@1.0.0", "use something else")).AssertOk("npm deprecate");
        var deprecated = (await Npm(npmrc, _work, "view", "@acme/util@1.0.0", "deprecated")).AssertOk("npm view deprecated");
        Assert.Contains("use something else", deprecated.Stdout);

        // unpublish a whole package
        (await Npm(npmrc, _work, "unpublish", "app", "--force")).AssertOk("npm unpublish app");
        var missing = await Npm(npmrc, _work, "view", "app");
        Assert.NotEqual(0, missing.ExitCode);
        Assert.Contains("404", missing.All);
    }

    [Fact]
    public async Task Duplicate_publish_is_409_and_read_only_token_is_403()
    {
        var npmrc = WriteNpmrc(_token, "npmrc-dup");
        var dir = WritePackage("dup-pkg", "2.0.0");
        (await Npm(npmrc, dir, "publish")).AssertOk("first publish");
        var again = await Npm(npmrc, dir, "publish");
        Assert.NotEqual(0, again.ExitCode);
        Assert.Contains("cannot publish over the previously published version", again.All); // npm's own check
        // --force skips npm's client-side check, so the server must refuse.
        again = await Npm(npmrc, dir, "publish", "--force");
        Assert.NotEqual(0, again.ExitCode);
        Assert.Contains("409", again.All);
        Assert.Contains("cannot publish over the previously published version", again.All);

        var readOnly = WriteNpmrc(await _server.CreateTokenAsync("read", Registry), "npmrc-ro");
        var denied = await Npm(readOnly, WritePackage("ro-pkg", "1.0.0"), "publish");
        Assert.NotEqual(0, denied.ExitCode);
        Assert.Contains("403", denied.All);
        var notStored = await _server.Admin.GetAsync($"pkg/{Registry}/npm/ro-pkg");
        Assert.Equal(System.Net.HttpStatusCode.NotFound, notStored.StatusCode);

        // The read-only token can still install.
        var consumer = Path.Combine(_work, "ro-consumer");
        Directory.CreateDirectory(consumer);
        File.WriteAllText(Path.Combine(consumer, "package.json"), "{ \"name\": \"c\", \"version\": \"0.0.0\", \"private\": true }");
        (await Npm(readOnly, consumer, "install", "dup-pkg@2.0.0", "--no-audit")).AssertOk("install with read token");
    }

    /// <summary>`npm login` only prompts on a terminal: `script` gives it a pty, and a small driver answers each prompt
    /// once it appears. The password is an Arca token; npm saves the token the server returns and whoami works.</summary>
    [Fact]
    public async Task Npm_login_with_a_token_as_password_then_whoami()
    {
        Proc.Tool("script"); // util-linux: gives npm the terminal it insists on for prompts
        var npmrc = Path.Combine(_work, "npmrc-login");
        File.WriteAllText(npmrc, "update-notifier=false\n");
        var token = await _server.CreateTokenAsync("read", Registry, "login-user");
        var transcript = Path.Combine(_work, "login.typescript");
        var fifo = Path.Combine(_work, "login.fifo");
        var driver = $$"""
            set -e
            rm -f '{{fifo}}' '{{transcript}}'
            mkfifo '{{fifo}}'
            script -qfec "npm login --auth-type=legacy --registry {{_registryUrl}} --userconfig '{{npmrc}}' --cache '{{_work}}/cache-login'" '{{transcript}}' < '{{fifo}}' > /dev/null &
            pid=$!
            exec 3> '{{fifo}}'
            wait_for() { for i in $(seq 1 600); do grep -q "$1" '{{transcript}}' 2>/dev/null && return 0; sleep 0.1; done; echo "no prompt $1"; cat '{{transcript}}'; exit 1; }
            wait_for 'Username:'
            printf 'someone\r' >&3
            wait_for 'Password:'
            printf '%s\r' '{{token}}' >&3
            wait $pid
            """;
        (await Proc.RunAsync(Proc.Tool("bash"), ["-c", driver], _work, new Dictionary<string, string?> { ["NO_COLOR"] = "1" }, TimeSpan.FromMinutes(2)))
            .AssertOk($"npm login\n{(File.Exists(transcript) ? File.ReadAllText(transcript) : "")}");
        Assert.Contains($":_authToken={token}", File.ReadAllText(npmrc));
        var whoami = (await Npm(npmrc, _work, "whoami")).AssertOk("npm whoami after login");
        Assert.Equal("login-user", whoami.Stdout.Trim());

        // A password that is not an Arca token is refused.
        File.WriteAllText(npmrc, "update-notifier=false\n");
        var refused = await Proc.RunAsync(Proc.Tool("bash"), ["-c", driver.Replace(token, "not-a-token")], _work, new Dictionary<string, string?> { ["NO_COLOR"] = "1" }, TimeSpan.FromMinutes(2));
        Assert.NotEqual(0, refused.ExitCode);
        Assert.Contains("E401", File.ReadAllText(transcript)); // npm got as far as sending the login and was refused
        Assert.DoesNotContain("_authToken", File.ReadAllText(npmrc));
    }
}
