using System.Security.Cryptography;
using Arca.Tests.Infrastructure;

namespace Arca.Tests.Clients.NuGet;

/// <summary>Real `dotnet nuget push` and `dotnet restore` against a private Arca NuGet registry.</summary>
public sealed class NuGetClientTests : IAsyncLifetime
{
    private TestServer _server = null!;
    private string _work = null!;
    private string _source = null!;
    private string _token = null!;

    public async Task InitializeAsync()
    {
        _server = await TestServer.StartAsync();
        await _server.CreateRegistryAsync("nuget-local", "NUGET");
        _source = $"{_server.BaseUrl}/pkg/nuget-local/nuget/index.json";
        _token = await _server.CreateTokenAsync("write", "nuget-local");
        _work = TempDir.Create("nuget-client");
    }

    public async Task DisposeAsync()
    {
        await _server.DisposeAsync();
        TempDir.TryDelete(_work);
    }

    private string WriteConfig(string dir)
    {
        Directory.CreateDirectory(dir);
        var path = Path.Combine(dir, "nuget.config");
        File.WriteAllText(path, $"""
            <?xml version="1.0" encoding="utf-8"?>
            <configuration>
              <packageSources>
                <clear />
                <add key="arca" value="{_source}" allowInsecureConnections="true" />
              </packageSources>
              <packageSourceCredentials>
                <arca>
                  <add key="Username" value="ci" />
                  <add key="ClearTextPassword" value="{_token}" />
                </arca>
              </packageSourceCredentials>
            </configuration>
            """);
        return path;
    }

    /// <summary>Without <paramref name="config"/>: exactly `dotnet nuget push x.nupkg -s URL -k TOKEN`, no stored credentials.</summary>
    private Task<ProcResult> PushAsync(string nupkg, string? config) =>
        Proc.RunAsync("dotnet", ["nuget", "push", nupkg, "-s", _source, "-k", _token, "--allow-insecure-connections", .. (config is null ? Array.Empty<string>() : ["--configfile", config])],
            _work, NuGetTestPackages.Env(_work), TimeSpan.FromMinutes(3));

    [Fact]
    public async Task Push_then_restore_and_build_a_consumer_from_an_empty_packages_folder()
    {
        var basePkg = await NuGetTestPackages.PackAsync(_work, "Acme.Base", "1.0.0");
        var greeter = await NuGetTestPackages.PackAsync(_work, "Acme.Greeter", "1.2.0", "Acme.Base", "1.0.0");
        var config = WriteConfig(Path.Combine(_work, "push"));
        (await PushAsync(basePkg, null)).AssertOk("dotnet nuget push Acme.Base (API key only)");
        (await PushAsync(greeter, config)).AssertOk("dotnet nuget push Acme.Greeter (with source credentials)");

        // A duplicate push fails with the 409 the client expects.
        var again = await PushAsync(greeter, config);
        Assert.NotEqual(0, again.ExitCode);
        Assert.Contains("409", again.All);

        // Consumer: depends on Acme.Greeter only; Acme.Base comes transitively from the same source.
        var consumer = Path.Combine(_work, "consumer");
        WriteConfig(consumer);
        File.WriteAllText(Path.Combine(consumer, "Consumer.csproj"), """
            <Project Sdk="Microsoft.NET.Sdk">
              <PropertyGroup><TargetFramework>net10.0</TargetFramework><OutputType>Library</OutputType></PropertyGroup>
              <ItemGroup><PackageReference Include="Acme.Greeter" Version="1.2.0" /></ItemGroup>
            </Project>
            """);
        File.WriteAllText(Path.Combine(consumer, "Use.cs"), "public static class Use { public static string Go() => Acme.Greeter.Greeter.Hello() + Acme.Base.Greeter.Hello(); }");
        var env = NuGetTestPackages.Env(Path.Combine(_work, "restore"));
        (await Proc.RunAsync("dotnet", ["restore", "--no-http-cache", "--nologo"], consumer, env, TimeSpan.FromMinutes(3))).AssertOk("dotnet restore");
        (await Proc.RunAsync("dotnet", ["build", "--no-restore", "--nologo"], consumer, env, TimeSpan.FromMinutes(3))).AssertOk("dotnet build");

        // The restored package is byte-for-byte the pushed one.
        var restored = Path.Combine(env["NUGET_PACKAGES"]!, "acme.greeter", "1.2.0", "acme.greeter.1.2.0.nupkg");
        Assert.Equal(SHA512.HashData(File.ReadAllBytes(greeter)), SHA512.HashData(File.ReadAllBytes(restored)));
        Assert.True(File.Exists(Path.Combine(env["NUGET_PACKAGES"]!, "acme.base", "1.0.0", "acme.base.1.0.0.nupkg")));

        // `dotnet nuget delete` unlists: hidden from search, still restorable. (delete has no --allow-insecure-connections;
        // the consumer's nuget.config allows the http source.)
        (await Proc.RunAsync("dotnet", ["nuget", "delete", "Acme.Greeter", "1.2.0", "-s", _source, "-k", _server.AdminToken, "--non-interactive"],
            consumer, NuGetTestPackages.Env(_work), TimeSpan.FromMinutes(3))).AssertOk("dotnet nuget delete");
        var search = await _server.Admin.GetStringAsync("pkg/nuget-local/nuget/query?q=acme.greeter");
        Assert.Contains("\"totalHits\":0", search);
        Assert.True((await _server.Admin.GetAsync("pkg/nuget-local/nuget/v3-flatcontainer/acme.greeter/1.2.0/acme.greeter.1.2.0.nupkg")).IsSuccessStatusCode);
    }
}
