using System.Net;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Arca.Tests.Infrastructure;

namespace Arca.Tests.Http.Helm;

/// <summary>The classic Helm repository (index.yaml, chart downloads) and its ChartMuseum API at HTTP level.
/// index.yaml is read by a real YAML parser (python3-yaml), since the helm binary is not packaged for Debian 12.</summary>
public sealed class HelmRepositoryTests : IAsyncLifetime
{
    private TestServer _server = null!;
    private const string Reg = "charts";
    private const string Base = $"pkg/{Reg}/helm/";

    public async Task InitializeAsync()
    {
        _server = await TestServer.StartAsync();
        await _server.CreateRegistryAsync(Reg, "HELM");
    }

    public async Task DisposeAsync() => await _server.DisposeAsync();

    private static ByteArrayContent Body(byte[] tgz)
    {
        var c = new ByteArrayContent(tgz);
        c.Headers.ContentType = new MediaTypeHeaderValue("application/gzip");
        return c;
    }

    private Task<HttpResponseMessage> UploadAsync(byte[] tgz, HttpClient? client = null) => (client ?? _server.Admin).PostAsync(Base + "api/charts", Body(tgz));

    /// <summary>index.yaml parsed by PyYAML and handed back as JSON.</summary>
    private async Task<JsonElement> ParseIndexAsync(string yaml)
    {
        var r = await Proc.RunAsync(Proc.Tool("python3"),
            ["-c", "import sys, json, yaml; print(json.dumps(yaml.safe_load(sys.stdin.read()), default=str))"], stdin: yaml);
        r.AssertOk("python3 yaml.safe_load(index.yaml)");
        return JsonDocument.Parse(r.Stdout).RootElement;
    }

    [Fact]
    public async Task Uploaded_charts_appear_in_index_yaml_with_digests_and_downloadable_urls()
    {
        var web1 = HelmCharts.Package("web", "1.0.0");
        var web2 = HelmCharts.Package("web", "1.10.0-rc.1");
        var web3 = HelmCharts.Package("web", "1.2.0");
        var db = HelmCharts.Package("my-db", "0.1.0");
        foreach (var tgz in new[] { web1, web2, web3 })
        {
            var r = await UploadAsync(tgz);
            Assert.Equal(HttpStatusCode.Created, r.StatusCode);
            Assert.True(JsonDocument.Parse(await r.Content.ReadAsStringAsync()).RootElement.GetProperty("saved").GetBoolean());
        }
        // ChartMuseum's multipart form (curl -F chart=@x.tgz, helm cm-push).
        using (var form = new MultipartFormDataContent { { Body(db), "chart", "my-db-0.1.0.tgz" } })
            Assert.Equal(HttpStatusCode.Created, (await _server.Admin.PostAsync(Base + "api/charts", form)).StatusCode);

        var indexResponse = await _server.Admin.GetAsync(Base + "index.yaml");
        Assert.Equal(HttpStatusCode.OK, indexResponse.StatusCode);
        var index = await ParseIndexAsync(await indexResponse.Content.ReadAsStringAsync());
        Assert.Equal("v1", index.GetProperty("apiVersion").GetString());
        Assert.True(index.TryGetProperty("generated", out _));
        var entries = index.GetProperty("entries");
        Assert.Equal(["my-db", "web"], entries.EnumerateObject().Select(p => p.Name).Order());

        // Newest first by SemVer (1.10.0-rc.1 > 1.2.0 > 1.0.0).
        var web = entries.GetProperty("web").EnumerateArray().ToList();
        Assert.Equal(["1.10.0-rc.1", "1.2.0", "1.0.0"], web.Select(e => e.GetProperty("version").GetString()));
        var expected = new Dictionary<string, byte[]> { ["1.0.0"] = web1, ["1.10.0-rc.1"] = web2, ["1.2.0"] = web3, ["0.1.0"] = db };
        foreach (var entry in web.Concat(entries.GetProperty("my-db").EnumerateArray()))
        {
            var version = entry.GetProperty("version").GetString()!;
            Assert.Equal(Convert.ToHexStringLower(SHA256.HashData(expected[version])), entry.GetProperty("digest").GetString());
            var url = entry.GetProperty("urls")[0].GetString()!;
            Assert.StartsWith(_server.BaseUrl + "/", url);
            Assert.Equal(expected[version], await _server.Admin.GetByteArrayAsync(url));
            Assert.True(DateTimeOffset.TryParse(entry.GetProperty("created").GetString(), out _));
        }
        var first = web[^1];
        Assert.Equal("v2", first.GetProperty("apiVersion").GetString());
        Assert.Equal("1.16.0", first.GetProperty("appVersion").GetString());
        Assert.Equal("A chart named web", first.GetProperty("description").GetString());
        Assert.Equal("application", first.GetProperty("type").GetString());
        Assert.Equal(["web", "test"], first.GetProperty("keywords").EnumerateArray().Select(k => k.GetString()));
        Assert.Equal("ada@example.com", first.GetProperty("maintainers")[0].GetProperty("email").GetString());
        Assert.Equal("common", first.GetProperty("dependencies")[0].GetProperty("name").GetString());
        Assert.Equal("https://charts.example.com", first.GetProperty("dependencies")[0].GetProperty("repository").GetString());
    }

    [Fact]
    public async Task Chartmuseum_api_lists_gets_and_deletes()
    {
        var tgz = HelmCharts.Package("api-chart", "2.0.0");
        Assert.Equal(HttpStatusCode.Created, (await UploadAsync(tgz)).StatusCode);
        Assert.Equal(HttpStatusCode.Created, (await UploadAsync(HelmCharts.Package("api-chart", "2.1.0"))).StatusCode);

        var all = JsonDocument.Parse(await _server.Admin.GetStringAsync(Base + "api/charts")).RootElement;
        Assert.Equal(2, all.GetProperty("api-chart").GetArrayLength());
        var versions = JsonDocument.Parse(await _server.Admin.GetStringAsync(Base + "api/charts/api-chart")).RootElement;
        Assert.Equal(["2.1.0", "2.0.0"], versions.EnumerateArray().Select(v => v.GetProperty("version").GetString()));
        var one = JsonDocument.Parse(await _server.Admin.GetStringAsync(Base + "api/charts/api-chart/2.0.0")).RootElement;
        Assert.Equal(Convert.ToHexStringLower(SHA256.HashData(tgz)), one.GetProperty("digest").GetString());
        Assert.Equal("charts/api-chart-2.0.0.tgz", one.GetProperty("urls")[0].GetString());
        Assert.Equal(tgz, await _server.Admin.GetByteArrayAsync(Base + "charts/api-chart-2.0.0.tgz"));

        // The generic management view: package = chart name, version = chart version, file = <name>-<version>.tgz.
        var files = await _server.Admin.GetStringAsync($"api/v1/registries/{Reg}/files?package=api-chart&version=2.0.0");
        Assert.Contains("api-chart-2.0.0.tgz", files);

        using var writer = _server.CreateClient(await _server.CreateTokenAsync("write", Reg));
        Assert.Equal(HttpStatusCode.Forbidden, (await writer.DeleteAsync(Base + "api/charts/api-chart/2.0.0")).StatusCode);
        var del = await _server.Admin.DeleteAsync(Base + "api/charts/api-chart/2.0.0");
        Assert.Equal(HttpStatusCode.OK, del.StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await _server.Admin.GetAsync(Base + "api/charts/api-chart/2.0.0")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await _server.Admin.GetAsync(Base + "charts/api-chart-2.0.0.tgz")).StatusCode);
        var index = await ParseIndexAsync(await _server.Admin.GetStringAsync(Base + "index.yaml"));
        Assert.Equal(["2.1.0"], index.GetProperty("entries").GetProperty("api-chart").EnumerateArray().Select(e => e.GetProperty("version").GetString()));
    }

    [Fact]
    public async Task Duplicate_upload_is_409_in_chartmuseum_form()
    {
        Assert.Equal(HttpStatusCode.Created, (await UploadAsync(HelmCharts.Package("dup", "1.0.0"))).StatusCode);
        var again = await UploadAsync(HelmCharts.Package("dup", "1.0.0", "home: https://changed.example.com\n"));
        Assert.Equal(HttpStatusCode.Conflict, again.StatusCode);
        Assert.Equal("file already exists", JsonDocument.Parse(await again.Content.ReadAsStringAsync()).RootElement.GetProperty("error").GetString());
        var one = JsonDocument.Parse(await _server.Admin.GetStringAsync(Base + "api/charts/dup/1.0.0")).RootElement;
        Assert.False(one.TryGetProperty("home", out _));
    }

    public static TheoryData<string> BadCharts() => ["tampered", "truncated", "not-gzip", "no-chart-yaml", "bad-version", "no-name", "bad-yaml", "traversal", "nested-chart-yaml"];

    [Theory]
    [MemberData(nameof(BadCharts))]
    public async Task Invalid_charts_are_400_and_store_nothing(string kind)
    {
        var good = HelmCharts.Package("broken", "1.0.0");
        var tgz = kind switch
        {
            "tampered" => Flip(good),
            "truncated" => good[..(good.Length - 20)],
            "not-gzip" => Encoding.UTF8.GetBytes("apiVersion: v2\nname: broken\nversion: 1.0.0\n"),
            "no-chart-yaml" => HelmCharts.Tgz(("broken/values.yaml", "a: 1\n")),
            "bad-version" => HelmCharts.Tgz(("broken/Chart.yaml", "apiVersion: v2\nname: broken\nversion: \"1.0\"\n")),
            "no-name" => HelmCharts.Tgz(("broken/Chart.yaml", "apiVersion: v2\nversion: 1.0.0\n")),
            "bad-yaml" => HelmCharts.Tgz(("broken/Chart.yaml", "apiVersion: v2\nname: [broken\nversion: 1.0.0\n")),
            "traversal" => HelmCharts.Tgz(("broken/Chart.yaml", HelmCharts.ChartYaml("broken", "1.0.0")), ("broken/../../etc/passwd", "x")),
            "nested-chart-yaml" => HelmCharts.Tgz(("broken/charts/sub/Chart.yaml", HelmCharts.ChartYaml("broken", "1.0.0"))),
            _ => throw new ArgumentException(kind),
        };
        var r = await UploadAsync(tgz);
        var body = await r.Content.ReadAsStringAsync();
        Assert.True(r.StatusCode == HttpStatusCode.BadRequest, $"{kind}: {(int)r.StatusCode} {body}");
        Assert.True(JsonDocument.Parse(body).RootElement.TryGetProperty("error", out _), body);
        Assert.Equal("{}", (await _server.Admin.GetStringAsync(Base + "api/charts")).Trim());
        var index = await ParseIndexAsync(await _server.Admin.GetStringAsync(Base + "index.yaml"));
        Assert.Empty(index.GetProperty("entries").EnumerateObject());
    }

    /// <summary>Alters bytes in the middle of the compressed stream (past the gzip header).</summary>
    private static byte[] Flip(byte[] tgz)
    {
        var copy = (byte[])tgz.Clone();
        for (var i = 0; i < 3; i++) copy[copy.Length / 2 + i] ^= 0xA5;
        return copy;
    }

    [Fact]
    public async Task Read_only_token_cannot_upload_and_anonymous_gets_401()
    {
        var tgz = HelmCharts.Package("authz", "1.0.0");
        using var reader = _server.CreateClient(await _server.CreateTokenAsync("read", Reg));
        Assert.Equal(HttpStatusCode.Forbidden, (await UploadAsync(tgz, reader)).StatusCode);
        var anon = await UploadAsync(tgz, _server.Anonymous);
        Assert.Equal(HttpStatusCode.Unauthorized, anon.StatusCode);
        Assert.Contains("Basic", anon.Headers.WwwAuthenticate.ToString());
        Assert.Equal(HttpStatusCode.Unauthorized, (await _server.Anonymous.GetAsync(Base + "index.yaml")).StatusCode);
        Assert.Equal(HttpStatusCode.Created, (await UploadAsync(tgz)).StatusCode);
        // Helm sends Basic with the token as the password.
        using var basic = _server.CreateClient(null);
        basic.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Basic",
            Convert.ToBase64String(Encoding.UTF8.GetBytes("helm:" + await _server.CreateTokenAsync("read", Reg))));
        Assert.Contains("authz", await basic.GetStringAsync(Base + "index.yaml"));
        Assert.Equal(tgz, await basic.GetByteArrayAsync(Base + "charts/authz-1.0.0.tgz"));
    }
}
