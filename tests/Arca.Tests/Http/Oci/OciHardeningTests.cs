using System.Net;
using System.Net.Http.Headers;
using System.Text;
using Arca.Tests.Infrastructure;
using static Arca.Tests.Http.Oci.OciTestContent;

namespace Arca.Tests.Http.Oci;

/// <summary>Concurrent and malformed requests: always a 4xx in the spec's format, never a 500.</summary>
public sealed class OciHardeningTests : IAsyncLifetime
{
    private TestServer _server = null!;
    private HttpClient Admin => _server.Admin;

    public async Task InitializeAsync()
    {
        _server = await TestServer.StartAsync();
        await _server.CreateRegistryAsync("images", "DOCKER");
        await _server.CreateRegistryAsync("other", "DOCKER");
        var (config, layer, manifest) = Image("linux", "amd64", "hardening");
        await new OciHttp(Admin).PushImageAsync("images/app", "v1", manifest, config, layer);
    }

    public async Task DisposeAsync() => await _server.DisposeAsync();

    /// <summary>A request body that sends its first part, then waits until the test releases it.</summary>
    private sealed class HeldContent(byte[] first, byte[] rest, Task release) : HttpContent
    {
        public readonly TaskCompletionSource FirstSent = new(TaskCreationOptions.RunContinuationsAsynchronously);
        protected override async Task SerializeToStreamAsync(Stream stream, TransportContext? context)
        {
            await stream.WriteAsync(first);
            await stream.FlushAsync();
            FirstSent.TrySetResult();
            await release;
            await stream.WriteAsync(rest);
        }
        protected override bool TryComputeLength(out long length) { length = first.Length + rest.Length; return true; }
    }

    private async Task<string> StartUploadAsync(string name)
    {
        var r = await Admin.PostAsync($"v2/{name}/blobs/uploads/", null);
        Assert.Equal(HttpStatusCode.Accepted, r.StatusCode);
        return r.Headers.Location!.OriginalString;
    }

    [Fact]
    public async Task Concurrent_patches_to_one_upload_get_416_not_500_and_the_upload_stays_consistent()
    {
        var location = await StartUploadAsync("images/concurrent");
        var part1 = Encoding.ASCII.GetBytes(new string('a', 64 * 1024));
        var release = new TaskCompletionSource();
        var held = new HeldContent(part1[..1024], part1[1024..], release.Task);
        var first = Admin.PatchAsync(location, held);
        await held.FirstSent.Task.WaitAsync(TimeSpan.FromSeconds(30));
        await Task.Delay(300); // let the server start writing the first body

        var second = await Admin.PatchAsync(location, new ByteArrayContent(Encoding.ASCII.GetBytes("bbbb")));
        await OciHttp.AssertErrorAsync(second, (HttpStatusCode)416, "BLOB_UPLOAD_INVALID");

        release.SetResult();
        var firstResponse = await first;
        Assert.Equal(HttpStatusCode.Accepted, firstResponse.StatusCode);
        Assert.Equal($"0-{part1.Length - 1}", firstResponse.Headers.GetValues("Range").Single());

        var put = await Admin.PutAsync($"{location}?digest={Sha256(part1)}", null);
        Assert.Equal(HttpStatusCode.Created, put.StatusCode);
    }

    [Fact]
    public async Task Many_concurrent_patches_and_puts_never_answer_500()
    {
        var location = await StartUploadAsync("images/storm");
        var chunk = new byte[256 * 1024];
        var tasks = Enumerable.Range(0, 12).Select(i => i % 3 == 2
            ? Admin.PutAsync($"{location}?digest={Sha256(chunk)}", new ByteArrayContent(chunk))
            : Admin.PatchAsync(location, new ByteArrayContent(chunk))).ToList();
        foreach (var r in await Task.WhenAll(tasks))
            Assert.True((int)r.StatusCode < 500, $"{r.RequestMessage!.Method} answered {(int)r.StatusCode}: {await r.Content.ReadAsStringAsync()}");
    }

    [Fact]
    public async Task Upload_session_started_in_one_repository_cannot_be_used_in_another()
    {
        var data = "session-bound"u8.ToArray();
        var location = await StartUploadAsync("images/a");
        var id = location.Split('/')[^1];
        foreach (var other in new[] { "images/b", "other/a" })
        {
            await OciHttp.AssertErrorAsync(await Admin.PatchAsync($"v2/{other}/blobs/uploads/{id}", new ByteArrayContent(data)), HttpStatusCode.NotFound, "BLOB_UPLOAD_UNKNOWN");
            await OciHttp.AssertErrorAsync(await Admin.GetAsync($"v2/{other}/blobs/uploads/{id}"), HttpStatusCode.NotFound, "BLOB_UPLOAD_UNKNOWN");
            await OciHttp.AssertErrorAsync(await Admin.PutAsync($"v2/{other}/blobs/uploads/{id}?digest={Sha256(data)}", new ByteArrayContent(data)), HttpStatusCode.NotFound, "BLOB_UPLOAD_UNKNOWN");
            await OciHttp.AssertErrorAsync(await Admin.DeleteAsync($"v2/{other}/blobs/uploads/{id}"), HttpStatusCode.NotFound, "BLOB_UPLOAD_UNKNOWN");
        }
        // The session still works where it was started.
        Assert.Equal(HttpStatusCode.Created, (await Admin.PutAsync($"{location}?digest={Sha256(data)}", new ByteArrayContent(data))).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await Admin.GetAsync($"v2/images/a/blobs/{Sha256(data)}")).StatusCode);
    }

    [Fact]
    public async Task Manifest_get_returns_stored_bytes_whatever_the_accept_header_and_tag_delete_keeps_the_digest()
    {
        var (config, layer, manifest) = Image("linux", "arm64", "accept");
        await new OciHttp(Admin).PushImageAsync("images/accept", "t1", manifest, config, layer);
        foreach (var accept in new[] { "application/vnd.docker.distribution.manifest.v2+json", "application/json", "*/*", "" })
            for (var i = 0; i < 2; i++) // the second GET is served from the manifest cache
            {
                using var request = new HttpRequestMessage(HttpMethod.Get, "v2/images/accept/manifests/t1");
                if (accept != "") request.Headers.TryAddWithoutValidation("Accept", accept);
                var r = await Admin.SendAsync(request);
                Assert.Equal(HttpStatusCode.OK, r.StatusCode);
                Assert.Equal(OciManifest, r.Content.Headers.ContentType!.MediaType);
                Assert.Equal(manifest.Bytes, await r.Content.ReadAsByteArrayAsync());
                Assert.Equal(manifest.Digest, r.Headers.GetValues("Docker-Content-Digest").Single());
            }
        var head = await Admin.SendAsync(new HttpRequestMessage(HttpMethod.Head, "v2/images/accept/manifests/t1"));
        Assert.Equal(HttpStatusCode.OK, head.StatusCode);
        Assert.Equal(manifest.Bytes.Length, head.Content.Headers.ContentLength);
        Assert.Empty(await head.Content.ReadAsByteArrayAsync());

        Assert.Equal(HttpStatusCode.Accepted, (await Admin.DeleteAsync("v2/images/accept/manifests/t1")).StatusCode);
        await OciHttp.AssertErrorAsync(await Admin.GetAsync("v2/images/accept/manifests/t1"), HttpStatusCode.NotFound, "MANIFEST_UNKNOWN");
        Assert.Equal(manifest.Bytes, await Admin.GetByteArrayAsync($"v2/images/accept/manifests/{manifest.Digest}"));
        await OciHttp.AssertErrorAsync(await Admin.DeleteAsync("v2/images/accept/manifests/t1"), HttpStatusCode.NotFound, "MANIFEST_UNKNOWN");
    }

    public static TheoryData<string, string, string?> BadRequests() => new()
    {
        { "PATCH", "UPLOAD", "bytes=0-10" },
        { "PATCH", "UPLOAD", "0-" },
        { "PATCH", "UPLOAD", "-" },
        { "PATCH", "UPLOAD", "5-2" },
        { "PATCH", "UPLOAD", "0-99999999999999999999999" },
        { "PATCH", "UPLOAD", "-1-3" },
        { "PATCH", "UPLOAD", "0-3/abc" },
        { "PATCH", "UPLOAD", "a-b" },
        { "PUT", "UPLOAD?digest=sha256:xyz", null },
        { "PUT", "UPLOAD?digest=", null },
        { "PUT", "UPLOAD?digest=md5:d41d8cd98f00b204e9800998ecf8427e", null },
        { "PUT", "UPLOAD?digest=sha256:" + "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855", "0-3" },
        { "POST", "v2/images/app/blobs/uploads/?digest=sha256:%00", null },
        { "POST", "v2/images/app/blobs/uploads/?mount=bad&from=images/app", null },
        { "POST", "v2/images/app/blobs/uploads/?mount=sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855&from=%E2%98%83/..", null },
        { "GET", "v2/images/app/tags/list?n=99999999999999999999", null },
        { "GET", "v2/images/app/tags/list?n=2147483647", null },
        { "GET", "v2/images/app/tags/list?n=-1", null },
        { "GET", "v2/images/app/tags/list?last=%E2%98%83", null },
        { "GET", "v2/_catalog?n=2147483647&last=%FF", null },
        { "GET", "v2/images/%E2%98%83/manifests/latest", null },
        { "GET", "v2/images/app/manifests/%E2%98%83", null },
        { "GET", "v2/images/app/manifests/sha256:abc", null },
        { "GET", "v2/images/app/manifests/" + "a" + "bcdefghij0123456789", null },
        { "GET", "v2/images/app/manifests/" + "x".PadRight(300, 'x'), null },
        { "GET", "v2/images/" + string.Join('/', Enumerable.Repeat("deep", 200)) + "/tags/list", null },
        { "GET", "v2/images/app/blobs/sha512:abc", null },
        { "GET", "v2/images/app/blobs/uploads/not-a-uuid", null },
        { "GET", "v2/images/app/blobs/uploads/../../x", null },
        { "DELETE", "v2/images/app/blobs/uploads/00000000000000000000000000000000", null },
        { "GET", "v2/images/app/referrers/sha256:zzz", null },
        { "GET", "v2/images/app/referrers/sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855?artifactType=%E2%98%83", null },
        { "PUT", "v2/images/app/manifests/v2", "garbage" },
        { "PUT", "v2/images/app/manifests/sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855", "{}" },
        { "PUT", "v2/images/app/manifests/bad%20tag", "{}" },
        { "DELETE", "v2/images/app/manifests/sha256:nothex", null },
        { "DELETE", "v2/images/app/blobs/nodigest", null },
        { "GET", "v2/nosuchregistry/app/tags/list", null },
        { "GET", "v2/token?scope=repository:%E2%98%83:pull&scope=repository::&scope=registry:catalog:*&scope=::::", null },
        { "GET", "v2/images/app/blobs/sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855", "RANGE:bytes=9999999999999999999-" },
        { "GET", "v2/images/app/blobs/uploads/", null },
        { "PATCH", "v2/images/app/manifests/v1", null },
    };

    [Theory]
    [MemberData(nameof(BadRequests))]
    public async Task Malformed_requests_get_a_4xx_in_the_spec_error_format(string method, string path, string? extra)
    {
        if (path.StartsWith("UPLOAD", StringComparison.Ordinal))
        {
            var location = await StartUploadAsync("images/fuzz");
            path = location.TrimStart('/') + path["UPLOAD".Length..];
        }
        using var request = new HttpRequestMessage(new HttpMethod(method), path);
        if (extra is not null && extra.StartsWith("RANGE:", StringComparison.Ordinal))
            request.Headers.TryAddWithoutValidation("Range", extra["RANGE:".Length..]);
        else if (method is "PATCH" or "PUT")
        {
            var body = new ByteArrayContent(Encoding.UTF8.GetBytes(extra ?? "abcd"));
            if (path.Contains("/manifests/")) body.Headers.ContentType = new MediaTypeHeaderValue(OciManifest);
            else if (extra is not null) body.Headers.TryAddWithoutValidation("Content-Range", extra);
            request.Content = body;
        }
        var r = await Admin.SendAsync(request);
        var text = await r.Content.ReadAsStringAsync();
        Assert.True((int)r.StatusCode < 500, $"{method} {path} answered {(int)r.StatusCode}: {text}");
        if ((int)r.StatusCode >= 400 && method != "HEAD")
            Assert.Contains("\"errors\"", text);
    }
}

/// <summary>Abandoned upload sessions are removed periodically, not only at start-up.</summary>
public sealed class OciUploadCleanupTests : IAsyncLifetime
{
    private TestServer _server = null!;

    public async Task InitializeAsync()
    {
        _server = await TestServer.StartAsync(o => o with
        {
            UploadSessionMaxAge = TimeSpan.FromSeconds(2), UploadCleanupInterval = TimeSpan.FromMilliseconds(250),
        });
        await _server.CreateRegistryAsync("images", "DOCKER");
    }

    public async Task DisposeAsync() => await _server.DisposeAsync();

    [Fact]
    public async Task Sessions_idle_longer_than_the_max_age_are_removed_while_active_ones_survive()
    {
        var abandoned = (await _server.Admin.PostAsync("v2/images/app/blobs/uploads/", null)).Headers.Location!.OriginalString;
        var active = (await _server.Admin.PostAsync("v2/images/app/blobs/uploads/", null)).Headers.Location!.OriginalString;
        Assert.Equal(HttpStatusCode.Accepted, (await _server.Admin.PatchAsync(abandoned, new ByteArrayContent("x"u8.ToArray()))).StatusCode);
        var uploadsDir = Directory.GetDirectories(_server.DataDir, "uploads", SearchOption.AllDirectories).Single();
        Assert.Equal(2, Directory.GetDirectories(uploadsDir).Length);

        var written = new List<byte>();
        for (var i = 0; i < 8; i++) // 4 s: the active session is written to every 0.5 s
        {
            await Task.Delay(500);
            var r = await _server.Admin.PatchAsync(active, new ByteArrayContent([(byte)i]));
            Assert.Equal(HttpStatusCode.Accepted, r.StatusCode);
            written.Add((byte)i);
        }
        await OciHttp.AssertErrorAsync(await _server.Admin.GetAsync(abandoned), HttpStatusCode.NotFound, "BLOB_UPLOAD_UNKNOWN");
        Assert.Single(Directory.GetDirectories(uploadsDir));
        var put = await _server.Admin.PutAsync($"{active}?digest={Sha256(written.ToArray())}", null);
        Assert.Equal(HttpStatusCode.Created, put.StatusCode);
    }
}
