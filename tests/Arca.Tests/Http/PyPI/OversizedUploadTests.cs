using System.Net;
using System.Net.Http.Headers;
using System.Text;
using Arca.Tests.Http.Npm;
using Arca.Tests.Infrastructure;

namespace Arca.Tests.Http.PyPI;

/// <summary>With `--max-upload` set, npm and PyPI uploads beyond it are refused with 413 and store nothing.</summary>
public sealed class OversizedUploadTests : IAsyncLifetime
{
    private TestServer _server = null!;

    public async Task InitializeAsync()
    {
        _server = await TestServer.StartAsync(o => o with { MaxUploadBytes = 4096 });
        await _server.CreateRegistryAsync("py-small", "PYTHON");
        await _server.CreateRegistryAsync("npm-small", "NPM");
    }

    public async Task DisposeAsync() => await _server.DisposeAsync();

    [Fact]
    public async Task Python_upload_over_the_limit_is_413()
    {
        var big = new byte[20_000];
        Random.Shared.NextBytes(big);
        using var form = new MultipartFormDataContent
        {
            { new StringContent("file_upload"), ":action" }, { new StringContent("big"), "name" }, { new StringContent("1.0"), "version" },
        };
        var file = new ByteArrayContent(big);
        file.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
        form.Add(file, "content", "big-1.0.tar.gz");
        var r = await _server.Admin.PostAsync("pkg/py-small/python/", form);
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, r.StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await _server.Admin.GetAsync("pkg/py-small/python/simple/big/")).StatusCode);
    }

    [Fact]
    public async Task Npm_publish_over_the_limit_is_413()
    {
        var tgz = NpmProtocolTests.Tarball("big", "1.0.0", code: Convert.ToBase64String(new byte[20_000].Select(_ => (byte)Random.Shared.Next()).ToArray()));
        Assert.True(tgz.Length > 4096);
        var r = await _server.Admin.PutAsync("pkg/npm-small/npm/big",
            new StringContent(NpmProtocolTests.PublishBody("big", "1.0.0", tgz).ToJsonString(), Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, r.StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await _server.Admin.GetAsync("pkg/npm-small/npm/big")).StatusCode);
    }
}
