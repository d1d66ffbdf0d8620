using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Arca.Tests.Infrastructure;
using static Arca.Tests.Http.Oci.OciTestContent;

namespace Arca.Tests.Http.Oci;

/// <summary>Images through the management API: versions, delete, copy, and garbage collection of their blobs.</summary>
public sealed class OciLifecycleTests : IAsyncLifetime
{
    private TestServer _server = null!;
    private OciHttp _oci = null!;

    public async Task InitializeAsync()
    {
        _server = await TestServer.StartAsync();
        await _server.CreateRegistryAsync("images", "DOCKER");
        await _server.CreateRegistryAsync("prod", "DOCKER");
        _oci = new OciHttp(_server.Admin);
    }

    public async Task DisposeAsync() => await _server.DisposeAsync();

    private string BlobFile(Descriptor d) => Path.Combine(_server.DataDir, "blobs", "sha256", d.Digest[7..9], d.Digest[7..]);

    private async Task<JsonNode> GcAsync(bool deleteUntagged = false)
    {
        var r = await _server.Admin.PostAsync($"api/v1/gc?grace=0&deleteUntagged={deleteUntagged.ToString().ToLowerInvariant()}", null);
        var body = await r.Content.ReadAsStringAsync();
        Assert.True(r.IsSuccessStatusCode, body);
        return JsonNode.Parse(body)!;
    }

    [Fact]
    public async Task Deleting_an_image_and_running_gc_frees_its_unique_layers_and_keeps_shared_ones()
    {
        var shared = Describe(OciLayer, TarGz(("shared.txt", "shared base layer")));
        var a = Image("linux", "amd64", "unique to a", extraLayer: shared);
        var b = Image("linux", "amd64", "unique to b", extraLayer: shared);
        await _oci.PushImageAsync("images/gc/app", "a", a.Manifest, shared, a.Config, a.Layer);
        await _oci.PushImageAsync("images/gc/app", "b", b.Manifest, shared, b.Config, b.Layer);
        foreach (var d in new[] { shared, a.Layer, a.Config, a.Manifest, b.Layer }) Assert.True(File.Exists(BlobFile(d)), d.Digest);

        // Nothing is collected while the image exists.
        await GcAsync();
        Assert.True(File.Exists(BlobFile(a.Layer)));

        var delete = await _server.Admin.DeleteAsync("api/v1/registries/images/version?package=gc/app&version=a");
        Assert.True(delete.IsSuccessStatusCode, await delete.Content.ReadAsStringAsync());
        await OciHttp.AssertErrorAsync(await _server.Admin.GetAsync($"v2/images/gc/app/manifests/{a.Manifest.Digest}"), HttpStatusCode.NotFound, "MANIFEST_UNKNOWN");

        var report = await GcAsync();
        Assert.True(report["blobsDeleted"]!.GetValue<int>() >= 3);
        Assert.True(report["bytesFreed"]!.GetValue<long>() >= a.Layer.Size + a.Config.Size + a.Manifest.Size);
        foreach (var d in new[] { a.Layer, a.Config, a.Manifest }) Assert.False(File.Exists(BlobFile(d)), $"{d.Digest} should be collected");
        foreach (var d in new[] { shared, b.Layer, b.Config, b.Manifest }) Assert.True(File.Exists(BlobFile(d)), $"{d.Digest} must survive");
        Assert.Equal(shared.Bytes, await _server.Admin.GetByteArrayAsync($"v2/images/gc/app/blobs/{shared.Digest}"));
        Assert.Equal(b.Manifest.Bytes, await _server.Admin.GetByteArrayAsync("v2/images/gc/app/manifests/b"));
    }

    [Fact]
    public async Task Gc_delete_untagged_removes_untagged_images_but_keeps_index_children_and_referrers()
    {
        var untagged = Image("linux", "amd64", "untagged");
        await _oci.PushImageAsync("images/untagged", untagged.Manifest.Digest, untagged.Manifest, untagged.Config, untagged.Layer);
        var child = Image("linux", "arm64", "child of index");
        await _oci.PushImageAsync("images/untagged", child.Manifest.Digest, child.Manifest, child.Config, child.Layer);
        var index = Index((child.Manifest, "linux", "arm64"));
        Assert.Equal(HttpStatusCode.Created, (await _oci.PutManifestAsync("images/untagged", "multi", index)).StatusCode);
        var sbom = Artifact("application/spdx+json", "{}", index);
        await _oci.PushImageAsync("images/untagged", sbom.Manifest.Digest, sbom.Manifest, sbom.Config, sbom.Blob);

        var versions = JsonNode.Parse(await _server.Admin.GetStringAsync("api/v1/registries/images/versions?package=untagged"))!["items"]!.AsArray()
            .Select(v => v!["version"]!.GetValue<string>()).ToList();
        Assert.Contains(untagged.Manifest.Digest, versions);     // untagged image: a digest version
        Assert.Contains("multi", versions);
        Assert.DoesNotContain(child.Manifest.Digest, versions);  // index children are part of the index version

        var dry = await _server.Admin.PostAsync("api/v1/gc?grace=0&deleteUntagged=true&dryRun=true", null);
        Assert.Equal(1, JsonNode.Parse(await dry.Content.ReadAsStringAsync())!["untaggedManifestsDeleted"]!.GetValue<int>());
        Assert.True(File.Exists(BlobFile(untagged.Layer)));

        var report = await GcAsync(deleteUntagged: true);
        Assert.Equal(1, report["untaggedManifestsDeleted"]!.GetValue<int>());
        Assert.False(File.Exists(BlobFile(untagged.Layer)));
        Assert.True(File.Exists(BlobFile(child.Layer)));
        Assert.Equal(HttpStatusCode.OK, (await _server.Admin.GetAsync($"v2/images/untagged/manifests/{child.Manifest.Digest}")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await _server.Admin.GetAsync($"v2/images/untagged/manifests/{sbom.Manifest.Digest}")).StatusCode);
    }

    [Fact]
    public async Task Copy_to_another_registry_keeps_the_digest_and_lists_the_image()
    {
        var child = Image("linux", "amd64", "copy me");
        await _oci.PushImageAsync("images/copy/app", child.Manifest.Digest, child.Manifest, child.Config, child.Layer);
        var index = Index((child.Manifest, "linux", "amd64"));
        Assert.Equal(HttpStatusCode.Created, (await _oci.PutManifestAsync("images/copy/app", "1.0", index)).StatusCode);

        var copy = await _server.Admin.PostAsJsonAsync("api/v1/registries/images/copy", new { package = "copy/app", version = "1.0", destination = "prod" });
        Assert.True(copy.IsSuccessStatusCode, await copy.Content.ReadAsStringAsync());
        var got = await _server.Admin.GetAsync("v2/prod/copy/app/manifests/1.0");
        Assert.Equal(index.Digest, got.Headers.GetValues("Docker-Content-Digest").Single());
        Assert.Equal(index.Bytes, await got.Content.ReadAsByteArrayAsync());
        Assert.Equal(child.Layer.Bytes, await _server.Admin.GetByteArrayAsync($"v2/prod/copy/app/blobs/{child.Layer.Digest}"));

        // Copying again onto a tag that now differs is a conflict unless overwrite is asked for.
        var other = Image("linux", "amd64", "other");
        await _oci.PushImageAsync("images/copy/app", "1.0", other.Manifest, other.Config, other.Layer);
        var conflict = await _server.Admin.PostAsJsonAsync("api/v1/registries/images/copy", new { package = "copy/app", version = "1.0", destination = "prod" });
        Assert.Equal(HttpStatusCode.Conflict, conflict.StatusCode);
        var overwrite = await _server.Admin.PostAsJsonAsync("api/v1/registries/images/copy", new { package = "copy/app", version = "1.0", destination = "prod", overwrite = true });
        Assert.True(overwrite.IsSuccessStatusCode, await overwrite.Content.ReadAsStringAsync());
        Assert.Equal(other.Manifest.Digest, (await _server.Admin.GetAsync("v2/prod/copy/app/manifests/1.0")).Headers.GetValues("Docker-Content-Digest").Single());

        var packages = JsonNode.Parse(await _server.Admin.GetStringAsync("api/v1/registries/prod/packages"))!["items"]!.AsArray();
        Assert.Contains(packages, p => p!["name"]?.GetValue<string>() == "copy/app" || p!["package"]?.GetValue<string>() == "copy/app");
    }

    [Fact]
    public async Task Deleting_a_registry_removes_its_images_and_their_blobs_become_garbage()
    {
        await _server.CreateRegistryAsync("doomed", "DOCKER");
        var image = Image("linux", "amd64", "doomed image");
        await _oci.PushImageAsync("doomed/app", "v1", image.Manifest, image.Config, image.Layer);
        var delete = await _server.Admin.DeleteAsync("api/v1/registries/doomed");
        Assert.True(delete.IsSuccessStatusCode, await delete.Content.ReadAsStringAsync());
        await _server.CreateRegistryAsync("doomed", "DOCKER");
        await OciHttp.AssertErrorAsync(await _server.Admin.GetAsync("v2/doomed/app/tags/list"), HttpStatusCode.NotFound, "NAME_UNKNOWN");
        await OciHttp.AssertErrorAsync(await _server.Admin.GetAsync($"v2/doomed/app/blobs/{image.Layer.Digest}"), HttpStatusCode.NotFound, "BLOB_UNKNOWN");
        await GcAsync();
        Assert.False(File.Exists(BlobFile(image.Layer)));
        Assert.False(File.Exists(BlobFile(image.Manifest)));
    }
}
