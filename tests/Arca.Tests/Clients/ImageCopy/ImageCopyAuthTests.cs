using System.Text;
using Arca.Tests.Infrastructure;

namespace Arca.Tests.Clients.ImageCopy;

/// <summary>Image copy against htpasswd-protected docker-registry servers: flags, docker config.json, and CI plugin mode.</summary>
public sealed class ImageCopyAuthTests : IAsyncLifetime
{
    private DockerRegistryServer _src = null!;
    private DockerRegistryServer _dest = null!;
    private OciTestImage _image = null!;

    public async Task InitializeAsync()
    {
        _src = await DockerRegistryServer.StartAsync("alice", "src-secret");
        _dest = await DockerRegistryServer.StartAsync("bob", "dest-secret");
        _image = OciTestImage.Create("2.0", "auth-" + Guid.NewGuid().ToString("N"), largeLayerBytes: 512 * 1024);
        await _image.PushWithSkopeoAsync(_src, "team/app");
    }

    public async Task DisposeAsync()
    {
        await _src.DisposeAsync();
        await _dest.DisposeAsync();
        TempDir.TryDelete(_image.LayoutDir);
    }

    [Fact]
    public async Task Basic_credentials_from_flags_and_bad_credentials_fail()
    {
        var denied = await ImageCopyTests.Arca("image", "copy", "--src-insecure", "--dest-insecure",
            "--src-creds", "alice:wrong", "--dest-creds", "bob:dest-secret",
            $"{_src.HostPort}/team/app:2.0", $"{_dest.HostPort}/copy/app:2.0");
        Assert.Equal(3, denied.ExitCode);
        Assert.Contains("401", denied.Stderr);

        var anonymous = await ImageCopyTests.Arca("image", "copy", "--src-insecure", "--dest-insecure",
            $"{_src.HostPort}/team/app:2.0", $"{_dest.HostPort}/copy/app:2.0");
        Assert.Equal(3, anonymous.ExitCode);

        var ok = await ImageCopyTests.Arca("image", "copy", "--src-insecure", "--dest-insecure",
            "--src-creds", "alice:src-secret", "--dest-creds", "bob:dest-secret",
            $"{_src.HostPort}/team/app:2.0", $"{_dest.HostPort}/copy/app:2.0");
        ok.AssertOk("image copy with creds");
        await ImageCopyTests.AssertFullCopyAsync(_image, _dest, "copy/app", "2.0");
    }

    [Fact]
    public async Task Docker_config_authfile_supplies_both_sides()
    {
        var dir = TempDir.Create("authfile");
        var authFile = Path.Combine(dir, "config.json");
        static string B64(string s) => Convert.ToBase64String(Encoding.UTF8.GetBytes(s));
        await File.WriteAllTextAsync(authFile, $$$"""
            {"auths": {
              "{{{_src.HostPort}}}": {"auth": "{{{B64("alice:src-secret")}}}"},
              "http://{{{_dest.HostPort}}}/v2/": {"username": "bob", "password": "dest-secret"}
            }}
            """);
        var result = await ImageCopyTests.Arca("image", "copy", "--src-insecure", "--dest-insecure", "--authfile", authFile,
            $"{_src.HostPort}/team/app:2.0", $"{_dest.HostPort}/fromfile/app:2.0");
        result.AssertOk("image copy --authfile");
        await ImageCopyTests.AssertFullCopyAsync(_image, _dest, "fromfile/app", "2.0");
        TempDir.TryDelete(dir);
    }

    [Fact]
    public async Task Plugin_mode_copies_from_PLUGIN_variables_only()
    {
        var env = new Dictionary<string, string?>
        {
            ["PLUGIN_SOURCE"] = $"{_src.HostPort}/team/app:2.0",
            ["PLUGIN_DESTINATION"] = $"{_dest.HostPort}/plugin/app:2.0",
            ["PLUGIN_SOURCE_USERNAME"] = "alice",
            ["PLUGIN_SOURCE_PASSWORD"] = "src-secret",
            ["PLUGIN_USERNAME"] = "bob",
            ["PLUGIN_PASSWORD"] = "dest-secret",
            ["PLUGIN_INSECURE"] = "true",
            ["PLUGIN_OVERWRITE"] = "false",
        };
        var result = await ImageCopyTests.ArcaWithEnv(env, "image", "copy");
        result.AssertOk("plugin mode copy");
        await ImageCopyTests.AssertFullCopyAsync(_image, _dest, "plugin/app", "2.0");

        // Same copy again: nothing transferred.
        _dest.ClearLog();
        var again = await ImageCopyTests.ArcaWithEnv(env, "image", "copy", "--format", "json");
        again.AssertOk("plugin mode re-run");
        Assert.Equal(0, ImageCopyTests.Summary(again).GetProperty("bytesCopied").GetInt64());
        Assert.Equal(0, _dest.BlobUploadRequestCount());

        // Without PLUGIN_DESTINATION it is a usage error.
        var incomplete = await ImageCopyTests.ArcaWithEnv(new Dictionary<string, string?> { ["PLUGIN_SOURCE"] = env["PLUGIN_SOURCE"] }, "image", "copy");
        Assert.Equal(2, incomplete.ExitCode);
    }

    [Fact]
    public async Task Google_access_token_authenticates_as_oauth2accesstoken()
    {
        // A GAR stand-in: Basic auth with user "oauth2accesstoken" and the access token as password.
        await using var gar = await DockerRegistryServer.StartAsync("oauth2accesstoken", "ya29.test-access-token");
        var result = await ImageCopyTests.Arca("image", "copy", "--src-insecure", "--dest-insecure",
            "--src-creds", "alice:src-secret", "--dest-google-access-token", "ya29.test-access-token",
            $"{_src.HostPort}/team/app:2.0", $"{gar.HostPort}/project/repo/app:2.0");
        result.AssertOk("image copy to GAR stand-in");
        await ImageCopyTests.AssertFullCopyAsync(_image, gar, "project/repo/app", "2.0");
    }
}
