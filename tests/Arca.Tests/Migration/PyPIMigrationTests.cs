using System.Net;
using System.Security.Cryptography;
using System.Text.Json;
using Arca.Tests.Infrastructure;

namespace Arca.Tests.Migration;

/// <summary>`arca registry migrate` from a static PEP 503 repository (HTML pages written by the test, served by
/// `python3 -m http.server`) holding distributions built by the real `python -m build`: files equal by sha256,
/// requires-python and yanked kept, pip installs from Arca, a rerun skips everything.</summary>
public sealed class PyPIMigrationTests : IAsyncLifetime
{
    private const string Python = "/usr/bin/python3";
    private TestServer _dest = null!;
    private string _work = null!;

    private static readonly Dictionary<string, string?> QuietEnv = new()
    {
        ["PIP_DISABLE_PIP_VERSION_CHECK"] = "1", ["PIP_NO_INPUT"] = "1", ["PIP_CONFIG_FILE"] = "/dev/null", ["PYTHONDONTWRITEBYTECODE"] = "1",
        ["PIP_FIND_LINKS"] = null, ["PIP_EXTRA_INDEX_URL"] = null, ["PIP_INDEX_URL"] = null, ["PIP_NO_INDEX"] = null,
    };

    public async Task InitializeAsync()
    {
        _dest = await TestServer.StartAsync();
        _work = TempDir.Create("migrate-pypi");
    }

    public async Task DisposeAsync()
    {
        await _dest.DisposeAsync();
        TempDir.TryDelete(_work);
    }

    private async Task<string[]> BuildAsync(string name, string version, bool sdist)
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
            requires-python = ">=3.7"

            [tool.setuptools]
            packages = ["{module}"]
            """);
        File.WriteAllText(Path.Combine(dir, module, "__init__.py"), $"VALUE = '{name} {version}'\n");
        var dist = Path.Combine(dir, "dist");
        (await Proc.RunAsync(Python, ["-m", "build", "--no-isolation", sdist ? "--sdist" : "--wheel", "--outdir", dist, dir], dir, QuietEnv)).AssertOk("python -m build");
        if (sdist) (await Proc.RunAsync(Python, ["-m", "build", "--no-isolation", "--wheel", "--outdir", dist, dir], dir, QuietEnv)).AssertOk("python -m build --wheel");
        return Directory.GetFiles(dist);
    }

    private static string Sha256(string file) => Convert.ToHexStringLower(SHA256.HashData(File.ReadAllBytes(file)));

    private static async Task<Dictionary<string, JsonElement>> ArcaFilesAsync(HttpClient http, string registry, string project)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, $"pkg/{registry}/python/simple/{project}/");
        request.Headers.Accept.ParseAdd("application/vnd.pypi.simple.v1+json");
        var r = await http.SendAsync(request);
        Assert.True(r.IsSuccessStatusCode, $"{project}: {(int)r.StatusCode}");
        return JsonDocument.Parse(await r.Content.ReadAsStringAsync()).RootElement.GetProperty("files").EnumerateArray()
            .ToDictionary(f => f.GetProperty("filename").GetString()!, f => f.Clone());
    }

    [Fact]
    public async Task Static_simple_repository_files_arrive_verified_and_pip_installs_from_Arca()
    {
        var old = await BuildAsync("demo-lib", "1.0", sdist: true);
        var current = await BuildAsync("demo-lib", "1.1", sdist: false);
        var other = await BuildAsync("other_pkg", "0.1", sdist: false);

        // The repository: simple/ pages with #sha256 fragments, requires-python, and 1.0 yanked; files elsewhere.
        var repo = Path.Combine(_work, "repo");
        var files = Path.Combine(repo, "files");
        Directory.CreateDirectory(files);
        foreach (var f in old.Concat(current).Concat(other)) File.Copy(f, Path.Combine(files, Path.GetFileName(f)));
        string Link(string f, bool yanked) =>
            $"<a href=\"../../files/{Path.GetFileName(f)}#sha256={Sha256(f)}\" data-requires-python=\"&gt;=3.7\"{(yanked ? " data-yanked=\"broken build\"" : "")}>{Path.GetFileName(f)}</a><br/>\n";
        Directory.CreateDirectory(Path.Combine(repo, "simple", "demo-lib"));
        Directory.CreateDirectory(Path.Combine(repo, "simple", "other-pkg"));
        File.WriteAllText(Path.Combine(repo, "simple", "index.html"),
            "<!DOCTYPE html><html><body>\n<a href=\"demo-lib/\">demo-lib</a>\n<a href=\"other-pkg/\">other_pkg</a>\n</body></html>\n");
        File.WriteAllText(Path.Combine(repo, "simple", "demo-lib", "index.html"),
            "<!DOCTYPE html><html><body>\n" + string.Concat(old.Select(f => Link(f, true))) + string.Concat(current.Select(f => Link(f, false))) + "</body></html>\n");
        File.WriteAllText(Path.Combine(repo, "simple", "other-pkg", "index.html"),
            "<!DOCTYPE html><html><body>\n" + string.Concat(other.Select(f => Link(f, false))) + "</body></html>\n");
        await using var web = await StaticHttpServer.StartAsync(repo);

        var config = MigrateCli.WriteConfig(_work, web.BaseUrl, "PYPI", null, _dest.BaseUrl, """
              - artifactType: PYTHON
                destinationRegistry: py-copy
            """);
        var first = await _dest.MigrateOkAsync(config, _work);
        Assert.Equal(4, first[0].GetProperty("succeeded").GetInt32());
        Assert.Equal(0, first[0].GetProperty("failed").GetInt32());

        var demo = await ArcaFilesAsync(_dest.Admin, "py-copy", "demo-lib");
        Assert.Equal(old.Concat(current).Select(Path.GetFileName).Order(), demo.Keys.Order());
        foreach (var f in old.Concat(current))
        {
            var entry = demo[Path.GetFileName(f)];
            Assert.Equal(Sha256(f), entry.GetProperty("hashes").GetProperty("sha256").GetString());
            Assert.Equal(">=3.7", entry.GetProperty("requires-python").GetString());
            Assert.Equal(old.Contains(f) ? "broken build" : "False", entry.GetProperty("yanked").ToString());
        }
        var otherFiles = await ArcaFilesAsync(_dest.Admin, "py-copy", "other-pkg");
        Assert.Equal(Sha256(other.Single()), otherFiles[Path.GetFileName(other.Single())].GetProperty("hashes").GetProperty("sha256").GetString());

        // pip against Arca only: the yanked 1.0 is passed over, 1.1 installs and imports.
        var venv = Path.Combine(_work, "venv");
        (await Proc.RunAsync(Python, ["-m", "venv", venv], _work, QuietEnv)).AssertOk("python -m venv");
        var index = $"http://reader:{await _dest.CreateTokenAsync("read", "py-copy")}@{_dest.HostPort}/pkg/py-copy/python/simple/";
        (await Proc.RunAsync(Path.Combine(venv, "bin", "pip"), ["install", "--no-cache-dir", "--index-url", index, "demo-lib", "other-pkg"], _work, QuietEnv)).AssertOk("pip install from Arca");
        var run = (await Proc.RunAsync(Path.Combine(venv, "bin", "python"), ["-c", "import demo_lib, other_pkg; print(demo_lib.VALUE, '|', other_pkg.VALUE)"], _work, QuietEnv)).AssertOk("import");
        Assert.Equal("demo-lib 1.1 | other_pkg 0.1", run.Stdout.Trim());

        var again = await _dest.MigrateOkAsync(config, _work);
        Assert.Equal(0, again[0].GetProperty("succeeded").GetInt32());
        Assert.Equal(4, again[0].GetProperty("skipped").GetInt32());
        Assert.Equal(0, again[0].GetProperty("bytes").GetInt64());
    }
}
