using System.Formats.Tar;
using System.IO.Compression;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Arca.Tests.Infrastructure;

namespace Arca.Tests.Http.Npm;

/// <summary>The npm registry protocol at the HTTP level: publish checks, encodings of scoped names, abbreviated
/// packuments, search, login/whoami and the error shape.</summary>
public sealed class NpmProtocolTests : IAsyncLifetime
{
    private const string Registry = "npm-http";
    private TestServer _server = null!;
    private string Base => $"pkg/{Registry}/npm/";

    public async Task InitializeAsync()
    {
        _server = await TestServer.StartAsync();
        await _server.CreateRegistryAsync(Registry, "NPM");
    }

    public async Task DisposeAsync() => await _server.DisposeAsync();

    internal static byte[] Tarball(string name, string version, string? innerName = null, string? innerVersion = null, string code = "module.exports = 1;\n")
    {
        using var output = new MemoryStream();
        using (var gzip = new GZipStream(output, CompressionLevel.Fastest, leaveOpen: true))
        using (var tar = new TarWriter(gzip, TarEntryFormat.Pax))
        {
            void Add(string path, string text)
            {
                var entry = new PaxTarEntry(TarEntryType.RegularFile, path) { DataStream = new MemoryStream(Encoding.UTF8.GetBytes(text)) };
                tar.WriteEntry(entry);
            }
            Add("package/package.json", $"{{\"name\":\"{innerName ?? name}\",\"version\":\"{innerVersion ?? version}\"}}");
            Add("package/index.js", code);
        }
        return output.ToArray();
    }

    internal static JsonObject PublishBody(string name, string version, byte[] tarball, string? integrity = null, string? shasum = null)
    {
        integrity ??= "sha512-" + Convert.ToBase64String(SHA512.HashData(tarball));
        shasum ??= Convert.ToHexStringLower(SHA1.HashData(tarball));
        return new JsonObject
        {
            ["_id"] = name,
            ["name"] = name,
            ["description"] = "test package",
            ["dist-tags"] = new JsonObject { ["latest"] = version },
            ["versions"] = new JsonObject
            {
                [version] = new JsonObject
                {
                    ["name"] = name, ["version"] = version, ["description"] = "test package",
                    ["dist"] = new JsonObject { ["integrity"] = integrity, ["shasum"] = shasum },
                },
            },
            ["_attachments"] = new JsonObject
            {
                [$"{name}-{version}.tgz"] = new JsonObject
                {
                    ["content_type"] = "application/octet-stream", ["data"] = Convert.ToBase64String(tarball), ["length"] = tarball.Length,
                },
            },
        };
    }

    private Task<HttpResponseMessage> Put(string path, JsonNode body, HttpClient? client = null) =>
        (client ?? _server.Admin).PutAsync(Base + path, new StringContent(body.ToJsonString(), Encoding.UTF8, "application/json"));

    private async Task AssertNothingStored(string name)
    {
        var r = await _server.Admin.GetAsync($"api/v1/registries/{Registry}/package?name={Uri.EscapeDataString(name)}");
        Assert.Equal(HttpStatusCode.NotFound, r.StatusCode);
    }

    private static async Task AssertNpmError(HttpResponseMessage r, HttpStatusCode status, string contains)
    {
        var text = await r.Content.ReadAsStringAsync();
        Assert.True(status == r.StatusCode, $"expected {status}, got {(int)r.StatusCode}: {text}");
        Assert.Contains(contains, JsonDocument.Parse(text).RootElement.GetProperty("error").GetString());
    }

    [Fact]
    public async Task Scoped_package_round_trip_with_both_name_encodings()
    {
        var tgz = Tarball("@acme/enc", "1.2.3");
        (await Put("@acme%2fenc", PublishBody("@acme/enc", "1.2.3", tgz))).EnsureSuccessStatusCode();

        foreach (var path in new[] { "@acme%2fenc", "@acme%2Fenc", "@acme/enc" })
        {
            var doc = JsonNode.Parse(await _server.Admin.GetStringAsync(Base + path))!;
            Assert.Equal("@acme/enc", (string?)doc["name"]);
            var tarballUrl = (string)doc["versions"]!["1.2.3"]!["dist"]!["tarball"]!;
            Assert.Equal($"{_server.BaseUrl}/pkg/{Registry}/npm/@acme/enc/-/enc-1.2.3.tgz", tarballUrl);
            Assert.Equal(tgz, await _server.Admin.GetByteArrayAsync(tarballUrl));
        }
        Assert.Equal(tgz, await _server.Admin.GetByteArrayAsync(Base + "@acme%2fenc/-/enc-1.2.3.tgz"));

        // The generic management API sees package, version and file.
        var files = JsonNode.Parse(await _server.Admin.GetStringAsync($"api/v1/registries/{Registry}/files?package=%40acme%2Fenc&version=1.2.3"))!.ToJsonString();
        Assert.Contains("enc-1.2.3.tgz", files);
    }

    [Fact]
    public async Task Abbreviated_packument_is_served_for_the_install_accept_header()
    {
        (await Put("corgi", PublishBody("corgi", "1.0.0", Tarball("corgi", "1.0.0")))).EnsureSuccessStatusCode();
        using var request = new HttpRequestMessage(HttpMethod.Get, Base + "corgi");
        request.Headers.Accept.ParseAdd("application/vnd.npm.install-v1+json; q=1.0, application/json; q=0.8, */*");
        var r = await _server.Admin.SendAsync(request);
        Assert.Equal("application/vnd.npm.install-v1+json", r.Content.Headers.ContentType!.MediaType);
        var doc = JsonNode.Parse(await r.Content.ReadAsStringAsync())!.AsObject();
        Assert.Equal(["name", "modified", "dist-tags", "versions"], doc.Select(p => p.Key).ToArray());
        var version = doc["versions"]!["1.0.0"]!.AsObject();
        Assert.False(version.ContainsKey("description"));
        Assert.StartsWith("sha512-", (string)version["dist"]!["integrity"]!);

        var full = JsonNode.Parse(await _server.Admin.GetStringAsync(Base + "corgi"))!;
        Assert.Equal("test package", (string?)full["description"]);
        Assert.NotNull(full["time"]!["1.0.0"]);
        Assert.NotNull(full["_rev"]);
    }

    [Fact]
    public async Task Tampered_or_mismatched_publishes_are_refused_and_store_nothing()
    {
        var good = Tarball("tamper", "1.0.0");

        // The tarball does not match its integrity.
        var tampered = (byte[])good.Clone();
        tampered[^10] ^= 0xFF;
        var body = PublishBody("tamper", "1.0.0", tampered, integrity: "sha512-" + Convert.ToBase64String(SHA512.HashData(good)), shasum: Convert.ToHexStringLower(SHA1.HashData(good)));
        await AssertNpmError(await Put("tamper", body), HttpStatusCode.BadRequest, "dist.integrity");

        // Right sha512 but wrong shasum.
        await AssertNpmError(await Put("tamper", PublishBody("tamper", "1.0.0", good, shasum: new string('0', 40))), HttpStatusCode.BadRequest, "dist.shasum");

        // Consistent checksums over bytes that are not a gzip tar.
        var garbage = RandomNumberGenerator.GetBytes(2048);
        await AssertNpmError(await Put("tamper", PublishBody("tamper", "1.0.0", garbage)), HttpStatusCode.BadRequest, "not a valid gzip");

        // package.json inside the tarball names another package / version.
        await AssertNpmError(await Put("tamper", PublishBody("tamper", "1.0.0", Tarball("tamper", "1.0.0", innerName: "other"))), HttpStatusCode.BadRequest, "package.json in the tarball");
        await AssertNpmError(await Put("tamper", PublishBody("tamper", "1.0.0", Tarball("tamper", "1.0.0", innerVersion: "9.9.9"))), HttpStatusCode.BadRequest, "package.json in the tarball");

        // URL name differs from the body.
        await AssertNpmError(await Put("other-name", PublishBody("tamper", "1.0.0", good)), HttpStatusCode.BadRequest, "does not match the URL");

        await AssertNothingStored("tamper");
        await AssertNothingStored("other-name");
        Assert.Equal(HttpStatusCode.NotFound, (await _server.Admin.GetAsync(Base + "tamper")).StatusCode);
    }

    [Fact]
    public async Task Duplicate_publish_is_409_unless_the_registry_allows_overwrite()
    {
        var tgz = Tarball("dupe", "1.0.0");
        (await Put("dupe", PublishBody("dupe", "1.0.0", tgz))).EnsureSuccessStatusCode();
        await AssertNpmError(await Put("dupe", PublishBody("dupe", "1.0.0", tgz)), HttpStatusCode.Conflict, "previously published");

        await _server.CreateRegistryAsync("npm-overwrite", "NPM", allowOverwrite: true);
        var path = "pkg/npm-overwrite/npm/dupe";
        var second = Tarball("dupe", "1.0.0", code: "module.exports = 2;\n");
        (await _server.Admin.PutAsync(path, new StringContent(PublishBody("dupe", "1.0.0", tgz).ToJsonString(), Encoding.UTF8, "application/json"))).EnsureSuccessStatusCode();
        (await _server.Admin.PutAsync(path, new StringContent(PublishBody("dupe", "1.0.0", second).ToJsonString(), Encoding.UTF8, "application/json"))).EnsureSuccessStatusCode();
        Assert.Equal(second, await _server.Admin.GetByteArrayAsync(path + "/-/dupe-1.0.0.tgz"));
    }

    [Fact]
    public async Task Anonymous_gets_401_with_a_challenge_and_read_tokens_cannot_publish()
    {
        var anonymous = await _server.Anonymous.GetAsync(Base + "anything");
        Assert.Equal(HttpStatusCode.Unauthorized, anonymous.StatusCode);
        Assert.Contains(anonymous.Headers.WwwAuthenticate, h => h.Scheme == "Basic");

        using var reader = _server.CreateClient(await _server.CreateTokenAsync("read", Registry));
        var denied = await Put("ro", PublishBody("ro", "1.0.0", Tarball("ro", "1.0.0")), reader);
        await AssertNpmError(denied, HttpStatusCode.Forbidden, "lacks the write scope");
        await AssertNothingStored("ro");
    }

    [Fact]
    public async Task Login_returns_the_token_and_whoami_names_it()
    {
        var token = await _server.CreateTokenAsync("write", Registry, "ci-bot");
        var login = await _server.Anonymous.PutAsJsonAsync(Base + "-/user/org.couchdb.user:someone", new { name = "someone", password = token });
        Assert.Equal(HttpStatusCode.Created, login.StatusCode);
        var body = JsonNode.Parse(await login.Content.ReadAsStringAsync())!;
        Assert.Equal(token, (string?)body["token"]);
        Assert.True((bool)body["ok"]!);

        var bad = await _server.Anonymous.PutAsJsonAsync(Base + "-/user/org.couchdb.user:someone", new { name = "someone", password = "wrong" });
        Assert.Equal(HttpStatusCode.Unauthorized, bad.StatusCode);

        using var client = _server.CreateClient(token);
        var whoami = JsonNode.Parse(await client.GetStringAsync(Base + "-/whoami"))!;
        Assert.Equal("ci-bot", (string?)whoami["username"]);
    }

    [Fact]
    public async Task Search_finds_packages_by_text()
    {
        (await Put("searchable-one", PublishBody("searchable-one", "0.1.0", Tarball("searchable-one", "0.1.0")))).EnsureSuccessStatusCode();
        (await Put("hidden", PublishBody("hidden", "0.1.0", Tarball("hidden", "0.1.0")))).EnsureSuccessStatusCode();
        var result = JsonNode.Parse(await _server.Admin.GetStringAsync(Base + "-/v1/search?text=searchable&size=20"))!;
        var names = result["objects"]!.AsArray().Select(o => (string)o!["package"]!["name"]!).ToList();
        Assert.Equal(["searchable-one"], names);
        Assert.Equal("0.1.0", (string?)result["objects"]![0]!["package"]!["version"]);
    }

    [Fact]
    public async Task Dist_tag_endpoints_validate_tags_and_versions()
    {
        (await Put("tagged", PublishBody("tagged", "1.0.0", Tarball("tagged", "1.0.0")))).EnsureSuccessStatusCode();
        var put = await _server.Admin.PutAsync(Base + "-/package/tagged/dist-tags/next", new StringContent("\"1.0.0\"", Encoding.UTF8, "application/json"));
        Assert.True(put.IsSuccessStatusCode);
        var tags = JsonNode.Parse(await _server.Admin.GetStringAsync(Base + "-/package/tagged/dist-tags"))!;
        Assert.Equal("1.0.0", (string?)tags["next"]);

        var missing = await _server.Admin.PutAsync(Base + "-/package/tagged/dist-tags/next", new StringContent("\"2.0.0\"", Encoding.UTF8, "application/json"));
        await AssertNpmError(missing, HttpStatusCode.NotFound, "2.0.0");
        var semverTag = await _server.Admin.PutAsync(Base + "-/package/tagged/dist-tags/1.0.0", new StringContent("\"1.0.0\"", Encoding.UTF8, "application/json"));
        await AssertNpmError(semverTag, HttpStatusCode.BadRequest, "invalid dist-tag");
        Assert.True((await _server.Admin.DeleteAsync(Base + "-/package/tagged/dist-tags/next")).IsSuccessStatusCode);
        Assert.Null(JsonNode.Parse(await _server.Admin.GetStringAsync(Base + "-/package/tagged/dist-tags"))!["next"]);
    }

    [Fact]
    public async Task Unpublishing_needs_the_delete_scope_and_latest_follows_deletions()
    {
        (await Put("scoped-del", PublishBody("scoped-del", "1.0.0", Tarball("scoped-del", "1.0.0")))).EnsureSuccessStatusCode();
        (await Put("scoped-del", PublishBody("scoped-del", "1.1.0", Tarball("scoped-del", "1.1.0")))).EnsureSuccessStatusCode();
        var packument = JsonNode.Parse(await _server.Admin.GetStringAsync(Base + "scoped-del?write=true"))!.AsObject();
        Assert.Equal("1.1.0", (string?)packument["dist-tags"]!["latest"]);

        using var writer = _server.CreateClient(await _server.CreateTokenAsync("write", Registry));
        var withoutNewest = packument.DeepClone().AsObject();
        withoutNewest["versions"]!.AsObject().Remove("1.1.0");
        await AssertNpmError(await Put($"scoped-del/-rev/{packument["_rev"]}", withoutNewest, writer), HttpStatusCode.Forbidden, "delete scope");
        await AssertNpmError(await writer.DeleteAsync(Base + $"scoped-del/-rev/{packument["_rev"]}"), HttpStatusCode.Forbidden, "delete scope");

        // Deleting the newest version through the management API moves latest back.
        Assert.True((await _server.Admin.DeleteAsync($"api/v1/registries/{Registry}/version?package=scoped-del&version=1.1.0")).IsSuccessStatusCode);
        var after = JsonNode.Parse(await _server.Admin.GetStringAsync(Base + "scoped-del"))!;
        Assert.Equal("1.0.0", (string?)after["dist-tags"]!["latest"]);
        Assert.Null(after["versions"]!["1.1.0"]);
    }

    [Fact]
    public async Task Malformed_bodies_are_400_in_npm_form()
    {
        await AssertNpmError(await _server.Admin.PutAsync(Base + "broken", new StringContent("{\"name\":\"broken\",\"name\":\"x\"}", Encoding.UTF8, "application/json")), HttpStatusCode.BadRequest, "not valid JSON");
        await AssertNpmError(await _server.Admin.PutAsync(Base + "broken", new StringContent("{\"name\":", Encoding.UTF8, "application/json")), HttpStatusCode.BadRequest, "truncated");
        await AssertNpmError(await _server.Admin.PutAsync(Base + "-/user/org.couchdb.user:x", new StringContent("[1]", Encoding.UTF8, "application/json")), HttpStatusCode.Unauthorized, "login failed");
        await AssertNpmError(await _server.Admin.GetAsync(Base + "Bad%20Name"), HttpStatusCode.BadRequest, "invalid npm package name");
    }
}
