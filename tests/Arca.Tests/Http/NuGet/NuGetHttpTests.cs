using System.IO.Compression;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using Arca.Tests.Infrastructure;

namespace Arca.Tests.Http.NuGet;

/// <summary>NuGet v3 at HTTP level: service index, push rules, flat container, registrations, search, unlist.</summary>
public sealed class NuGetHttpTests : IAsyncLifetime
{
    private const string Root = "pkg/nu/nuget/";
    private TestServer _server = null!;

    public async Task InitializeAsync()
    {
        _server = await TestServer.StartAsync();
        await _server.CreateRegistryAsync("nu", "NUGET");
    }

    public async Task DisposeAsync() => await _server.DisposeAsync();

    internal static byte[] Nupkg(string id, string version, string dependencies = "", string? nuspecName = null)
    {
        using var ms = new MemoryStream();
        using (var zip = new ZipArchive(ms, ZipArchiveMode.Create, leaveOpen: true))
        {
            using (var w = new StreamWriter(zip.CreateEntry(nuspecName ?? $"{id}.nuspec").Open(), new UTF8Encoding(false)))
                w.Write($"""
                    <?xml version="1.0" encoding="utf-8"?>
                    <package xmlns="http://schemas.microsoft.com/packaging/2013/05/nuspec.xsd">
                      <metadata>
                        <id>{id}</id><version>{version}</version><authors>Acme, Bob</authors>
                        <description>Package {id}</description><tags>one two</tags>
                        <dependencies>{dependencies}</dependencies>
                      </metadata>
                    </package>
                    """);
            using (var w = new StreamWriter(zip.CreateEntry($"lib/net10.0/{id}.txt").Open()))
                w.Write($"{id} {version}");
        }
        return ms.ToArray();
    }

    private Task<HttpResponseMessage> PushAsync(byte[] nupkg, HttpClient? client = null, string path = "api/v2/package")
    {
        var form = new MultipartFormDataContent();
        form.Add(new ByteArrayContent(nupkg), "package", "package.nupkg");
        return (client ?? _server.Admin).PutAsync(Root + path, form);
    }

    private async Task<JsonElement> JsonAsync(string path) =>
        JsonDocument.Parse(await _server.Admin.GetStringAsync(path)).RootElement.Clone();

    [Fact]
    public async Task Service_index_advertises_the_v3_resources()
    {
        var index = await JsonAsync(Root + "index.json");
        Assert.Equal("3.0.0", index.GetProperty("version").GetString());
        var types = index.GetProperty("resources").EnumerateArray().ToDictionary(r => r.GetProperty("@type").GetString()!, r => r.GetProperty("@id").GetString()!);
        Assert.Equal($"{_server.BaseUrl}/pkg/nu/nuget/v3-flatcontainer/", types["PackageBaseAddress/3.0.0"]);
        Assert.Equal($"{_server.BaseUrl}/pkg/nu/nuget/api/v2/package", types["PackagePublish/2.0.0"]);
        Assert.StartsWith(_server.BaseUrl, types["SearchQueryService/3.5.0"]);
        Assert.StartsWith(_server.BaseUrl, types["RegistrationsBaseUrl/3.6.0"]);
    }

    [Fact]
    public async Task Push_normalizes_the_version_and_serves_flat_container_and_registration()
    {
        var pkg = Nupkg("Acme.Flat", "1.0", """<group targetFramework="net10.0"><dependency id="Acme.Dep" version="2.0" /></group><group targetFramework="netstandard2.0" />""");
        Assert.Equal(HttpStatusCode.Created, (await PushAsync(pkg)).StatusCode);

        var versions = await JsonAsync(Root + "v3-flatcontainer/acme.flat/index.json");
        Assert.Equal(["1.0.0"], versions.GetProperty("versions").EnumerateArray().Select(v => v.GetString()));
        Assert.Equal(pkg, await _server.Admin.GetByteArrayAsync(Root + "v3-flatcontainer/acme.flat/1.0.0/acme.flat.1.0.0.nupkg"));
        Assert.Contains("<id>Acme.Flat</id>", await _server.Admin.GetStringAsync(Root + "v3-flatcontainer/acme.flat/1.0.0/acme.flat.nuspec"));

        var reg = await JsonAsync(Root + "registration/acme.flat/index.json");
        var leaf = reg.GetProperty("items")[0].GetProperty("items")[0];
        var entry = leaf.GetProperty("catalogEntry");
        Assert.Equal("Acme.Flat", entry.GetProperty("id").GetString());
        Assert.Equal("1.0.0", entry.GetProperty("version").GetString());
        var group = entry.GetProperty("dependencyGroups").EnumerateArray().First(g => g.GetProperty("targetFramework").GetString() == "net10.0");
        var dep = group.GetProperty("dependencies")[0];
        Assert.Equal("Acme.Dep", dep.GetProperty("id").GetString());
        Assert.Equal("[2.0.0, )", dep.GetProperty("range").GetString());
        Assert.Equal(pkg, await _server.Admin.GetByteArrayAsync(leaf.GetProperty("packageContent").GetString()));

        var single = await JsonAsync(Root + "registration/acme.flat/1.0.0.json");
        Assert.True(single.GetProperty("listed").GetBoolean());

        // The management API shows the package under its lower-case id with the nuspec fields.
        var ver = await JsonAsync("api/v1/registries/nu/version?package=acme.flat&version=1.0.0");
        Assert.Equal("Acme.Flat", ver.GetProperty("version").GetProperty("properties").GetProperty("id").GetString());
        Assert.Equal(2, ver.GetProperty("files").GetArrayLength());
    }

    [Fact]
    public async Task Duplicate_push_is_409_and_corrupt_or_invalid_packages_are_400_storing_nothing()
    {
        Assert.Equal(HttpStatusCode.Created, (await PushAsync(Nupkg("Acme.Dup", "1.0.0"))).StatusCode);
        Assert.Equal(HttpStatusCode.Conflict, (await PushAsync(Nupkg("acme.dup", "1.0"))).StatusCode);

        var corrupt = Nupkg("Acme.Corrupt", "1.0.0");
        Array.Resize(ref corrupt, corrupt.Length / 2);
        Assert.Equal(HttpStatusCode.BadRequest, (await PushAsync(corrupt)).StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, (await PushAsync(Nupkg("Acme.BadVersion", "1.0.0.0.0.x"))).StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, (await PushAsync(Nupkg("Acme Bad", "1.0.0", nuspecName: "bad.nuspec"))).StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, (await PushAsync(Nupkg("Acme.NoSpec", "1.0.0", nuspecName: "sub/x.nuspec"))).StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, (await PushAsync(Nupkg("Acme.BadDep", "1.0.0", """<dependency id="X" version="[[" />"""))).StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, (await PushAsync("not a zip at all"u8.ToArray())).StatusCode);

        var packages = await JsonAsync("api/v1/registries/nu/packages");
        Assert.Equal(["acme.dup"], packages.GetProperty("items").EnumerateArray().Select(p => p.GetProperty("name").GetString()));
    }

    [Fact]
    public async Task Unlisted_versions_are_hidden_from_search_but_still_restorable_and_can_be_relisted()
    {
        Assert.Equal(HttpStatusCode.Created, (await PushAsync(Nupkg("Acme.Search", "1.0.0"))).StatusCode);
        Assert.Equal(HttpStatusCode.Created, (await PushAsync(Nupkg("Acme.Search", "2.0.0-beta.1"))).StatusCode);
        Assert.Equal(HttpStatusCode.Created, (await PushAsync(Nupkg("Other.Thing", "0.1.0"), path: "")).StatusCode);

        var stable = await JsonAsync(Root + "query?q=acme.search&prerelease=false");
        Assert.Equal(1, stable.GetProperty("totalHits").GetInt32());
        Assert.Equal("1.0.0", stable.GetProperty("data")[0].GetProperty("version").GetString());
        var pre = await JsonAsync(Root + "query?q=Acme.Search&prerelease=true");
        Assert.Equal("2.0.0-beta.1", pre.GetProperty("data")[0].GetProperty("version").GetString());
        Assert.Equal(2, pre.GetProperty("data")[0].GetProperty("versions").GetArrayLength());
        var all = await JsonAsync(Root + "query?prerelease=true&take=1&skip=1");
        Assert.Equal(2, all.GetProperty("totalHits").GetInt32());
        Assert.Equal("Other.Thing", all.GetProperty("data")[0].GetProperty("id").GetString());

        // Unlist needs delete scope; a write token is refused.
        var writer = _server.CreateClient(await _server.CreateTokenAsync("write", "nu"));
        Assert.Equal(HttpStatusCode.Forbidden, (await writer.DeleteAsync(Root + "api/v2/package/Acme.Search/1.0.0")).StatusCode);
        Assert.Equal(HttpStatusCode.NoContent, (await _server.Admin.DeleteAsync(Root + "api/v2/package/Acme.Search/1.0.0")).StatusCode);
        var afterUnlist = await JsonAsync(Root + "query?q=acme.search&prerelease=false");
        Assert.Equal(0, afterUnlist.GetProperty("totalHits").GetInt32());
        Assert.True((await _server.Admin.GetAsync(Root + "v3-flatcontainer/acme.search/1.0.0/acme.search.1.0.0.nupkg")).IsSuccessStatusCode);
        Assert.False((await JsonAsync(Root + "registration/acme.search/1.0.0.json")).GetProperty("listed").GetBoolean());

        Assert.Equal(HttpStatusCode.OK, (await _server.Admin.PostAsync(Root + "api/v2/package/Acme.Search/1.0.0", null)).StatusCode);
        Assert.Equal(1, (await JsonAsync(Root + "query?q=acme.search")).GetProperty("totalHits").GetInt32());
        Assert.Equal(HttpStatusCode.NotFound, (await _server.Admin.DeleteAsync(Root + "api/v2/package/Acme.Search/9.9.9")).StatusCode);
    }

    [Fact]
    public async Task Read_only_token_cannot_push_and_anonymous_gets_a_basic_challenge()
    {
        var reader = _server.CreateClient(null);
        reader.DefaultRequestHeaders.Add("X-NuGet-ApiKey", await _server.CreateTokenAsync("read", "nu"));
        Assert.Equal(HttpStatusCode.Forbidden, (await PushAsync(Nupkg("Acme.Ro", "1.0.0"), reader)).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await reader.GetAsync(Root + "v3-flatcontainer/acme.ro/index.json")).StatusCode);

        // The service index is anonymous (same for unknown registries, so nothing is revealed); everything else is 401.
        var index = await _server.Anonymous.GetAsync(Root + "index.json");
        Assert.Equal(HttpStatusCode.OK, index.StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await _server.Anonymous.GetAsync("pkg/no-such-registry/nuget/index.json")).StatusCode);
        await _server.CreateRegistryAsync("other", "NUGET");
        Assert.Equal(HttpStatusCode.Forbidden, (await _server.CreateClient(await _server.CreateTokenAsync("read", "other")).GetAsync(Root + "index.json")).StatusCode);
        var anon = await _server.Anonymous.GetAsync(Root + "v3-flatcontainer/acme.ro/index.json");
        Assert.Equal(HttpStatusCode.Unauthorized, anon.StatusCode);
        Assert.Equal("Basic", anon.Headers.WwwAuthenticate.Single().Scheme);
        Assert.Contains("realm=", anon.Headers.WwwAuthenticate.Single().Parameter);
    }
}
