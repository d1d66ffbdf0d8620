using System.IO.Compression;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Xml.Linq;
using Arca.Tests.Infrastructure;

namespace Arca.Tests.Http.Maven;

/// <summary>The Maven repository layout at HTTP level: validation, conflicts, checksums, metadata and POM parsing.</summary>
public sealed class MavenHttpTests : IAsyncLifetime
{
    private const string Repo = "pkg/mvn/maven/";
    private TestServer _server = null!;

    public async Task InitializeAsync()
    {
        _server = await TestServer.StartAsync();
        await _server.CreateRegistryAsync("mvn", "MAVEN");
        await _server.CreateRegistryAsync("mvn-overwrite", "MAVEN", allowOverwrite: true);
    }

    public async Task DisposeAsync() => await _server.DisposeAsync();

    private static byte[] Jar(string content)
    {
        using var ms = new MemoryStream();
        using (var zip = new ZipArchive(ms, ZipArchiveMode.Create, leaveOpen: true))
        using (var w = new StreamWriter(zip.CreateEntry("data.txt").Open()))
            w.Write(content);
        return ms.ToArray();
    }

    private static string Pom(string groupId, string artifactId, string version, string extra = "") => $"""
        <?xml version="1.0" encoding="UTF-8"?>
        <project xmlns="http://maven.apache.org/POM/4.0.0">
          <modelVersion>4.0.0</modelVersion>
          {(groupId.Length > 0 ? $"<groupId>{groupId}</groupId>" : "")}
          <artifactId>{artifactId}</artifactId>
          {(version.Length > 0 ? $"<version>{version}</version>" : "")}
          {extra}
        </project>
        """;

    private Task<HttpResponseMessage> PutAsync(string path, byte[] body, HttpClient? client = null) =>
        (client ?? _server.Admin).PutAsync(path, new ByteArrayContent(body));

    [Fact]
    public async Task Release_redeploy_is_409_but_snapshots_and_metadata_are_accepted()
    {
        var jar = Jar("one");
        Assert.Equal(HttpStatusCode.Created, (await PutAsync(Repo + "com/acme/dup/1.0/dup-1.0.jar", jar)).StatusCode);
        var again = await PutAsync(Repo + "com/acme/dup/1.0/dup-1.0.jar", Jar("two"));
        Assert.Equal(HttpStatusCode.Conflict, again.StatusCode);
        Assert.Equal(jar, await _server.Admin.GetByteArrayAsync(Repo + "com/acme/dup/1.0/dup-1.0.jar"));

        // Timestamped SNAPSHOT files are new names; the plain -SNAPSHOT name may be replaced.
        Assert.Equal(HttpStatusCode.Created, (await PutAsync(Repo + "com/acme/dup/2.0-SNAPSHOT/dup-2.0-20260101.101010-1.jar", Jar("s1"))).StatusCode);
        Assert.Equal(HttpStatusCode.Created, (await PutAsync(Repo + "com/acme/dup/2.0-SNAPSHOT/dup-2.0-20260101.111111-2.jar", Jar("s2"))).StatusCode);
        Assert.Equal(HttpStatusCode.Created, (await PutAsync(Repo + "com/acme/dup/2.0-SNAPSHOT/dup-2.0-SNAPSHOT.jar", Jar("plain1"))).StatusCode);
        Assert.Equal(HttpStatusCode.Created, (await PutAsync(Repo + "com/acme/dup/2.0-SNAPSHOT/dup-2.0-SNAPSHOT.jar", Jar("plain2"))).StatusCode);

        // Client metadata is accepted but the server's own document is served.
        var clientMeta = Encoding.UTF8.GetBytes("<metadata><groupId>bogus</groupId></metadata>");
        Assert.Equal(HttpStatusCode.Created, (await PutAsync(Repo + "com/acme/dup/maven-metadata.xml", clientMeta)).StatusCode);
        Assert.Equal(HttpStatusCode.Created, (await PutAsync(Repo + "com/acme/dup/maven-metadata.xml.sha1", "0000"u8.ToArray())).StatusCode);
        var meta = XDocument.Parse(await _server.Admin.GetStringAsync(Repo + "com/acme/dup/maven-metadata.xml"));
        Assert.Equal("com.acme", meta.Root!.Element("groupId")!.Value);
        Assert.Equal(["1.0", "2.0-SNAPSHOT"], meta.Descendants("version").Select(v => v.Value));

        var headMeta = await _server.Admin.SendAsync(new HttpRequestMessage(HttpMethod.Head, Repo + "com/acme/dup/maven-metadata.xml"));
        Assert.Equal(HttpStatusCode.OK, headMeta.StatusCode);
        Assert.Empty(await headMeta.Content.ReadAsByteArrayAsync());
        Assert.Equal(HttpStatusCode.NotFound, (await _server.Admin.SendAsync(new HttpRequestMessage(HttpMethod.Head, Repo + "com/acme/nope/maven-metadata.xml"))).StatusCode);

        var snap = XDocument.Parse(await _server.Admin.GetStringAsync(Repo + "com/acme/dup/2.0-SNAPSHOT/maven-metadata.xml"));
        Assert.Equal("20260101.111111", snap.Descendants("timestamp").Single().Value);
        Assert.Equal("2", snap.Descendants("buildNumber").Single().Value);
        Assert.Equal("2.0-20260101.111111-2", snap.Descendants("snapshotVersion").Single().Element("value")!.Value);

        // A registry that allows overwrite replaces a release file.
        Assert.Equal(HttpStatusCode.Created, (await PutAsync("pkg/mvn-overwrite/maven/com/acme/dup/1.0/dup-1.0.jar", Jar("a"))).StatusCode);
        Assert.True((await PutAsync("pkg/mvn-overwrite/maven/com/acme/dup/1.0/dup-1.0.jar", Jar("b"))).IsSuccessStatusCode);
        Assert.Equal(Jar("b"), await _server.Admin.GetByteArrayAsync("pkg/mvn-overwrite/maven/com/acme/dup/1.0/dup-1.0.jar"));
    }

    [Fact]
    public async Task Tampered_jar_is_400_and_nothing_is_stored()
    {
        var notAZip = Encoding.UTF8.GetBytes("PK\u0003\u0004 this is not really a jar");
        var r = await PutAsync(Repo + "com/acme/bad/1.0/bad-1.0.jar", notAZip);
        Assert.Equal(HttpStatusCode.BadRequest, r.StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await _server.Admin.GetAsync(Repo + "com/acme/bad/1.0/bad-1.0.jar")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await _server.Admin.GetAsync("api/v1/registries/mvn/package?name=com.acme:bad")).StatusCode);
    }

    [Fact]
    public async Task Paths_and_poms_must_match_their_coordinates()
    {
        Assert.Equal(HttpStatusCode.BadRequest, (await PutAsync(Repo + "com/acme/lib/1.0/other-1.0.jar", Jar("x"))).StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, (await PutAsync(Repo + "com/acme/lib/1.0/lib-2.0.jar", Jar("x"))).StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, (await PutAsync(Repo + "lib/1.0/lib-1.0.jar", Jar("x"))).StatusCode);
        var badSegment = await PutAsync(Repo + "com/acme/lib/1.0/lib-1.0%20x.txt", [1]);
        Assert.Equal(HttpStatusCode.BadRequest, badSegment.StatusCode);
        Assert.Contains("INVALID_IDENTIFIER", await badSegment.Content.ReadAsStringAsync());
        Assert.Equal(HttpStatusCode.BadRequest, (await PutAsync(Repo + "com/acme/lib/1.0/lib-1.0.pom", Encoding.UTF8.GetBytes(Pom("com.other", "lib", "1.0")))).StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, (await PutAsync(Repo + "com/acme/lib/1.0/lib-1.0.pom", Encoding.UTF8.GetBytes(Pom("com.acme", "lib", "1.1")))).StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, (await PutAsync(Repo + "com/acme/lib/1.0/lib-1.0.pom", "<project><artifactId>lib"u8.ToArray())).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await _server.Admin.GetAsync("api/v1/registries/mvn/package?name=com.acme:lib")).StatusCode);
    }

    [Fact]
    public async Task Pom_fields_and_parent_inheritance_become_version_properties()
    {
        var pom = Pom("", "child", "", """
            <parent><groupId>com.acme</groupId><artifactId>parent</artifactId><version>3.1</version></parent>
            <packaging>pom</packaging><name>Child</name><description>A child module</description>
            """);
        Assert.Equal(HttpStatusCode.Created, (await PutAsync(Repo + "com/acme/child/3.1/child-3.1.pom", Encoding.UTF8.GetBytes(pom))).StatusCode);
        var body = await _server.Admin.GetStringAsync("api/v1/registries/mvn/version?package=com.acme:child&version=3.1");
        var props = JsonDocument.Parse(body).RootElement.GetProperty("version").GetProperty("properties");
        Assert.Equal("com.acme", props.GetProperty("groupId").GetString());
        Assert.Equal("pom", props.GetProperty("packaging").GetString());
        Assert.Equal("Child", props.GetProperty("name").GetString());
        Assert.Equal("A child module", props.GetProperty("description").GetString());
        var file = JsonDocument.Parse(body).RootElement.GetProperty("files").EnumerateArray().Single();
        Assert.Equal("child-3.1.pom", file.GetProperty("path").GetString());
    }

    [Fact]
    public async Task Checksum_sidecars_are_served_and_uploaded_ones_are_verified()
    {
        var jar = Jar("checked");
        Assert.Equal(HttpStatusCode.Created, (await PutAsync(Repo + "org/x/sum/1.0/sum-1.0-sources.jar", jar)).StatusCode);
        foreach (var (alg, hash) in new[] { ("md5", MD5.HashData(jar)), ("sha1", SHA1.HashData(jar)), ("sha256", SHA256.HashData(jar)), ("sha512", SHA512.HashData(jar)) })
        {
            Assert.Equal(Convert.ToHexStringLower(hash), await _server.Admin.GetStringAsync(Repo + $"org/x/sum/1.0/sum-1.0-sources.jar.{alg}"));
            // A matching sidecar is accepted (optionally with the file name after the hash).
            var ok = await PutAsync(Repo + $"org/x/sum/1.0/sum-1.0-sources.jar.{alg}", Encoding.ASCII.GetBytes(Convert.ToHexString(hash) + "  sum-1.0-sources.jar\n"));
            Assert.Equal(HttpStatusCode.Created, ok.StatusCode);
        }
        var bad = await PutAsync(Repo + "org/x/sum/1.0/sum-1.0-sources.jar.sha1", Encoding.ASCII.GetBytes(new string('0', 40)));
        Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);
        Assert.Contains("CHECKSUM_MISMATCH", await bad.Content.ReadAsStringAsync());

        // HEAD works and carries the checksum headers.
        var head = await _server.Admin.SendAsync(new HttpRequestMessage(HttpMethod.Head, Repo + "org/x/sum/1.0/sum-1.0-sources.jar"));
        Assert.Equal(HttpStatusCode.OK, head.StatusCode);
        Assert.Equal(Convert.ToHexStringLower(SHA1.HashData(jar)), head.Headers.GetValues("X-Checksum-Sha1").Single());

        // A client-sent X-Checksum header that does not match stores nothing.
        var put = new ByteArrayContent(Jar("other"));
        var req = new HttpRequestMessage(HttpMethod.Put, Repo + "org/x/sum/1.1/sum-1.1.jar") { Content = put };
        req.Headers.Add("X-Checksum-Sha1", new string('1', 40));
        Assert.Equal(HttpStatusCode.BadRequest, (await _server.Admin.SendAsync(req)).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await _server.Admin.GetAsync(Repo + "org/x/sum/1.1/sum-1.1.jar")).StatusCode);
    }

    [Fact]
    public async Task Snapshot_metadata_lists_classifiers_and_the_plain_snapshot_name_resolves_to_the_newest_build()
    {
        const string dir = "org/x/cls/1.0-SNAPSHOT/";
        Assert.Equal(HttpStatusCode.Created, (await PutAsync(Repo + dir + "cls-1.0-20260202.020202-1.jar", Jar("b1"))).StatusCode);
        Assert.Equal(HttpStatusCode.Created, (await PutAsync(Repo + dir + "cls-1.0-20260202.020202-1-sources.jar", Jar("b1src"))).StatusCode);
        Assert.Equal(HttpStatusCode.Created, (await PutAsync(Repo + dir + "cls-1.0-20260202.020202-1.pom", Encoding.UTF8.GetBytes(Pom("org.x", "cls", "1.0-SNAPSHOT")))).StatusCode);
        Assert.Equal(HttpStatusCode.Created, (await PutAsync(Repo + dir + "cls-1.0-20260203.030303-2.jar", Jar("b2"))).StatusCode);

        var snap = XDocument.Parse(await _server.Admin.GetStringAsync(Repo + dir + "maven-metadata.xml"));
        var entries = snap.Descendants("snapshotVersion")
            .Select(e => ($"{e.Element("classifier")?.Value}|{e.Element("extension")!.Value}", e.Element("value")!.Value)).ToList();
        Assert.Contains(("|jar", "1.0-20260203.030303-2"), entries);
        Assert.Contains(("sources|jar", "1.0-20260202.020202-1"), entries);
        Assert.Contains(("|pom", "1.0-20260202.020202-1"), entries);
        Assert.Equal(Jar("b2"), await _server.Admin.GetByteArrayAsync(Repo + dir + "cls-1.0-SNAPSHOT.jar"));
        Assert.Equal(Jar("b1src"), await _server.Admin.GetByteArrayAsync(Repo + dir + "cls-1.0-SNAPSHOT-sources.jar"));
    }

    [Fact]
    public async Task Read_only_token_cannot_deploy_and_anonymous_gets_a_basic_challenge()
    {
        var readToken = await _server.CreateTokenAsync("read", "mvn");
        using var reader = new HttpClient { BaseAddress = new Uri(_server.BaseUrl + "/") };
        reader.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes("u:" + readToken)));
        Assert.Equal(HttpStatusCode.Forbidden, (await PutAsync(Repo + "com/acme/ro/1.0/ro-1.0.jar", Jar("x"), reader)).StatusCode);

        var anon = await _server.Anonymous.GetAsync(Repo + "com/acme/ro/maven-metadata.xml");
        Assert.Equal(HttpStatusCode.Unauthorized, anon.StatusCode);
        Assert.StartsWith("Basic", anon.Headers.WwwAuthenticate.Single().Scheme);
        Assert.Equal(HttpStatusCode.NotFound, (await reader.GetAsync(Repo + "com/acme/ro/maven-metadata.xml")).StatusCode);
    }

    [Fact]
    public async Task Management_copy_and_delete_keep_the_generated_metadata_consistent()
    {
        await _server.CreateRegistryAsync("mvn-copy", "MAVEN", isPublic: true);
        Assert.Equal(HttpStatusCode.Created, (await PutAsync(Repo + "io/k/lib/1.0/lib-1.0.jar", Jar("1"))).StatusCode);
        Assert.Equal(HttpStatusCode.Created, (await PutAsync(Repo + "io/k/lib/1.0/lib-1.0.pom", Encoding.UTF8.GetBytes(Pom("io.k", "lib", "1.0")))).StatusCode);
        Assert.Equal(HttpStatusCode.Created, (await PutAsync(Repo + "io/k/lib/1.1/lib-1.1.jar", Jar("2"))).StatusCode);

        var copy = await _server.Admin.PostAsJsonAsync("api/v1/registries/mvn/copy", new { package = "io.k:lib", version = "1.0", destination = "mvn-copy" });
        Assert.True(copy.IsSuccessStatusCode, await copy.Content.ReadAsStringAsync());
        // The public copy is readable anonymously, with metadata generated for what it holds.
        var meta = XDocument.Parse(await _server.Anonymous.GetStringAsync("pkg/mvn-copy/maven/io/k/lib/maven-metadata.xml"));
        Assert.Equal(["1.0"], meta.Descendants("version").Select(v => v.Value));
        Assert.Equal(Jar("1"), await _server.Anonymous.GetByteArrayAsync("pkg/mvn-copy/maven/io/k/lib/1.0/lib-1.0.jar"));
        Assert.Equal(HttpStatusCode.Unauthorized, (await _server.Anonymous.PutAsync("pkg/mvn-copy/maven/io/k/lib/2.0/lib-2.0.jar", new ByteArrayContent(Jar("3")))).StatusCode);

        Assert.Equal(HttpStatusCode.NoContent, (await _server.Admin.DeleteAsync("api/v1/registries/mvn/version?package=io.k:lib&version=1.1")).StatusCode);
        var after = XDocument.Parse(await _server.Admin.GetStringAsync(Repo + "io/k/lib/maven-metadata.xml"));
        Assert.Equal(["1.0"], after.Descendants("version").Select(v => v.Value));
        Assert.Equal("1.0", after.Descendants("latest").Single().Value);
    }
}
