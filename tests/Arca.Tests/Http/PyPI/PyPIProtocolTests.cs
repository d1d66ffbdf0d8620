using System.Formats.Tar;
using System.IO.Compression;
using System.Net;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using Arca.Tests.Infrastructure;

namespace Arca.Tests.Http.PyPI;

/// <summary>The upload API and the simple repository API (PEP 503 HTML, PEP 691 JSON) at the HTTP level.</summary>
public sealed class PyPIProtocolTests : IAsyncLifetime
{
    private const string Registry = "py-http";
    private TestServer _server = null!;
    private string Base => $"pkg/{Registry}/python/";

    public async Task InitializeAsync()
    {
        _server = await TestServer.StartAsync();
        await _server.CreateRegistryAsync(Registry, "PYTHON");
    }

    public async Task DisposeAsync() => await _server.DisposeAsync();

    private static string Metadata(string name, string version, string requiresPython = ">=3.8") =>
        $"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\nSummary: test\nRequires-Python: {requiresPython}\n\nLong description\n";

    internal static byte[] Wheel(string name, string version, string? metadataName = null)
    {
        using var output = new MemoryStream();
        using (var zip = new ZipArchive(output, ZipArchiveMode.Create, leaveOpen: true))
        {
            var module = name.Replace('-', '_');
            void Add(string path, string text)
            {
                using var w = new StreamWriter(zip.CreateEntry(path).Open());
                w.Write(text);
            }
            Add($"{module}/__init__.py", "VALUE = 1\n");
            Add($"{module}-{version}.dist-info/METADATA", Metadata(metadataName ?? name, version));
            Add($"{module}-{version}.dist-info/WHEEL", "Wheel-Version: 1.0\nRoot-Is-Purelib: true\nTag: py3-none-any\n");
        }
        return output.ToArray();
    }

    internal static byte[] Sdist(string name, string version)
    {
        using var output = new MemoryStream();
        using (var gzip = new GZipStream(output, CompressionLevel.Fastest, leaveOpen: true))
        using (var tar = new TarWriter(gzip, TarEntryFormat.Pax))
        {
            var root = $"{name.Replace('-', '_')}-{version}";
            tar.WriteEntry(new PaxTarEntry(TarEntryType.RegularFile, $"{root}/PKG-INFO") { DataStream = new MemoryStream(Encoding.UTF8.GetBytes(Metadata(name, version))) });
            tar.WriteEntry(new PaxTarEntry(TarEntryType.RegularFile, $"{root}/setup.py") { DataStream = new MemoryStream("from setuptools import setup\nsetup()\n"u8.ToArray()) });
        }
        return output.ToArray();
    }

    /// <summary>The form twine sends: fields first, then the file part.</summary>
    private async Task<HttpResponseMessage> Upload(string name, string version, string fileName, byte[] content,
        string? sha256 = null, string? md5 = null, HttpClient? client = null, string requiresPython = ">=3.8", string? blake2 = null)
    {
        using var form = new MultipartFormDataContent();
        void Field(string key, string value) => form.Add(new StringContent(value), key);
        Field(":action", "file_upload");
        Field("protocol_version", "1");
        Field("name", name);
        Field("version", version);
        Field("filetype", fileName.EndsWith(".whl") ? "bdist_wheel" : "sdist");
        Field("pyversion", fileName.EndsWith(".whl") ? "py3" : "source");
        Field("metadata_version", "2.1");
        Field("summary", "test");
        Field("requires_python", requiresPython);
        Field("sha256_digest", sha256 ?? Convert.ToHexStringLower(SHA256.HashData(content)));
        Field("md5_digest", md5 ?? Convert.ToHexStringLower(MD5.HashData(content)));
        if (blake2 is not null) Field("blake2_256_digest", blake2);
        var file = new ByteArrayContent(content);
        file.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
        form.Add(file, "content", fileName);
        return await (client ?? _server.Admin).PostAsync(Base, form);
    }

    private async Task AssertRefused(HttpResponseMessage r, HttpStatusCode status, string contains)
    {
        var text = await r.Content.ReadAsStringAsync();
        Assert.True(status == r.StatusCode, $"expected {status}, got {(int)r.StatusCode}: {text}");
        Assert.Contains(contains, text);
        Assert.Contains(contains[..Math.Min(contains.Length, 20)], r.ReasonPhrase);
    }

    private async Task AssertNotStored(string project)
    {
        var r = await _server.Admin.GetAsync(Base + $"simple/{project}/");
        Assert.Equal(HttpStatusCode.NotFound, r.StatusCode);
    }

    private async Task<HttpResponseMessage> GetAccept(string path, string accept)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, Base + path);
        request.Headers.TryAddWithoutValidation("Accept", accept);
        return await _server.Admin.SendAsync(request);
    }

    [Fact]
    public async Task Json_index_has_the_pep691_shape_and_html_index_the_pep503_one()
    {
        var wheel = Wheel("json-shape", "1.0");
        var sdist = Sdist("json-shape", "1.0");
        Assert.Equal(HttpStatusCode.OK, (await Upload("json-shape", "1.0", "json_shape-1.0-py3-none-any.whl", wheel)).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await Upload("json-shape", "1.0", "json_shape-1.0.tar.gz", sdist)).StatusCode);

        // What pip sends: JSON preferred.
        var r = await GetAccept("simple/json-shape/", "application/vnd.pypi.simple.v1+json, application/vnd.pypi.simple.v1+html; q=0.1, text/html; q=0.01");
        Assert.Equal("application/vnd.pypi.simple.v1+json", r.Content.Headers.ContentType!.MediaType);
        var doc = JsonNode.Parse(await r.Content.ReadAsStringAsync())!.AsObject();
        Assert.Equal("1.1", (string?)doc["meta"]!["api-version"]);
        Assert.Equal("json-shape", (string?)doc["name"]);
        Assert.Equal(["1.0"], doc["versions"]!.AsArray().Select(v => (string)v!).ToArray());
        var files = doc["files"]!.AsArray();
        Assert.Equal(2, files.Count);
        foreach (var f in files)
        {
            var filename = (string)f!["filename"]!;
            var bytes = filename.EndsWith(".whl") ? wheel : sdist;
            Assert.Equal(Convert.ToHexStringLower(SHA256.HashData(bytes)), (string?)f["hashes"]!["sha256"]);
            Assert.Equal(">=3.8", (string?)f["requires-python"]);
            Assert.False((bool)f["yanked"]!);
            Assert.Equal(bytes.Length, (long)f["size"]!);
            Assert.EndsWith("Z", (string)f["upload-time"]!);
            var url = (string)f["url"]!;
            Assert.StartsWith($"{_server.BaseUrl}/pkg/{Registry}/python/files/json-shape/1.0/", url);
            Assert.Equal(bytes, await _server.Admin.GetByteArrayAsync(url));
        }

        var rootJson = await GetAccept("simple/", "application/vnd.pypi.simple.v1+json");
        var root = JsonNode.Parse(await rootJson.Content.ReadAsStringAsync())!;
        Assert.Equal("1.1", (string?)root["meta"]!["api-version"]);
        Assert.Contains(root["projects"]!.AsArray(), p => (string?)p!["name"] == "json-shape");

        // HTML by default, with hash fragments and an escaped requires-python.
        var html = await _server.Admin.GetAsync(Base + "simple/json-shape/");
        Assert.Equal("text/html", html.Content.Headers.ContentType!.MediaType);
        var page = await html.Content.ReadAsStringAsync();
        Assert.Contains($"json_shape-1.0-py3-none-any.whl#sha256={Convert.ToHexStringLower(SHA256.HashData(wheel))}", page);
        Assert.Contains("data-requires-python=\"&gt;=3.8\"", page);
        Assert.Contains("<meta name=\"pypi:repository-version\" content=\"1.1\">", page);
        var rootHtml = await _server.Admin.GetStringAsync(Base + "simple/");
        Assert.Contains("<a href=\"json-shape/\">json-shape</a>", rootHtml);
    }

    [Fact]
    public async Task Non_normalized_project_urls_redirect()
    {
        Assert.Equal(HttpStatusCode.OK, (await Upload("Norm_Me", "0.1", "norm_me-0.1.tar.gz", Sdist("Norm_Me", "0.1"))).StatusCode);
        using var noRedirect = new HttpClient(new HttpClientHandler { AllowAutoRedirect = false }) { BaseAddress = new Uri(_server.BaseUrl + "/") };
        noRedirect.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", _server.AdminToken);
        foreach (var path in new[] { "simple/Norm_Me/", "simple/norm.me/", "simple/norm-me" })
        {
            var r = await noRedirect.GetAsync(Base + path);
            Assert.Equal(HttpStatusCode.MovedPermanently, r.StatusCode);
            Assert.Equal($"/pkg/{Registry}/python/simple/norm-me/", r.Headers.Location!.OriginalString);
        }
        var root = await _server.Admin.GetStringAsync(Base + "simple/");
        Assert.Contains("<a href=\"norm-me/\">Norm_Me</a>", root);
    }

    [Fact]
    public async Task Bad_digests_corrupt_archives_and_mismatched_names_are_refused_and_store_nothing()
    {
        var wheel = Wheel("bad-one", "1.0");
        await AssertRefused(await Upload("bad-one", "1.0", "bad_one-1.0-py3-none-any.whl", wheel, sha256: new string('a', 64)), HttpStatusCode.BadRequest, "sha256");
        await AssertRefused(await Upload("bad-one", "1.0", "bad_one-1.0-py3-none-any.whl", wheel, md5: new string('b', 32)), HttpStatusCode.BadRequest, "md5");
        await AssertRefused(await Upload("bad-one", "1.0", "bad_one-1.0-py3-none-any.whl", wheel, blake2: new string('c', 64)), HttpStatusCode.BadRequest, "blake2_256_digest");
        var notZip = RandomNumberGenerator.GetBytes(4096);
        await AssertRefused(await Upload("bad-one", "1.0", "bad_one-1.0-py3-none-any.whl", notZip), HttpStatusCode.BadRequest, "not a valid zip archive");
        await AssertRefused(await Upload("bad-one", "1.0", "bad_one-1.0.tar.gz", notZip), HttpStatusCode.BadRequest, "not a valid gzip-compressed tar");
        var truncated = Sdist("bad-one", "1.0")[..^30];
        await AssertRefused(await Upload("bad-one", "1.0", "bad_one-1.0.tar.gz", truncated), HttpStatusCode.BadRequest, "not a valid gzip-compressed tar");
        await AssertRefused(await Upload("bad-one", "1.0", "other-1.0-py3-none-any.whl", wheel), HttpStatusCode.BadRequest, "is for project 'other'");
        await AssertRefused(await Upload("bad-one", "1.0", "bad_one-2.0-py3-none-any.whl", wheel), HttpStatusCode.BadRequest, "is for version '2.0'");
        await AssertRefused(await Upload("bad-one", "1.0", "bad_one-1.0-py3-none-any.whl", Wheel("bad-one", "1.0", metadataName: "sneaky")), HttpStatusCode.BadRequest, "metadata names project 'sneaky'");
        await AssertRefused(await Upload("bad-one", "1.0", "bad_one-1.0.exe", wheel), HttpStatusCode.BadRequest, "unsupported file type");
        await AssertNotStored("bad-one");

        // Nothing is left in the blob store either (refused content is removed at once, not left for GC).
        var blobFiles = Directory.EnumerateFiles(Path.Combine(_server.DataDir, "blobs"), "*", SearchOption.AllDirectories).ToList();
        Assert.Empty(blobFiles);
    }

    [Fact]
    public async Task Duplicate_file_is_409_and_other_files_of_the_version_are_accepted()
    {
        var wheel = Wheel("dup-file", "1.0");
        Assert.Equal(HttpStatusCode.OK, (await Upload("dup-file", "1.0", "dup_file-1.0-py3-none-any.whl", wheel)).StatusCode);
        await AssertRefused(await Upload("dup-file", "1.0", "dup_file-1.0-py3-none-any.whl", wheel), HttpStatusCode.Conflict, "File already exists");
        Assert.Equal(HttpStatusCode.OK, (await Upload("dup-file", "1.0", "dup_file-1.0.tar.gz", Sdist("dup-file", "1.0"))).StatusCode);
    }

    [Fact]
    public async Task Anonymous_upload_gets_a_basic_challenge_and_read_token_gets_403()
    {
        var wheel = Wheel("auth-test", "1.0");
        var anonymous = await Upload("auth-test", "1.0", "auth_test-1.0-py3-none-any.whl", wheel, client: _server.Anonymous);
        Assert.Equal(HttpStatusCode.Unauthorized, anonymous.StatusCode);
        Assert.Contains(anonymous.Headers.WwwAuthenticate, h => h.Scheme == "Basic");
        using var reader = _server.CreateClient(await _server.CreateTokenAsync("read", Registry));
        Assert.Equal(HttpStatusCode.Forbidden, (await Upload("auth-test", "1.0", "auth_test-1.0-py3-none-any.whl", wheel, client: reader)).StatusCode);
        await AssertNotStored("auth-test");
    }

    [Fact]
    public async Task Yanked_versions_are_marked_in_both_index_forms()
    {
        Assert.Equal(HttpStatusCode.OK, (await Upload("yank-me", "1.0", "yank_me-1.0.tar.gz", Sdist("yank-me", "1.0"), requiresPython: ">=3.8,<4")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await _server.Admin.PutAsync(Base + "yank/yank-me/1.0?reason=broken%20build", null)).StatusCode);
        var html = await _server.Admin.GetStringAsync(Base + "simple/yank-me/");
        Assert.Contains("data-yanked=\"broken build\"", html);
        Assert.Contains("data-requires-python=\"&gt;=3.8,&lt;4\"", html);
        var json = JsonNode.Parse(await (await GetAccept("simple/yank-me/", "application/vnd.pypi.simple.v1+json")).Content.ReadAsStringAsync())!;
        Assert.Equal("broken build", (string?)json["files"]![0]!["yanked"]);

        Assert.Equal(HttpStatusCode.OK, (await _server.Admin.DeleteAsync(Base + "yank/yank-me/1.0")).StatusCode);
        Assert.DoesNotContain("data-yanked", await _server.Admin.GetStringAsync(Base + "simple/yank-me/"));
    }
}
