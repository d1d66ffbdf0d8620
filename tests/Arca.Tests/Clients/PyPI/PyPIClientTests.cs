using System.Net;
using System.Security.Cryptography;
using Arca.Tests.Infrastructure;

namespace Arca.Tests.Clients.PyPI;

/// <summary>twine upload of a wheel and an sdist built by `python -m build`, then pip install / pip download from a
/// fresh venv against Arca's simple index only; duplicate and read-only refusals as twine reports them.</summary>
public sealed class PyPIClientTests : IAsyncLifetime
{
    private const string Registry = "py-local";
    private const string Python = "/usr/bin/python3";
    private TestServer _server = null!;
    private string _work = null!;
    private string _token = null!;

    public async Task InitializeAsync()
    {
        _server = await TestServer.StartAsync();
        await _server.CreateRegistryAsync(Registry, "PYTHON");
        _token = await _server.CreateTokenAsync("write", Registry);
        _work = TempDir.Create("pypi-client");
    }

    public async Task DisposeAsync()
    {
        await _server.DisposeAsync();
        TempDir.TryDelete(_work);
    }

    private string UploadUrl => $"{_server.BaseUrl}/pkg/{Registry}/python/";

    private static readonly Dictionary<string, string?> QuietEnv = new()
    {
        ["PIP_DISABLE_PIP_VERSION_CHECK"] = "1", ["PIP_NO_INPUT"] = "1", ["PIP_CONFIG_FILE"] = "/dev/null", ["PYTHONDONTWRITEBYTECODE"] = "1",
        // Nothing but Arca: no find-links or extra indexes from the machine's environment.
        ["PIP_FIND_LINKS"] = null, ["PIP_EXTRA_INDEX_URL"] = null, ["PIP_INDEX_URL"] = null, ["PIP_NO_INDEX"] = null,
        ["TWINE_USERNAME"] = null, ["TWINE_PASSWORD"] = null, ["TWINE_REPOSITORY_URL"] = null,
    };

    /// <summary>Writes a minimal setuptools project and builds its wheel and sdist with the real `build` frontend.</summary>
    private async Task<string[]> BuildDistributionsAsync(string name, string version)
    {
        var module = name.Replace('-', '_');
        var dir = Path.Combine(_work, $"{module}-{version}-src");
        Directory.CreateDirectory(Path.Combine(dir, module));
        File.WriteAllText(Path.Combine(dir, "pyproject.toml"), $"""
            [build-system]
            requires = ["setuptools"]
            build-backend = "setuptools.build_meta"

            [project]
            name = "{name}"
            version = "{version}"
            description = "Arca test package"
            requires-python = ">=3.7"

            [tool.setuptools]
            packages = ["{module}"]
            """);
        File.WriteAllText(Path.Combine(dir, module, "__init__.py"), $"VALUE = '{name} {version}'\n");
        var dist = Path.Combine(dir, "dist");
        (await Proc.RunAsync(Python, ["-m", "build", "--no-isolation", "--outdir", dist, dir], dir, QuietEnv)).AssertOk("python -m build");
        var files = Directory.GetFiles(dist).OrderBy(f => f, StringComparer.Ordinal).ToArray();
        Assert.Contains(files, f => f.EndsWith(".whl", StringComparison.Ordinal));
        Assert.Contains(files, f => f.EndsWith(".tar.gz", StringComparison.Ordinal));
        return files;
    }

    private Task<ProcResult> Twine(string token, params string[] files) =>
        Proc.RunAsync(Proc.Tool("twine"), ["upload", "--repository-url", UploadUrl, "-u", "__token__", "-p", token,
            "--non-interactive", "--disable-progress-bar", .. files], _work, QuietEnv);

    [Fact]
    public async Task Twine_upload_then_pip_install_and_download_from_a_fresh_venv()
    {
        var files = await BuildDistributionsAsync("arca-demo", "1.0");
        (await Twine(_token, files)).AssertOk("twine upload");

        var venv = Path.Combine(_work, "venv");
        (await Proc.RunAsync(Python, ["-m", "venv", venv], _work, QuietEnv)).AssertOk("python -m venv");
        var pip = Path.Combine(venv, "bin", "pip");
        var index = $"http://reader:{await _server.CreateTokenAsync("read", Registry)}@{_server.HostPort}/pkg/{Registry}/python/simple/";
        var install = (await Proc.RunAsync(pip, ["install", "--no-cache-dir", "--index-url", index, "arca-demo==1.0"], _work, QuietEnv)).AssertOk("pip install");
        Assert.Contains($"{_server.BaseUrl}/pkg/{Registry}/python/files/arca-demo/1.0/arca_demo-1.0-py3-none-any.whl", install.All);
        var run = (await Proc.RunAsync(Path.Combine(venv, "bin", "python"), ["-c", "import arca_demo; print(arca_demo.VALUE)"], _work, QuietEnv)).AssertOk("import");
        Assert.Equal("arca-demo 1.0", run.Stdout.Trim());

        // pip download of the sdist (no build needed) and of the wheel; bytes must equal what was uploaded.
        var downloads = Path.Combine(_work, "downloads");
        (await Proc.RunAsync(pip, ["download", "--no-cache-dir", "--no-deps", "--index-url", index, "--only-binary", ":all:", "-d", downloads, "arca-demo==1.0"], _work, QuietEnv))
            .AssertOk("pip download wheel");
        var wheel = files.Single(f => f.EndsWith(".whl", StringComparison.Ordinal));
        Assert.Equal(SHA256.HashData(File.ReadAllBytes(wheel)), SHA256.HashData(File.ReadAllBytes(Path.Combine(downloads, Path.GetFileName(wheel)))));

        // Non-normalized project URLs redirect to the normalized one, which pip follows.
        var second = Path.Combine(_work, "downloads-2");
        var redirected = (await Proc.RunAsync(pip, ["download", "--no-cache-dir", "--no-deps", "--index-url", index, "--only-binary", ":all:", "-d", second, "Arca_Demo==1.0"], _work, QuietEnv))
            .AssertOk("pip download by a non-normalized name");
        Assert.Contains($"/pkg/{Registry}/python/files/arca-demo/1.0/", redirected.All);
        Assert.True(File.Exists(Path.Combine(second, Path.GetFileName(wheel))));

        // The sdist is served byte for byte at the URL the index gives.
        var sdist = files.Single(f => f.EndsWith(".tar.gz", StringComparison.Ordinal));
        var served = await _server.Admin.GetByteArrayAsync($"pkg/{Registry}/python/files/arca-demo/1.0/{Path.GetFileName(sdist)}");
        Assert.Equal(File.ReadAllBytes(sdist), served);
    }

    [Fact]
    public async Task Duplicate_upload_is_409_and_read_only_token_is_403()
    {
        var files = await BuildDistributionsAsync("dup-demo", "2.0");
        var wheel = files.Single(f => f.EndsWith(".whl", StringComparison.Ordinal));
        (await Twine(_token, wheel)).AssertOk("first twine upload");
        var again = await Twine(_token, wheel);
        Assert.NotEqual(0, again.ExitCode);
        Assert.Contains("409", again.All);
        Assert.Contains("File already exists", again.All);

        var sdist = files.Single(f => f.EndsWith(".tar.gz", StringComparison.Ordinal));
        var denied = await Twine(await _server.CreateTokenAsync("read", Registry), sdist);
        Assert.NotEqual(0, denied.ExitCode);
        Assert.Contains("403", denied.All);
        var index = await _server.Admin.GetStringAsync($"pkg/{Registry}/python/simple/dup-demo/");
        Assert.Contains(Path.GetFileName(wheel), index);
        Assert.DoesNotContain(Path.GetFileName(sdist), index);
    }
}
