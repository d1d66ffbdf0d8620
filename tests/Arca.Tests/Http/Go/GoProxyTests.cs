using System.Net;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Arca.Tests.Infrastructure;

namespace Arca.Tests.Http.Go;

/// <summary>The GOPROXY protocol and Arca's upload endpoint at HTTP level.</summary>
public sealed class GoProxyTests : IAsyncLifetime
{
    private TestServer _server = null!;
    private const string Reg = "gomods";

    public async Task InitializeAsync()
    {
        _server = await TestServer.StartAsync();
        await _server.CreateRegistryAsync(Reg, "GO");
    }

    public async Task DisposeAsync() => await _server.DisposeAsync();

    private static string Url(string encodedModule, string tail) => $"pkg/{Reg}/go/{encodedModule}/{tail}";

    private Task<HttpResponseMessage> PutZipAsync(HttpClient client, string encodedModule, string version, byte[] zip, string? sha256 = null)
    {
        var request = new HttpRequestMessage(HttpMethod.Put, Url(encodedModule, $"@v/{version}.zip")) { Content = new ByteArrayContent(zip) };
        request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/zip");
        if (sha256 is not null) request.Headers.Add("X-Checksum-Sha256", sha256);
        return client.SendAsync(request);
    }

    private static string GoMod(string module) => $"module {module}\n\ngo 1.19\n";

    [Fact]
    public async Task Upload_then_serve_list_info_mod_zip_and_latest()
    {
        const string module = "example.com/proxy/lib";
        byte[]? v110 = null;
        foreach (var v in new[] { "v1.0.0", "v1.2.0-beta.1", "v1.1.0", "v0.9.0" })
        {
            var zip = GoModuleZips.Module(module, v, GoMod(module));
            if (v == "v1.1.0") v110 = zip;
            var put = await PutZipAsync(_server.Admin, module, v, zip);
            Assert.True(put.StatusCode == HttpStatusCode.Created, $"{v}: {(int)put.StatusCode} {await put.Content.ReadAsStringAsync()}");
        }

        var list = await _server.Anonymous.SendAsync(WithAdmin(HttpMethod.Get, Url(module, "@v/list")));
        Assert.Equal(HttpStatusCode.OK, list.StatusCode);
        Assert.Equal(["v0.9.0", "v1.0.0", "v1.1.0", "v1.2.0-beta.1"], (await list.Content.ReadAsStringAsync()).Split('\n', StringSplitOptions.RemoveEmptyEntries));

        var info = JsonDocument.Parse(await _server.Admin.GetStringAsync(Url(module, "@v/v1.1.0.info"))).RootElement;
        Assert.Equal("v1.1.0", info.GetProperty("Version").GetString());
        Assert.True(DateTimeOffset.TryParse(info.GetProperty("Time").GetString(), out _));

        Assert.Equal(GoMod(module), await _server.Admin.GetStringAsync(Url(module, "@v/v1.1.0.mod")));
        var zipGet = await _server.Admin.GetAsync(Url(module, "@v/v1.1.0.zip"));
        Assert.Equal(HttpStatusCode.OK, zipGet.StatusCode);
        Assert.Equal(v110, await zipGet.Content.ReadAsByteArrayAsync());
        Assert.Equal(Convert.ToHexStringLower(SHA256.HashData(v110!)), zipGet.Headers.GetValues("X-Checksum-Sha256").Single());

        // @latest is the highest release, not the newer pre-release.
        var latest = JsonDocument.Parse(await _server.Admin.GetStringAsync(Url(module, "@latest"))).RootElement;
        Assert.Equal("v1.1.0", latest.GetProperty("Version").GetString());

        // The management API sees module path = package, version = version, files = zip + mod.
        var files = await _server.Admin.GetStringAsync($"api/v1/registries/{Reg}/files?package={Uri.EscapeDataString(module)}&version=v1.1.0");
        Assert.Contains("v1.1.0.zip", files);
        Assert.Contains("v1.1.0.mod", files);
    }

    private HttpRequestMessage WithAdmin(HttpMethod method, string url)
    {
        var r = new HttpRequestMessage(method, url);
        r.Headers.Authorization = new AuthenticationHeaderValue("Bearer", _server.AdminToken);
        return r;
    }

    [Fact]
    public async Task Module_paths_and_versions_are_case_encoded()
    {
        const string module = "example.com/Acme/Widget";
        const string encoded = "example.com/!acme/!widget";
        var zip = GoModuleZips.Module(module, "v1.0.0-RC1", GoMod(module));
        Assert.Equal(HttpStatusCode.Created, (await PutZipAsync(_server.Admin, encoded, "v1.0.0-!r!c1", zip)).StatusCode);
        Assert.Equal("v1.0.0-RC1\n", await _server.Admin.GetStringAsync(Url(encoded, "@v/list")));
        Assert.Equal(zip, await _server.Admin.GetByteArrayAsync(Url(encoded, "@v/v1.0.0-!r!c1.zip")));
        // Upper case in a proxy URL is not a valid encoding, and the lower-case path is another module.
        Assert.Equal(HttpStatusCode.NotFound, (await _server.Admin.GetAsync(Url(module, "@v/list"))).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await _server.Admin.GetAsync(Url("example.com/acme/widget", "@v/list"))).StatusCode);
    }

    [Fact]
    public async Task Unknown_module_and_version_are_404_in_plain_text()
    {
        const string module = "example.com/known";
        Assert.Equal(HttpStatusCode.Created, (await PutZipAsync(_server.Admin, module, "v1.0.0", GoModuleZips.Module(module, "v1.0.0", GoMod(module)))).StatusCode);
        foreach (var url in new[] { Url("example.com/unknown", "@v/list"), Url("example.com/unknown", "@latest"), Url(module, "@v/v9.9.9.info"),
                     Url(module, "@v/v9.9.9.zip"), Url(module, "@v/master.info"), Url(module, "@v/v1.0.0.mod") + "x" })
        {
            var r = await _server.Admin.GetAsync(url);
            Assert.True(r.StatusCode == HttpStatusCode.NotFound, $"{url}: {(int)r.StatusCode}");
            Assert.StartsWith("text/plain", r.Content.Headers.ContentType?.ToString());
        }
    }

    [Fact]
    public async Task Duplicate_version_is_409_and_keeps_the_first_upload()
    {
        const string module = "example.com/dup";
        var first = GoModuleZips.Module(module, "v1.0.0", GoMod(module));
        var second = GoModuleZips.Module(module, "v1.0.0", GoMod(module), "package lib\n\nfunc Answer() int { return 7 }\n");
        Assert.Equal(HttpStatusCode.Created, (await PutZipAsync(_server.Admin, module, "v1.0.0", first)).StatusCode);
        var dup = await PutZipAsync(_server.Admin, module, "v1.0.0", second);
        Assert.Equal(HttpStatusCode.Conflict, dup.StatusCode);
        Assert.Contains("already exists", await dup.Content.ReadAsStringAsync());
        Assert.Equal(first, await _server.Admin.GetByteArrayAsync(Url(module, "@v/v1.0.0.zip")));
    }

    public static TheoryData<string, string> BadZips() => new()
    {
        { "outside-prefix", "file outside <module>@<version>/" },
        { "dot-dot", "'..' element" },
        { "case-collision", "names differing only in case" },
        { "module-mismatch", "go.mod names another module" },
        { "tampered", "compressed data altered (CRC mismatch)" },
        { "tampered-stored", "uncompressed entry altered: only the CRC-32 shows it" },
        { "not-a-zip", "garbage bytes" },
        { "truncated", "zip cut short" },
        { "bad-char", "file name with a quote" },
        { "checksum", "X-Checksum-Sha256 does not match" },
        { "major-mismatch", "v2 version for a module without /v2" },
    };

    [Theory]
    [MemberData(nameof(BadZips))]
    public async Task Bad_archives_are_400_and_store_nothing(string kind, string why)
    {
        var module = $"example.com/bad/{kind}";
        var version = kind == "major-mismatch" ? "v2.0.0" : "v1.0.0";
        var p = $"{module}@{version}/";
        var good = GoModuleZips.Module(module, version, GoMod(module));
        string? sha = null;
        var zip = kind switch
        {
            "outside-prefix" => GoModuleZips.Build((p + "go.mod", GoMod(module)), ("evil.go", "package x")),
            "dot-dot" => GoModuleZips.Build((p + "go.mod", GoMod(module)), (p + "a/../../x.go", "package x")),
            "case-collision" => GoModuleZips.Build((p + "go.mod", GoMod(module)), (p + "README", "a"), (p + "readme", "b")),
            "module-mismatch" => GoModuleZips.Module(module, version, GoMod("example.com/other")),
            "tampered" => Tamper(GoModuleZips.Module(module, version, GoMod(module), "package lib\n// " + new string('x', 4000) + "\n")),
            "tampered-stored" => Tamper(GoModuleZips.Build(System.IO.Compression.CompressionLevel.NoCompression,
                (p + "lib.go", "package lib\n// " + new string('x', 4000) + "\n"), (p + "go.mod", GoMod(module)))),
            "not-a-zip" => Encoding.UTF8.GetBytes("this is not a zip archive at all"),
            "truncated" => good[..(good.Length / 2)],
            "bad-char" => GoModuleZips.Build((p + "go.mod", GoMod(module)), (p + "x'.go", "package x")),
            "checksum" => good,
            "major-mismatch" => good,
            _ => throw new ArgumentException(kind),
        };
        if (kind == "checksum") sha = new string('0', 64);
        var r = await PutZipAsync(_server.Admin, module, version, zip, sha);
        Assert.True(r.StatusCode == HttpStatusCode.BadRequest, $"{kind} ({why}): {(int)r.StatusCode} {await r.Content.ReadAsStringAsync()}");
        Assert.Equal(HttpStatusCode.NotFound, (await _server.Admin.GetAsync(Url(module, "@v/list"))).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await _server.Admin.GetAsync($"api/v1/registries/{Reg}/package?name={Uri.EscapeDataString(module)}")).StatusCode);
    }

    /// <summary>Flips bytes in the middle of the first entry's compressed data (the local header is left intact).</summary>
    private static byte[] Tamper(byte[] zip)
    {
        var copy = (byte[])zip.Clone();
        var nameLength = BitConverter.ToUInt16(copy, 26);
        var extraLength = BitConverter.ToUInt16(copy, 28);
        var compressedSize = BitConverter.ToInt32(copy, 18);
        var dataStart = 30 + nameLength + extraLength;
        for (var i = 0; i < 4; i++) copy[dataStart + compressedSize / 2 + i] ^= 0x5A;
        return copy;
    }

    [Fact]
    public async Task Multipart_upload_checks_mod_and_info_against_the_zip()
    {
        const string module = "example.com/multi";
        var zip = GoModuleZips.Module(module, "v1.0.0", GoMod(module));
        async Task<HttpResponseMessage> Put(string mod, string info)
        {
            using var form = new MultipartFormDataContent
            {
                { new ByteArrayContent(zip), "zip", "v1.0.0.zip" },
                { new StringContent(mod), "mod", "v1.0.0.mod" },
                { new StringContent(info), "info", "v1.0.0.info" },
            };
            return await _server.Admin.PutAsync(Url(module, "@v/v1.0.0"), form);
        }
        Assert.Equal(HttpStatusCode.BadRequest, (await Put("module example.com/multi\n\ngo 1.20\n", "{\"Version\":\"v1.0.0\"}")).StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, (await Put(GoMod(module), "{\"Version\":\"v2.0.0\"}")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await _server.Admin.GetAsync(Url(module, "@v/list"))).StatusCode);
        Assert.Equal(HttpStatusCode.Created, (await Put(GoMod(module), "{\"Version\":\"v1.0.0\",\"Time\":\"2024-01-02T03:04:05Z\"}")).StatusCode);
        var info = JsonDocument.Parse(await _server.Admin.GetStringAsync(Url(module, "@v/v1.0.0.info"))).RootElement;
        Assert.Equal("2024-01-02T03:04:05Z", info.GetProperty("Time").GetString());
    }

    [Fact]
    public async Task Read_only_token_cannot_publish_and_anonymous_gets_401()
    {
        const string module = "example.com/authz";
        var zip = GoModuleZips.Module(module, "v1.0.0", GoMod(module));
        using var reader = _server.CreateClient(await _server.CreateTokenAsync("read", Reg));
        Assert.Equal(HttpStatusCode.Forbidden, (await PutZipAsync(reader, module, "v1.0.0", zip)).StatusCode);
        var anon = await PutZipAsync(_server.Anonymous, module, "v1.0.0", zip);
        Assert.Equal(HttpStatusCode.Unauthorized, anon.StatusCode);
        Assert.Contains("Basic", anon.Headers.WwwAuthenticate.ToString());
        Assert.Equal(HttpStatusCode.Unauthorized, (await _server.Anonymous.GetAsync(Url(module, "@v/list"))).StatusCode);

        using var writer = _server.CreateClient(await _server.CreateTokenAsync("write", Reg));
        Assert.Equal(HttpStatusCode.Created, (await PutZipAsync(writer, module, "v1.0.0", zip)).StatusCode);
        Assert.Equal("v1.0.0\n", await reader.GetStringAsync(Url(module, "@v/list")));
    }
}
