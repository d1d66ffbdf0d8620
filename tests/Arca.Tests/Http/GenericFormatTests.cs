using System.Net;
using System.Security.Cryptography;
using Arca.Tests.Infrastructure;

namespace Arca.Tests.Http;

public sealed class GenericFormatTests : IAsyncLifetime
{
    private TestServer _server = null!;
    public async Task InitializeAsync() { _server = await TestServer.StartAsync(); await _server.CreateRegistryAsync("files", "GENERIC"); }
    public async Task DisposeAsync() => await _server.DisposeAsync();

    [Fact]
    public async Task Put_then_get_returns_same_bytes_and_checksums()
    {
        var data = RandomNumberGenerator.GetBytes(100_000);
        var put = await _server.Admin.PutAsync("pkg/files/generic/p/1.0/a/b.bin", new ByteArrayContent(data));
        Assert.Equal(HttpStatusCode.Created, put.StatusCode);
        var get = await _server.Admin.GetAsync("pkg/files/generic/p/1.0/a/b.bin");
        Assert.Equal(data, await get.Content.ReadAsByteArrayAsync());
        Assert.Equal(Convert.ToHexStringLower(SHA256.HashData(data)), get.Headers.GetValues("X-Checksum-Sha256").Single());
    }
}
