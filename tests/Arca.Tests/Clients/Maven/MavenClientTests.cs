using System.IO.Compression;
using System.Security.Cryptography;
using System.Text;
using System.Xml.Linq;
using Arca.Tests.Infrastructure;

namespace Arca.Tests.Clients.Maven;

/// <summary>Real Maven 3.8 (offline, plugins from Debian's /usr/share/maven-repo) deploying to and resolving from Arca.</summary>
public sealed class MavenClientTests : IAsyncLifetime
{
    private TestServer _server = null!;
    private string _work = null!;
    private string _repoUrl = null!;

    public async Task InitializeAsync()
    {
        _server = await TestServer.StartAsync();
        await _server.CreateRegistryAsync("maven-local", "MAVEN");
        _repoUrl = $"{_server.BaseUrl}/pkg/maven-local/maven";
        _work = TempDir.Create("maven-client");
        var token = await _server.CreateTokenAsync("write", "maven-local");
        File.WriteAllText(Path.Combine(_work, "settings.xml"), $"""
            <settings>
              <offline>false</offline>
              <mirrors>
                <mirror><id>debian</id><mirrorOf>central</mirrorOf><url>file:///usr/share/maven-repo</url></mirror>
              </mirrors>
              <servers>
                <server><id>arca</id><username>ci</username><password>{token}</password></server>
              </servers>
            </settings>
            """);
    }

    public async Task DisposeAsync()
    {
        await _server.DisposeAsync();
        TempDir.TryDelete(_work);
    }

    [Fact]
    public async Task Deploy_release_and_snapshot_twice_then_resolve_from_clean_local_repository()
    {
        var releaseJar = MakeJar("release.jar", "release");
        var snapshot1 = MakeJar("snap1.jar", "snapshot build one");
        var snapshot2 = MakeJar("snap2.jar", "snapshot build two");

        await DeployAsync(releaseJar, "1.0");
        await DeployAsync(snapshot1, "1.1-SNAPSHOT");
        await DeployAsync(snapshot2, "1.1-SNAPSHOT");

        // Artifact-level metadata lists both versions.
        var metadata = XDocument.Parse(await _server.Admin.GetStringAsync("pkg/maven-local/maven/com/acme/util/maven-metadata.xml"));
        var versions = metadata.Descendants("version").Select(v => v.Value).ToList();
        Assert.Equal(["1.0", "1.1-SNAPSHOT"], versions);
        Assert.Equal("1.0", metadata.Descendants("release").Single().Value);
        Assert.Equal("1.1-SNAPSHOT", metadata.Descendants("latest").Single().Value);

        // SNAPSHOT-level metadata: the second deploy is build 2.
        var snapMeta = XDocument.Parse(await _server.Admin.GetStringAsync("pkg/maven-local/maven/com/acme/util/1.1-SNAPSHOT/maven-metadata.xml"));
        Assert.Equal("2", snapMeta.Descendants("buildNumber").Single().Value);
        var jarValue = snapMeta.Descendants("snapshotVersion").Single(e => e.Element("extension")!.Value == "jar").Element("value")!.Value;
        Assert.Matches(@"^1\.1-\d{8}\.\d{6}-2$", jarValue);

        // Resolve both into an empty local repository.
        var localRepo = Path.Combine(_work, "local-repo");
        await ResolveAsync("com.acme:util:1.0", localRepo);
        await ResolveAsync("com.acme:util:1.1-SNAPSHOT", localRepo);
        var resolvedRelease = Path.Combine(localRepo, "com/acme/util/1.0/util-1.0.jar");
        Assert.Equal(File.ReadAllBytes(releaseJar), File.ReadAllBytes(resolvedRelease));
        // Maven keeps the timestamped file it resolved through the SNAPSHOT metadata (and a -SNAPSHOT copy of it).
        var snapshotDir = Path.Combine(localRepo, "com/acme/util/1.1-SNAPSHOT");
        Assert.Equal(File.ReadAllBytes(snapshot2), File.ReadAllBytes(Path.Combine(snapshotDir, $"util-{jarValue}.jar")));
        Assert.Equal(File.ReadAllBytes(snapshot2), File.ReadAllBytes(Path.Combine(snapshotDir, "util-1.1-SNAPSHOT.jar")));

        // Checksums served for every algorithm match the stored bytes (the client only uploaded md5/sha1).
        var data = File.ReadAllBytes(releaseJar);
        foreach (var (alg, expected) in new[]
                 {
                     ("md5", MD5.HashData(data)), ("sha1", SHA1.HashData(data)), ("sha256", SHA256.HashData(data)), ("sha512", SHA512.HashData(data)),
                 })
        {
            var served = (await _server.Admin.GetStringAsync($"pkg/maven-local/maven/com/acme/util/1.0/util-1.0.jar.{alg}")).Trim();
            Assert.Equal(Convert.ToHexStringLower(expected), served);
        }
        // Maven verified the metadata checksum too; check the sidecar agrees with the served document.
        var metaBytes = await _server.Admin.GetByteArrayAsync("pkg/maven-local/maven/com/acme/util/maven-metadata.xml");
        Assert.Equal(Convert.ToHexStringLower(SHA1.HashData(metaBytes)),
            (await _server.Admin.GetStringAsync("pkg/maven-local/maven/com/acme/util/maven-metadata.xml.sha1")).Trim());

        // Redeploying the release is refused: Maven fails on the 409.
        var again = await MvnAsync(DeployArgs(releaseJar, "1.0"));
        Assert.NotEqual(0, again.ExitCode);
        Assert.Contains("409", again.All);
    }

    private string MakeJar(string name, string content)
    {
        var path = Path.Combine(_work, name);
        using var zip = ZipFile.Open(path, ZipArchiveMode.Create);
        using (var w = new StreamWriter(zip.CreateEntry("META-INF/MANIFEST.MF").Open(), new UTF8Encoding(false)))
            w.Write("Manifest-Version: 1.0\r\n\r\n");
        using (var w = new StreamWriter(zip.CreateEntry("com/acme/util/data.txt").Open()))
            w.Write(content);
        return path;
    }

    private string[] DeployArgs(string jar, string version) =>
    [
        "org.apache.maven.plugins:maven-deploy-plugin:3.0.0:deploy-file", $"-Dfile={jar}", "-DgroupId=com.acme", "-DartifactId=util",
        $"-Dversion={version}", "-Dpackaging=jar", "-DgeneratePom=true", "-DrepositoryId=arca", $"-Durl={_repoUrl}",
        $"-Dmaven.repo.local={Path.Combine(_work, "deploy-repo")}",
    ];

    private async Task DeployAsync(string jar, string version) =>
        (await MvnAsync(DeployArgs(jar, version))).AssertOk($"mvn deploy-file {version}");

    private async Task ResolveAsync(string artifact, string localRepo) =>
        (await MvnAsync([
            "org.apache.maven.plugins:maven-dependency-plugin:3.5.0:get", $"-Dartifact={artifact}", "-Dtransitive=false",
            $"-DremoteRepositories=arca::default::{_repoUrl}", $"-Dmaven.repo.local={localRepo}",
        ])).AssertOk($"mvn dependency:get {artifact}");

    private Task<ProcResult> MvnAsync(string[] args) =>
        Proc.RunAsync(Proc.Tool("mvn"), ["-B", "-s", Path.Combine(_work, "settings.xml"), .. args], _work,
            new Dictionary<string, string?> { ["MAVEN_OPTS"] = "-Xmx256m" }, TimeSpan.FromMinutes(4));
}
