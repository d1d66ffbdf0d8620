using System.Formats.Tar;
using System.IO.Compression;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Arca.Client.Npm;
using Arca.Tests.Infrastructure;

namespace Arca.Tests.Migration;

/// <summary>`arca registry migrate` from one Arca to another for NPM and PYTHON: every file equal by sha256,
/// dist-tags, deprecation, requires-python and yanking carried over; a rerun skips everything.</summary>
public sealed class ArcaNpmPythonMigrationTests : IAsyncLifetime
{
    private TestServer _source = null!;
    private TestServer _dest = null!;
    private string _work = null!;

    public async Task InitializeAsync()
    {
        _work = TempDir.Create("migrate-arca-npm-py");
        _source = await TestServer.StartAsync();
        _dest = await TestServer.StartAsync();
    }

    public async Task DisposeAsync()
    {
        await _source.DisposeAsync();
        await _dest.DisposeAsync();
        TempDir.TryDelete(_work);
    }

    private static byte[] NpmTarball(string name, string version)
    {
        using var buffer = new MemoryStream();
        using (var gzip = new GZipStream(buffer, CompressionLevel.Fastest, leaveOpen: true))
        using (var tar = new TarWriter(gzip, TarEntryFormat.Pax))
        {
            foreach (var (path, text) in new[] { ("package/package.json", $"{{\"name\":\"{name}\",\"version\":\"{version}\"}}"), ("package/index.js", $"module.exports='{version}';\n") })
            {
                var entry = new PaxTarEntry(TarEntryType.RegularFile, path) { DataStream = new MemoryStream(Encoding.UTF8.GetBytes(text)) };
                tar.WriteEntry(entry);
            }
        }
        return buffer.ToArray();
    }

    private async Task PublishNpmAsync(string name, string version, string tag, string? deprecated = null)
    {
        var tgz = NpmTarball(name, version);
        var manifest = new JsonObject
        {
            ["name"] = name, ["version"] = version,
            ["dist"] = new JsonObject { ["integrity"] = "sha512-" + Convert.ToBase64String(SHA512.HashData(tgz)), ["shasum"] = Convert.ToHexStringLower(SHA1.HashData(tgz)) },
        };
        if (deprecated is not null) manifest["deprecated"] = deprecated;
        var content = new NpmPublishContent(NpmPublish.Document(name, version, manifest, [tag]), NpmPublish.AttachmentName(name, version),
            _ => Task.FromResult<Stream>(new MemoryStream(tgz)), tgz.Length);
        var r = await _source.Admin.PutAsync($"pkg/npm-src/npm/{NpmPublish.EscapeName(name)}", content);
        Assert.True(r.IsSuccessStatusCode, await r.Content.ReadAsStringAsync());
    }

    /// <summary>A minimal wheel: a module and its dist-info METADATA.</summary>
    private static byte[] Wheel(string name, string version)
    {
        using var buffer = new MemoryStream();
        using (var zip = new ZipArchive(buffer, ZipArchiveMode.Create, leaveOpen: true))
        {
            void Add(string path, string text) { using var w = new StreamWriter(zip.CreateEntry(path).Open()); w.Write(text); }
            var module = name.Replace('-', '_');
            Add($"{module}/__init__.py", $"VALUE = '{version}'\n");
            Add($"{module}-{version}.dist-info/METADATA", $"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\nRequires-Python: >=3.8\n\n");
            Add($"{module}-{version}.dist-info/WHEEL", "Wheel-Version: 1.0\nGenerator: test\nRoot-Is-Purelib: true\nTag: py3-none-any\n");
        }
        return buffer.ToArray();
    }

    private async Task UploadWheelAsync(string name, string version)
    {
        var wheel = Wheel(name, version);
        using var form = new MultipartFormDataContent();
        form.Add(new StringContent("file_upload"), ":action");
        form.Add(new StringContent(name), "name");
        form.Add(new StringContent(version), "version");
        form.Add(new StringContent(Convert.ToHexStringLower(SHA256.HashData(wheel))), "sha256_digest");
        var file = new ByteArrayContent(wheel);
        file.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
        form.Add(file, "content", $"{name.Replace('-', '_')}-{version}-py3-none-any.whl");
        var r = await _source.Admin.PostAsync("pkg/py-src/python/", form);
        Assert.True(r.IsSuccessStatusCode, await r.Content.ReadAsStringAsync());
    }

    private static async Task<Dictionary<string, string>> ChecksumsAsync(HttpClient c, string registry)
    {
        var result = new Dictionary<string, string>();
        foreach (var p in JsonDocument.Parse(await c.GetStringAsync($"api/v1/registries/{registry}/packages?page_size=1000")).RootElement.GetProperty("items").EnumerateArray())
        {
            var name = p.GetProperty("name").GetString()!;
            foreach (var v in JsonDocument.Parse(await c.GetStringAsync($"api/v1/registries/{registry}/versions?package={Uri.EscapeDataString(name)}")).RootElement.GetProperty("items").EnumerateArray())
            {
                var ver = v.GetProperty("version").GetString()!;
                foreach (var f in JsonDocument.Parse(await c.GetStringAsync($"api/v1/registries/{registry}/files?package={Uri.EscapeDataString(name)}&version={Uri.EscapeDataString(ver)}")).RootElement.GetProperty("items").EnumerateArray())
                    result[$"{name}/{ver}/{f.GetProperty("path").GetString()}"] = f.GetProperty("sha256").GetString()!;
            }
        }
        return result;
    }

    private static async Task<JsonElement> GetJsonAsync(HttpClient c, string url, string accept = "application/json")
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, url);
        request.Headers.Accept.ParseAdd(accept);
        var r = await c.SendAsync(request);
        Assert.True(r.IsSuccessStatusCode, $"GET {url}: {(int)r.StatusCode}");
        return JsonDocument.Parse(await r.Content.ReadAsStringAsync()).RootElement;
    }

    private static Dictionary<string, string> Tags(JsonElement packument) =>
        packument.GetProperty("dist-tags").EnumerateObject().ToDictionary(p => p.Name, p => p.Value.GetString()!);

    /// <summary>What the simple index says per file: sha256, requires-python, yanked.</summary>
    private static async Task<Dictionary<string, string>> SimpleFilesAsync(HttpClient c, string registry, string project)
    {
        var doc = await GetJsonAsync(c, $"pkg/{registry}/python/simple/{project}/", "application/vnd.pypi.simple.v1+json");
        return doc.GetProperty("files").EnumerateArray().ToDictionary(f => f.GetProperty("filename").GetString()!,
            f => $"{f.GetProperty("hashes").GetProperty("sha256").GetString()} {f.GetProperty("requires-python")} {f.GetProperty("yanked")}");
    }

    [Fact]
    public async Task Npm_and_python_registries_arrive_equal_by_checksum_with_tags_deprecation_and_yanking()
    {
        await _source.CreateRegistryAsync("npm-src", "NPM");
        await _source.CreateRegistryAsync("py-src", "PYTHON");
        await PublishNpmAsync("@team/core", "1.0.0", "latest", deprecated: "too old");
        await PublishNpmAsync("@team/core", "1.2.0", "latest");
        await PublishNpmAsync("@team/core", "2.0.0-rc.1", "beta");
        await PublishNpmAsync("plain", "0.1.0", "latest");
        await UploadWheelAsync("tool-kit", "1.0");
        await UploadWheelAsync("tool-kit", "1.1");
        await UploadWheelAsync("second", "3.0");
        (await _source.Admin.PutAsync("pkg/py-src/python/yank/tool-kit/1.0?reason=bad", null)).EnsureSuccessStatusCode();

        var config = MigrateCli.WriteConfig(_work, _source.BaseUrl, "ARCA", _source.AdminToken, _dest.BaseUrl, """
              - artifactType: NPM
                sourceRegistry: npm-src
                destinationRegistry: npm-dst
              - artifactType: PYTHON
                sourceRegistry: py-src
                destinationRegistry: py-dst
            """);
        var first = await _dest.MigrateOkAsync(config, _work);
        Assert.Equal(4, first[0].GetProperty("succeeded").GetInt32());
        Assert.Equal(3, first[1].GetProperty("succeeded").GetInt32());

        Assert.Equal(await ChecksumsAsync(_source.Admin, "npm-src"), await ChecksumsAsync(_dest.Admin, "npm-dst"));
        Assert.Equal(await ChecksumsAsync(_source.Admin, "py-src"), await ChecksumsAsync(_dest.Admin, "py-dst"));
        Assert.Equal(7, (await ChecksumsAsync(_dest.Admin, "npm-dst")).Count + (await ChecksumsAsync(_dest.Admin, "py-dst")).Count);

        var src = await GetJsonAsync(_source.Admin, "pkg/npm-src/npm/@team%2fcore");
        var dst = await GetJsonAsync(_dest.Admin, "pkg/npm-dst/npm/@team%2fcore");
        Assert.Equal(Tags(src), Tags(dst));
        Assert.Equal("1.2.0", dst.GetProperty("dist-tags").GetProperty("latest").GetString());
        Assert.Equal("2.0.0-rc.1", dst.GetProperty("dist-tags").GetProperty("beta").GetString());
        Assert.Equal("too old", dst.GetProperty("versions").GetProperty("1.0.0").GetProperty("deprecated").GetString());
        foreach (var v in new[] { "1.0.0", "1.2.0", "2.0.0-rc.1" })
            Assert.Equal(src.GetProperty("versions").GetProperty(v).GetProperty("dist").GetProperty("integrity").GetString(),
                dst.GetProperty("versions").GetProperty(v).GetProperty("dist").GetProperty("integrity").GetString());

        var toolKit = await SimpleFilesAsync(_dest.Admin, "py-dst", "tool-kit");
        Assert.Equal(await SimpleFilesAsync(_source.Admin, "py-src", "tool-kit"), toolKit);
        Assert.EndsWith(">=3.8 bad", toolKit["tool_kit-1.0-py3-none-any.whl"]);
        Assert.EndsWith(">=3.8 False", toolKit["tool_kit-1.1-py3-none-any.whl"]);

        var again = await _dest.MigrateOkAsync(config, _work);
        Assert.Equal(0, again[0].GetProperty("succeeded").GetInt32() + again[1].GetProperty("succeeded").GetInt32());
        Assert.Equal(4, again[0].GetProperty("skipped").GetInt32());
        Assert.Equal(3, again[1].GetProperty("skipped").GetInt32());

        // Changes made at the source after the first run follow on the next: a deprecation (as `npm deprecate` sends
        // it) and a yank. Only those two items do anything.
        var writable = JsonNode.Parse((await GetJsonAsync(_source.Admin, "pkg/npm-src/npm/@team%2fcore?write=true")).GetRawText())!;
        writable["versions"]!["1.2.0"]!["deprecated"] = "moved to @team/core2";
        (await _source.Admin.PutAsync("pkg/npm-src/npm/@team%2fcore", new StringContent(writable.ToJsonString(), Encoding.UTF8, "application/json"))).EnsureSuccessStatusCode();
        (await _source.Admin.PutAsync("pkg/py-src/python/yank/second/3.0", null)).EnsureSuccessStatusCode();
        var followUp = await _dest.MigrateOkAsync(config, _work);
        Assert.Equal(1, followUp[0].GetProperty("succeeded").GetInt32());
        Assert.Equal(1, followUp[1].GetProperty("succeeded").GetInt32());
        Assert.Equal(0, followUp[0].GetProperty("bytes").GetInt64() + followUp[1].GetProperty("bytes").GetInt64());
        Assert.Equal("moved to @team/core2", (await GetJsonAsync(_dest.Admin, "pkg/npm-dst/npm/@team%2fcore")).GetProperty("versions").GetProperty("1.2.0").GetProperty("deprecated").GetString());
        Assert.Equal(await SimpleFilesAsync(_source.Admin, "py-src", "second"), await SimpleFilesAsync(_dest.Admin, "py-dst", "second"));
        Assert.EndsWith(" True", (await SimpleFilesAsync(_dest.Admin, "py-dst", "second")).Values.Single());

        // The same npm registry read as a plain NPM_REGISTRY (a path under the endpoint, with credentials): Arca has
        // no verdaccio package list, so the listing pages through the npm search API.
        var viaNpm = MigrateCli.WriteConfig(_work, _source.BaseUrl, "NPM_REGISTRY", _source.AdminToken, _dest.BaseUrl, """
              - artifactType: NPM
                sourceRegistry: pkg/npm-src/npm
                destinationRegistry: npm-dst2
            """);
        var third = await _dest.MigrateOkAsync(viaNpm, _work);
        Assert.Equal(4, third[0].GetProperty("succeeded").GetInt32());
        Assert.Equal(await ChecksumsAsync(_source.Admin, "npm-src"), await ChecksumsAsync(_dest.Admin, "npm-dst2"));
        Assert.Equal(Tags(src), Tags(await GetJsonAsync(_dest.Admin, "pkg/npm-dst2/npm/@team%2fcore")));
    }
}
