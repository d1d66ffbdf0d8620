using Arca.Tests.Http.PyPI;
using Arca.Tests.Infrastructure;

namespace Arca.Tests.Clients.PyPI;

/// <summary>`arca artifact push|pull python` against a real server; pip installs what the CLI pushed.</summary>
public sealed class PythonCliTransferTests : IAsyncLifetime
{
    private const string Registry = "py-cli";
    private TestServer _server = null!;
    private string _work = null!;

    public async Task InitializeAsync()
    {
        _server = await TestServer.StartAsync();
        await _server.CreateRegistryAsync(Registry, "PYTHON");
        _work = TempDir.Create("py-cli");
    }

    public async Task DisposeAsync()
    {
        await _server.DisposeAsync();
        TempDir.TryDelete(_work);
    }

    [Fact]
    public async Task Push_wheel_and_sdist_then_pull_back_and_pip_download()
    {
        var wheel = Path.Combine(_work, "cli_pushed-0.3-py3-none-any.whl");
        var sdist = Path.Combine(_work, "cli_pushed-0.3.tar.gz");
        File.WriteAllBytes(wheel, PyPIProtocolTests.Wheel("cli-pushed", "0.3"));
        File.WriteAllBytes(sdist, PyPIProtocolTests.Sdist("cli-pushed", "0.3"));

        (await ArcaCli.RunAsync(_server, "artifact", "push", "python", Registry, wheel)).AssertOk("push wheel");
        (await ArcaCli.RunAsync(_server, "artifact", "push", "python", Registry, sdist)).AssertOk("push sdist");
        var again = await ArcaCli.RunAsync(_server, "artifact", "push", "python", Registry, wheel);
        Assert.NotEqual(0, again.ExitCode);
        Assert.Contains("File already exists", again.All);

        var pulled = Path.Combine(_work, "pulled");
        Directory.CreateDirectory(pulled);
        (await ArcaCli.RunAsync(_server, "artifact", "pull", "python", Registry, $"cli-pushed/0.3/{Path.GetFileName(wheel)}", pulled)).AssertOk("pull wheel");
        Assert.Equal(File.ReadAllBytes(wheel), File.ReadAllBytes(Path.Combine(pulled, Path.GetFileName(wheel))));

        // pip finds what the CLI pushed through the simple index.
        var downloads = Path.Combine(_work, "pip");
        var index = $"http://u:{_server.AdminToken}@{_server.HostPort}/pkg/{Registry}/python/simple/";
        (await Proc.RunAsync("/usr/bin/python3", ["-m", "pip", "download", "--no-cache-dir", "--no-deps", "--only-binary", ":all:", "--index-url", index, "-d", downloads, "cli-pushed==0.3"],
            _work, new Dictionary<string, string?> { ["PIP_FIND_LINKS"] = null, ["PIP_CONFIG_FILE"] = "/dev/null", ["PIP_DISABLE_PIP_VERSION_CHECK"] = "1" })).AssertOk("pip download");
        Assert.Equal(File.ReadAllBytes(wheel), File.ReadAllBytes(Path.Combine(downloads, Path.GetFileName(wheel))));

        var bad = Path.Combine(_work, "bad");
        var missing = await ArcaCli.RunAsync(_server, "artifact", "pull", "python", Registry, "cli-pushed/0.3/nope-0.3.tar.gz", bad);
        Assert.NotEqual(0, missing.ExitCode);
        Assert.False(File.Exists(bad));
    }
}
