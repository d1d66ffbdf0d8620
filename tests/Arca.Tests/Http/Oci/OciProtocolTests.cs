using System.Net;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using Arca.Tests.Infrastructure;
using static Arca.Tests.Http.Oci.OciTestContent;

namespace Arca.Tests.Http.Oci;

/// <summary>Distribution-spec behaviour and every error path, over raw HTTP.</summary>
public sealed class OciProtocolTests : IAsyncLifetime
{
    private TestServer _server = null!;
    private OciHttp _oci = null!;
    private HttpClient Admin => _server.Admin;

    public async Task InitializeAsync()
    {
        _server = await TestServer.StartAsync();
        await _server.CreateRegistryAsync("images", "DOCKER");
        await _server.CreateRegistryAsync("other", "DOCKER");
        await _server.CreateRegistryAsync("files", "GENERIC");
        _oci = new OciHttp(Admin);
    }

    public async Task DisposeAsync() => await _server.DisposeAsync();

    private static ByteArrayContent Bytes(byte[] data, string? contentRange = null)
    {
        var c = new ByteArrayContent(data);
        c.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
        if (contentRange is not null) c.Headers.TryAddWithoutValidation("Content-Range", contentRange);
        return c;
    }

    [Fact]
    public async Task Base_endpoint_answers_with_api_version_and_challenges_anonymous_callers()
    {
        var ok = await Admin.GetAsync("v2/");
        Assert.Equal(HttpStatusCode.OK, ok.StatusCode);
        Assert.Equal("registry/2.0", ok.Headers.GetValues("Docker-Distribution-API-Version").Single());
        var anon = await _server.Anonymous.GetAsync("v2/");
        await OciHttp.AssertErrorAsync(anon, HttpStatusCode.Unauthorized, "UNAUTHORIZED");
        Assert.StartsWith($"Bearer realm=\"{_server.BaseUrl}/v2/token\"", anon.Headers.WwwAuthenticate.ToString());
    }

    [Fact]
    public async Task Monolithic_upload_then_get_head_and_range()
    {
        var data = RandomNumberGenerator.GetBytes(300_000);
        var blob = Describe("application/octet-stream", data);
        var post = await Admin.PostAsync($"v2/images/mono/app/blobs/uploads/?digest={blob.Digest}", Bytes(data));
        Assert.Equal(HttpStatusCode.Created, post.StatusCode);
        Assert.Equal($"/v2/images/mono/app/blobs/{blob.Digest}", post.Headers.Location!.OriginalString);
        Assert.Equal(blob.Digest, post.Headers.GetValues("Docker-Content-Digest").Single());

        var head = await Admin.SendAsync(new HttpRequestMessage(HttpMethod.Head, $"v2/images/mono/app/blobs/{blob.Digest}"));
        Assert.Equal(HttpStatusCode.OK, head.StatusCode);
        Assert.Equal(data.Length, head.Content.Headers.ContentLength);
        Assert.Equal(blob.Digest, head.Headers.GetValues("Docker-Content-Digest").Single());

        Assert.Equal(data, await Admin.GetByteArrayAsync($"v2/images/mono/app/blobs/{blob.Digest}"));
        var range = new HttpRequestMessage(HttpMethod.Get, $"v2/images/mono/app/blobs/{blob.Digest}");
        range.Headers.Range = new RangeHeaderValue(1000, 1999);
        var partial = await Admin.SendAsync(range);
        Assert.Equal(HttpStatusCode.PartialContent, partial.StatusCode);
        Assert.Equal(data[1000..2000], await partial.Content.ReadAsByteArrayAsync());
    }

    [Fact]
    public async Task Post_then_put_and_chunked_patch_uploads_with_status_and_cancel()
    {
        // POST then PUT with the whole body
        var data = RandomNumberGenerator.GetBytes(50_000);
        var digest = Sha256(data);
        var start = await Admin.PostAsync("v2/images/chunks/blobs/uploads/", null);
        Assert.Equal(HttpStatusCode.Accepted, start.StatusCode);
        Assert.True(start.Headers.Contains("OCI-Chunk-Min-Length"));
        var location = start.Headers.Location!.OriginalString;
        Assert.StartsWith("/v2/images/chunks/blobs/uploads/", location);
        var put = await Admin.PutAsync($"{location.TrimStart('/')}?digest={digest}", Bytes(data));
        Assert.Equal(HttpStatusCode.Created, put.StatusCode);
        Assert.Equal(digest, put.Headers.GetValues("Docker-Content-Digest").Single());

        // chunked: two PATCHes with Content-Range, a status GET, then a closing PUT without body
        var big = RandomNumberGenerator.GetBytes(70_000);
        var bigDigest = Sha256(big);
        location = (await Admin.PostAsync("v2/images/chunks/blobs/uploads/", null)).Headers.Location!.OriginalString.TrimStart('/');
        var p1 = await Admin.PatchAsync(location, Bytes(big[..40_000], "0-39999"));
        Assert.Equal(HttpStatusCode.Accepted, p1.StatusCode);
        Assert.Equal("0-39999", p1.Headers.GetValues("Range").Single());
        var status = await Admin.GetAsync(p1.Headers.Location!.OriginalString.TrimStart('/'));
        Assert.Equal(HttpStatusCode.NoContent, status.StatusCode);
        Assert.Equal("0-39999", status.Headers.GetValues("Range").Single());
        // A chunk that does not continue the upload is refused with 416.
        var outOfOrder = await Admin.PatchAsync(location, Bytes(big[..10], "5-14"));
        await OciHttp.AssertErrorAsync(outOfOrder, HttpStatusCode.RequestedRangeNotSatisfiable, "BLOB_UPLOAD_INVALID");
        Assert.Equal("0-39999", outOfOrder.Headers.GetValues("Range").Single());
        var p2 = await Admin.PatchAsync(location, Bytes(big[40_000..], "40000-69999"));
        Assert.Equal("0-69999", p2.Headers.GetValues("Range").Single());
        var close = await Admin.PutAsync($"{location}?digest={bigDigest}", null);
        Assert.Equal(HttpStatusCode.Created, close.StatusCode);
        Assert.Equal(big, await Admin.GetByteArrayAsync($"v2/images/chunks/blobs/{bigDigest}"));

        // cancel
        location = (await Admin.PostAsync("v2/images/chunks/blobs/uploads/", null)).Headers.Location!.OriginalString.TrimStart('/');
        Assert.Equal(HttpStatusCode.NoContent, (await Admin.DeleteAsync(location)).StatusCode);
        await OciHttp.AssertErrorAsync(await Admin.GetAsync(location), HttpStatusCode.NotFound, "BLOB_UPLOAD_UNKNOWN");
        await OciHttp.AssertErrorAsync(await Admin.PatchAsync(location, Bytes([1, 2, 3])), HttpStatusCode.NotFound, "BLOB_UPLOAD_UNKNOWN");
        await OciHttp.AssertErrorAsync(await Admin.DeleteAsync(location), HttpStatusCode.NotFound, "BLOB_UPLOAD_UNKNOWN");
    }

    [Fact]
    public async Task Upload_with_wrong_digest_stores_nothing()
    {
        var data = RandomNumberGenerator.GetBytes(1000);
        var wrong = Sha256([1, 2, 3]);
        var post = await Admin.PostAsync($"v2/images/bad/blobs/uploads/?digest={wrong}", Bytes(data));
        await OciHttp.AssertErrorAsync(post, HttpStatusCode.BadRequest, "DIGEST_INVALID");
        await OciHttp.AssertErrorAsync(await Admin.GetAsync($"v2/images/bad/blobs/{Sha256(data)}"), HttpStatusCode.NotFound, "BLOB_UNKNOWN");

        var location = (await Admin.PostAsync("v2/images/bad/blobs/uploads/", null)).Headers.Location!.OriginalString.TrimStart('/');
        await OciHttp.AssertErrorAsync(await Admin.PutAsync($"{location}?digest={wrong}", Bytes(data)), HttpStatusCode.BadRequest, "DIGEST_INVALID");
        await OciHttp.AssertErrorAsync(await Admin.PutAsync($"{location}?digest=sha256:nothex", Bytes(data)), HttpStatusCode.BadRequest, "DIGEST_INVALID");
        await OciHttp.AssertErrorAsync(await Admin.PostAsync("v2/images/bad/blobs/uploads/?digest=md5:abc", Bytes(data)), HttpStatusCode.BadRequest, "DIGEST_INVALID");
        await OciHttp.AssertErrorAsync(await Admin.GetAsync("v2/images/bad/blobs/sha256:xyz"), HttpStatusCode.BadRequest, "DIGEST_INVALID");
    }

    [Fact]
    public async Task Sha512_blobs_and_manifests_are_supported()
    {
        var data = RandomNumberGenerator.GetBytes(4096);
        var digest = "sha512:" + Convert.ToHexStringLower(SHA512.HashData(data));
        Assert.Equal(HttpStatusCode.Created, (await Admin.PostAsync($"v2/images/s512/blobs/uploads/?digest={digest}", Bytes(data))).StatusCode);
        Assert.Equal(data, await Admin.GetByteArrayAsync($"v2/images/s512/blobs/{digest}"));

        var (config, layer, manifest) = Image("linux", "amd64", "sha512");
        await _oci.PushBlobAsync("images/s512", config);
        await _oci.PushBlobAsync("images/s512", layer);
        var manifestDigest = "sha512:" + Convert.ToHexStringLower(SHA512.HashData(manifest.Bytes));
        var put = await _oci.PutManifestAsync("images/s512", manifestDigest, manifest);
        Assert.Equal(HttpStatusCode.Created, put.StatusCode);
        Assert.Equal(manifestDigest, put.Headers.GetValues("Docker-Content-Digest").Single());
        Assert.Equal(manifest.Bytes, await Admin.GetByteArrayAsync($"v2/images/s512/manifests/{manifestDigest}"));
    }

    [Fact]
    public async Task Cross_repository_mount_with_and_without_from()
    {
        var blob = Describe("application/octet-stream", RandomNumberGenerator.GetBytes(2048));
        await _oci.PushBlobAsync("images/source", blob);
        var mount = await Admin.PostAsync($"v2/images/target/blobs/uploads/?mount={blob.Digest}&from=images/source", null);
        Assert.Equal(HttpStatusCode.Created, mount.StatusCode);
        Assert.Equal($"/v2/images/target/blobs/{blob.Digest}", mount.Headers.Location!.OriginalString);
        Assert.Equal(blob.Bytes, await Admin.GetByteArrayAsync($"v2/images/target/blobs/{blob.Digest}"));

        var noFrom = await Admin.PostAsync($"v2/images/target2/blobs/uploads/?mount={blob.Digest}", null);
        Assert.Equal(HttpStatusCode.Created, noFrom.StatusCode);

        // From another registry: allowed with read access there.
        var cross = await Admin.PostAsync($"v2/other/copy/blobs/uploads/?mount={blob.Digest}&from=images/source", null);
        Assert.Equal(HttpStatusCode.Created, cross.StatusCode);

        // An unknown blob cannot be mounted: the registry opens an ordinary upload session instead.
        var unknown = await Admin.PostAsync($"v2/images/target/blobs/uploads/?mount={Sha256([9, 9])}&from=images/source", null);
        Assert.Equal(HttpStatusCode.Accepted, unknown.StatusCode);
        Assert.Contains("/blobs/uploads/", unknown.Headers.Location!.OriginalString);

        // A blob pushed to a repository is not visible in another one until mounted.
        await OciHttp.AssertErrorAsync(await Admin.GetAsync($"v2/images/elsewhere/blobs/{blob.Digest}"), HttpStatusCode.NotFound, "BLOB_UNKNOWN");
    }

    [Fact]
    public async Task Manifest_put_get_head_are_byte_identical_for_every_media_type()
    {
        var (config, layer, manifest) = Image("linux", "amd64", "identical");
        // Keep odd formatting: the registry must not re-serialize.
        var pretty = Encoding.UTF8.GetBytes(Encoding.UTF8.GetString(manifest.Bytes).Replace(",", ",\n   "));
        var prettyManifest = Describe(OciManifest, pretty);
        await _oci.PushImageAsync("images/team/app/web", "v1", prettyManifest, config, layer);

        var get = await Admin.GetAsync("v2/images/team/app/web/manifests/v1");
        Assert.Equal(HttpStatusCode.OK, get.StatusCode);
        Assert.Equal(pretty, await get.Content.ReadAsByteArrayAsync());
        Assert.Equal(OciManifest, get.Content.Headers.ContentType!.MediaType);
        Assert.Equal(prettyManifest.Digest, get.Headers.GetValues("Docker-Content-Digest").Single());
        var head = await Admin.SendAsync(new HttpRequestMessage(HttpMethod.Head, $"v2/images/team/app/web/manifests/{prettyManifest.Digest}"));
        Assert.Equal(HttpStatusCode.OK, head.StatusCode);
        Assert.Equal(pretty.Length, head.Content.Headers.ContentLength);

        // Docker schema 2 and manifest list
        var dockerManifest = Encoding.UTF8.GetBytes(new JsonObject
        {
            ["schemaVersion"] = 2, ["mediaType"] = "application/vnd.docker.distribution.manifest.v2+json",
            ["config"] = new JsonObject { ["mediaType"] = "application/vnd.docker.container.image.v1+json", ["digest"] = config.Digest, ["size"] = config.Size },
            ["layers"] = new JsonArray(new JsonObject { ["mediaType"] = "application/vnd.docker.image.rootfs.diff.tar.gzip", ["digest"] = layer.Digest, ["size"] = layer.Size }),
        }.ToJsonString());
        var dm = Describe("application/vnd.docker.distribution.manifest.v2+json", dockerManifest);
        Assert.Equal(HttpStatusCode.Created, (await _oci.PutManifestAsync("images/team/app/web", "docker", dm)).StatusCode);
        var list = Describe("application/vnd.docker.distribution.manifest.list.v2+json", Encoding.UTF8.GetBytes(new JsonObject
        {
            ["schemaVersion"] = 2, ["mediaType"] = "application/vnd.docker.distribution.manifest.list.v2+json",
            ["manifests"] = new JsonArray(dm.ToJson(new JsonObject { ["architecture"] = "amd64", ["os"] = "linux" })),
        }.ToJsonString()));
        Assert.Equal(HttpStatusCode.Created, (await _oci.PutManifestAsync("images/team/app/web", "list", list)).StatusCode);
        var gotList = await Admin.GetAsync("v2/images/team/app/web/manifests/list");
        Assert.Equal(list.Bytes, await gotList.Content.ReadAsByteArrayAsync());
        Assert.Equal(list.MediaType, gotList.Content.Headers.ContentType!.MediaType);

        // The version shows the platforms of the list.
        var versions = JsonNode.Parse(await Admin.GetStringAsync("api/v1/registries/images/versions?package=team/app/web"))!["items"]!.AsArray();
        var listVersion = versions.Single(v => v!["version"]!.GetValue<string>() == "list")!;
        Assert.Equal("linux/amd64", listVersion["properties"]!["platforms"]![0]!.GetValue<string>());
        Assert.Equal(list.Digest, listVersion["properties"]!["digest"]!.GetValue<string>());
    }

    [Fact]
    public async Task Manifest_errors_follow_the_spec()
    {
        var (config, layer, manifest) = Image("linux", "arm64", "errors");
        // Referenced blobs missing → MANIFEST_BLOB_UNKNOWN, nothing stored
        await OciHttp.AssertErrorAsync(await _oci.PutManifestAsync("images/err", "v1", manifest), HttpStatusCode.BadRequest, "MANIFEST_BLOB_UNKNOWN");
        await OciHttp.AssertErrorAsync(await Admin.GetAsync("v2/images/err/manifests/v1"), HttpStatusCode.NotFound, "MANIFEST_UNKNOWN");
        await _oci.PushBlobAsync("images/err", config);
        await OciHttp.AssertErrorAsync(await _oci.PutManifestAsync("images/err", "v1", manifest), HttpStatusCode.BadRequest, "MANIFEST_BLOB_UNKNOWN");
        await _oci.PushBlobAsync("images/err", layer);
        // An index whose child manifest is missing
        var index = Index((manifest, "linux", "arm64"));
        await OciHttp.AssertErrorAsync(await _oci.PutManifestAsync("images/err", "idx", index), HttpStatusCode.BadRequest, "MANIFEST_BLOB_UNKNOWN");

        // Digest reference that does not match the body
        await OciHttp.AssertErrorAsync(await _oci.PutManifestAsync("images/err", Sha256([1]), manifest), HttpStatusCode.BadRequest, "DIGEST_INVALID");
        // Not JSON, wrong schema, content type contradicting mediaType
        await OciHttp.AssertErrorAsync(await _oci.PutManifestAsync("images/err", "v1", "not json"u8.ToArray(), OciManifest), HttpStatusCode.BadRequest, "MANIFEST_INVALID");
        await OciHttp.AssertErrorAsync(await _oci.PutManifestAsync("images/err", "v1", "{\"schemaVersion\":1}"u8.ToArray(), OciManifest), HttpStatusCode.BadRequest, "MANIFEST_INVALID");
        await OciHttp.AssertErrorAsync(await _oci.PutManifestAsync("images/err", "v1", manifest.Bytes, OciIndex), HttpStatusCode.BadRequest, "MANIFEST_INVALID");
        await OciHttp.AssertErrorAsync(await _oci.PutManifestAsync("images/err", "v1", "{\"schemaVersion\":2,\"mediaType\":\"application/vnd.example+json\"}"u8.ToArray(), "application/vnd.example+json"),
            HttpStatusCode.UnsupportedMediaType, "UNSUPPORTED");
        // Descriptor size that does not match the stored blob
        var lying = Encoding.UTF8.GetString(manifest.Bytes).Replace($"\"size\":{layer.Size}", $"\"size\":{layer.Size + 1}");
        await OciHttp.AssertErrorAsync(await _oci.PutManifestAsync("images/err", "v1", Encoding.UTF8.GetBytes(lying), OciManifest), HttpStatusCode.BadRequest, "SIZE_INVALID");
        // Too large
        var huge = new byte[4 * 1024 * 1024 + 10];
        Array.Fill(huge, (byte)' ');
        await OciHttp.AssertErrorAsync(await _oci.PutManifestAsync("images/err", "v1", huge, OciManifest), HttpStatusCode.RequestEntityTooLarge, "MANIFEST_INVALID");
        // Invalid tag / name
        await OciHttp.AssertErrorAsync(await _oci.PutManifestAsync("images/err", "-bad", manifest), HttpStatusCode.BadRequest, "MANIFEST_INVALID");
        await OciHttp.AssertErrorAsync(await _oci.PutManifestAsync("images/Bad_Name", "v1", manifest), HttpStatusCode.BadRequest, "NAME_INVALID");
        await OciHttp.AssertErrorAsync(await Admin.GetAsync("v2/images/UPPER/tags/list"), HttpStatusCode.BadRequest, "NAME_INVALID");

        // Nothing of the above was stored
        await OciHttp.AssertErrorAsync(await Admin.GetAsync("v2/images/err/tags/list"), HttpStatusCode.NotFound, "NAME_UNKNOWN");
        Assert.Equal(HttpStatusCode.Created, (await _oci.PutManifestAsync("images/err", "v1", manifest)).StatusCode);
        await OciHttp.AssertErrorAsync(await Admin.GetAsync("v2/images/err/manifests/v2"), HttpStatusCode.NotFound, "MANIFEST_UNKNOWN");
        await OciHttp.AssertErrorAsync(await Admin.GetAsync($"v2/images/err/manifests/{Sha256([7])}"), HttpStatusCode.NotFound, "MANIFEST_UNKNOWN");
        await OciHttp.AssertErrorAsync(await Admin.GetAsync($"v2/images/err/blobs/{Sha256([7])}"), HttpStatusCode.NotFound, "BLOB_UNKNOWN");
        await OciHttp.AssertErrorAsync(await Admin.GetAsync("v2/nosuchreg/app/tags/list"), HttpStatusCode.NotFound, "NAME_UNKNOWN");
        await OciHttp.AssertErrorAsync(await Admin.GetAsync("v2/files/app/tags/list"), HttpStatusCode.NotFound, "NAME_UNKNOWN");
        await OciHttp.AssertErrorAsync(await Admin.PutAsync($"v2/images/err/blobs/{layer.Digest}", Bytes([1])), HttpStatusCode.MethodNotAllowed, "UNSUPPORTED");
        await OciHttp.AssertErrorAsync(await Admin.GetAsync("v2/images/err/referrers/sha256:zz"), HttpStatusCode.BadRequest, "DIGEST_INVALID");
    }

    [Fact]
    public async Task Tags_move_list_pages_and_delete()
    {
        var images = Enumerable.Range(0, 3).Select(i => Image("linux", "amd64", $"tag-{i}")).ToList();
        foreach (var (c, l, m) in images) { await _oci.PushBlobAsync("images/tags", c); await _oci.PushBlobAsync("images/tags", l); }
        foreach (var tag in new[] { "b", "a", "d", "c", "latest" })
            Assert.Equal(HttpStatusCode.Created, (await _oci.PutManifestAsync("images/tags", tag, images[0].Manifest)).StatusCode);

        // tag moves to another manifest
        Assert.Equal(HttpStatusCode.Created, (await _oci.PutManifestAsync("images/tags", "latest", images[1].Manifest)).StatusCode);
        var latest = await Admin.GetAsync("v2/images/tags/manifests/latest");
        Assert.Equal(images[1].Manifest.Digest, latest.Headers.GetValues("Docker-Content-Digest").Single());

        var all = JsonNode.Parse(await Admin.GetStringAsync("v2/images/tags/tags/list"))!;
        Assert.Equal("images/tags", all["name"]!.GetValue<string>());
        Assert.Equal(["a", "b", "c", "d", "latest"], all["tags"]!.AsArray().Select(t => t!.GetValue<string>()));

        var page1 = await Admin.GetAsync("v2/images/tags/tags/list?n=2");
        Assert.Equal(["a", "b"], JsonNode.Parse(await page1.Content.ReadAsStringAsync())!["tags"]!.AsArray().Select(t => t!.GetValue<string>()));
        Assert.Equal("</v2/images/tags/tags/list?n=2&last=b>; rel=\"next\"", page1.Headers.GetValues("Link").Single());
        var page2 = JsonNode.Parse(await Admin.GetStringAsync("v2/images/tags/tags/list?n=2&last=b"))!;
        Assert.Equal(["c", "d"], page2["tags"]!.AsArray().Select(t => t!.GetValue<string>()));
        var last = await Admin.GetAsync("v2/images/tags/tags/list?n=2&last=d");
        Assert.False(last.Headers.Contains("Link"));
        var zero = await Admin.GetAsync("v2/images/tags/tags/list?n=0");
        Assert.Empty(JsonNode.Parse(await zero.Content.ReadAsStringAsync())!["tags"]!.AsArray());
        Assert.False(zero.Headers.Contains("Link"));

        // delete a tag, then a manifest by digest (its remaining tags go with it)
        Assert.Equal(HttpStatusCode.Accepted, (await Admin.DeleteAsync("v2/images/tags/manifests/a")).StatusCode);
        await OciHttp.AssertErrorAsync(await Admin.GetAsync("v2/images/tags/manifests/a"), HttpStatusCode.NotFound, "MANIFEST_UNKNOWN");
        await OciHttp.AssertErrorAsync(await Admin.DeleteAsync("v2/images/tags/manifests/a"), HttpStatusCode.NotFound, "MANIFEST_UNKNOWN");
        Assert.Equal(HttpStatusCode.Accepted, (await Admin.DeleteAsync($"v2/images/tags/manifests/{images[0].Manifest.Digest}")).StatusCode);
        await OciHttp.AssertErrorAsync(await Admin.GetAsync("v2/images/tags/manifests/b"), HttpStatusCode.NotFound, "MANIFEST_UNKNOWN");
        var remaining = JsonNode.Parse(await Admin.GetStringAsync("v2/images/tags/tags/list"))!["tags"]!.AsArray().Select(t => t!.GetValue<string>());
        Assert.Equal(["latest"], remaining);

        // the package versions follow the tags
        var versions = JsonNode.Parse(await Admin.GetStringAsync("api/v1/registries/images/versions?package=tags"))!["items"]!.AsArray()
            .Select(v => v!["version"]!.GetValue<string>()).ToList();
        Assert.Contains("latest", versions);
        Assert.DoesNotContain("b", versions);
    }

    [Fact]
    public async Task Blob_delete_unlinks_it_from_the_repository()
    {
        var blob = Describe("application/octet-stream", RandomNumberGenerator.GetBytes(100));
        await _oci.PushBlobAsync("images/del", blob);
        Assert.Equal(HttpStatusCode.Accepted, (await Admin.DeleteAsync($"v2/images/del/blobs/{blob.Digest}")).StatusCode);
        await OciHttp.AssertErrorAsync(await Admin.GetAsync($"v2/images/del/blobs/{blob.Digest}"), HttpStatusCode.NotFound, "BLOB_UNKNOWN");
        await OciHttp.AssertErrorAsync(await Admin.DeleteAsync($"v2/images/del/blobs/{blob.Digest}"), HttpStatusCode.NotFound, "BLOB_UNKNOWN");
    }

    [Fact]
    public async Task Referrers_api_lists_artifacts_with_subject_and_filters_by_artifact_type()
    {
        var (config, layer, image) = Image("linux", "amd64", "subject");
        await _oci.PushImageAsync("images/ref", "v1", image, config, layer);
        var (sbomConfig, sbomBlob, sbom) = Artifact("application/spdx+json", "{\"spdx\":true}", image);
        var (sigConfig, sigBlob, sig) = Artifact("application/vnd.example.signature", "{\"sig\":1}", image);
        foreach (var b in new[] { sbomConfig, sbomBlob, sigBlob }) await _oci.PushBlobAsync("images/ref", b);

        var put = await _oci.PutManifestAsync("images/ref", sbom.Digest, sbom);
        Assert.Equal(HttpStatusCode.Created, put.StatusCode);
        Assert.Equal(image.Digest, put.Headers.GetValues("OCI-Subject").Single());
        Assert.Equal(HttpStatusCode.Created, (await _oci.PutManifestAsync("images/ref", sig.Digest, sig)).StatusCode);

        var all = await Admin.GetAsync($"v2/images/ref/referrers/{image.Digest}");
        Assert.Equal(HttpStatusCode.OK, all.StatusCode);
        Assert.Equal(OciIndex, all.Content.Headers.ContentType!.MediaType);
        var manifests = JsonNode.Parse(await all.Content.ReadAsStringAsync())!["manifests"]!.AsArray();
        Assert.Equal(2, manifests.Count);
        var sbomEntry = manifests.Single(m => m!["digest"]!.GetValue<string>() == sbom.Digest)!;
        Assert.Equal("application/spdx+json", sbomEntry["artifactType"]!.GetValue<string>());
        Assert.Equal(sbom.Size, sbomEntry["size"]!.GetValue<long>());
        Assert.Equal("application/spdx+json", sbomEntry["annotations"]!["org.example.kind"]!.GetValue<string>());

        var filtered = await Admin.GetAsync($"v2/images/ref/referrers/{image.Digest}?artifactType=application/spdx%2Bjson");
        Assert.Equal("artifactType", filtered.Headers.GetValues("OCI-Filters-Applied").Single());
        var only = JsonNode.Parse(await filtered.Content.ReadAsStringAsync())!["manifests"]!.AsArray();
        Assert.Equal(sbom.Digest, Assert.Single(only)!["digest"]!.GetValue<string>());

        var none = JsonNode.Parse(await Admin.GetStringAsync($"v2/images/ref/referrers/{Sha256([4, 2])}"))!;
        Assert.Empty(none["manifests"]!.AsArray());
    }

    [Fact]
    public async Task Catalog_lists_readable_repositories_with_paging()
    {
        var (config, layer, image) = Image("linux", "amd64", "catalog");
        foreach (var name in new[] { "other/cat1", "other/cat2", "other/cat3" })
            await _oci.PushImageAsync(name, "v1", image, config, layer);
        var all = JsonNode.Parse(await Admin.GetStringAsync("v2/_catalog"))!["repositories"]!.AsArray().Select(r => r!.GetValue<string>()).ToList();
        Assert.Contains("other/cat1", all);
        Assert.Equal(all.OrderBy(x => x, StringComparer.Ordinal), all);
        var page = await Admin.GetAsync("v2/_catalog?n=1&last=other/cat1");
        Assert.Equal(["other/cat2"], JsonNode.Parse(await page.Content.ReadAsStringAsync())!["repositories"]!.AsArray().Select(r => r!.GetValue<string>()));
        Assert.Contains("rel=\"next\"", page.Headers.GetValues("Link").Single());

        // A token limited to another registry does not see these repositories.
        var scoped = _server.CreateClient(await _server.CreateTokenAsync("read", "images"));
        var visible = JsonNode.Parse(await scoped.GetStringAsync("v2/_catalog"))!["repositories"]!.AsArray().Select(r => r!.GetValue<string>());
        Assert.DoesNotContain(visible, r => r.StartsWith("other/"));
    }

    [Fact]
    public async Task Concurrent_pushes_of_the_same_blob_and_tag_are_safe()
    {
        var images = Enumerable.Range(0, 6).Select(i => Image("linux", "amd64", $"race-{i}")).ToList();
        var shared = Describe("application/octet-stream", RandomNumberGenerator.GetBytes(200_000));
        await Task.WhenAll(Enumerable.Range(0, 8).Select(_ => _oci.PushBlobAsync("images/race", shared)));
        foreach (var (c, l, _) in images) { await _oci.PushBlobAsync("images/race", c); await _oci.PushBlobAsync("images/race", l); }
        var results = await Task.WhenAll(images.Select(i => _oci.PutManifestAsync("images/race", "latest", i.Manifest)));
        Assert.All(results, r => Assert.Equal(HttpStatusCode.Created, r.StatusCode));
        var latest = (await Admin.GetAsync("v2/images/race/manifests/latest")).Headers.GetValues("Docker-Content-Digest").Single();
        Assert.Contains(latest, images.Select(i => i.Manifest.Digest));
        Assert.Equal(shared.Bytes, await Admin.GetByteArrayAsync($"v2/images/race/blobs/{shared.Digest}"));
        var versions = JsonNode.Parse(await Admin.GetStringAsync("api/v1/registries/images/versions?package=race"))!["items"]!.AsArray();
        Assert.Single(versions, v => v!["version"]!.GetValue<string>() == "latest");
    }
}
