using System.IO.Compression;
using System.Xml.Linq;
using Arca.Tests.Infrastructure;

namespace Arca.Tests.Clients.Maven;

/// <summary>`arca artifact push|pull maven`, checked against real Maven resolving what the CLI deployed.</summary>
public sealed class MavenCliTests : IAsyncLifetime
{
    private TestServer _server = null!;
    private string _work = null!;

    public async Task InitializeAsync()
    {
        _server = await TestServer.StartAsync();
        await _server.CreateRegistryAsync("mvn-cli", "MAVEN");
        _work = TempDir.Create("maven-cli");
    }

    public async Task DisposeAsync()
    {
        await _server.DisposeAsync();
        TempDir.TryDelete(_work);
    }

    private string Write(string name, Action<ZipArchive> fill)
    {
        var path = Path.Combine(_work, name);
        using var zip = ZipFile.Open(path, ZipArchiveMode.Create);
        fill(zip);
        return path;
    }

    private static void Entry(ZipArchive zip, string name, string text)
    {
        using var w = new StreamWriter(zip.CreateEntry(name).Open());
        w.Write(text);
    }

    [Fact]
    public async Task Push_jar_with_pom_and_snapshots_then_pull_and_resolve_with_mvn()
    {
        var jar = Write("tool.jar", z => Entry(z, "tool.txt", "tool 2.0"));
        var sources = Write("tool-sources.jar", z => Entry(z, "Tool.java", "class Tool {}"));
        var pom = Path.Combine(_work, "pom.xml");
        File.WriteAllText(pom, """
            <project xmlns="http://maven.apache.org/POM/4.0.0"><modelVersion>4.0.0</modelVersion>
              <groupId>org.example</groupId><artifactId>tool</artifactId><version>2.0</version><name>Tool</name>
            </project>
            """);
        (await ArcaCli.RunAsync(_server, "artifact", "push", "maven", "mvn-cli", jar, "--pom", pom)).AssertOk("push jar+pom");
        (await ArcaCli.RunAsync(_server, "artifact", "push", "maven", "mvn-cli", sources, "--pom", pom, "--classifier", "sources")).AssertOk("push sources");
        var dup = await ArcaCli.RunAsync(_server, "artifact", "push", "maven", "mvn-cli", jar, "--pom", pom);
        Assert.NotEqual(0, dup.ExitCode);
        Assert.Contains("already", dup.Stderr);

        // SNAPSHOTs from coordinates flags: two pushes are builds 1 and 2.
        var snap1 = Write("s1.jar", z => Entry(z, "v", "one"));
        var snap2 = Write("s2.jar", z => Entry(z, "v", "two"));
        foreach (var s in new[] { snap1, snap2 })
            (await ArcaCli.RunAsync(_server, "artifact", "push", "maven", "mvn-cli", s, "--group-id", "org.example", "--artifact-id", "tool", "--version", "2.1-SNAPSHOT"))
                .AssertOk("push snapshot");
        var snapMeta = XDocument.Parse(await _server.Admin.GetStringAsync("pkg/mvn-cli/maven/org/example/tool/2.1-SNAPSHOT/maven-metadata.xml"));
        Assert.Equal("2", snapMeta.Descendants("buildNumber").Single().Value);

        var outDir = Path.Combine(_work, "out");
        Directory.CreateDirectory(outDir);
        (await ArcaCli.RunAsync(_server, "artifact", "pull", "maven", "mvn-cli", "org.example:tool:2.0", outDir)).AssertOk("pull jar");
        Assert.Equal(File.ReadAllBytes(jar), File.ReadAllBytes(Path.Combine(outDir, "tool-2.0.jar")));
        (await ArcaCli.RunAsync(_server, "artifact", "pull", "maven", "mvn-cli", "org.example:tool:2.0:sources", Path.Combine(_work, "src.jar"))).AssertOk("pull sources");
        Assert.Equal(File.ReadAllBytes(sources), File.ReadAllBytes(Path.Combine(_work, "src.jar")));
        (await ArcaCli.RunAsync(_server, "artifact", "pull", "maven", "mvn-cli", "org.example:tool:2.0@pom", outDir)).AssertOk("pull pom");
        Assert.Equal(File.ReadAllBytes(pom), File.ReadAllBytes(Path.Combine(outDir, "tool-2.0.pom")));
        (await ArcaCli.RunAsync(_server, "artifact", "pull", "maven", "mvn-cli", "org.example:tool:2.1-SNAPSHOT", outDir)).AssertOk("pull snapshot");
        Assert.Equal(File.ReadAllBytes(snap2), File.ReadAllBytes(Path.Combine(outDir, "tool-2.1-SNAPSHOT.jar")));
        var missing = await ArcaCli.RunAsync(_server, "artifact", "pull", "maven", "mvn-cli", "org.example:tool:9.9", outDir);
        Assert.NotEqual(0, missing.ExitCode);

        // Real Maven resolves what the CLI deployed (release and SNAPSHOT), from an empty local repository.
        var token = await _server.CreateTokenAsync("read", "mvn-cli");
        var settings = Path.Combine(_work, "settings.xml");
        File.WriteAllText(settings, $"""
            <settings>
              <mirrors><mirror><id>debian</id><mirrorOf>central</mirrorOf><url>file:///usr/share/maven-repo</url></mirror></mirrors>
              <servers><server><id>arca</id><username>u</username><password>{token}</password></server></servers>
            </settings>
            """);
        var localRepo = Path.Combine(_work, "m2");
        foreach (var artifact in new[] { "org.example:tool:2.0", "org.example:tool:2.1-SNAPSHOT" })
            (await Proc.RunAsync(Proc.Tool("mvn"), ["-B", "-s", settings, "org.apache.maven.plugins:maven-dependency-plugin:3.5.0:get",
                $"-Dartifact={artifact}", "-Dtransitive=false", $"-DremoteRepositories=arca::default::{_server.BaseUrl}/pkg/mvn-cli/maven",
                $"-Dmaven.repo.local={localRepo}"], _work, timeout: TimeSpan.FromMinutes(4))).AssertOk($"mvn dependency:get {artifact}");
        Assert.Equal(File.ReadAllBytes(jar), File.ReadAllBytes(Path.Combine(localRepo, "org/example/tool/2.0/tool-2.0.jar")));
        Assert.Equal(File.ReadAllBytes(snap2), File.ReadAllBytes(Path.Combine(localRepo, "org/example/tool/2.1-SNAPSHOT/tool-2.1-SNAPSHOT.jar")));
    }
}
