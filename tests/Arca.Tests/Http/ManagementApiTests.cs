using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Arca.Tests.Infrastructure;

namespace Arca.Tests.Http;

/// <summary>Registries, packages, versions, files, metadata, copy, delete and GC through /api/v1.</summary>
public sealed class ManagementApiTests : IAsyncLifetime
{
    private TestServer _s = null!;
    public async Task InitializeAsync() => _s = await TestServer.StartAsync();
    public async Task DisposeAsync() => await _s.DisposeAsync();
    private HttpClient Admin => _s.Admin;
    private async Task<JsonElement> Json(string url) => JsonDocument.Parse(await Admin.GetStringAsync(url)).RootElement;

    [Fact]
    public async Task Registry_list_filters_and_pages()
    {
        for (var i = 0; i < 5; i++) await _s.CreateRegistryAsync($"gen-{i}", "GENERIC");
        await _s.CreateRegistryAsync("npm-1", "NPM");
        (await Admin.PostAsJsonAsync("api/v1/registries", new { identifier = "scoped", packageType = "GENERIC", org = "acme", project = "web" })).EnsureSuccessStatusCode();

        var page1 = await Json("api/v1/registries?package_type=generic&page=1&page_size=2");
        Assert.Equal(6, page1.GetProperty("total").GetInt32());
        Assert.Equal(2, page1.GetProperty("items").GetArrayLength());
        var page3 = await Json("api/v1/registries?package_type=GENERIC&page=3&page_size=2");
        Assert.Equal(2, page3.GetProperty("items").GetArrayLength());
        var npm = await Json("api/v1/registries?package_type=NPM");
        Assert.Equal("npm-1", npm.GetProperty("items")[0].GetProperty("identifier").GetString());
        Assert.EndsWith("/pkg/npm-1/npm/", npm.GetProperty("items")[0].GetProperty("url").GetString() ?? "/pkg/npm-1/npm/");
        var scoped = await Json("api/v1/registries?org=acme&project=web");
        Assert.Equal("scoped", scoped.GetProperty("items").EnumerateArray().Single().GetProperty("identifier").GetString());
        Assert.Equal(HttpStatusCode.BadRequest, (await Admin.GetAsync("api/v1/registries?page_size=0")).StatusCode);
    }

    [Fact]
    public async Task Registry_get_shows_client_url_update_and_delete()
    {
        await _s.CreateRegistryAsync("files", "GENERIC");
        var r = await Json("api/v1/registries/files");
        Assert.Equal($"{_s.BaseUrl}/pkg/files/generic", r.GetProperty("url").GetString());
        var patch = await Admin.PatchAsJsonAsync("api/v1/registries/files", new { description = "d", @public = true, labels = new[] { "a", "b" } });
        patch.EnsureSuccessStatusCode();
        r = await Json("api/v1/registries/files");
        Assert.True(r.GetProperty("public").GetBoolean());
        Assert.Equal("d", r.GetProperty("description").GetString());
        Assert.Equal(2, r.GetProperty("labels").GetArrayLength());
        Assert.Equal(HttpStatusCode.Conflict, (await Admin.PostAsJsonAsync("api/v1/registries", new { identifier = "files", packageType = "GENERIC" })).StatusCode);
        (await Admin.PutAsync("pkg/files/generic/p/1/f.txt", new StringContent("x"))).EnsureSuccessStatusCode();
        Assert.Equal(HttpStatusCode.NoContent, (await Admin.DeleteAsync("api/v1/registries/files")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await Admin.GetAsync("api/v1/registries/files")).StatusCode);
        Assert.Equal(0, (await Json("api/v1/packages")).GetProperty("total").GetInt32());
    }

    [Fact]
    public async Task Artifact_hierarchy_lists_packages_versions_files()
    {
        await _s.CreateRegistryAsync("files", "GENERIC");
        foreach (var (p, v, f) in new[] { ("a", "1", "x.txt"), ("a", "2", "x.txt"), ("a", "2", "y/z.txt"), ("b", "1", "x.txt") })
            (await Admin.PutAsync($"pkg/files/generic/{p}/{v}/{f}", new StringContent(p + v + f))).EnsureSuccessStatusCode();
        Assert.Equal(2, (await Json("api/v1/packages")).GetProperty("total").GetInt32());
        Assert.Equal(2, (await Json("api/v1/registries/files/packages")).GetProperty("total").GetInt32());
        var versions = await Json("api/v1/registries/files/versions?package=a");
        Assert.Equal(new[] { "1", "2" }, versions.GetProperty("items").EnumerateArray().Select(v => v.GetProperty("version").GetString()));
        var files = await Json("api/v1/registries/files/files?package=a&version=2");
        Assert.Equal(new[] { "x.txt", "y/z.txt" }, files.GetProperty("items").EnumerateArray().Select(v => v.GetProperty("path").GetString()));
        var paged = await Json("api/v1/registries/files/packages?page=2&page_size=1");
        Assert.Equal("b", paged.GetProperty("items")[0].GetProperty("name").GetString());
        Assert.Equal(HttpStatusCode.NotFound, (await Admin.GetAsync("api/v1/registries/files/versions?package=nope")).StatusCode);

        Assert.Equal(HttpStatusCode.NoContent, (await Admin.DeleteAsync("api/v1/registries/files/version?package=a&version=1")).StatusCode);
        Assert.Equal(1, (await Json("api/v1/registries/files/versions?package=a")).GetProperty("total").GetInt32());
        Assert.Equal(HttpStatusCode.NoContent, (await Admin.DeleteAsync("api/v1/registries/files/package?name=a")).StatusCode);
        Assert.Equal(1, (await Json("api/v1/registries/files/packages")).GetProperty("total").GetInt32());
    }

    [Theory]
    [InlineData(null, null)]
    [InlineData("p", null)]
    [InlineData("p", "1")]
    public async Task Metadata_round_trips_at_each_level(string? package, string? version)
    {
        await _s.CreateRegistryAsync("meta", "GENERIC");
        (await Admin.PutAsync("pkg/meta/generic/p/1/f.txt", new StringContent("x"))).EnsureSuccessStatusCode();
        var q = "api/v1/registries/meta/metadata?" + (package is null ? "" : $"package={package}") + (version is null ? "" : $"&version={version}");
        var set = await Admin.PutAsync(q, new StringContent("""{"text":"team:core,env:prod","metadata":{"url":"http://x:1/y"}}""", Encoding.UTF8, "application/json"));
        Assert.True(set.IsSuccessStatusCode, await set.Content.ReadAsStringAsync());
        var got = (await Json(q)).GetProperty("metadata");
        Assert.Equal("core", got.GetProperty("team").GetString());
        Assert.Equal("http://x:1/y", got.GetProperty("url").GetString());
        var del = await Admin.DeleteAsync(q + "&keys=team,url");
        del.EnsureSuccessStatusCode();
        got = (await Json(q)).GetProperty("metadata");
        Assert.Equal(new[] { "env" }, got.EnumerateObject().Select(p => p.Name));
        Assert.Equal(HttpStatusCode.BadRequest, (await Admin.PutAsync(q, new StringContent("""{"text":"novalue"}""", Encoding.UTF8, "application/json"))).StatusCode);
        // Other levels are untouched.
        if (package is not null)
            Assert.Empty((await Json("api/v1/registries/meta/metadata")).GetProperty("metadata").EnumerateObject());
    }

    [Fact]
    public async Task Copy_reuses_blobs_and_refuses_wrong_type_and_duplicates()
    {
        await _s.CreateRegistryAsync("src", "GENERIC");
        await _s.CreateRegistryAsync("dst", "GENERIC");
        await _s.CreateRegistryAsync("npmreg", "NPM");
        (await Admin.PutAsync("pkg/src/generic/p/1/f.bin", new ByteArrayContent(new byte[4096]))).EnsureSuccessStatusCode();
        (await Admin.PutAsync("api/v1/registries/src/metadata?package=p&version=1", new StringContent("""{"text":"k:v"}""", Encoding.UTF8, "application/json"))).EnsureSuccessStatusCode();
        var blobCount = BlobFiles();
        var copy = await Admin.PostAsJsonAsync("api/v1/registries/src/copy", new { package = "p", version = "1", destination = "dst" });
        Assert.True(copy.IsSuccessStatusCode, await copy.Content.ReadAsStringAsync());
        Assert.Equal(new byte[4096], await Admin.GetByteArrayAsync("pkg/dst/generic/p/1/f.bin"));
        Assert.Equal(blobCount, BlobFiles());
        Assert.Equal("v", (await Json("api/v1/registries/dst/metadata?package=p&version=1")).GetProperty("metadata").GetProperty("k").GetString());
        Assert.Equal(HttpStatusCode.Conflict, (await Admin.PostAsJsonAsync("api/v1/registries/src/copy", new { package = "p", version = "1", destination = "dst" })).StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, (await Admin.PostAsJsonAsync("api/v1/registries/src/copy", new { package = "p", version = "1", destination = "npmreg" })).StatusCode);
    }

    [Fact]
    public async Task Gc_reclaims_blobs_of_deleted_registries_only()
    {
        await _s.CreateRegistryAsync("one", "GENERIC");
        await _s.CreateRegistryAsync("two", "GENERIC");
        (await Admin.PutAsync("pkg/one/generic/p/1/shared.bin", new ByteArrayContent(new byte[1000]))).EnsureSuccessStatusCode();
        (await Admin.PutAsync("pkg/two/generic/p/1/shared.bin", new ByteArrayContent(new byte[1000]))).EnsureSuccessStatusCode();
        (await Admin.PutAsync("pkg/one/generic/p/1/own.bin", new ByteArrayContent(new byte[2000]))).EnsureSuccessStatusCode();
        Assert.Equal(2, BlobFiles());
        (await Admin.DeleteAsync("api/v1/registries/one")).EnsureSuccessStatusCode();

        var dry = JsonDocument.Parse(await (await Admin.PostAsync("api/v1/gc?dryRun=true&grace=0", null)).Content.ReadAsStringAsync()).RootElement;
        Assert.Equal(1, dry.GetProperty("blobsDeleted").GetInt32());
        Assert.Equal(2, BlobFiles());
        var withGrace = JsonDocument.Parse(await (await Admin.PostAsync("api/v1/gc", null)).Content.ReadAsStringAsync()).RootElement;
        Assert.Equal(0, withGrace.GetProperty("blobsDeleted").GetInt32()); // younger than the 1h default grace
        var run = JsonDocument.Parse(await (await Admin.PostAsync("api/v1/gc?grace=0", null)).Content.ReadAsStringAsync()).RootElement;
        Assert.Equal(2000, run.GetProperty("bytesFreed").GetInt64());
        Assert.Equal(1, BlobFiles());
        Assert.Equal(new byte[1000], await Admin.GetByteArrayAsync("pkg/two/generic/p/1/shared.bin"));
    }

    [Fact]
    public async Task Health_and_openapi_documents_are_served()
    {
        Assert.Equal(HttpStatusCode.OK, (await _s.Anonymous.GetAsync("healthz")).StatusCode);
        var doc = JsonDocument.Parse(await _s.Anonymous.GetStringAsync("api/v1/openapi.json")).RootElement;
        var paths = doc.GetProperty("paths").EnumerateObject().Select(p => p.Name).ToList();
        Assert.Contains("/api/v1/registries", paths);
        Assert.Contains("/api/v1/tokens", paths);
        Assert.Contains("/api/v1/registries/{registry}/metadata", paths);
    }

    private int BlobFiles() => Directory.GetFiles(Path.Combine(_s.DataDir, "blobs"), "*", SearchOption.AllDirectories).Length;
}
