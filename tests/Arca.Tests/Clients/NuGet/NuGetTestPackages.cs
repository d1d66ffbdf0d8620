using Arca.Tests.Infrastructure;

namespace Arca.Tests.Clients.NuGet;

/// <summary>Builds real .nupkg files with `dotnet pack` of a tiny class library; restore needs no network (sources: the
/// local offline folder when present, and the folder of packages packed before).</summary>
public static class NuGetTestPackages
{
    public const string OfflineSource = "/opt/nuget/packages";

    public static async Task<string> PackAsync(string workDir, string id, string version, string? dependencyId = null, string? dependencyVersion = null)
    {
        var project = Path.Combine(workDir, $"src-{id}-{version}");
        Directory.CreateDirectory(project);
        var reference = dependencyId is null ? "" : $"""<ItemGroup><PackageReference Include="{dependencyId}" Version="{dependencyVersion}" /></ItemGroup>""";
        File.WriteAllText(Path.Combine(project, $"{id}.csproj"), $"""
            <Project Sdk="Microsoft.NET.Sdk">
              <PropertyGroup>
                <TargetFramework>net10.0</TargetFramework>
                <PackageId>{id}</PackageId>
                <Version>{version}</Version>
                <Authors>Acme</Authors>
                <Description>Test package {id}</Description>
                <PackageTags>arca test</PackageTags>
              </PropertyGroup>
              {reference}
            </Project>
            """);
        File.WriteAllText(Path.Combine(project, "Greeter.cs"),
            $"namespace {id.Replace('-', '_')}; public static class Greeter {{ public static string Hello() => \"hello from {id} {version}\"; }}");
        // Dependencies of a test package come from packages packed before it (the output folder).
        var output = Path.Combine(workDir, "nupkgs");
        Directory.CreateDirectory(output);
        // A plain class library needs no packages; the machine's offline folder is added only where it exists.
        var offline = Directory.Exists(OfflineSource) ? $"""<add key="offline" value="{OfflineSource}" />""" : "";
        File.WriteAllText(Path.Combine(project, "nuget.config"), $"""
            <?xml version="1.0" encoding="utf-8"?>
            <configuration><packageSources><clear />{offline}<add key="packed" value="{output}" /></packageSources></configuration>
            """);
        (await Proc.RunAsync("dotnet", ["pack", "-c", "Release", "-o", output, "--nologo"], project, Env(workDir), TimeSpan.FromMinutes(4)))
            .AssertOk($"dotnet pack {id} {version}");
        return Path.Combine(output, $"{id}.{version}.nupkg");
    }

    /// <summary>An isolated NuGet environment: empty package folder, no user-level config.</summary>
    public static Dictionary<string, string?> Env(string workDir) => new()
    {
        ["NUGET_PACKAGES"] = Path.Combine(workDir, "nuget-packages"),
        ["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1",
        ["DOTNET_NOLOGO"] = "1",
        ["DOTNET_SKIP_FIRST_TIME_EXPERIENCE"] = "1",
        ["NUGET_HTTP_CACHE_PATH"] = Path.Combine(workDir, "http-cache"),
        ["MSBUILDDISABLENODEREUSE"] = "1",
    };
}
