using System.Text.Json;
using Arca.Tests.Http.Npm;
using Arca.Tests.Infrastructure;

namespace Arca.Tests.Clients.Npm;

/// <summary>`arca artifact push|pull npm` against a real server, with the real npm installing what the CLI pushed.</summary>
public sealed class NpmCliTransferTests : IAsyncLifetime
{
    private const string Registry = "npm-cli";
    private TestServer _server = null!;
    private string _work = null!;

    public async Task InitializeAsync()
    {
        _server = await TestServer.StartAsync();
        await _server.CreateRegistryAsync(Registry, "NPM");
        _work = TempDir.Create("npm-cli");
    }

    public async Task DisposeAsync()
    {
        await _server.DisposeAsync();
        TempDir.TryDelete(_work);
    }

    [Fact]
    public async Task Push_then_npm_install_and_pull_back()
    {
        var tgz = NpmProtocolTests.Tarball("@acme/cli-pushed", "3.1.4", code: "module.exports = 'from the cli';\n");
        var file = Path.Combine(_work, "acme-cli-pushed-3.1.4.tgz");
        File.WriteAllBytes(file, tgz);

        (await ArcaCli.RunAsync(_server, "artifact", "push", "npm", Registry, file, "--tag", "stable")).AssertOk("arca artifact push npm");
        var again = await ArcaCli.RunAsync(_server, "artifact", "push", "npm", Registry, file);
        Assert.NotEqual(0, again.ExitCode);
        Assert.Contains("409", again.All);

        // Real npm installs what the CLI published.
        var registryUrl = $"{_server.BaseUrl}/pkg/{Registry}/npm/";
        var npmrc = Path.Combine(_work, "npmrc");
        File.WriteAllText(npmrc, $"registry={registryUrl}\n{registryUrl[registryUrl.IndexOf("//", StringComparison.Ordinal)..]}:_authToken={_server.AdminToken}\n");
        var consumer = Path.Combine(_work, "consumer");
        Directory.CreateDirectory(consumer);
        File.WriteAllText(Path.Combine(consumer, "package.json"), "{ \"name\": \"c\", \"version\": \"0.0.0\", \"private\": true }");
        (await Proc.RunAsync(Proc.Tool("npm"), ["install", "@acme/cli-pushed@stable", "--userconfig", npmrc, "--cache", Path.Combine(_work, "cache"), "--no-audit", "--no-fund"],
            consumer, new Dictionary<string, string?> { ["NPM_CONFIG_USERCONFIG"] = npmrc })).AssertOk("npm install");
        Assert.Equal("module.exports = 'from the cli';\n", File.ReadAllText(Path.Combine(consumer, "node_modules", "@acme", "cli-pushed", "index.js")));

        // Pull by version and by tag; bytes are what was pushed.
        var pulled = Path.Combine(_work, "pulled.tgz");
        (await ArcaCli.RunAsync(_server, "artifact", "pull", "npm", Registry, "@acme/cli-pushed@3.1.4", pulled)).AssertOk("arca artifact pull npm");
        Assert.Equal(tgz, File.ReadAllBytes(pulled));
        var dir = Path.Combine(_work, "by-tag");
        Directory.CreateDirectory(dir);
        (await ArcaCli.RunAsync(_server, "artifact", "pull", "npm", Registry, "@acme/cli-pushed@stable", dir)).AssertOk("pull by tag");
        Assert.Equal(tgz, File.ReadAllBytes(Path.Combine(dir, "cli-pushed-3.1.4.tgz")));

        // The generic artifact commands see it as a package with one version.
        var list = (await ArcaCli.RunAsync(_server, "artifact", "list", "--registry", Registry, "--format", "json")).AssertOk("artifact list");
        Assert.Contains("@acme/cli-pushed", list.Stdout);
        var missing = await ArcaCli.RunAsync(_server, "artifact", "pull", "npm", Registry, "@acme/cli-pushed@9.9.9", pulled);
        Assert.NotEqual(0, missing.ExitCode);
    }
}
