using System.Net;
using Arca.Tests.Infrastructure;
using static Arca.Tests.Migration.OciMigrationSupport;

namespace Arca.Tests.Migration;

/// <summary>DOCKER from the Artifactory EMULATOR with an access token only (no username).</summary>
public sealed partial class ArtifactoryEmulatorMigrationTests
{
    [Fact]
    public async Task A_docker_repository_migrates_with_an_access_token_alone_sent_as_bearer_then_a_rerun_skips()
    {
        await using var registry = await DockerRegistryServer.StartAsync();
        _jfrog.AddDockerRepository("docker-local", registry.BaseUrl);
        using var push = BasicClient(registry.BaseUrl, null, null);
        var (manifest, blobs) = RandomImage("jfrog-token-image", 4096);
        await PushAsync(push, "team/web", manifest, blobs, "2.0");

        // What a client that sends the token as a password of some user gets: Artifactory's 401.
        using (var basicToken = BasicClient(_jfrog.BaseUrl, "migrate", Token))
        using (var refused = await basicToken.GetAsync("api/docker/docker-local/v2/"))
            Assert.Equal(HttpStatusCode.Unauthorized, refused.StatusCode);
        _jfrog.Server.Requests.Clear();

        var config = Config($"{"{"} password: {Token} {"}"}", """
              - artifactType: DOCKER
                sourceRegistry: docker-local
                destinationRegistry: jfrog-images
            """);
        var first = await MigrateAsync(_work, config, new Dictionary<string, string?>(), "--format", "json");
        first.AssertOk("docker migration with an access token");
        Assert.Equal(1, Mapping(first, 0).GetProperty("succeeded").GetInt32());
        using var arca = _arca.CreateClient(_arca.AdminToken);
        Assert.Equal(manifest.Digest, await ManifestDigestAsync(arca, "jfrog-images/team/web", "2.0"));
        var seen = _jfrog.Server.Requests.ToList();
        Assert.Contains(seen, r => r.Path.StartsWith("/artifactory/api/docker/docker-local/v2/team/web/blobs/", StringComparison.Ordinal));
        // Every request that carried credentials carried the token as Bearer (the client may first probe /v2/ anonymously).
        Assert.All(seen.Where(r => r.Authorization is not null), r => Assert.Equal($"Bearer {Token}", r.Authorization));
        Assert.DoesNotContain(seen, r => r.Authorization is null && r.Path != "/artifactory/api/docker/docker-local/v2/");

        var second = await MigrateAsync(_work, config, new Dictionary<string, string?>(), "--format", "json");
        second.AssertOk("rerun");
        Assert.Equal(1, Mapping(second, 0).GetProperty("skipped").GetInt32());
        Assert.Equal(0, Mapping(second, 0).GetProperty("bytes").GetInt64());
    }
}
