using System.Text.Json;
using Arca.Tests.Http.NuGet;
using Arca.Tests.Infrastructure;

namespace Arca.Tests.Clients.NuGet;

/// <summary>`arca artifact push|pull nuget` against the same endpoints dotnet uses.</summary>
public sealed class NuGetCliTests : IAsyncLifetime
{
    private TestServer _server = null!;
    private string _work = null!;

    public async Task InitializeAsync()
    {
        _server = await TestServer.StartAsync();
        await _server.CreateRegistryAsync("nu-cli", "NUGET");
        _work = TempDir.Create("nuget-cli");
    }

    public async Task DisposeAsync()
    {
        await _server.DisposeAsync();
        TempDir.TryDelete(_work);
    }

    [Fact]
    public async Task Push_then_pull_round_trips_and_refuses_duplicates_corrupt_packages_and_read_only_tokens()
    {
        var nupkg = Path.Combine(_work, "Acme.Cli.1.0.0.nupkg");
        await File.WriteAllBytesAsync(nupkg, NuGetHttpTests.Nupkg("Acme.Cli", "1.0"));
        var push = (await ArcaCli.RunAsync(_server, "artifact", "push", "nuget", "nu-cli", nupkg)).AssertOk("push nuget");
        Assert.Contains("Acme.Cli 1.0.0", push.Stderr);

        var dup = await ArcaCli.RunAsync(_server, "artifact", "push", "nuget", "nu-cli", nupkg);
        Assert.NotEqual(0, dup.ExitCode);
        Assert.Contains("409", dup.Stderr);

        var corrupt = Path.Combine(_work, "broken.nupkg");
        await File.WriteAllBytesAsync(corrupt, "not a zip"u8.ToArray());
        Assert.NotEqual(0, (await ArcaCli.RunAsync(_server, "artifact", "push", "nuget", "nu-cli", corrupt)).ExitCode);

        var readOnly = await _server.CreateTokenAsync("read", "nu-cli");
        var other = Path.Combine(_work, "Acme.Ro.1.0.0.nupkg");
        await File.WriteAllBytesAsync(other, NuGetHttpTests.Nupkg("Acme.Ro", "1.0.0"));
        var denied = await ArcaCli.RunAsync(_server.BaseUrl, readOnly, ["artifact", "push", "nuget", "nu-cli", other]);
        Assert.NotEqual(0, denied.ExitCode);
        Assert.Contains("403", denied.Stderr);

        var outDir = Path.Combine(_work, "out");
        Directory.CreateDirectory(outDir);
        (await ArcaCli.RunAsync(_server.BaseUrl, readOnly, ["artifact", "pull", "nuget", "nu-cli", "Acme.Cli/1.0", outDir])).AssertOk("pull nuget");
        Assert.Equal(await File.ReadAllBytesAsync(nupkg), await File.ReadAllBytesAsync(Path.Combine(outDir, "acme.cli.1.0.0.nupkg")));

        // The generic management commands see the package, its version and files.
        var list = (await ArcaCli.RunAsync(_server, "artifact", "list", "--registry", "nu-cli", "--format", "json")).AssertOk("artifact list");
        var names = JsonDocument.Parse(list.Stdout).RootElement.GetProperty("items").EnumerateArray().Select(p => p.GetProperty("name").GetString());
        Assert.Equal(["acme.cli"], names);
    }
}
