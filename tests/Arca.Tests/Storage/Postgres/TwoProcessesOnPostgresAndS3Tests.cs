using System.Net;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text;
using Arca.Tests.Infrastructure;
using static Arca.Tests.Http.Oci.OciTestContent;

namespace Arca.Tests.Storage.Postgres;

/// <summary>
/// The deployment PRODUCT.md promises: two `arca serve` processes (the real executable, separate data directories)
/// sharing a PostgreSQL database and an S3 bucket (s3rver), one configured with --database and one with
/// ARCA_DATABASE. An image pushed with skopeo through one is pulled through the other; a file published through the
/// second is served by the first, and a second publish of it through the first is refused.
/// </summary>
public sealed class TwoProcessesOnPostgresAndS3Tests : IAsyncLifetime
{
    private readonly PostgresDatabase _db = new("processes");
    private readonly string _work = TempDir.Create("pg-s3");
    private S3Server _s3 = null!;
    private ServerProcess _first = null!;
    private ServerProcess _second = null!;

    public async Task InitializeAsync()
    {
        await _db.CreateStoreAsync();
        var cluster = await PostgresCluster.GetAsync();
        var databaseName = new Npgsql.NpgsqlConnectionStringBuilder(_db.ConnectionString).Database!;
        _s3 = await S3Server.StartAsync();
        _first = Configure(new ServerProcess());
        _first.ExtraArgs.AddRange(["--database", cluster.Uri(databaseName)]);
        _second = Configure(new ServerProcess());
        _second.ExtraEnvironment["ARCA_DATABASE"] = _db.ConnectionString;
        await _first.StartAsync();
        await _second.StartAsync();
    }

    private ServerProcess Configure(ServerProcess server)
    {
        server.ExtraArgs.AddRange(["--blob-store", _s3.BlobStoreUri("arca")]);
        server.ExtraEnvironment["AWS_ACCESS_KEY_ID"] = S3Server.AccessKey;
        server.ExtraEnvironment["AWS_SECRET_ACCESS_KEY"] = S3Server.SecretKey;
        return server;
    }

    public async Task DisposeAsync()
    {
        if (_first is not null) await _first.DisposeAsync();
        if (_second is not null) await _second.DisposeAsync();
        if (_s3 is not null) await _s3.DisposeAsync();
        await _db.DisposeAsync();
        TempDir.TryDelete(_work);
    }

    private Task<ProcResult> SkopeoAsync(params string[] args) =>
        Proc.RunAsync(Proc.Tool("skopeo"), ["--insecure-policy", .. args], workDir: _work,
            env: new Dictionary<string, string?> { ["HOME"] = _work, ["XDG_RUNTIME_DIR"] = _work, ["REGISTRY_AUTH_FILE"] = Path.Combine(_work, "auth.json") });

    [Fact]
    public async Task Images_and_files_go_in_through_one_process_and_come_out_of_the_other()
    {
        using var first = _first.CreateClient(_first.AdminToken);
        using var second = _second.CreateClient(_second.AdminToken);
        (await first.PostAsJsonAsync("api/v1/registries", new { identifier = "images", packageType = "DOCKER" })).EnsureSuccessStatusCode();
        (await second.PostAsJsonAsync("api/v1/registries", new { identifier = "files", packageType = "GENERIC" })).EnsureSuccessStatusCode();

        var image = Image("linux", "amd64", "two processes, one database, one bucket");
        var source = Path.Combine(_work, "layout");
        WriteLayout(source, [image.Config, image.Layer, image.Manifest], (image.Manifest, "1.0"));
        (await SkopeoAsync("copy", "--dest-tls-verify=false", "--dest-creds", $"admin:{_first.AdminToken}", $"oci:{source}:1.0",
            $"docker://127.0.0.1:{_first.Port}/images/shared/app:1.0")).AssertOk("skopeo copy into the first process");
        var target = Path.Combine(_work, "out");
        (await SkopeoAsync("copy", "--src-tls-verify=false", "--src-creds", $"admin:{_second.AdminToken}",
            $"docker://127.0.0.1:{_second.Port}/images/shared/app:1.0", $"oci:{target}:1.0")).AssertOk("skopeo copy out of the second process");
        foreach (var blob in new[] { image.Config, image.Layer, image.Manifest })
            Assert.Equal(blob.Bytes, await File.ReadAllBytesAsync(Path.Combine(target, "blobs", "sha256", blob.Digest["sha256:".Length..])));

        var data = RandomNumberGenerator.GetBytes(300_000);
        Assert.Equal(HttpStatusCode.Created, (await second.PutAsync("pkg/files/generic/tool/2.0/tool.tgz", new ByteArrayContent(data))).StatusCode);
        Assert.Equal(data, await first.GetByteArrayAsync("pkg/files/generic/tool/2.0/tool.tgz"));
        Assert.Equal(HttpStatusCode.Conflict, (await first.PutAsync("pkg/files/generic/tool/2.0/tool.tgz", new ByteArrayContent(Encoding.UTF8.GetBytes("other")))).StatusCode);
        Assert.Equal(data, await second.GetByteArrayAsync("pkg/files/generic/tool/2.0/tool.tgz"));
    }
}
