using System.IO.Compression;
using Arca.Tests.Infrastructure;

namespace Arca.Tests.Clients.Go;

/// <summary>The real `go` command against Arca as its only GOPROXY, with modules pushed by `arca artifact push go`.
/// The registry is public: go never sends credentials to an http:// proxy (auth is covered at HTTP level).</summary>
public sealed class GoClientTests : IAsyncLifetime
{
    private TestServer _server = null!;
    private string _work = null!;
    private const string Reg = "go-public";

    public async Task InitializeAsync()
    {
        _server = await TestServer.StartAsync();
        await _server.CreateRegistryAsync(Reg, "GO", isPublic: true);
        _work = TempDir.Create("go-client");
    }

    public async Task DisposeAsync()
    {
        await _server.DisposeAsync();
        TempDir.TryDelete(_work);
    }

    private static string Write(string dir, string rel, string content)
    {
        var path = Path.Combine(dir, rel);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllText(path, content);
        return path;
    }

    private Task<ProcResult> Arca(params string[] args) => ArcaCli.RunAsync(_server.BaseUrl, _server.AdminToken, args, _work);

    private Task<ProcResult> Go(string dir, params string[] args) =>
        GoTool.RunAsync(_work, $"{_server.BaseUrl}/pkg/{Reg}/go", dir, args);

    [Fact]
    public async Task Go_downloads_and_builds_a_consumer_of_pushed_modules_with_a_dependency()
    {
        // lib: besides its own files it has things the module zip rules leave out.
        var lib = Path.Combine(_work, "lib");
        Write(lib, "go.mod", "module example.com/acme/lib\n\ngo 1.19\n");
        Write(lib, "lib.go", "package lib\n\n// Answer is what app re-exports.\nfunc Answer() int { return 42 }\n");
        Write(lib, "internal/helper/helper.go", "package helper\n\nconst Name = \"helper\"\n");
        Write(lib, ".git/config", "[core]\n");
        Write(lib, "tools/go.mod", "module example.com/acme/lib/tools\n\ngo 1.19\n");
        Write(lib, "tools/tool.go", "package tools\n");
        Write(lib, "vendor/example.com/dep/dep.go", "package dep\n");
        (await Arca("artifact", "push", "go", Reg, lib, "--version", "v1.0.0")).AssertOk("push lib");

        var app = Path.Combine(_work, "app");
        Write(app, "go.mod", "module example.com/acme/app\n\ngo 1.19\n\nrequire example.com/acme/lib v1.0.0\n");
        Write(app, "app.go", "package app\n\nimport \"example.com/acme/lib\"\n\nfunc Message() string { return \"answer=\" + itoa(lib.Answer()) }\n\nfunc itoa(n int) string {\n\tif n == 0 {\n\t\treturn \"0\"\n\t}\n\ts := \"\"\n\tfor n > 0 {\n\t\ts = string(rune('0'+n%10)) + s\n\t\tn /= 10\n\t}\n\treturn s\n}\n");
        (await Arca("artifact", "push", "go", Reg, app, "--version", "v1.0.0")).AssertOk("push app");
        // A newer pre-release must not become @latest.
        (await Arca("artifact", "push", "go", Reg, app, "--version", "v1.1.0-rc.1")).AssertOk("push app pre-release");

        // Duplicate push is refused.
        var dup = await Arca("artifact", "push", "go", Reg, lib, "--version", "v1.0.0");
        Assert.NotEqual(0, dup.ExitCode);
        Assert.Contains("409", dup.All);

        var get = await Arca("--format", "json", "registry", "get", Reg);
        Assert.Contains($"{_server.BaseUrl}/pkg/{Reg}/go", get.AssertOk("registry get").Stdout);

        var consumer = Path.Combine(_work, "consumer");
        Write(consumer, "go.mod", "module example.com/consumer\n\ngo 1.19\n\nrequire example.com/acme/app v1.0.0\n");
        Write(consumer, "main.go", "package main\n\nimport (\n\t\"fmt\"\n\n\t\"example.com/acme/app\"\n)\n\nfunc main() { fmt.Println(app.Message()) }\n");
        (await Go(consumer, "mod", "tidy")).AssertOk("go mod tidy");
        (await Go(consumer, "mod", "download", "-x", "all")).AssertOk("go mod download");
        var sum = await File.ReadAllTextAsync(Path.Combine(consumer, "go.sum"));
        Assert.Contains("example.com/acme/lib v1.0.0 h1:", sum);
        Assert.Contains("example.com/acme/app v1.0.0 h1:", sum);
        (await Go(consumer, "build", "-o", "consumer-bin", ".")).AssertOk("go build");
        var run = await Proc.RunAsync(Path.Combine(consumer, "consumer-bin"), [], consumer);
        Assert.Equal("answer=42", run.AssertOk("run consumer").Stdout.Trim());

        // go's own @latest resolution through the proxy.
        var latest = await Go(consumer, "list", "-m", "-json", "example.com/acme/app@latest");
        Assert.Contains("\"Version\": \"v1.0.0\"", latest.AssertOk("go list @latest").Stdout);
        var versions = await Go(consumer, "list", "-m", "-versions", "example.com/acme/app");
        Assert.Contains("v1.0.0 v1.1.0-rc.1", versions.AssertOk("go list -versions").Stdout);

        // The module zip followed the zip rules: no VCS dir, no nested module, no vendored package.
        var pulled = Path.Combine(_work, "pulled");
        Directory.CreateDirectory(pulled);
        (await Arca("artifact", "pull", "go", Reg, "example.com/acme/lib@v1.0.0", pulled)).AssertOk("pull lib");
        using var zip = ZipFile.OpenRead(Path.Combine(pulled, "lib@v1.0.0.zip"));
        Assert.Equal(
            ["example.com/acme/lib@v1.0.0/go.mod", "example.com/acme/lib@v1.0.0/internal/helper/helper.go", "example.com/acme/lib@v1.0.0/lib.go"],
            zip.Entries.Select(e => e.FullName).Order(StringComparer.Ordinal));
    }

    [Fact]
    public async Task Cli_push_with_a_read_only_token_is_refused()
    {
        var lib = Path.Combine(_work, "ro");
        Write(lib, "go.mod", "module example.com/acme/ro\n\ngo 1.19\n");
        Write(lib, "ro.go", "package ro\n");
        var readToken = await _server.CreateTokenAsync("read", Reg);
        var r = await ArcaCli.RunAsync(_server.BaseUrl, readToken, ["artifact", "push", "go", Reg, lib, "--version", "v1.0.0"], _work);
        Assert.NotEqual(0, r.ExitCode);
        Assert.Contains("403", r.All);
        var list = await _server.Anonymous.GetAsync($"pkg/{Reg}/go/example.com/acme/ro/@v/list");
        Assert.Equal(System.Net.HttpStatusCode.NotFound, list.StatusCode);
    }
}
